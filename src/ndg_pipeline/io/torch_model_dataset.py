"""A versioned Kedro dataset for torch models stored as weights plus configuration (no pickled classes)."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

import fsspec
from kedro.io.core import AbstractVersionedDataset, DatasetError, Version, get_filepath_str, get_protocol_and_path
from torch import nn

from ndg_pipeline.models.registry import load_model_file, save_model_file


class TorchModelDataset(AbstractVersionedDataset[nn.Module, nn.Module]):
    """Saves a model built by ``ndg_pipeline.models.build_model``; loads it back in eval mode on the CPU."""

    def __init__(self, filepath: str, version: Version | None = None, metadata: dict[str, Any] | None = None):
        protocol, path = get_protocol_and_path(filepath, version)
        self._protocol = protocol
        self._fs = fsspec.filesystem(protocol)
        self.metadata = metadata
        super().__init__(
            filepath=PurePosixPath(path), version=version, exists_function=self._fs.exists, glob_function=self._fs.glob
        )

    def load(self) -> nn.Module:
        path = get_filepath_str(self._get_load_path(), self._protocol)
        return load_model_file(path)

    def save(self, data: nn.Module) -> None:
        path = get_filepath_str(self._get_save_path(), self._protocol)
        self._fs.makedirs(str(PurePosixPath(path).parent), exist_ok=True)
        save_model_file(data, path)

    def _exists(self) -> bool:
        try:
            path = get_filepath_str(self._get_load_path(), self._protocol)
        except DatasetError:
            return False
        return self._fs.exists(path)

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self._filepath, "protocol": self._protocol, "version": self._version}
