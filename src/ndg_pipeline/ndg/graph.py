"""The neuron dependency graph in array form, and the queries the pipeline asks of it (spec §3, §5, §6).

A paper-scale graph has millions of edges, so the whole graph is kept as arrays: one row per directed edge
(source and target literal ids, kind and the edge's numbers) and compressed sparse adjacency over literal ids
(``scipy.sparse``). Statistics, equivalence classes, per-class closures (sparse reachability) and focused
subgraphs are computed on the arrays; only small graphs meant for drawing become ``networkx`` graphs.

Literal ids: predicate ``i`` (in the priors table's order) has the literals ``2i`` (false) and ``2i + 1``
(true), so ``id ^ 1`` is the negation and the miner's edge table, sorted by (source, source value, target,
target value), is already in (source id, target id) order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse import csgraph

from ndg_pipeline.names import (
    N_SOURCE_TEST,
    RECALL,
    SUPPORT,
    TEST_PRECISION,
    TRAIN_PRECISION,
    class_predicate,
    literal_key,
    literal_name,
    split_predicate,
)

NEURON_TABLE_COLUMNS = ("literal", TRAIN_PRECISION, RECALL, SUPPORT)
EDGE_NUMBERS = {SUPPORT: np.int64, TRAIN_PRECISION: np.float64, RECALL: np.float64}  # named as in the edge table
TEST_NUMBERS = {TEST_PRECISION: np.float64, N_SOURCE_TEST: np.int64}
EQUIVALENCE_COLUMNS = ("a", "b", "negated", "agreement")


def literal_id(predicate_index: np.ndarray | int, value: np.ndarray | bool) -> np.ndarray | int:
    """The id of the literal (predicate ``i`` = ``value``): ``2i + value``."""
    return 2 * np.asarray(predicate_index, dtype=np.int64) + np.asarray(value, dtype=np.int64)


def _csr(source: np.ndarray, target: np.ndarray, n: int) -> sparse.csr_array:
    """Adjacency (n, n) of the edges; ``data`` holds each stored entry's row in the edge arrays."""
    key = source.astype(np.int64) * n + target
    order = np.arange(key.size) if np.all(key[1:] > key[:-1]) else np.argsort(key, kind="stable")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(source, minlength=n), out=indptr[1:])
    return sparse.csr_array((order.astype(np.int64), target[order].astype(np.int32), indptr), shape=(n, n))


def _gather(matrix: sparse.csr_array, rows: np.ndarray) -> np.ndarray:
    """Positions in ``matrix.indices`` of the stored entries of ``rows`` (all of their out-edges)."""
    starts = matrix.indptr[rows]
    lengths = matrix.indptr[rows + 1] - starts
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    shifts = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
    return shifts + np.arange(total)


def reach(
    matrix: sparse.csr_array,
    sources: np.ndarray,
    labels: np.ndarray | None = None,
    classes: sparse.csr_array | None = None,
) -> np.ndarray:
    """Mask of every node reachable from ``sources`` (themselves included), each node expanded once.

    With ``labels`` (node → its class) and ``classes`` (class → members), reaching a node reaches its whole
    class too, as if the members of each class were linked both ways.
    """
    seen = np.zeros(matrix.shape[0], dtype=bool)
    frontier = np.asarray(sources, dtype=np.int64)
    while frontier.size:
        if classes is not None and labels is not None:
            frontier = classes.indices[_gather(classes, np.unique(labels[frontier]))]
        frontier = np.unique(frontier[~seen[frontier]])
        seen[frontier] = True
        frontier = matrix.indices[_gather(matrix, frontier)]
    return seen


def hops(matrix: sparse.csr_array, source: int) -> np.ndarray:
    """Fewest edges from ``source`` to every node (−1 where unreachable), by breadth-first levels."""
    distance = np.full(matrix.shape[0], -1, dtype=np.int64)
    frontier = np.array([source], dtype=np.int64)
    level = 0
    while frontier.size:
        distance[frontier] = level
        found = matrix.indices[_gather(matrix, frontier)]
        frontier = np.unique(found[distance[found] < 0])
        level += 1
    return distance


def first_k(primary: np.ndarray, secondary: Sequence[np.ndarray], k: int | None) -> np.ndarray:
    """Positions of the ``k`` smallest rows by (primary, *secondary), in that order (all rows when k is None).

    Only the rows whose primary key is within the k smallest are sorted, so picking a few edges out of
    millions costs one partition, not a sort.
    """
    if k is not None and k < primary.size:
        if k <= 0:
            return np.zeros(0, dtype=np.int64)
        cut = np.partition(primary, k - 1)[k - 1]
        rows = np.flatnonzero(primary <= cut)
    else:
        rows = np.arange(primary.size)
    order = rows[np.lexsort((*(key[rows] for key in reversed(secondary)), primary[rows]))]
    return order if k is None else order[:k]


@dataclass(eq=False)
class DependencyGraph:
    """The dependency graph over all 2M literals: predicates and their priors, the directed edges as arrays
    (literal ids and the edge's numbers), and the equivalent pairs and constants as tables.

    ``lineage`` names the model and data behind it (``ndg_pipeline.lineage``). Sparse adjacency and the literal
    names are derived on first use and not pickled, so a saved graph's size grows linearly with its edges.
    """

    predicates: tuple[str, ...]
    prior: np.ndarray
    is_class: np.ndarray
    is_constant: np.ndarray
    source: np.ndarray
    target: np.ndarray
    mined: np.ndarray
    numbers: dict[str, np.ndarray]
    equivalences: pd.DataFrame
    lineage: dict[str, str] = field(default_factory=dict)

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the arrays only; derived structures are rebuilt on first use after loading."""
        return {name: self.__dict__[name] for name in self.__dataclass_fields__}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    @property
    def n_literals(self) -> int:
        """Twice the number of predicates: every predicate true and false."""
        return 2 * len(self.predicates)

    @property
    def n_edges(self) -> int:
        """The number of directed edges (mined and contrapositive)."""
        return int(self.source.size)

    @property
    def constants(self) -> list[str]:
        """The constant predicates (prior below 1e-4 or above 1 − 1e-4): they take part in no edge."""
        return [name for name, constant in zip(self.predicates, self.is_constant, strict=True) if constant]

    @cached_property
    def literal_names(self) -> np.ndarray:
        """The name of every literal id (``latent:17`` / ``¬latent:17``)."""
        names = np.empty(self.n_literals, dtype=object)
        names[1::2] = self.predicates
        names[0::2] = [literal_name(predicate, False) for predicate in self.predicates]
        return names

    @cached_property
    def ids(self) -> dict[str, int]:
        """Literal name → id."""
        return {name: index for index, name in enumerate(self.literal_names)}

    @cached_property
    def key_rank(self) -> np.ndarray:
        """Each literal's position in ``literal_key`` order (classes first, then layer, index, on before off)."""
        order = sorted(range(self.n_literals), key=lambda index: literal_key(self.literal_names[index]))
        rank = np.empty(self.n_literals, dtype=np.int64)
        rank[order] = np.arange(self.n_literals)
        return rank

    @cached_property
    def literal_is_class(self) -> np.ndarray:
        """Per literal id: whether its predicate is a class predicate."""
        return np.repeat(self.is_class, 2)

    @cached_property
    def forward(self) -> sparse.csr_array:
        """Adjacency source → target; ``data`` is the edge's row."""
        return _csr(self.source, self.target, self.n_literals)

    @cached_property
    def backward(self) -> sparse.csr_array:
        """Adjacency target → source (the reversed graph); ``data`` is the edge's row."""
        return _csr(self.target, self.source, self.n_literals)

    def literal(self, name: str) -> int:
        """The id of a literal, with a clear error when the graph has no such literal."""
        if name not in self.ids:
            raise ValueError(f"literal {name!r} is not a node of the graph")
        return self.ids[name]

    def literal_attributes(self, index: int) -> dict[str, Any]:
        """A literal's attributes: predicate, value, prior, class and constant flags, layer and index."""
        predicate_index, value = divmod(int(index), 2)
        predicate = self.predicates[predicate_index]
        layer, position = split_predicate(predicate)
        prior = float(self.prior[predicate_index])
        return {
            "predicate": predicate,
            "value": bool(value),
            "prior": prior if value else 1.0 - prior,
            "is_class": bool(self.is_class[predicate_index]),
            "is_constant": bool(self.is_constant[predicate_index]),
            "layer": layer,
            "index": position,
        }

    def edge_attributes(self, row: int) -> dict[str, Any]:
        """An edge's attributes as plain Python values (JSON- and MLflow-friendly)."""
        attributes: dict[str, Any] = {"kind": "mined" if self.mined[row] else "contrapositive"}
        for name, dtype in (EDGE_NUMBERS | TEST_NUMBERS).items():
            if name in self.numbers:
                value = self.numbers[name][row]
                attributes[name] = int(value) if dtype is np.int64 else float(value)
        return attributes

    def edge_row(self, source: str, target: str) -> int:
        """The row of the edge source → target, with a clear error when there is none."""
        s, t = self.literal(source), self.literal(target)
        start, stop = self.forward.indptr[s], self.forward.indptr[s + 1]
        hit = np.flatnonzero(self.forward.indices[start:stop] == t)
        if not hit.size:
            raise ValueError(f"the graph has no edge {source!r} → {target!r}")
        return int(self.forward.data[start + hit[0]])

    def to_networkx(self, literals: np.ndarray | None = None, rows: np.ndarray | None = None) -> nx.DiGraph:
        """A networkx graph of the given literal ids (all by default) and edge rows (those among them by default).

        Meant for small graphs (drawings, node-link JSON); nodes in predicate order, each true then false.
        """
        chosen = np.ones(self.n_literals, dtype=bool) if literals is None else np.zeros(self.n_literals, dtype=bool)
        if literals is not None:
            chosen[np.asarray(literals, dtype=np.int64)] = True
        if rows is None:
            rows = np.flatnonzero(chosen[self.source] & chosen[self.target])
        node_order = np.flatnonzero(chosen)
        node_order = node_order[np.argsort(node_order ^ 1, kind="stable")]  # true (2i + 1) before false (2i)
        graph = nx.DiGraph()
        graph.add_nodes_from((self.literal_names[i], self.literal_attributes(i)) for i in node_order)
        names = self.literal_names
        graph.add_edges_from(
            (names[self.source[row]], names[self.target[row]], self.edge_attributes(row)) for row in np.sort(rows)
        )
        graph.graph["equivalences"] = _equivalence_records(self.equivalences)
        graph.graph["constants"] = self.constants
        if self.lineage:
            graph.graph["lineage"] = dict(self.lineage)
        return graph


def _equivalence_records(equivalences: pd.DataFrame) -> list[dict[str, Any]]:
    """Equivalent pairs as plain Python records."""
    return [
        {"a": str(a), "b": str(b), "negated": bool(negated), "agreement": float(agreement)}
        for a, b, negated, agreement in zip(*(equivalences[c] for c in EQUIVALENCE_COLUMNS), strict=True)
    ]


def _predicate_indices(index: pd.Index, names: pd.Series, side: str, values: pd.Series) -> np.ndarray:
    """Positions of ``names`` in the priors' predicates; unknown ones are an error naming the literals."""
    codes, unique = pd.factorize(names)  # a few thousand distinct names among millions of rows
    found = index.get_indexer(unique)[codes]
    if (found < 0).any():
        missing = names[found < 0]
        literals = {literal_name(p, bool(v)) for p, v in zip(missing, values[found < 0], strict=True)}
        listed = ", ".join(sorted(literals, key=literal_key)[:10])
        raise ValueError(f"edges name {side} literals whose predicates the priors table lacks: {listed}")
    return found


def build_graph(edges: pd.DataFrame, equivalences: pd.DataFrame, priors: pd.DataFrame) -> DependencyGraph:
    """Assemble the dependency graph over all 2M literals from the miner's edges, equivalences and priors."""
    predicates = pd.Index(priors["predicate"].astype(str))
    if predicates.has_duplicates:
        raise ValueError(f"the priors table names some predicates twice: {predicates[predicates.duplicated()][:10]}")
    source_index = _predicate_indices(predicates, edges["source"], "source", edges["source_value"])
    target_index = _predicate_indices(predicates, edges["target"], "target", edges["target_value"])
    source = literal_id(source_index, edges["source_value"].to_numpy(dtype=bool)).astype(np.int32)
    target = literal_id(target_index, edges["target_value"].to_numpy(dtype=bool)).astype(np.int32)
    n = 2 * len(predicates)
    key = source.astype(np.int64) * n + target
    if not np.all(key[1:] > key[:-1]):
        unique, counts = np.unique(key, return_counts=True)
        if (counts > 1).any():
            twice = int(unique[counts > 1][0])
            names = [literal_name(predicates[i // 2], bool(i % 2)) for i in divmod(twice, n)]
            raise ValueError(
                f"the edges table lists the edge {names[0]!r} → {names[1]!r} more than once; one row each."
            )
    numbers = {name: edges[name].to_numpy(dtype=dtype) for name, dtype in EDGE_NUMBERS.items()}
    numbers |= {name: edges[name].to_numpy(dtype=dtype) for name, dtype in TEST_NUMBERS.items() if name in edges}
    return DependencyGraph(
        predicates=tuple(predicates),
        prior=priors["prior"].to_numpy(dtype=np.float64),
        is_class=priors["is_class"].to_numpy(dtype=bool),
        is_constant=priors["is_constant"].to_numpy(dtype=bool),
        source=source,
        target=target,
        mined=(edges["kind"] == "mined").to_numpy(dtype=bool),
        numbers=numbers,
        equivalences=equivalences.loc[:, list(EQUIVALENCE_COLUMNS)].reset_index(drop=True),
        lineage=dict(edges.attrs.get("lineage", {})),
    )


def from_networkx(graph: nx.DiGraph) -> DependencyGraph:
    """The array form of a networkx dependency graph (nodes need ``predicate``, ``value``, ``is_class``).

    For graphs built by hand: missing priors are NaN, missing constants false, missing edge numbers NaN/0.
    """
    predicates: dict[str, int] = {}
    for _, data in graph.nodes(data=True):
        predicates.setdefault(data["predicate"], len(predicates))
    m = len(predicates)
    prior = np.full(m, np.nan)
    is_class, is_constant = np.zeros(m, dtype=bool), np.zeros(m, dtype=bool)
    for _, data in graph.nodes(data=True):
        index = predicates[data["predicate"]]
        is_class[index] = data["is_class"]
        is_constant[index] = data.get("is_constant", False)
        if data["value"] and "prior" in data:
            prior[index] = data["prior"]
    ids = {node: int(literal_id(predicates[data["predicate"]], data["value"])) for node, data in graph.nodes(data=True)}
    rows = sorted(graph.edges(data=True), key=lambda edge: (ids[edge[0]], ids[edge[1]]))
    numbers = {
        "support": np.array([data.get("support", 0) for *_, data in rows], dtype=np.int64),
        TRAIN_PRECISION: np.array([data.get(TRAIN_PRECISION, np.nan) for *_, data in rows], dtype=np.float64),
        "recall": np.array([data.get("recall", np.nan) for *_, data in rows], dtype=np.float64),
    }
    if any("test_precision" in data for *_, data in rows):
        numbers["test_precision"] = np.array([data.get("test_precision", np.nan) for *_, data in rows])
        numbers["n_source_test"] = np.array([data.get("n_source_test", 0) for *_, data in rows], dtype=np.int64)
    equivalences = pd.DataFrame(graph.graph.get("equivalences", []), columns=list(EQUIVALENCE_COLUMNS))
    return DependencyGraph(
        predicates=tuple(predicates),
        prior=prior,
        is_class=is_class,
        is_constant=is_constant,
        source=np.array([ids[s] for s, _, _ in rows], dtype=np.int32),
        target=np.array([ids[t] for _, t, _ in rows], dtype=np.int32),
        mined=np.array([data.get("kind", "mined") == "mined" for *_, data in rows], dtype=bool),
        numbers=numbers,
        equivalences=equivalences.astype({"negated": bool, "agreement": np.float64}),
        lineage=dict(graph.graph.get("lineage", {})),
    )


def as_graph(graph: DependencyGraph | nx.DiGraph) -> DependencyGraph:
    """The array form of a dependency graph given either way."""
    return from_networkx(graph) if isinstance(graph, nx.DiGraph) else graph


def equivalence_labels(graph: DependencyGraph) -> np.ndarray:
    """Per literal id, the id of its equivalence class's first member in ``literal_key`` order (itself if alone).

    Equivalent pairs link i with j (or ¬j when negated) and ¬i with ¬j (or j), transitively.
    """
    n = graph.n_literals
    table = graph.equivalences
    index = pd.Index(graph.predicates)
    a, b = index.get_indexer(table["a"]), index.get_indexer(table["b"])
    if (a < 0).any() or (b < 0).any():
        unknown = sorted(set(table["a"][a < 0]) | set(table["b"][b < 0]))
        raise ValueError(f"equivalences name predicates the graph lacks: {unknown[:10]}")
    negated = table["negated"].to_numpy(dtype=bool)
    left = np.concatenate([literal_id(a, True), literal_id(a, False)])
    right = np.concatenate([literal_id(b, ~negated), literal_id(b, negated)])
    links = sparse.coo_array((np.ones(left.size, dtype=np.int8), (left, right)), shape=(n, n))
    _, component = csgraph.connected_components(links, directed=False)
    rank = graph.key_rank
    first = np.full(component.max() + 1 if n else 0, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, component, rank)
    by_rank = np.empty(n, dtype=np.int64)
    by_rank[rank] = np.arange(n)
    return by_rank[first[component]]


def equivalence_classes(graph: DependencyGraph | nx.DiGraph) -> list[frozenset[str]]:
    """Group literals that the equivalence table makes interchangeable (transitively); singletons left out."""
    graph = as_graph(graph)
    labels = equivalence_labels(graph)
    merged = np.flatnonzero(labels != np.arange(graph.n_literals))
    groups: dict[int, set[str]] = {}
    for index in merged:
        groups.setdefault(int(labels[index]), {graph.literal_names[labels[index]]}).add(graph.literal_names[index])
    classes = [frozenset(members) for members in groups.values()]
    return sorted(classes, key=lambda members: sorted(map(literal_key, members)))


def _nan_mean(values: np.ndarray) -> float:
    """Unweighted mean that skips NaN and is NaN when nothing is left."""
    kept = values[~np.isnan(values)]
    return float(kept.mean()) if kept.size else math.nan


def _longest_path(graph: DependencyGraph) -> tuple[bool, float]:
    """Whether the graph is acyclic and, if so, its longest path in edges (peeling sources level by level)."""
    remaining = np.bincount(graph.target, minlength=graph.n_literals)
    frontier = np.flatnonzero(remaining == 0)
    peeled = levels = 0
    while frontier.size:
        peeled += frontier.size
        levels += 1
        found = graph.forward.indices[_gather(graph.forward, frontier)]
        remaining -= np.bincount(found, minlength=graph.n_literals)
        candidates = np.unique(found)
        frontier = candidates[remaining[candidates] == 0]
    acyclic = peeled == graph.n_literals
    return acyclic, float(levels - 1) if acyclic else math.nan


def graph_statistics(graph: DependencyGraph | nx.DiGraph) -> dict[str, float]:
    """Summarize the graph (sizes, shape, mean train/test accuracy over edges) as plain floats for MLflow."""
    graph = as_graph(graph)
    n, edges = graph.n_literals, graph.n_edges
    degree = np.bincount(graph.source, minlength=n) + np.bincount(graph.target, minlength=n)
    connected = int((degree > 0).sum())
    acyclic, longest = _longest_path(graph)
    components = csgraph.connected_components(graph.forward, directed=True, connection="weak")[0] if n else 0
    test = graph.numbers.get("test_precision", np.zeros(0))
    return {
        "edges": float(edges),
        "mined_edges": float(graph.mined.sum()),
        "equivalent_pairs": float(len(graph.equivalences)),
        "constants": float(graph.is_constant.sum()),
        "literals": float(n),
        "isolated_literals": float(n - connected),
        "mean_degree": 2.0 * edges / connected if connected else 0.0,
        "longest_path": longest,
        "acyclic": float(acyclic),
        "weakly_connected_components": float(components - (n - connected)),
        "mean_train_accuracy": _nan_mean(graph.numbers[TRAIN_PRECISION]),
        "mean_test_accuracy": _nan_mean(test),
    }


@dataclass(frozen=True)
class Closure:
    """The graph's reachability with equivalent literals linked both ways, so a literal entering brings its
    equivalents: the graph's forward and backward adjacency and, per equivalence class, its members."""

    graph: DependencyGraph
    labels: np.ndarray
    classes: sparse.csr_array

    def class_literal(self, class_index: int) -> int:
        """The id of ``class:c``, checked to exist so a wrong class index fails clearly."""
        name = literal_name(class_predicate(class_index), True)
        if name not in self.graph.ids:
            raise ValueError(f"class {class_index} has no literal {name!r} in the graph; is it the right graph?")
        return self.graph.ids[name]

    def reach(self, sources: np.ndarray, backward: bool = False) -> np.ndarray:
        """Mask of the literals reachable from ``sources`` (descendants, or ancestors when ``backward``)."""
        return reach(self.graph.backward if backward else self.graph.forward, sources, self.labels, self.classes)

    def names(self, mask: np.ndarray) -> frozenset[str]:
        """The literal names of a mask over literal ids."""
        return frozenset(self.graph.literal_names[mask])


def intervention_closure_graph(graph: DependencyGraph | nx.DiGraph) -> Closure:
    """The graph with two-way links between equivalent literals, for the intervention's reachability queries
    (a reached literal brings every member of its equivalence class, as linking each pair of a class would)."""
    graph = as_graph(graph)
    labels = equivalence_labels(graph)
    n = graph.n_literals
    order = np.argsort(labels, kind="stable")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(labels, minlength=n), out=indptr[1:])
    classes = sparse.csr_array((np.ones(n, dtype=np.int8), order, indptr), shape=(n, n))
    return Closure(graph, labels, classes)


def top_rows(
    source: np.ndarray,
    target: np.ndarray,
    support: np.ndarray,
    rank: np.ndarray,
    max_edges: int | None,
    distance: np.ndarray | None = None,
) -> np.ndarray:
    """Positions of the ``max_edges`` strongest edges by support (nearest first when ``distance`` is given),
    ties by the literal order of source then target."""
    strength = support.max(initial=0) - support.astype(np.int64)
    primary = (
        strength if distance is None else distance.astype(np.int64) * (int(strength.max(initial=0)) + 1) + strength
    )
    return first_k(primary, [rank[source], rank[target]], max_edges)


def _focus(forward: sparse.csr_array, backward: sparse.csr_array, center: int) -> np.ndarray:
    """Per node, its fewest hops to or from ``center`` (−1 when it is neither ancestor nor descendant)."""
    below, above = hops(backward, center), hops(forward, center)
    nearness = np.where(below < 0, above, np.where(above < 0, below, np.minimum(below, above)))
    return nearness


def adjacency(source: np.ndarray, target: np.ndarray, n: int) -> tuple[sparse.csr_array, sparse.csr_array]:
    """Forward and backward adjacency of edge arrays over n nodes (``data``: each entry's edge position)."""
    return _csr(source, target, n), _csr(target, source, n)


def focus_rows(
    matrices: tuple[sparse.csr_array, sparse.csr_array],
    source: np.ndarray,
    target: np.ndarray,
    support: np.ndarray,
    rank: np.ndarray,
    center: int,
    max_edges: int | None,
) -> tuple[np.ndarray, np.ndarray]:
    """The nodes of ``center``'s ancestors and descendants and the positions of the edges among them kept.

    ``matrices`` is ``adjacency(source, target, n)``. With ``max_edges``, edges nearest ``center`` (in hops)
    come first, strongest first among equals, so the kept part stays connected to ``center`` and its own
    sufficient and necessary literals come first.
    """
    forward, backward = matrices
    nearness = _focus(forward, backward, center)
    inside = np.flatnonzero((nearness[source] >= 0) & (nearness[target] >= 0))
    if max_edges is None:
        return np.flatnonzero(nearness >= 0), inside
    distance = np.minimum(nearness[source[inside]], nearness[target[inside]])
    kept = inside[top_rows(source[inside], target[inside], support[inside], rank, max_edges, distance)]
    return np.union1d(np.concatenate([source[kept], target[kept]]), [center]), kept


def top_edges(graph: DependencyGraph, max_edges: int) -> nx.DiGraph:
    """The ``max_edges`` strongest edges by support (ties by literal order) as a networkx graph."""
    rows = top_rows(graph.source, graph.target, graph.numbers["support"], graph.key_rank, max_edges)
    return graph.to_networkx(np.union1d(graph.source[rows], graph.target[rows]), rows)


def focus_subgraph(graph: DependencyGraph | nx.DiGraph, literal: str, max_edges: int | None = None) -> nx.DiGraph:
    """The literal with its ancestors (sufficient conditions) and descendants (necessary conditions).

    With max_edges, edges nearest the literal (in hops) are kept first, strongest first among equals, so the
    kept part always stays connected to the literal.
    """
    graph = as_graph(graph)
    center = graph.literal(literal)
    support = graph.numbers["support"]
    matrices = (graph.forward, graph.backward)
    nodes, rows = focus_rows(matrices, graph.source, graph.target, support, graph.key_rank, center, max_edges)
    return graph.to_networkx(nodes, rows)


def _class_neurons(graph: DependencyGraph, rows: np.ndarray, neuron_end: np.ndarray) -> pd.DataFrame:
    """Table of the neuron literals at one end of the given edges, strongest first."""
    with_test = "test_precision" in graph.numbers
    columns = [*NEURON_TABLE_COLUMNS, "test_precision"] if with_test else list(NEURON_TABLE_COLUMNS)
    keep = ~graph.literal_is_class[neuron_end]
    rows, neuron_end = rows[keep], neuron_end[keep]
    order = np.lexsort((graph.key_rank[neuron_end], -graph.numbers["support"][rows]))
    rows, neuron_end = rows[order], neuron_end[order]
    table = {"literal": graph.literal_names[neuron_end].astype(str)}
    table |= {column: graph.numbers[column][rows] for column in columns[1:]}
    dtypes = {column: "float64" for column in columns} | {"literal": str, "support": "int64"}
    return pd.DataFrame(table, columns=columns).astype(dtypes)


def _class_literal(graph: DependencyGraph, class_index: int) -> int:
    """The id of ``class:c``, checked to exist so a wrong index fails clearly."""
    name = literal_name(class_predicate(class_index), True)
    if name not in graph.ids:
        raise ValueError(f"class {class_index} has no literal {name!r} in the graph")
    return graph.ids[name]


def sufficient_neurons(graph: DependencyGraph | nx.DiGraph, class_index: int) -> pd.DataFrame:
    """Neuron literals n with an edge n → class:c: each alone implies the class (spec §3)."""
    graph = as_graph(graph)
    target = _class_literal(graph, class_index)
    start, stop = graph.backward.indptr[target], graph.backward.indptr[target + 1]
    return _class_neurons(graph, graph.backward.data[start:stop], graph.backward.indices[start:stop].astype(np.int64))


def necessary_neurons(graph: DependencyGraph | nx.DiGraph, class_index: int) -> pd.DataFrame:
    """Neuron literals n with an edge class:c → n: each holds whenever the class is predicted (spec §3)."""
    graph = as_graph(graph)
    source = _class_literal(graph, class_index)
    start, stop = graph.forward.indptr[source], graph.forward.indptr[source + 1]
    return _class_neurons(graph, graph.forward.data[start:stop], graph.forward.indices[start:stop].astype(np.int64))


def node_link(graph: DependencyGraph, max_edges: int) -> dict[str, Any]:
    """Node-link data of the whole graph (networkx's JSON form) when it has at most ``max_edges`` edges; else
    a short record saying why it was left out (the pickled graph holds everything)."""
    if graph.n_edges <= max_edges:
        return nx.node_link_data(graph.to_networkx(), edges="edges")
    return {
        "omitted": f"{graph.n_edges} edges exceed scale.json_max_edges = {max_edges}; load dependency_graph",
        "edges_count": graph.n_edges,
        "literals": graph.n_literals,
    }
