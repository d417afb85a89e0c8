"""Wiring of the tables pipeline: every partition of ``control_results`` → Tables 3, 4, 6 and their page."""

from kedro.pipeline import Node, Pipeline

from ndg_pipeline.pipelines.tables import nodes


def create_pipeline(**kwargs) -> Pipeline:
    """control_results (all partitions on disk) → paper_table3/4/6 (parquet) and tables_report (HTML)."""
    return Pipeline(
        [
            Node(
                nodes.assemble_tables,
                "control_results",
                ["paper_table3", "paper_table4", "paper_table6", "tables_report"],
                name="assemble_tables",
            )
        ],
        tags=["tables"],
    )
