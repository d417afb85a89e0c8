"""Links between the three lenses on one model: which NDG neurons an input concept switches on, and how a layer's
effective information sits beside its dependency edges."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from ndg_pipeline.names import class_predicate, layer_of, literal_name, parse_literal, split_predicate
from ndg_pipeline.probe import Site, probing


def producing_linear(model: nn.Module, path: str, example: Any) -> str | None:
    """The ``nn.Linear`` whose output ``path`` reads (itself when it is one, else the Linear whose output equals
    the module's input on ``example``, e.g. the Linear before the latent's Sigmoid), or None."""
    linears = [name for name, module in model.named_modules() if isinstance(module, nn.Linear)]
    if path in linears:
        return path
    reads = {name: Site(name) for name in linears} | {"target": Site(path, stream="input")}
    with torch.no_grad(), probing(model.eval(), reads=reads) as probe:
        probe.forward(example)
        target = probe.take("target")
        for name in linears:
            seen = probe.take(name)
            if seen.shape == target.shape and torch.equal(seen, target):
                return name
    return None


def layer_dependencies(
    ei_layers: pd.DataFrame, edges: pd.DataFrame, producers: Mapping[str, str | None]
) -> pd.DataFrame:
    """Per recorded layer (alias → the Linear producing it): its EI measures beside its NDG edges.

    ``ei_layers`` has one row per measured Linear (``layer`` and its measures); an edge belongs to a layer when
    either end is one of its neurons (edges to and from the class literals included).
    """
    rows = []
    measures = ei_layers.set_index("layer")
    for alias, linear in producers.items():
        touching = edges[(edges["source"].map(layer_of) == alias) | (edges["target"].map(layer_of) == alias)]
        within = touching[(touching["source"].map(layer_of) == alias) & (touching["target"].map(layer_of) == alias)]
        measured = measures.loc[linear] if linear in measures.index else pd.Series(dtype=float)
        rows.append(
            {
                "layer": alias,
                "linear": linear,
                "edges": len(touching),
                "edges_within": len(within),
                "edge_test_accuracy": touching["test_precision"].mean() if len(touching) else np.nan,
                **{name: float(measured.get(name, np.nan)) for name in ("ei", "ei_parts", "sensitivity")},
                "degeneracy": float(measured.get("degeneracy_parts", np.nan)),
            }
        )
    return pd.DataFrame(rows)


def class_neurons(edges: pd.DataFrame, class_index: int) -> tuple[list[str], list[str]]:
    """The sufficient (n → c) and necessary (c → n) neuron literals of class ``class_index`` in the edge table."""
    target = class_predicate(class_index)
    sources = edges["source"].map(str)
    targets = edges["target"].map(str)
    into = edges[(targets == target) & edges["target_value"] & ~sources.str.startswith("class:")]
    out = edges[(sources == target) & edges["source_value"] & ~targets.str.startswith("class:")]
    sufficient = [literal_name(p, bool(v)) for p, v in zip(into["source"], into["source_value"], strict=True)]
    necessary = [literal_name(p, bool(v)) for p, v in zip(out["target"], out["target_value"], strict=True)]
    return sufficient, necessary


def literals_hold(values: pd.Series, literals: Sequence[str], thresholds: Mapping[str, float]) -> np.ndarray:
    """Whether each neuron literal holds for one input's recorded values (``alias:i`` → value)."""
    held = []
    for literal in literals:
        predicate, value = parse_literal(literal)
        alias, _ = split_predicate(predicate)
        held.append(bool(values[predicate] > thresholds[alias]) == value)
    return np.array(held, dtype=bool)


def concept_neurons(
    model: nn.Module,
    concepts: pd.DataFrame,
    masked_input: Callable[[int, int], Any],
    layers: Mapping[str, str],
    thresholds: Mapping[str, float],
    edges: pd.DataFrame,
) -> pd.DataFrame:
    """For each concept (a row of ``concepts``: ``sample``, ``label``, ``mask``, …), the input where only that
    concept's players are present (``masked_input(sample, mask)``, the rest at the baseline) is run through the
    model, and the class's sufficient and necessary NDG neuron literals that hold there are counted.

    Returns ``concepts`` with ``sufficient``/``necessary`` (how many the graph has), ``sufficient_on`` /
    ``necessary_on`` (how many hold on the concept-only input) and their shares.
    """
    sites = {alias: Site(path, "first") for alias, path in layers.items()}
    rows = []
    with torch.no_grad(), probing(model.eval(), reads=sites) as probe:
        for row in concepts.to_dict("records"):
            probe.forward(masked_input(int(row["sample"]), int(row["mask"])))
            values = pd.Series(
                {
                    f"{alias}:{index}": float(value)
                    for alias in layers
                    for index, value in enumerate(probe.take(alias)[0].tolist())
                }
            )
            sufficient, necessary = class_neurons(edges, int(row["label"]))
            on_sufficient = literals_hold(values, sufficient, thresholds)
            on_necessary = literals_hold(values, necessary, thresholds)
            rows.append(
                {
                    **row,
                    "sufficient": len(sufficient),
                    "sufficient_on": int(on_sufficient.sum()),
                    "necessary": len(necessary),
                    "necessary_on": int(on_necessary.sum()),
                }
            )
    table = pd.DataFrame(rows)
    with np.errstate(invalid="ignore", divide="ignore"):
        table["sufficient_share"] = table["sufficient_on"] / table["sufficient"].where(table["sufficient"] > 0)
        table["necessary_share"] = table["necessary_on"] / table["necessary"].where(table["necessary"] > 0)
    return table
