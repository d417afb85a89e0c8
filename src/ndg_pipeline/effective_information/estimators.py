"""Plug-in information estimates from binned samples, vectorised over every (input, output) neuron pair.

Pairwise: one ``bincount`` over (A, B, bin_x, bin_y) keys per chunk of input neurons and samples, so the count
table never holds more than a chunk (a 784 × 100 layer at 64 bins is 321 M cells; chunked it stays in a few hundred
MB). Whole-layer: each binned row becomes one integer id (mixed radix, or ``unique`` rows when the radix overflows),
then three entropies.
"""

from __future__ import annotations

import math

import torch

from ndg_pipeline.effective_information.binning import DROPPED

KEYS_PER_BINCOUNT = 1 << 24
"""Keys counted by one ``bincount`` call (16 M int64 = 128 MB), and cells of one chunk's count table."""


TABLE_CELLS = 1 << 22
"""Cells of the count table of one chunk of input neurons (4 M int64 = 32 MB, a few times that while in use)."""


def pairwise_mutual_information(bx: torch.Tensor, by: torch.Tensor, in_bins: int, out_bins: int) -> torch.Tensor:
    """The n_in × n_out matrix of I(x_A; y_B) in bits from bins ``bx`` (samples, n_in) and ``by``: (samples, n_out)
    shared by every input, or (samples, n_in, n_out) per input (the sensitivity). A DROPPED bin on either side
    leaves that sample out of that pair. One bincount per chunk of input neurons and samples."""
    samples, n_in = bx.shape
    n_out = by.shape[-1]
    cells = in_bins * out_bins
    per_a = max(1, min(n_in, TABLE_CELLS // (n_out * cells)))
    result = torch.zeros((n_in, n_out), dtype=torch.float64, device=bx.device)
    pair_offset = (torch.arange(n_out, device=bx.device) * cells).view(1, 1, n_out)
    for a0 in range(0, n_in, per_a):
        a1 = min(n_in, a0 + per_a)
        width = a1 - a0
        dump = width * n_out * cells
        counts = torch.zeros(dump + 1, dtype=torch.int64, device=bx.device)
        a_offset = (torch.arange(width, device=bx.device) * (n_out * cells)).view(1, width, 1)
        rows = max(1, KEYS_PER_BINCOUNT // (width * n_out))
        for s0 in range(0, samples, rows):
            x = bx[s0 : s0 + rows, a0:a1].to(torch.int64).unsqueeze(2)
            y = (by[s0 : s0 + rows, None] if by.dim() == 2 else by[s0 : s0 + rows, a0:a1]).to(torch.int64)
            keys = a_offset + pair_offset + x * out_bins + y
            valid = (x != DROPPED) & (y != DROPPED)
            counts += torch.bincount(torch.where(valid, keys, dump).reshape(-1), minlength=dump + 1)
        result[a0:a1] = mutual_information_bits(counts[:dump].view(width, n_out, in_bins, out_bins))
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


def row_ids(rows: torch.Tensor) -> torch.Tensor:
    """One int64 id per distinct row of an integer matrix (mixed radix when it fits, else ``unique`` rows)."""
    low = rows.min(dim=0).values.to(torch.int64) if len(rows) else torch.zeros(rows.shape[1], dtype=torch.int64)
    radix = (rows.max(dim=0).values.to(torch.int64) - low + 1) if len(rows) else torch.ones_like(low)
    if float(torch.log2(radix.double()).sum()) < 62:
        weights = torch.cumprod(torch.cat([torch.ones(1, dtype=torch.int64, device=rows.device), radix[:-1]]), 0)
        return ((rows.to(torch.int64) - low) * weights).sum(dim=1)
    return torch.unique(rows, dim=0, return_inverse=True)[1]


def vector_mutual_information(bx: torch.Tensor, by: torch.Tensor) -> float:
    """Plug-in I(X; Y) in bits between the binned rows ``bx`` (samples, n_in) and ``by`` (samples, n_out)."""
    if len(bx) == 0:
        return 0.0
    x, y = row_ids(bx), row_ids(by)
    _, x_ids = torch.unique(x, return_inverse=True)
    _, y_ids = torch.unique(y, return_inverse=True)
    joint = x_ids * (int(y_ids.max()) + 1) + y_ids
    return (
        entropy_bits(torch.bincount(x_ids))
        + entropy_bits(torch.bincount(y_ids))
        - entropy_bits(torch.unique(joint, return_counts=True)[1])
    )
