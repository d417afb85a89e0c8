"""The version records behind what a run loads (``ndg_pipeline.versions``), on real folders and files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ndg_pipeline import versions
from ndg_pipeline.config import ScaleParams, TrainParams


def save(entry: Path, version: str, settings: dict, frame: pd.DataFrame, record: bool = True) -> Path:
    """A version of a parquet entry as Kedro lays it out, with its record (or without: half-written)."""
    folder = entry / version
    folder.mkdir(parents=True)
    frame.to_parquet(folder / entry.name)
    if record:
        versions.write_record(folder, "edges_table", settings, {"model": "m", "data": "d"})
    return folder


def test_the_newest_version_made_with_the_runs_parameters_is_chosen(tmp_path):
    entry = tmp_path / "edges.parquet"
    frame = pd.DataFrame({"a": [1, 2]})
    save(entry, "2026-01-01T00.00.00.000Z", {"params:data": {"name": "mnist_sample"}}, frame)
    save(entry, "2026-01-02T00.00.00.000Z", {"params:data": {"name": "mnist_sample"}}, frame)
    save(entry, "2026-01-03T00.00.00.000Z", {"params:data": {"name": "mnist_even"}}, frame)
    save(entry, "2026-01-04T00.00.00.000Z", {"params:data": {"name": "mnist_sample"}}, frame, record=False)
    assert versions.choose(entry, {"params:data": {"name": "mnist_sample"}}) == "2026-01-02T00.00.00.000Z"
    assert versions.choose(entry, {"params:data": {"name": "mnist_even"}}) == "2026-01-03T00.00.00.000Z"
    assert versions.choose(entry, {"params:data": {"name": "mnist"}}) is None
    assert versions.choose(tmp_path / "never_saved.parquet", {}) is None


def test_a_truncated_or_missing_file_differs_from_its_record(tmp_path):
    entry = tmp_path / "edges.parquet"
    folder = save(entry, "v1", {}, pd.DataFrame({"a": range(100)}))
    record = versions.read_record(folder)
    assert versions.changed_files(folder, record) == []
    data = (folder / entry.name).read_bytes()
    (folder / entry.name).write_bytes(data[: len(data) // 2])
    assert versions.changed_files(folder, record) == ["edges.parquet"]
    (folder / entry.name).unlink()
    assert versions.changed_files(folder, record) == ["edges.parquet"]


def test_settings_leave_out_what_changes_speed_or_place_not_results():
    fast = versions.setting_value(ScaleParams(workers=8, shard_rows=10, json_max_edges=5))
    slow = versions.setting_value(ScaleParams(workers=1, json_max_edges=5))
    assert fast == slow and fast == {"json_max_edges": 5}
    gpu, cpu = versions.setting_value(TrainParams(device="cuda")), versions.setting_value(TrainParams(device="cpu"))
    assert gpu == cpu and "device" not in gpu
    assert versions.differences(
        {"params:train": gpu}, {"params:train": versions.setting_value(TrainParams(seed=4))}
    ) == {"train.seed": (0, 4)}
    old_record = {"params:data": {"name": "mnist_sample", "raw_dir": "/elsewhere"}}
    assert versions.differences(old_record, {"params:data": {"name": "mnist_sample", "raw_dir": "/here"}}) == {}


def test_removing_versions_deletes_only_the_folders_that_exist(tmp_path):
    entry = tmp_path / "edges.parquet"
    kept = save(entry, "v1", {}, pd.DataFrame({"a": [1]}))
    doomed = save(entry, "v2", {}, pd.DataFrame({"a": [2]}), record=False)
    assert versions.remove_versions([doomed, entry / "v3"]) == [doomed]
    assert versions.versions(entry) == [kept.name]


def partition(folder: Path, key: str, settings: dict, record: bool = True) -> Path:
    """One parquet partition as a PartitionedDataset saves it, with its record (or without one)."""
    file = folder / f"{key}.parquet"
    folder.mkdir(exist_ok=True)
    pd.DataFrame({"edges": [len(key)]}).to_parquet(file)
    if record:
        versions.write_partition_record(file, "control_results", settings, {"model": "m", "data": "d"})
    return file


def test_partitions_of_one_data_setting_must_agree_on_the_parameters_they_share(tmp_path):
    sample, even = {"name": "mnist_sample"}, {"name": "mnist_even"}
    trained = partition(tmp_path, "mnist_sample__trained", {"params:data": sample, "params:train": {"epochs": 20}})
    own = {"params:data": sample, "params:train": {"epochs": 20}, "params:controls.random_model": {"seed": 7}}
    random = partition(tmp_path, "mnist_sample__random_model", own)
    other_data = partition(tmp_path, "mnist_even__trained", {"params:data": even, "params:train": {"epochs": 3}})
    assert versions.partition_problems([trained, random, other_data], "FIX") == []
    stale = partition(tmp_path, "mnist_sample__random_input", {"params:data": sample, "params:train": {"epochs": 3}})
    (problem,) = versions.partition_problems([trained, random, stale], "FIX")
    assert problem == (
        "mnist_sample__trained.parquet and mnist_sample__random_input.parquet come from the same data but "
        "train.epochs=20 vs 3. FIX"
    )


def test_a_partition_without_a_record_or_changed_since_saved_is_named(tmp_path):
    settings = {"params:data": {"name": "mnist_sample"}}
    bare = partition(tmp_path, "mnist_sample__trained", settings, record=False)
    cut = partition(tmp_path, "mnist_sample__two_layers", settings)
    cut.write_bytes(cut.read_bytes()[:10])
    assert versions.partition_problems([bare, cut], "FIX") == [
        f"{bare} has no lineage record (saved before records existed, or half-written). FIX",
        f"{cut} is corrupt or truncated (it differs from the file saved then). FIX",
    ]
    assert versions.partition_files({"type": "partitions.PartitionedDataset", "path": str(tmp_path)}) == [bare, cut]
