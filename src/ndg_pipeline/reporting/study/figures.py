"""A study's figure per lens: each metric over the epochs, one colour per variant, every seed a thin line, the mean
over seeds bold, and the mean of the metric's null dashed grey. Unconverged values are not drawn; a panel whose y
axis leaves out 0 says so in its title."""

from __future__ import annotations

import math

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ndg_pipeline.reporting.canvas import figure_uri, zoomed_title

COLUMNS = 3


def drawn_metrics(runs: pd.DataFrame, lens: str) -> tuple[list[str], list[str]]:
    """``lens``'s metrics with at least one converged value (drawn) and those with none (named under the figure)."""
    mine = runs[runs["lens"] == lens]
    values = mine[mine["converged"]].groupby("metric")["value"].count()
    every = sorted(mine["metric"].unique())
    return [m for m in every if values.get(m, 0) > 0], [m for m in every if values.get(m, 0) == 0]


def lens_figure(runs: pd.DataFrame, lens: str) -> str:
    """PNG data URI of ``lens``'s metrics over the epochs (``runs``: the study_runs table); a metric with no
    converged value gets no panel."""
    rows = runs[(runs["lens"] == lens) & runs["converged"]]
    metrics = drawn_metrics(runs, lens)[0]
    height = math.ceil(len(metrics) / COLUMNS)
    figure = Figure(figsize=(4 * COLUMNS, 3 * height), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(height, COLUMNS, squeeze=False).ravel()
    colours = {variant: f"C{i}" for i, variant in enumerate(runs["variant"].unique())}
    for axis, metric in zip(axes, metrics, strict=False):
        data = rows[rows["metric"] == metric]
        for variant, colour in colours.items():
            mine = data[data["variant"] == variant]
            for _, seed in mine.groupby("seed"):
                axis.plot(seed["epoch"], seed["value"], color=colour, linewidth=0.7, alpha=0.5)
            mean = mine.groupby("epoch")[["value", "null"]].mean()
            axis.plot(mean.index, mean["value"], color=colour, linewidth=2.2, marker="o", label=variant)
            axis.plot(mean.index, mean["null"], color=colour, linewidth=1, linestyle="--", alpha=0.6)
        axis.set_title(zoomed_title(metric, axis), fontsize=10)
        axis.set_xlabel("epoch")
        axis.grid(alpha=0.3)
    for axis in axes[len(metrics) :]:
        axis.set_visible(False)
    if metrics:
        axes[0].legend(fontsize=8, title="variant (bold: mean; thin: seeds; dashed: null)", title_fontsize=7)
    return figure_uri(figure, dpi=90)
