"""Property tests of the NDG edge rule and its counts (Hypothesis, derandomized): on random count tables, including
tables whose threshold T is a whole number, an edge is mined exactly when the spec's inequality holds."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from ndg_pipeline.ndg import count_frame, count_pairs, mine
from ndg_pipeline.ndg.counting import PairCounts

PROPERTY = settings(max_examples=60, derandomize=True, deadline=None, database=None)
ALPHAS = st.one_of(st.sampled_from([1.01, 2.0, 3.0, 5.0, 20.0, 100.0]), st.floats(1.001, 500.0))


def threshold(n_rows: int, n_p: int, n_not_q: int, alpha: float) -> float:
    """Spec §3: T = (fl32(P(p)·P(¬q)) / α) · N, the float64 product rounded to float32 first."""
    return float(np.float32((n_p / n_rows) * (n_not_q / n_rows))) / alpha * n_rows


def oracle(n_rows: int, n_a: int, n_b: int, n_ab: int, alpha: float, classes: tuple[bool, bool]) -> tuple[set, set]:
    """The edges and equivalences of a two-predicate table, literal by literal from spec §3."""
    ones = {"a": n_a, "b": n_b}
    cell = {(1, 1): n_ab, (1, 0): n_a - n_ab, (0, 1): n_b - n_ab, (0, 0): n_rows - n_a - n_b + n_ab}

    def count(name: str, value: int) -> int:
        return ones[name] if value else n_rows - ones[name]

    # a cell (u, v) is "empty" when c = n(a=u ∧ b=v) ≤ T and T > 1, T for p = (a=u) → q = (b=1−v)
    empty = {}
    for (u, v), c in cell.items():
        t = threshold(n_rows, count("a", u), count("b", v), alpha)
        empty[u, v] = t > 1 and c <= t
    if empty[1, 0] and empty[0, 1]:
        return set(), {("a", "b", False)}
    if empty[1, 1] and empty[0, 0]:
        return set(), {("a", "b", True)}
    constant = any(not 1e-4 <= n / n_rows <= 1 - 1e-4 for n in (n_a, n_b))
    if constant or all(classes):
        return set(), set()
    edges = set()
    for u, v in cell:
        if empty[u, v]:
            edges.add(("a", bool(u), "b", not v, "mined"))
            edges.add(("b", bool(v), "a", not u, "contrapositive"))
    return edges, set()


def mined(n_rows: int, n_a: int, n_b: int, n_ab: int, alpha: float, classes: tuple[bool, bool]) -> tuple[set, set]:
    """What ``mine`` finds on the same table, as the oracle's sets."""
    counts = PairCounts(("a", "b"), n_rows, np.array([n_a, n_b]), np.array([[n_a, n_ab], [n_ab, n_b]]))
    result = mine(counts, alpha, class_columns=[name for name, is_class in zip("ab", classes, strict=True) if is_class])
    edges = {tuple(row) for row in result.edges[["source", "source_value", "target", "target_value", "kind"]].values}
    equivalences = {tuple(row) for row in result.equivalences[["a", "b", "negated"]].values}
    return edges, equivalences


@st.composite
def tables(draw) -> tuple[int, int, int, int]:
    """(N, n(a), n(b), n(a∧b)) of any realizable two-predicate table."""
    n_rows = draw(st.integers(1, 20_000))
    n_a = draw(st.integers(0, n_rows))
    n_b = draw(st.integers(0, n_rows))
    n_ab = draw(st.integers(max(0, n_a + n_b - n_rows), min(n_a, n_b)))
    return n_rows, n_a, n_b, n_ab


@st.composite
def whole_threshold_tables(draw) -> tuple[int, int, int, int, float]:
    """A table and α where N·P(a)·P(¬b)/α is a whole number c (in exact arithmetic) and n(a∧¬b) is c − 1, c or
    c + 1: the boundary, where the reference's order of float operations decides; a and b may then be renamed to
    their negations, so that any of the four cells sits on its boundary."""
    n_rows = draw(st.integers(4, 5000))
    n_a = draw(st.integers(1, n_rows - 1))
    n_not_b = draw(st.integers(1, n_rows - 1))
    c = draw(st.integers(2, max(2, n_a * n_not_b // n_rows)))
    alpha = n_a * n_not_b / (n_rows * c)
    counter = c + draw(st.sampled_from([-1, 0, 0, 1]))
    feasible = max(0, n_a + n_not_b - n_rows) <= counter <= min(n_a, n_not_b)
    if not (alpha > 1 and feasible):
        alpha, counter = 2.0, max(0, n_a + n_not_b - n_rows)
    n_b, n_ab = n_rows - n_not_b, n_a - counter
    if draw(st.booleans()):  # rename a ↔ ¬a: the boundary moves to another of the four cells
        n_a, n_ab = n_rows - n_a, n_b - n_ab
    if draw(st.booleans()):  # rename b ↔ ¬b
        n_b, n_ab = n_rows - n_b, n_a - n_ab
    return n_rows, n_a, n_b, n_ab, alpha


@PROPERTY
@given(tables(), ALPHAS, st.tuples(st.booleans(), st.booleans()))
def test_an_edge_is_mined_iff_the_spec_inequality_holds(table, alpha, classes):
    assert mined(*table, alpha, classes) == oracle(*table, alpha, classes)


@PROPERTY
@given(whole_threshold_tables(), st.tuples(st.booleans(), st.booleans()))
def test_the_rule_at_whole_number_thresholds(case, classes):
    *table, alpha = case
    assert mined(*table, alpha, classes) == oracle(*table, alpha, classes)


@PROPERTY
@given(tables(), ALPHAS)
def test_every_edge_has_precision_at_least_one_minus_prior_of_not_q_over_alpha(table, alpha):
    n_rows, n_a, n_b, n_ab = table
    counts = PairCounts(("a", "b"), n_rows, np.array([n_a, n_b]), np.array([[n_a, n_ab], [n_ab, n_b]]))
    edges = mine(counts, alpha, class_columns=[]).edges
    ones = {"a": n_a, "b": n_b}
    both = {(1, 1): n_ab, (1, 0): n_a - n_ab, (0, 1): n_b - n_ab, (0, 0): n_rows - n_a - n_b + n_ab}  # (a, b)
    for row in edges.itertuples():
        not_q = (n_rows - ones[row.target]) if row.target_value else ones[row.target]
        n_p = ones[row.source] if row.source_value else n_rows - ones[row.source]
        values = {row.source: int(row.source_value), row.target: int(row.target_value)}
        assert row.n_source == n_p
        assert row.support == both[values["a"], values["b"]]  # n(p ∧ q) from the table's cells
        assert row.train_precision >= 1 - not_q / n_rows / alpha - 1e-6  # float32 rounding of P·P
        assert row.train_precision == row.support / n_p
        assert row.recall == row.support / (n_rows - not_q)


@PROPERTY
@given(st.integers(0, 2**32 - 1), st.integers(1, 300), st.integers(1, 9), st.integers(1, 4))
def test_counts_are_the_brute_force_gram_and_add_up_over_shards(seed, rows, width, shards):
    rng = np.random.default_rng(seed)
    x = rng.random((rows, width)) < rng.random(width)
    names = [f"p{i}" for i in range(width)]
    cuts = np.sort(rng.integers(0, rows + 1, size=shards - 1))
    parts = [part for part in np.split(x, cuts) if len(part)]
    whole = count_pairs(parts, names)
    expected = np.array([[int(np.sum(x[:, i] & x[:, j])) for j in range(width)] for i in range(width)])
    assert whole.n_rows == rows
    np.testing.assert_array_equal(whole.gram, expected)
    np.testing.assert_array_equal(whole.ones, x.sum(axis=0))
    total = count_pairs([parts[0]], names)
    for part in parts[1:]:
        total = total + count_pairs([part], names)
    assert total == whole == count_frame(pd.DataFrame(x, columns=names), chunk_rows=7)


def test_the_worked_boundary_case():
    # N = 1440, n(a) = 480, n(b) = 945, n(a∧b) = 63, α = 5 rejects a → ¬b although T = 63 in exact arithmetic.
    found = mined(1440, 480, 945, 63, 5.0, (False, False))
    assert ("a", True, "b", False, "mined") not in found[0]
    assert found == oracle(1440, 480, 945, 63, 5.0, (False, False))
