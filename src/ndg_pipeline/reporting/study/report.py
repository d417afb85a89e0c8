"""The study report page: the generated answers first, a figure per lens, then the contrast and summary tables.
One self-contained HTML page (the shared page style, PNG data URIs)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ndg_pipeline.reporting.header import template_environment
from ndg_pipeline.reporting.report import Row, Table
from ndg_pipeline.reporting.study.figures import drawn_metrics, lens_figure
from ndg_pipeline.studies.answers import number


def _table(frame: pd.DataFrame, text: list[str]) -> Table:
    """A table of ``frame``: the ``text`` columns as they are, the others as numbers."""
    rows = [
        Row([str(row[c]) if c in text else number(row[c], "–") for c in frame.columns]) for _, row in frame.iterrows()
    ]
    return Table([c.replace("_", " ") for c in frame.columns], rows)


def render_study_report(
    study: Any,
    runs: pd.DataFrame,
    summary: pd.DataFrame,
    contrasts: pd.DataFrame,
    answers: list[str],
    together: list[str],
    identity: dict[str, str],
) -> str:
    """The page for ``study`` (validated study parameters) from its three tables, the generated answers and what the
    lenses say together (one paragraph per variant)."""
    definition = study.studies[study.name]
    environment = template_environment("ndg_pipeline.reporting.study", ".")
    summary = summary.assign(null_excluded=summary["null_excluded"].map({True: "yes", False: "no"}).fillna("–"))
    return environment.get_template("study.html.j2").render(
        title=f"Study: {study.name}",
        question=definition.question,
        name=study.name,
        preset=study.preset,
        variants=list(definition.variants),
        seeds=study.presets[study.preset].seeds,
        epochs=sorted(runs["epoch"].unique().tolist()),
        identity=identity,
        answers=answers,
        together=together,
        figures={lens: lens_figure(runs, lens) for lens in runs["lens"].unique()},
        undrawn={lens: drawn_metrics(runs, lens)[1] for lens in runs["lens"].unique()},
        contrasts=_table(contrasts, ["baseline", "variant", "lens", "metric", "epoch"]),
        summary=_table(summary, ["variant", "lens", "metric", "epoch", "null_excluded"]),
    )
