"""Tests for the array-form dependency graph: hand-worked tables, and random graphs checked against networkx."""

import json
import math
import pickle

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from ndg_pipeline.names import literal_key, literal_name, negate, parse_literal
from ndg_pipeline.ndg.graph import (
    DependencyGraph,
    build_graph,
    equivalence_classes,
    focus_subgraph,
    from_networkx,
    graph_statistics,
    intervention_closure_graph,
    necessary_neurons,
    node_link,
    sufficient_neurons,
)
from ndg_pipeline.ndg.intervention import intervention_set

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
def graph() -> DependencyGraph:
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
    assert graph.n_literals == 2 * len(PREDICATES) and graph.n_edges == len(EDGES)
    assert graph.literal_attributes(graph.literal("¬latent:0")) == {
        "predicate": "latent:0",
        "value": False,
        "prior": pytest.approx(0.7),
        "is_class": False,
        "is_constant": False,
        "layer": "latent",
        "index": 0,
    }
    assert graph.edge_attributes(graph.edge_row("latent:0", "latent:1")) == {
        "kind": "mined",
        "support": 40,
        "train_precision": 1.0,
        "recall": 0.4,
        "test_precision": 0.9,
        "n_source_test": 20,
    }
    assert graph.constants == ["latent:6"]
    whole = graph.to_networkx()
    assert whole.graph["equivalences"][0] == {"a": "latent:2", "b": "latent:3", "negated": True, "agreement": 0.99}
    assert list(whole)[:4] == ["class:0", "¬class:0", "class:1", "¬class:1"]
    assert whole.number_of_edges() == len(EDGES) and whole.edges["class:1", "¬latent:5"]["support"] == 44
    json.dumps(node_link(graph, max_edges=100))  # plain Python values only
    assert len(node_link(graph, max_edges=100)["nodes"]) == 24
    assert "omitted" in node_link(graph, max_edges=13)
    with pytest.raises(ValueError, match="no edge"):
        graph.edge_row("latent:1", "latent:0")


def test_build_graph_without_test_columns_and_with_bad_tables():
    graph = build_graph(*tables(with_test=False))
    assert "test_precision" not in graph.edge_attributes(graph.edge_row("latent:0", "latent:1"))
    edges, equivalences, priors = tables()
    with pytest.raises(ValueError, match="latent:0"):
        build_graph(edges, equivalences, priors[priors["predicate"] != "latent:0"])
    with pytest.raises(ValueError, match="more than once"):
        build_graph(pd.concat([edges, edges.iloc[:1]]), equivalences, priors)


def test_graph_pickles_its_arrays_only_and_carries_lineage(graph):
    graph.lineage["model"] = "abc"
    assert graph.forward.nnz == len(EDGES)  # derived structures exist now ...
    loaded = pickle.loads(pickle.dumps(graph))
    assert "forward" not in loaded.__dict__ and loaded.lineage == {"model": "abc"}  # ... but are not saved
    assert graph_statistics(loaded) == graph_statistics(graph)
    again = from_networkx(graph.to_networkx())
    assert graph_statistics(again) == graph_statistics(graph) and again.lineage == {"model": "abc"}


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


def test_intervention_sets_follow_edges_and_equivalences(graph):
    closure = intervention_closure_graph(graph)
    # class:1's ancestors latent:0, latent:1, then all they imply; latent:4 enters only as ¬latent:2's equivalent
    assert intervention_set(closure, 1) == {
        "class:1",
        "latent:0",
        "latent:1",
        "¬class:2",
        "¬latent:2",
        "latent:3",
        "latent:4",
        "¬latent:5",
    }
    # class:2's ancestors latent:2 and ¬latent:3 bring their equivalent ¬latent:4
    assert intervention_set(closure, 2) == {
        "class:2",
        "latent:2",
        "¬latent:3",
        "¬latent:4",
        "¬class:1",
        "¬latent:1",
        "¬latent:0",
    }
    assert intervention_set(closure, 2, set_type=2) == {"class:2", "¬class:1", "¬latent:1", "¬latent:0"}


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
    assert focused.graph["equivalences"] == graph.to_networkx().graph["equivalences"]


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
    assert list(sufficient.columns) == ["literal", "train_precision", "recall", "support", "test_precision"]
    assert sufficient["literal"].tolist() == ["¬latent:3", "latent:2"]
    assert sufficient["support"].tolist() == [31, 30]
    assert sufficient["test_precision"].tolist() == [0.8, 0.9]
    assert sufficient_neurons(graph, 1)["literal"].tolist() == ["latent:1", "latent:0"]
    necessary = necessary_neurons(graph, 1)  # class:1 → ¬class:2 is a class edge and is left out
    assert necessary["literal"].tolist() == ["¬latent:5"]
    assert necessary["train_precision"].tolist() == [0.98]
    assert necessary_neurons(graph, 0).empty
    assert necessary_neurons(graph, 0)["support"].dtype == "int64"


def test_neuron_tables_without_test_data_and_unknown_class():
    graph = build_graph(*tables(with_test=False))
    assert list(sufficient_neurons(graph, 1).columns) == ["literal", "train_precision", "recall", "support"]
    with pytest.raises(ValueError, match="class 7"):
        sufficient_neurons(graph, 7)


# --- random graphs against a networkx computation written here --------------------------------------------


def random_tables(seed: int, acyclic: bool) -> tuple[pd.DataFrame, ...]:
    """Random edges over 3 classes and 40 neurons (each with its contrapositive), random equivalent pairs.

    Acyclic graphs only link literals upward in one random order of predicates (true side) and downward on
    the mirrored false side, as a contrapositive-closed DAG."""
    rng = np.random.default_rng(seed)
    predicates = [f"class:{c}" for c in range(3)] + [f"latent:{i}" for i in range(40)]
    order = rng.permutation(len(predicates))
    rows, seen = [], set()
    for _ in range(rng.integers(60, 160)):
        i, j = rng.choice(len(predicates), size=2, replace=False)
        u, v = (bool(x) for x in rng.integers(0, 2, size=2))
        if acyclic:
            i, j = sorted((i, j), key=lambda k: order[k])
            u, v = True, True
        source, target = literal_name(predicates[i], u), literal_name(predicates[j], v)
        for s, t, kind in ((source, target, "mined"), (negate(target), negate(source), "contrapositive")):
            if (s, t) not in seen:
                seen.add((s, t))
                support = int(rng.integers(1, 5))  # few values: ties in the edge ranking
                rows.append((s, t, kind, support, float(rng.uniform(0.9, 1)), float(rng.uniform(0.5, 1))))
    edges = edge_table(rows)
    pairs = rng.choice(np.arange(3, 43), size=(4, 2))
    equivalences = pd.DataFrame(
        {
            "a": [predicates[a] for a, _ in pairs],
            "b": [predicates[b] for _, b in pairs],
            "negated": rng.integers(0, 2, size=4).astype(bool),
            "agreement": 0.99,
        }
    )
    equivalences = equivalences[equivalences["a"] != equivalences["b"]]
    priors = pd.DataFrame(
        {
            "predicate": predicates,
            "n": 100,
            "prior": rng.uniform(0.1, 0.9, len(predicates)),
            "is_class": [p.startswith("class") for p in predicates],
            "is_constant": [p == "latent:39" for p in predicates],
        }
    )
    return edges, equivalences, priors


def reference_graph(edges: pd.DataFrame, priors: pd.DataFrame) -> nx.DiGraph:
    """The tables as a networkx graph (every literal a node)."""
    graph = nx.DiGraph()
    graph.add_nodes_from(literal_name(p, v) for p in priors["predicate"] for v in (True, False))
    for row in edges.itertuples(index=False):
        source, target = literal_name(row.source, row.source_value), literal_name(row.target, row.target_value)
        numbers = {"support": row.support, "train_precision": row.train_precision, "test": row.test_precision}
        graph.add_edge(source, target, **numbers)
    return graph


def reference_classes(equivalences: pd.DataFrame) -> list[frozenset[str]]:
    """Equivalence classes as connected components of literal links."""
    links = nx.Graph()
    for a, b, negated in zip(equivalences["a"], equivalences["b"], equivalences["negated"], strict=True):
        links.add_edge(literal_name(a, True), literal_name(b, not negated))
        links.add_edge(literal_name(a, False), literal_name(b, negated))
    return sorted(map(frozenset, nx.connected_components(links)), key=lambda m: sorted(map(literal_key, m)))


def reference_statistics(graph: nx.DiGraph, equivalences: pd.DataFrame, constants: int) -> dict[str, float]:
    """The statistics by networkx's own algorithms."""
    connected = graph.subgraph(node for node, degree in graph.degree if degree > 0)
    acyclic = nx.is_directed_acyclic_graph(graph)
    precision = [d["train_precision"] for *_, d in graph.edges(data=True)]
    test = [d["test"] for *_, d in graph.edges(data=True) if not math.isnan(d["test"])]
    return {
        "edges": float(graph.number_of_edges()),
        "equivalent_pairs": float(len(equivalences)),
        "constants": float(constants),
        "literals": float(graph.number_of_nodes()),
        "isolated_literals": float(graph.number_of_nodes() - len(connected)),
        "mean_degree": 2.0 * graph.number_of_edges() / len(connected) if len(connected) else 0.0,
        "longest_path": float(nx.dag_longest_path_length(graph, weight=None)) if acyclic else math.nan,
        "acyclic": float(acyclic),
        "weakly_connected_components": float(nx.number_weakly_connected_components(connected)),
        "mean_train_accuracy": sum(precision) / len(precision),
        "mean_test_accuracy": sum(test) / len(test),
    }


def reference_set(graph: nx.DiGraph, classes: list[frozenset[str]], c: int, y: int, set_type: int) -> set[str]:
    """Spec §5's sets by networkx ancestors/descendants on the graph with each class's members linked."""
    closure = graph.copy()
    for members in classes:
        closure.add_edges_from((a, b) for a in members for b in members if a != b)

    def down(nodes):
        return set(nodes).union(*(nx.descendants(closure, n) for n in nodes))

    target = f"class:{c}"
    if set_type == 0:
        return down({target} | nx.ancestors(closure, target))
    forward = down({target})
    return forward if set_type == 2 else forward | {negate(n) for n in down({f"class:{y}"})}


@pytest.mark.parametrize("seed", range(6))
def test_random_graphs_match_networkx(seed):
    edges, equivalences, priors = random_tables(seed, acyclic=seed % 2 == 0)
    graph, reference = build_graph(edges, equivalences, priors), reference_graph(edges, priors)
    statistics = graph_statistics(graph)
    expected = reference_statistics(reference, equivalences, 1)
    assert statistics.pop("mined_edges") == float((edges["kind"] == "mined").sum())
    assert statistics.keys() == expected.keys()
    for name, value in expected.items():
        assert statistics[name] == pytest.approx(value, nan_ok=True), name
    assert (statistics["acyclic"] == 1.0) == (seed % 2 == 0)
    classes = reference_classes(equivalences)
    assert equivalence_classes(graph) == classes
    closure = intervention_closure_graph(graph)
    for c, y in ((0, 1), (1, 2), (2, 0)):
        for set_type in (0, 1, 2):
            assert intervention_set(closure, c, y, set_type) == reference_set(reference, classes, c, y, set_type)
    for literal in ("class:0", "¬class:1", "latent:3", "¬latent:7"):
        focused = focus_subgraph(graph, literal)
        around = {literal} | nx.ancestors(reference, literal) | nx.descendants(reference, literal)
        assert set(focused) == around
        assert set(focused.edges) == set(reference.subgraph(around).edges)
        below = nx.single_source_shortest_path_length(reference.reverse(), literal)
        above = nx.single_source_shortest_path_length(reference, literal)
        near = {n: min(below.get(n, math.inf), above.get(n, math.inf)) for n in below.keys() | above.keys()}
        ranked = sorted(
            reference.subgraph(near).edges(data="support"),
            key=lambda e: (min(near[e[0]], near[e[1]]), -e[2], literal_key(e[0]), literal_key(e[1])),
        )
        assert set(focus_subgraph(graph, literal, max_edges=7).edges) == {(s, t) for s, t, _ in ranked[:7]}
    for c in range(3):
        into = sorted(reference.in_edges(f"class:{c}", data="support"), key=lambda e: (-e[2], literal_key(e[0])))
        assert sufficient_neurons(graph, c)["literal"].tolist() == [s for s, _, _ in into if "class" not in s]
        out = sorted(reference.out_edges(f"class:{c}", data="support"), key=lambda e: (-e[2], literal_key(e[1])))
        assert necessary_neurons(graph, c)["literal"].tolist() == [t for _, t, _ in out if "class" not in t]
