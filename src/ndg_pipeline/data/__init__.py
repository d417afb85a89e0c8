"""Datasets the pipeline can open, chosen by name and split into train and test."""

from ndg_pipeline.data.registry import DATASETS, load_dataset
from ndg_pipeline.data.splits import DatasetSplits, Split

__all__ = ["DATASETS", "DatasetSplits", "Split", "load_dataset"]
