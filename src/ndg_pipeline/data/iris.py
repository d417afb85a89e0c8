"""Iris (ships with scikit-learn): 150 flowers, 4 features scaled to [0, 1], a seeded stratified split."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import TensorDataset

from ndg_pipeline.data.mnist import stratified_split
from ndg_pipeline.data.splits import DatasetSplits, Split


def load_iris_splits(test_fraction: float = 0.2, seed: int = 0) -> DatasetSplits:
    """Iris with each feature min-max scaled to [0, 1] (the networks' input range), split per class by ``seed``."""
    from sklearn.datasets import load_iris

    data = load_iris()
    features = data.data.astype(np.float32)
    features = (features - features.min(axis=0)) / (features.max(axis=0) - features.min(axis=0))
    train_idx, test_idx = stratified_split(data.target, test_fraction, seed)

    def split(index: np.ndarray) -> Split:
        return Split(TensorDataset(torch.from_numpy(features[index]), torch.as_tensor(data.target[index])))

    return DatasetSplits(
        name="iris",
        train=split(train_idx),
        test=split(test_idx),
        class_names=[str(name) for name in data.target_names],
        info={"source": "sklearn.datasets.load_iris", "test_fraction": test_fraction, "split_seed": seed},
    )
