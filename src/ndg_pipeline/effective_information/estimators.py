"""Plug-in information estimates from binned samples, vectorised over every (input, output) neuron pair.

Pairwise: the joint counts of every pair (A, B) at once. Small tables (n_in·n_out·bins² ≤ ``TABLE_CELLS``, every
layer of the paper's networks) come from one matrix product of one-hot codes, onehot(x)ᵀ·onehot(y), per block of
rows (float32 sums of 0/1 are exact below 2^24 rows); larger ones from one ``bincount`` over (A, B, bin_x, bin_y)
keys per chunk of input neurons, so the table never holds more than a chunk (a 784 × 100 layer at 64 bins is 321 M
cells). Whole-layer: each binned row becomes one integer id (mixed radix, or ``unique`` rows when the radix
overflows), then three entropies.
"""

from __future__ import annotations

import math

import torch

from ndg_pipeline.effective_information.binning import DROPPED

KEYS_PER_BINCOUNT = 1 << 24
"""Keys counted by one ``bincount`` call (16 M int64 = 128 MB), and cells of one chunk's count table."""

TABLE_CELLS = 1 << 22
"""Cells of the count table of one chunk of input neurons (4 M int64 = 32 MB, a few times that while in use)."""

ONE_HOT_FLOATS = 1 << 24
"""Floats of the one-hot codes of one block of rows in the matrix-product path (64 MB)."""


def _one_hot(bins: torch.Tensor, width: int) -> torch.Tensor:
    """(..., rows, n) bin indices → (..., rows, n·width + 1) float32 one-hot codes; a DROPPED bin sets only the
    last (discarded) column, so that value counts in no pair."""
    n = bins.shape[-1]
    index = bins.to(torch.int64) + torch.arange(n, device=bins.device) * width
    index = torch.where(bins == DROPPED, n * width, index)
    codes = torch.zeros((*bins.shape[:-1], n * width + 1), dtype=torch.float32, device=bins.device)
    return codes.scatter_(-1, index, 1.0)


def _counts_by_product(bx: torch.Tensor, by: torch.Tensor, in_bins: int, out_bins: int) -> torch.Tensor:
    """Joint counts (n_in, n_out, in_bins, out_bins) as sums of onehot(x)ᵀ·onehot(y) over blocks of rows."""
    samples, n_in = bx.shape
    n_out = by.shape[-1]
    per_input = by.dim() == 3
    width = (n_in * in_bins + 1) + (n_in if per_input else 1) * (n_out * out_bins + 1)
    rows = max(1, min(ONE_HOT_FLOATS // width, (1 << 24) - 1))
    total = torch.zeros((n_in, in_bins, n_out * out_bins), dtype=torch.float64, device=bx.device)
    for s0 in range(0, samples, rows):
        x, y = bx[s0 : s0 + rows], by[s0 : s0 + rows]
        if per_input:  # sensitivity: input A's own outputs, one product per A
            xa = _one_hot(x.T.unsqueeze(-1), in_bins)[..., :in_bins]  # (n_in, rows, in_bins)
            ya = _one_hot(y.permute(1, 0, 2), out_bins)[..., :-1]  # (n_in, rows, n_out·out_bins)
            total += torch.bmm(xa.transpose(1, 2), ya)
        else:
            product = _one_hot(x, in_bins).T @ _one_hot(y, out_bins)
            total += product[:-1, :-1].reshape(n_in, in_bins, n_out * out_bins)
    return total.view(n_in, in_bins, n_out, out_bins).permute(0, 2, 1, 3)


def _counts_by_bincount(bx: torch.Tensor, by: torch.Tensor, in_bins: int, out_bins: int, a0: int, a1: int):
    """Joint counts (a1 − a0, n_out, in_bins, out_bins) of inputs a0 … a1 − 1, by one bincount per block of rows."""
    samples = bx.shape[0]
    n_out = by.shape[-1]
    cells = in_bins * out_bins
    width = a1 - a0
    dump = width * n_out * cells
    counts = torch.zeros(dump + 1, dtype=torch.int64, device=bx.device)
    a_offset = (torch.arange(width, device=bx.device) * (n_out * cells)).view(1, width, 1)
    pair_offset = (torch.arange(n_out, device=bx.device) * cells).view(1, 1, n_out)
    rows = max(1, KEYS_PER_BINCOUNT // (width * n_out))
    for s0 in range(0, samples, rows):
        x = bx[s0 : s0 + rows, a0:a1].to(torch.int64).unsqueeze(2)
        y = (by[s0 : s0 + rows, None] if by.dim() == 2 else by[s0 : s0 + rows, a0:a1]).to(torch.int64)
        keys = a_offset + pair_offset + x * out_bins + y
        valid = (x != DROPPED) & (y != DROPPED)
        counts += torch.bincount(torch.where(valid, keys, dump).reshape(-1), minlength=dump + 1)
    return counts[:dump].view(width, n_out, in_bins, out_bins)


def pairwise_mutual_information(bx: torch.Tensor, by: torch.Tensor, in_bins: int, out_bins: int) -> torch.Tensor:
    """The n_in × n_out matrix of I(x_A; y_B) in bits from bins ``bx`` (samples, n_in) and ``by``: (samples, n_out)
    shared by every input, or (samples, n_in, n_out) per input (the sensitivity). A DROPPED bin on either side
    leaves that sample out of that pair."""
    n_in, n_out = bx.shape[1], by.shape[-1]
    if n_in * n_out * in_bins * out_bins <= TABLE_CELLS:
        return mutual_information_bits(_counts_by_product(bx, by, in_bins, out_bins))
    per_a = max(1, min(n_in, TABLE_CELLS // (n_out * in_bins * out_bins)))
    result = torch.zeros((n_in, n_out), dtype=torch.float64, device=bx.device)
    for a0 in range(0, n_in, per_a):
        a1 = min(n_in, a0 + per_a)
        result[a0:a1] = mutual_information_bits(_counts_by_bincount(bx, by, in_bins, out_bins, a0, a1))
    return result


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


def row_ids(rows: torch.Tensor) -> tuple[torch.Tensor, int]:
    """One int64 id per distinct row of an integer matrix, and the number of ids there can be (mixed radix when it
    fits in 2^53, exact in a float64 product; else ``unique`` rows)."""
    if len(rows) == 0:
        return torch.zeros(0, dtype=torch.int64, device=rows.device), 1
    low = rows.min(dim=0).values.to(torch.int64)
    radix = rows.max(dim=0).values.to(torch.int64) - low + 1
    if float(torch.log2(radix.double()).sum()) < 53:
        weights = torch.cumprod(torch.cat([torch.ones(1, dtype=torch.int64, device=rows.device), radix[:-1]]), 0)
        shifted = (rows.to(torch.int64) - low).to(torch.float64)
        return (shifted @ weights.to(torch.float64)).to(torch.int64), int(torch.prod(radix))
    ids = torch.unique(rows, dim=0, return_inverse=True)[1]
    return ids, int(ids.max()) + 1


def _entropy_of_ids(ids: torch.Tensor) -> float:
    return entropy_bits(torch.unique(ids, return_counts=True)[1])


def vector_mutual_information(bx: torch.Tensor, by: torch.Tensor) -> float:
    """Plug-in I(X; Y) in bits between the binned rows ``bx`` (samples, n_in) and ``by`` (samples, n_out)."""
    if len(bx) == 0:
        return 0.0
    (x, _), (y, y_count) = row_ids(bx), row_ids(by)
    if math.log2(max(int(x.max()) + 1, 1)) + math.log2(y_count) >= 62:
        x, y = torch.unique(x, return_inverse=True)[1], torch.unique(y, return_inverse=True)[1]
        y_count = int(y.max()) + 1
    return _entropy_of_ids(x) + _entropy_of_ids(y) - _entropy_of_ids(x * y_count + y)
