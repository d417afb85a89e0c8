"""One study cell: train one network with checkpoints and measure every checkpoint with the chosen lenses, through
the same library calls the lens pipelines and the timeline make. The result is long: one row per checkpoint,
lens and metric, with the metric's null beside it.

The null of a metric is the same measurement on the cell's untrained network (epoch 0, always measured), except
the NDG's aligned share, whose null is its random-set baseline at the same checkpoint (spec §5). EI values whose
N/2 → N check failed are kept with ``converged`` false, so the summary can leave them out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ndg_pipeline.config import RunParams

COLUMNS = ["epoch", "lens", "metric", "value", "null", "converged"]
INTERACTION_METRICS = ("concepts_per_sample", "explanation_ratio", "salient_concepts_per_sample")
EI_METRICS = ("ei_parts", "sensitivity")


def _row(epoch: int, lens: str, metric: str, value: float, null: float = np.nan, converged: bool = True) -> dict:
    return {"epoch": epoch, "lens": lens, "metric": metric, "value": float(value), "null": null, "converged": converged}


def _training(checkpoints: dict[int, Any], splits: Any, params: RunParams) -> list[dict]:
    """Train and test accuracy of every checkpoint."""
    from ndg_pipeline.device import resolve_device
    from ndg_pipeline.training import accuracy

    device = resolve_device(params.train.device)
    return [
        _row(epoch, "training", f"{name}_accuracy", accuracy(model, getattr(splits, name), device))
        for epoch, model in checkpoints.items()
        for name in ("train", "test")
    ]


def _ndg(checkpoints: dict[int, Any], splits: Any, params: RunParams) -> list[dict]:
    """Edges and their test accuracy, and the aligned share of each value mode beside its random-set baseline."""
    from ndg_pipeline.ndg import measure_model

    rows = []
    for epoch, model in checkpoints.items():
        measured = measure_model(
            model,
            splits,
            splits.num_classes,
            params.record,
            params.binarize,
            params.mine,
            params.intervene,
            params.scale,
        )
        rows += [
            _row(epoch, "ndg", "edges", measured["edges"]),
            _row(epoch, "ndg", "edge_test_accuracy", measured["test_accuracy"]),
        ]
        rows += [
            _row(epoch, "ndg", f"{mode}.aligned", measured[f"{mode}.graph.aligned"], measured[f"{mode}.random.aligned"])
            for mode in params.intervene.value_modes
        ]
    return rows


def _interactions(checkpoints: dict[int, Any], splits: Any, params: RunParams) -> list[dict]:
    """Concepts per sample, explanation ratio and salient concepts on a fixed set of test inputs: the first
    ``interactions.timeline_per_class`` per studied class in the lens's seeded order, chosen by their label alone
    (not by the network's answer), so that a network at chance on the test split (memorisation) is measured on the
    same kind of inputs as one that generalises."""
    from ndg_pipeline.interactions import measure_model
    from ndg_pipeline.interactions.settings import image_setting, select_samples
    from ndg_pipeline.names import FIRST

    lens, image = params.interactions, params.interactions.image
    unjudged = image_setting({}, splits, image.grid, image.region, image.baseline, image.background_kept)
    samples = select_samples(unjudged, lens.timeline_per_class, lens.seed, lens.classes)
    rows = []
    for epoch, model in checkpoints.items():
        setting = dataclasses.replace(unjudged, models={FIRST: model}, samples=samples)
        table = measure_model(model, setting, lens)
        measured = dict(zip(table["metric"], table["value"], strict=True))
        rows += [_row(epoch, "interactions", name, measured[name]) for name in INTERACTION_METRICS]
    return rows


def _effective_information(checkpoints: dict[int, Any], splits: Any, params: RunParams) -> list[dict]:
    """EI_parts and sensitivity of the chosen Linear layers (``effective_information.model_layers``), each with
    its convergence check."""
    from ndg_pipeline.effective_information.experiments import measure_model

    chosen = params.effective_information.model_layers
    settings = params.effective_information.model_measurement()
    rows = []
    for epoch, model in checkpoints.items():
        layers = measure_model(model, chosen.layers, settings, splits.train, chosen.range_inputs, dataset=splits.name)
        rows += [
            _row(
                epoch,
                "effective_information",
                f"{layer.layer}.{name}",
                getattr(layer, name),
                converged=bool(getattr(layer, f"{name}_converged")),
            )
            for layer in layers.itertuples(index=False)
            for name in EI_METRICS
        ]
    return rows


LENSES = {"ndg": _ndg, "interactions": _interactions, "effective_information": _effective_information}


def with_untrained_nulls(rows: pd.DataFrame) -> pd.DataFrame:
    """Fill each metric's missing null with its value at epoch 0 (the untrained network)."""
    untrained = rows[rows["epoch"] == 0].set_index(["lens", "metric"])["value"]
    fallback = [
        untrained.get((lens, metric), np.nan) for lens, metric in zip(rows["lens"], rows["metric"], strict=True)
    ]
    return rows.assign(null=rows["null"].fillna(pd.Series(fallback, index=rows.index)))


def measure_cell(params: RunParams, lenses: Sequence[str]) -> pd.DataFrame:
    """Train the cell's network (epoch 0 always kept) and measure every checkpoint with ``lenses``."""
    from ndg_pipeline.data import load_dataset
    from ndg_pipeline.training import train_with_checkpoints

    train = params.train.model_copy(update={"checkpoints": sorted({0, *params.train.checkpoints})})
    splits = load_dataset(params.data)
    _, _, checkpoints = train_with_checkpoints(splits, params.model.root.model_dump(), train)
    rows = _training(checkpoints, splits, params)
    for lens in lenses:
        rows += LENSES[lens](checkpoints, splits, params)
    return with_untrained_nulls(pd.DataFrame(rows, columns=COLUMNS))
