"""Figures of the report as base64 PNG data URIs (matplotlib's Agg canvas), so the HTML page stays self-contained."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ndg_pipeline.reporting.canvas import figure_uri

ACCURACY_CLIP = 1e-6  # accuracies are clipped into [1e-6, 1 − 1e-6] before the logit, so 0% and 100% stay finite
SPLIT_STYLES = {"train": ("tab:blue", "o"), "test": ("tab:orange", "s")}


def _figure(height: float) -> tuple[Figure, tuple[Axes, Axes]]:
    """A two-panel figure sharing its x axis, on an Agg canvas (no pyplot: no global backend or figure state)."""
    figure = Figure(figsize=(10, height), layout="constrained")
    FigureCanvasAgg(figure)
    left, right = figure.subplots(1, 2, sharex=True)
    return figure, (left, right)


def logit(accuracy: pd.Series) -> pd.Series:
    """log(p / (1 − p)) of accuracies clipped by ACCURACY_CLIP, so 0 and 1 map to finite values."""
    clipped = accuracy.clip(ACCURACY_CLIP, 1.0 - ACCURACY_CLIP)
    return np.log(clipped / (1.0 - clipped))


def sweep_is_clipped(sweep: pd.DataFrame) -> bool:
    """Whether any sweep accuracy lies outside [ACCURACY_CLIP, 1 − ACCURACY_CLIP], so its caption must say so."""
    accuracies = sweep[[f"{split}_accuracy" for split in SPLIT_STYLES]]
    return bool(((accuracies < ACCURACY_CLIP) | (accuracies > 1.0 - ACCURACY_CLIP)).any(axis=None))


def alpha_sweep_figure(sweep: pd.DataFrame, run_alpha: float | None = None) -> str:
    """Figure 3 style: logit of mean edge accuracy per split, and the edge count, against α on a log axis."""
    figure, (accuracy_axis, edges_axis) = _figure(3.6)
    for split, (color, marker) in SPLIT_STYLES.items():
        kept = sweep.dropna(subset=[f"{split}_accuracy"])
        accuracy_axis.plot(kept["alpha"], logit(kept[f"{split}_accuracy"]), color=color, marker=marker, label=split)
    edges_axis.plot(sweep["alpha"], sweep["edges"], color="black", marker="o", label="edges")
    accuracy_axis.set_ylabel("logit(mean edge accuracy)")
    edges_axis.set_ylabel("number of edges")
    accuracy_axis.set_ylim(bottom=min(0.0, accuracy_axis.get_ylim()[0]))  # logit 0 (= 50 %) in view: not zoomed
    for axis in (accuracy_axis, edges_axis):
        if run_alpha is not None:
            axis.axvline(run_alpha, color="grey", linestyle="--", linewidth=1, label=f"this run: α = {run_alpha:g}")
        axis.set_xscale("log")
        axis.set_xlabel("α (log scale)")
        axis.grid(True, alpha=0.3)
        axis.legend()
    return figure_uri(figure)


def training_figure(history: pd.DataFrame) -> str:
    """Training loss and train/test accuracy (percent) per epoch, to show whether the model converged."""
    figure, (loss_axis, accuracy_axis) = _figure(3.2)
    loss_axis.plot(history["epoch"], history["loss"], color="black", marker="o")
    loss_axis.set_ylabel("training loss")
    for split, (color, marker) in SPLIT_STYLES.items():
        accuracy_axis.plot(
            history["epoch"], 100.0 * history[f"{split}_accuracy"], color=color, marker=marker, label=split
        )
    loss_axis.set_ylim(bottom=0)  # no zoomed axes: a small change must look small
    accuracy_axis.set_ylim(0, 100)
    accuracy_axis.set_ylabel("accuracy (%, 0–100)")
    accuracy_axis.legend()
    for axis in (loss_axis, accuracy_axis):
        axis.set_xlabel("epoch")
        axis.grid(True, alpha=0.3)
        axis.xaxis.get_major_locator().set_params(integer=True)
    return figure_uri(figure)


OUTCOME_COLORS = {"aligned": "tab:green", "unchanged": "lightgrey", "unaligned": "tab:red"}


def per_class_figure(per_class: pd.DataFrame, class_labels: dict[int, str], split: str = "test") -> str:
    """Per target (counterfactual) class: aligned / unchanged / unaligned (% of the class's inputs) as stacked
    bars, one panel per value mode, with the random-set baseline's aligned % as a black tick beside each bar."""
    modes = list(dict.fromkeys(per_class["mode"]))
    figure = Figure(figsize=(10, 1.3 + 0.32 * per_class["counterfactual"].nunique()), layout="constrained")
    FigureCanvasAgg(figure)
    axes = np.atleast_1d(figure.subplots(1, len(modes), sharey=True))
    for axis, mode in zip(axes, modes, strict=True):
        rows = per_class[(per_class["split"] == split) & (per_class["mode"] == mode)]
        graph = rows[rows["sets"] == "graph"].sort_values("counterfactual")
        positions = np.arange(len(graph))
        left = np.zeros(len(graph))
        for outcome, color in OUTCOME_COLORS.items():
            values = graph[outcome].to_numpy(dtype=float)
            axis.barh(positions, values, left=left, color=color, label=outcome, edgecolor="white", linewidth=0.5)
            left += values
        baseline = rows[rows["sets"] == "random"].set_index("counterfactual")["aligned"]
        ticks = baseline.reindex(graph["counterfactual"]).to_numpy(dtype=float)
        axis.plot(ticks, positions, "|", color="black", markersize=14, markeredgewidth=2, label="random sets: aligned")
        axis.set_yticks(positions, [class_labels.get(int(c), str(c)) for c in graph["counterfactual"]])
        axis.set_xlim(0, 100)
        axis.set_xlabel(f"% of the correctly classified {split} inputs")
        axis.set_title(f"{mode} values")
    axes[0].set_ylabel("target class")
    axes[0].invert_yaxis()  # class 0 on top (the axes share y: inverting one inverts all)
    figure.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=4, fontsize=9)
    return figure_uri(figure)
