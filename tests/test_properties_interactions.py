"""Property tests of the interaction identities (Hypothesis, derandomized) against dense brute-force matrices built
from the definitions of spec §2-3: Möbius ∘ zeta = identity, Σ_S I(S) = v(N) for AND and OR, and the AND-OR split,
which reconstructs v + q on every mask and lowers the loss of a dense re-implementation's first iterate."""

from __future__ import annotations

import re
from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ndg_pipeline.interactions import (
    and_interactions,
    and_inverse,
    and_transpose,
    learn_and_or,
    or_interactions,
    or_inverse,
    or_transpose,
)
from ndg_pipeline.interactions.transforms import mobius, superset_mobius, superset_sum, zeta

PROPERTY = settings(max_examples=40, derandomize=True, deadline=None, database=None)
FINITE = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)


def size(index: int) -> int:
    return bin(index).count("1")


def subset(small: int, large: int) -> bool:
    """L ⊆ S for subset indices (player 0 is the most significant bit; the order does not matter for ⊆)."""
    return small & ~large == 0


@cache
def dense_and(n: int) -> np.ndarray:
    """M[S, L] = (−1)^{|S|−|L|} for L ⊆ S: I_and = M v."""
    full = 1 << n
    sign = [[(-1.0) ** (size(s) - size(k)) for k in range(full)] for s in range(full)]
    return np.array([[sign[s][k] if subset(k, s) else 0.0 for k in range(full)] for s in range(full)])


@cache
def dense_zeta(n: int) -> np.ndarray:
    """Z[T, S] = 1 for S ⊆ T: v(T) = Σ_{S⊆T} I(S)."""
    full = 1 << n
    return np.array([[1.0 if subset(s, t) else 0.0 for s in range(full)] for t in range(full)])


@cache
def dense_or(n: int) -> np.ndarray:
    """O with I_or = O v: I_or(∅) = v(∅); I_or(S) = −Σ_{L⊆S} (−1)^{|S|−|L|} v(N∖L) for S ≠ ∅."""
    full = 1 << n
    matrix = np.zeros((full, full))
    matrix[0, 0] = 1.0
    for s in range(1, full):
        for k in range(full):
            if subset(k, s):
                matrix[s, (full - 1) ^ k] -= (-1.0) ** (size(s) - size(k))
    return matrix


@cache
def dense_or_inverse(n: int) -> np.ndarray:
    """R[T, S] with v(T) = I_or(∅) + Σ_{S∩T≠∅} I_or(S)."""
    full = 1 << n
    return np.array([[1.0 if s == 0 or s & t else 0.0 for s in range(full)] for t in range(full)])


@st.composite
def set_functions(draw, max_players: int = 6) -> np.ndarray:
    n = draw(st.integers(0, max_players))
    return draw(arrays(np.float64, 1 << n, elements=FINITE))


def close(actual: np.ndarray, expected: np.ndarray, scale: np.ndarray) -> None:
    tolerance = 1e-12 * len(scale) * max(1.0, float(np.abs(scale).max(initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=0, atol=tolerance)


@PROPERTY
@given(set_functions())
def test_mobius_then_zeta_is_the_identity_and_each_is_the_dense_matrix(v):
    n = len(v).bit_length() - 1
    close(zeta(mobius(v)), v, v)
    close(mobius(zeta(v)), v, v)
    close(mobius(v), dense_and(n) @ v, v)
    close(zeta(v), dense_zeta(n) @ v, v)
    close(superset_sum(v), dense_zeta(n).T @ v, v)
    close(superset_mobius(v), dense_and(n).T @ v, v)


@pytest.mark.parametrize(
    ("transform", "inverse", "dense", "dense_inverse"),
    [(and_interactions, and_inverse, dense_and, dense_zeta), (or_interactions, or_inverse, dense_or, dense_or_inverse)],
    ids=["and", "or"],
)
@PROPERTY
@given(v=set_functions())
def test_interactions_sum_to_v_of_n_and_reconstruct_every_mask(transform, inverse, dense, dense_inverse, v):
    n = len(v).bit_length() - 1
    interactions = transform(v)
    close(interactions, dense(n) @ v, v)
    close(np.array(interactions.sum()), np.array(v[-1]), v)
    close(inverse(interactions), v, v)
    close(inverse(interactions), dense_inverse(n) @ interactions, v)


@PROPERTY
@given(set_functions(max_players=5))
def test_the_transposes_are_the_dense_transposes(g):
    n = len(g).bit_length() - 1
    close(and_transpose(g), dense_and(n).T @ g, g)
    close(or_transpose(g), dense_or(n).T @ g, g)


def dense_split(v: np.ndarray, iterations: int, rate: float, momentum: float = 0.9, threshold: float = 0.04):
    """Spec §3 with dense matrices: SGD with momentum on Σ|I_and| + Σ|I_or| over p, q (both from 0), learning rate
    decaying log-linearly from lr to lr/10, q clamped into its box before each step, no step after the last
    evaluation; then the OR terms of order ≤ 1 move to AND. Returns I_and, I_or, p, q and the loss per iteration."""
    n = len(v).bit_length() - 1
    and_matrix, or_matrix = dense_and(n), dense_or(n)
    bound = threshold * abs(v[-1] - v[0])
    p, q = np.zeros_like(v), np.zeros_like(v)
    velocity_p, velocity_q = np.zeros_like(v), np.zeros_like(v)
    losses = []
    for t in range(iterations):
        q = np.clip(q, -bound, bound)
        i_and = and_matrix @ ((v + q) / 2 + p)
        i_or = or_matrix @ ((v + q) / 2 - p)
        losses.append(np.abs(i_and).sum() + np.abs(i_or).sum())
        if t == iterations - 1:
            break
        grad_and, grad_or = and_matrix.T @ np.sign(i_and), or_matrix.T @ np.sign(i_or)
        velocity_p = momentum * velocity_p + grad_and - grad_or
        velocity_q = momentum * velocity_q + (grad_and + grad_or) / 2
        lr = rate * 10 ** (-t / (iterations - 1))
        p, q = p - lr * velocity_p, q - lr * velocity_q
    low = np.array([size(k) <= 1 for k in range(len(v))])
    return i_and + i_or * low, i_or * ~low, p, q, np.array(losses)


@st.composite
def planted_games(draw) -> np.ndarray:
    """A sparse AND/OR game on 2-6 players (a few planted patterns) plus small generic noise."""
    n = draw(st.integers(2, 6))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    full = 1 << n
    v = np.zeros(full)
    for _ in range(draw(st.integers(1, 3))):
        pattern = int(rng.integers(1, full))
        weight = rng.normal(scale=2.0)
        fires = [(k & pattern == pattern) if rng.random() < 0.5 else bool(k & pattern) for k in range(full)]
        v += weight * np.array(fires, dtype=float)
    return v + rng.normal(scale=0.05, size=full)


@settings(PROPERTY, max_examples=15)
@given(planted_games())
def test_and_or_split_reconstructs_v_plus_q_and_lowers_the_dense_first_loss(v):
    n = len(v).bit_length() - 1
    split = learn_and_or(v, iterations=40, learning_rate=1e-3, desc=None)
    i_and, i_or, p, q, losses = dense_split(v, 40, 1e-3)
    assert (np.abs(split.q[0]) <= split.q_bound[0] + 1e-15).all()
    assert split.q_bound[0] == pytest.approx(0.04 * abs(v[-1] - v[0]), rel=1e-15)
    rebuilt = dense_zeta(n) @ split.and_interactions[0] + dense_or_inverse(n) @ split.or_interactions[0]
    close(rebuilt, v + split.q[0], v)
    assert split.loss_history[0, 0] == pytest.approx(losses[0], rel=1e-12)
    assert split.loss_history[-1, 0] < losses[0]
    for ours, dense in ((split.and_interactions[0], i_and), (split.or_interactions[0], i_or), (split.p[0], p)):
        np.testing.assert_allclose(ours, dense, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(split.q[0], q, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(split.loss_history[:, 0], losses[split.loss_steps], rtol=1e-9)


def test_and_or_split_with_the_defaults_is_the_dense_method_and_labels_its_progress_bar(capsys):
    # Every dense interaction of v/2 is at least 5 in size and the defaults move p and q by less than 4 in all, so
    # no sign flips between the two ways of rounding: the whole run of 10 000 iterations is compared.
    v = np.array([10.0, 50.0, -30.0, 100.0])
    split = learn_and_or(v)  # 10 000 iterations, lr 1e-5, |q| ≤ 0.04·|v(N) − v(∅)|, momentum 0.9, 20 checkpoints
    i_and, i_or, p, q, losses = dense_split(v, 10_000, 1e-5)
    for ours, dense in ((split.and_interactions[0], i_and), (split.or_interactions[0], i_or), (split.p[0], p)):
        np.testing.assert_allclose(ours, dense, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(split.q[0], q, rtol=1e-12, atol=1e-12)
    assert split.loss_steps.tolist() == [round(k * 9_999 / 19) for k in range(20)]  # evenly from first to last
    np.testing.assert_allclose(split.loss_history[:, 0], losses[split.loss_steps], rtol=1e-12)
    assert re.search(r"(^|\r)AND-OR split: 100%", capsys.readouterr().err)


def test_and_or_split_records_the_loss_at_evenly_spread_checkpoints_and_can_be_silent(capsys):
    v = np.array([0.5, 2.0, -1.0, 3.0])
    _, _, _, _, losses = dense_split(v, 39, 1e-3)
    split = learn_and_or(v, iterations=39, learning_rate=1e-3, desc=None)
    assert split.loss_steps.tolist() == list(range(0, 39, 2))  # 20 checkpoints: every other iteration of 39
    np.testing.assert_allclose(split.loss_history[:, 0], losses[::2], rtol=1e-12)
    few = learn_and_or(v, iterations=5, learning_rate=1e-3, checkpoints=3, desc=None)
    assert few.loss_steps.tolist() == [0, 2, 4]
    assert learn_and_or(v, iterations=3, learning_rate=1e-3, desc=None).loss_steps.tolist() == [0, 1, 2]
    assert capsys.readouterr().err == ""
