"""Seeded, deterministic AdamW training of a classifier, with per-epoch loss and accuracy.

Options for fine-tuning transformers: linear warmup (then a constant or linearly decaying learning rate),
gradient accumulation, and bfloat16 mixed precision on CUDA.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from functools import partial
from typing import Any, Literal

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ndg_pipeline.batches import iterate, loader, logits_of, to_device
from ndg_pipeline.config import TrainParams
from ndg_pipeline.data.splits import DatasetSplits, Split


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch, and ask torch for deterministic kernels."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


@torch.no_grad()
def accuracy(model: nn.Module, split: Split, device: torch.device, batch_size: int = 512) -> float:
    """Fraction of a split the model classifies correctly (eval mode)."""
    model.eval()
    correct = total = 0
    for inputs, labels in iterate(split, batch_size, device):
        correct += int((logits_of(model, inputs).argmax(dim=1) == labels).sum())
        total += len(labels)
    return correct / total


def lr_factor(step: int, total: int, warmup: int, schedule: Literal["constant", "linear"]) -> float:
    """Learning-rate multiplier at optimizer step ``step``: linear warmup over ``warmup`` steps, then 1 or a
    linear decay to 0 at ``total`` steps (the transformers convention)."""
    if step < warmup:
        return step / warmup
    if schedule == "linear":
        return max(0.0, (total - step) / max(1, total - warmup))
    return 1.0


def _row(model: nn.Module, epoch: int, loss: float, train: Split, test: Split, device: torch.device) -> dict:
    """One history row: the epoch, its mean training loss, and the accuracy on both splits."""
    return {
        "epoch": epoch,
        "loss": loss,
        "train_accuracy": accuracy(model, train, device),
        "test_accuracy": accuracy(model, test, device),
    }


def train_classifier(
    model: nn.Module,
    train: Split,
    test: Split,
    *,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    weight_decay: float,
    seed: int,
    device: torch.device,
    warmup_ratio: float = 0.0,
    schedule: Literal["constant", "linear"] = "constant",
    accumulation_steps: int = 1,
    mixed_precision: bool = False,
    after_epoch: Callable[[int, nn.Module], None] | None = None,
) -> tuple[nn.Module, list[dict[str, Any]]]:
    """Train with AdamW and cross-entropy; return the model (eval mode, CPU) and one history row per epoch.

    One optimizer step per ``accumulation_steps`` batches (the last group of an epoch may be smaller), with
    ``warmup_ratio`` of all steps as warmup; ``mixed_precision`` runs forward passes in bfloat16 on CUDA (and
    is ignored on the CPU). ``epochs=0`` keeps the weights as built and gives one row (epoch 0, loss NaN).
    ``after_epoch(epoch, model)`` is called with the initial weights (epoch 0) and after every epoch, e.g. to keep
    checkpoints; it must not change the model.
    """
    seed_everything(seed)
    model.to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=weight_decay)
    steps_per_epoch = math.ceil(math.ceil(len(train) / batch_size) / accumulation_steps)
    total = epochs * steps_per_epoch
    warmup = round(warmup_ratio * total)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, partial(lr_factor, total=total, warmup=warmup, schedule=schedule)
    )
    autocast = partial(torch.autocast, device.type, torch.bfloat16, mixed_precision and device.type == "cuda")
    history = [] if epochs else [_row(model, 0, math.nan, train, test, device)]
    if after_epoch is not None:
        after_epoch(0, model)
    for epoch in range(1, epochs + 1):
        model.train()
        total_loss, seen = 0.0, 0
        batches = loader(train, batch_size, shuffle=True, seed=seed + epoch)
        optimizer.zero_grad()
        for index, (inputs, labels) in enumerate(tqdm(batches, desc=f"epoch {epoch}/{epochs}", leave=False)):
            inputs, labels = to_device(inputs, device), labels.to(device)
            with autocast():
                loss = nn.functional.cross_entropy(logits_of(model, inputs), labels)
            group_start = index - index % accumulation_steps
            (loss / min(accumulation_steps, len(batches) - group_start)).backward()
            if index + 1 == len(batches) or (index + 1) % accumulation_steps == 0:
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
            total_loss += loss.item() * len(labels)
            seen += len(labels)
        history.append(_row(model, epoch, total_loss / seen, train, test, device))
        if after_epoch is not None:
            after_epoch(epoch, model)
    return model.cpu().eval(), history


def train_with_checkpoints(
    splits: DatasetSplits, model: dict[str, Any], train: TrainParams
) -> tuple[nn.Module, list[dict[str, Any]], dict[int, nn.Module]]:
    """Build ``model`` (an architecture's parameters) for the splits' classes from ``train.seed`` and train it with
    ``train``; return it, one history row per epoch, and copies of it at ``train.checkpoint_epochs()`` (CPU, eval
    mode; the last one is the trained model)."""
    import copy

    from ndg_pipeline.device import resolve_device
    from ndg_pipeline.models import build_model

    kept = train.checkpoint_epochs()
    checkpoints: dict[int, nn.Module] = {}

    def keep(epoch: int, network: nn.Module) -> None:
        if epoch in kept:
            checkpoints[epoch] = copy.deepcopy(network).cpu().eval()

    network = build_model({**model, "num_classes": splits.num_classes}, seed=train.seed)
    network, history = train_classifier(
        network,
        splits.train,
        splits.test,
        epochs=train.epochs,
        batch_size=train.batch_size,
        learning_rate=train.learning_rate,
        weight_decay=train.weight_decay,
        seed=train.seed,
        device=resolve_device(train.device),
        warmup_ratio=train.warmup_ratio,
        schedule=train.schedule,
        accumulation_steps=train.accumulation_steps,
        mixed_precision=train.mixed_precision,
        after_epoch=keep,
    )
    return network, history, checkpoints
