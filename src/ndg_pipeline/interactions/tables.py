"""The long tables the pipeline saves (one row per sample and mask) and the per-sample arrays they hold."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ndg_pipeline.interactions.players import subset_sizes
from ndg_pipeline.interactions.transforms import n_players_of

Key = tuple[str, int]  # (model, sample)


def long_frame(arrays: Mapping[Key, np.ndarray], column: str, **constant: str) -> pd.DataFrame:
    """``{(model, sample): values [2^n]}`` → rows (model, sample, mask, order, <constant columns>, column)."""
    frames = []
    for (model, sample), values in arrays.items():
        size = len(values)
        frames.append(
            pd.DataFrame(
                {
                    "model": model,
                    "sample": np.int64(sample),
                    "mask": np.arange(size, dtype=np.int64),
                    "order": subset_sizes(n_players_of(size)),
                    **constant,
                    column: np.asarray(values, dtype=np.float64),
                }
            )
        )
    frame = pd.concat(frames, ignore_index=True)
    frame["model"] = frame["model"].astype(str)
    return frame


def arrays_of(frame: pd.DataFrame, column: str) -> dict[Key, np.ndarray]:
    """The inverse of :func:`long_frame`: per (model, sample), ``column`` ordered by mask."""
    ordered = frame.sort_values(["model", "sample", "mask"], kind="stable")
    return {
        (str(model), int(sample)): group[column].to_numpy(dtype=np.float64)
        for (model, sample), group in ordered.groupby(["model", "sample"], sort=True)
    }


def groups_by_players(keys: list[Key], arrays: Mapping[Key, np.ndarray]) -> dict[int, list[Key]]:
    """Keys grouped by their number of players (rows of one group can be stacked)."""
    groups: dict[int, list[Key]] = {}
    for key in keys:
        groups.setdefault(n_players_of(len(arrays[key])), []).append(key)
    return groups
