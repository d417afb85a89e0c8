"""The AND-OR graph pictures: arrows from the parts to the whole they build, a titled and explained interactive page."""

from __future__ import annotations

import re

import networkx as nx
import numpy as np
import pytest

from ndg_pipeline.interactions import aggregate, and_interactions, and_or_graph, remove_noisy, subset_masks
from ndg_pipeline.reporting.interactions import to_html, to_svg

NODE = re.compile(r'<g id="node\d+" class="node">\s*<title>(n\d+)</title>.*?<text[^>]* y="([-\d.]+)"', re.DOTALL)
EDGE = re.compile(
    r'<g id="edge\d+" class="edge">\s*<title>(n\d+)&#45;&gt;(n\d+)</title>.*?<polygon[^>]*points="([^"]+)"', re.DOTALL
)


@pytest.fixture(scope="module")
def graph() -> nx.DiGraph:
    """A sample's graph from a hand-made game: AND(x0 x1) = 4, AND(x0 x1 x2) = −3, AND(x6 x7) = 2."""
    n = 8
    v = np.zeros(1 << n)
    for mask, value in {0b11000000: 4.0, 0b11100000: -3.0, 0b00000011: 2.0}.items():
        v += value * np.array([float(k & mask == mask) for k in range(1 << n)])
    kept = remove_noisy(v, and_interactions(v), min_patterns=1, max_patterns=5)
    return and_or_graph(kept, aggregate(subset_masks(n)[kept.masks], kept.values), [f"x{i}" for i in range(n)], "s0")


def test_every_arrow_head_sits_at_the_whole_the_parts_build(graph):
    svg = to_svg(graph)
    heights = {node: float(y) for node, y in NODE.findall(svg)}
    edges = EDGE.findall(svg)
    assert len(edges) == graph.number_of_edges()
    for whole, part, points in edges:  # the graph's edges run whole → part; the whole is drawn above its parts
        head = np.mean([float(point.split(",")[1]) for point in points.split()])
        assert abs(head - heights[whole]) < abs(head - heights[part]), (whole, part)


def test_the_interactive_page_has_a_title_a_legend_and_one_sample_menu(graph):
    page = to_html({"0": graph, "1": graph})
    assert re.search(r"<title>AND-OR graphs of the interaction lens</title>", page)
    assert page.count('id="sample-choice"') == 1 and page.count("<title>") == 1
    assert "Legend:" in page and "Arrows point from the parts to the whole" in page
    assert page.index("<h1") < page.index('id="mynetwork"')
