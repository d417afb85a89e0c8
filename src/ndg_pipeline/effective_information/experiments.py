"""The paper's experiments: train a small network and measure every layer's EI, EI_parts, sensitivity and
degeneracy at chosen epochs; and the same measures for the Linear layers of any trained model.

Every value carries its N/2 → N convergence check (:class:`~ndg_pipeline.effective_information.measures.Estimate`).
Whole-layer EI, the "whole" degeneracy and integration are NaN where the whole-layer estimate has not converged
(``ei_converged`` False; ``ei_estimate`` keeps the unconverged number for inspection, never for plotting).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from ndg_pipeline.data.splits import DatasetSplits, Split
from ndg_pipeline.effective_information.causal_plane import causal_plane, degeneracy, integration
from ndg_pipeline.effective_information.measures import layer_estimates, whole_ei_is_capped
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
FLAGS = ("ei_converged", "ei_parts_converged", "sensitivity_converged", "outside_flag")
OUTSIDE_LIMIT = 0.01
"""A layer whose intervened outputs fall outside the output range more often than this is flagged."""


@dataclass(frozen=True)
class Measurement:
    """How layers are measured: samples (sensitivity: per input), bins, mode, seed, ReLU bound, device, and whether
    unbounded activations' ranges come from observed activations (``observed_ranges``)."""

    samples: int = 400_000
    sensitivity_samples: int = 5_000
    bins: int = 8
    reference: bool = False
    seed: int = 0
    relu_max: float = 10.0
    device: str | torch.device = "auto"
    whole_when_capped: bool = False
    observed_ranges: bool = True


def observed_ranges(model: nn.Module, inputs: torch.Tensor, topology, layers: Sequence[str]) -> dict[str, tuple]:
    """Per Linear layer whose input or output activation is unbounded above (ReLU-like, or none): the [min, max]
    its real inputs and outputs span on ``inputs`` (one forward pass), as (in_range, out_range) overrides."""
    from ndg_pipeline.effective_information.topology import layer_map
    from ndg_pipeline.probe import Site, probing

    reads = {}
    for path in layers:
        reads[f"{path}/in"] = Site(path, stream="input")
    with torch.no_grad(), probing(model, reads=reads) as probe:
        probe.forward(inputs)
        seen = {path: probe.take(f"{path}/in") for path in layers}
    result = {}
    for path in layers:
        g = layer_map(topology, path)
        with torch.no_grad():
            out = seen[path].reshape(len(seen[path]), -1)
            for module in g.modules:
                out = module(out)
        x = seen[path]
        ranges = {}
        if g.in_range[1] >= topology.graph["relu_max"] or g.in_range == (-10.0, 10.0):
            ranges["in_range"] = (float(x.min()), float(x.max()))
        if g.out_range[1] >= topology.graph["relu_max"] or g.out_range == (-10.0, 10.0):
            ranges["out_range"] = (float(out.min()), float(out.max()))
        for key, (low, high) in list(ranges.items()):
            if not high > low:
                ranges[key] = (low, low + 1e-6)
        result[path] = ranges
    return result


def measure_layers(
    model: nn.Module,
    example: torch.Tensor,
    settings: Measurement,
    layers: Sequence[str] | None = None,
    inputs: torch.Tensor | None = None,
) -> list[dict]:
    """One row per Linear layer (or per path in ``layers``): EI, EI_parts, sensitivity with their convergence
    checks, the ranges used, the share of intervened outputs outside the output range, and what derives from them.

    The first layer's input range is [0, 1] (our inputs are scaled there); later ones come from the activation
    before them, or (``settings.observed_ranges`` and real ``inputs`` given) from the activations observed on
    ``inputs`` where the activation is unbounded.
    """
    topology = topology_of(model, example, relu_max=settings.relu_max)
    chosen = list(layers) if layers is not None else linear_layers(topology)
    first = linear_layers(topology)[0]
    observed = (
        observed_ranges(model, inputs, topology, chosen) if settings.observed_ranges and inputs is not None else {}
    )
    rows = []
    for path in chosen:
        n_in = int(np.prod(topology.nodes[path]["input"]["shape"][1:]))
        capped = whole_ei_is_capped(n_in, settings.bins, settings.samples)
        ranges = {"in_range": (0.0, 1.0) if path == first else None, "out_range": None}
        ranges.update(observed.get(path, {}))
        found = layer_estimates(
            path, topology, settings.samples, settings.sensitivity_samples, whole=not capped or
            settings.whole_when_capped, bins=settings.bins, device=settings.device, reference=settings.reference,
            seed=settings.seed, **ranges,
        )  # fmt: skip
        # capped: every input tuple (nearly) unique, the estimate is H(outputs) at N/2 and N alike — not converged
        whole_converged = found.ei is not None and found.ei.converged and not capped
        whole = found.ei.value if whole_converged else math.nan
        sens, parts = found.sensitivity.value, found.ei_parts.value
        plane_x, plane_y = causal_plane(sens, degeneracy(sens, parts))
        rows.append(
            {
                "layer": path,
                "n_in": n_in,
                "n_out": int(np.prod(topology.nodes[path]["output"]["shape"][1:])),
                "samples": settings.samples,
                "sensitivity_samples": settings.sensitivity_samples,
                "capped": capped,
                "ei": whole,
                "ei_estimate": math.nan if found.ei is None else found.ei.value,
                "ei_change": math.nan if found.ei is None else found.ei.change,
                "ei_converged": whole_converged,
                "ei_parts": parts,
                "ei_parts_change": found.ei_parts.change,
                "ei_parts_converged": found.ei_parts.converged,
                "sensitivity": sens,
                "sensitivity_change": found.sensitivity.change,
                "sensitivity_converged": found.sensitivity.converged,
                "degeneracy_parts": degeneracy(sens, parts),
                "degeneracy_whole": degeneracy(sens, whole),
                "integration": integration(whole, parts),
                "plane_x": plane_x,
                "plane_y": plane_y,
                "in_low": found.in_range[0],
                "in_high": found.in_range[1],
                "out_low": found.out_range[0],
                "out_high": found.out_range[1],
                "ranges_observed": bool(observed.get(path)),
                "outside_share": found.outside_share,
                "outside_flag": found.outside_share > OUTSIDE_LIMIT,
            }
        )
    return rows


def measure_model(
    model: nn.Module,
    layers: Sequence[str],
    settings: Measurement,
    train: Split | None = None,
    range_inputs: int = 512,
    example: torch.Tensor | None = None,
    dataset: str = "dataset",
) -> pd.DataFrame:
    """A trained model's Linear ``layers`` measured as :func:`measure_layers` does, one row per layer, marked as our
    extension (deep-ei defines no conv networks); the one call behind the lens pipeline and the timeline.

    With ``train`` and ``settings.observed_ranges``, layers after unbounded activations are intervened on over the
    range their real activations span on the first ``range_inputs`` training inputs; the forward pass that records
    the topology uses the first training input, else ``example`` (default: one 1 × 28 × 28 image of zeros).
    ``dataset`` names the model's data in the error for unknown layers."""
    inputs = None
    if train is not None:
        items = [train.dataset[index] for index in range(min(range_inputs, len(train)))]
        inputs = (train.collate(items) if train.collate else torch.utils.data.default_collate(items))[0]
        example = inputs[:1]
    example = torch.zeros((1, 1, 28, 28)) if example is None else example
    known = linear_layers(topology_of(model, example))
    unknown = sorted(set(layers) - set(known))
    if unknown:
        raise ValueError(
            f"effective_information.model_layers.layers names {unknown}, which are not Linear layers of the trained "
            f"model ({dataset}); its Linear layers are {known}."
        )
    inputs = inputs if settings.observed_ranges else None
    return pd.DataFrame(measure_layers(model, example, settings, layers, inputs=inputs)).assign(extension=True)


def paper_iris(seed: int, train_size: int = 100, scale: float = 8.0) -> DatasetSplits:
    """Iris as deep-ei's run script prepares it: features divided by ``scale`` (8), shuffled (seeded here; the
    script's shuffle is unseeded), the first ``train_size`` (100) rows for training, the other 50 for testing."""
    from sklearn.datasets import load_iris

    from ndg_pipeline.data.iris import load_iris_splits

    data = load_iris()
    order = np.random.default_rng(seed).permutation(len(data.target))
    features = torch.from_numpy((data.data[order] / scale).astype(np.float32))
    labels = torch.as_tensor(data.target[order])

    def split(rows: slice) -> Split:
        return Split(torch.utils.data.TensorDataset(features[rows], labels[rows]))

    names = load_iris_splits().class_names
    info = {"source": "sklearn.datasets.load_iris / 8", "train_size": train_size, "split_seed": seed}
    return DatasetSplits("iris_paper", split(slice(0, train_size)), split(slice(train_size, None)), names, info)


def _accuracy(model: nn.Module, split: Split) -> float:
    inputs, labels = split.dataset.tensors  # type: ignore[attr-defined]
    with torch.no_grad():
        return float((model(inputs).argmax(dim=1) == labels).float().mean())


@dataclass(frozen=True)
class Training:
    """How one of the paper's networks is trained: epochs, batch, SGD or Adam, summed or mean MSE, and the epochs
    at which every layer is measured (epoch 0 = the initial weights)."""

    epochs: int
    batch_size: int
    learning_rate: float
    measure_epochs: tuple[int, ...]
    optimizer: str = "sgd"
    loss_reduction: str = "sum"


@contextmanager
def one_thread() -> Iterator[None]:
    """Run torch on one CPU thread for the block: the paper's networks are far below torch's parallel grain, and on
    a shared machine two threads of them wait on each other (an MNIST 25-6-5 epoch: 6.6 s on two busy cores, 0.07 s
    on one)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def train_and_measure(
    model: nn.Sequential,
    train: Split,
    test: Split,
    training: Training,
    seed: int,
    settings: Measurement,
    desc: str | None = None,
) -> pd.DataFrame:
    """Train ``model`` on the MSE to one-hot targets (the paper's loss) and measure every Linear layer at each of
    ``training.measure_epochs`` (and always the last epoch), on one CPU thread; one row per (epoch, layer), with
    train and test accuracy and loss."""
    generator = torch.Generator().manual_seed(seed)
    inputs, labels = train.dataset.tensors  # type: ignore[attr-defined]
    test_inputs, test_labels = test.dataset.tensors  # type: ignore[attr-defined]
    classes = model[-2].out_features
    targets = nn.functional.one_hot(labels, classes).float()
    test_targets = nn.functional.one_hot(test_labels, classes).float()
    optimizers = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}
    optimizer = optimizers[training.optimizer](model.parameters(), lr=training.learning_rate)
    wanted = {epoch for epoch in training.measure_epochs if epoch <= training.epochs} | {training.epochs}
    rows: list[dict] = []
    with one_thread():
        for epoch in tqdm(range(training.epochs + 1), desc=desc, leave=False, disable=desc is None):
            if epoch > 0:
                order = torch.randperm(len(inputs), generator=generator)
                for start in range(0, len(inputs), training.batch_size):
                    batch = order[start : start + training.batch_size]
                    optimizer.zero_grad()
                    outputs = model(inputs[batch])
                    nn.functional.mse_loss(outputs, targets[batch], reduction=training.loss_reduction).backward()
                    optimizer.step()
            if epoch not in wanted:
                continue
            with torch.no_grad():
                state = {
                    "train_accuracy": _accuracy(model, train),
                    "test_accuracy": _accuracy(model, test),
                    "train_loss": float(nn.functional.mse_loss(model(inputs), targets)),
                    "test_loss": float(nn.functional.mse_loss(model(test_inputs), test_targets)),
                }
            for index, row in enumerate(measure_layers(model, inputs[:1], settings)):
                rows.append({"epoch": epoch, "layer_index": index, **row, **state})
    return pd.DataFrame(rows)
