"""The in-memory form of a dataset: a train and a test split of (inputs, label) examples."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.utils.data import Dataset, Subset


@dataclass
class Split:
    """One split: a torch Dataset of ``(inputs, label)`` pairs and the collate function that batches it."""

    dataset: Dataset
    collate: Callable[[list[Any]], tuple[Any, torch.Tensor]] | None = None

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]


@dataclass
class DatasetSplits:
    """Train and test splits of one named dataset, with its class names."""

    name: str
    train: Split
    test: Split
    class_names: list[str]
    info: dict[str, Any] = field(default_factory=dict)
    lineage: dict[str, str] = field(default_factory=dict)  # the data fingerprint (ndg_pipeline.lineage)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


def capped(split: Split, max_inputs: int | None) -> Split:
    """The first ``max_inputs`` examples of a split (all of them when None)."""
    if max_inputs is None or max_inputs >= len(split):
        return split
    return Split(Subset(split.dataset, range(max_inputs)), split.collate)


class _RelabelledDataset(Dataset):
    """A dataset whose i-th label is replaced by ``labels[i]`` (the inputs are untouched)."""

    def __init__(self, dataset: Dataset, labels: torch.Tensor) -> None:
        self.dataset, self.labels = dataset, labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[Any, torch.Tensor]:
        return self.dataset[index][0], self.labels[index]


def shuffled_labels(split: Split, seed: int) -> Split:
    """The split with its labels permuted once over the examples (seeded): the same inputs and the same class
    counts, but no relation between an input and its label left for a network to learn, only to memorise."""
    labels = torch.as_tensor([int(split.dataset[index][1]) for index in range(len(split))])
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    return Split(_RelabelledDataset(split.dataset, labels[order]), split.collate)
