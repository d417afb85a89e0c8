"""Figures of the effective-information report, as PNG data URIs (matplotlib's Agg canvas, no pyplot state)."""

from __future__ import annotations

import math

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ndg_pipeline.reporting.canvas import figure_uri, zoomed_title


def _grid(panels: int, width: float = 4.2, height: float = 3.2) -> tuple[Figure, list]:
    columns = min(panels, 4)
    rows = math.ceil(panels / columns)
    figure = Figure(figsize=(width * columns, height * rows), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(rows, columns, squeeze=False).ravel().tolist()
    for extra in axes[panels:]:
        extra.set_visible(False)
    return figure, axes[:panels]


def _seed_alpha(seeds: list[int], seed: int) -> float:
    """Fainter lines for later seeds, as the paper draws its three runs (1.0, 0.7, 0.4, …)."""
    return max(0.25, 1.0 - 0.3 * seeds.index(seed))


def over_epochs(series: pd.DataFrame, experiment: str, columns: dict[str, str]) -> str:
    """One panel per layer: ``columns`` (name → label) over epochs, one line per seed."""
    frame = series[series.experiment == experiment]
    layers = sorted(frame.layer_index.unique())
    seeds = sorted(frame.seed.unique())
    figure, axes = _grid(len(layers))
    for axis, layer in zip(axes, layers, strict=True):
        for (column, label), colour in zip(columns.items(), ("tab:blue", "tab:orange", "tab:green"), strict=False):
            for seed in seeds:
                run = frame[(frame.layer_index == layer) & (frame.seed == seed)]
                axis.plot(
                    run.epoch,
                    run[column],
                    color=colour,
                    alpha=_seed_alpha(seeds, seed),
                    label=label if seed == seeds[0] else None,
                )
        first = frame[frame.layer_index == layer].iloc[0]
        axis.set_title(zoomed_title(f"layer {layer + 1}: {first.n_in} → {first.n_out}", axis), fontsize=10)
        axis.set_xlabel("epoch")
        axis.set_ylabel("bits")
    axes[0].legend(fontsize=8)
    return figure_uri(figure, dpi=100)


def causal_plane_figure(series: pd.DataFrame, experiment: str) -> str:
    """One panel per layer: the trajectory ((S − D)/√2, (S + D)/√2) over epochs per seed; × start, ● end."""
    frame = series[series.experiment == experiment]
    layers = sorted(frame.layer_index.unique())
    seeds = sorted(frame.seed.unique())
    figure, axes = _grid(len(layers))
    for axis, layer in zip(axes, layers, strict=True):
        for seed in seeds:
            run = frame[(frame.layer_index == layer) & (frame.seed == seed)].sort_values("epoch")
            alpha = _seed_alpha(seeds, seed)
            axis.plot(run.plane_x, run.plane_y, color="tab:purple", alpha=alpha, label=f"seed {seed}")
            axis.scatter(run.plane_x.iloc[:1], run.plane_y.iloc[:1], marker="x", color="black", alpha=alpha)
            axis.scatter(run.plane_x.iloc[-1:], run.plane_y.iloc[-1:], marker="o", color="tab:purple", alpha=alpha)
        axis.axvline(0.0, color="grey", linestyle="--", linewidth=1)
        axis.set_title(f"layer {layer + 1}")
        axis.set_xlabel("(S − D)/√2 = EI_parts/√2   (degenerate ← → sensitive)")
        axis.set_ylabel("(S + D)/√2")
    axes[0].legend(fontsize=8)
    return figure_uri(figure, dpi=100)
