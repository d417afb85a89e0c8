"""The AND-OR split's iterations compiled for the CPU (numba).

Every sample is independent, so each one runs all of its iterations with its 2^n values held in cache, and the
samples run in parallel on the CPU cores: an iteration is four in-place butterflies and three fused elementwise
passes per sample, with no temporary arrays (about 6× faster than the batched torch passes on 2 cores). Each
value goes through the same operations in the same order as in the torch loop of
:mod:`ndg_pipeline.interactions.and_or`, which serves the other devices.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def row_butterfly_(x: np.ndarray, into_present: bool) -> None:
    """In place, axis by axis from player 0 (stride 2^(n−1)) to player n−1 (stride 1): present −= absent (Möbius)
    when ``into_present``, else absent −= present (its transpose, the superset Möbius transform).

    The largest strides go two players per pass (four quarters of each block), the three smallest in registers
    eight values at a time. The superset direction reads every block mirrored, which turns it into the subset one.
    Each value goes through the same subtractions, in the same order, as in the one-player-per-pass form.
    """
    size = x.shape[0]
    half = size >> 1
    while half >= 16:
        quarter = half >> 1
        for start in range(0, size, 2 * half):
            quarters = (
                x[start : start + quarter],
                x[start + quarter : start + half],
                x[start + half : start + half + quarter],
                x[start + half + quarter : start + 2 * half],
            )
            x0, x1, x2, x3 = quarters if into_present else quarters[::-1]
            for j in range(quarter):
                a0, a1 = x0[j], x1[j]
                a2, a3 = x2[j] - a0, x3[j] - a1
                x1[j] = a1 - a0
                x2[j] = a2
                x3[j] = a3 - a2
        half >>= 2
    while half >= 1 and (half >= 8 or size < 8):
        for start in range(0, size, 2 * half):
            absent = x[start : start + half]
            present = x[start + half : start + 2 * half]
            target, source = (present, absent) if into_present else (absent, present)
            for j in range(half):
                target[j] -= source[j]
        half >>= 1
    if size < 8:
        return
    first, step = (0, 1) if into_present else (7, -1)
    for start in range(first, size + first, 8):
        x0, x1, x2, x3 = x[start], x[start + step], x[start + 2 * step], x[start + 3 * step]
        x4, x5, x6, x7 = x[start + 4 * step], x[start + 5 * step], x[start + 6 * step], x[start + 7 * step]
        x4 -= x0
        x5 -= x1
        x6 -= x2
        x7 -= x3
        x2 -= x0
        x3 -= x1
        x6 -= x4
        x7 -= x5
        x[start + step] = x1 - x0
        x[start + 2 * step] = x2
        x[start + 3 * step] = x3 - x2
        x[start + 4 * step] = x4
        x[start + 5 * step] = x5 - x4
        x[start + 6 * step] = x6
        x[start + 7 * step] = x7 - x6


@numba.njit(parallel=True, cache=True)
def split_steps(
    v: np.ndarray,
    bound: np.ndarray,
    state: np.ndarray,
    rates: np.ndarray,
    first: int,
    total: int,
    momentum: float,
    record: np.ndarray,
    history: np.ndarray,
) -> None:
    """Run iterations ``first … first + len(rates) − 1`` (of ``total``) of the split, updating ``state`` in place.

    ``v`` [B, 2^n] rewards; ``bound`` [B] q bounds; ``state`` [6, B, 2^n] holds p, q, their velocities, I_and and
    I_or in complement order (index k ↦ N∖S). ``record[k] ≥ 0`` stores the loss Σ|I_and| + Σ|I_or| of iteration
    ``first + k`` in ``history[record[k]]``. The last of ``total`` iterations only evaluates the interactions.
    """
    samples, size = v.shape
    last = size - 1
    for s in numba.prange(samples):
        p, q, velocity_p, velocity_q = state[0, s], state[1, s], state[2, s], state[3, s]
        i_and, i_or = state[4, s], state[5, s]
        grad_and = np.empty(size)
        grad_or = np.empty(size)
        limit = bound[s]
        for k in range(rates.shape[0]):
            for j in range(size):
                q[j] = min(max(q[j], -limit), limit)
                half = 0.5 * (v[s, j] + q[j])
                i_and[j] = half + p[j]
                i_or[j] = -(half - p[j])
            empty_or = -i_or[0]
            row_butterfly_(i_and, True)
            row_butterfly_(i_or, False)
            i_or[last] = empty_or
            if record[k] >= 0:
                history[record[k], s] = np.abs(i_and).sum() + np.abs(i_or).sum()
            if first + k == total - 1:
                break
            for j in range(size):
                grad_and[j] = np.sign(i_and[j])
                grad_or[j] = -np.sign(i_or[j])
            grad_or[last] = 0.0
            row_butterfly_(grad_and, False)
            row_butterfly_(grad_or, True)
            grad_or[0] += np.sign(i_or[last])
            rate = rates[k]
            for j in range(size):
                velocity_p[j] = velocity_p[j] * momentum + grad_and[j] - grad_or[j]
                velocity_q[j] = velocity_q[j] * momentum + 0.5 * grad_and[j] + 0.5 * grad_or[j]
                p[j] -= rate * velocity_p[j]
                q[j] -= rate * velocity_q[j]
