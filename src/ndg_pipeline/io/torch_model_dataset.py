"""A versioned Kedro dataset for torch models stored as weights plus configuration (no pickled classes)."""

from __future__ import annotations

from torch import nn

from ndg_pipeline.io.versioned_files import VersionedFiles
from ndg_pipeline.models.registry import load_model_file, save_model_file


class TorchModelDataset(VersionedFiles[nn.Module, nn.Module]):
    """Saves a model built by ``ndg_pipeline.models.build_model``; loads it back in eval mode on the CPU."""

    def load(self) -> nn.Module:
        return load_model_file(self.load_path())

    def save(self, data: nn.Module) -> None:
        save_model_file(data, self.save_path())
