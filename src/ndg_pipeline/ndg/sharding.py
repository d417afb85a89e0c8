"""Recording, binarizing, counting and the intervention as tasks over shards of a split: in this process, on a
``LocalCluster``, or on a Dask scheduler somewhere else (``scale.cluster``).

A shard is a contiguous range of the split's inputs. Its task records the shard, writes the activations (and,
fused, the predicates) as one parquet partition through fsspec (a local folder or any URL, e.g. ``s3://…``),
and returns its exact (N, n, G) counts; a tree reduction adds them. Every task has a key made of the call's
token and the shard's index, so a task re-run after its worker died replaces its result instead of adding to
it: each shard is counted once. The model and other large inputs go to each worker once (``broadcast``).
"""

from __future__ import annotations

import atexit
import io
import operator
import os
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import fsspec
import pandas as pd
import torch
from torch import nn
from torch.utils.data import Subset
from tqdm.auto import tqdm

from ndg_pipeline.data.splits import Split, capped
from ndg_pipeline.ndg.binarize import binarize
from ndg_pipeline.ndg.counting import PairCounts, count_frame
from ndg_pipeline.ndg.intervention import InterventionOutcome, Seed
from ndg_pipeline.ndg.recording import record_activations
from ndg_pipeline.probe import Position

LOCAL = "local"


@dataclass(frozen=True)
class Shard:
    """Inputs ``start`` … ``stop − 1`` of a split, the ``index``-th shard of it."""

    index: int
    start: int
    stop: int

    def part(self) -> str:
        """File name of the shard's parquet partition (sorts in shard order)."""
        return f"part-{self.index:06d}.parquet"


def plan_shards(n_inputs: int, shard_rows: int) -> list[Shard]:
    """Consecutive shards of at most ``shard_rows`` inputs covering ``n_inputs``."""
    if shard_rows <= 0:
        raise ValueError(f"shard_rows must be positive; got {shard_rows}.")
    return [
        Shard(index, start, min(start + shard_rows, n_inputs))
        for index, start in enumerate(range(0, n_inputs, shard_rows))
    ]


def shard_split(split: Split, shard: Shard) -> Split:
    """The inputs of one shard as a split of their own."""
    return Split(Subset(split.dataset, range(shard.start, shard.stop)), split.collate)


def shard_seed(seed: int, shard: Shard) -> Seed:
    """The seed of a shard's random draws: ``seed`` itself for the first shard (so one shard draws exactly as an
    unsharded run), ``(seed, index)`` for the others."""
    return seed if shard.index == 0 else [seed, shard.index]


def progress(tasks: Iterable[Any], name: str, total: int) -> Iterable[Any]:
    """``tasks`` (``total`` of them) with a progress bar named ``name`` when there are two or more."""
    return tqdm(tasks, desc=name, total=total, unit="task", leave=False, disable=total < 2)


class Executor:
    """Maps a function over shards in this process, in shard order, and sums results with the same tree."""

    def map(self, function: Callable[..., Any], shards: Sequence[Shard], name: str, **shared: Any) -> list[Any]:
        """``function(shard, **shared)`` for every shard, results in shard order."""
        return [function(shard, **shared) for shard in progress(shards, name, len(shards))]

    def total(self, function: Callable[..., PairCounts], shards: Sequence[Shard], name: str, **shared: Any):
        """The exact sum of ``function(shard, **shared)`` over shards, added pairwise as a tree."""
        return _tree(self.map(function, shards, name, **shared), operator.add)


def _tree(values: list[Any], add: Callable[[Any, Any], Any]) -> Any:
    """Add neighbours pairwise until one value is left (the same pairing everywhere, in shard order)."""
    if not values:
        raise ValueError("nothing to add: the split has no inputs.")
    while len(values) > 1:
        values = [add(*values[i : i + 2]) if i + 1 < len(values) else values[i] for i in range(0, len(values), 2)]
    return values[0]


class DaskExecutor(Executor):
    """The same maps and sums as tasks on a ``dask.distributed`` client; large shared inputs are sent to every
    worker once and reused by later calls (the model across recording and every intervention run)."""

    def __init__(self, client: Any, retries: int) -> None:
        self.client = client
        self.retries = retries
        self.shared: dict[int, tuple[Any, Any]] = {}

    def _share(self, value: Any) -> Any:
        """A future of ``value`` held by every worker (scattered once per object, with ``broadcast``)."""
        if isinstance(value, (int, float, str, bool, type(None))):
            return value
        if id(value) not in self.shared:
            sent = _pack(value) if isinstance(value, nn.Module) else value
            [future] = self.client.scatter([sent], broadcast=True, hash=False)  # a list: a dict would be split up
            self.shared[id(value)] = (value, future)
        return self.shared[id(value)][1]

    def _futures(self, function: Callable[..., Any], shards: Sequence[Shard], name: str, shared: dict) -> list:
        token = uuid.uuid4().hex[:12]
        futures = {key: self._share(value) for key, value in shared.items()}
        keys = [f"{name}-{token}-{shard.index:06d}" for shard in shards]
        return self.client.map(function, shards, key=keys, retries=self.retries, **futures)

    def map(self, function: Callable[..., Any], shards: Sequence[Shard], name: str, **shared: Any) -> list[Any]:
        from distributed import as_completed

        futures = self._futures(function, shards, name, shared)
        for _ in progress(as_completed(futures), name, len(futures)):
            pass
        return self.client.gather(futures)

    def total(self, function: Callable[..., PairCounts], shards: Sequence[Shard], name: str, **shared: Any):
        futures = self._futures(function, shards, name, shared)
        token = uuid.uuid4().hex[:12]
        level = 0

        def add(left: Any, right: Any) -> Any:
            return self.client.submit(operator.add, left, right, key=f"{name}-sum-{token}-{level}-{left.key}")

        while len(futures) > 1:
            futures = [
                add(*futures[i : i + 2]) if i + 1 < len(futures) else futures[i] for i in range(0, len(futures), 2)
            ]
            level += 1
        return futures[0].result()


_CLIENTS: dict[tuple[str, int], Any] = {}


def _client(cluster: str, workers: int) -> Any:
    """A client of a LocalCluster (``local``: ``workers`` processes running one task at a time each) or of the
    scheduler at ``cluster``; one per process and setting, kept for the rest of the process."""
    from distributed import Client, LocalCluster

    key = (cluster, workers)
    if key not in _CLIENTS:
        if cluster == LOCAL:
            local = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
            client = Client(local)
        else:
            client = Client(cluster)
        if not _CLIENTS:
            atexit.register(close_clients)
        _CLIENTS[key] = client
    return _CLIENTS[key]


def close_clients() -> None:
    """Close every client (and LocalCluster) this process opened."""
    while _CLIENTS:
        _, client = _CLIENTS.popitem()
        cluster = client.cluster
        client.close()
        if cluster is not None:
            cluster.close()


@contextmanager
def executor(cluster: str | None, workers: int = 2, retries: int = 2) -> Iterator[Executor]:
    """In this process (``cluster`` None), on a LocalCluster of ``workers`` processes (``local``), or on the
    scheduler at an address such as ``tcp://10.0.0.5:8786``. The client is kept for the rest of the process."""
    if cluster is None:
        yield Executor()
        return
    yield DaskExecutor(_client(cluster, workers), retries)


@dataclass(frozen=True)
class PackedModel:
    """A model as ``torch.save`` bytes: what is sent to the workers (their deserialised modules stay hookable)."""

    token: str
    payload: bytes


def _pack(model: nn.Module) -> PackedModel:
    """The model's bytes, tagged so each worker thread loads them once."""
    buffer = io.BytesIO()
    torch.save(model, buffer)
    return PackedModel(uuid.uuid4().hex, buffer.getvalue())


_LOADED = threading.local()


def _own_model(model: nn.Module | PackedModel, threads: int | None) -> nn.Module:
    """The model for one task: itself in this process; on a worker, loaded once per thread from its bytes."""
    if isinstance(model, nn.Module):
        return model
    if threads:
        torch.set_num_threads(threads)
    loaded = getattr(_LOADED, "models", None)
    if loaded is None or model.token not in loaded:
        _LOADED.models = {model.token: torch.load(io.BytesIO(model.payload), weights_only=False)}
    return _LOADED.models[model.token]


def write_partition(frame: pd.DataFrame, folder: str, shard: Shard) -> str:
    """Write one shard's table as ``<folder>/part-<index>.parquet`` through fsspec; return its URL."""
    fs, path = fsspec.core.url_to_fs(folder)
    fs.makedirs(path, exist_ok=True)
    url = f"{folder.rstrip('/')}/{shard.part()}"
    with fsspec.open(url, "wb") as handle:
        frame.to_parquet(handle, index=False)
    return url


def read_partitions(folder: str) -> pd.DataFrame:
    """The shards' tables of a folder (local or any fsspec URL), in shard order, as one table."""
    fs, path = fsspec.core.url_to_fs(folder)
    parts = sorted(fs.glob(f"{path.rstrip('/')}/part-*.parquet"))
    if not parts:
        raise ValueError(f"no partitions in {folder}; was the split recorded there?")
    frames = []
    for part in parts:
        with fs.open(part, "rb") as handle:
            frames.append(pd.read_parquet(handle))
    return pd.concat(frames, ignore_index=True)


def clear_folder(folder: str) -> None:
    """Remove a folder of partitions left by an earlier run, so stale shards are never read."""
    fs, path = fsspec.core.url_to_fs(folder)
    if fs.exists(path):
        fs.rm(path, recursive=True)


@dataclass(frozen=True)
class Measure:
    """What a measuring task does: record ``layers``; with ``thresholds`` also binarize and count."""

    layers: Mapping[str, str]
    position: Position
    batch_size: int
    device: str | None
    store: str
    thresholds: Mapping[str, str | float] | None = None
    num_classes: int | None = None
    chunk_rows: int = 65536
    count_device: str | None = None
    threads: int | None = None


def measure_shard(shard: Shard, model: nn.Module | PackedModel, split: Split, measure: Measure) -> PairCounts | int:
    """Record one shard and write its activations partition; fused, binarize and write its predicates partition
    and return its counts (else its number of inputs)."""
    network = _own_model(model, measure.threads)
    activations = record_activations(
        network,
        shard_split(split, shard),
        measure.layers,
        measure.position,
        measure.batch_size,
        None,
        measure.device,
        desc=None,
    )
    write_partition(activations, f"{measure.store}/activations", shard)
    if measure.thresholds is None or measure.num_classes is None:
        return len(activations)
    predicates = binarize(activations, measure.thresholds, measure.num_classes)
    write_partition(predicates, f"{measure.store}/predicates", shard)
    return count_frame(predicates, measure.chunk_rows, measure.count_device)


def measure_split(
    run: Executor, model: nn.Module, split: Split, measure: Measure, shard_rows: int, max_inputs: int | None = None
) -> PairCounts | int:
    """Record (and, with thresholds, binarize and count) a split shard by shard; partitions land in
    ``measure.store``/activations and /predicates, cleared first. Returns the exact total counts (or inputs)."""
    split = capped(split, max_inputs)
    shards = plan_shards(len(split), shard_rows)
    for table in ("activations", "predicates"):
        clear_folder(f"{measure.store}/{table}")
    if measure.thresholds is None:
        return sum(run.map(measure_shard, shards, "record", model=model, split=split, measure=measure))
    return run.total(measure_shard, shards, "measure", model=model, split=split, measure=measure)


def count_shard(shard: Shard, frame: pd.DataFrame, chunk_rows: int, device: str | None) -> PairCounts:
    """The counts of one shard's rows of a predicate table."""
    return count_frame(frame.iloc[shard.start : shard.stop], chunk_rows, device)


def count_sharded(run: Executor, frame: pd.DataFrame, shard_rows: int, chunk_rows: int, device: str | None):
    """The exact counts of a predicate table, shard by shard, summed by a tree."""
    shards = plan_shards(len(frame), shard_rows)
    return run.total(count_shard, shards, "count", frame=frame, chunk_rows=chunk_rows, device=device)


def _intervene_shard(
    shard: Shard,
    run: Callable[..., InterventionOutcome],
    model: nn.Module | PackedModel,
    split: Split,
    options: dict,
    seed: int,
    threads: int | None,
    **arguments: Any,
) -> InterventionOutcome:
    """One shard of an intervention run, with the shard's seed; inputs indexed by their place in the split.
    ``arguments`` are the run's positional arguments after the split, named ``a0``, ``a1``, … (each is sent to
    the workers on its own, so the closure and the values travel once for all runs)."""
    ordered = [arguments[f"a{i}"] for i in range(len(arguments))]
    network = _own_model(model, threads)
    outcome = run(network, shard_split(split, shard), *ordered, seed=shard_seed(seed, shard), **options)
    inputs = outcome.inputs.set_axis(outcome.inputs.index + shard.start)
    return InterventionOutcome(inputs, outcome.n_inputs)


def intervention_runner(run_on: Executor, shard_rows: int, threads: int | None = None) -> Callable[..., Any]:
    """A runner for ``intervention_report`` that splits each split into shards and runs them as tasks."""

    def sharded(
        run: Callable[..., InterventionOutcome],
        model: nn.Module,
        split: Split,
        *arguments: Any,
        seed: int = 0,
        max_inputs: int | None = None,
        desc: str | None = None,
        **options: Any,
    ) -> InterventionOutcome:
        split = capped(split, max_inputs)
        shards = plan_shards(len(split), shard_rows)
        if not shards:
            raise ValueError("the split is empty: there is nothing to intervene on.")
        named = {f"a{i}": argument for i, argument in enumerate(arguments)}
        outcomes = run_on.map(
            _intervene_shard,
            shards,
            f"intervene-{run.__name__}",
            run=run,
            model=model,
            split=split,
            options=options,
            seed=seed,
            threads=threads,
            **named,
        )
        inputs = pd.concat([outcome.inputs for outcome in outcomes])
        return InterventionOutcome(inputs, sum(outcome.n_inputs for outcome in outcomes))

    return sharded


def local_threads(workers: int) -> int:
    """Torch threads per worker of a LocalCluster: this machine's cores shared out evenly."""
    return max(1, (os.cpu_count() or 1) // workers)


__all__ = [
    "Executor",
    "Measure",
    "Shard",
    "close_clients",
    "count_sharded",
    "executor",
    "intervention_runner",
    "measure_split",
    "plan_shards",
    "read_partitions",
]
