"""Tests for the drawable graph, its DOT/SVG drawing and the offline interactive HTML view."""

import json
import re
import shutil

import networkx as nx
import pandas as pd
import pytest

from ndg_pipeline.names import negate, parse_literal
from ndg_pipeline.ndg.graph import build_graph
from ndg_pipeline.reporting.drawing import (
    CLASS_COLOR,
    GraphvizMissingError,
    draw,
    drawable_graph,
    focus_title,
    interactive_html,
    render_svg,
    to_graphviz,
)

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot executable is not installed")
PREDICATES = [f"class:{c}" for c in range(3)] + [f"latent:{i}" for i in range(7)]
MINED = [
    ("latent:0", "latent:1", 40),
    ("latent:1", "class:1", 45),
    ("latent:0", "class:1", 38),  # shortcut that the transitive reduction removes
    ("latent:2", "class:2", 30),
    ("¬latent:3", "class:2", 31),  # latent:2 ≡ ¬latent:3: the two edges become one
    ("class:1", "¬class:2", 45),  # class–class edge, never drawn
    ("latent:4", "latent:5", 20),
    ("latent:5", "latent:4", 20),  # cycle, condensed into one node
    ("latent:5", "class:0", 15),
]


def tables(mined: list[tuple[str, str, int]]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Edges (each mined edge with its contrapositive), the equivalence latent:2 ≡ ¬latent:3, and priors."""
    pairs = [(s, t, "mined", n) for s, t, n in mined] + [
        (negate(t), negate(s), "contrapositive", n) for s, t, n in mined
    ]
    rows = []
    for source, target, kind, support in pairs:
        (source_predicate, source_value), (target_predicate, target_value) = map(parse_literal, (source, target))
        rows.append((source_predicate, source_value, target_predicate, target_value, kind, support))
    edges = pd.DataFrame(rows, columns=["source", "source_value", "target", "target_value", "kind", "support"])
    edges = edges.assign(n_source=50, train_precision=0.95, recall=0.5, n_source_test=20, test_precision=0.9)
    equivalences = pd.DataFrame({"a": ["latent:2"], "b": ["latent:3"], "negated": [True], "agreement": [0.99]})
    priors = pd.DataFrame(
        {
            "predicate": PREDICATES,
            "n": 100,
            "prior": 0.4,
            "is_class": [p.startswith("class") for p in PREDICATES],
            "is_constant": False,
        }
    )
    return edges, equivalences, priors


@pytest.fixture
def graph() -> nx.DiGraph:
    """Chain with shortcut, equivalence, cycle, class–class edge and an isolated predicate (latent:6)."""
    return build_graph(*tables(MINED))


def test_drawable_graph_merges_condenses_and_reduces(graph):
    drawable = drawable_graph(graph)
    assert nx.is_directed_acyclic_graph(drawable)
    assert set(drawable.edges) == {
        ("latent:0", "latent:1"),
        ("latent:1", "class:1"),
        ("¬class:1", "¬latent:1"),
        ("¬latent:1", "¬latent:0"),
        ("latent:2", "class:2"),
        ("¬class:2", "¬latent:2"),
        ("latent:4", "class:0"),
        ("¬class:0", "¬latent:4"),
    }
    assert drawable.number_of_nodes() == 14  # latent:6 (isolated) is dropped, merged literals count once
    assert drawable.nodes["latent:2"] == {
        "members": ("latent:2", "¬latent:3"),
        "is_class": False,
        "label": "latent 2 ≡ ¬latent 3",
    }
    assert drawable.nodes["latent:4"]["label"] == "latent 4 ≡ latent 5"
    assert drawable.nodes["¬latent:4"]["members"] == ("¬latent:4", "¬latent:5")
    assert drawable.nodes["class:1"]["is_class"] and drawable.nodes["class:1"]["label"] == "class 1"
    assert drawable.edges["latent:2", "class:2"]["support"] == 31  # the stronger of the two merged edges


def test_drawable_graph_with_focus_and_edge_cap(graph):
    assert set(drawable_graph(graph, focus="class:1").edges) == {
        ("latent:0", "latent:1"),
        ("latent:1", "class:1"),
    }
    assert set(drawable_graph(graph, focus="¬latent:3").edges) == {("latent:2", "class:2")}
    assert set(drawable_graph(graph, focus="class:0")) == {"latent:4", "class:0"}
    isolated = drawable_graph(graph, focus="latent:6")
    assert set(isolated) == {"latent:6"} and isolated.number_of_edges() == 0
    capped = drawable_graph(graph, max_edges=2)
    assert set(capped.edges) == {("latent:1", "class:1"), ("¬class:1", "¬latent:1")}
    with pytest.raises(ValueError, match="latent:99"):
        drawable_graph(graph, focus="latent:99")


def test_dot_text_is_bottom_to_top_red_for_classes_and_deterministic(graph):
    source = to_graphviz(drawable_graph(graph), title="toy graph").source
    assert "rankdir=BT" in source and "toy graph" in source
    node_lines = [line for line in source.splitlines() if "label=" in line and "->" not in line]
    class_lines = [line for line in node_lines if re.search(r'label="¬?class', line)]
    assert len(class_lines) == 6 and all(CLASS_COLOR in line for line in class_lines)
    assert not any(CLASS_COLOR in line for line in node_lines if line not in class_lines)
    assert 'label="¬latent 1"' in source and 'label="latent 2 ≡ ¬latent 3"' in source
    edges, equivalences, priors = tables(MINED)
    shuffled = build_graph(edges.iloc[::-1].reset_index(drop=True), equivalences, priors)
    assert to_graphviz(drawable_graph(shuffled), title="toy graph").source == source


@needs_dot
def test_render_svg_and_draw(graph):
    svg = render_svg(to_graphviz(drawable_graph(graph)))
    assert "<svg" in svg and "latent 2 ≡ ¬latent 3" in svg
    assert list(draw(graph)) == ["all"]
    per_class = draw(graph, max_nodes=3)
    assert list(per_class) == ["class:0", "class:1", "class:2"]
    assert all("<svg" in drawing for drawing in per_class.values())


def test_missing_dot_raises_a_clear_error(graph, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(GraphvizMissingError) as raised:
        render_svg(to_graphviz(drawable_graph(graph)))
    message = str(raised.value)
    for advice in ("`dot`", "apt-get install graphviz", "brew install graphviz", "conda install graphviz"):
        assert advice in message
    assert "interactive HTML" in message and isinstance(raised.value, RuntimeError)
    with pytest.raises(GraphvizMissingError):
        draw(graph)


def test_interactive_html_is_offline_and_needs_no_graphviz(graph, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    html = interactive_html(graph)
    for label in ("latent 0", "class 1", "latent 2 ≡ ¬latent 3", "latent 4 ≡ latent 5"):
        assert json.dumps(label)[1:-1] in html
    assert "precision 0.950, recall 0.500, support 45, test precision 0.900" in html
    assert "new vis.Network" in html and '"direction": "DU"' in html
    assert not re.search(r"<script[^>]*\ssrc=[\"']https?:", html)
    assert not re.search(r"<link[^>]*\shref=[\"']https?:", html)


def test_a_class_drawing_says_what_lies_below_and_above_it(graph):
    title = focus_title(drawable_graph(graph, focus="class:1"), "class:1")
    assert title.startswith("class 1: 2 neuron literals below imply it (sufficient); it implies no neuron literal")
    necessary = focus_title(drawable_graph(graph, focus="¬class:1"), "¬class:1")
    assert "no neuron literal implies it (no sufficient condition at this α); it implies 2 above" in necessary
