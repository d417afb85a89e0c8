"""Fast Möbius transforms of set functions in the authors' subset order (spec §2-3): O(n·2^n), float64.

A set function over n players is a vector of length 2^n (or a batch of such rows) whose index k is the subset S
with player 0 as the most significant bit. Viewing the row as an n-dimensional [2, …, 2] array, player i is axis
i: the transforms below work axis by axis on the "absent" (0) and "present" (1) slices, with no dense matrix.

``and_interactions`` / ``and_inverse``: Harsanyi dividends I(S) = Σ_{L⊆S} (−1)^{|S|−|L|} v(L) and their sum
v(T) = Σ_{S⊆T} I(S). ``or_interactions`` / ``or_inverse``: I_or(∅) = v(∅), I_or(S) = −Möbius[v(N∖·)](S), which
reconstruct v(T) = I_or(∅) + Σ_{S∩T≠∅} I_or(S). The ``*_transpose`` maps apply the transposed linear maps (the
gradients of losses of the interactions with respect to v). Every function takes a numpy array or a torch
tensor and returns the same kind, in float64 (torch: on the input's device, differentiable).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal, TypeVar

import numpy as np
import torch

Values = TypeVar("Values", np.ndarray, torch.Tensor)
Butterfly = Literal["mobius", "zeta", "superset_mobius", "superset_sum"]


def n_players_of(length: int) -> int:
    """n for a set-function row of length 2^n; a clear error for any other length."""
    n = int(length).bit_length() - 1
    if length < 1 or 1 << n != length:
        raise ValueError(f"a set function has 2^n values (one per subset of n players); got a row of length {length}.")
    return n


@contextmanager
def one_thread(device: torch.device) -> Iterator[None]:
    """Run torch on one CPU thread inside the block: the transforms' many short passes are slower when threaded,
    and much slower on a busy machine. The previous thread count is restored on exit."""
    threads = torch.get_num_threads()
    if device.type == "cpu":
        torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def butterfly_(table: torch.Tensor, kind: Butterfly) -> torch.Tensor:
    """Apply one elementary transform in place to the columns of a contiguous tensor [2^n, R] (R set functions).

    ``mobius``: present −= absent; ``zeta``: present += absent (subset sums); ``superset_mobius``: absent −=
    present; ``superset_sum``: absent += present (sums over supersets). With the R functions as the innermost
    axis every pass streams runs of at least R values, which is what makes a batch fast.
    """
    n = n_players_of(table.shape[0])
    width = table[0].numel()
    into_present = kind in ("mobius", "zeta")
    subtract = kind in ("mobius", "superset_mobius")
    for axis in range(n):
        blocks = table.view(1 << axis, 2, (1 << (n - 1 - axis)) * width)
        target, source = (blocks[:, 1], blocks[:, 0]) if into_present else (blocks[:, 0], blocks[:, 1])
        if subtract:
            target.sub_(source)
        else:
            target.add_(source)
    return table


def _butterfly(values: Values, kind: Butterfly) -> Values:
    """One elementary transform of ``values`` (1-D of length 2^n, or rows [..., 2^n]) as a new float64 array.

    numpy arrays go through torch too: its in-place strided kernels are several times faster than numpy's.
    """
    n_players_of(values.shape[-1])
    is_numpy = not isinstance(values, torch.Tensor)
    tensor = torch.from_numpy(np.array(values, dtype=np.float64)) if is_numpy else values.to(torch.float64)
    columns = tensor.reshape(-1, values.shape[-1]).transpose(0, 1).contiguous()
    if not is_numpy and columns.data_ptr() == values.data_ptr():
        columns = columns.clone()  # never write into the caller's tensor
    with one_thread(columns.device):
        result = butterfly_(columns, kind).transpose(0, 1).reshape(values.shape)
    return result.numpy() if is_numpy else result


def mobius(values: Values) -> Values:
    """Möbius transform over subsets: out(S) = Σ_{L⊆S} (−1)^{|S|−|L|} values(L)."""
    return _butterfly(values, "mobius")


def zeta(values: Values) -> Values:
    """Subset sums (the inverse of :func:`mobius`): out(T) = Σ_{S⊆T} values(S)."""
    return _butterfly(values, "zeta")


def superset_sum(values: Values) -> Values:
    """Sums over supersets: out(T) = Σ_{S⊇T} values(S) (the transpose of :func:`zeta`)."""
    return _butterfly(values, "superset_sum")


def superset_mobius(values: Values) -> Values:
    """out(L) = Σ_{S⊇L} (−1)^{|S|−|L|} values(S): the transpose of :func:`mobius`."""
    return _butterfly(values, "superset_mobius")


def _reversed(values: Values) -> Values:
    """The row reversed: index k ↦ 2^n − 1 − k, i.e. S ↦ N∖S."""
    return torch.flip(values, dims=(-1,)) if isinstance(values, torch.Tensor) else values[..., ::-1]


def _with_empty(values: Values, empty: Values) -> Values:
    """``values`` with entry 0 (the empty set) replaced by ``empty`` (out of place)."""
    if isinstance(values, torch.Tensor):
        return torch.cat((empty.unsqueeze(-1), values[..., 1:]), dim=-1)
    result = values.copy()
    result[..., 0] = empty
    return result


def _as_float64(values: Values) -> Values:
    return values.to(torch.float64) if isinstance(values, torch.Tensor) else np.asarray(values, dtype=np.float64)


def and_interactions(rewards: Values) -> Values:
    """Harsanyi AND interactions of every subset (I(∅) = v(∅)); Σ_S I(S) = v(N)."""
    return mobius(rewards)


def and_inverse(interactions: Values) -> Values:
    """The rewards an AND interaction vector reconstructs on every mask: v(T) = Σ_{S⊆T} I(S)."""
    return zeta(interactions)


def and_transpose(gradient: Values) -> Values:
    """The transpose of :func:`and_interactions`: ∂/∂v of Σ_S g(S)·I_and(S)."""
    return superset_mobius(gradient)


def or_interactions(rewards: Values) -> Values:
    """OR interactions: I_or(∅) = v(∅) and I_or(S) = −Σ_{L⊆S} (−1)^{|S|−|L|} v(N∖L) for S ≠ ∅."""
    rewards = _as_float64(rewards)
    return _with_empty(-mobius(_reversed(rewards)), rewards[..., 0])


def or_inverse(interactions: Values) -> Values:
    """The rewards an OR interaction vector reconstructs: v(T) = I_or(∅) + Σ_{S∩T≠∅} I_or(S)."""
    interactions = _as_float64(interactions)
    empty = interactions[..., 0]
    others = _with_empty(interactions, empty * 0)
    subset_sums = zeta(others)
    return (empty + subset_sums[..., -1])[..., None] - _reversed(subset_sums)


def or_transpose(gradient: Values) -> Values:
    """The transpose of :func:`or_interactions`: ∂/∂v of Σ_S g(S)·I_or(S)."""
    gradient = _as_float64(gradient)
    empty = gradient[..., 0]
    result = -_reversed(superset_mobius(_with_empty(gradient, empty * 0)))
    return _with_empty(result, result[..., 0] + empty)
