"""Pick the torch device a computation runs on: CUDA when there is one, else the CPU."""

from __future__ import annotations

import torch


def resolve_device(name: str | None = None) -> torch.device:
    """Return ``torch.device(name)``, or CUDA when available and ``name`` is None or ``"auto"``."""
    if name in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} was asked for, but CUDA is not available here; use 'auto' or 'cpu'.")
    return device
