"""Interchange intervention (spec §5, Table 5): write a counterfactual class's literals into the layer."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import networkx as nx
import numpy as np
import pandas as pd
import torch
from torch import nn

from ndg_pipeline.batches import iterate
from ndg_pipeline.data.splits import Split, capped
from ndg_pipeline.device import resolve_device
from ndg_pipeline.names import (
    GRAPH_SETS,
    RANDOM_SETS,
    layer_of,
    literal_key,
    neuron_columns,
    parse_literal,
    split_predicate,
)
from ndg_pipeline.ndg.binarize import threshold_value
from ndg_pipeline.ndg.graph import Closure, DependencyGraph, intervention_closure_graph
from ndg_pipeline.probe import Position, Site, Write, probing

ValueMode = Literal["patch", "reference"]
SET_TYPES = (0, 1, 2)
OUTCOMES = ("aligned", "unchanged", "unaligned")
Seed = int | Sequence[int]  # what numpy's default_rng accepts: shards of a split use (seed, shard)
Graph = DependencyGraph | nx.DiGraph | Closure


class Runner(Protocol):
    """Runs one intervention (``run_intervention`` or ``random_baseline``) on a model and split."""

    def __call__(
        self, run: Callable[..., InterventionOutcome], model: nn.Module, split: Split, *args: Any, **kwargs: Any
    ) -> InterventionOutcome: ...


def _direct(
    run: Callable[..., InterventionOutcome], model: nn.Module, split: Split, *args: Any, **kwargs: Any
) -> InterventionOutcome:
    """Run the intervention in this process, on the whole split."""
    return run(model, split, *args, **kwargs)


def closure_of(graph: Graph) -> Closure:
    """The intervention closure of a graph (a closure is returned as it is, so it is computed once)."""
    return graph if isinstance(graph, Closure) else intervention_closure_graph(graph)


def intervention_set(
    closure: Closure, target_class: int, true_class: int | None = None, set_type: int = 0
) -> frozenset[str]:
    """The literals to make true so the network predicts ``target_class`` (spec §5 step 2).

    ``closure`` is ``intervention_closure_graph(graph)``, so equivalent literals come along. Type 0 (the
    paper's Q): A = ``class:c`` and its ancestors, D = A and everything reachable from A. Type 1: ``class:c``
    and its descendants, plus the negations of ``class:y`` and its descendants. Type 2: ``class:c`` and its
    descendants only. Reachability is computed on the sparse adjacency (each literal expanded once).
    """
    if set_type not in SET_TYPES:
        raise ValueError(f"set_type {set_type!r} is unknown; choose one of {SET_TYPES}.")
    target = closure.class_literal(target_class)
    if set_type == 0:
        ancestors = np.flatnonzero(closure.reach(np.array([target]), backward=True))
        return closure.names(closure.reach(ancestors))
    forward = closure.reach(np.array([target]))
    if set_type == 2:
        return closure.names(forward)
    if true_class is None:
        raise ValueError("set_type 1 needs the true class (the negations of its forward closure enter).")
    negated = np.flatnonzero(closure.reach(np.array([closure.class_literal(true_class)]))) ^ 1
    forward[negated] = True
    return closure.names(forward)


def neuron_assignments(literals: Iterable[str], layers: Iterable[str]) -> tuple[dict[str, bool], int]:
    """Neuron predicate → value for the literals of the recorded ``layers``, and the number of contradictions.

    A neuron whose literal and negation are both in the set is a contradiction: it is left out (not written)
    and counted (spec §5 step 3). Class literals and neurons of other layers are dropped.
    """
    aliases = set(layers)
    values: dict[str, set[bool]] = {}
    for literal in sorted(literals, key=literal_key):
        predicate, value = parse_literal(literal)
        if split_predicate(predicate)[0] in aliases:
            values.setdefault(predicate, set()).add(value)
    assignment = {predicate: next(iter(seen)) for predicate, seen in values.items() if len(seen) == 1}
    return assignment, len(values) - len(assignment)


def _layer_means(sums: np.ndarray, counts: np.ndarray, layers: np.ndarray) -> np.ndarray:
    """Per neuron, the pooled mean of its whole layer (NaN when the layer has no such values)."""
    frame = pd.DataFrame({"layer": layers, "sum": sums, "count": counts}).groupby("layer", sort=False).sum()
    pooled = frame["sum"] / frame["count"].where(frame["count"] > 0)
    return pooled.reindex(layers).to_numpy(dtype=np.float64)


def _fallback_means(values: np.ndarray, chosen: np.ndarray, layers: np.ndarray, limits: np.ndarray) -> np.ndarray:
    """Mean of ``values`` where ``chosen`` per neuron, else its layer's pooled mean, else the threshold."""
    sums = np.where(chosen, values, 0.0).sum(axis=0)
    counts = chosen.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts
    means = np.where(counts > 0, means, _layer_means(sums, counts, layers))
    return np.where(np.isnan(means), limits, means)


def on_off_values(activations: pd.DataFrame, thresholds: Mapping[str, str | float]) -> pd.DataFrame:
    """Per neuron, its mean train activation when on and when off: the values ``patch`` mode writes.

    A neuron never on (never off) falls back to its layer's mean on (off) value, and failing that to the
    threshold itself. Index: the neuron columns (``alias:i``); columns ``on`` and ``off``.
    """
    neurons = neuron_columns(activations.columns)
    layers = np.array([layer_of(column) for column in neurons])
    missing = sorted(set(layers) - set(thresholds))
    if missing:
        raise ValueError(f"no threshold for layer(s) {missing}; add them to binarize.thresholds.")
    limits = np.array([threshold_value(thresholds[layer]) for layer in layers], dtype=np.float64)
    values = activations[neurons].to_numpy(dtype=np.float64)
    on = values > limits
    frame = pd.DataFrame(
        {
            "on": _fallback_means(values, on, layers, limits),
            "off": _fallback_means(values, ~on, layers, limits),
        },
        index=pd.Index(neurons, name="neuron"),
    )
    return frame


def binary_values(neurons: Sequence[str]) -> pd.DataFrame:
    """On = 1, off = 0 for every neuron: the values of ``reference`` mode (the authors' 0/1 feed)."""
    return pd.DataFrame({"on": 1.0, "off": 0.0}, index=pd.Index(list(neurons), name="neuron"))


@dataclass(frozen=True)
class _Layout:
    """The recorded neurons in one fixed order (layers in turn), with their on/off values."""

    columns: tuple[str, ...]
    slices: dict[str, slice]
    on: np.ndarray
    off: np.ndarray
    positions: dict[str, int]


def _layout(values: pd.DataFrame, aliases: Iterable[str]) -> _Layout:
    """Order the neurons of ``aliases`` by layer and index, checking each layer is complete in ``values``."""
    columns: list[str] = []
    slices = {}
    for alias in aliases:
        names = sorted((c for c in values.index if layer_of(c) == alias), key=lambda c: split_predicate(c)[1])
        if not names:
            raise ValueError(f"the on/off values have no neuron of layer {alias!r}; record that layer first.")
        if [split_predicate(name)[1] for name in names] != list(range(len(names))):
            raise ValueError(f"the on/off values of layer {alias!r} are not neurons 0…{len(names) - 1}.")
        slices[alias] = slice(len(columns), len(columns) + len(names))
        columns.extend(names)
    ordered = values.loc[columns]
    return _Layout(
        columns=tuple(columns),
        slices=slices,
        on=ordered["on"].to_numpy(dtype=np.float32),
        off=ordered["off"].to_numpy(dtype=np.float32),
        positions={name: index for index, name in enumerate(columns)},
    )


@dataclass(frozen=True)
class _Row:
    """One input's writes over the layout: which neurons, which values, and how many of each kind."""

    mask: np.ndarray
    values: np.ndarray
    set_size: int
    contradictions: int


def _row(layout: _Layout, assignment: Mapping[str, bool], contradictions: int) -> _Row:
    """The dense writes of a neuron assignment (true → the neuron's on value, false → its off value)."""
    unknown = sorted(set(assignment) - set(layout.positions))
    if unknown:
        raise ValueError(f"the graph names neurons the recorded layers lack: {unknown[:10]}")
    indices = np.array([layout.positions[p] for p in assignment], dtype=np.int64)
    turned_on = np.array(list(assignment.values()), dtype=bool)
    return _dense_row(layout, indices, turned_on, contradictions)


def _dense_row(layout: _Layout, indices: np.ndarray, turned_on: np.ndarray, contradictions: int) -> _Row:
    """The dense writes of the neurons at ``indices``, each set to its on or off value."""
    mask = np.zeros(len(layout.columns), dtype=bool)
    values = np.zeros(len(layout.columns), dtype=np.float32)
    mask[indices] = True
    values[indices] = np.where(turned_on, layout.on[indices], layout.off[indices])
    return _Row(mask, values, len(indices), contradictions)


def draw_counterfactuals(labels: np.ndarray, num_classes: int, rng: np.random.Generator) -> np.ndarray:
    """One counterfactual class per label, uniform over the other classes (C = 2: 1 − y, no draw)."""
    if num_classes < 2:
        raise ValueError(f"a counterfactual class needs at least 2 classes; the model has {num_classes}.")
    labels = np.asarray(labels, dtype=np.int64)
    if num_classes == 2:
        return 1 - labels
    drawn = rng.integers(0, num_classes - 1, size=len(labels))
    return drawn + (drawn >= labels)


def patch_neurons(
    values: torch.Tensor, mask: torch.Tensor, written: torch.Tensor, threshold: float | None = None
) -> torch.Tensor:
    """A layer's (batch, neurons) values with the ``mask``ed neurons set to ``written``.

    With ``threshold`` (``reference`` mode) the whole layer is first binarized (> threshold → 1, else 0), as the
    authors' code fed 0/1 to the rest of the network.
    """
    if mask.shape != values.shape:
        raise ValueError(
            f"the layer outputs {values.shape[1]} neurons per input here but {mask.shape[1]} were recorded."
        )
    base = values if threshold is None else (values > threshold).to(values.dtype)
    return torch.where(mask.to(values.device), written.to(values.device, values.dtype), base)


@dataclass
class _Pending:
    """The writes of the batch being run; empty during the clean pass."""

    mask: torch.Tensor | None = None
    values: torch.Tensor | None = None


def _layer_write(pending: _Pending, part: slice, threshold: float | None) -> Write:
    """The probe write of one layer's share of the pending writes (nothing during the clean pass)."""

    def write(values: torch.Tensor) -> torch.Tensor | None:
        if pending.mask is None or pending.values is None:
            return None
        return patch_neurons(values, pending.mask[:, part], pending.values[:, part], threshold)

    return write


@dataclass(frozen=True)
class InterventionOutcome:
    """Per correctly classified input: its counterfactual, new prediction and outcome; with the split's size.

    ``inputs`` is indexed by the input's position in the split (``input``) with columns ``label``,
    ``counterfactual``, ``new_prediction``, ``outcome`` (aligned / unchanged / unaligned), ``set_size``
    (neurons written) and ``contradictions``.
    """

    inputs: pd.DataFrame
    n_inputs: int

    @property
    def n_correct(self) -> int:
        """Correctly classified inputs, the ones intervened on."""
        return len(self.inputs)

    def percent(self, outcome: str) -> float:
        """Share of the correctly classified inputs with this outcome, in percent (a mean over inputs)."""
        return 100.0 * float((self.inputs["outcome"] == outcome).mean()) if self.n_correct else float("nan")


def _outcomes(labels: np.ndarray, counterfactual: np.ndarray, new: np.ndarray) -> np.ndarray:
    """aligned (ĉ = c), unchanged (ĉ = y) or unaligned (anything else), per input."""
    return np.select([new == counterfactual, new == labels], OUTCOMES[:2], OUTCOMES[2]).astype(object)


@torch.no_grad()
def _intervene(
    model: nn.Module,
    split: Split,
    layers: Mapping[str, str],
    position: Position,
    layout: _Layout,
    plan: Callable[[int, int], _Row],
    thresholds: Mapping[str, float] | None,
    seed: Seed,
    batch_size: int,
    max_inputs: int | None,
    device: str | None,
    desc: str | None,
) -> InterventionOutcome:
    """Per batch: a clean pass, the counterfactual draws, then one written pass; keep the correct inputs."""
    torch_device = resolve_device(device)
    model.eval().to(torch_device)
    rng = np.random.default_rng(seed)
    pending = _Pending()
    writes = {
        Site(path, position): _layer_write(
            pending, layout.slices[alias], None if thresholds is None else thresholds[alias]
        )
        for alias, path in layers.items()
    }
    chunks, seen = [], 0
    with probing(model, writes=writes) as probe:
        for inputs, batch_labels in iterate(capped(split, max_inputs), batch_size, torch_device, desc):
            pending.mask = pending.values = None
            labels = batch_labels.cpu().numpy().astype(np.int64)
            logits = probe.forward(inputs)
            correct = np.flatnonzero(logits.argmax(dim=1).cpu().numpy() == labels)
            counterfactual = draw_counterfactuals(labels[correct], logits.shape[1], rng)
            rows = [plan(int(y), int(c)) for y, c in zip(labels[correct], counterfactual, strict=True)]
            if rows:
                mask = np.zeros((len(labels), len(layout.columns)), dtype=bool)
                values = np.zeros(mask.shape, dtype=np.float32)
                mask[correct] = np.stack([row.mask for row in rows])
                values[correct] = np.stack([row.values for row in rows])
                pending.mask = torch.from_numpy(mask).to(torch_device)
                pending.values = torch.from_numpy(values).to(torch_device)
                new = probe.forward(inputs).argmax(dim=1).cpu().numpy()[correct]
                chunks.append(
                    pd.DataFrame(
                        {
                            "label": labels[correct],
                            "counterfactual": counterfactual.astype(np.int64),
                            "new_prediction": new.astype(np.int64),
                            "outcome": _outcomes(labels[correct], counterfactual, new),
                            "set_size": np.array([row.set_size for row in rows], dtype=np.int64),
                            "contradictions": np.array([row.contradictions for row in rows], dtype=np.int64),
                        },
                        index=pd.Index(seen + correct, name="input"),
                    )
                )
            seen += len(labels)
    if not seen:
        raise ValueError("the split is empty: there is nothing to intervene on.")
    return InterventionOutcome(_frame(chunks), seen)


def _frame(chunks: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate the per-batch outcome tables (an empty, typed table when no input was correct)."""
    if chunks:
        return pd.concat(chunks)
    columns = {
        name: pd.Series(dtype=object if name == "outcome" else np.int64)
        for name in ("label", "counterfactual", "new_prediction", "outcome", "set_size", "contradictions")
    }
    return pd.DataFrame(columns, index=pd.Index([], dtype=np.int64, name="input"))


def _set_planner(closure: Closure, layers: Iterable[str], layout: _Layout, set_type: int) -> Callable:
    """Per (y, c), the dense writes of the intervention set, cached per c (per (y, c) for type 1)."""
    aliases = list(layers)
    cache: dict[tuple[int | None, int], _Row] = {}

    def plan(label: int, counterfactual: int) -> _Row:
        key = (label if set_type == 1 else None, counterfactual)
        if key not in cache:
            literals = intervention_set(closure, counterfactual, label, set_type)
            cache[key] = _row(layout, *neuron_assignments(literals, aliases))
        return cache[key]

    return plan


def _resolved_thresholds(thresholds: Mapping[str, str | float], aliases: Iterable[str]) -> dict[str, float]:
    """The numeric threshold of every recorded layer."""
    missing = sorted(set(aliases) - set(thresholds))
    if missing:
        raise ValueError(f"no threshold for layer(s) {missing}; add them to binarize.thresholds.")
    return {alias: threshold_value(thresholds[alias]) for alias in aliases}


def run_intervention(
    model: nn.Module,
    split: Split,
    layers: Mapping[str, str],
    position: Position,
    graph: Graph,
    thresholds: Mapping[str, str | float],
    values: pd.DataFrame,
    mode: ValueMode = "patch",
    set_type: int = 0,
    seed: Seed = 0,
    batch_size: int = 512,
    max_inputs: int | None = None,
    device: str | None = None,
    desc: str | None = None,
) -> InterventionOutcome:
    """Make each correctly classified input's network predict a seeded counterfactual class via the graph.

    ``values`` holds the on/off value written per neuron (``on_off_values`` for ``patch``, ``binary_values``
    for ``reference``); ``reference`` mode also binarizes the whole recorded layer (> threshold → 1, else 0)
    before writing, as the authors' code did. ``graph`` is the dependency graph (equivalences are linked here)
    or its ``intervention_closure_graph``. ``seed`` (an int or a sequence of ints) seeds the counterfactuals.
    """
    if mode not in ("patch", "reference"):
        raise ValueError(f"mode {mode!r} is unknown; choose 'patch' or 'reference'.")
    layout = _layout(values, layers)
    limits = _resolved_thresholds(thresholds, layers) if mode == "reference" else None
    plan = _set_planner(closure_of(graph), layers, layout, set_type)
    return _intervene(model, split, layers, position, layout, plan, limits, seed, batch_size, max_inputs, device, desc)


def random_baseline(
    model: nn.Module,
    split: Split,
    layers: Mapping[str, str],
    position: Position,
    graph: Graph,
    thresholds: Mapping[str, str | float],
    values: pd.DataFrame,
    mode: ValueMode = "patch",
    set_type: int = 0,
    seed: Seed = 0,
    batch_size: int = 512,
    max_inputs: int | None = None,
    device: str | None = None,
    desc: str | None = None,
) -> InterventionOutcome:
    """Control: per correct input, as many random neurons as its real set writes, each randomly on or off.

    Same counterfactual draws as ``run_intervention`` with this seed, written with the same ``values`` and
    ``mode``; the neurons and their on/off values come from a second generator seeded by (*seed, 1).
    """
    layout = _layout(values, layers)
    limits = _resolved_thresholds(thresholds, layers) if mode == "reference" else None
    real = _set_planner(closure_of(graph), layers, layout, set_type)
    rng = np.random.default_rng([*np.atleast_1d(seed), 1])

    def plan(label: int, counterfactual: int) -> _Row:
        size = real(label, counterfactual).set_size
        indices = rng.choice(len(layout.columns), size=size, replace=False)
        return _dense_row(layout, indices, rng.random(size) < 0.5, 0)

    return _intervene(model, split, layers, position, layout, plan, limits, seed, batch_size, max_inputs, device, desc)


def summarize(
    outcome: InterventionOutcome, split_name: str, mode: str, num_neurons: int, sets: str = GRAPH_SETS
) -> dict:
    """One Table-5 row: outcome percentages over correct inputs, accuracy, contradictions and set sizes.

    ``sets`` says whose sets were written: the graph's (``graph``) or the random baseline's (``random``)."""
    inputs = outcome.inputs
    mean_set_size = float(inputs["set_size"].mean()) if outcome.n_correct else float("nan")
    return {
        "split": split_name,
        "mode": mode,
        "sets": sets,
        **{name: outcome.percent(name) for name in OUTCOMES},
        "model_accuracy": 100.0 * outcome.n_correct / outcome.n_inputs,
        "mean_contradictions": float(inputs["contradictions"].mean()) if outcome.n_correct else float("nan"),
        "mean_set_size": mean_set_size,
        "set_fraction": mean_set_size / num_neurons,
        "n_correct": outcome.n_correct,
        "n_inputs": outcome.n_inputs,
    }


def per_class_table(outcome: InterventionOutcome) -> pd.DataFrame:
    """Outcome percentages, set sizes and contradictions per counterfactual class."""
    inputs = outcome.inputs
    shares = pd.crosstab(inputs["counterfactual"], inputs["outcome"], normalize="index") * 100.0
    table = pd.DataFrame(
        {
            "n": inputs.groupby("counterfactual").size(),
            **{name: shares.get(name, 0.0) for name in OUTCOMES},
            "mean_set_size": inputs.groupby("counterfactual")["set_size"].mean(),
            "mean_contradictions": inputs.groupby("counterfactual")["contradictions"].mean(),
        }
    )
    return table.rename_axis("counterfactual").reset_index().astype({"counterfactual": np.int64, "n": np.int64})


def intervention_report(
    model: nn.Module,
    splits: Mapping[str, Split],
    layers: Mapping[str, str],
    position: Position,
    graph: Graph,
    thresholds: Mapping[str, str | float],
    train_activations: pd.DataFrame,
    value_modes: Sequence[ValueMode] = ("patch", "reference"),
    set_type: int = 0,
    seed: int = 0,
    batch_size: int = 512,
    max_inputs: int | None = None,
    device: str | None = None,
    runner: Runner | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Table 5 (one row per split × value mode × sets, ``graph`` or ``random``) and the per-class table of each run.

    The random-set baseline runs in every value mode, with that mode's values, beside the graph's sets. The
    closure is computed once; ``runner`` runs each (``run_intervention`` or ``random_baseline``, model, split,
    arguments) — by default directly, or over shards of the split (``ndg_pipeline.ndg.sharding``)."""
    runner = runner or _direct
    closure = closure_of(graph)
    patch_values = on_off_values(train_activations, thresholds)
    mode_values = {"patch": patch_values, "reference": binary_values(patch_values.index)}
    num_neurons = len(_layout(patch_values, layers).columns)
    common = {"set_type": set_type, "seed": seed, "batch_size": batch_size, "max_inputs": max_inputs, "device": device}
    rows, classes = [], []
    for split_name, split in splits.items():
        for mode in value_modes:
            for sets, run in ((GRAPH_SETS, run_intervention), (RANDOM_SETS, random_baseline)):
                outcome = runner(
                    run,
                    model,
                    split,
                    layers,
                    position,
                    closure,
                    thresholds,
                    mode_values[mode],
                    mode,
                    desc=f"intervene {split_name} {mode} {sets}",
                    **common,
                )
                rows.append(summarize(outcome, split_name, mode, num_neurons, sets))
                classes.append(per_class_table(outcome).assign(split=split_name, mode=mode, sets=sets))
    per_class = pd.concat(classes, ignore_index=True)
    return pd.DataFrame(rows), per_class[["split", "mode", "sets", *per_class.columns[:-3]]]
