"""Plug-in information estimates from binned samples, compiled for the CPU (numba).

Pairwise: the joint counts of every (input A, output B) pair come from one pass over the samples that adds each
sample's (bin_x, bin_y) to its pair's table; the tables of a chunk of input neurons stay within ``TABLE_CELLS``
(the paper's layers: 5 × 5 pairs × 8² bins = 1 600 cells, in the first-level cache; a 784 × 100 layer at 64 bins,
321 M cells, goes chunk by chunk). Whole-layer: each binned row becomes one integer id (mixed radix, or ``unique``
rows when the radix overflows); counts of ids come from ``bincount`` when the ids are few, else from runs of the
sorted ids; then three entropies.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import torch

from ndg_pipeline.effective_information.binning import DROPPED

TABLE_CELLS = 1 << 17
"""Cells of the count table of one chunk of input neurons (128 K int64 = 1 MB, within a core's second-level cache).
Each chunk is one more pass over the samples, but the increments stay in cache, which on the CNN's 128 × 128 layer
is several times faster than 32 MB tables (benchmarks/effective_information.py, part 4, prints the ratio)."""

BINCOUNT_IDS = 1 << 24
"""Distinct ids up to which id counts come from ``bincount`` (a 128 MB table at most) rather than a sort."""


@numba.njit(cache=True, nogil=True)
def _pair_counts(bx: np.ndarray, by: np.ndarray, in_bins: int, out_bins: int, a0: int, a1: int) -> np.ndarray:
    """Joint counts (a1 − a0, n_out, in_bins, out_bins) of inputs a0 … a1 − 1 in one pass over the samples; ``by``
    is (samples, 1, n_out) when every input shares the outputs, (samples, n_in, n_out) per input. A DROPPED bin
    leaves the sample out of that pair."""
    n_out = by.shape[2]
    shared = by.shape[1] == 1
    cells = in_bins * out_bins
    counts = np.zeros((a1 - a0) * n_out * cells, dtype=np.int64)
    for s in range(bx.shape[0]):
        for a in range(a0, a1):
            i = bx[s, a]
            if i == DROPPED:
                continue
            outputs = by[s, 0] if shared else by[s, a]
            base = (a - a0) * n_out * cells + i * out_bins
            for b in range(n_out):
                j = outputs[b]
                if j != DROPPED:
                    counts[base + b * cells + j] += 1
    return counts.reshape((a1 - a0, n_out, in_bins, out_bins))


@numba.njit(cache=True, nogil=True)
def _kept(x: np.ndarray, y: np.ndarray, x_limit: int, y_limit: int) -> np.ndarray:
    """Rows whose every x bin is below ``x_limit`` and every y bin below ``y_limit``."""
    keep = np.ones(x.shape[0], dtype=np.bool_)
    for s in range(x.shape[0]):
        for k in range(x.shape[1]):
            if x[s, k] >= x_limit:
                keep[s] = False
        for k in range(y.shape[1]):
            if y[s, k] >= y_limit:
                keep[s] = False
    return keep


@numba.njit(cache=True, nogil=True)
def _bounds(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column the least and the greatest value, in one pass (rows ≥ 1)."""
    low = rows[0].astype(np.int64)
    high = rows[0].astype(np.int64)
    for s in range(1, rows.shape[0]):
        for k in range(rows.shape[1]):
            low[k] = min(low[k], rows[s, k])
            high[k] = max(high[k], rows[s, k])
    return low, high


@numba.njit(cache=True, nogil=True)
def _mixed_radix(rows: np.ndarray, low: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """One int64 id per row: Σ_k (rows[s, k] − low[k]) · weights[k]."""
    ids = np.empty(rows.shape[0], dtype=np.int64)
    for s in range(rows.shape[0]):
        value = 0
        for k in range(rows.shape[1]):
            value += (np.int64(rows[s, k]) - low[k]) * weights[k]
        ids[s] = value
    return ids


def _numpy(values: torch.Tensor) -> np.ndarray:
    """A CPU numpy view (a copy only when the tensor lives on another device)."""
    return values.detach().cpu().numpy()


def pairwise_mutual_information(bx: torch.Tensor, by: torch.Tensor, in_bins: int, out_bins: int) -> torch.Tensor:
    """The n_in × n_out matrix of I(x_A; y_B) in bits from bins ``bx`` (samples, n_in) and ``by``: (samples, n_out)
    shared by every input, or (samples, n_in, n_out) per input (the sensitivity). A DROPPED bin on either side
    leaves that sample out of that pair."""
    n_in, n_out = bx.shape[1], by.shape[-1]
    x = np.ascontiguousarray(_numpy(bx))
    y = np.ascontiguousarray(_numpy(by if by.dim() == 3 else by.unsqueeze(1)))
    per_a = max(1, min(n_in, TABLE_CELLS // (n_out * in_bins * out_bins)))
    result = torch.zeros((n_in, n_out), dtype=torch.float64)
    for a0 in range(0, n_in, per_a):
        a1 = min(n_in, a0 + per_a)
        result[a0:a1] = mutual_information_bits(torch.from_numpy(_pair_counts(x, y, in_bins, out_bins, a0, a1)))
    return result.to(bx.device)


def mutual_information_bits(table: torch.Tensor) -> torch.Tensor:
    """Plug-in I(X; Y) in bits of each contingency table in ``table`` (..., x_bins, y_bins), as scikit-learn's
    ``mutual_info_score`` computes it (terms below machine epsilon set to 0, total clipped at 0); an empty table
    (every sample dropped) is 0 bits."""
    counts = table.to(torch.float64)
    total = counts.sum(dim=(-2, -1), keepdim=True)
    rows, cols = counts.sum(dim=-1, keepdim=True), counts.sum(dim=-2, keepdim=True)
    present = counts > 0
    safe = torch.where(present, counts, 1.0)
    safe_total = total.clamp(min=1.0)
    share = counts / safe_total
    outer = torch.where(present, rows * cols, 1.0)
    terms = share * (torch.log(safe) - torch.log(safe_total)) + share * (-torch.log(outer) + 2 * torch.log(safe_total))
    terms = torch.where(present & (terms.abs() >= torch.finfo(torch.float64).eps), terms, 0.0)
    return terms.sum(dim=(-2, -1)).clamp(min=0.0) / math.log(2)


def entropy_bits(counts: torch.Tensor) -> float:
    """Plug-in entropy in bits of a vector of counts."""
    counts = counts[counts > 0].to(torch.float64)
    if counts.numel() == 0:
        return 0.0
    p = counts / counts.sum()
    return float(-(p * torch.log2(p)).sum())


def row_ids(rows: np.ndarray) -> tuple[np.ndarray, int]:
    """One int64 id per distinct row of an integer matrix, and the number of ids there can be (mixed radix when it
    fits in 2^53; else ``unique`` rows)."""
    if len(rows) == 0:
        return np.zeros(0, dtype=np.int64), 1
    low, high = _bounds(rows)
    radix = high - low + 1
    if float(np.log2(radix.astype(np.float64)).sum()) < 53:
        weights = np.cumprod(np.concatenate([[1], radix[:-1]])).astype(np.int64)
        return _mixed_radix(rows, low, weights), int(np.prod(radix))
    ids = np.unique(rows, axis=0, return_inverse=True)[1].reshape(-1).astype(np.int64)
    return ids, int(ids.max()) + 1


def _entropy_of_ids(ids: np.ndarray, count: int) -> float:
    """Entropy of the ids' empirical distribution; ids below ``count`` (counted by value, as ``unique`` orders)."""
    if count <= max(BINCOUNT_IDS, len(ids)):
        tally = np.bincount(ids, minlength=count)
    else:
        ordered = np.sort(ids)
        tally = np.diff(np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1], [True]])))
    return entropy_bits(torch.from_numpy(tally))


def vector_mutual_information(
    bx: torch.Tensor, by: torch.Tensor, x_limit: int | None = None, y_limit: int | None = None
) -> float:
    """Plug-in I(X; Y) in bits between the binned rows ``bx`` (samples, n_in) and ``by`` (samples, n_out); with
    limits, over the rows whose every x bin is below ``x_limit`` and every y bin below ``y_limit`` (deep-ei drops
    the others)."""
    x, y = np.ascontiguousarray(_numpy(bx)), np.ascontiguousarray(_numpy(by))
    if x_limit is not None:
        keep = _kept(x, y, x_limit, y_limit)
        x, y = x[keep], y[keep]
    if len(x) == 0:
        return 0.0
    (x, x_count), (y, y_count) = row_ids(x), row_ids(y)
    if math.log2(max(x_count, 1)) + math.log2(y_count) >= 62:
        x, x_count = np.unique(x, return_inverse=True)[1].astype(np.int64), len(np.unique(x))
        y, y_count = np.unique(y, return_inverse=True)[1].astype(np.int64), len(np.unique(y))
    joint = x * y_count + y
    return _entropy_of_ids(x, x_count) + _entropy_of_ids(y, y_count) - _entropy_of_ids(joint, x_count * y_count)
