"""Wiring of the interaction lens on the ndg pipeline's two models and data (or the table it trains on)."""

from kedro.pipeline import Node, Pipeline

from ndg_pipeline.hooks import COMBINES_MODELS
from ndg_pipeline.pipelines.interactions import nodes


def create_pipeline(**kwargs) -> Pipeline:
    """setting + samples → rewards → interactions (AND, AND-OR) → graphs → metrics → report."""
    return Pipeline(
        [
            Node(
                nodes.prepare_setting,
                [
                    "trained_model",
                    "second_model",
                    "dataset_splits",
                    "dataset_info",
                    "params:interactions",
                    "params:train",
                ],
                ["interaction_setting", "interaction_samples"],
                name="interaction_setting",
                tags=[COMBINES_MODELS],  # the run's model beside the second one, on purpose
            ),
            Node(
                nodes.compute_rewards,
                ["interaction_setting", "params:interactions"],
                "interaction_rewards",
                name="interaction_rewards",
            ),
            Node(
                nodes.compute_interactions,
                ["interaction_rewards", "params:interactions"],
                ["interaction_values", "interaction_offsets"],
                name="interaction_values",
            ),
            Node(
                nodes.build_graphs,
                [
                    "interaction_rewards",
                    "interaction_values",
                    "interaction_offsets",
                    "interaction_setting",
                    "params:interactions",
                ],
                ["interaction_graphs", "interaction_patterns"],
                name="interaction_graphs",
            ),
            Node(
                nodes.replay_noise_removal,
                ["interaction_rewards", "interaction_values", "interaction_offsets", "params:interactions"],
                "interaction_noise_removal",
                name="interaction_noise_removal",
            ),
            Node(
                nodes.compute_metrics,
                [
                    "interaction_rewards",
                    "interaction_values",
                    "interaction_offsets",
                    "interaction_patterns",
                    "interaction_setting",
                    "params:interactions",
                ],
                ["interaction_metrics_table", "interaction_curves", "interaction_metrics"],
                name="interaction_metrics",
            ),
            Node(
                nodes.report,
                [
                    "interaction_setting",
                    "interaction_samples",
                    "interaction_patterns",
                    "interaction_metrics_table",
                    "interaction_curves",
                    "interaction_graphs",
                    "params:interactions",
                ],
                ["interaction_report", "interaction_graphs_html"],
                name="interaction_report",
            ),
        ],
        tags=["interactions"],
    )
