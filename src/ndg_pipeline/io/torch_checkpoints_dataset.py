"""A versioned, partitioned Kedro dataset of model checkpoints: one weights-plus-config file per epoch."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from pathlib import PurePosixPath
from typing import Any

import fsspec
from kedro.io.core import AbstractVersionedDataset, DatasetError, Version, get_filepath_str, get_protocol_and_path
from torch import nn

from ndg_pipeline.models.registry import load_model_file, save_model_file

PARTITION = "epoch_{:04d}.pt"
PARTITION_PATTERN = re.compile(r"epoch_(\d+)\.pt$")


class TorchCheckpointsDataset(AbstractVersionedDataset[dict[int, nn.Module], dict[int, Callable[[], nn.Module]]]):
    """Saves ``{epoch: model}`` as ``<filepath>/<version>/epoch_0005.pt`` …; loads ``{epoch: load function}``.

    Like Kedro's PartitionedDataset, loading is lazy (call the function to get the model, in eval mode on the
    CPU), but the whole set is one version of one entry, so a run's checkpoints never mix with another's.
    """

    def __init__(self, filepath: str, version: Version | None = None, metadata: dict[str, Any] | None = None):
        protocol, path = get_protocol_and_path(filepath, version)
        self._protocol = protocol
        self._fs = fsspec.filesystem(protocol)
        self.metadata = metadata
        super().__init__(
            filepath=PurePosixPath(path), version=version, exists_function=self._fs.exists, glob_function=self._fs.glob
        )

    def load(self) -> dict[int, Callable[[], nn.Module]]:
        folder = get_filepath_str(self._get_load_path(), self._protocol)
        found = {}
        for path in self._fs.ls(folder, detail=False):
            match = PARTITION_PATTERN.search(str(path))
            if match:
                found[int(match.group(1))] = partial(load_model_file, path)
        if not found:
            raise DatasetError(f"no checkpoint in {folder}; run the train node with train.checkpoints set.")
        return dict(sorted(found.items()))

    def save(self, data: dict[int, nn.Module]) -> None:
        folder = get_filepath_str(self._get_save_path(), self._protocol)
        self._fs.makedirs(folder, exist_ok=True)
        for epoch, model in data.items():
            save_model_file(model, f"{folder}/{PARTITION.format(epoch)}")

    def _exists(self) -> bool:
        try:
            folder = get_filepath_str(self._get_load_path(), self._protocol)
        except DatasetError:
            return False
        return self._fs.exists(folder)

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self._filepath, "protocol": self._protocol, "version": self._version}
