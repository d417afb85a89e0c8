"""Sharded recording, counting and intervention: exact against the unsharded run, byte-identical in this process
and on a 2-worker LocalCluster on loopback, and exact when a worker dies mid-task."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import cloudpickle
import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from ndg_pipeline.config import ScaleParams
from ndg_pipeline.data.splits import Split
from ndg_pipeline.ndg import count_frame, mine
from ndg_pipeline.ndg.binarize import binarize
from ndg_pipeline.ndg.graph import build_graph
from ndg_pipeline.ndg.intervention import intervention_report
from ndg_pipeline.ndg.recording import record_activations
from ndg_pipeline.ndg.sharding import (
    Measure,
    Shard,
    close_clients,
    count_sharded,
    executor,
    intervention_runner,
    measure_split,
    plan_shards,
    read_partitions,
)

LAYERS = {"hidden": "0"}
THRESHOLDS = {"hidden": "pre_activation"}
CLASSES = 3


def tiny_model() -> nn.Module:
    """A seeded 5 → 8 → 3 network; its first Linear (pre-ReLU) is the recorded layer."""
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, CLASSES)).eval()


def tiny_split(n: int, seed: int) -> Split:
    """Random inputs labelled by the model itself for most of them (so many are correctly classified)."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 5, generator=generator)
    with torch.no_grad():
        labels = tiny_model()(x).argmax(dim=1)
    labels[::7] = (labels[::7] + 1) % CLASSES
    return Split(TensorDataset(x, labels))


def measure(store: Path, fused: bool = True) -> Measure:
    """Record the hidden layer in batches of 8 (and, fused, binarize and count) into ``store``."""
    extra = {"thresholds": THRESHOLDS, "num_classes": CLASSES} if fused else {}
    return Measure(LAYERS, "first", 8, "cpu", str(store), **extra)


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    """The table as parquet bytes, to compare results byte for byte."""
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    return buffer.getvalue()


def run_all(run, store: Path) -> dict[str, bytes]:
    """Measure both splits in shards of 24 (fused), mine, build the graph and intervene; every table as bytes."""
    model, splits = tiny_model(), {"train": tiny_split(100, 1), "test": tiny_split(60, 2)}
    counts = {name: measure_split(run, model, split, measure(store / name), 24) for name, split in splits.items()}
    result = mine(counts["train"], 3.0, test=counts["test"])
    graph = build_graph(result.edges, result.equivalences, result.priors)
    activations = read_partitions(str(store / "train" / "activations"))
    summary, per_class = intervention_report(
        model,
        splits,
        LAYERS,
        "first",
        graph,
        THRESHOLDS,
        activations,
        batch_size=8,
        runner=intervention_runner(run, 24),
    )
    tables = {"edges": result.edges, "equivalences": result.equivalences, "summary": summary, "per_class": per_class}
    tables["predicates"] = read_partitions(str(store / "train" / "predicates"))
    return {name: parquet_bytes(table) for name, table in tables.items()} | {"edges_count": len(result.edges)}


@pytest.fixture(scope="module")
def local_cluster():
    """One 2-worker LocalCluster on loopback for the module; this module's functions travel by value."""
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    with executor("local", workers=2) as run:
        yield run
    close_clients()


def test_shards_cover_the_split_once():
    shards = plan_shards(50, 24)
    assert shards == [Shard(0, 0, 24), Shard(1, 24, 48), Shard(2, 48, 50)]
    assert plan_shards(0, 24) == []
    with pytest.raises(ValueError, match="shard_rows"):
        plan_shards(10, 0)


def test_fused_shards_equal_the_unsharded_stages(tmp_path):
    model, split = tiny_model(), tiny_split(70, 3)
    with executor(None) as run:
        counts = measure_split(run, model, split, measure(tmp_path), 16)  # shards of 16, 16, 16, 16, 6
    whole = record_activations(model, split, LAYERS, "first", 8, device="cpu", desc=None)
    predicates = binarize(whole, THRESHOLDS, CLASSES)
    assert counts == count_frame(predicates)
    assert len(list((tmp_path / "activations").glob("part-*.parquet"))) == 5
    pd.testing.assert_frame_equal(read_partitions(str(tmp_path / "activations")), whole, check_exact=True)
    pd.testing.assert_frame_equal(read_partitions(str(tmp_path / "predicates")), predicates)
    with executor(None) as run:
        assert count_sharded(run, predicates, 9, 4, "cpu") == counts  # other shards, same exact sums


def test_in_process_and_local_cluster_give_byte_identical_tables(tmp_path, local_cluster):
    with executor(None) as run:
        here = run_all(run, tmp_path / "here")
    there = run_all(local_cluster, tmp_path / "there")
    assert here["edges_count"] > 0
    for name in here:
        assert here[name] == there[name], name


def die_once(shard: Shard, frame: pd.DataFrame, marker: str):
    """Count a shard; the first attempt at shard 1 kills its worker process (as a crash or OOM kill would)."""
    if shard.index == 1 and not os.path.exists(marker):
        Path(marker).touch()
        os._exit(1)
    return count_frame(frame.iloc[shard.start : shard.stop])


def test_a_dead_worker_is_retried_and_every_shard_counted_once(tmp_path, local_cluster):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.random((90, 6)) < 0.4, columns=[f"p:{i}" for i in range(6)])
    marker = tmp_path / "died"
    total = local_cluster.total(die_once, plan_shards(90, 20), "die", frame=frame, marker=str(marker))
    assert marker.exists()  # a worker did die
    assert total == count_frame(frame) and total.n_rows == 90


def test_scale_parameters_name_the_choices():
    assert ScaleParams().cluster is None
    assert ScaleParams(cluster="tcp://10.0.0.5:8786").cluster == "tcp://10.0.0.5:8786"
    with pytest.raises(ValueError, match="scheduler address"):
        ScaleParams(cluster="cluster1")


def test_recording_uses_a_folder_of_its_own_and_leaves_another_runs_shards_alone(tmp_path):
    """A run recording into the same ``scale.store`` at the same time must find its shards where it wrote them."""
    from ndg_pipeline.config import RecordParams
    from ndg_pipeline.data.splits import DatasetSplits
    from ndg_pipeline.ndg.measure import record_splits

    model, train, test = tiny_model(), tiny_split(100, 1), tiny_split(60, 2)
    theirs = tmp_path / "train" / "activations" / "part-000000.parquet"  # where a run of the old layout wrote
    theirs.parent.mkdir(parents=True)
    their_shard = pd.DataFrame({"hidden:0": [9.0]})
    their_shard.to_parquet(theirs)
    splits = DatasetSplits("tiny", train, test, ["a", "b", "c"])
    record = RecordParams(layers=LAYERS, batch_size=8, device="cpu", max_inputs=None)
    scale = ScaleParams(store=str(tmp_path), shard_rows=24)
    activations_train, activations_test = record_splits(model, splits, record, scale)
    expected = record_activations(model, train, LAYERS, "first", 8, None, "cpu", desc=None)
    pd.testing.assert_frame_equal(activations_train, expected)
    assert len(activations_test) == 60
    pd.testing.assert_frame_equal(pd.read_parquet(theirs), their_shard)  # the other run's shard is untouched
    assert sorted(path.name for path in tmp_path.iterdir()) == ["train"]  # and nothing of this call is left
