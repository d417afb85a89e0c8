"""Wiring of a study: cells → runs table → summary and contrasts → report."""

from kedro.pipeline import Node, Pipeline

from ndg_pipeline.pipelines.study import nodes


def create_pipeline(**kwargs) -> Pipeline:
    """run_study → study_runs → study_summary, study_contrasts → study_report, study_answers."""
    return Pipeline(
        [
            Node(nodes.run_study, "parameters", "study_runs", name="run_study"),
            Node(nodes.summarize_study, "study_runs", "study_summary", name="summarize_study"),
            Node(nodes.contrast_study, ["study_runs", "params:study"], "study_contrasts", name="contrast_study"),
            Node(
                nodes.study_report,
                ["study_runs", "study_summary", "study_contrasts", "params:study"],
                ["study_report", "study_answers"],
                name="study_report",
            ),
        ],
        tags=["study"],
    )
