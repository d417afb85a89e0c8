"""Build the neuron dependency graph from the mined tables and query it (spec §3, §5)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import networkx as nx
import pandas as pd

from ndg_pipeline.names import (
    class_predicate,
    literal_key,
    literal_name,
    split_predicate,
)

NEURON_TABLE_COLUMNS = ("literal", "precision", "recall", "support")


def _literal_nodes(priors: pd.DataFrame) -> list[tuple[str, dict]]:
    """Both literals of every predicate with their attributes, so isolated literals stay in the graph."""
    nodes = []
    for predicate, prior, is_class, is_constant in zip(
        priors["predicate"], priors["prior"], priors["is_class"], priors["is_constant"], strict=True
    ):
        layer, index = split_predicate(predicate)
        for value in (True, False):
            attributes = {
                "predicate": predicate,
                "value": value,
                "prior": float(prior if value else 1.0 - prior),
                "is_class": bool(is_class),
                "is_constant": bool(is_constant),
                "layer": layer,
                "index": index,
            }
            nodes.append((literal_name(predicate, value), attributes))
    return nodes


def _edge_list(edges: pd.DataFrame) -> list[tuple[str, str, dict]]:
    """Directed edges with plain-Python attributes (JSON- and MLflow-friendly) from the edges table."""
    optional = {"test_precision": float, "n_source_test": int}
    present = {column: cast for column, cast in optional.items() if column in edges.columns}
    result = []
    for row in edges.to_dict("records"):
        attributes = {
            "kind": str(row["kind"]),
            "support": int(row["support"]),
            "precision": float(row["train_precision"]),
            "recall": float(row["recall"]),
            **{column: cast(row[column]) for column, cast in present.items()},
        }
        source = literal_name(row["source"], bool(row["source_value"]))
        result.append((source, literal_name(row["target"], bool(row["target_value"])), attributes))
    return result


def build_graph(edges: pd.DataFrame, equivalences: pd.DataFrame, priors: pd.DataFrame) -> nx.DiGraph:
    """Assemble the dependency graph over all 2M literals, with equivalences and constants as graph data."""
    graph = nx.DiGraph()
    graph.add_nodes_from(_literal_nodes(priors))
    edge_list = _edge_list(edges)
    unknown = sorted({node for u, v, _ in edge_list for node in (u, v) if node not in graph}, key=literal_key)
    if unknown:
        names = ", ".join(unknown[:10])
        raise ValueError(f"edges name literals whose predicates the priors table lacks: {names}")
    graph.add_edges_from(edge_list)
    graph.graph["equivalences"] = [
        {
            "a": str(row["a"]),
            "b": str(row["b"]),
            "negated": bool(row["negated"]),
            "agreement": float(row["agreement"]),
        }
        for row in equivalences.to_dict("records")
    ]
    graph.graph["constants"] = [str(predicate) for predicate in priors.loc[priors["is_constant"], "predicate"]]
    return graph


def equivalence_classes(graph: nx.DiGraph) -> list[frozenset[str]]:
    """Group literals that the equivalence table makes interchangeable (transitively); singletons left out."""
    links = nx.Graph()
    for pair in graph.graph.get("equivalences", []):
        a, b, negated = pair["a"], pair["b"], pair["negated"]
        links.add_edge(literal_name(a, True), literal_name(b, not negated))
        links.add_edge(literal_name(a, False), literal_name(b, negated))
    classes = [frozenset(component) for component in nx.connected_components(links)]
    return sorted(classes, key=lambda members: sorted(map(literal_key, members)))


def _mean(values: Iterable[float]) -> float:
    """Unweighted mean that skips NaN and is NaN when nothing is left."""
    kept = [value for value in values if not math.isnan(value)]
    return sum(kept) / len(kept) if kept else math.nan


def graph_statistics(graph: nx.DiGraph) -> dict[str, float]:
    """Summarize the graph (sizes, shape, mean train/test accuracy over edges) as plain floats for MLflow."""
    connected = graph.subgraph(node for node, degree in graph.degree if degree > 0)
    acyclic = nx.is_directed_acyclic_graph(graph)
    edge_data = [data for _, _, data in graph.edges(data=True)]
    return {
        "edges": float(graph.number_of_edges()),
        "mined_edges": float(sum(data["kind"] == "mined" for data in edge_data)),
        "equivalent_pairs": float(len(graph.graph.get("equivalences", []))),
        "constants": float(len(graph.graph.get("constants", []))),
        "literals": float(graph.number_of_nodes()),
        "isolated_literals": float(graph.number_of_nodes() - len(connected)),
        "mean_degree": 2.0 * graph.number_of_edges() / len(connected) if len(connected) else 0.0,
        "longest_path": float(nx.dag_longest_path_length(graph, weight=None)) if acyclic else math.nan,
        "acyclic": float(acyclic),
        "weakly_connected_components": float(nx.number_weakly_connected_components(connected)),
        "mean_train_accuracy": _mean(data["precision"] for data in edge_data),
        "mean_test_accuracy": _mean(data.get("test_precision", math.nan) for data in edge_data),
    }


def intervention_closure_graph(graph: nx.DiGraph) -> nx.DiGraph:
    """Copy the graph and link equivalent literals both ways, so a literal entering brings its equivalents."""
    closure = graph.copy()
    for members in equivalence_classes(graph):
        for source in members:
            for target in members - {source}:
                if not closure.has_edge(source, target):
                    closure.add_edge(source, target, kind="equivalence")
    return closure


def top_edges(graph: nx.DiGraph, max_edges: int, nearness: Mapping[str, int] | None = None) -> nx.DiGraph:
    """Keep the max_edges strongest edges by support (nearest to a focus first when nearness is given)."""
    nearness = nearness or {}

    def rank(edge: tuple[str, str, int]) -> tuple:
        source, target, support = edge
        distance = min(nearness.get(source, 0), nearness.get(target, 0))
        return distance, -support, literal_key(source), literal_key(target)

    ranked = sorted(graph.edges(data="support", default=0), key=rank)[:max_edges]
    return graph.edge_subgraph((source, target) for source, target, _ in ranked).copy()


def focus_subgraph(graph: nx.DiGraph, literal: str, max_edges: int | None = None) -> nx.DiGraph:
    """The literal with its ancestors (sufficient conditions) and descendants (necessary conditions).

    With max_edges, edges nearest the literal (in hops) are kept first, strongest first among equals, so the
    kept part always stays connected to the literal.
    """
    if literal not in graph:
        raise ValueError(f"literal {literal!r} is not a node of the graph")
    below = nx.single_source_shortest_path_length(graph.reverse(copy=False), literal)
    above = nx.single_source_shortest_path_length(graph, literal)
    nearness = {node: min(below.get(node, math.inf), above.get(node, math.inf)) for node in below | above}
    focused = graph.subgraph(nearness).copy()
    if max_edges is None:
        return focused
    kept = top_edges(focused, max_edges, nearness)
    kept.add_node(literal, **graph.nodes[literal])
    return kept


def _class_neurons(graph: nx.DiGraph, pairs: Iterable[tuple[str, str]], neuron_end: int) -> pd.DataFrame:
    """Table of the neuron literals at one end of the given edges, strongest first."""
    with_test = any("test_precision" in data for _, _, data in graph.edges(data=True))
    columns = [*NEURON_TABLE_COLUMNS, "test_precision"] if with_test else list(NEURON_TABLE_COLUMNS)
    rows = [
        {"literal": pair[neuron_end], **{column: graph.edges[pair][column] for column in columns[1:]}}
        for pair in pairs
        if not graph.nodes[pair[neuron_end]]["is_class"]
    ]
    rows.sort(key=lambda row: (-row["support"], literal_key(row["literal"])))
    dtypes = {column: "float64" for column in columns} | {"literal": str, "support": "int64"}
    return pd.DataFrame(rows, columns=columns).astype(dtypes)


def _class_literal(graph: nx.DiGraph, class_index: int) -> str:
    """The literal `class:c`, checked to exist so a wrong index fails clearly."""
    literal = literal_name(class_predicate(class_index), True)
    if literal not in graph:
        raise ValueError(f"class {class_index} has no literal {literal!r} in the graph")
    return literal


def sufficient_neurons(graph: nx.DiGraph, class_index: int) -> pd.DataFrame:
    """Neuron literals n with an edge n → class:c: each alone implies the class (spec §3)."""
    target = _class_literal(graph, class_index)
    return _class_neurons(graph, graph.in_edges(target), neuron_end=0)


def necessary_neurons(graph: nx.DiGraph, class_index: int) -> pd.DataFrame:
    """Neuron literals n with an edge class:c → n: each holds whenever the class is predicted (spec §3)."""
    source = _class_literal(graph, class_index)
    return _class_neurons(graph, graph.out_edges(source), neuron_end=1)
