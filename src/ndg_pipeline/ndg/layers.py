"""Find a model's layers by dotted name and select sequence positions from their outputs."""

from __future__ import annotations

import difflib
from typing import Literal

import torch
from torch import nn

Position = Literal["first", "last", "mean"]
POSITIONS: tuple[str, ...] = ("first", "last", "mean")


def resolve_module(model: nn.Module, path: str) -> nn.Module:
    """Return the submodule named ``path`` (as in ``model.named_modules()``); list near names if it is absent."""
    modules = dict(model.named_modules())
    if path in modules and path != "":
        return modules[path]
    names = [name for name in modules if name]
    close = difflib.get_close_matches(path, names, n=8, cutoff=0.3)
    hint = close or names[:20]
    raise ValueError(
        f"layer {path!r} is not a module of {type(model).__name__}. "
        f"Closest existing names: {', '.join(hint)}. "
        "Set the layer to one of the names printed by model.named_modules()."
    )


def select_position(output: torch.Tensor, position: Position, attention_mask: torch.Tensor | None = None):
    """Reduce a (batch, seq, features) output to (batch, features); 2-D outputs pass through unchanged.

    ``first`` takes token 0 ([CLS] / ``<s>``), ``last`` the last non-padding token, ``mean`` the mean over
    non-padding tokens. Outputs of more dimensions (convolutions) are flattened per input.
    """
    if position not in POSITIONS:
        raise ValueError(f"position {position!r} is unknown; choose one of {', '.join(POSITIONS)}.")
    if output.dim() == 2:
        return output
    if output.dim() != 3:
        return output.flatten(start_dim=1)
    if position == "first":
        return output[:, 0]
    if attention_mask is None:
        attention_mask = torch.ones(output.shape[:2], dtype=torch.long, device=output.device)
    mask = attention_mask.to(output.device)
    if position == "last":
        last = mask.sum(dim=1).clamp(min=1) - 1
        return output[torch.arange(output.shape[0], device=output.device), last]
    weights = mask.unsqueeze(-1).to(output.dtype)
    return (output * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1)
