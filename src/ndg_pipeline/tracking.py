"""Shape numbers for kedro-mlflow's metric datasets: the one place that knows MLflow's metric form."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import pandas as pd

MetricHistory = dict[str, list[dict[str, float | int]]]
# Measures the lenses compute in percent (as the paper's Table 5 prints them); MLflow gets every share as a fraction.
PERCENT_MEASURES = frozenset({"aligned", "unchanged", "unaligned", "model_accuracy"})


def _finite(value: float) -> bool:
    return not math.isnan(float(value))


def in_mlflow_units(name: str, value: float) -> float:
    """A metric in MLflow's one convention: shares as fractions in [0, 1] (percent measures divided by 100)."""
    return float(value) / 100.0 if name.rpartition(".")[2] in PERCENT_MEASURES else float(value)


def metrics(values: Mapping[str, float], step: int = 0) -> MetricHistory:
    """``{name: value}`` → the ``MlflowMetricsHistoryDataset`` form at one step, NaN dropped (MLflow plots it badly),
    shares as fractions (:func:`in_mlflow_units`)."""
    return {
        name: [{"value": in_mlflow_units(name, value), "step": int(step)}]
        for name, value in values.items()
        if _finite(value)
    }


def metric_history(frame: pd.DataFrame, step: str, columns: Iterable[str], prefix: str = "") -> MetricHistory:
    """Columns of a per-step table (e.g. per epoch) → one metric each, ``step`` as MLflow's step; NaN dropped,
    shares as fractions (:func:`in_mlflow_units`)."""
    history = {
        f"{prefix}{column}": [
            {"value": in_mlflow_units(column, value), "step": int(at)}
            for at, value in zip(frame[step], frame[column], strict=True)
            if _finite(value)
        ]
        for column in columns
    }
    return {name: points for name, points in history.items() if points}


def flatten(values: Mapping[str, object], prefix: str = "") -> dict[str, object]:
    """Nested parameter groups → dotted keys (``mine.alpha``), as MLflow params and tags are compared."""
    flat: dict[str, object] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat
