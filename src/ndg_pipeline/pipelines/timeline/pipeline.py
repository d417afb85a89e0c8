"""Wiring of the timeline: every lens on every checkpoint of one training run, the cross-lens links on the final
model, and one report. The lens stages it needs come from the lenses' own pipelines (the same nodes, so a run
with them runs each once)."""

from kedro.pipeline import Node, Pipeline

from ndg_pipeline.pipelines.effective_information import create_pipeline as create_ei_pipeline
from ndg_pipeline.pipelines.interactions import create_pipeline as create_interactions_pipeline
from ndg_pipeline.pipelines.ndg import create_pipeline as create_ndg_pipeline
from ndg_pipeline.pipelines.timeline import nodes

CHECKPOINTS = ["model_checkpoints", "dataset_splits", "dataset_info"]
NDG_PARAMS = ["params:record", "params:binarize", "params:mine", "params:intervene", "params:scale"]


def own_nodes() -> Pipeline:
    """The timeline's own nodes: one per lens over the checkpoints, the table, the two links, the report."""
    return Pipeline(
        [
            Node(nodes.ndg_over_checkpoints, [*CHECKPOINTS, *NDG_PARAMS], "timeline_ndg", name="timeline_ndg"),
            Node(
                nodes.interactions_over_checkpoints,
                ["model_checkpoints", "interaction_setting", "params:interactions"],
                "timeline_interactions",
                name="timeline_interactions",
            ),
            Node(
                nodes.ei_over_checkpoints,
                ["model_checkpoints", "dataset_info", "params:effective_information", "dataset_splits"],
                "timeline_ei",
                name="timeline_ei",
            ),
            Node(
                nodes.timeline_table,
                ["timeline_ndg", "timeline_interactions", "timeline_ei"],
                ["timeline_table", "timeline_metrics"],
                name="timeline_table",
            ),
            Node(
                nodes.layers_to_dependencies,
                ["trained_model", "dataset_splits", "ei_model_layers", "edges_table", "params:record"],
                "layer_dependencies",
                name="layers_to_dependencies",
            ),
            Node(
                nodes.concepts_to_neurons,
                [
                    "trained_model",
                    "interaction_setting",
                    "interaction_patterns",
                    "edges_table",
                    "params:record",
                    "params:binarize",
                    "params:timeline",
                ],
                "concept_neurons",
                name="concepts_to_neurons",
            ),
            Node(
                nodes.report,
                ["timeline_table", "layer_dependencies", "concept_neurons", "dataset_info", "trained_model"],
                "timeline_report",
                name="timeline_report",
            ),
        ],
        tags=["timeline"],
    )


def create_pipeline(**kwargs) -> Pipeline:
    """The timeline with the lens stages that feed it (``kedro run --pipelines=timeline`` runs from scratch)."""
    timeline = own_nodes()
    lenses = create_ndg_pipeline() + create_interactions_pipeline() + create_ei_pipeline()
    needed = sorted(timeline.inputs() & set(lenses.all_outputs()))
    return lenses.to_outputs(*needed) + timeline
