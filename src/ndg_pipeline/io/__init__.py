"""Kedro datasets specific to this project."""

from ndg_pipeline.io.torch_model_dataset import TorchModelDataset

__all__ = ["TorchModelDataset"]
