"""Kedro datasets specific to this project."""

from ndg_pipeline.io.torch_checkpoints_dataset import TorchCheckpointsDataset
from ndg_pipeline.io.torch_model_dataset import TorchModelDataset
from ndg_pipeline.io.tracked_text_dataset import TrackedTextDataset

__all__ = ["TorchCheckpointsDataset", "TorchModelDataset", "TrackedTextDataset"]
