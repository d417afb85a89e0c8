"""Record the outputs of named layers of any torch model over a split, with forward hooks."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import torch
from torch import nn

from ndg_pipeline.batches import attention_mask_of, capped, iterate, logits_of
from ndg_pipeline.data.splits import Split
from ndg_pipeline.device import resolve_device
from ndg_pipeline.ndg.layers import Position, resolve_module, select_position

PREDICTED, LABEL = "predicted", "label"


def neuron_columns(alias: str, width: int) -> list[str]:
    """Column (and predicate) names of a recorded layer: ``alias:0`` … ``alias:width-1``."""
    return [f"{alias}:{index}" for index in range(width)]


def layer_of(column: str) -> str:
    """The layer alias of a neuron column (text before the last ':')."""
    return column.rsplit(":", 1)[0]


def first_tensor(output: object) -> torch.Tensor:
    """The tensor a module returned (the first element when it returned a tuple)."""
    return output[0] if isinstance(output, tuple | list) else output  # type: ignore[return-value]


@torch.no_grad()
def record_activations(
    model: nn.Module,
    split: Split,
    layers: Mapping[str, str],
    position: Position = "first",
    batch_size: int = 512,
    max_inputs: int | None = None,
    device: str | None = None,
    desc: str | None = "record",
) -> pd.DataFrame:
    """Run ``model`` in eval mode over ``split`` in order; return one row per input.

    Columns: ``alias:i`` (float32) for every neuron of every layer in ``layers`` (alias → module path as in
    ``model.named_modules()``), then ``predicted`` (argmax of the logits) and ``label`` (the true class).
    Several layers are recorded in one pass; sequence outputs are reduced with ``position``.
    """
    torch_device = resolve_device(device)
    modules = {alias: resolve_module(model, path) for alias, path in layers.items()}
    model.eval().to(torch_device)
    captured: dict[str, list[np.ndarray]] = {alias: [] for alias in layers}
    mask: dict[str, torch.Tensor | None] = {"current": None}

    def hook_for(alias: str):
        def hook(_module: nn.Module, _inputs: object, output: object) -> None:
            values = select_position(first_tensor(output), position, mask["current"])
            captured[alias].append(values.float().cpu().numpy())

        return hook

    handles = [module.register_forward_hook(hook_for(alias)) for alias, module in modules.items()]
    predicted, labels = [], []
    try:
        for inputs, batch_labels in iterate(capped(split, max_inputs), batch_size, torch_device, desc):
            mask["current"] = attention_mask_of(inputs)
            predicted.append(logits_of(model, inputs).argmax(dim=1).cpu().numpy())
            labels.append(batch_labels.cpu().numpy())
    finally:
        for handle in handles:
            handle.remove()
    if not labels:
        raise ValueError("the split is empty: there is nothing to record.")
    blocks = {}
    for alias, chunks in captured.items():
        values = np.concatenate(chunks)
        blocks.update(zip(neuron_columns(alias, values.shape[1]), values.T, strict=True))
    frame = pd.DataFrame(blocks)
    frame[PREDICTED] = np.concatenate(predicted).astype(np.int64)
    frame[LABEL] = np.concatenate(labels).astype(np.int64)
    return frame
