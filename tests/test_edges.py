"""The edge rule on hand-worked boolean data: planted implications, equivalences, constants, classes, α and T
boundaries, the float32 rounding of the reference, the precision invariant and test-split evaluation."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from ndg_pipeline.ndg import PAPER_ALPHAS, alpha_sweep, count_frame, count_pairs, mine, mine_edges

EDGE_COLUMNS = [
    "source",
    "source_value",
    "target",
    "target_value",
    "kind",
    "support",
    "n_source",
    "train_precision",
    "recall",
]


def first_rows(n_rows: int, start: int, stop: int) -> np.ndarray:
    """A boolean column of ``n_rows`` rows that is true exactly on rows [start, stop)."""
    column = np.zeros(n_rows, dtype=bool)
    column[start:stop] = True
    return column


def expected_edges(rows: list[tuple]) -> pd.DataFrame:
    """An edges table with the library's columns and dtypes, from hand-written rows."""
    table = pd.DataFrame(rows, columns=EDGE_COLUMNS)
    return table.astype(
        {
            "source": "str",
            "source_value": bool,
            "target": "str",
            "target_value": bool,
            "kind": "str",
            "support": np.int64,
            "n_source": np.int64,
            "train_precision": np.float64,
            "recall": np.float64,
        }
    )


def has_edge(edges: pd.DataFrame, source: str, source_value: bool, target: str, target_value: bool) -> bool:
    """Whether the edges table holds the directed edge (source = source_value) → (target = target_value)."""
    match = (
        (edges["source"] == source)
        & (edges["source_value"] == source_value)
        & (edges["target"] == target)
        & (edges["target_value"] == target_value)
    )
    return bool(match.any())


def implication_frame() -> pd.DataFrame:
    """N = 1000 rows; a holds on rows 0-199 and b on rows 0-499, so a → b with no counterexample."""
    return pd.DataFrame({"a": first_rows(1000, 0, 200), "b": first_rows(1000, 0, 500)})


def test_planted_implication_gives_the_edge_and_its_contrapositive():
    # Cells of (a, b): n11 = 200, n10 = 0, n01 = 300, n00 = 500. With α = 20:
    #   T11 = 1000·0.2·0.5/20 = 5     (200 > 5, not empty)
    #   T10 = 1000·0.2·0.5/20 = 5 > 1 (0 ≤ 5, empty) → a → b, contrapositive ¬b → ¬a
    #   T01 = 1000·0.8·0.5/20 = 20    (300 > 20)      T00 = 1000·0.8·0.5/20 = 20 (500 > 20)
    # a → b: support n(a∧b) = 200, n(a) = 200, precision 1, recall n(a∧b)/n(b) = 200/500.
    # ¬b → ¬a: support n(¬b∧¬a) = 500, n(¬b) = 500, precision 1, recall 500/n(¬a) = 500/800.
    result = mine(count_frame(implication_frame()), alpha=20)
    expected = expected_edges(
        [
            ("a", True, "b", True, "mined", 200, 200, 1.0, 0.4),
            ("b", False, "a", False, "contrapositive", 500, 500, 1.0, 0.625),
        ]
    )
    pd.testing.assert_frame_equal(result.edges, expected)
    assert result.equivalences.empty
    assert result.constants.empty
    assert result.alpha == 20.0
    priors = result.priors
    assert priors["predicate"].tolist() == ["a", "b"]
    assert priors["n"].tolist() == [200, 500]
    assert priors["prior"].tolist() == [0.2, 0.5]
    assert not priors["is_class"].any() and not priors["is_constant"].any()


def test_equivalences_are_found_and_give_no_edges():
    # a on rows 0-299, b on rows 1-300 (b ≡ a but for rows 0 and 300), c = ¬a.
    # (a, b): n10 = 1 (row 0), n01 = 1 (row 300); T10 = T01 = 1000·0.3·0.7/20 = 10.5 → a ≡ b, agreement 998/1000.
    # (a, c): n11 = n00 = 0 ≤ 10.5 → a ≡ ¬c, agreement 1.
    # (b, c): n11 = 1 (row 300), n00 = 1 (row 0) ≤ 10.5 → b ≡ ¬c, agreement (n10 + n01)/N = 998/1000.
    a = first_rows(1000, 0, 300)
    frame = pd.DataFrame({"a": a, "b": first_rows(1000, 1, 301), "c": ~a})
    result = mine(count_frame(frame), alpha=20)
    assert result.edges.empty
    assert list(result.edges.columns) == EDGE_COLUMNS
    expected = pd.DataFrame(
        {"a": ["a", "a", "b"], "b": ["b", "c", "c"], "negated": [False, True, True], "agreement": [0.998, 1.0, 0.998]}
    ).astype({"a": "str", "b": "str"})
    pd.testing.assert_frame_equal(result.equivalences, expected)


def test_constants_take_part_in_nothing():
    # N = 100 000, α = 2. a holds on rows 0-49 999 (P = 0.5).
    #   k: always true (P = 1) → constant.
    #   r: true on rows 0-4, inside a (P = 5e-5 < 1e-4) → constant, although r → a would pass the rule:
    #      c = n(r∧¬a) = 0 and T = 100 000·5e-5·0.5/2 = 1.25 > 1.
    #   z: false only on rows 99 995-99 999, outside a (P = 0.99995 > 1 − 1e-4) → constant, although a → z
    #      would pass: c = n(a∧¬z) = 0, T = 100 000·0.5·5e-5/2 = 1.25.
    #   s: rows 0-19 (P = 2e-4), t: rows 20-29 (P = 1e-4, exactly the limit, so not constant); both inside a.
    # (a, s): n01 = n(¬a∧s) = 0 ≤ T01 = 100 000·0.5·2e-4/2 = 5 → ¬a → ¬s and s → a; other cells are full
    #   (n11 = 20 > 5, n10 = 49 980 > 24 995, n00 = 50 000 > 24 995). (a, t) likewise with T01 = 2.5.
    # (s, t): n10 = 20 > T10 = 100 000·2e-4·0.9999/2 ≈ 10, n01 = 10 > T01 ≈ 5, n11 = 0 but T11 = 0.001 ≤ 1.
    n_rows = 100_000
    frame = pd.DataFrame(
        {
            "a": first_rows(n_rows, 0, 50_000),
            "k": first_rows(n_rows, 0, n_rows),
            "r": first_rows(n_rows, 0, 5),
            "s": first_rows(n_rows, 0, 20),
            "t": first_rows(n_rows, 20, 30),
            "z": first_rows(n_rows, 0, 99_995),
        }
    )
    result = mine(count_frame(frame), alpha=2)
    expected = expected_edges(
        [
            ("a", False, "s", False, "mined", 50_000, 50_000, 1.0, 50_000 / 99_980),
            ("a", False, "t", False, "mined", 50_000, 50_000, 1.0, 50_000 / 99_990),
            ("s", True, "a", True, "contrapositive", 20, 20, 1.0, 20 / 50_000),
            ("t", True, "a", True, "contrapositive", 10, 10, 1.0, 10 / 50_000),
        ]
    )
    pd.testing.assert_frame_equal(result.edges, expected)
    assert result.equivalences.empty
    assert result.constants["predicate"].tolist() == ["k", "r", "z"]
    assert result.constants["n"].tolist() == [100_000, 5, 99_995]
    assert result.priors["is_constant"].tolist() == [False, True, True, False, False, True]


def test_class_pairs_give_equivalences_but_no_edges():
    # class:1 on rows 0-499, class:0 = ¬class:1, neuron n on rows 0-199 (n → class:1).
    # (class:0, class:1): n11 = n00 = 0 ≤ T = 1000·0.5·0.5/20 = 12.5 → class:0 ≡ ¬class:1 (class pairs included).
    # (class:1, n): n(¬class:1 ∧ n) = 0 ≤ T = 1000·0.5·0.2/20 = 5 → ¬class:1 → ¬n, contrapositive n → class:1;
    #   other cells: n11 = 200 > 5, n10 = 300 > 20, n00 = 500 > 20.
    # (class:0, n): n(class:0 ∧ n) = 0 ≤ 5 → class:0 → ¬n, contrapositive n → ¬class:0.
    class_1 = first_rows(1000, 0, 500)
    frame = pd.DataFrame({"class:0": ~class_1, "class:1": class_1, "n": first_rows(1000, 0, 200)})
    result = mine(count_frame(frame), alpha=20)
    expected = expected_edges(
        [
            ("class:0", True, "n", False, "mined", 500, 500, 1.0, 500 / 800),
            ("class:1", False, "n", False, "mined", 500, 500, 1.0, 500 / 800),
            ("n", True, "class:0", False, "contrapositive", 200, 200, 1.0, 200 / 500),
            ("n", True, "class:1", True, "contrapositive", 200, 200, 1.0, 200 / 500),
        ]
    )
    pd.testing.assert_frame_equal(result.edges, expected)
    assert result.equivalences[["a", "b", "negated"]].values.tolist() == [["class:0", "class:1", True]]
    assert result.priors["is_class"].tolist() == [True, True, False]


def test_no_class_class_edges():
    # Three one-hot classes of 300 rows each: n(class:i ∧ class:j) = 0 ≤ T11 = 900·(1/3)²/20 = 5, so class:i →
    # ¬class:j would be an edge; the other cells are full (n10 = n01 = 300 > 10, n00 = 300 > 20).
    label = np.repeat(np.arange(3), 300)
    frame = pd.DataFrame({f"class:{c}": label == c for c in range(3)})
    counts = count_frame(frame)
    assert mine(counts, alpha=20).edges.empty
    # Declaring no class columns turns the same pairs into 3 pairs × (mined + contrapositive) edges.
    as_neurons = mine(counts, alpha=20, class_columns=[]).edges
    assert len(as_neurons) == 6
    assert has_edge(as_neurons, "class:0", True, "class:1", False)
    assert has_edge(as_neurons, "class:1", True, "class:0", False)
    # Explicit class columns: only the named ones are classes.
    partly = mine(counts, alpha=20, class_columns=["class:0", "class:1"]).edges
    assert set(partly["source"]) == {"class:0", "class:1", "class:2"}
    assert not has_edge(partly, "class:0", True, "class:1", False)
    assert has_edge(partly, "class:2", True, "class:0", False)


def test_unknown_class_columns_are_refused():
    with pytest.raises(ValueError, match=r"class columns \['label'\]"):
        mine(count_frame(implication_frame()), alpha=20, class_columns=["label"])


def test_a_perfect_implication_needs_more_than_one_expected_counterexample():
    # N = 100: a on rows 0-1 (P = 0.02) inside b on rows 0-49. c = n(a∧¬b) = 0, but T10 = 100·0.02·0.5/20
    # = 0.05 ≤ 1, and no other cell is empty (T01 = T00 = 2.45 against 48 and 50 counterexamples).
    small = pd.DataFrame({"a": first_rows(100, 0, 2), "b": first_rows(100, 0, 50)})
    assert mine(count_frame(small), alpha=20).edges.empty
    # The same proportions on N = 10 000 rows: T10 = 10 000·0.02·0.5/20 = 5 > 1 → a → b.
    large = pd.DataFrame({"a": first_rows(10_000, 0, 200), "b": first_rows(10_000, 0, 5_000)})
    assert has_edge(mine(count_frame(large), alpha=20).edges, "a", True, "b", True)


def test_threshold_of_exactly_one_is_not_enough():
    # N = 16, a on rows 0-7 (P = 0.5), b false on rows 8-11 only (P(¬b) = 0.25), so c = n(a∧¬b) = 0.
    # α = 2: T10 = 16·0.125/2 = 1 exactly (0.125 is a float32 number), and T > 1 fails → no edge.
    # Other cells: n11 = 8 > T11 = 3, n01 = 4 > T01 = 3, n00 = 4 > T00 = 1.
    frame = pd.DataFrame({"a": first_rows(16, 0, 8), "b": ~first_rows(16, 8, 12)})
    counts = count_frame(frame)
    assert mine(counts, alpha=2).edges.empty
    # α = 1.99: T10 = 2/1.99 > 1 → a → b and ¬b → ¬a (n00 = 4 > 1.005, n01 = 4 > 3.015, n11 = 8 > 3.015).
    edges = mine(counts, alpha=1.99).edges
    assert edges[["source", "source_value", "target", "target_value"]].values.tolist() == [
        ["a", True, "b", True],
        ["b", False, "a", False],
    ]


def boundary_frame(counterexamples: int) -> pd.DataFrame:
    """N = 80: a on rows 0-39; b false on ``counterexamples`` rows inside a and 20 − that many outside."""
    outside = 20 - counterexamples
    not_b = first_rows(80, 0, counterexamples) | first_rows(80, 40, 40 + outside)
    return pd.DataFrame({"a": first_rows(80, 0, 40), "b": ~not_b})


def test_alpha_boundary_counterexamples_equal_to_the_threshold_are_accepted():
    # P(a) = 0.5, P(¬b) = 0.25, product 0.125 (exact in float32); α = 2 → T10 = 80·0.125/2 = 5 exactly.
    # c = 5: accepted. Other cells (c = 5): n11 = 35 > T11 = 15, n01 = 25 > 15, n00 = 15 > T00 = 5.
    edges = mine(count_frame(boundary_frame(5)), alpha=2).edges
    assert edges[["source", "target", "support", "n_source"]].values.tolist() == [
        ["a", "b", 35, 40],
        ["b", "a", 15, 20],
    ]
    assert edges["train_precision"].tolist() == [35 / 40, 15 / 20]
    # c = 6 > 5: rejected (and n11 = 34, n01 = 26, n00 = 14 stay full).
    assert mine(count_frame(boundary_frame(6)), alpha=2).edges.empty
    # c = 5 but α just above 2: T = 10/α is just below 5 → rejected.
    assert mine(count_frame(boundary_frame(5)), alpha=np.nextafter(2.0, 3.0)).edges.empty


def float32_flip(float32_accepts: bool) -> tuple[int, int, int, float, int]:
    """Search small (N, n(a), n(¬b), α, c) where rounding P(a)·P(¬b) to float32 flips c ≤ T against float64."""
    for n_rows in range(100, 3001, 20):
        n_a = np.arange(1, n_rows // 4)[:, None]
        n_not_b = np.arange(1, n_rows // 4)[None, :]
        product = (n_a / n_rows) * (n_not_b / n_rows)
        for alpha in (3.0, 7.0, 20.0):
            t32 = n_rows * product.astype(np.float32).astype(np.float64) / alpha
            t64 = n_rows * product / alpha
            # The largest count the deciding rule accepts, which the other rule rejects.
            accepted, other = (t32, t64) if float32_accepts else (t64, t32)
            count = np.floor(accepted)
            flips = (count > other) & (np.minimum(t32, t64) > 2) & (count <= n_a) & (count <= n_not_b)
            if flips.any():
                i, j = np.argwhere(flips)[0]
                return n_rows, int(n_a[i, 0]), int(n_not_b[0, j]), alpha, int(count[i, j])
    raise AssertionError("no float32 flip found in the searched range")


@pytest.mark.parametrize("float32_accepts", [True, False])
def test_float32_rounding_of_the_prior_product_decides_at_the_boundary(float32_accepts):
    n_rows, n_a, n_not_b, alpha, count = float32_flip(float32_accepts)
    # The search's claim, restated: pure float64 decides the opposite way.
    product = (n_a / n_rows) * (n_not_b / n_rows)
    assert (count <= n_rows * product / alpha) != float32_accepts
    assert (count <= n_rows * float(np.float32(product)) / alpha) == float32_accepts
    # a on rows [0, n_a); b false on ``count`` rows inside a and on n(¬b) − count rows right after a.
    not_b = first_rows(n_rows, 0, count) | first_rows(n_rows, n_a, n_a + n_not_b - count)
    frame = pd.DataFrame({"a": first_rows(n_rows, 0, n_a), "b": ~not_b})
    counts = count_frame(frame)
    assert counts.ones.tolist() == [n_a, n_rows - n_not_b]
    assert n_a - counts.gram[0, 1] == count
    result = mine(counts, alpha=alpha)
    assert result.equivalences.empty
    assert has_edge(result.edges, "a", True, "b", True) == float32_accepts


def pair_frame(n_rows: int, n_a: int, n_b: int, n_ab: int) -> pd.DataFrame:
    """a on rows [0, n_a); b on n_ab rows inside a and n_b − n_ab rows right after a."""
    b = first_rows(n_rows, 0, n_ab) | first_rows(n_rows, n_a, n_a + n_b - n_ab)
    return pd.DataFrame({"a": first_rows(n_rows, 0, n_a), "b": b})


def test_threshold_divides_by_alpha_before_multiplying_by_n():
    # N = 1440, n(a) = 480, n(b) = 945, n(a∧b) = 63, α = 5. In exact arithmetic T = 1440·(1/3)·(21/32)/5 = 63,
    # a whole number, so the order of the float operations decides: (fl32(P(a)P(b)) / α)·N = 62.99999999999999
    # rejects a → ¬b (cell 11 holds 63), while N·fl32(P(a)P(b))/α = 63.0 would accept it and its contrapositive.
    product = float(np.float32((480 / 1440) * (945 / 1440)))
    assert product / 5 * 1440 < 63 <= 1440 * product / 5
    result = mine(count_frame(pair_frame(1440, 480, 945, 63)), alpha=5)
    assert not has_edge(result.edges, "a", True, "b", False)
    assert not has_edge(result.edges, "b", True, "a", False)
    # one count fewer is below T either way: the edge and its contrapositive are there
    fewer = mine(count_frame(pair_frame(1440, 480, 945, 62)), alpha=5).edges
    assert has_edge(fewer, "a", True, "b", False) and has_edge(fewer, "b", True, "a", False)


def order_flips(limit: int = 40) -> list[tuple[int, int, int, float]]:
    """(N, n(a), n(b), α) where T = N·P(a)·P(b)/α is a whole number c that the two float orders put on opposite
    sides of c, among small N, with 1 < T."""
    found = []
    for n_rows in range(60, 1500, 60):
        n = np.arange(1, n_rows)
        product = np.outer(n / n_rows, n / n_rows).astype(np.float32).astype(np.float64)
        for alpha in (3.0, 5.0, 7.0, 20.0):
            ours, other = product / alpha * n_rows, n_rows * product / alpha
            count = np.round(ours)
            flips = (count > 1) & ((count <= ours) != (count <= other))
            flips &= count <= np.minimum.outer(n, n)  # a feasible n(a∧b)
            for i, j in np.argwhere(flips)[:2]:
                found.append((n_rows, int(n[i]), int(n[j]), alpha))
            if len(found) >= limit:
                return found
    return found


def test_a_search_of_boundary_cases_agrees_with_the_reference_order():
    cases = order_flips()
    assert len(cases) >= 10
    for n_rows, n_a, n_b, alpha in cases:
        t = float(np.float32((n_a / n_rows) * (n_b / n_rows))) / alpha * n_rows
        count = round(t)
        accepted = count <= t
        frame = pair_frame(n_rows, n_a, n_b, count)
        if frame["a"].sum() + frame["b"].sum() - count > n_rows:  # not realizable in n_rows rows
            continue
        result = mine(count_frame(frame), alpha=alpha)
        assert result.equivalences.empty
        assert has_edge(result.edges, "a", True, "b", False) == accepted, (n_rows, n_a, n_b, alpha)
        assert has_edge(result.edges, "b", True, "a", False) == accepted, (n_rows, n_a, n_b, alpha)


def test_constants_can_be_equivalent_but_have_no_edges():
    # N = 100 000: c and d both true on rows 0-4 only (P = 5e-5, constants); e false on them only (P = 0.99995).
    # c ≡ d (cells 10 and 01 are empty, T = (fl32(5e-5·0.99995)/2)·N ≈ 2.5 > 1) and c ≡ ¬e; no edge at all.
    n_rows = 100_000
    frame = pd.DataFrame({"c": first_rows(n_rows, 0, 5), "d": first_rows(n_rows, 0, 5), "e": ~first_rows(n_rows, 0, 5)})
    result = mine(count_frame(frame), alpha=2)
    assert result.edges.empty
    assert result.equivalences[["a", "b", "negated"]].values.tolist() == [
        ["c", "d", False],
        ["c", "e", True],
        ["d", "e", True],
    ]
    assert result.constants["predicate"].tolist() == ["c", "d", "e"]


@pytest.mark.parametrize("alpha", [1.0, 0.5, float("nan")])
def test_alpha_must_exceed_one(alpha):
    counts = count_frame(implication_frame())
    with pytest.raises(ValueError, match=r"alpha must be > 1 \(the paper's default is 20"):
        mine(counts, alpha=alpha)
    with pytest.raises(ValueError, match="alpha must be > 1"):
        mine_edges(implication_frame(), alpha=alpha)


def planted_matrix(rows: int, seed: int) -> tuple[np.ndarray, list[str]]:
    """Four one-hot classes and 56 neurons: noisy copies, ANDs and ORs of 6 latents, plus independent columns."""
    rng = np.random.default_rng(seed)
    z = rng.random((rows, 6)) < 0.5
    label = z[:, 0].astype(int) + 2 * z[:, 1]
    columns = {f"class:{c}": label == c for c in range(4)}
    for j in range(56):
        first, second = rng.integers(6, size=2)
        noise = rng.random(rows) < rng.choice([0.0, 0.002, 0.01, 0.04])
        kind = j % 4
        if kind == 0:
            columns[f"n{j}"] = z[:, first] ^ noise
        elif kind == 1:
            columns[f"n{j}"] = (z[:, first] & z[:, second]) ^ noise
        elif kind == 2:
            columns[f"n{j}"] = (z[:, first] | z[:, second]) ^ noise
        else:
            columns[f"n{j}"] = rng.random(rows) < rng.choice([0.00005, 0.01, 0.2, 0.5])
    return np.column_stack(list(columns.values())), list(columns)


def reference_rule(counts, alpha: float) -> tuple[set, set]:
    """The rule of spec §3 written pair by pair (a slow, independent restatement used as the oracle)."""
    n, ones, gram = counts.n_rows, counts.ones, counts.gram
    prior = ones / n
    live = (prior >= 1e-4) & (prior <= 1 - 1e-4)
    is_class = [c.startswith("class:") for c in counts.columns]
    edges, equivalences = set(), set()
    for i, j in itertools.combinations(range(len(counts.columns)), 2):
        cell = {
            (1, 1): gram[i, j],
            (1, 0): ones[i] - gram[i, j],
            (0, 1): ones[j] - gram[i, j],
            (0, 0): n - ones[i] - ones[j] + gram[i, j],
        }
        p_i = {1: ones[i] / n, 0: (n - ones[i]) / n}
        p_j = {1: ones[j] / n, 0: (n - ones[j]) / n}
        empty = {}
        for u, v in cell:
            threshold = float(np.float32(p_i[u] * p_j[v])) / alpha * n
            empty[u, v] = threshold > 1 and cell[u, v] <= threshold
        if empty[1, 0] and empty[0, 1]:
            equivalences.add((i, j, False))
        elif empty[1, 1] and empty[0, 0]:
            equivalences.add((i, j, True))
        elif live[i] and live[j] and not (is_class[i] and is_class[j]):
            for u, v in cell:
                if empty[u, v]:
                    edges.add((i, bool(u), j, not v, "mined"))
                    edges.add((j, bool(v), i, not u, "contrapositive"))
    return edges, equivalences


@pytest.mark.parametrize("alpha", [2.0, 5.0, 20.0, 100.0])
def test_planted_random_matrix_matches_the_pairwise_rule_and_the_precision_bound(alpha):
    x, names = planted_matrix(5000, seed=7)
    counts = count_pairs([x[:1700], x[1700:3400], x[3400:]], names)
    result = mine(counts, alpha=alpha, block_rows=7)
    edges = result.edges
    assert len(edges) > 0 and len(result.equivalences) > 0
    index = {name: k for k, name in enumerate(names)}
    found = {
        (index[s], bool(sv), index[t], bool(tv), kind)
        for s, sv, t, tv, kind in edges[["source", "source_value", "target", "target_value", "kind"]].values
    }
    equivalent = {(index[a], index[b], bool(neg)) for a, b, neg in result.equivalences[["a", "b", "negated"]].values}
    assert (found, equivalent) == reference_rule(counts, alpha)
    # Precision ≥ 1 − P(¬q)/α on the mining data: c ≤ T = N·P(p)·P(¬q)/α, divided by n(p) = N·P(p). The float32
    # rounding of P(p)·P(¬q) can raise T by a relative 2**-24, hence the 1e-7 slack.
    target_prior = x[:, [index[t] for t in edges["target"]]].mean(axis=0)
    not_target = np.where(edges["target_value"], 1 - target_prior, target_prior)
    assert (edges["train_precision"] >= 1 - not_target / alpha - 1e-7).all()
    assert (edges["train_precision"] >= 1 - 1 / alpha - 1e-7).all()
    # The table's statistics, recomputed from the rows themselves.
    source_rows = x[:, [index[s] for s in edges["source"]]] == edges["source_value"].to_numpy()
    target_rows = x[:, [index[t] for t in edges["target"]]] == edges["target_value"].to_numpy()
    np.testing.assert_array_equal(edges["support"], (source_rows & target_rows).sum(axis=0))
    np.testing.assert_array_equal(edges["n_source"], source_rows.sum(axis=0))
    np.testing.assert_allclose(edges["recall"], (source_rows & target_rows).sum(axis=0) / target_rows.sum(axis=0))


def test_blocks_do_not_change_the_result():
    x, names = planted_matrix(2000, seed=8)
    counts = count_pairs([x], names)
    whole = mine(counts, alpha=20)
    for block_rows in (1, 13, 60):
        blocked = mine(counts, alpha=20, block_rows=block_rows)
        pd.testing.assert_frame_equal(blocked.edges, whole.edges)
        pd.testing.assert_frame_equal(blocked.equivalences, whole.equivalences)


def test_edges_are_sorted_by_source_then_target():
    x, names = planted_matrix(3000, seed=9)
    edges = mine(count_pairs([x], names), alpha=20).edges
    index = {name: k for k, name in enumerate(names)}
    keys = list(
        zip(
            edges["source"].map(index),
            edges["source_value"],
            edges["target"].map(index),
            edges["target_value"],
            strict=True,
        )
    )
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


def test_mine_edges_scores_edges_on_the_test_split():
    # Train: a → b and ¬b → ¬a (see the planted-implication test).
    # Test (100 rows): a on rows 0-9, b on rows 5-59.
    #   a → b: n_test(a) = 10, n_test(a∧b) = rows 5-9 = 5 → 0.5.
    #   ¬b → ¬a: n_test(¬b) = rows 0-4 and 60-99 = 45, n_test(¬b∧¬a) = rows 60-99 = 40 → 40/45.
    test = pd.DataFrame({"a": first_rows(100, 0, 10), "b": first_rows(100, 5, 60)})
    edges = mine_edges(implication_frame(), test, alpha=20)
    assert list(edges.columns) == [*EDGE_COLUMNS, "n_source_test", "test_precision"]
    assert edges["n_source_test"].dtype == np.int64 and edges["test_precision"].dtype == np.float64
    assert edges["n_source_test"].tolist() == [10, 45]
    assert edges["test_precision"].tolist() == [0.5, 40 / 45]
    # A test split where a never holds: a → b has no test precision (NaN), ¬b → ¬a still has one (all ¬a).
    never_a = pd.DataFrame({"a": np.zeros(50, dtype=bool), "b": first_rows(50, 0, 20)})
    edges = mine_edges(implication_frame(), never_a, alpha=20)
    assert edges["n_source_test"].tolist() == [0, 30]
    assert np.isnan(edges["test_precision"].iloc[0])
    assert edges["test_precision"].iloc[1] == 1.0


def test_test_counts_must_have_the_train_columns():
    train = count_frame(implication_frame())
    other = count_frame(implication_frame()[["b", "a"]])
    with pytest.raises(ValueError, match="same names, other order"):
        mine(train, alpha=20, test=other)
    with pytest.raises(ValueError, match=r"missing from test: \['b'\]"):
        mine(train, alpha=20, test=count_frame(implication_frame()[["a"]]))


def test_no_edges_still_gives_typed_tables():
    rng = np.random.default_rng(10)
    frame = pd.DataFrame(rng.random((2000, 4)) < 0.5, columns=list("abcd"))
    counts = count_frame(frame)
    result = mine(counts, alpha=20, test=counts)
    assert result.edges.empty and result.equivalences.empty
    assert (
        result.edges.dtypes.to_dict()
        == mine(count_frame(implication_frame()), 20, test=count_frame(implication_frame())).edges.dtypes.to_dict()
    )
    assert list(result.equivalences.columns) == ["a", "b", "negated", "agreement"]
    assert result.equivalences["agreement"].dtype == np.float64
    assert result.equivalences["negated"].dtype == bool


def test_alpha_sweep_rows_equal_single_mining_runs():
    x, names = planted_matrix(4000, seed=11)
    train = count_pairs([x[:3000]], names)
    test = count_pairs([x[3000:]], names)
    sweep = alpha_sweep(train, test)
    assert list(sweep.columns) == ["alpha", "edges", "equivalent_pairs", "train_accuracy", "test_accuracy"]
    assert sweep["alpha"].tolist() == [float(a) for a in PAPER_ALPHAS]
    for alpha in (2, 20, 100):
        row = sweep.loc[sweep["alpha"] == alpha].iloc[0]
        result = mine(train, alpha, test=test)
        assert row["edges"] == len(result.edges) > 0
        assert row["equivalent_pairs"] == len(result.equivalences)
        assert row["train_accuracy"] == result.edges["train_precision"].mean()
        assert row["test_accuracy"] == result.edges["test_precision"].mean()
    # At α = 100 000, T = 3000·P·P/100 000 < 1 for every cell: no edges, so no accuracy.
    last = sweep.iloc[-1]
    assert last["edges"] == 0 and np.isnan(last["train_accuracy"]) and np.isnan(last["test_accuracy"])
    # Every edge has train precision ≥ 1 − 1/α (up to float32 rounding), so their mean does too.
    kept = sweep.dropna(subset=["train_accuracy"])
    assert (kept["train_accuracy"] >= 1 - 1 / kept["alpha"] - 1e-7).all()
    no_test = alpha_sweep(train, None, alphas=[20])
    assert np.isnan(no_test["test_accuracy"].iloc[0])
    assert no_test["edges"].iloc[0] == sweep.loc[sweep["alpha"] == 20, "edges"].iloc[0]


def test_priors_are_typed_and_both_tolerance_limits_are_not_constant():
    # N = 100 000: u false on 10 rows (P = 0.9999 = 1 − 1e-4 exactly, the upper limit: not constant), w true on
    # 10 rows (P = 1e-4, the lower limit), k always true (constant). Counts are integers, priors float64.
    n_rows = 100_000
    frame = pd.DataFrame(
        {"u": ~first_rows(n_rows, 0, 10), "w": first_rows(n_rows, 0, 10), "k": first_rows(n_rows, 0, n_rows)}
    )
    result = mine(count_frame(frame), alpha=2)
    priors = result.priors
    assert priors["is_constant"].tolist() == [False, False, True]
    assert list(result.constants.columns) == ["predicate", "n", "prior"] and result.constants["n"].tolist() == [n_rows]
    assert priors["n"].dtype == np.int64 and priors["n"].tolist() == [99_990, 10, 100_000]
    assert priors["prior"].dtype == np.float64 and priors["prior"].tolist() == [0.9999, 1e-4, 1.0]


def test_an_edge_from_a_false_literal_to_a_true_one_has_its_own_counts():
    # N = 1000: a on rows 0-599, b on rows 500-999, so ¬a (rows 600-999) → b with no counterexample:
    # cell n(¬a∧¬b) = 0 ≤ T00 = 1000·0.4·0.5/20 = 10. Its support is n(¬a∧b) = 400 of n(¬a) = 400, recall 400/500;
    # the contrapositive ¬b → a has support n(¬b∧a) = 500 of n(¬b) = 500, recall 500/600.
    frame = pd.DataFrame({"a": first_rows(1000, 0, 600), "b": first_rows(1000, 500, 1000)})
    test = pd.DataFrame({"a": first_rows(10, 0, 4), "b": first_rows(10, 1, 10)})  # ¬a: rows 4-9; ¬b: row 0 only
    edges = mine_edges(frame, test, alpha=20)
    expected = expected_edges(
        [
            ("a", False, "b", True, "mined", 400, 400, 1.0, 0.8),
            ("b", False, "a", True, "contrapositive", 500, 500, 1.0, 500 / 600),
        ]
    )
    pd.testing.assert_frame_equal(edges[EDGE_COLUMNS], expected)
    assert edges["n_source_test"].tolist() == [6, 1] and edges["test_precision"].tolist() == [1.0, 1.0]


def test_mine_edges_without_a_test_split_and_with_explicit_class_columns():
    label = np.repeat(np.arange(3), 300)
    frame = pd.DataFrame({f"class:{c}": label == c for c in range(3)})
    assert mine_edges(frame, alpha=20).empty  # class pairs give no edge
    edges = mine_edges(frame, alpha=20, class_columns=[])  # the same columns as neurons: 3 pairs × 2 edges
    assert len(edges) == 6 and list(edges.columns) == EDGE_COLUMNS


def test_no_predicates_give_empty_typed_tables():
    from ndg_pipeline.ndg.counting import PairCounts

    counts = PairCounts((), 10, np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.int64))
    result = mine(counts, alpha=20, test=counts)
    assert result.edges.empty and result.equivalences.empty and result.priors.empty
    assert result.priors["is_class"].dtype == bool
    assert mine(counts, 20, class_columns=[]).priors["is_class"].dtype == bool
    assert result.edges.dtypes.to_dict() == mine(count_frame(implication_frame()), 20, test=count_frame(
        implication_frame())).edges.dtypes.to_dict()  # fmt: skip


def test_alpha_sweep_passes_class_columns_and_types_an_empty_sweep():
    label = np.repeat(np.arange(3), 300)
    counts = count_frame(pd.DataFrame({f"class:{c}": label == c for c in range(3)}))
    assert alpha_sweep(counts, counts, alphas=[20])["edges"].tolist() == [0]
    assert alpha_sweep(counts, counts, alphas=[20], class_columns=[])["edges"].tolist() == [6]
    empty = alpha_sweep(counts, counts, alphas=[])
    assert empty.empty
    assert empty.dtypes[["alpha", "edges", "equivalent_pairs"]].tolist() == [np.float64, np.int64, np.int64]


def test_errors_say_what_is_wrong_and_what_to_pass():
    counts = count_frame(implication_frame())
    with pytest.raises(ValueError) as error:
        mine(counts, alpha=1.0)
    assert str(error.value) == (
        "alpha must be > 1 (the paper's default is 20, per dataset 3 to 100); got 1.0. "
        "An edge p → q needs at most N·P(p)·P(¬q)/α counterexamples, so α ≤ 1 accepts independent pairs."
    )
    with pytest.raises(ValueError) as error:
        mine(counts, alpha=20, test=count_frame(implication_frame()[["a"]]))
    assert str(error.value) == (
        "test counts must have the same columns, in the same order, as the train counts; "
        "missing from test: ['b'], only in test: []."
    )
    with pytest.raises(ValueError) as error:
        mine(counts, alpha=20, test=count_frame(implication_frame()[["b", "a"]]))
    assert str(error.value).endswith("missing from test: [], only in test: [] (same names, other order).")
    wide, other = [f"w{i:02d}" for i in range(11)], [f"o{i:02d}" for i in range(11)]
    x = np.ones((2, 11), dtype=bool)
    with pytest.raises(ValueError) as error:
        mine(count_pairs([x], wide), alpha=20, test=count_pairs([x], other))
    assert str(error.value).endswith(f"missing from test: {wide[:10]}, only in test: {other[:10]}.")
    with pytest.raises(ValueError) as error:
        mine(counts, alpha=20, class_columns=[f"x{i}" for i in range(12)])
    assert str(error.value) == (
        "class columns ['x0', 'x1', 'x10', 'x11', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7'] "
        "are not among the counted columns."
    )
