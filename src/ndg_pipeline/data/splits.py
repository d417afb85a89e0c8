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
