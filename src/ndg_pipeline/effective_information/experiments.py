"""The paper's experiments: train a small network and measure every layer's EI, EI_parts, sensitivity and
degeneracy after each epoch; and the same measures for the Linear layers of any trained model."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from ndg_pipeline.data.splits import Split
from ndg_pipeline.effective_information.causal_plane import causal_plane, degeneracy, integration
from ndg_pipeline.effective_information.measures import (
    SampleCapWarning,
    ei_parts_matrix,
    sensitivity,
    vector_and_pairwise_ei,
    whole_ei_is_capped,
)
from ndg_pipeline.effective_information.topology import linear_layers, topology_of

MEASURES = (
    "ei",
    "ei_parts",
    "sensitivity",
    "degeneracy_parts",
    "degeneracy_whole",
    "integration",
    "plane_x",
    "plane_y",
)


@dataclass(frozen=True)
class Measurement:
    """How layers are measured: samples (sensitivity: per input), bins, mode, seed, ReLU bound, device."""

    samples: int = 10_000
    sensitivity_samples: int = 2_000
    bins: int = 8
    reference: bool = False
    seed: int = 0
    relu_max: float = 10.0
    device: str | torch.device = "auto"
    whole_when_capped: bool = True


def measure_layers(
    model: nn.Module, example: torch.Tensor, settings: Measurement, layers: Sequence[str] | None = None
) -> list[dict]:
    """One row per Linear layer (or per path in ``layers``): EI, EI_parts, sensitivity and what derives from them.

    The first layer's input range is [0, 1] (our inputs are scaled there); later ones come from the activation
    before them. Whole-layer EI is NaN where it is capped by the samples and ``whole_when_capped`` is off.
    """
    topology = topology_of(model, example, relu_max=settings.relu_max)
    chosen = list(layers) if layers is not None else linear_layers(topology)
    first = linear_layers(topology)[0]
    rows = []
    for path in chosen:
        common = {
            "in_bins": settings.bins,
            "out_bins": settings.bins,
            "in_range": (0.0, 1.0) if path == first else None,
            "device": settings.device,
            "reference": settings.reference,
            "seed": settings.seed,
        }
        n_in = int(torch.tensor(topology.nodes[path]["input"]["shape"][1:]).prod())
        capped = whole_ei_is_capped(n_in, settings.bins, settings.samples)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SampleCapWarning)  # recorded in the row's ``capped`` column instead
            if capped and not settings.whole_when_capped:
                whole, parts = math.nan, float(ei_parts_matrix(path, topology, settings.samples, **common).sum())
            else:
                whole, parts = vector_and_pairwise_ei(path, topology, settings.samples, **common)
        sens = sensitivity(path, topology, settings.sensitivity_samples, **common)
        plane_x, plane_y = causal_plane(sens, degeneracy(sens, parts))
        rows.append(
            {
                "layer": path,
                "n_in": n_in,
                "n_out": int(torch.tensor(topology.nodes[path]["output"]["shape"][1:]).prod()),
                "capped": capped,
                "ei": whole,
                "ei_parts": parts,
                "sensitivity": sens,
                "degeneracy_parts": degeneracy(sens, parts),
                "degeneracy_whole": degeneracy(sens, whole),
                "integration": integration(whole, parts),
                "plane_x": plane_x,
                "plane_y": plane_y,
            }
        )
    return rows


def _accuracy(model: nn.Module, split: Split) -> float:
    inputs, labels = split.dataset.tensors  # type: ignore[attr-defined]
    with torch.no_grad():
        return float((model(inputs).argmax(dim=1) == labels).float().mean())


def train_and_measure(
    model: nn.Sequential,
    train: Split,
    test: Split,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    seed: int,
    settings: Measurement,
    measure_every: int = 1,
    desc: str | None = None,
) -> pd.DataFrame:
    """Train ``model`` (Adam on the MSE to one-hot targets, the paper's loss) and measure every Linear layer at
    epoch 0 and every ``measure_every`` epochs; one row per (epoch, layer), with train and test accuracy."""
    generator = torch.Generator().manual_seed(seed)
    inputs, labels = train.dataset.tensors  # type: ignore[attr-defined]
    targets = nn.functional.one_hot(labels, model[-2].out_features).float()
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    example = inputs[:1]
    rows: list[dict] = []
    for epoch in tqdm(range(epochs + 1), desc=desc, leave=False, disable=desc is None):
        if epoch > 0:
            order = torch.randperm(len(inputs), generator=generator)
            for start in range(0, len(inputs), batch_size):
                batch = order[start : start + batch_size]
                optimizer.zero_grad()
                nn.functional.mse_loss(model(inputs[batch]), targets[batch]).backward()
                optimizer.step()
        if epoch % measure_every and epoch != epochs:
            continue
        accuracy = {"train_accuracy": _accuracy(model, train), "test_accuracy": _accuracy(model, test)}
        for index, row in enumerate(measure_layers(model, example, settings)):
            rows.append({"epoch": epoch, "layer_index": index, **row, **accuracy})
    return pd.DataFrame(rows)
