"""The in-memory form of a dataset: a train and a test split of (inputs, label) examples."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.utils.data import Dataset


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

    @property
    def num_classes(self) -> int:
        return len(self.class_names)
