"""The NDG edge rule (spec §3) on pair counts: edges, equivalences, constants, test scores, the α sweep."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd
import torch

from ndg_pipeline.names import is_class
from ndg_pipeline.ndg.counting import PairCounts, count_frame

PAPER_ALPHAS: tuple[float, ...] = (1.01, 2, 3, 4, 5, 10, 20, 30, 50, 80, 100, 200, 500, 1000, 5000, 100000)
CONSTANT_TOLERANCE = 1e-4
BLOCK_PAIRS = 2**17

EDGE_DTYPES = {
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
TEST_DTYPES = {"n_source_test": np.int64, "test_precision": np.float64}
EQUIVALENCE_DTYPES = {"a": "str", "b": "str", "negated": bool, "agreement": np.float64}
SWEEP_COLUMNS = ["alpha", "edges", "equivalent_pairs", "train_accuracy", "test_accuracy"]


@dataclass(frozen=True, eq=False)
class MiningResult:
    """What one mining run yields: directed edges, equivalent pairs, constant predicates and all priors."""

    edges: pd.DataFrame
    equivalences: pd.DataFrame
    constants: pd.DataFrame
    priors: pd.DataFrame
    alpha: float


@dataclass(frozen=True)
class _Literals:
    """Parallel arrays of directed edges: source index/value → target index/value, mined or contrapositive."""

    source: np.ndarray
    source_value: np.ndarray
    target: np.ndarray
    target_value: np.ndarray
    mined: np.ndarray


def _check_alpha(alpha: float) -> None:
    """Refuse α ≤ 1 (or NaN): the rule compares counterexamples with the independence count divided by α."""
    if not alpha > 1:
        raise ValueError(
            f"alpha must be > 1 (the paper's default is 20, per dataset 3 to 100); got {alpha}. "
            "An edge p → q needs at most N·P(p)·P(¬q)/α counterexamples, so α ≤ 1 accepts independent pairs."
        )


def _check_test(train: PairCounts, test: PairCounts | None) -> None:
    """Refuse test counts over other columns than the train counts (edges are evaluated by column index)."""
    if test is not None and test.columns != train.columns:
        missing = [c for c in train.columns if c not in set(test.columns)]
        extra = [c for c in test.columns if c not in set(train.columns)]
        raise ValueError(
            "test counts must have the same columns, in the same order, as the train counts; "
            f"missing from test: {missing[:10]}, only in test: {extra[:10]}"
            + (" (same names, other order)." if not missing and not extra else ".")
        )


def class_mask(columns: Sequence[str], class_columns: Sequence[str] | None) -> np.ndarray:
    """Mark class predicates: the given names, or every column starting with ``class:`` when None."""
    if class_columns is None:
        return np.array([is_class(c) for c in columns], dtype=bool)
    unknown = sorted(set(class_columns) - set(columns))
    if unknown:
        raise ValueError(f"class columns {unknown[:10]} are not among the counted columns.")
    wanted = set(class_columns)
    return np.array([c in wanted for c in columns], dtype=bool)


def priors_table(counts: PairCounts, is_class: np.ndarray) -> pd.DataFrame:
    """Count, prior and class/constant flags of every predicate, in column order."""
    prior = counts.ones / counts.n_rows
    return pd.DataFrame(
        {
            "predicate": pd.Series(counts.columns, dtype="str"),
            "n": counts.ones.astype(np.int64),
            "prior": prior.astype(np.float64),
            "is_class": is_class,
            "is_constant": (prior < CONSTANT_TOLERANCE) | (prior > 1 - CONSTANT_TOLERANCE),
        }
    )


def threshold(p_rows: np.ndarray, p_cols: np.ndarray, n_rows: int, alpha: float) -> np.ndarray:
    """T = (fl32(P_u·P_v) / α) · N, in the reference's order: the float64 product rounded to float32, divided by α
    in float64, then multiplied by N (the order decides at the boundary when T is a whole number)."""
    bound = np.multiply.outer(p_rows, p_cols).astype(np.float32).astype(np.float64)
    bound /= alpha
    bound *= float(n_rows)
    return bound


def _cell_bound(p_rows: np.ndarray, p_cols: np.ndarray, n_rows: int, alpha: float) -> np.ndarray:
    """floor(T) where T > 1, else −1: count ≤ bound ⇔ (count ≤ T and T > 1)."""
    bound = threshold(p_rows, p_cols, n_rows, alpha)
    too_small = bound <= 1
    np.floor(bound, out=bound)
    bound[too_small] = -1.0
    return bound


def _empty_cells(counts: PairCounts, alpha: float, rows: slice) -> dict[tuple[int, int], np.ndarray]:
    """Masks of the "empty enough" cells (u, v) for predicates i in ``rows`` and j ≥ rows.start.

    Each cell count is an integer, so ``n_uv ≤ T`` equals ``n_uv ≤ floor(T)``; the cell formulas of spec §2
    are then rearranged into exact float64 integer bounds on G itself (all values are integers below 2**53).
    """
    n = counts.n_rows
    start = rows.start
    g = counts.gram[rows, start:].astype(np.float64)
    n_i = counts.ones[rows, None].astype(np.float64)
    n_j = counts.ones[None, start:].astype(np.float64)
    p1_i, p1_j = n_i[:, 0] / n, n_j[0] / n
    p0_i, p0_j = (n - n_i[:, 0]) / n, (n - n_j[0]) / n
    cells = {(1, 1): g <= _cell_bound(p1_i, p1_j, n, alpha)}
    bound = _cell_bound(p1_i, p0_j, n, alpha)
    cells[1, 0] = g >= np.subtract(n_i, bound, out=bound)
    bound = _cell_bound(p0_i, p1_j, n, alpha)
    cells[0, 1] = g >= np.subtract(n_j, bound, out=bound)
    bound = _cell_bound(p0_i, p0_j, n, alpha)
    bound += n_i
    bound += n_j
    bound -= n
    cells[0, 0] = g <= bound
    return cells


def _row_blocks(width: int, block_rows: int | None) -> Iterator[slice]:
    """Row slices of the pair grid of about BLOCK_PAIRS pairs, whose temporaries (~1 MB each) stay in cache."""
    rows = block_rows or max(1, BLOCK_PAIRS // max(width, 1))
    for start in range(0, width, rows):
        yield slice(start, min(start + rows, width))


def _upper_pairs(mask: np.ndarray, start: int, live: np.ndarray, is_class: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Global (i, j) of a block mask's true entries with i < j, both live and not both class predicates."""
    local_i, local_j = np.nonzero(mask)
    i, j = local_i + start, local_j + start
    chosen = (i < j) & live[i] & live[j] & ~(is_class[i] & is_class[j])
    return i[chosen], j[chosen]


def _scan_block(
    counts: PairCounts, alpha: float, live: np.ndarray, is_class: np.ndarray, rows: slice
) -> tuple[list[tuple[np.ndarray, ...]], list[tuple[np.ndarray, ...]]]:
    """Apply the edge rule to the pairs i < j with i in ``rows``: their edges and equivalences."""
    cells = _empty_cells(counts, alpha, rows)
    same = cells[1, 0] & cells[0, 1]
    opposite = cells[1, 1] & cells[0, 0]
    equivalences = []
    everyone, no_class = np.ones_like(live), np.zeros_like(is_class)
    for mask, negated in ((same, False), (opposite, True)):
        i, j = _upper_pairs(mask, rows.start, everyone, no_class)  # all pairs, constants and classes included
        equivalences.append((i, j, np.full(i.size, negated)))
    free = ~(same | opposite)
    edges = []
    for (u, v), mask in cells.items():
        i, j = _upper_pairs(np.logical_and(mask, free, out=mask), rows.start, live, is_class)
        edges.append((i, np.full(i.size, bool(u)), j, np.full(i.size, not v), np.full(i.size, True)))
        edges.append((j, np.full(i.size, bool(v)), i, np.full(i.size, not u), np.full(i.size, False)))
    return edges, equivalences


def _scan_pairs(
    counts: PairCounts, alpha: float, is_class: np.ndarray, is_constant: np.ndarray, block_rows: int | None
) -> tuple[_Literals, tuple[np.ndarray, ...]]:
    """Scan all pairs block by block, on torch's number of CPU threads (numpy releases the GIL in its loops)."""
    blocks = _row_blocks(len(counts.columns), block_rows)
    with ThreadPoolExecutor(max_workers=torch.get_num_threads()) as pool:
        results = list(pool.map(partial(_scan_block, counts, alpha, ~is_constant, is_class), blocks))
    edges = [part for block_edges, _ in results for part in block_edges]
    equivalences = [part for _, block_equivalences in results for part in block_equivalences]
    return _Literals(*_stack(edges, 5)), _stack(equivalences, 3)


def _stack(parts: list[tuple[np.ndarray, ...]], fields: int) -> tuple[np.ndarray, ...]:
    """Concatenate per-block tuples of arrays field by field (empty int/bool arrays when there are none)."""
    if not parts:
        return tuple(np.zeros(0, dtype=np.int64) for _ in range(fields))
    return tuple(np.concatenate([part[k] for part in parts]) for k in range(fields))


def literal_counts(counts: PairCounts, index: np.ndarray, value: np.ndarray) -> np.ndarray:
    """n(i = value) for arrays of predicate indices and values."""
    n = counts.ones[index].astype(np.int64)
    return np.where(value, n, counts.n_rows - n)


def joint_counts(
    counts: PairCounts, a: np.ndarray, a_value: np.ndarray, b: np.ndarray, b_value: np.ndarray
) -> np.ndarray:
    """n(a = a_value ∧ b = b_value) from N, n and G by the four-cell formulas of spec §2."""
    g = counts.gram[a, b].astype(np.int64)
    n_a = counts.ones[a].astype(np.int64)
    n_b = counts.ones[b].astype(np.int64)
    return np.select(
        [a_value & b_value, a_value & ~b_value, ~a_value & b_value],
        [g, n_a - g, n_b - g],
        counts.n_rows - n_a - n_b + g,
    )


def _edge_table(train: PairCounts, test: PairCounts | None, edges: _Literals) -> pd.DataFrame:
    """One row per directed edge with train support, precision and recall (and test precision when given)."""
    order = np.lexsort((edges.target_value, edges.target, edges.source_value, edges.source))
    src, s_val = edges.source[order], edges.source_value[order].astype(bool)
    tgt, t_val = edges.target[order], edges.target_value[order].astype(bool)
    names = np.asarray(train.columns, dtype=object)
    support = joint_counts(train, src, s_val, tgt, t_val)
    n_source = literal_counts(train, src, s_val)
    table = {
        "source": names[src],
        "source_value": s_val,
        "target": names[tgt],
        "target_value": t_val,
        "kind": np.where(edges.mined[order].astype(bool), "mined", "contrapositive"),
        "support": support,
        "n_source": n_source,
        "train_precision": support / n_source,
        "recall": support / literal_counts(train, tgt, t_val),
    }
    dtypes = dict(EDGE_DTYPES)
    if test is not None:
        n_test = literal_counts(test, src, s_val)
        hits = joint_counts(test, src, s_val, tgt, t_val)
        table["n_source_test"] = n_test
        table["test_precision"] = np.divide(
            hits, n_test, out=np.full(n_test.size, np.nan), where=n_test > 0, dtype=np.float64
        )
        dtypes |= TEST_DTYPES
    return pd.DataFrame(table).astype(dtypes)


def _equivalence_table(train: PairCounts, pairs: tuple[np.ndarray, ...]) -> pd.DataFrame:
    """One row per equivalent pair a < b (a ≡ b, or a ≡ ¬b when negated) with its train agreement."""
    a, b, negated = pairs
    order = np.lexsort((negated, b, a))
    a, b, negated = a[order], b[order], negated[order].astype(bool)
    g = train.gram[a, b].astype(np.int64)
    n_a = train.ones[a].astype(np.int64)
    n_b = train.ones[b].astype(np.int64)
    disagree = n_a + n_b - 2 * g
    agree = np.where(negated, disagree, train.n_rows - disagree)
    names = np.asarray(train.columns, dtype=object)
    table = {"a": names[a], "b": names[b], "negated": negated, "agreement": agree / train.n_rows}
    return pd.DataFrame(table).astype(EQUIVALENCE_DTYPES)


def mine(
    train: PairCounts,
    alpha: float,
    class_columns: Sequence[str] | None = None,
    test: PairCounts | None = None,
    block_rows: int | None = None,
) -> MiningResult:
    """Mine the dependency graph from train counts by the NDG rule (spec §3), optionally scored on test.

    For a pair i < j and values u, v the cell n_uv = n(i=u ∧ j=v) is empty enough iff n_uv ≤ T and T > 1,
    with T = (fl32(P(i=u) · P(j=v)) / α) · N: the priors P(i=1) = n_i/N and P(i=0) = (N − n_i)/N are float64,
    their product is rounded to float32 (as the reference does), and that rounded value is divided by α and
    then multiplied by N in float64. An empty cell gives the mined edge (i=u) → (j=1−v) and its contrapositive
    (j=v) → (i=1−u). Constants (prior < 1e-4 or > 1 − 1e-4) take part in no edge; class–class pairs give no
    edge; i ≡ j (cells 10 and 01 empty) or i ≡ ¬j (cells 11 and 00 empty) is an equivalence, not an edge, tested
    over all pairs (constants and class pairs included).
    The pair grid is processed in blocks of ``block_rows`` rows (default: about 2**17 pairs, a few MB).
    """
    _check_alpha(alpha)
    _check_test(train, test)
    is_class = class_mask(train.columns, class_columns)
    priors = priors_table(train, is_class)
    is_constant = priors["is_constant"].to_numpy()
    edges, equivalences = _scan_pairs(train, alpha, is_class, is_constant, block_rows)
    return MiningResult(
        edges=_edge_table(train, test, edges),
        equivalences=_equivalence_table(train, equivalences),
        constants=priors.loc[is_constant, ["predicate", "n", "prior"]].reset_index(drop=True),
        priors=priors,
        alpha=float(alpha),
    )


def mine_edges(
    train: pd.DataFrame,
    test: pd.DataFrame | None = None,
    *,
    alpha: float,
    class_columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Mine the edges of boolean DataFrames (columns = predicates) in one call: count, then ``mine``.

    ``alpha`` has no default: the paper used 3…100 per dataset, and the pipeline's default lives in the schema."""
    _check_alpha(alpha)
    test_counts = None if test is None else count_frame(test)
    return mine(count_frame(train), alpha, class_columns, test_counts).edges


def edge_accuracy(edges: pd.DataFrame) -> dict[str, float]:
    """Spec §4's row: the number of edges and their unweighted mean train and test accuracy (NaN without edges;
    test precision NaN where the source never holds on test is left out of the mean)."""
    test = edges["test_precision"] if "test_precision" in edges else pd.Series(dtype=np.float64)
    return {
        "edges": len(edges),
        "train_accuracy": edges["train_precision"].mean() if len(edges) else np.nan,
        "test_accuracy": test.mean() if len(test) else np.nan,
    }


def alpha_sweep(
    train: PairCounts,
    test: PairCounts | None,
    alphas: Sequence[float] = PAPER_ALPHAS,
    class_columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Edges, equivalent pairs and mean train/test accuracy over edges for each α, from the same counts."""
    rows = []
    for alpha in alphas:
        result = mine(train, alpha, class_columns, test)
        rows.append(
            {"alpha": float(alpha), "equivalent_pairs": len(result.equivalences), **edge_accuracy(result.edges)}
        )
    return pd.DataFrame(rows, columns=SWEEP_COLUMNS).astype(
        {"alpha": np.float64, "edges": np.int64, "equivalent_pairs": np.int64}
    )
