"""Batch iteration and forward passes shared by training, recording and intervention."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from ndg_pipeline.data.splits import Split


def loader(split: Split, batch_size: int, shuffle: bool = False, seed: int = 0) -> DataLoader:
    """A single-process DataLoader in fixed order (or a seeded shuffle for training)."""
    generator = torch.Generator().manual_seed(seed) if shuffle else None
    return DataLoader(
        split.dataset, batch_size=batch_size, shuffle=shuffle, generator=generator, collate_fn=split.collate
    )


def to_device(inputs: Any, device: torch.device) -> Any:
    """Move a tensor or a dict of tensors to ``device``."""
    if isinstance(inputs, torch.Tensor):
        return inputs.to(device)
    return {key: value.to(device) if isinstance(value, torch.Tensor) else value for key, value in inputs.items()}


def logits_of(model: nn.Module, inputs: Any) -> torch.Tensor:
    """Class logits for a batch: ``model(x)`` for tensors, ``model(**x).logits`` for tokenized dicts."""
    output = model(**inputs) if isinstance(inputs, dict) else model(inputs)
    return output.logits if hasattr(output, "logits") else output


def attention_mask_of(inputs: Any) -> torch.Tensor | None:
    """The attention mask of a tokenized batch, if it has one."""
    return inputs.get("attention_mask") if isinstance(inputs, dict) else None


def iterate(
    split: Split, batch_size: int, device: torch.device, desc: str | None = None
) -> Iterator[tuple[Any, torch.Tensor]]:
    """Batches of (inputs on ``device``, labels on ``device``) in dataset order, with a progress bar."""
    from tqdm.auto import tqdm

    for inputs, labels in tqdm(loader(split, batch_size), desc=desc, leave=False, disable=desc is None):
        yield to_device(inputs, device), labels.to(device)
