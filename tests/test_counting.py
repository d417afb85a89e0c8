"""Pair counts: exact against numpy, additive over shards and chunks, streamed from parquet, with clear errors."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from ndg_pipeline.ndg import PairCounts, count_frame, count_pairs, count_parquet, counting
from ndg_pipeline.ndg.counting import MAX_EXACT_ROWS


def random_matrix(rows: int, cols: int, seed: int = 0) -> np.ndarray:
    """A boolean matrix whose columns have different densities (5 % to 95 %)."""
    rng = np.random.default_rng(seed)
    return rng.random((rows, cols)) < np.linspace(0.05, 0.95, cols)


def names(cols: int) -> list[str]:
    """Predicate names p0, p1, ..."""
    return [f"p{j}" for j in range(cols)]


def test_counts_equal_numpy_gram():
    x = random_matrix(300, 17)
    counts = count_pairs([x], names(17))
    expected = x.astype(np.int64)
    assert counts.columns == tuple(names(17))
    assert counts.n_rows == 300
    assert counts.ones.dtype == np.int64 and counts.gram.dtype == np.int64
    np.testing.assert_array_equal(counts.ones, expected.sum(axis=0))
    np.testing.assert_array_equal(counts.gram, expected.T @ expected)


def test_counts_over_more_columns_than_one_gram_block():
    # 1100 columns span three column blocks of 512: the upper blocks and their mirror must cover every pair.
    x = random_matrix(40, 1100, seed=1)
    counts = count_pairs([x[:25], x[25:]], names(1100))
    expected = x.astype(np.int64)
    np.testing.assert_array_equal(counts.gram, expected.T @ expected)


def test_three_shards_add_up_to_one():
    x = random_matrix(301, 9, seed=2)
    whole = count_pairs([x], names(9))
    # Uneven shards in three input types: bool numpy, 0/1 uint8 numpy and a float32 torch tensor.
    shards = [x[:100], x[100:117].astype(np.uint8), torch.from_numpy(x[117:].astype(np.float32))]
    assert count_pairs(shards, names(9)) == whole
    separate = [count_pairs([shard], names(9)) for shard in shards]
    total = separate[0] + separate[1] + separate[2]
    assert total == whole
    assert total.n_rows == 301


def test_adding_counts_over_other_columns_names_them():
    x = random_matrix(10, 3)
    left = count_pairs([x], ["a", "b", "c"])
    with pytest.raises(ValueError, match=r"only in the left: \['c'\], only in the right: \['d'\]"):
        left + count_pairs([x], ["a", "b", "d"])
    with pytest.raises(ValueError, match="other order"):
        left + count_pairs([x], ["b", "a", "c"])


def test_count_frame_streams_chunks_exactly():
    x = random_matrix(103, 6, seed=3)
    frame = pd.DataFrame(x, columns=names(6))
    assert count_frame(frame, chunk_rows=7) == count_pairs([x], names(6))


def test_count_frame_accepts_nullable_boolean_without_missing_values():
    frame = pd.DataFrame({"a": [True, False, True], "b": [True, True, False]}).astype("boolean")
    counts = count_frame(frame)
    np.testing.assert_array_equal(counts.gram, [[2, 1], [1, 2]])


def test_rows_beyond_the_float32_limit_stay_exact():
    # 2**24 + 3 is not a float32 number, so a single float32 accumulation could not hold this count.
    rows = MAX_EXACT_ROWS + 3
    assert float(np.float32(rows)) != rows
    x = np.zeros((rows, 2), dtype=bool)
    x[:, 0] = True
    x[1::2, 1] = True
    expected_ones = np.array([rows, rows // 2])
    expected_gram = np.array([[rows, rows // 2], [rows // 2, rows // 2]])
    # One chunk larger than the limit (split inside count_pairs) ...
    one_chunk = count_pairs([x], ["all", "odd"])
    np.testing.assert_array_equal(one_chunk.ones, expected_ones)
    np.testing.assert_array_equal(one_chunk.gram, expected_gram)
    # ... and chunks that add up past the limit (the accumulator is flushed between them).
    # The second chunk alone fits, together they pass it by 3 rows: the rule must compare rows, not columns.
    half = MAX_EXACT_ROWS // 2
    chunks = [x[: half + 1], x[half + 1 :]]
    assert count_pairs(chunks, ["all", "odd"]) == one_chunk


def test_count_parquet_equals_count_frame(tmp_path):
    x = random_matrix(250, 8, seed=4)
    frame = pd.DataFrame(x, columns=["class:0", *names(7)])
    path = tmp_path / "predicates.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=60)
    assert count_parquet(path, chunk_rows=32) == count_frame(frame)
    subset = ["p3", "class:0", "p1"]
    assert count_parquet(path, columns=subset, chunk_rows=100) == count_frame(frame[subset])


def test_count_parquet_refuses_non_boolean_columns(tmp_path):
    path = tmp_path / "mixed.parquet"
    pq.write_table(pa.table({"a": [True, False], "score": [0.5, 1.5], "b": [True, True]}), path)
    with pytest.raises(ValueError, match=r"not: \['score'\]"):
        count_parquet(path)
    assert count_parquet(path, columns=["a", "b"]).n_rows == 2


def test_count_parquet_refuses_missing_values(tmp_path):
    path = tmp_path / "nulls.parquet"
    pq.write_table(pa.table({"a": pa.array([True, None, False], type=pa.bool_())}), path)
    with pytest.raises(ValueError, match="'a' has missing values"):
        count_parquet(path)


def test_empty_split_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="the split is empty"):
        count_frame(pd.DataFrame({"a": pd.Series([], dtype=bool)}))
    with pytest.raises(ValueError, match="the split is empty"):
        count_pairs([], ["a", "b"])
    path = tmp_path / "empty.parquet"
    pq.write_table(pa.table({"a": pa.array([], type=pa.bool_())}), path)
    with pytest.raises(ValueError, match="the split is empty"):
        count_parquet(path)


def test_non_boolean_columns_are_named():
    frame = pd.DataFrame({"ok": [True, False], "level": [1, 0], "score": [0.1, 0.9]})
    with pytest.raises(ValueError, match=r"\['level', 'score'\]"):
        count_frame(frame)
    with pytest.raises(ValueError, match="values other than 0 and 1"):
        count_pairs([np.array([[0, 2], [1, 1]])], ["a", "b"])


def test_duplicate_column_names_are_refused():
    frame = pd.DataFrame([[True, False, True]], columns=["a", "b", "a"])
    with pytest.raises(ValueError, match=r"duplicate predicate column names: \['a'\]"):
        count_frame(frame)


def test_chunk_of_wrong_width_is_refused():
    with pytest.raises(ValueError, match=r"shape \(rows, 3\)"):
        count_pairs([np.ones((4, 2), dtype=bool)], ["a", "b", "c"])


def test_pair_counts_check_their_shapes():
    with pytest.raises(ValueError, match="gram of shape"):
        PairCounts(("a", "b"), 3, np.array([1, 2]), np.zeros((3, 3), dtype=np.int64))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_counts_equal_cpu_counts():
    x = random_matrix(5000, 700, seed=5)
    chunks = [x[:2000], x[2000:]]
    assert count_pairs(chunks, names(700), device="cuda") == count_pairs(chunks, names(700), device="cpu")


def test_pair_counts_differing_in_one_field_are_unequal():
    ones, gram = np.array([2, 1]), np.array([[2, 1], [1, 1]])
    base = PairCounts(("a", "b"), 3, ones, gram)
    assert base == PairCounts(("a", "b"), 3, ones.copy(), gram.copy())
    assert base != PairCounts(("b", "a"), 3, ones, gram)
    assert base != PairCounts(("a", "b"), 4, ones, gram)
    assert base != PairCounts(("a", "b"), 3, np.array([2, 2]), gram)
    assert base != PairCounts(("a", "b"), 3, ones, np.array([[2, 0], [0, 1]]))
    assert base != "counts"


def test_adding_counts_names_one_sided_extras_the_first_ten_and_the_first_moved_column():
    x = random_matrix(5, 14)
    left = count_pairs([x[:, :2]], ["a", "b"])
    with pytest.raises(ValueError, match=r"only in the left: \[\], only in the right: \['c'\]\.$"):
        left + count_pairs([x[:, :3]], ["a", "b", "c"])
    twelve = [f"l{j}" for j in range(12)]
    others = [f"r{j}" for j in range(12)]
    expected = f"only in the left: {twelve[:10]}, only in the right: {others[:10]}."
    with pytest.raises(ValueError, match=re.escape(expected) + "$"):
        count_pairs([x[:, :12]], twelve) + count_pairs([x[:, :12]], others)
    with pytest.raises(ValueError, match=r"position 1: 'b' vs 'c'\)\.$"):
        count_pairs([x[:, :3]], ["a", "b", "c"]) + count_pairs([x[:, :3]], ["a", "c", "b"])


def test_flushes_over_more_than_one_column_block_stay_exact(monkeypatch):
    # With the exactness limit lowered to 64 rows, 300 rows over 1100 columns flush the accumulator into the int64
    # total several times, and every flush adds all three row blocks of 512: the result must still be XᵀX.
    monkeypatch.setattr(counting, "MAX_EXACT_ROWS", 64)
    x = random_matrix(300, 1100, seed=6)
    counts = count_pairs([x[:100], x[100:]], names(1100))
    expected = x.astype(np.int64)
    np.testing.assert_array_equal(counts.gram, expected.T @ expected)
    assert counts.n_rows == 300


def test_missing_values_in_a_nullable_boolean_column_are_refused():
    frame = pd.DataFrame({"a": [True, False], "b": pd.array([True, None], dtype="boolean")})
    with pytest.raises(ValueError, match=r"without missing values; these are not: \['b'\]\. Binarize"):
        count_frame(frame)


def test_errors_list_the_first_ten_bad_columns_and_count_the_rest(tmp_path):
    bad = [f"s{j}" for j in range(11)]
    frame = pd.DataFrame({"ok": [True, False], **{name: [0.5, 1.5] for name in bad}})
    tail = f"{bad[:10]} and 1 more"
    with pytest.raises(ValueError, match=re.escape(f"{tail}. Binarize them (e.g. activation > 0) before counting.")):
        count_frame(frame)
    with pytest.raises(ValueError, match=r"\['level'\]\. Binarize them"):
        count_frame(pd.DataFrame({"ok": [True], "level": [1]}))
    path = tmp_path / "scores.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    with pytest.raises(ValueError, match=re.escape(f"{path} are not: {tail}.") + "$"):
        count_parquet(path)
    with pytest.raises(ValueError, match=re.escape(f"{path} are not: ['s0'].") + "$"):
        count_parquet(path, columns=["ok", "s0"])
    with pytest.raises(ValueError, match=re.escape(f"{path} are not: {bad[:10]}.") + "$"):
        count_parquet(path, columns=bad[:10])
    with pytest.raises(ValueError, match=re.escape(f"not: {bad[:10]}. Binarize")):
        count_frame(frame[bad[:10]])
    twelve = list("abcdefghijkl")  # sorted, as the message lists them
    with pytest.raises(ValueError, match=re.escape(f"duplicate predicate column names: {twelve[:10]};")):
        count_pairs([np.ones((1, 24), dtype=bool)], twelve + twelve)
    absent = [f"z{j}" for j in range(12)]
    with pytest.raises(ValueError, match=re.escape(f"columns {absent[:10]} are not in {path}.")):
        count_parquet(path, columns=["ok", *absent])


def test_read_only_arrays_are_counted_without_a_warning():
    x = random_matrix(20, 4, seed=7)
    x.setflags(write=False)  # as pandas hands out under copy-on-write
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        counts = count_pairs([x], names(4))
    np.testing.assert_array_equal(counts.gram, x.astype(np.int64).T @ x.astype(np.int64))
