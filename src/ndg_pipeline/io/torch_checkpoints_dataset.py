"""A versioned, partitioned Kedro dataset of model checkpoints: one weights-plus-config file per epoch."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial

from kedro.io.core import DatasetError
from torch import nn

from ndg_pipeline.io.versioned_files import VersionedFiles
from ndg_pipeline.models.registry import load_model_file, save_model_file

PARTITION = "epoch_{:04d}.pt"
PARTITION_PATTERN = re.compile(r"epoch_(\d+)\.pt$")


class TorchCheckpointsDataset(VersionedFiles[dict[int, nn.Module], dict[int, Callable[[], nn.Module]]]):
    """Saves ``{epoch: model}`` as ``<filepath>/<version>/<name>/epoch_0005.pt`` …; loads ``{epoch: load function}``.

    Like Kedro's PartitionedDataset, loading is lazy (call the function to get the model, in eval mode on the
    CPU), but the whole set is one version of one entry, so a run's checkpoints never mix with another's.
    """

    def load(self) -> dict[int, Callable[[], nn.Module]]:
        folder = self.load_path()
        found = {}
        for path in self._fs.ls(folder, detail=False):
            match = PARTITION_PATTERN.search(str(path))
            if match:
                found[int(match.group(1))] = partial(load_model_file, path)
        if not found:
            raise DatasetError(f"no checkpoint in {folder}; run the train node with train.checkpoints set.")
        return dict(sorted(found.items()))

    def save(self, data: dict[int, nn.Module]) -> None:
        folder = self.save_path()
        self._fs.makedirs(folder, exist_ok=True)
        for epoch, model in data.items():
            save_model_file(model, f"{folder}/{PARTITION.format(epoch)}")
