"""Tests for building, summarizing and querying the dependency graph on small hand-made tables."""

import json
import math

import networkx as nx
import pandas as pd
import pytest

from ndg_pipeline.ndg.graph import build_graph, equivalence_classes, focus_subgraph, graph_statistics, intervention_closure_graph, necessary_neurons, sufficient_neurons
from ndg_pipeline.names import literal_name, negate, parse_literal

NAN = math.nan
PREDICATES = [f"class:{c}" for c in range(3)] + [f"latent:{i}" for i in range(9)]
# (source, target, kind, support, train precision, test precision); each edge with its contrapositive.
EDGES = [
    ("latent:0", "latent:1", "mined", 40, 1.0, 0.9),
    ("¬latent:1", "¬latent:0", "contrapositive", 50, 1.0, 1.0),
    ("latent:1", "class:1", "mined", 45, 0.9, 0.8),
    ("¬class:1", "¬latent:1", "contrapositive", 48, 0.96, NAN),
    ("latent:0", "class:1", "mined", 38, 0.95, 0.85),  # shortcut of latent:0 → latent:1 → class:1
    ("¬class:1", "¬latent:0", "contrapositive", 50, 1.0, 0.95),
    ("latent:2", "class:2", "mined", 30, 0.9, 0.9),
    ("¬class:2", "¬latent:2", "contrapositive", 60, 0.9, 0.9),
    ("¬latent:3", "class:2", "mined", 31, 0.92, 0.8),
    ("¬class:2", "latent:3", "contrapositive", 61, 0.91, 0.7),
    ("class:1", "¬class:2", "mined", 45, 1.0, 1.0),  # class–class edge
    ("class:2", "¬class:1", "contrapositive", 40, 1.0, 1.0),
    ("class:1", "¬latent:5", "mined", 44, 0.98, 0.9),
    ("latent:5", "¬class:1", "contrapositive", 20, 0.99, NAN),
]
EDGE_COLUMNS = [
    "source",
    "source_value",
    "target",
    "target_value",
    "kind",
    "support",
    "n_source",
    "train_precision",
    "recall",
]
CYCLE = [
    ("latent:7", "latent:8", "mined", 10, 0.99, 1.0),
    ("¬latent:8", "¬latent:7", "contrapositive", 12, 0.99, 1.0),
    ("latent:8", "latent:7", "mined", 10, 0.98, 1.0),
    ("¬latent:7", "¬latent:8", "contrapositive", 12, 0.98, 1.0),
]


def edge_table(rows: list[tuple], with_test: bool = True) -> pd.DataFrame:
    """Edges table in the miner's layout from (source, target, kind, support, precision, test) rows."""
    records = []
    for source, target, kind, support, precision, test in rows:
        (source_predicate, source_value), (target_predicate, target_value) = map(parse_literal, (source, target))
        record = {
            "source": source_predicate,
            "source_value": source_value,
            "target": target_predicate,
            "target_value": target_value,
            "kind": kind,
            "support": support,
            "n_source": 50,
            "train_precision": precision,
            "recall": support / 100,
        }
        if with_test:
            record |= {"n_source_test": 0 if math.isnan(test) else 20, "test_precision": test}
        records.append(record)
    columns = [*EDGE_COLUMNS, "n_source_test", "test_precision"] if with_test else EDGE_COLUMNS
    return pd.DataFrame(records, columns=columns).astype({"support": "int64", "n_source": "int64"})


def tables(rows: list[tuple] = EDGES, with_test: bool = True) -> tuple[pd.DataFrame, ...]:
    """Edges, equivalences (latent:2 ≡ ¬latent:3, latent:3 ≡ latent:4) and priors (latent:6 constant)."""
    equivalences = pd.DataFrame(
        {"a": ["latent:2", "latent:3"], "b": ["latent:3", "latent:4"], "negated": [True, False]}
    ).assign(agreement=0.99)
    priors = pd.DataFrame(
        {
            "predicate": PREDICATES,
            "n": 100,
            "prior": [0.3, 0.4, 0.3, 0.3, 0.4, 0.3, 0.7, 0.7, 0.2, 0.0, 0.5, 0.5],
            "is_class": [p.startswith("class") for p in PREDICATES],
            "is_constant": [p == "latent:6" for p in PREDICATES],
        }
    )
    return edge_table(rows, with_test), equivalences, priors


@pytest.fixture
def graph() -> nx.DiGraph:
    """The hand-made graph: chain, shortcut, equivalence, class–class edge, isolated literals."""
    return build_graph(*tables())


def test_literal_names_round_trip():
    assert literal_name("latent:17", True) == "latent:17"
    assert literal_name("latent:17", False) == "¬latent:17"
    assert parse_literal("¬l2:5") == ("l2:5", False)
    assert parse_literal("class:3") == ("class:3", True)
    assert negate("latent:17") == "¬latent:17"
    assert negate(negate("latent:17")) == "latent:17"


def test_build_graph_nodes_edges_and_graph_data(graph):
    assert graph.number_of_nodes() == 2 * len(PREDICATES)
    assert graph.nodes["¬latent:0"] == {
        "predicate": "latent:0",
        "value": False,
        "prior": pytest.approx(0.7),
        "is_class": False,
        "is_constant": False,
        "layer": "latent",
        "index": 0,
    }
    assert graph.nodes["class:1"]["is_class"] and graph.nodes["latent:6"]["is_constant"]
    assert graph.edges["latent:0", "latent:1"] == {
        "kind": "mined",
        "support": 40,
        "precision": 1.0,
        "recall": 0.4,
        "test_precision": 0.9,
        "n_source_test": 20,
    }
    assert graph.graph["constants"] == ["latent:6"]
    assert graph.graph["equivalences"][0] == {
        "a": "latent:2",
        "b": "latent:3",
        "negated": True,
        "agreement": 0.99,
    }
    json.dumps(nx.node_link_data(graph, edges="edges"))  # plain Python values only


def test_build_graph_without_test_columns_and_with_unknown_predicate():
    graph = build_graph(*tables(with_test=False))
    assert "test_precision" not in graph.edges["latent:0", "latent:1"]
    edges, equivalences, priors = tables()
    with pytest.raises(ValueError, match="latent:0"):
        build_graph(edges, equivalences, priors[priors["predicate"] != "latent:0"])


def test_equivalence_classes_are_transitive(graph):
    assert equivalence_classes(graph) == [
        frozenset({"latent:2", "¬latent:3", "¬latent:4"}),
        frozenset({"¬latent:2", "latent:3", "latent:4"}),
    ]


def test_graph_statistics_worked_by_hand(graph):
    stats = graph_statistics(graph)
    assert stats == {
        "edges": 14.0,
        "mined_edges": 7.0,
        "equivalent_pairs": 2.0,
        "constants": 1.0,
        "literals": 24.0,
        "isolated_literals": 10.0,  # class:0, latent:4, latent:6, latent:7, latent:8, both polarities
        "mean_degree": 2.0,  # 2 · 14 edges / 14 connected literals
        "longest_path": 4.0,  # latent:0 → latent:1 → class:1 → ¬class:2 → ¬latent:2
        "acyclic": 1.0,
        "weakly_connected_components": 2.0,  # a literal's side and its contrapositive mirror
        "mean_train_accuracy": pytest.approx(13.41 / 14),
        "mean_test_accuracy": pytest.approx(10.7 / 12),  # the two NaN test precisions are skipped
    }
    assert all(type(value) is float for value in stats.values())


def test_graph_statistics_of_a_cycle_and_of_no_edges():
    cyclic = graph_statistics(build_graph(*tables(EDGES + CYCLE)))
    assert cyclic["acyclic"] == 0.0 and math.isnan(cyclic["longest_path"])
    assert cyclic["weakly_connected_components"] == 4.0
    empty = graph_statistics(build_graph(*tables([], with_test=False)))
    assert empty["edges"] == 0.0 and empty["isolated_literals"] == 24.0
    assert empty["mean_degree"] == 0.0 and empty["longest_path"] == 0.0
    assert empty["weakly_connected_components"] == 0.0
    assert math.isnan(empty["mean_train_accuracy"]) and math.isnan(empty["mean_test_accuracy"])


def test_intervention_closure_links_equivalents_both_ways(graph):
    closure = intervention_closure_graph(graph)
    for members in equivalence_classes(graph):
        for source in members:
            for target in members - {source}:
                assert closure.edges[source, target] == {"kind": "equivalence"}
    assert closure.number_of_edges() == graph.number_of_edges() + 12
    assert closure.edges["latent:0", "latent:1"] == graph.edges["latent:0", "latent:1"]
    assert not graph.has_edge("latent:2", "¬latent:3")  # the input graph is left unchanged


def test_focus_subgraph_keeps_ancestors_and_descendants(graph):
    focused = focus_subgraph(graph, "class:1")
    assert set(focused) == {
        "class:1",
        "latent:0",
        "latent:1",
        "¬class:2",
        "¬latent:2",
        "latent:3",
        "¬latent:5",
    }
    assert focused.number_of_edges() == 7
    assert focused.graph["equivalences"] == graph.graph["equivalences"]


def test_focus_subgraph_caps_edges_nearest_and_strongest_first(graph):
    capped = focus_subgraph(graph, "class:1", max_edges=3)
    assert set(capped.edges) == {("class:1", "¬class:2"), ("latent:1", "class:1"), ("class:1", "¬latent:5")}
    wider = focus_subgraph(graph, "class:1", max_edges=5)  # the 4 edges at class:1, then the strongest next
    assert set(wider.edges) - set(focus_subgraph(graph, "class:1", max_edges=4).edges) == {("¬class:2", "latent:3")}
    assert set(focus_subgraph(graph, "class:0", max_edges=3)) == {"class:0"}
    with pytest.raises(ValueError, match="latent:99"):
        focus_subgraph(graph, "latent:99")


def test_sufficient_and_necessary_neurons(graph):
    sufficient = sufficient_neurons(graph, 2)
    assert list(sufficient.columns) == ["literal", "precision", "recall", "support", "test_precision"]
    assert sufficient["literal"].tolist() == ["¬latent:3", "latent:2"]
    assert sufficient["support"].tolist() == [31, 30]
    assert sufficient["test_precision"].tolist() == [0.8, 0.9]
    assert sufficient_neurons(graph, 1)["literal"].tolist() == ["latent:1", "latent:0"]
    necessary = necessary_neurons(graph, 1)  # class:1 → ¬class:2 is a class edge and is left out
    assert necessary["literal"].tolist() == ["¬latent:5"]
    assert necessary["precision"].tolist() == [0.98]
    assert necessary_neurons(graph, 0).empty
    assert necessary_neurons(graph, 0)["support"].dtype == "int64"


def test_neuron_tables_without_test_data_and_unknown_class():
    graph = build_graph(*tables(with_test=False))
    assert list(sufficient_neurons(graph, 1).columns) == ["literal", "precision", "recall", "support"]
    with pytest.raises(ValueError, match="class 7"):
        sufficient_neurons(graph, 7)
