"""Equal-width binning of layer inputs and outputs: deep-ei's two conventions (reference) and one clean one.

Bin indices come back as int16 (bins ≤ 32 767); ``DROPPED`` (−1) marks a value a pairwise histogram leaves out.
"""

from __future__ import annotations

import numbers

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


def clipped(values: torch.Tensor, value_range: tuple[float, float], bins: int) -> torch.Tensor:
    """The default convention: bins of width range/bins from the lower bound; values outside go to the edge bins."""
    low, high = value_range
    index = (values.float() - low).mul_(bins / (high - low)).floor_()
    return index.clamp_(0, bins - 1).to(torch.int16)


def reference_pairwise(values: torch.Tensor, value_range: tuple[float, float], bins: int) -> torch.Tensor:
    """deep-ei's pairwise convention (fast_histogram over the range widened by 1e-6, half-open): outside → DROPPED."""
    low, high = value_range[0] - REFERENCE_PAIR_MARGIN, value_range[1] + REFERENCE_PAIR_MARGIN
    values = values.double()
    outside = (values < low).logical_or_(values >= high)
    index = (values - low).mul_(bins / (high - low)).floor_().clamp_(0, bins - 1)
    return index.masked_fill_(outside, DROPPED).to(torch.int16)


def reference_vector(values: torch.Tensor, value_range: tuple[float, float], bins: int) -> torch.Tensor:
    """deep-ei's whole-layer convention, in its float32 arithmetic: bins of width (range + 1e-4)/bins from the lower
    bound; values below get negative indices (kept), values above get indices ≥ bins (the row is then dropped)."""
    low, high = value_range
    return (values - low).div_(high - low + REFERENCE_VECTOR_MARGIN).mul_(bins).floor_().to(torch.int32)
