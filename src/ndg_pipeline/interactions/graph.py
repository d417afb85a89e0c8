"""The AND-OR graph of one sample (spec §5.3) as a renderer-independent networkx DiGraph.

Edges point from the output down: root ``output`` (sums every concept and the constant v(∅)) → one node per
retained concept (layer ``concept``; ``kind`` and/or, signed ``value``, ``order``) → merged coalitions (layer
``coalition``) or single players → players (layer ``player``; all of them, used or not). Drawings live in
``ndg_pipeline.reporting.interactions``.
"""

from __future__ import annotations

from collections.abc import Sequence

import networkx as nx
import numpy as np

from ndg_pipeline.interactions.patterns import Aggregation, RetainedPatterns
from ndg_pipeline.interactions.players import players_of

ROOT = "output"


def player_node(player: int) -> str:
    return f"player:{player}"


def concept_node(kind: str, mask: int) -> str:
    return f"{kind}:{mask}"


def and_or_graph(
    retained: RetainedPatterns, aggregation: Aggregation, player_names: Sequence[str], title: str = ""
) -> nx.DiGraph:
    """The graph of a sample's retained patterns, encoded with the aggregation's codewords."""
    n = len(player_names)
    graph = nx.DiGraph(title=title, bias=retained.bias, explanation_ratio=retained.explanation_ratio)
    output = retained.bias + float(np.sum(retained.values))
    graph.add_node(ROOT, layer="root", label=f"output {output:+.2f}", value=output, bias=retained.bias)
    for player, name in enumerate(player_names):
        graph.add_node(player_node(player), layer="player", label=str(name), player=player)
    coalitions = {}
    for index, codeword in enumerate(aggregation.codewords):
        members = [int(p) for p in np.flatnonzero(codeword)]
        node = f"coalition:{index}"
        coalitions[n + index] = node
        graph.add_node(node, layer="coalition", label=" ".join(player_names[p] for p in members), players=members)
        for player in members:
            graph.add_edge(node, player_node(player))
    for row, (kind, mask, value) in enumerate(zip(retained.kinds, retained.masks, retained.values, strict=True)):
        members = players_of(int(mask), n)
        node = concept_node(str(kind), int(mask))
        graph.add_node(
            node,
            layer="concept",
            kind=str(kind),
            mask=int(mask),
            value=float(value),
            order=len(members),
            players=members,
            label=f"{'AND' if kind == 'and' else 'OR'} {float(value):+.2f}",
        )
        graph.add_edge(ROOT, node)
        for column in np.flatnonzero(aggregation.encoding[row]):
            graph.add_edge(node, coalitions.get(int(column), player_node(int(column))))
    unused = [
        node for node, data in graph.nodes(data=True) if data["layer"] == "coalition" and graph.in_degree(node) == 0
    ]
    graph.remove_nodes_from(unused)
    return graph


def graph_size(graph: nx.DiGraph) -> dict[str, int]:
    """Concepts, merged coalitions, nodes and edges (players that no concept uses count as nodes too)."""
    layers = [data["layer"] for _, data in graph.nodes(data=True)]
    return {
        "concepts": layers.count("concept"),
        "coalitions": layers.count("coalition"),
        "nodes": graph.number_of_nodes(),
        "edges": graph.number_of_edges(),
    }
