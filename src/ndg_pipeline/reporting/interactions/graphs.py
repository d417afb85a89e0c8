"""Drawings of the AND-OR graph: Graphviz SVG and an interactive, offline pyvis page (any number of nodes)."""

from __future__ import annotations

import json
import re

import graphviz
import networkx as nx
from pyvis.network import Network

from ndg_pipeline.reporting.drawing import GRAPHVIZ_MISSING, REMOTE_RESOURCE, GraphvizMissingError

LAYER_COLORS = {"root": "#f2f2f2", "coalition": "#ebdcec", "player": "#f2f2f2"}
POSITIVE, NEGATIVE = (229, 57, 53), (30, 136, 229)
CONCEPTS_PER_ROW = 16  # the interactive view stacks concepts in rows, strongest first
PYVIS_OPTIONS = {
    "layout": {"hierarchical": {"enabled": True, "direction": "UD", "sortMethod": "directed", "levelSeparation": 110}},
    "physics": {"enabled": False},
    "edges": {"color": {"color": "#9e9e9e"}},
    "interaction": {"hover": True},
}


def _node_color(data: dict, strongest: float) -> str:
    """Concepts: red (positive) or blue (negative), more opaque the stronger, blended onto white."""
    if data["layer"] != "concept":
        return LAYER_COLORS[data["layer"]]
    opacity = 0.15 + 0.85 * abs(data["value"]) / strongest if strongest > 0 else 1.0
    base = POSITIVE if data["value"] > 0 else NEGATIVE
    red, green, blue = (round(255 - opacity * (255 - c)) for c in base)
    return f"#{red:02x}{green:02x}{blue:02x}"


def _sorted_nodes(graph: nx.DiGraph) -> list[str]:
    order = {"root": 0, "concept": 1, "coalition": 2, "player": 3}
    return sorted(graph, key=lambda node: (order[graph.nodes[node]["layer"]], node))


def _strongest(graph: nx.DiGraph) -> float:
    return max((abs(d["value"]) for _, d in graph.nodes(data=True) if d["layer"] == "concept"), default=0.0)


def _tooltip(data: dict) -> str:
    if data["layer"] == "concept":
        return f"{data['kind'].upper()} of players {data['players']}: {data['value']:+.3f} (order {data['order']})"
    return data["label"]


def strongest_concepts(graph: nx.DiGraph, count: int | None) -> nx.DiGraph:
    """The graph restricted to its ``count`` strongest concepts (all when None), with every player kept and the
    coalitions those concepts use."""
    concepts = [n for n, d in graph.nodes(data=True) if d["layer"] == "concept"]
    if count is None or len(concepts) <= count:
        return graph
    dropped = sorted(concepts, key=lambda n: -abs(graph.nodes[n]["value"]))[count:]
    pruned = graph.copy()
    pruned.remove_nodes_from(dropped)
    idle = [n for n, d in pruned.nodes(data=True) if d["layer"] == "coalition" and not pruned.in_degree(n)]
    pruned.remove_nodes_from(idle)
    pruned.graph["title"] = f"{graph.graph.get('title', '')} — the {count} strongest of {len(concepts)} concepts"
    return pruned


def to_svg(graph: nx.DiGraph, max_concepts: int | None = None) -> str:
    """Graphviz drawing, output on top, players at the bottom, arrows from the parts to the whole they build;
    dashed borders mark OR concepts. With ``max_concepts``, only the strongest concepts are drawn (the title says
    so)."""
    graph = strongest_concepts(graph, max_concepts)
    strongest = _strongest(graph)
    dot = graphviz.Digraph(
        graph_attr={"rankdir": "TB", "label": graph.graph.get("title", ""), "labelloc": "t", "nodesep": "0.15"},
        node_attr={"shape": "box", "style": "rounded,filled", "fontname": "Helvetica", "fontsize": "11"},
        edge_attr={"color": "#9e9e9e", "dir": "back", "arrowtail": "normal", "arrowsize": "0.6"},  # parts → whole
    )
    ids = {node: f"n{i}" for i, node in enumerate(_sorted_nodes(graph))}
    for node, node_id in ids.items():
        data = graph.nodes[node]
        style = "rounded,filled,dashed" if data.get("kind") == "or" else "rounded,filled"
        dot.node(
            node_id, label=data["label"], fillcolor=_node_color(data, strongest), style=style, tooltip=_tooltip(data)
        )
    for layer in ("concept", "player"):
        with dot.subgraph() as same:
            same.attr(rank="same")
            for node in ids:
                if graph.nodes[node]["layer"] == layer:
                    same.node(ids[node])
    for source, target in sorted(graph.edges, key=lambda e: (ids[e[0]], ids[e[1]])):
        dot.edge(ids[source], ids[target])
    try:
        return dot.pipe(format="svg", encoding="utf-8")
    except graphviz.ExecutableNotFound as error:
        raise GraphvizMissingError(GRAPHVIZ_MISSING) from error


def _network(name: str, graph: nx.DiGraph) -> Network:
    """The pyvis network of one sample's whole graph."""
    network = Network(height="820px", width="100%", directed=True, cdn_resources="in_line")
    network.set_options(json.dumps(PYVIS_OPTIONS))
    concepts = sorted(
        (n for n, d in graph.nodes(data=True) if d["layer"] == "concept"), key=lambda n: -abs(graph.nodes[n]["value"])
    )
    rows = {node: 1 + rank // CONCEPTS_PER_ROW for rank, node in enumerate(concepts)}
    below = 1 + max(rows.values(), default=1)
    levels = {"root": 0, "coalition": below, "player": below + 1}
    strongest = _strongest(graph)
    for node in _sorted_nodes(graph):
        data = graph.nodes[node]
        label = f"{graph.graph.get('title', name)}: {data['label']}" if data["layer"] == "root" else data["label"]
        network.add_node(
            node,
            label=label,
            title=_tooltip(data),
            color=_node_color(data, strongest),
            shape="box",
            level=rows.get(node, levels.get(data["layer"], 1)),
            borderDashes=data.get("kind") == "or",
        )
    for source, target in graph.edges:  # edges run whole → part: the head at the whole reads parts → whole
        network.add_edge(source, target, arrows="from")
    return network


PAGE_TITLE = "AND-OR graphs of the interaction lens"
HEADER = f"""
<header style="font-family: Helvetica, Arial, sans-serif; max-width: 1200px; margin: 0.5rem auto; line-height: 1.4">
<h1 style="font-size: 1.4rem; margin: 0.3rem 0">{PAGE_TITLE}</h1>
<p style="margin: 0.3rem 0">One input's graph at a time: <label>sample <select id="sample-choice"></select></label>.
Arrows point from the parts to the whole they build: players (gray, bottom) → merged coalitions (purple) → concepts
→ the output on top, which sums the concepts and the constant v(∅).</p>
<p style="margin: 0.3rem 0">Legend:
<span style="background: #e53935; color: #fff; padding: 0 0.4rem">concept pushing the output up</span>
<span style="background: #1e88e5; color: #fff; padding: 0 0.4rem">concept pushing it down</span>
(paler = weaker, rows ordered strongest first) ·
<span style="border: 1px solid #333; padding: 0 0.4rem">solid border: AND</span> (needs all its players) ·
<span style="border: 1px dashed #333; padding: 0 0.4rem">dashed border: OR</span> (any one suffices) ·
hover a node for its players and value; drag to pan, scroll to zoom.</p>
</header>
"""
SWITCH = """
<script>
const graphsBySample = %s;
const choice = document.getElementById("sample-choice");
for (const name of Object.keys(graphsBySample)) { choice.add(new Option(graphsBySample[name].title, name)); }
choice.addEventListener("change", () => {
  const graph = graphsBySample[choice.value];
  network.setData({nodes: new vis.DataSet(graph.nodes), edges: new vis.DataSet(graph.edges)});
});
</script>
"""


def to_html(graphs: dict[str, nx.DiGraph]) -> str:
    """One self-contained interactive page (scripts inlined, works offline) with a title and a legend: every
    sample's whole AND-OR graph, one at a time, chosen in a menu; hover a node for its players and value."""
    networks = {name: _network(name, graph) for name, graph in graphs.items()}
    data = {
        name: {"title": graphs[name].graph.get("title", name), "nodes": network.nodes, "edges": network.edges}
        for name, network in networks.items()
    }
    page = REMOTE_RESOURCE.sub("", next(iter(networks.values())).generate_html())
    page = re.sub(r"<title>.*?</title>|(?=</head>)", f"<title>{PAGE_TITLE}</title>", page, count=1, flags=re.DOTALL)
    page = re.sub(r"<body[^>]*>", lambda found: found.group(0) + HEADER, page, count=1)
    return page.replace("</body>", SWITCH % json.dumps(data) + "</body>")
