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

    The largest strides go two players per pass (four quarters of each block, read mirrored in the superset
    direction), the three smallest within each block of eight values. Each value goes through the same
    subtractions, in the same order, as in the one-player-per-pass form.
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
    for start in range(0, size, 8):
        block = x[start : start + 8]
        if into_present:
            for i in range(4):
                block[4 + i] -= block[i]
            for i in range(2):
                block[2 + i] -= block[i]
                block[6 + i] -= block[4 + i]
            for i in range(0, 8, 2):
                block[i + 1] -= block[i]
        else:
            for i in range(4):
                block[i] -= block[4 + i]
            for i in range(2):
                block[i] -= block[2 + i]
                block[4 + i] -= block[6 + i]
            for i in range(0, 8, 2):
                block[i] -= block[i + 1]


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
