"""Wiring of the ndg pipeline; every stage of the method is one node, every intermediate a catalog entry."""

from kedro.pipeline import Node, Pipeline

from ndg_pipeline.pipelines.ndg import nodes


def create_pipeline(**kwargs) -> Pipeline:
    """train (+ the interaction lens's second model) → record → binarize → count → mine (+ α sweep) → graph → draw
    → intervene → report."""
    return Pipeline(
        [
            Node(nodes.prepare_data, "params:data", ["dataset_splits", "dataset_info"], name="prepare_data"),
            Node(
                nodes.train_model,
                ["dataset_splits", "params:model", "params:train"],
                ["trained_model", "training_history", "training_metrics", "model_checkpoints"],
                name="train",
            ),
            Node(
                nodes.train_second_model,
                ["dataset_splits", "params:model", "params:train", "params:interactions.second_model"],
                "second_model",
                name="train_second_model",
            ),
            Node(
                nodes.record,
                ["trained_model", "dataset_splits", "params:record", "params:scale"],
                ["activations_train", "activations_test"],
                name="record_activations",
            ),
            Node(
                nodes.binarize,
                ["activations_train", "activations_test", "params:binarize", "dataset_info"],
                ["predicates_train", "predicates_test"],
                name="binarize",
            ),
            Node(
                nodes.count,
                ["predicates_train", "predicates_test", "params:mine", "params:scale"],
                "pair_counts",
                name="count_pairs",
            ),
            Node(
                nodes.mine_edges,
                ["pair_counts", "params:mine"],
                ["edges_table", "equivalences_table", "constants_table", "priors_table"],
                name="mine_edges",
            ),
            Node(nodes.sweep_alpha, "pair_counts", "alpha_sweep_table", name="sweep_alpha"),
            Node(
                nodes.build_graph,
                ["edges_table", "equivalences_table", "priors_table", "params:scale"],
                ["dependency_graph", "dependency_graph_json", "graph_metrics"],
                name="build_graph",
            ),
            Node(nodes.draw, ["dependency_graph", "params:graph"], ["graph_drawings", "graph_html"], name="draw_graph"),
            Node(
                nodes.intervene,
                [
                    "trained_model",
                    "dataset_splits",
                    "dependency_graph",
                    "activations_train",
                    "params:record",
                    "params:binarize",
                    "params:intervene",
                    "params:scale",
                ],
                ["intervention_summary", "intervention_per_class", "intervention_metrics"],
                name="intervene",
            ),
            Node(
                nodes.report,
                {
                    "info": "dataset_info",
                    "training_history": "training_history",
                    "dependency_graph": "dependency_graph",
                    "edges": "edges_table",
                    "alpha_sweep": "alpha_sweep_table",
                    "intervention_summary": "intervention_summary",
                    "intervention_per_class": "intervention_per_class",
                    "drawings": "graph_drawings",
                }
                | {group: f"params:{group}" for group in nodes.REPORTED_GROUPS},
                "report",
                name="ndg_report",
            ),
        ],
        tags=["ndg"],
    )
