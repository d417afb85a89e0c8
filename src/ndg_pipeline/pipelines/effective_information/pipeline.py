"""Wiring of the effective-information lens: the paper's experiments, the trained model's layers, the report."""

from kedro.pipeline import Node, Pipeline

from ndg_pipeline.pipelines.effective_information import nodes
from ndg_pipeline.pipelines.ndg.pipeline import create_pipeline as create_ndg_pipeline


def create_pipeline(**kwargs) -> Pipeline:
    """experiments → time series + MLflow curves; trained_model → its layers; both → report.

    It includes the ndg pipeline's ``prepare_data`` and ``train`` nodes (identical nodes, so ``ndg + this`` runs them
    once) so that it also runs alone from a fresh clone.
    """
    training = create_ndg_pipeline().only_nodes("prepare_data", "train")
    return training + Pipeline(
        [
            Node(nodes.run_paper_experiments, "params:effective_information", "ei_training_series", name="ei_train"),
            Node(nodes.training_metrics, "ei_training_series", "ei_training_metrics", name="ei_training_metrics"),
            Node(
                nodes.measure_trained_model,
                ["trained_model", "dataset_info", "params:effective_information", "dataset_splits"],
                "ei_model_layers",
                name="ei_model_layers",
            ),
            Node(nodes.model_metrics, "ei_model_layers", "ei_model_metrics", name="ei_model_metrics"),
            Node(
                nodes.report,
                ["ei_training_series", "ei_model_layers", "params:effective_information"],
                "ei_report",
                name="ei_report",
            ),
        ],
        tags=["effective_information"],
    )
