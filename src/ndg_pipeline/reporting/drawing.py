"""Draw the dependency graph: merged, condensed and transitively reduced, bottom to top (spec §6)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

import graphviz
import networkx as nx
import numpy as np
from pyvis.network import Network
from scipy import sparse
from scipy.sparse import csgraph

from ndg_pipeline.names import NOT, TRAIN_PRECISION, literal_key, parse_literal, split_predicate
from ndg_pipeline.ndg.graph import DependencyGraph, adjacency, as_graph, equivalence_labels, focus_rows, top_rows

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
INTERACTIVE_TITLE = "Neuron dependency graph (interactive view)"
EMPTY_HEADINGS = re.compile(r"<center>\s*<h1></h1>\s*</center>")
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


@dataclass(frozen=True)
class MergedGraph:
    """The graph as drawn before focusing, in array form: class–class edges dropped, each equivalence class one
    node (its first literal in ``literal_key`` order), parallel edges reduced to the strongest."""

    graph: DependencyGraph
    representative: np.ndarray
    source: np.ndarray
    target: np.ndarray
    rows: np.ndarray

    @property
    def support(self) -> np.ndarray:
        """Support of each merged edge (that of the original edge it keeps)."""
        return self.graph.numbers["support"][self.rows]

    def members(self, node: int) -> tuple[str, ...]:
        """The literal names a merged node stands for, in ``literal_key`` order."""
        ids = np.flatnonzero(self.representative == node) if self._merged[node] else np.array([node])
        return tuple(sorted(self.graph.literal_names[ids], key=literal_key))

    @cached_property
    def matrices(self) -> tuple[sparse.csr_array, sparse.csr_array]:
        """Forward and backward adjacency of the merged edges (built once, shared by every focus)."""
        return adjacency(self.source, self.target, self.graph.n_literals)

    @cached_property
    def _merged(self) -> np.ndarray:
        counts = np.bincount(self.representative, minlength=self.graph.n_literals)
        return counts > 1

    def to_networkx(self, nodes: np.ndarray, kept: np.ndarray) -> nx.DiGraph:
        """A networkx graph of merged nodes (``members``, ``is_class``) and kept merged edges (their attributes)."""
        graph = self.graph
        drawn = nx.DiGraph()
        for node in sorted(nodes.tolist(), key=lambda node: graph.key_rank[node]):
            members = self.members(node)
            is_class = any(graph.literal_is_class[graph.ids[name]] for name in members)
            drawn.add_node(graph.literal_names[node], members=members, is_class=is_class)
        names = graph.literal_names
        for position in sorted(
            kept.tolist(), key=lambda p: (graph.key_rank[self.source[p]], graph.key_rank[self.target[p]])
        ):
            drawn.add_edge(
                names[self.source[position]], names[self.target[position]], **graph.edge_attributes(self.rows[position])
            )
        return drawn


def merged_graph(graph: DependencyGraph | nx.DiGraph) -> MergedGraph:
    """Merge equivalent literals and drop class–class edges and the self-loops merging makes; of parallel edges
    keep the strongest (the first in node then table order among equals)."""
    graph = as_graph(graph)
    representative = equivalence_labels(graph)
    rows = np.flatnonzero(~(graph.literal_is_class[graph.source] & graph.literal_is_class[graph.target]))
    source, target = representative[graph.source[rows]], representative[graph.target[rows]]
    loop = source == target
    rows, source, target = rows[~loop], source[~loop], target[~loop]
    moved = (representative[graph.source[rows]] != graph.source[rows]) | (
        representative[graph.target[rows]] != graph.target[rows]
    )
    if moved.any():  # only edges of merged literals can become parallel
        part = np.flatnonzero(moved)
        support = graph.numbers["support"][rows[part]]
        n, edges = graph.n_literals, graph.n_edges
        pair = source[part].astype(np.int64) * n + target[part]
        encounter = (graph.source[rows[part]] ^ 1).astype(np.int64) * edges + rows[part]  # networkx's edge order
        order = part[np.lexsort((encounter, -support, pair))]
        first = np.ones(order.size, dtype=bool)
        first[1:] = (source[order][1:] != source[order][:-1]) | (target[order][1:] != target[order][:-1])
        keep = np.concatenate([np.flatnonzero(~moved), order[first]])
        rows, source, target = rows[keep], source[keep], target[keep]
    return MergedGraph(graph, representative, source, target, rows)


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


def _condense(merged: MergedGraph, focus: str | None = None, max_edges: int | None = None) -> nx.DiGraph:
    """Drop isolated literals, focus or cap, then condense each cycle to a node (small graphs only)."""
    graph = merged.graph
    support, rank = merged.support, graph.key_rank
    if focus is not None:
        center = int(merged.representative[graph.literal(focus)])
        nodes, kept = focus_rows(merged.matrices, merged.source, merged.target, support, rank, center, max_edges)
    else:
        kept = (
            np.arange(merged.rows.size)
            if max_edges is None
            else top_rows(merged.source, merged.target, support, rank, max_edges)
        )
        nodes = np.union1d(merged.source[kept], merged.target[kept])
    drawn = merged.to_networkx(nodes, kept)
    return _merge(drawn, nx.strongly_connected_components(drawn))


def condensed_size(merged: MergedGraph) -> int:
    """How many nodes the whole drawing would have: strongly connected parts among non-isolated merged nodes."""
    _, component = csgraph.connected_components(merged.matrices[0], directed=True, connection="strong")
    return int(np.unique(component[np.union1d(merged.source, merged.target)]).size)


def _reduce(dag: nx.DiGraph) -> nx.DiGraph:
    """Transitive reduction of a DAG, keeping node and edge attributes and adding display labels."""
    reduced = nx.transitive_reduction(dag)
    reduced.add_nodes_from(
        (node, {**data, "label": " ≡ ".join(map(display_name, data["members"]))}) for node, data in dag.nodes(data=True)
    )
    reduced.add_edges_from((source, target, dag.edges[source, target]) for source, target in reduced.edges)
    return reduced


def drawable_graph(
    graph: DependencyGraph | nx.DiGraph | MergedGraph, focus: str | None = None, max_edges: int | None = None
) -> nx.DiGraph:
    """The graph as drawn: no isolated literals or class–class edges, equivalents and cycles merged, reduced.

    Nodes carry `members` (literal names), `label` and `is_class`; an edge carries the attributes of the
    strongest edge it stands for (so `support` is their maximum). With `focus`, only that literal's ancestors
    and descendants are kept; `max_edges` caps the edges before the reduction (see `focus_subgraph`). Pass a
    `merged_graph` to draw several focuses of one large graph without merging it again.
    """
    merged = graph if isinstance(graph, MergedGraph) else merged_graph(graph)
    return _reduce(_condense(merged, focus, max_edges))


def _edge_title(data: dict) -> str:
    """Hover text of an edge: its train precision, recall, support and, when known, test precision."""
    title = f"train precision {data[TRAIN_PRECISION]:.3f}, recall {data['recall']:.3f}, support {data['support']}"
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


def draw(
    graph: DependencyGraph | nx.DiGraph, max_nodes: int = 80, max_edges_per_class: int | None = 60
) -> dict[str, str]:
    """SVG drawings: the whole graph ("all") when small enough, else one focused on each class literal, whose
    own sufficient and necessary literals (its edges) are kept first, then the strongest edges nearest to it."""
    merged = merged_graph(graph)
    if condensed_size(merged) <= max_nodes:
        return {"all": render_svg(to_graphviz(_reduce(_condense(merged)), "neuron dependency graph"))}
    names = merged.graph.literal_names
    classes = sorted((names[2 * i + 1] for i in np.flatnonzero(merged.graph.is_class)), key=literal_key)
    drawings = {}
    for literal in classes:
        focused = _reduce(_condense(merged, focus=literal, max_edges=max_edges_per_class))
        drawings[literal] = render_svg(to_graphviz(focused, focus_title(focused, literal)))
    return drawings


def focus_title(drawable: nx.DiGraph, literal: str) -> str:
    """The title of a class's drawing: what lies below it (its sufficient conditions) and above it (what it
    implies), or that there is none, so an empty half of the picture is explained where it appears."""
    if literal not in drawable:
        return f"{display_name(literal)}: no edge at this α"
    neurons = {node for node in drawable if not drawable.nodes[node]["is_class"]}
    below, above = len(nx.ancestors(drawable, literal) & neurons), len(nx.descendants(drawable, literal) & neurons)
    parts = [
        f"{below} neuron literal{'s' if below != 1 else ''} below imply it (sufficient)"
        if below
        else "no neuron literal implies it (no sufficient condition at this α)",
        f"it implies {above} above (necessary)" if above else "it implies no neuron literal",
    ]
    return f"{display_name(literal)}: " + "; ".join(parts) + ". Arrows point from p to q for p → q."


def interactive_html(graph: DependencyGraph | nx.DiGraph, max_edges: int | None = 2000) -> str:
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
    shown = f"the {max_edges} strongest edges by support" if max_edges else "every edge"
    page = REMOTE_RESOURCE.sub("", network.generate_html())
    page = page.replace("<head>", f"<head>\n<title>{INTERACTIVE_TITLE}</title>", 1)
    return EMPTY_HEADINGS.sub("", page).replace("<body>", "<body>\n" + interactive_legend(shown), 1)


def interactive_legend(shown: str) -> str:
    """The interactive page's heading and legend: what the colours, boxes and arrows mean, and what is left out."""
    return (
        f'<h1 style="font: 600 1.4rem system-ui, sans-serif; margin: 0.5rem 1rem">{INTERACTIVE_TITLE}</h1>\n'
        '<p style="font: 0.9rem system-ui, sans-serif; margin: 0 1rem 0.5rem">'
        f'<span style="background:{CLASS_COLOR};color:#fff;padding:0 0.3rem">class literal</span> '
        f'<span style="background:{NEURON_COLOR};padding:0 0.3rem">neuron literal</span> (¬ when false); '
        f"an arrow p → q is an edge: where p holds, q holds. Drawn: {shown}, with isolated literals left out. "
        "Drag to move, scroll to zoom, hover an edge for its support and accuracies.</p>\n"
    )
