"""Kedro nodes of a study: run every (variant, seed) cell, summarise over seeds, contrast the variants, report.
The work is the library's (:mod:`ndg_pipeline.studies`); these nodes pass the run's parameters to it and log
one MLflow child run per cell under the study's run."""

from __future__ import annotations

import pandas as pd

from ndg_pipeline.config import RunParams, StudyParams


def _log_cells(runs: pd.DataFrame, study: StudyParams) -> None:
    """One nested MLflow run per (variant, seed) under the active run, its metrics ``<lens>.<metric>`` with step =
    epoch, so the MLflow UI compares cells side by side (nothing when MLflow is off)."""
    import mlflow

    if mlflow.active_run() is None:
        return
    for (variant, seed), cell in runs.groupby(["variant", "seed"], sort=False):
        name = f"study {study.name} · {variant} · seed {seed}"
        tags = {"study": study.name, "preset": study.preset, "variant": variant, "seed": str(seed)}
        with mlflow.start_run(run_name=name, nested=True, tags=tags):
            for row in cell[cell["converged"]].itertuples(index=False):
                mlflow.log_metric(f"{row.lens}.{row.metric}", row.value, step=int(row.epoch))


def run_study(parameters: RunParams) -> pd.DataFrame:
    """Every cell of ``study.name`` at ``study.preset`` (checked first), in this process or on the Dask cluster of
    ``scale.cluster``: the ``study_runs`` table (variant, seed, epoch, lens, metric, value, null, converged)."""
    from ndg_pipeline.studies.cells import plan_cells, run_cells

    study, scale = parameters.study, parameters.scale
    base = parameters.model_dump(mode="json")
    cells = plan_cells(study, base)
    runs = run_cells(cells, base, study.lenses, scale.cluster, scale.workers, scale.retries)
    _log_cells(runs, study)
    return runs


def summarize_study(runs: pd.DataFrame) -> pd.DataFrame:
    """Per variant, epoch and metric: mean and 95 % interval over seeds, and the null's (converged values only)."""
    from ndg_pipeline.studies.statistics import summarize

    return summarize(runs[runs["converged"]])


def contrast_study(runs: pd.DataFrame, study: StudyParams) -> pd.DataFrame:
    """Each variant against the study's baseline: difference, Welch interval, permutation p (converged values)."""
    from ndg_pipeline.studies.statistics import contrast

    definition = study.studies[study.name]
    converged = runs[runs["converged"]]
    frames = [contrast(converged, definition.baseline, v) for v in definition.variants if v != definition.baseline]
    return pd.concat(frames, ignore_index=True)


def study_report(
    runs: pd.DataFrame, summary: pd.DataFrame, contrasts: pd.DataFrame, study: StudyParams
) -> tuple[str, pd.DataFrame]:
    """The study page (answers first) and the answers as a table, for the README and notebooks."""
    from ndg_pipeline.reporting.header import run_identity
    from ndg_pipeline.reporting.study import render_study_report
    from ndg_pipeline.studies.answers import answers, together

    found = answers(summary, contrasts)
    paragraphs = [together(rows) for _, rows in found.groupby("variant", sort=False)]
    page = render_study_report(study, runs, summary, contrasts, found["answer"].tolist(), paragraphs, run_identity())
    return page, found.assign(study=study.name, preset=study.preset, together=" ".join(paragraphs))
