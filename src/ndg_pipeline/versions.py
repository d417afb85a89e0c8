"""Which saved version of a versioned catalog entry a run loads, chosen by the run's own parameters.

Kedro loads the newest version of every entry, whichever run wrote it: after a run on other data, the next
default run would explain that run's model. So every version a run saves gets a record beside it,
``<filepath>/<version>/lineage.json``: the parameters the entry was made from (those of its node and every node
upstream, execution-only knobs left out), the model and data fingerprints it carries, and a checksum per file.
Before a run, each entry it loads (unless pinned with ``--load-versions``) is set to the newest version whose
record matches the run's parameters; a version without a record (half-written, or from before records) is never
chosen on its own.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from kedro.pipeline import Pipeline
from kedro.utils import find_kedro_project
from pydantic import BaseModel, RootModel

from ndg_pipeline.tracking import flatten

RECORD = "lineage.json"
# fields that change how fast a result is made or where files live, not the result (scale.*, the torch device)
EXECUTION_ONLY = {"device", "cluster", "workers", "torch_threads", "shard_rows", "retries", "store", "raw_dir"}
PARAMS = "params:"
ALL_PARAMETERS = "parameters"  # the input that passes every parameter to a node


def project_root() -> Path:
    """The Kedro project root found from the working directory (relative catalog paths start there)."""
    return Path(find_kedro_project(Path.cwd()) or Path.cwd())


def local_folder(config: Mapping[str, Any]) -> Path | None:
    """The folder of a versioned entry's versions (``<filepath>/``), or None: not versioned, or not a local path."""
    filepath = config.get("filepath") or config.get("path")
    if not config.get("versioned") or not filepath or "://" in str(filepath):
        return None
    return Path(filepath)


def setting_value(value: Any) -> Any:
    """A parameter value as plain JSON, without its execution-only fields."""
    if isinstance(value, RootModel):
        value = value.root
    if isinstance(value, BaseModel):
        dumped = value.model_dump(mode="json")
        return {key: item for key, item in dumped.items() if key not in EXECUTION_ONLY}
    return json.loads(json.dumps(value, default=str))


def upstream_parameters(pipeline: Pipeline, entry: str) -> list[str]:
    """The parameter inputs (``params:…``, or ``parameters``: all of them) of the node that makes ``entry`` in
    ``pipeline`` and of every node upstream of it."""
    if entry not in pipeline.all_outputs():
        return []
    inputs = {name for node in pipeline.to_outputs(entry).nodes for name in node.inputs}
    return sorted(name for name in inputs if name.startswith(PARAMS) or name == ALL_PARAMETERS)


def versions(folder: Path) -> list[str]:
    """The saved versions of the entry stored at ``folder``, newest first (Kedro's timestamps sort in time)."""
    if not folder.is_dir():
        return []
    return sorted((path.parent.name for path in folder.glob(f"*/{folder.name}")), reverse=True)


def digest(path: Path) -> str:
    """sha256 of one file."""
    found = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            found.update(block)
    return found.hexdigest()


def checksums(folder: Path) -> dict[str, str]:
    """sha256 of every file under one version's folder (the record excluded), by path relative to it."""
    return {
        path.relative_to(folder).as_posix(): digest(path)
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != RECORD and not path.name.startswith(f".{RECORD}")
    }


def store_record(path: Path, record: Mapping[str, Any]) -> None:
    """Write a record to ``path`` atomically: a record always describes whole files."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(record, indent=1, sort_keys=True, default=str))
    os.replace(partial, path)


def write_record(folder: Path, entry: str, settings: Mapping[str, Any], lineage: Mapping[str, str]) -> None:
    """Write the record of the version saved in ``folder``."""
    record = {"entry": entry, "settings": dict(settings), "lineage": dict(lineage), "files": checksums(folder)}
    store_record(folder / RECORD, record)


def read_json(path: Path) -> dict[str, Any] | None:
    """A record read from ``path`` (None when there is none or it cannot be read)."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def read_record(folder: Path) -> dict[str, Any] | None:
    """The record of one version (None when it has none or it cannot be read)."""
    return read_json(folder / RECORD)


def changed_files(folder: Path, record: Mapping[str, Any]) -> list[str]:
    """Files of a version that are missing or differ from the checksums its record took when it was saved."""
    now = checksums(folder)
    return [name for name, digest in record.get("files", {}).items() if now.get(name) != digest]


def partition_files(config: Mapping[str, Any]) -> list[Path]:
    """The partition files of a local PartitionedDataset entry, sorted (none for any other entry)."""
    path, suffix = config.get("path"), config.get("filename_suffix", "")
    if "PartitionedDataset" not in str(config.get("type", "")) or not path or "://" in str(path):
        return []
    return sorted(file for file in (project_root() / path).glob(f"*{suffix}") if not file.name.endswith(RECORD))


def partition_file(config: Mapping[str, Any], key: str) -> Path:
    """The file partition ``key`` of a local PartitionedDataset entry is saved to."""
    return project_root() / config["path"] / f"{key}{config.get('filename_suffix', '')}"


def partition_record(file: Path) -> Path:
    """Where the record of one partition file lies: ``<file>.lineage.json`` beside it (Kedro's ``.parquet``
    suffix filter keeps it out of the partitions)."""
    return file.with_name(f"{file.name}.{RECORD}")


def write_partition_record(file: Path, entry: str, settings: Mapping[str, Any], lineage: Mapping[str, str]) -> None:
    """Write the record of one partition file a run saved: its parameters, fingerprints and checksum."""
    record = {"entry": entry, "settings": dict(settings), "lineage": dict(lineage), "files": {file.name: digest(file)}}
    store_record(partition_record(file), record)


def partition_problems(files: Iterable[Path], rebuild: str) -> list[str]:
    """Why the partitions ``files`` cannot be read together: one without a record or changed since it was saved,
    or partitions made from the same data that disagree on another parameter they share (``rebuild``: the fix)."""
    problems, by_data = [], {}
    for file in files:
        record = read_json(partition_record(file))
        if record is None:
            problems.append(f"{file} has no lineage record (saved before records existed, or half-written). {rebuild}")
        elif record.get("files", {}).get(file.name) != digest(file):
            problems.append(f"{file} is corrupt or truncated (it differs from the file saved then). {rebuild}")
        else:
            data = json.dumps(record["settings"].get(f"{PARAMS}data"), sort_keys=True)
            by_data.setdefault(data, []).append((file, record["settings"]))
    for group in by_data.values():
        (first, settings), *others = group
        for file, other in others:
            shared = {key: value for key, value in other.items() if key in settings}
            diff = differences({key: settings[key] for key in shared}, shared)
            if diff:
                made = ", ".join(f"{key}={old!r} vs {new!r}" for key, (old, new) in list(diff.items())[:3])
                problems.append(f"{first.name} and {file.name} come from the same data but {made}. {rebuild}")
    return problems


def differences(made: Mapping[str, Any], wanted: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Per flattened parameter, ``(value the version was made with, this run's value)`` where they differ."""
    old = flatten({name.removeprefix(PARAMS): value for name, value in made.items()})
    new = flatten({name.removeprefix(PARAMS): value for name, value in wanted.items()})
    keys = sorted(key for key in old.keys() | new.keys() if key.rsplit(".", 1)[-1] not in EXECUTION_ONLY)
    return {key: (old.get(key), new.get(key)) for key in keys if old.get(key) != new.get(key)}


def matches(record: Mapping[str, Any] | None, wanted: Mapping[str, Any]) -> bool:
    """Whether a version's record was made with exactly this run's values of the parameters it depends on."""
    return record is not None and not differences(record.get("settings", {}), wanted)


def choose(folder: Path, wanted: Mapping[str, Any]) -> str | None:
    """The newest version under ``folder`` made with the parameter values ``wanted``."""
    return next((version for version in versions(folder) if matches(read_record(folder / version), wanted)), None)


def remove_versions(folders: Iterable[Path]) -> list[Path]:
    """Delete version folders (a failed or interrupted save); the ones that existed."""
    removed = []
    for folder in folders:
        if folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed
