"""Figures of the timeline report, drawn on matplotlib's Agg canvas (no pyplot state) and returned as PNG bytes or
data URIs, so the page stays self-contained and the README can show the same timeline picture."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, SymmetricalLogLocator

from ndg_pipeline.names import GRAPH_SETS, RANDOM_SETS
from ndg_pipeline.reporting.canvas import figure_uri, png_bytes

EPOCH = "epoch"
EI_LINEAR_BELOW = 0.1  # bits: the EI panel's symmetric log axis is linear below this (sensitivity can be 0)
MODES = {"patch": "tab:blue", "reference": "tab:purple"}
LAYER_COLORS = ("tab:green", "tab:orange", "tab:red", "tab:brown", "tab:pink", "tab:olive", "tab:cyan")
MEASURE_COLORS = {
    "ei_parts": ("EI_parts", "tab:green"),
    "sensitivity": ("sensitivity", "tab:blue"),
    "degeneracy": ("degeneracy", "tab:grey"),
}
INPUT_STYLES = {
    "for": ("top concepts for the class (I > 0) alone", "tab:red"),
    "against": ("top concepts against it (I < 0) alone", "tab:purple"),
    "full": ("whole input", "tab:blue"),
    "empty": ("baseline alone", "tab:grey"),
}


def _canvas(width: float, height: float, rows: int, columns: int, sharex: bool = False) -> tuple[Figure, np.ndarray]:
    """A figure of rows × columns axes on an Agg canvas."""
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure, np.atleast_1d(figure.subplots(rows, columns, sharex=sharex, squeeze=False).ravel())


def ei_layers(timeline: pd.DataFrame) -> list[str]:
    """The layers with effective-information columns (``ei.<layer>.<measure>``), in column order."""
    names = [column[3:].rpartition(".")[0] for column in timeline.columns if column.startswith("ei.")]
    return list(dict.fromkeys(name for name in names if name))


def has_values(timeline: pd.DataFrame, columns: Sequence[str]) -> bool:
    """Whether any of the columns is present with at least one non-NaN value."""
    present = [column for column in columns if column in timeline]
    return bool(present) and bool(timeline[present].notna().any(axis=None))


def _absent(axis: Axes, text: str) -> None:
    """A panel whose lens was not run (or gave only NaN): say so in its middle."""
    axis.text(0.5, 0.5, text, transform=axis.transAxes, ha="center", va="center", color="#8a1c1c", fontsize=10)
    axis.set_yticks([])


def _legend(axis: Axes, handles: list, twin: bool = False) -> None:
    """The panel's legend outside it, on the right (past the twin axis's labels when there is one)."""
    axis.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.09 if twin else 1.01, 1.0), fontsize=8)


def _line(axis: Axes, timeline: pd.DataFrame, column: str, **style) -> bool:
    """Plot one metric over epochs (NaN checkpoints skipped); whether anything was drawn."""
    if column not in timeline:
        return False
    kept = timeline[[EPOCH, column]].dropna()
    if kept.empty:
        return False
    axis.plot(kept[EPOCH], kept[column], marker=style.pop("marker", "o"), markersize=4, **style)
    return True


def _ndg_panel(axis: Axes, timeline: pd.DataFrame) -> None:
    """NDG edges (left axis) and mean edge accuracy in percent (right axis)."""
    if not has_values(timeline, ["ndg.edges", "ndg.test_accuracy", "ndg.train_accuracy"]):
        _absent(axis, "NDG lens not run: no ndg.* metrics")
        return
    _line(axis, timeline, "ndg.edges", color="black", label="edges")
    axis.set_ylabel("NDG edges")
    accuracy = axis.twinx()
    percent = timeline.assign(
        **{name: 100.0 * timeline[name] for name in ("ndg.train_accuracy", "ndg.test_accuracy") if name in timeline}
    )
    _line(accuracy, percent, "ndg.test_accuracy", color="tab:orange", marker="s", label="edge accuracy, test")
    _line(
        accuracy,
        percent,
        "ndg.train_accuracy",
        color="tab:orange",
        marker="s",
        linestyle=":",
        alpha=0.6,
        label="edge accuracy, train",
    )
    accuracy.set_ylim(0, 100)  # the full scale: a sub-percent change must not look like a collapse
    accuracy.set_ylabel("edge accuracy (%, 0–100)", color="tab:orange")
    axis.set_ylim(bottom=0)
    handles = axis.get_legend_handles_labels()[0] + accuracy.get_legend_handles_labels()[0]
    _legend(axis, handles, twin=True)
    axis.set_title("Neuron dependency graph: edges and their mean accuracy", loc="left", fontsize=10)


def _aligned_panel(axis: Axes, timeline: pd.DataFrame) -> None:
    """Test-split aligned % of each value mode (solid) beside its random-set baseline (dashed)."""
    columns = [f"ndg.{mode}.{sets}.aligned" for mode in MODES for sets in (GRAPH_SETS, RANDOM_SETS)]
    if not has_values(timeline, columns):
        _absent(axis, "NDG interchange intervention not run: no ndg.<mode>.<sets>.aligned metrics")
        return
    for mode, color in MODES.items():
        _line(axis, timeline, f"ndg.{mode}.graph.aligned", color=color, label=f"{mode}, the graph's sets")
        _line(
            axis,
            timeline,
            f"ndg.{mode}.random.aligned",
            color=color,
            linestyle="--",
            marker="x",
            label=f"{mode}, random sets (baseline)",
        )
    axis.set_ylim(0, 100)
    axis.set_ylabel("aligned (%, test, 0–100)")
    _legend(axis, axis.get_legend_handles_labels()[0])
    axis.set_title(
        "NDG interchange intervention: predictions moved to the counterfactual class", loc="left", fontsize=10
    )


def _interactions_panel(axis: Axes, timeline: pd.DataFrame) -> None:
    """Concepts per sample (left axis) and explanation ratio in percent (right axis)."""
    if not has_values(timeline, ["interactions.concepts_per_sample", "interactions.explanation_ratio"]):
        _absent(axis, "interaction lens not run: no interactions.* metrics")
        return
    _line(axis, timeline, "interactions.concepts_per_sample", color="tab:red", label="concepts kept per sample")
    _line(
        axis,
        timeline,
        "interactions.salient_concepts_per_sample",
        color="tab:red",
        linestyle="--",
        marker="x",
        label="salient concepts per sample",
    )
    axis.set_ylim(bottom=0)
    axis.set_ylabel("concepts per sample")
    ratio = axis.twinx()
    if "interactions.explanation_ratio" in timeline:
        percent = timeline.assign(ratio=100.0 * timeline["interactions.explanation_ratio"])
        _line(ratio, percent, "ratio", color="tab:cyan", marker="s", label="explanation ratio")
    ratio.set_ylim(0, 100)
    ratio.set_ylabel("explanation ratio (%, 0–100)", color="tab:cyan")
    handles = axis.get_legend_handles_labels()[0] + ratio.get_legend_handles_labels()[0]
    _legend(axis, handles, twin=True)
    axis.set_title(
        "Interaction concepts: how many the output is built from, and how much they explain", loc="left", fontsize=10
    )


def _ei_panel(axis: Axes, timeline: pd.DataFrame) -> None:
    """EI_parts (solid) and sensitivity (dashed) of every measured layer, in bits."""
    layers = ei_layers(timeline)
    columns = [f"ei.{layer}.{measure}" for layer in layers for measure in ("ei_parts", "sensitivity")]
    if not has_values(timeline, columns):
        _absent(axis, "effective-information lens not run: no ei.<layer>.* metrics")
        return
    handles = []
    for layer, color in zip(layers, LAYER_COLORS * (1 + len(layers) // len(LAYER_COLORS)), strict=False):
        drawn = _line(axis, timeline, f"ei.{layer}.ei_parts", color=color)
        drawn |= _line(axis, timeline, f"ei.{layer}.sensitivity", color=color, linestyle="--", marker="x")
        if drawn:
            handles.append(Line2D([], [], color=color, label=layer))
    handles += [
        Line2D([], [], color="black", label="EI_parts"),
        Line2D([], [], color="black", linestyle="--", marker="x", label="sensitivity"),
    ]
    axis.set_yscale("symlog", linthresh=EI_LINEAR_BELOW)  # layers differ by orders of magnitude; 0 stays drawable
    axis.yaxis.set_major_locator(SymmetricalLogLocator(base=10, linthresh=EI_LINEAR_BELOW, subs=(1.0, 2.0, 5.0)))
    axis.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_ylabel(f"bits (log scale; linear below {EI_LINEAR_BELOW:g})")
    _legend(axis, handles)
    axis.set_title("Effective information of the Linear layers: EI_parts and sensitivity", loc="left", fontsize=10)


def timeline_figure(timeline: pd.DataFrame) -> Figure:
    """Each lens's headline metrics over the training epochs, four panels on one shared x axis; checkpoints marked
    by ticks and faint vertical lines, the x axis logarithmic when the checkpoints span a factor of 4 or more."""
    figure, axes = _canvas(10, 11, 4, 1, sharex=True)
    for panel, axis in zip((_ndg_panel, _aligned_panel, _interactions_panel, _ei_panel), axes, strict=True):
        panel(axis, timeline)
    epochs = sorted(int(epoch) for epoch in timeline[EPOCH].dropna().unique()) if EPOCH in timeline else []
    bottom = axes[-1]
    if epochs:
        if epochs[0] > 0 and epochs[-1] / epochs[0] >= 4:
            bottom.set_xscale("log")
            bottom.set_xlabel("epoch (checkpoints; log scale)")
        else:
            bottom.set_xlabel("epoch (checkpoints)")
        bottom.set_xticks(epochs, [str(epoch) for epoch in epochs])
        bottom.minorticks_off()
        span = (
            (epochs[0] / 1.15, epochs[-1] * 1.15)
            if bottom.get_xscale() == "log"
            else (epochs[0] - 0.5, epochs[-1] + 0.5)
        )
        bottom.set_xlim(*span)
        for axis in axes:
            for epoch in epochs:
                axis.axvline(epoch, color="#bbbbbb", linewidth=0.6, zorder=0)
    else:
        bottom.set_xlabel("epoch (no checkpoints)")
    for axis in axes:
        axis.grid(True, axis="y", alpha=0.3)
    return figure


def timeline_figure_png(timeline: pd.DataFrame) -> bytes:
    """The timeline figure as PNG bytes (the README's docs/timeline.png)."""
    return png_bytes(timeline_figure(timeline))


def layers_figure(layers: pd.DataFrame) -> str:
    """Per recorded layer: EI_parts, sensitivity and degeneracy (bits, left) beside its NDG edges and their test
    accuracy (right), as a data URI; the figure narrows when there are few layers."""
    figure, (bits, edges) = _canvas(min(10.0, 5.0 + 2.5 * len(layers)), 3.2, 1, 2)
    positions = np.arange(len(layers))
    labels = [f"{row.layer}\n({row.linear})" for row in layers.itertuples(index=False)]
    width = 0.8 / len(MEASURE_COLORS)
    for offset, (measure, (label, color)) in enumerate(MEASURE_COLORS.items()):
        values = pd.to_numeric(layers[measure], errors="coerce").fillna(0.0)
        bits.bar(positions + (offset - 1) * width, values, width, color=color, label=label)
    bits.set_ylabel("bits")
    bits.set_title("effective information of its Linear", fontsize=10)
    bits.legend(fontsize=8)
    edges.bar(positions - 0.2, layers["edges"], 0.4, color="black", label="touching the layer")
    edges.bar(positions + 0.2, layers["edges_within"], 0.4, color="#999999", label="within the layer")
    for position, total, accuracy in zip(positions, layers["edges"], layers["edge_test_accuracy"], strict=True):
        text = "test acc. –" if pd.isna(accuracy) else f"test acc. {100 * accuracy:.1f}%"
        edges.annotate(text, (position - 0.2, total), ha="center", va="bottom", fontsize=8)
    edges.set_ylabel("NDG edges")
    edges.set_title("NDG edges", fontsize=10)
    edges.margins(y=0.18)
    edges.legend(fontsize=8, loc="lower right")
    for axis in (bits, edges):
        axis.set_xticks(positions, labels)
        axis.set_xlim(-0.8, len(layers) - 0.2)
        axis.grid(True, axis="y", alpha=0.3)
    return figure_uri(figure)


def concepts_figure(per_class: pd.DataFrame) -> str:
    """Per class, the mean share of its sufficient (left) and necessary (right) NDG neurons that hold on the top
    concepts for the class alone, those against it alone, the whole input and the baseline alone, as grouped bars
    ("none" where the graph has no such neuron for the class); a data URI."""
    figure, axes = _canvas(10, 3.6, 1, 2)
    positions = np.arange(len(per_class))
    width = 0.8 / len(INPUT_STYLES)
    for axis, role in zip(axes, ("sufficient", "necessary"), strict=True):
        for offset, (source, (label, color)) in enumerate(INPUT_STYLES.items()):
            shares = 100.0 * pd.to_numeric(per_class[f"{role}_{source}"], errors="coerce")
            axis.bar(positions + (offset - 1.5) * width, shares, width, color=color, label=label)
        for position, count in zip(positions, per_class[role], strict=True):
            if count == 0:
                axis.text(position, 2, "none in\nthe graph", ha="center", va="bottom", fontsize=8, color="#555555")
        axis.set_xticks(positions, [str(name) for name in per_class["class"]])
        axis.set_xlim(-0.6, len(per_class) - 0.4)
        axis.set_ylim(0, 105)
        axis.set_ylabel("neuron literals that hold (%)")
        axis.set_xlabel("class")
        axis.set_title(
            f"the class's {role} NDG neurons ({'n → class' if role == 'sufficient' else 'class → n'})", fontsize=10
        )
        axis.grid(True, axis="y", alpha=0.3)
    figure.legend(*axes[0].get_legend_handles_labels(), loc="outside upper center", ncol=2, fontsize=9)
    return figure_uri(figure)
