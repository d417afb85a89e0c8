"""Record the outputs of named layers of any torch model over a split, through the probe."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import torch
from torch import nn

from ndg_pipeline import names
from ndg_pipeline.batches import iterate
from ndg_pipeline.data.splits import Split, capped
from ndg_pipeline.device import resolve_device
from ndg_pipeline.probe import Position, Site, probing


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
    if position == "all":
        raise ValueError("recording needs one vector per input: set position to 'first', 'last' or 'mean'.")
    torch_device = resolve_device(device)
    model.eval().to(torch_device)
    sites = {alias: Site(path, position) for alias, path in layers.items()}
    captured: dict[str, list[np.ndarray]] = {alias: [] for alias in layers}
    predicted, labels = [], []
    with probing(model, reads=sites) as probe:
        for inputs, batch_labels in iterate(capped(split, max_inputs), batch_size, torch_device, desc):
            predicted.append(probe.forward(inputs).argmax(dim=1).cpu().numpy())
            labels.append(batch_labels.cpu().numpy())
            for alias in layers:
                captured[alias].append(probe.take(alias).float().numpy())
    if not labels:
        raise ValueError("the split is empty: there is nothing to record.")
    blocks = {}
    for alias, chunks in captured.items():
        values = np.concatenate(chunks)
        blocks.update(zip(names.predicates(alias, values.shape[1]), values.T, strict=True))
    frame = pd.DataFrame(blocks)
    frame[names.PREDICTED] = np.concatenate(predicted).astype(np.int64)
    frame[names.LABEL] = np.concatenate(labels).astype(np.int64)
    return frame
