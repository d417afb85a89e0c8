"""Figures of the interaction report as PNG data URIs (matplotlib's Agg canvas, no pyplot state)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ndg_pipeline.reporting.canvas import figure_uri

POSITIVE, NEGATIVE = "#e53935", "#1e88e5"


def _figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def color_of(value: float) -> str:
    """Red for a positive effect on the reward, blue for a negative one."""
    return POSITIVE if value > 0 else NEGATIVE


def image_concepts(
    image: np.ndarray, boxes: Sequence[tuple[int, int, int, int]], concepts: pd.DataFrame, title: str
) -> str:
    """The digit with its player grid, then one panel per top concept with that concept's cells outlined
    (solid: AND, all cells needed; dashed: OR, any cell suffices), its signed strength and order."""
    panels = 1 + len(concepts)
    figure = _figure(1.9 * panels, 2.35)
    axes = figure.subplots(1, panels, squeeze=False)[0]
    picture = np.asarray(image).reshape(-1, *np.asarray(image).shape[-2:])[0]
    for axis in axes:
        axis.imshow(picture, cmap="gray_r", interpolation="nearest")
        axis.set_xticks([])
        axis.set_yticks([])
    for index, (top, left, bottom, right) in enumerate(boxes):
        axes[0].add_patch(
            Rectangle((left - 0.5, top - 0.5), right - left, bottom - top, fill=False, color="#888", lw=0.8)
        )
        axes[0].text(left + 0.3, top + 1.5, str(index), color="#c00", fontsize=7)
    axes[0].set_title(title, fontsize=9)
    for axis, concept in zip(axes[1:], concepts.itertuples(index=False), strict=True):
        members = [int(p) for p in str(concept.player_ids).split()]
        color = color_of(concept.value)
        for player in members:
            top, left, bottom, right = boxes[player]
            axis.add_patch(
                Rectangle(
                    (left - 0.5, top - 0.5),
                    right - left,
                    bottom - top,
                    fill=True,
                    facecolor=color,
                    alpha=0.25,
                    edgecolor=color,
                    lw=2.0,
                    linestyle="-" if concept.kind == "and" else "--",
                )
            )
        axis.set_title(f"{concept.kind.upper()} {concept.value:+.2f}\norder {concept.order}", fontsize=9, color=color)
    return figure_uri(figure, dpi=100)


def shorten(label: str, width: int = 48) -> str:
    """A label cut to ``width`` characters with an ellipsis (long coalitions of a wide table)."""
    return label if len(label) <= width else label[: width - 2] + "…)"


def concept_bars(concepts: pd.DataFrame, title: str) -> str:
    """Top concepts of a table row or sentence as signed horizontal bars, labelled with their players."""
    figure = _figure(9, 0.45 * len(concepts) + 1.2)
    axis = figure.subplots()
    labels = [shorten(f"{c.kind.upper()}({c.players})") for c in concepts.itertuples(index=False)]
    positions = np.arange(len(concepts))[::-1]
    axis.barh(positions, concepts["value"], color=[color_of(v) for v in concepts["value"]])
    axis.set_yticks(positions, labels, fontsize=8)
    axis.axvline(0, color="black", lw=0.8)
    axis.set_xlabel("interaction (effect on the log-odds)")
    axis.set_title(title, fontsize=10)
    return figure_uri(figure, dpi=100)


def sparsity_figure(curves: pd.DataFrame, salient: float) -> str:
    """Normalised strengths sorted per sample and averaged, on a log rank axis, with the salience line."""
    figure = _figure(6.5, 3.6)
    axis = figure.subplots()
    styles = {
        "first": ("black", "-"),
        "second": ("tab:orange", "-"),
        "null": ("tab:purple", "--"),
        "harsanyi": ("tab:grey", ":"),
    }
    labels = {
        "first": "AND-OR, model 1",
        "second": "AND-OR, model 2",
        "null": "AND-OR, untrained network (null)",
        "harsanyi": "AND only (Harsanyi), model 1",
    }
    for series, frame in curves.groupby("series", sort=False):
        color, line = styles.get(str(series), ("tab:blue", "-"))
        axis.plot(frame.x, frame.y, color=color, linestyle=line, label=labels.get(str(series), str(series)))
    axis.axhline(salient, color="tab:red", linestyle="--", lw=1, label=f"salient: {salient} × max")
    axis.set_xscale("log")
    axis.set_xlabel("concept rank within its sample (log scale)")
    axis.set_ylabel("|I| / max |I| (mean over samples)")
    axis.grid(True, alpha=0.3)
    axis.legend(fontsize=8)
    return figure_uri(figure, dpi=100)


def transferability_figure(curves: pd.DataFrame) -> str:
    """Left: ρ(k) per class and their mean; right: model-wise transferability γ(τ1) against random sets."""
    figure = _figure(10, 3.6)
    left, right = figure.subplots(1, 2)
    samplewise = curves[curves.curve == "samplewise"]
    for series, frame in samplewise.groupby("series", sort=False):
        mean, null = series == "mean", series == "null"
        left.plot(
            frame.x,
            frame.y,
            color="black" if mean else ("tab:purple" if null else None),
            lw=2.5 if mean or null else 0.8,
            linestyle="--" if null else "-",
            alpha=1 if mean or null else 0.6,
            label="mean over classes" if mean else ("random identities and signs (null)" if null else str(series)),
        )
    left.set_xlabel("dictionary size k (the class' most frequent salient concepts)")
    left.set_ylabel("ρ(k)")
    left.set_ylim(0, 1.02)
    left.grid(True, alpha=0.3)
    if samplewise.empty:
        left.text(0.5, 0.5, "not computed for this setting", ha="center", transform=left.transAxes)
    else:
        left.legend(fontsize=7, ncol=2)
    modelwise = curves[curves.curve == "modelwise"]
    for series, frame in modelwise.groupby("series", sort=False):
        right.plot(frame.x, frame.y, marker="o", linestyle="-" if series == "second model" else "--", label=str(series))
    right.set_xlabel("τ1 (salience threshold in model 1)")
    right.set_ylabel("γ(τ1): also salient in model 2")
    right.set_ylim(0, 1.02)
    right.grid(True, alpha=0.3)
    if modelwise.empty:
        right.text(0.5, 0.5, "no second model in this run", ha="center", transform=right.transAxes)
    else:
        right.legend(fontsize=8)
    return figure_uri(figure, dpi=100)
