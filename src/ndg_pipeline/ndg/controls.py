"""The controls of spec §4 (Tables 3, 4, 6): random model, random input, two copies side by side, edge groups.

A dependency graph means something only next to its controls: generalizing dependencies should appear only in
trained models, exist between independently trained models, and vanish between unrelated inputs. These functions
build the controls' networks, inputs and predicate tables, and summarize a control's edges group by group.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import Dataset, default_collate

from ndg_pipeline.batches import attention_mask_of, iterate
from ndg_pipeline.data.splits import Split
from ndg_pipeline.names import ALL, BETWEEN, CLASS_LAYER, INTER_LAYER, LAYER1, LAYER2, layer_of
from ndg_pipeline.ndg.edges import edge_accuracy

FIRST, SECOND = "first", "second"
Grouping = Literal["all", "copies", "layers"]
GROUPINGS: tuple[str, ...] = get_args(Grouping)
RESETTABLE = (
    nn.Linear,
    nn.Conv1d,
    nn.Conv2d,
    nn.Conv3d,
    nn.ConvTranspose1d,
    nn.ConvTranspose2d,
    nn.ConvTranspose3d,
)
RESULT_DTYPES = {
    "dataset": "str",
    "control": "str",
    "group": "str",
    "edges": np.int64,
    "train_accuracy": np.float64,
    "test_accuracy": np.float64,
    "alpha": np.float64,
    "n_train": np.int64,
    "n_test": np.int64,
}

EdgeGroups = dict[str, frozenset[tuple[str, str]]]


def randomize(model: nn.Module, seed: int) -> nn.Module:
    """A copy of ``model`` with every Linear/Conv layer re-initialized by its own default init, drawn from ``seed``.

    The copy is one fixed random network (record train and test with it); other parameters (embeddings, norms)
    keep their values, and the global torch generator is left as it was.
    """
    network = copy.deepcopy(model).cpu()
    layers = [module for module in network.modules() if isinstance(module, RESETTABLE)]
    if not layers:
        raise ValueError(
            f"{type(model).__name__} has no Linear or Conv layer to re-initialize, so the random-model control "
            "would record the trained network; it needs a model built from torch.nn Linear/Conv layers."
        )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for layer in layers:
            layer.reset_parameters()
    return network.eval()


def derangement(n: int, seed: int | Sequence[int]) -> np.ndarray:
    """A seeded permutation of ``range(n)`` without fixed points: input r is paired with input σ(r) ≠ r.

    It is a uniformly random n-cycle: visit the inputs in a random order and map each to the next one.
    """
    if n < 2:
        raise ValueError(f"pairing every input with a different one needs at least 2 inputs; got {n}.")
    order = np.random.default_rng(seed).permutation(n)
    sigma = np.empty(n, dtype=np.int64)
    sigma[order] = np.roll(order, -1)
    return sigma


def layer_names(columns: Iterable[str]) -> pd.Series:
    """The layer alias of every predicate name (class predicates give ``class``)."""
    return pd.Series([layer_of(column) for column in columns], dtype="str")


def side_by_side(first: pd.DataFrame, second: pd.DataFrame) -> pd.DataFrame:
    """Two copies' predicate tables row by row: the first copy's class predicates, then the neurons of both
    copies renamed ``first.<layer>:i`` and ``second.<layer>:i`` (the second copy's class predicates are dropped).
    """
    if len(first) != len(second):
        raise ValueError(f"the two copies must have one row per input each; got {len(first)} and {len(second)} rows.")
    classes = first.loc[:, (layer_names(first.columns) == CLASS_LAYER).to_numpy()].reset_index(drop=True)
    return pd.concat([classes, _renamed_neurons(first, FIRST), _renamed_neurons(second, SECOND)], axis=1)


def _renamed_neurons(predicates: pd.DataFrame, copy_name: str) -> pd.DataFrame:
    """The neuron predicates of one copy, renamed ``<copy>.<layer>:i``, indexed 0..N−1."""
    kept = predicates.loc[:, (layer_names(predicates.columns) != CLASS_LAYER).to_numpy()].reset_index(drop=True)
    return kept.rename(columns=lambda column: f"{copy_name}.{column}")


def with_unrelated_inputs(predicates: pd.DataFrame, seed: int | Sequence[int]) -> pd.DataFrame:
    """The predicates of input r beside those of an unrelated input σ(r) ≠ r (a seeded derangement)."""
    return side_by_side(predicates, predicates.iloc[derangement(len(predicates), seed)])


def edge_groups(columns: Iterable[str], grouping: Grouping) -> EdgeGroups:
    """The groups of edges a control reports, each as its allowed (source layer, target layer) pairs.

    ``all``: every edge. ``copies``: ``between``, edges from a neuron of the first copy to one of the second.
    ``layers`` (exactly two neuron layers, in recording order): ``layer1`` and ``layer2`` hold the edges inside
    one layer, ``inter_layer`` the edges from a layer-1 literal to a layer-2 literal only (one per accepted cell;
    their layer 2 → layer 1 contrapositives are not counted again), as ``between`` counts copy 1 → copy 2.
    """
    if grouping not in GROUPINGS:
        raise ValueError(f"unknown edge grouping {grouping!r}; choose one of {', '.join(GROUPINGS)}.")
    layers = list(dict.fromkeys(layer_names(columns)))
    if grouping == "all":
        return {ALL: frozenset(itertools.product(layers, layers))}
    if grouping == "copies":
        firsts = [layer for layer in layers if layer.startswith(f"{FIRST}.")]
        seconds = [layer for layer in layers if layer.startswith(f"{SECOND}.")]
        if not firsts or not seconds:
            raise ValueError(
                f"grouping by copies needs neurons of two copies named '{FIRST}.*' and '{SECOND}.*' "
                f"(built by side_by_side); the predicates' layers are {layers}."
            )
        return {BETWEEN: frozenset(itertools.product(firsts, seconds))}
    neurons = [layer for layer in layers if layer != CLASS_LAYER]
    if len(neurons) != 2:
        raise ValueError(
            f"grouping by layers needs exactly two recorded layers; got {neurons}. "
            "Set controls.two_layers.layers to two aliases."
        )
    one, two = neurons
    return {
        LAYER1: frozenset({(one, one)}),
        LAYER2: frozenset({(two, two)}),
        INTER_LAYER: frozenset({(one, two)}),
    }


def group_summary(edges: pd.DataFrame, groups: Mapping[str, frozenset[tuple[str, str]]]) -> pd.DataFrame:
    """Per group: its number of edges and their unweighted mean train and test accuracy (NaN without edges)."""
    pairs = pd.MultiIndex.from_arrays([layer_names(edges["source"]), layer_names(edges["target"])])
    rows = []
    for group, allowed in groups.items():
        rows.append({"group": group, **edge_accuracy(edges[pairs.isin(list(allowed))])})
    return pd.DataFrame(rows, columns=["group", "edges", "train_accuracy", "test_accuracy"])


def results_table(
    edges: pd.DataFrame,
    groups: Mapping[str, frozenset[tuple[str, str]]],
    *,
    dataset: str,
    control: str,
    alpha: float,
    n_train: int,
    n_test: int,
) -> pd.DataFrame:
    """One control's results: a row per group with its edges and mean accuracies, and what the run was."""
    summary = group_summary(edges, groups)
    run = {"dataset": dataset, "control": control, "alpha": alpha, "n_train": n_train, "n_test": n_test}
    return summary.assign(**run)[list(RESULT_DTYPES)].astype(RESULT_DTYPES)


@dataclass(frozen=True)
class TokenSpace:
    """Where random token ids come from: the ordinary ids seen in the data; special ids and padding stay put."""

    ordinary: np.ndarray
    special: np.ndarray


InputSpace = tuple[float, float] | TokenSpace


def _real_positions(inputs: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """Boolean (batch, seq) mask of the positions holding real tokens (the attention mask, or all of them)."""
    mask = attention_mask_of(inputs)
    return torch.ones_like(inputs["input_ids"], dtype=torch.bool) if mask is None else mask.bool()


def _end_positions(real: torch.Tensor) -> torch.Tensor:
    """Boolean mask of the first and the last real position of every row (where [CLS]/[SEP], <s>/</s> sit)."""
    width = real.shape[1]
    rows = torch.arange(real.shape[0])
    first = real.int().argmax(dim=1)
    last = width - 1 - real.int().flip(dims=[1]).argmax(dim=1)
    ends = torch.zeros_like(real)
    ends[rows, first] = True
    ends[rows, last] = True
    return ends & real


def _check_inputs(inputs: Any) -> None:
    """Refuse batches that are neither a tensor nor a tokenized dict with ``input_ids``."""
    if not isinstance(inputs, torch.Tensor) and not (isinstance(inputs, Mapping) and "input_ids" in inputs):
        raise TypeError(
            "random inputs can replace a tensor batch or a tokenized dict with 'input_ids'; "
            f"got {type(inputs).__name__}"
            + (f" with keys {sorted(inputs)}" if isinstance(inputs, Mapping) else "")
            + "."
        )


def input_space(split: Split, batch_size: int = 512) -> InputSpace:
    """The data's value range (tensor inputs) or token space (tokenized inputs), from one pass over ``split``.

    Special token ids are those found at the first or last real position of an input ([CLS], [SEP], <s>, </s>);
    the ordinary ids are all other ids at real positions.
    """
    low, high = np.inf, -np.inf
    special: set[int] = set()
    seen: set[int] = set()
    for inputs, _ in iterate(split, batch_size, torch.device("cpu"), desc="input range"):
        _check_inputs(inputs)
        if isinstance(inputs, torch.Tensor):
            low, high = min(low, float(inputs.min())), max(high, float(inputs.max()))
            continue
        ids, real = inputs["input_ids"], _real_positions(inputs)
        special.update(ids[_end_positions(real)].unique().tolist())
        seen.update(ids[real].unique().tolist())
    if np.isinf(low) and not seen:
        raise ValueError("the split is empty: there is no value range to draw random inputs from.")
    if not seen:
        return low, high
    ordinary = np.array(sorted(seen - special), dtype=np.int64)
    if not ordinary.size:
        raise ValueError("every token id of the split is a special token; there are no ordinary ids to draw from.")
    return TokenSpace(ordinary=ordinary, special=np.array(sorted(special), dtype=np.int64))


def random_like(inputs: Any, space: InputSpace, seeds: Sequence[Sequence[int]]) -> Any:
    """Noise shaped like a batch, row r drawn from a generator seeded by ``seeds[r]``.

    Tensors: uniform values in the range ``(low, high)`` (integers for integer tensors). Tokenized dicts: every
    ordinary token at a real position becomes a uniformly drawn ordinary id; special tokens, padding and the other
    keys (attention mask, token types) are kept.
    """
    _check_inputs(inputs)
    generators = [np.random.default_rng(list(seed)) for seed in seeds]
    if isinstance(inputs, torch.Tensor):
        if isinstance(space, TokenSpace):
            raise TypeError("tensor inputs need a value range, not a token space.")
        low, high = space
        shape = tuple(inputs.shape[1:])
        if inputs.is_floating_point():
            rows = [rng.uniform(low, high, size=shape) for rng in generators]
        else:
            rows = [rng.integers(int(low), int(high), size=shape, endpoint=True) for rng in generators]
        return torch.as_tensor(np.stack(rows)).to(inputs.dtype)
    if not isinstance(space, TokenSpace):
        raise TypeError("tokenized inputs need a token space, not a value range.")
    ids = inputs["input_ids"].clone()
    replace = _real_positions(inputs) & ~torch.isin(ids, torch.as_tensor(space.special))
    for row, rng in enumerate(generators):
        where = replace[row]
        ids[row, where] = torch.as_tensor(rng.choice(space.ordinary, size=int(where.sum())), dtype=ids.dtype)
    return {**inputs, "input_ids": ids}


class IndexedDataset(Dataset):
    """A dataset whose items carry their index, so noise can be seeded per input whatever the batching."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def __getitem__(self, index: int) -> tuple[int, Any]:
        return index, self.dataset[index]


def random_split(split: Split, space: InputSpace, seed: int, stream: int) -> Split:
    """``split`` with every input replaced by noise in ``space``, input i seeded by (seed, stream, i); labels stay."""
    collate = split.collate or default_collate

    def noisy(items: list[tuple[int, Any]]) -> tuple[Any, torch.Tensor]:
        indices = [index for index, _ in items]
        inputs, labels = collate([example for _, example in items])
        return random_like(inputs, space, [(seed, stream, index) for index in indices]), labels

    return Split(IndexedDataset(split.dataset), noisy)
