"""Sufficient statistics of a boolean predicate matrix: row count, column sums and the Gram matrix XᵀX.

Everything the edge rule needs is (N, n, G), so counts of shards add up exactly and the rows never have to
be in memory at once. G is computed by float32 matrix multiplication, which is exact while every partial sum
stays at or below 2**24; the float32 accumulator is flushed into an int64 total before it could pass that.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import torch

from ndg_pipeline.device import resolve_device

MAX_EXACT_ROWS = 2**24
COLUMN_BLOCK = 512
EMPTY_SPLIT = (
    "the split is empty: no rows were counted, so no prior or edge can be estimated; "
    "check that the recording produced inputs for this split."
)


@dataclass(frozen=True, eq=False)
class PairCounts:
    """Row count N, column sums n and Gram matrix G = XᵀX of a 0/1 matrix X over named predicate columns."""

    columns: tuple[str, ...]
    n_rows: int
    ones: np.ndarray
    gram: np.ndarray
    lineage: dict[str, str] = field(default_factory=dict)  # the model and data behind the counts

    def __post_init__(self) -> None:
        """Reject arrays that do not match the columns, so that errors surface where counts are built."""
        m = len(self.columns)
        if self.ones.shape != (m,) or self.gram.shape != (m, m):
            raise ValueError(
                f"PairCounts over {m} columns needs ones of shape ({m},) and gram of shape ({m}, {m}); "
                f"got {self.ones.shape} and {self.gram.shape}."
            )

    def __add__(self, other: PairCounts) -> PairCounts:
        """Add the counts of two shards over the same columns (exact: all are integer sums over rows)."""
        if self.columns != other.columns:
            raise ValueError(f"cannot add PairCounts over different columns: {_column_mismatch(self, other)}")
        return PairCounts(self.columns, self.n_rows + other.n_rows, self.ones + other.ones, self.gram + other.gram)

    def __eq__(self, other: object) -> bool:
        """Compare counts exactly, field by field (the arrays by value)."""
        if not isinstance(other, PairCounts):
            return NotImplemented
        return (
            self.columns == other.columns
            and self.n_rows == other.n_rows
            and np.array_equal(self.ones, other.ones)
            and np.array_equal(self.gram, other.gram)
        )


def _column_mismatch(left: PairCounts, right: PairCounts) -> str:
    """Describe how two column tuples differ, for the error message of a failed addition."""
    only_left = [c for c in left.columns if c not in set(right.columns)]
    only_right = [c for c in right.columns if c not in set(left.columns)]
    if only_left or only_right:
        return f"only in the left: {only_left[:10]}, only in the right: {only_right[:10]}."
    first = next(i for i, (a, b) in enumerate(zip(left.columns, right.columns, strict=True)) if a != b)
    return f"same names, other order (position {first}: {left.columns[first]!r} vs {right.columns[first]!r})."


def check_columns(columns: Sequence[str]) -> tuple[str, ...]:
    """Return the column names as a tuple, refusing duplicates (a predicate must be one column)."""
    names = tuple(str(c) for c in columns)
    duplicated = sorted(name for name, count in Counter(names).items() if count > 1)
    if duplicated:
        raise ValueError(f"duplicate predicate column names: {duplicated[:10]}; every column needs its own name.")
    return names


def _exact_pieces(chunk: np.ndarray | torch.Tensor) -> Iterator[np.ndarray | torch.Tensor]:
    """Split a chunk into pieces of at most 2**24 rows, the float32 exactness limit of one product."""
    for start in range(0, chunk.shape[0], MAX_EXACT_ROWS):
        yield chunk[start : start + MAX_EXACT_ROWS]


def _float_rows(chunk: np.ndarray | torch.Tensor, width: int, device: torch.device) -> torch.Tensor:
    """Return a (rows, width) 0/1 chunk as float32 on ``device`` (bool moves to the device before casting)."""
    if isinstance(chunk, np.ndarray) and any(stride < 0 for stride in chunk.strides):
        chunk = chunk.copy()  # torch cannot view negative strides (e.g. reordered DataFrame columns)
    with warnings.catch_warnings():  # read-only arrays (pandas copy-on-write) are only read here
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        x = torch.as_tensor(chunk)
    if x.dim() != 2 or x.shape[1] != width:
        raise ValueError(f"a chunk must have shape (rows, {width}) for {width} columns; got {tuple(x.shape)}.")
    x = x.to(device)
    if x.dtype != torch.bool and bool(((x != 0) & (x != 1)).any()):
        raise ValueError(f"a chunk of dtype {x.dtype} holds values other than 0 and 1; predicates must be boolean.")
    return x.to(torch.float32)


def _add_upper_gram(acc: torch.Tensor, x: torch.Tensor) -> None:
    """Add the upper block triangle of xᵀx into ``acc`` in place: about half the flops of the full product."""
    width = x.shape[1]
    for start in range(0, width, COLUMN_BLOCK):
        stop = min(start + COLUMN_BLOCK, width)
        acc[start:stop, start:].addmm_(x[:, start:stop].T, x[:, start:])


def _flush(total: torch.Tensor | None, acc: torch.Tensor) -> torch.Tensor:
    """Add the float32 accumulator into the int64 host total (row block by row block once a total exists)."""
    if total is None:
        return acc.to(device="cpu", dtype=torch.int64)
    for start in range(0, acc.shape[0], COLUMN_BLOCK):
        rows = slice(start, start + COLUMN_BLOCK)
        total[rows].add_(acc[rows].to(device="cpu", dtype=torch.int64))
    return total


def _mirror_upper(gram: np.ndarray) -> np.ndarray:
    """Copy the upper block triangle into the (zero) lower blocks in place, one column block at a time."""
    width = gram.shape[0]
    for start in range(0, width, COLUMN_BLOCK):
        stop = min(start + COLUMN_BLOCK, width)
        gram[stop:, start:stop] = gram[start:stop, stop:].T
    return gram


def count_pairs(
    chunks: Iterable[np.ndarray | torch.Tensor], columns: Sequence[str], device: str | None = None
) -> PairCounts:
    """Count N, n and G = XᵀX over streamed 0/1 row chunks of shape (rows, M), one chunk in memory at a time.

    Each chunk becomes float32 on ``resolve_device(device)`` and the upper block triangle of its XᵀX is added
    into a float32 accumulator (exact up to 2**24 rows), flushed into an int64 total before it could overflow.
    """
    names = check_columns(columns)
    width = len(names)
    target = resolve_device(device)
    acc = torch.zeros((width, width), dtype=torch.float32, device=target)
    total = None
    n_rows = pending = 0
    for chunk in chunks:
        for piece in _exact_pieces(chunk):
            if pending + piece.shape[0] > MAX_EXACT_ROWS:
                total = _flush(total, acc)
                acc.zero_()
                pending = 0
            _add_upper_gram(acc, _float_rows(piece, width, target))
            pending += piece.shape[0]
            n_rows += piece.shape[0]
    if n_rows == 0:
        raise ValueError(EMPTY_SPLIT)
    gram = _mirror_upper(_flush(total, acc).numpy())
    return PairCounts(names, n_rows, gram.diagonal().copy(), gram)


def _check_boolean_frame(frame: pd.DataFrame) -> None:
    """Refuse columns that are not boolean (or boolean with missing values), naming them."""
    bad = [
        str(name)
        for name, column in frame.items()
        if not pd.api.types.is_bool_dtype(column.dtype) or (column.dtype != bool and column.hasnans)
    ]
    if bad:
        raise ValueError(
            f"predicate columns must be boolean without missing values; these are not: {bad[:10]}"
            + (f" and {len(bad) - 10} more" if len(bad) > 10 else "")
            + ". Binarize them (e.g. activation > 0) before counting."
        )


def count_frame(frame: pd.DataFrame, chunk_rows: int = 65536, device: str | None = None) -> PairCounts:
    """Count a boolean DataFrame (columns = predicates) by streaming its rows in chunks of ``chunk_rows``."""
    names = check_columns(frame.columns)
    _check_boolean_frame(frame)
    chunks = (frame.iloc[start : start + chunk_rows].to_numpy(dtype=bool) for start in range(0, len(frame), chunk_rows))
    return count_pairs(chunks, names, device)


def _batch_rows(batch: pa.RecordBatch) -> np.ndarray:
    """Return a record batch of boolean columns as a (rows, M) bool array, filled column by column."""
    rows = np.empty((batch.num_rows, batch.num_columns), dtype=bool, order="F")
    for index, (name, column) in enumerate(zip(batch.schema.names, batch.columns, strict=True)):
        if column.null_count:
            raise ValueError(f"predicate column {name!r} has missing values; predicates must be true or false.")
        rows[:, index] = column.to_numpy(zero_copy_only=False)
    return rows


def count_parquet(
    path: str | Path, columns: Sequence[str] | None = None, chunk_rows: int = 65536, device: str | None = None
) -> PairCounts:
    """Count a parquet file of boolean predicate columns batch by batch, never loading it whole."""
    file = pq.ParquetFile(path)
    schema = file.schema_arrow
    names = check_columns(schema.names if columns is None else columns)
    missing = [c for c in names if c not in schema.names]
    if missing:
        raise ValueError(f"columns {missing[:10]} are not in {path}.")
    bad = [c for c in names if schema.field(c).type != pa.bool_()]
    if bad:
        raise ValueError(
            f"predicate columns must be boolean; these columns of {path} are not: {bad[:10]}"
            + (f" and {len(bad) - 10} more" if len(bad) > 10 else "")
            + "."
        )
    batches = file.iter_batches(batch_size=chunk_rows, columns=list(names))
    return count_pairs((_batch_rows(batch) for batch in batches), names, device)
