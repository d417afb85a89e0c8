"""Seeded, deterministic AdamW training of a classifier, with per-epoch loss and accuracy."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ndg_pipeline.batches import iterate, loader, logits_of, to_device
from ndg_pipeline.data.splits import Split


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
) -> tuple[nn.Module, list[dict[str, Any]]]:
    """Train with AdamW and cross-entropy; return the model (eval mode, CPU) and one history row per epoch."""
    seed_everything(seed)
    model.to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=weight_decay)
    history = []
    for epoch in range(1, epochs + 1):
        model.train()
        total_loss, seen = 0.0, 0
        batches = loader(train, batch_size, shuffle=True, seed=seed + epoch)
        for inputs, labels in tqdm(batches, desc=f"epoch {epoch}/{epochs}", leave=False):
            inputs, labels = to_device(inputs, device), labels.to(device)
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(logits_of(model, inputs), labels)
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(labels)
            seen += len(labels)
        history.append(
            {
                "epoch": epoch,
                "loss": total_loss / seen,
                "train_accuracy": accuracy(model, train, device),
                "test_accuracy": accuracy(model, test, device),
            }
        )
    return model.cpu().eval(), history
