"""Where an artefact came from: fingerprints of the model weights and the data split behind it.

Kedro loads the latest version of each catalog entry on its own, so after a partial run a node can receive
inputs made from different models or data. Every derived artefact carries a ``lineage`` (``{"model": …,
"data": …}``): tables in ``DataFrame.attrs`` (kept by parquet), graphs in ``graph.graph``, splits and counts in
their ``lineage`` field; a model's fingerprint is computed from its weights. The project's hooks check that a
node's inputs agree and stamp its outputs (``ndg_pipeline.hooks.Lineage``).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import networkx as nx
import pandas as pd

if TYPE_CHECKING:
    from torch import nn

LINEAGE = "lineage"
MODEL, DATA = "model", "data"
Lineage = dict[str, str]


def _is_model(value: Any) -> bool:
    """Whether ``value`` is a torch module (without importing torch when nothing has)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.nn.Module)


def model_fingerprint(model: nn.Module) -> str:
    """A short hash of every parameter and buffer of ``model`` (names, dtypes, shapes and values)."""
    import torch

    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        value = tensor.detach().to("cpu").contiguous()
        digest.update(f"{name}|{value.dtype}|{tuple(value.shape)}|".encode())
        digest.update(value.view(torch.uint8).numpy().tobytes() if value.numel() else b"")
    return digest.hexdigest()[:16]


def data_fingerprint(description: Mapping[str, Any]) -> str:
    """A short hash of what defines a data split (dataset parameters, sizes), as canonical JSON."""
    text = json.dumps(description, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def read(value: Any) -> Lineage:
    """The lineage ``value`` carries (empty when it carries none); a dict merges that of its non-model values."""
    if _is_model(value):
        return {MODEL: model_fingerprint(value)}
    if isinstance(value, pd.DataFrame):
        return dict(value.attrs.get(LINEAGE, {}))
    if isinstance(value, nx.Graph):
        return dict(value.graph.get(LINEAGE, {}))
    if isinstance(getattr(value, LINEAGE, None), dict):
        return dict(getattr(value, LINEAGE))
    if isinstance(value, Mapping):  # a dict of artefacts; a dict of models (checkpoints) names no single model
        found: Lineage = {}
        for item in value.values():
            if not _is_model(item):
                found |= read(item)
        return found
    return {}


def stamp(value: Any, lineage: Mapping[str, str]) -> None:
    """Record ``lineage`` on ``value`` in place, where its type can carry it (a dict: on each of its values)."""
    if not lineage or _is_model(value):
        return
    if isinstance(value, pd.DataFrame):
        value.attrs[LINEAGE] = dict(lineage)
    elif isinstance(value, nx.Graph):
        value.graph[LINEAGE] = dict(lineage)
    elif isinstance(getattr(value, LINEAGE, None), dict):
        getattr(value, LINEAGE).update(lineage)
    elif isinstance(value, Mapping):
        for item in value.values():
            stamp(item, lineage)


def conflicts(lineages: Mapping[str, Lineage]) -> dict[str, dict[str, str]]:
    """Per lineage key whose inputs disagree, the value each input carries (inputs without it left out)."""
    keys: Iterable[str] = sorted({key for lineage in lineages.values() for key in lineage})
    found = {}
    for key in keys:
        values = {name: lineage[key] for name, lineage in lineages.items() if key in lineage}
        if len(set(values.values())) > 1:
            found[key] = values
    return found


def merge(lineages: Iterable[Lineage]) -> Lineage:
    """One lineage for artefacts made from several inputs; disagreeing values are joined with '+'."""
    merged: dict[str, list[str]] = {}
    for lineage in lineages:
        for key, value in lineage.items():
            for part in value.split("+"):
                if part not in merged.setdefault(key, []):
                    merged[key].append(part)
    return {key: "+".join(sorted(values)) for key, values in merged.items()}
