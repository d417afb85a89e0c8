"""Draw the dependency graph: merged, condensed and transitively reduced, bottom to top (spec §6)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

import graphviz
import networkx as nx
from pyvis.network import Network

from ndg_pipeline.names import NOT, literal_key, parse_literal, split_predicate
from ndg_pipeline.ndg.graph import equivalence_classes, focus_subgraph, top_edges

CLASS_COLOR = "#d62728"
NEURON_COLOR = "#9ecae1"
GRAPHVIZ_MISSING = (
    "Graphviz's `dot` executable was not found on PATH, so the SVG drawing cannot be rendered. "
    "Install Graphviz (the system program, not only the Python package): `apt-get install graphviz` "
    "(Debian/Ubuntu), `brew install graphviz` (macOS) or `conda install graphviz` (conda). "
    "The interactive HTML view (interactive_html) needs no Graphviz."
)
PYVIS_OPTIONS = {
    "layout": {"hierarchical": {"enabled": True, "direction": "DU", "sortMethod": "directed"}},
    "physics": {"solver": "hierarchicalRepulsion"},
    "edges": {"arrows": {"to": {"enabled": True}}},
}
REMOTE_RESOURCE = re.compile(
    r'<link\b[^>]*href="https?://[^"]*"[^>]*>|<script\b[^>]*src="https?://[^"]*"[^>]*>\s*</script>'
)


class GraphvizMissingError(RuntimeError):
    """Graphviz's `dot` program is not installed, so SVG drawings cannot be rendered."""


def display_name(literal: str) -> str:
    """Name a literal for a drawing by its layer and index, `¬` for false (`¬latent 17`)."""
    predicate, value = parse_literal(literal)
    layer, index = split_predicate(predicate)
    return f"{'' if value else NOT}{layer} {index}"


def _literal_graph(graph: nx.DiGraph) -> nx.DiGraph:
    """The graph without class–class edges, each node a one-member group ready for merging."""
    literals = nx.DiGraph()
    literals.add_nodes_from(
        (node, {"members": (node,), "is_class": data["is_class"]}) for node, data in graph.nodes(data=True)
    )
    literals.add_edges_from(
        (source, target, data)
        for source, target, data in graph.edges(data=True)
        if not (graph.nodes[source]["is_class"] and graph.nodes[target]["is_class"])
    )
    return literals


def _merge(graph: nx.DiGraph, groups: Iterable[Iterable[str]]) -> nx.DiGraph:
    """Merge each group of nodes into one named by its first member; parallel edges keep the strongest."""
    representative = {node: node for node in graph}
    merged = nx.DiGraph()
    merged.add_nodes_from(graph.nodes(data=True))
    for group in groups:
        present = [node for node in group if node in graph]
        if len(present) < 2:
            continue
        members = tuple(sorted((m for node in present for m in graph.nodes[node]["members"]), key=literal_key))
        merged.remove_nodes_from(present)
        merged.add_node(members[0], members=members, is_class=any(graph.nodes[n]["is_class"] for n in present))
        representative.update(dict.fromkeys(present, members[0]))
    for source, target, data in graph.edges(data=True):
        edge = representative[source], representative[target]
        if edge[0] != edge[1] and (not merged.has_edge(*edge) or merged.edges[edge]["support"] < data["support"]):
            merged.add_edge(*edge, **data)
    return merged


def _node_of(graph: nx.DiGraph, literal: str) -> str:
    """The merged node whose members include the literal."""
    for node, members in graph.nodes(data="members"):
        if literal in members:
            return node
    raise ValueError(f"literal {literal!r} is not a node of the graph")


def _condense(graph: nx.DiGraph, focus: str | None = None, max_edges: int | None = None) -> nx.DiGraph:
    """Merge equivalent literals, drop isolated ones, focus or cap, then condense each cycle to a node."""
    merged = _merge(_literal_graph(graph), equivalence_classes(graph))
    center = None if focus is None else _node_of(merged, focus)
    merged.remove_nodes_from([node for node, degree in merged.degree if degree == 0 and node != center])
    if center is not None:
        merged = focus_subgraph(merged, center, max_edges)
    elif max_edges is not None:
        merged = top_edges(merged, max_edges)
    return _merge(merged, nx.strongly_connected_components(merged))


def _reduce(dag: nx.DiGraph) -> nx.DiGraph:
    """Transitive reduction of a DAG, keeping node and edge attributes and adding display labels."""
    reduced = nx.transitive_reduction(dag)
    reduced.add_nodes_from(
        (node, {**data, "label": " ≡ ".join(map(display_name, data["members"]))}) for node, data in dag.nodes(data=True)
    )
    reduced.add_edges_from((source, target, dag.edges[source, target]) for source, target in reduced.edges)
    return reduced


def drawable_graph(graph: nx.DiGraph, focus: str | None = None, max_edges: int | None = None) -> nx.DiGraph:
    """The graph as drawn: no isolated literals or class–class edges, equivalents and cycles merged, reduced.

    Nodes carry `members` (literal names), `label` and `is_class`; an edge carries the attributes of the
    strongest edge it stands for (so `support` is their maximum). With `focus`, only that literal's ancestors
    and descendants are kept; `max_edges` caps the edges before the reduction (see `focus_subgraph`).
    """
    return _reduce(_condense(graph, focus, max_edges))


def _edge_title(data: dict) -> str:
    """Hover text of an edge: its train precision, recall, support and, when known, test precision."""
    title = f"precision {data['precision']:.3f}, recall {data['recall']:.3f}, support {data['support']}"
    return title + (f", test precision {data['test_precision']:.3f}" if "test_precision" in data else "")


def _sorted_edges(graph: nx.DiGraph) -> list[tuple[str, str, dict]]:
    """Edges in a fixed order so the same graph always renders the same text."""
    return sorted(graph.edges(data=True), key=lambda edge: (literal_key(edge[0]), literal_key(edge[1])))


def to_graphviz(drawable: nx.DiGraph, title: str = "") -> graphviz.Digraph:
    """DOT drawing of a drawable graph: bottom to top (antecedents below), class literals in red."""
    graph_attr = {"rankdir": "BT"} | ({"label": title, "labelloc": "t"} if title else {})
    dot = graphviz.Digraph(graph_attr=graph_attr, node_attr={"shape": "box", "style": "rounded"})
    ids = {node: f"n{i}" for i, node in enumerate(sorted(drawable, key=literal_key))}
    for node, node_id in ids.items():
        data = drawable.nodes[node]
        red = {"color": CLASS_COLOR, "fontcolor": CLASS_COLOR, "penwidth": "2"} if data["is_class"] else {}
        dot.node(node_id, label=data["label"], **red)
    for source, target, data in _sorted_edges(drawable):
        dot.edge(ids[source], ids[target], tooltip=_edge_title(data))
    return dot


def render_svg(dot: graphviz.Digraph) -> str:
    """Render a DOT drawing to SVG text with Graphviz's `dot`; say how to install it when it is missing."""
    try:
        return dot.pipe(format="svg", encoding="utf-8")
    except graphviz.ExecutableNotFound as error:
        raise GraphvizMissingError(GRAPHVIZ_MISSING) from error


def draw(graph: nx.DiGraph, max_nodes: int = 80, max_edges_per_class: int | None = 60) -> dict[str, str]:
    """SVG drawings: the whole graph ("all") when small enough, else one focused on each class literal."""
    whole = _condense(graph)
    if whole.number_of_nodes() <= max_nodes:
        return {"all": render_svg(to_graphviz(_reduce(whole), "neuron dependency graph"))}
    classes = sorted((n for n, d in graph.nodes(data=True) if d["is_class"] and d["value"]), key=literal_key)
    return {
        literal: render_svg(
            to_graphviz(
                drawable_graph(graph, focus=literal, max_edges=max_edges_per_class),
                f"{display_name(literal)}: sufficient conditions below, necessary above",
            )
        )
        for literal in classes
    }


def interactive_html(graph: nx.DiGraph, max_edges: int | None = 2000) -> str:
    """Self-contained interactive HTML view (pyvis, scripts inlined): works offline, needs no Graphviz."""
    drawable = drawable_graph(graph, max_edges=max_edges)
    network = Network(height="800px", directed=True, cdn_resources="in_line")
    network.set_options(json.dumps(PYVIS_OPTIONS))
    for node in sorted(drawable, key=literal_key):
        data = drawable.nodes[node]
        color = CLASS_COLOR if data["is_class"] else NEURON_COLOR
        network.add_node(node, label=data["label"], title=data["label"], color=color, shape="box")
    for source, target, data in _sorted_edges(drawable):
        network.add_edge(source, target, title=_edge_title(data))
    return REMOTE_RESOURCE.sub("", network.generate_html())
