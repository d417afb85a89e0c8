"""Equal-width binning of layer inputs and outputs: deep-ei's two conventions (reference) and one clean one.

Bin indices come back as int16 (bins ≤ 32 767); ``DROPPED`` (−1) marks a value a pairwise histogram leaves out.
"""

from __future__ import annotations

import math
import numbers

import numba
import numpy as np
import torch

DROPPED = -1
REFERENCE_PAIR_MARGIN = 1e-6  # deep-ei widens the pairwise histogram range by this much on both sides
REFERENCE_VECTOR_MARGIN = 1e-4  # deep-ei's whole-layer bins span (range + this) / bins


def is_whole(value: object) -> bool:
    """Whether ``value`` is a whole number as users write one: an int, or a float without a fraction (1e4, 8.0);
    not a bool."""
    whole = isinstance(value, numbers.Integral) or (isinstance(value, float) and value.is_integer())
    return whole and not isinstance(value, bool)


def check_bins(bins: int, name: str) -> int:
    """The bin count as an int; refuse anything but a whole number between 1 and 32 767 (8.0 is fine, 8.5 not)."""
    if not is_whole(bins) or not 1 <= int(bins) <= 32_767:
        raise ValueError(
            f"{name}={bins!r}: give a whole number of bins between 1 and 32767 ('dynamic' is not offered)."
        )
    return int(bins)


@numba.njit(cache=True, nogil=True)
def _clipped(values: np.ndarray, low: np.float32, scale: np.float32, bins: int) -> np.ndarray:
    index = np.empty(values.shape, dtype=np.int16)
    for k in range(values.size):
        index[k] = min(max(math.floor((values[k] - low) * scale), 0), bins - 1)
    return index


@numba.njit(cache=True, nogil=True)
def _reference_pairwise(values: np.ndarray, low: float, high: float, bins: int) -> np.ndarray:
    scale = bins / (high - low)
    index = np.empty(values.shape, dtype=np.int16)
    for k in range(values.size):
        value = np.float64(values[k])
        inside = low <= value < high
        index[k] = min(max(math.floor((value - low) * scale), 0), bins - 1) if inside else DROPPED
    return index


@numba.njit(cache=True, nogil=True)
def _reference_vector(values: np.ndarray, low: np.float32, width: np.float32, bins: np.float32) -> np.ndarray:
    index = np.empty(values.shape, dtype=np.int32)
    for k in range(values.size):
        index[k] = math.floor((values[k] - low) / width * bins)
    return index


def _flat(values: torch.Tensor) -> np.ndarray:
    """The values as one contiguous float32 numpy vector on the CPU."""
    return np.ascontiguousarray(values.detach().float().cpu().numpy()).reshape(-1)


def _like(index: np.ndarray, values: torch.Tensor) -> torch.Tensor:
    return torch.from_numpy(index).view(values.shape).to(values.device)


def clipped(values: torch.Tensor, value_range: tuple[float, float], bins: int) -> torch.Tensor:
    """The default convention: bins of width range/bins from the lower bound; values outside go to the edge bins.
    float32 arithmetic: floor((x − low) · (bins / (high − low)))."""
    low, high = value_range
    return _like(_clipped(_flat(values), np.float32(low), np.float32(bins / (high - low)), bins), values)


def reference_pairwise(values: torch.Tensor, value_range: tuple[float, float], bins: int) -> torch.Tensor:
    """deep-ei's pairwise convention (fast_histogram over the range widened by 1e-6, half-open, in float64):
    outside → DROPPED."""
    low, high = value_range[0] - REFERENCE_PAIR_MARGIN, value_range[1] + REFERENCE_PAIR_MARGIN
    return _like(_reference_pairwise(_flat(values), low, high, bins), values)


def reference_vector(values: torch.Tensor, value_range: tuple[float, float], bins: int) -> torch.Tensor:
    """deep-ei's whole-layer convention, in its float32 arithmetic: bins of width (range + 1e-4)/bins from the lower
    bound; values below get negative indices (kept), values above get indices ≥ bins (the row is then dropped)."""
    low, high = value_range
    width = np.float32(high - low + REFERENCE_VECTOR_MARGIN)
    return _like(_reference_vector(_flat(values), np.float32(low), width, np.float32(bins)), values)
