"""Tests for the interchange intervention on tiny hand-weighted networks and hand-made graphs."""

import math
import re
import warnings

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from ndg_pipeline.data.splits import Split
from ndg_pipeline.names import literal_name, negate
from ndg_pipeline.ndg.graph import intervention_closure_graph
from ndg_pipeline.ndg.intervention import (
    OUTCOMES,
    binary_values,
    draw_counterfactuals,
    intervention_report,
    intervention_set,
    neuron_assignments,
    on_off_values,
    patch_neurons,
    per_class_table,
    random_baseline,
    run_intervention,
    summarize,
)
from ndg_pipeline.ndg.recording import record_activations

LAYERS = {"hidden": "hidden"}
THRESHOLDS = {"hidden": "pre_activation"}


class TinyNet(nn.Module):
    """hidden = x (identity Linear, recorded pre-ReLU); class c's logit is 10·relu(hidden c), class C−1 +0.1.

    An extra neuron (index C, when present) pushes class C−1 by 100, so it decides whenever it is on.
    """

    def __init__(self, num_classes: int, extra: bool = False) -> None:
        super().__init__()
        width = num_classes + int(extra)
        self.hidden = nn.Linear(width, width)
        self.head = nn.Linear(width, num_classes)
        with torch.no_grad():
            self.hidden.weight.copy_(torch.eye(width))
            self.hidden.bias.zero_()
            self.head.weight.zero_()
            self.head.weight[:, :num_classes] = 10 * torch.eye(num_classes)
            if extra:
                self.head.weight[num_classes - 1, num_classes] = 100.0
            self.head.bias.zero_()
            self.head.bias[num_classes - 1] = 0.1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.relu(self.hidden(x)))


def one_hot_split(labels: list[int], width: int, shown: list[int] | None = None) -> Split:
    """Inputs 2·e_shown − 1 (neuron `shown` on, the rest off) labelled `labels`."""
    shown = labels if shown is None else shown
    x = 2 * torch.eye(width)[shown] - 1
    return Split(TensorDataset(x, torch.tensor(labels)))


def literal_nodes(predicates: list[str]) -> list[tuple[str, dict]]:
    """Both literals of each predicate with the graph's node attributes."""
    nodes = []
    for predicate in predicates:
        layer, index = predicate.rsplit(":", 1)
        for value in (True, False):
            attributes = {"predicate": predicate, "value": value, "is_class": layer == "class"}
            nodes.append((literal_name(predicate, value), {**attributes, "layer": layer, "index": int(index)}))
    return nodes


def hand_graph(predicates: list[str], edges: list[tuple[str, str]], equivalences=()) -> nx.DiGraph:
    """A dependency graph over all literals of `predicates` with the given edges and equivalent pairs."""
    graph = nx.DiGraph()
    graph.add_nodes_from(literal_nodes(predicates))
    graph.add_edges_from(edges, kind="mined")
    graph.graph["equivalences"] = [
        {"a": a, "b": b, "negated": negated, "agreement": 1.0} for a, b, negated in equivalences
    ]
    return graph


def with_contrapositives(edges: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Each edge p → q and its contrapositive ¬q → ¬p."""
    return [pair for p, q in edges for pair in ((p, q), (negate(q), negate(p)))]


def class_graph(num_classes: int, width: int, equivalent_zero: bool = False, extra_edges=()) -> nx.DiGraph:
    """hidden:c → class:c and class:c → ¬hidden:k (k ≠ c), with contrapositives; optionally hidden:0 ≡ class:0."""
    edges = [(f"hidden:{c}", f"class:{c}") for c in range(num_classes) if not (equivalent_zero and c == 0)]
    edges += [(f"class:{c}", f"¬hidden:{k}") for c in range(num_classes) for k in range(num_classes) if k != c]
    predicates = [f"class:{c}" for c in range(num_classes)] + [f"hidden:{i}" for i in range(width)]
    equivalences = [("hidden:0", "class:0", False)] if equivalent_zero else []
    return hand_graph(predicates, with_contrapositives(edges) + list(extra_edges), equivalences)


def patch_values(model: nn.Module, split: Split) -> pd.DataFrame:
    """The on/off values of the recorded layer on `split`."""
    return on_off_values(record_activations(model, split, LAYERS, desc=None), THRESHOLDS)


def intervene(model, split, graph, mode="patch", **options):
    """run_intervention on the recorded `hidden` layer with the matching values."""
    values = patch_values(model, split)
    values = values if mode == "patch" else binary_values(values.index)
    options = {"batch_size": 16, **options}
    return run_intervention(model, split, LAYERS, "first", graph, THRESHOLDS, values, mode, **options)


@pytest.fixture
def four_classes():
    labels = [c for c in range(4) for _ in range(15)]
    return TinyNet(4), one_hot_split(labels, 4)


# --- intervention sets -------------------------------------------------------------------------------------


@pytest.fixture
def chain_closure():
    edges = with_contrapositives(
        [
            ("a:0", "a:1"),
            ("a:1", "class:1"),
            ("class:1", "a:2"),
            ("a:0", "¬a:4"),
            ("class:0", "a:3"),
        ]
    )
    predicates = ["class:0", "class:1"] + [f"a:{i}" for i in range(6)]
    return intervention_closure_graph(hand_graph(predicates, edges, [("a:2", "a:5", True)]))


def test_type_0_set_holds_ancestors_their_descendants_and_equivalents(chain_closure):
    assert intervention_set(chain_closure, 1) == {"class:1", "a:1", "a:0", "¬a:4", "a:2", "¬a:5"}
    assert intervention_set(chain_closure, 0, true_class=1) == {"class:0", "a:3"}


def test_type_1_and_type_2_sets(chain_closure):
    assert intervention_set(chain_closure, 1, set_type=2) == {"class:1", "a:2", "¬a:5"}
    assert intervention_set(chain_closure, 1, 0, set_type=1) == {"class:1", "a:2", "¬a:5", "¬class:0", "¬a:3"}
    with pytest.raises(ValueError, match=r"^set_type 1 needs the true class"):
        intervention_set(chain_closure, 1, set_type=1)
    with pytest.raises(ValueError, match="set_type"):
        intervention_set(chain_closure, 1, set_type=3)
    with pytest.raises(ValueError, match="class:7"):
        intervention_set(chain_closure, 7)


def test_neuron_assignments_drop_contradictions_classes_and_other_layers():
    literals = {"hidden:0", "¬hidden:0", "hidden:1", "¬hidden:2", "class:0", "¬class:1", "other:3"}
    assert neuron_assignments(literals, ["hidden"]) == ({"hidden:1": True, "hidden:2": False}, 1)
    assert neuron_assignments(literals, ["hidden", "other"]) == (
        {"hidden:1": True, "hidden:2": False, "other:3": True},
        1,
    )
    # neurons come in layer-then-index order (10 after 9), whatever order the set iterates in
    assert list(neuron_assignments({"hidden:10", "¬hidden:2", "hidden:9"}, ["hidden"])[0]) == [
        "hidden:2",
        "hidden:9",
        "hidden:10",
    ]


# --- values ------------------------------------------------------------------------------------------------


def test_on_off_values_fall_back_to_the_layer_then_the_threshold():
    activations = pd.DataFrame(
        {
            "a:0": [2.0, 4.0, -1.0, -3.0],
            "a:1": [-1.0, -1.0, -1.0, -1.0],
            "a:2": [1.0, -5.0, 6.0, -1.0],
            "b:0": [0.1, 0.2, 0.3, 0.4],
            "predicted": [0, 1, 0, 1],
            "label": [0, 1, 1, 1],
        }
    )
    values = on_off_values(activations, {"a": "pre_activation", "b": "sigmoid"})
    assert list(values.index) == ["a:0", "a:1", "a:2", "b:0"] and values.index.name == "neuron"
    assert values.loc["a:0"].tolist() == [3.0, -2.0]
    assert values.loc["a:1"].tolist() == [3.25, -1.0]  # never on: the pooled on-mean of layer a
    assert values.loc["a:2"].tolist() == [3.5, -3.0]
    assert values.loc["b:0", "on"] == 0.5 and values.loc["b:0", "off"] == pytest.approx(0.25)
    with pytest.raises(ValueError, match="threshold"):
        on_off_values(activations, {"a": "pre_activation"})


def test_binary_values_are_one_and_zero():
    expected = pd.DataFrame({"on": [1.0, 1.0], "off": [0.0, 0.0]}, index=pd.Index(["x:0", "x:1"], name="neuron"))
    pd.testing.assert_frame_equal(binary_values(["x:0", "x:1"]), expected)


# --- writing -----------------------------------------------------------------------------------------------


def test_patch_neurons_writes_the_masked_neurons_and_leaves_the_rest():
    output = torch.tensor([[5.0, 6.0, 7.0], [8.0, 9.0, 10.0]])
    mask = torch.tensor([[True, False, False], [False, False, True]])
    values = torch.tensor([[-1.0, 0.0, 0.0], [0.0, 0.0, -2.0]])
    written = patch_neurons(output, mask, values)
    assert written.tolist() == [[-1.0, 6.0, 7.0], [8.0, 9.0, -2.0]]
    assert output[0, 0] == 5.0  # the module's own output is not modified
    with pytest.raises(ValueError, match="2 were recorded"):
        patch_neurons(output, mask[:, :2], values[:, :2])


def test_patch_neurons_reference_binarizes_the_whole_layer_first():
    output = torch.tensor([[0.3, -2.0, 5.0, 0.0]])
    mask = torch.tensor([[False, True, False, False]])
    written = patch_neurons(output, mask, torch.ones(1, 4), threshold=0.0)
    assert written.tolist() == [[1.0, 1.0, 1.0, 0.0]]


class TupleEncoder(nn.Module):
    """An identity Linear over (batch, seq, features) that returns a tuple, like transformer blocks do."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.proj = nn.Linear(width, width)
        with torch.no_grad():
            self.proj.weight.copy_(torch.eye(width))
            self.proj.bias.zero_()

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, str]:
        return self.proj(x), "attention"


class SequenceNet(nn.Module):
    """A TinyNet whose recorded layer sees token sequences; the head reads the first token."""

    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.hidden = TupleEncoder(num_classes)
        self.head = TinyNet(num_classes).head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        states, _ = self.hidden(x)
        return self.head(torch.relu(states[:, 0]))


def test_sequence_model_with_tuple_output_is_intervened_at_the_first_token():
    labels = [c for c in range(3) for _ in range(5)]
    tokens = (2 * torch.eye(3)[labels] - 1).unsqueeze(1).repeat(1, 4, 1)
    tokens[:, 1:] = 7.0  # later tokens are never read by the head
    split, model = Split(TensorDataset(tokens, torch.tensor(labels))), SequenceNet(3)
    graph = class_graph(3, 3)
    outcome = intervene(model, split, graph)
    assert outcome.percent("aligned") == 100.0 and outcome.n_correct == 15
    with pytest.raises(ValueError, match="mean"):
        run_intervention(model, split, LAYERS, "mean", graph, THRESHOLDS, patch_values(model, split))


# --- whole runs --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["patch", "reference"])
@pytest.mark.parametrize("equivalent_zero", [False, True])
def test_the_class_graph_aligns_every_correct_input(four_classes, mode, equivalent_zero):
    model, split = four_classes
    outcome = intervene(model, split, class_graph(4, 4, equivalent_zero), mode)
    frame = outcome.inputs
    assert outcome.percent("aligned") == 100.0
    assert (frame["new_prediction"] == frame["counterfactual"]).all()
    assert (frame["set_size"] == 4).all() and (frame["contradictions"] == 0).all()
    assert (frame["counterfactual"] == 0).any()  # neuron 0 had to be written for these


@pytest.mark.parametrize("mode", ["patch", "reference"])
def test_an_empty_graph_leaves_every_prediction_unchanged(four_classes, mode):
    model, split = four_classes
    empty = hand_graph([f"class:{c}" for c in range(4)] + [f"hidden:{i}" for i in range(4)], [])
    outcome = intervene(model, split, empty, mode)
    assert outcome.percent("unchanged") == 100.0 and (outcome.inputs["set_size"] == 0).all()


def test_type_1_sets_count_contradictions_and_still_align(four_classes):
    model, split = four_classes
    outcome = intervene(model, split, class_graph(4, 4), set_type=1)
    frame = outcome.inputs
    assert (frame["outcome"] == "aligned").all()
    assert (frame["set_size"] == 2).all() and (frame["contradictions"] == 2).all()
    summary = summarize(outcome, "train", "patch", 4)
    assert summary["mean_contradictions"] == 2.0 and summary["mean_set_size"] == 2.0
    assert summary["set_fraction"] == 0.5


def test_a_contradictory_neuron_is_left_alone_and_counted():
    model, labels = TinyNet(4, extra=True), [c for c in range(4) for _ in range(15)]
    x = 2 * torch.eye(5)[labels] - 1
    x[torch.tensor(labels) == 3, 4] = 1.0  # the extra neuron is on exactly for class 3
    split = Split(TensorDataset(x, torch.tensor(labels)))
    graph = class_graph(4, 5, extra_edges=[("class:2", "hidden:4"), ("class:2", "¬hidden:4")])
    frame = intervene(model, split, graph).inputs
    to_two = frame["counterfactual"] == 2
    assert (frame.loc[to_two, "contradictions"] == 1).all() and (frame.loc[~to_two, "contradictions"] == 0).all()
    assert (frame["set_size"] == 4).all()
    from_three = frame["label"] == 3
    assert (from_three & to_two).any() and (~from_three & to_two).any()
    assert (frame.loc[from_three & to_two, "outcome"] == "unchanged").all()  # hidden:4 stayed on
    assert (frame.loc[~from_three & to_two, "outcome"] == "aligned").all()  # hidden:4 stayed off


def test_only_correct_inputs_are_intervened(four_classes):
    model, _ = four_classes
    labels, shown = [0, 1, 2, 3, 0, 0, 2], [0, 1, 2, 3, 1, 1, 2]
    outcome = intervene(model, one_hot_split(labels, 4, shown), class_graph(4, 4))
    assert outcome.n_inputs == 7 and outcome.n_correct == 5
    assert list(outcome.inputs.index) == [0, 1, 2, 3, 6]
    summary = summarize(outcome, "test", "patch", 4)
    assert summary["model_accuracy"] == pytest.approx(500 / 7) and summary["n_correct"] == 5
    assert summary["aligned"] == 100.0 and summary["set_fraction"] == 1.0


def test_counterfactual_draws_are_seeded_and_never_the_label():
    labels = np.arange(1000) % 5
    first = draw_counterfactuals(labels, 5, np.random.default_rng(3))
    assert np.array_equal(first, draw_counterfactuals(labels, 5, np.random.default_rng(3)))
    assert (first != labels).all() and set(first) == set(range(5))
    rng = np.random.default_rng(3)
    assert draw_counterfactuals(np.array([0, 1, 1]), 2, rng).tolist() == [1, 0, 0]
    assert rng.integers(0, 4, size=20).tolist() == np.random.default_rng(3).integers(0, 4, size=20).tolist()
    with pytest.raises(ValueError, match="2 classes"):
        draw_counterfactuals(labels, 1, rng)


def test_draws_do_not_depend_on_the_batch_size(four_classes):
    model, split = four_classes
    small = intervene(model, split, class_graph(4, 4), seed=5, batch_size=7).inputs
    large = intervene(model, split, class_graph(4, 4), seed=5, batch_size=64).inputs
    pd.testing.assert_frame_equal(small, large)
    other = intervene(model, split, class_graph(4, 4), seed=6).inputs
    assert not other["counterfactual"].equals(small["counterfactual"])


def test_two_classes_flip_the_label():
    model, split = TinyNet(2), one_hot_split([0, 1, 1, 0, 1], 2)
    frame = intervene(model, split, class_graph(2, 2)).inputs
    assert (frame["counterfactual"] == 1 - frame["label"]).all()
    assert (frame["outcome"] == "aligned").all()


def test_per_class_table_adds_up_to_the_summary(four_classes):
    model, split = four_classes
    outcome = random_baseline(model, split, LAYERS, "first", class_graph(4, 4), THRESHOLDS, patch_values(model, split))
    table, summary = per_class_table(outcome), summarize(outcome, "train", "patch", 4, "random")
    assert table["n"].sum() == summary["n_correct"] == 60
    for name in ("aligned", "unchanged", "unaligned"):
        assert (table[name] * table["n"]).sum() / 60 == pytest.approx(summary[name])
    assert np.allclose(table[["aligned", "unchanged", "unaligned"]].sum(axis=1), 100.0)
    assert list(table.columns) == [
        "counterfactual",
        "n",
        "aligned",
        "unchanged",
        "unaligned",
        "mean_set_size",
        "mean_contradictions",
    ]


def test_random_baseline_is_seeded_and_matches_the_set_sizes(four_classes):
    model, split = four_classes
    graph, values = class_graph(4, 4), patch_values(model, split)
    args = (model, split, LAYERS, "first", graph, THRESHOLDS, values)
    first, again = random_baseline(*args, seed=2), random_baseline(*args, seed=2)
    pd.testing.assert_frame_equal(first.inputs, again.inputs)
    real = intervene(model, split, graph, seed=2).inputs
    pd.testing.assert_series_equal(first.inputs["counterfactual"], real["counterfactual"])
    pd.testing.assert_series_equal(first.inputs["set_size"], real["set_size"])
    assert first.percent("aligned") < 100.0


def test_intervention_report_has_a_row_per_split_and_mode(four_classes):
    model, split = four_classes
    activations = record_activations(model, split, LAYERS, desc=None)
    summary, per_class = intervention_report(
        model, {"train": split, "test": split}, LAYERS, "first", class_graph(4, 4), THRESHOLDS, activations
    )
    assert list(zip(summary["split"], summary["mode"], summary["sets"], strict=True)) == [
        (split_name, mode, sets)
        for split_name in ("train", "test")
        for mode in ("patch", "reference")
        for sets in ("graph", "random")
    ]
    assert list(summary.columns) == [
        "split",
        "mode",
        "sets",
        "aligned",
        "unchanged",
        "unaligned",
        "model_accuracy",
        "mean_contradictions",
        "mean_set_size",
        "set_fraction",
        "n_correct",
        "n_inputs",
    ]
    assert (summary.loc[summary["sets"] == "graph", "aligned"] == 100.0).all()
    assert list(per_class.columns[:4]) == ["split", "mode", "sets", "counterfactual"]
    assert per_class.groupby(["split", "mode", "sets"])["n"].sum().eq(60).all()
    # each mode's baseline is written with that mode's values: the reference baseline is the reference run
    reference = random_baseline(
        model,
        split,
        LAYERS,
        "first",
        class_graph(4, 4),
        THRESHOLDS,
        binary_values(activations.columns[:4]),
        "reference",
    )
    row = summary.set_index(["split", "mode", "sets"]).loc[("test", "reference", "random")]
    assert row["aligned"] == pytest.approx(reference.percent("aligned"))
    assert row["unchanged"] == pytest.approx(reference.percent("unchanged"))


def test_summary_of_no_correct_input_is_nan(four_classes):
    model, _ = four_classes
    outcome = intervene(model, one_hot_split([1, 2], 4, [0, 0]), class_graph(4, 4))
    summary = summarize(outcome, "test", "patch", 4)
    assert summary["n_correct"] == 0 and summary["model_accuracy"] == 0.0
    assert math.isnan(summary["aligned"]) and math.isnan(summary["mean_set_size"])
    assert per_class_table(outcome).empty


# --- hand-worked runs that tell the value modes, the baseline's draws and the options apart ------------------


class BystanderNet(nn.Module):
    """hidden = x (identity, 5 neurons); logits 10·r0, 11·r1, 12·r2, 13·r3 + 100·r4 + 0.1 with r = relu(hidden).

    Neuron 4 is never in the class graph: an input sets it to 0.05, which adds 5 to class 3's logit as it is and
    100 once the layer is binarized (0.05 > 0 → 1), when it outweighs every other class.
    """

    def __init__(self) -> None:
        super().__init__()
        self.hidden = nn.Linear(5, 5)
        self.head = nn.Linear(5, 4)
        with torch.no_grad():
            self.hidden.weight.copy_(torch.eye(5))
            self.hidden.bias.zero_()
            self.head.weight.zero_()
            self.head.weight[:, :4] = torch.diag(torch.tensor([10.0, 11.0, 12.0, 13.0]))
            self.head.weight[3, 4] = 100.0
            self.head.bias.copy_(torch.tensor([0.0, 0.0, 0.0, 0.1]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.relu(self.hidden(x)))


def bystander_prediction(hidden: np.ndarray) -> int:
    """BystanderNet's predicted class for a (written) hidden vector, worked out from the weights above."""
    r = np.maximum(hidden, 0.0)
    return int(np.argmax([10 * r[0], 11 * r[1], 12 * r[2], 13 * r[3] + 100 * r[4] + 0.1]))


BYSTANDER_LABELS = [c for c in range(4) for _ in range(10)]
# hand-chosen patch values: distinct on values, so every write shows in the prediction without ties
BYSTANDER_VALUES = pd.DataFrame(
    {"on": [1.0, 2.0, 3.0, 4.0, 0.5], "off": [-1.0, -1.0, -1.0, -1.0, -2.0]},
    index=pd.Index([f"hidden:{i}" for i in range(5)], name="neuron"),
)


def bystander_inputs() -> np.ndarray:
    """Neuron y at 1 and the other class neurons at −1 for label y; the bystander neuron 4 at 0.05."""
    x = 2 * np.eye(5)[BYSTANDER_LABELS] - 1
    x[:, 4] = 0.05
    return x


def bystander_split() -> Split:
    return Split(TensorDataset(torch.tensor(bystander_inputs(), dtype=torch.float32), torch.tensor(BYSTANDER_LABELS)))


def test_bystander_inputs_are_all_classified_correctly():
    assert [bystander_prediction(x) for x in bystander_inputs()] == BYSTANDER_LABELS


def test_reference_mode_binarizes_the_whole_layer_and_patch_mode_does_not():
    # type 0 writes hidden:c on and the other three class neurons off; the bystander neuron is not written.
    # patch: it stays at 0.05 (class 3 gets 5.1 < 10·on_c), so every input is aligned. reference: it becomes 1,
    # class 3 gets ≥ 100.1, so every input predicts 3: aligned when c = 3, unchanged when y = 3, else unaligned.
    model, split, graph = BystanderNet(), bystander_split(), class_graph(4, 5)
    args = (model, split, LAYERS, "first", graph, THRESHOLDS)
    patch = run_intervention(*args, BYSTANDER_VALUES, "patch", batch_size=16).inputs
    assert (patch["outcome"] == "aligned").all() and (patch["new_prediction"] == patch["counterfactual"]).all()
    reference = run_intervention(*args, binary_values(BYSTANDER_VALUES.index), "reference", batch_size=16).inputs
    assert (reference["new_prediction"] == 3).all()
    expected = np.where(
        reference["counterfactual"] == 3, "aligned", np.where(reference["label"] == 3, "unchanged", "unaligned")
    )
    assert reference["outcome"].tolist() == expected.tolist()
    assert set(expected) == {"aligned", "unchanged", "unaligned"}


@pytest.mark.parametrize("mode", ["patch", "reference"])
@pytest.mark.parametrize(("set_type", "real_size"), [(0, 4), (1, 2)])
@pytest.mark.parametrize("seed", [0, 7])
def test_random_baseline_writes_the_documented_draws(mode, set_type, real_size, seed):
    # the docstring's generator, seeded by (seed, 1), per correct input in order: `real_size` distinct neurons
    # of the 5 (the real set's size, worked out by hand: type 0 writes the 4 class neurons, type 1 two of them),
    # then each on with probability 1/2. The prediction is worked out from BystanderNet's weights.
    values = BYSTANDER_VALUES if mode == "patch" else binary_values(BYSTANDER_VALUES.index)
    outcome = random_baseline(
        BystanderNet(), bystander_split(), LAYERS, "first", class_graph(4, 5), THRESHOLDS, values, mode,
        set_type=set_type, seed=seed, batch_size=16,
    )  # fmt: skip
    frame = outcome.inputs
    assert list(frame.index) == list(range(40))
    assert (frame["set_size"] == real_size).all() and (frame["contradictions"] == 0).all()
    rng = np.random.default_rng([seed, 1])
    on, off = values["on"].to_numpy(), values["off"].to_numpy()
    expected = []
    for x in bystander_inputs():
        hidden = x if mode == "patch" else (x > 0).astype(float)
        neurons = rng.choice(5, size=real_size, replace=False)
        turned_on = rng.random(real_size) < 0.5
        hidden[neurons] = np.where(turned_on, on[neurons], off[neurons])
        expected.append(bystander_prediction(hidden))
    assert frame["new_prediction"].tolist() == expected
    assert len(set(expected)) > 1


def test_random_baseline_of_type_1_sets_needs_each_inputs_true_class():
    # type 1 sets depend on (y, c); the baseline sizes its draws from them, so it must pass y on
    outcome = random_baseline(
        TinyNet(4), one_hot_split([0, 1, 2, 3], 4), LAYERS, "first", class_graph(4, 4), THRESHOLDS,
        binary_values([f"hidden:{i}" for i in range(4)]), set_type=1,
    )  # fmt: skip
    assert (outcome.inputs["set_size"] == 2).all()


def test_patch_neurons_writes_in_the_layer_dtype():
    values = torch.tensor([[0.5, -1.0, 2.0]], dtype=torch.bfloat16)
    mask, writes = torch.tensor([[False, True, False]]), torch.tensor([[0.0, 3.0, 0.0]])  # float32 writes
    written = patch_neurons(values, mask, writes)
    assert written.dtype == torch.bfloat16 and written.tolist() == [[0.5, 3.0, 2.0]]
    binarized = patch_neurons(values, mask, writes, threshold=0.0)
    assert binarized.dtype == torch.bfloat16 and binarized.tolist() == [[1.0, 3.0, 1.0]]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_patch_neurons_moves_cpu_writes_to_the_layer_device():
    values = torch.tensor([[0.5, -1.0, 2.0]], device="cuda")
    written = patch_neurons(values, torch.tensor([[False, True, False]]), torch.tensor([[0.0, 3.0, 0.0]]))
    assert written.device == values.device and written.tolist() == [[0.5, 3.0, 2.0]]


def test_the_default_seed_is_zero(four_classes):
    model, split = four_classes
    graph, values = class_graph(4, 4), patch_values(model, split)
    args = (model, split, LAYERS, "first", graph, THRESHOLDS, values)
    for run in (run_intervention, random_baseline):
        pd.testing.assert_frame_equal(run(*args).inputs, run(*args, seed=0).inputs)


def test_runs_take_max_inputs_desc_and_an_explicit_device(four_classes, capsys, monkeypatch):
    model, split = four_classes
    args = (model, split, LAYERS, "first", class_graph(4, 4), THRESHOLDS, patch_values(model, split))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # device="cpu" must win over the automatic choice
    for run in (run_intervention, random_baseline):
        outcome = run(*args, max_inputs=20, device="cpu", desc=f"{run.__name__} bar")
        assert outcome.n_inputs == 20 and list(outcome.inputs.index) == list(range(20))
        assert f"{run.__name__} bar" in capsys.readouterr().err
    assert next(model.parameters()).device.type == "cpu"


def test_runs_name_what_is_wrong_with_their_arguments(four_classes):
    model, split = four_classes
    values, graph = patch_values(model, split), class_graph(4, 4)
    args = (model, split, LAYERS, "first", graph)
    with pytest.raises(ValueError, match=r"^mode 'binary' is unknown; choose 'patch' or 'reference'\.$"):
        run_intervention(*args, THRESHOLDS, values, "binary")
    for run in (run_intervention, random_baseline):
        with pytest.raises(ValueError, match=r"^no threshold for layer\(s\) \['hidden'\]; add them to binarize"):
            run(*args, {"other": 0.0}, binary_values(values.index), "reference")
        with pytest.raises(ValueError, match=r"^the on/off values have no neuron of layer 'hidden'; record"):
            run(*args, THRESHOLDS, values.rename(index=lambda name: name.replace("hidden", "other")))
        with pytest.raises(ValueError, match=r"^the on/off values of layer 'hidden' are not neurons 0…2\.$"):
            run(*args, THRESHOLDS, values.drop("hidden:2"))


def test_a_graph_naming_neurons_the_layer_lacks_is_refused_naming_ten_of_them(four_classes):
    model, split = four_classes
    extra = [f"hidden:{k}" for k in range(4, 16)]  # 12 neurons the 4-neuron layer lacks
    graph = class_graph(4, 16, extra_edges=[("class:0", name) for name in extra])
    listed = sorted(extra)[:10]  # as the message lists them: sorted by name, the first ten
    assert len(listed) == 10
    message = f"^the graph names neurons the recorded layers lack: {re.escape(str(listed))}$"
    with pytest.raises(ValueError, match=message):
        intervene(model, split, graph)


def test_a_layer_of_more_than_ten_neurons_is_written_in_index_order():
    # 12 neurons: sorted as text, hidden:10 and hidden:11 would come before hidden:2
    model, split = TinyNet(12), one_hot_split(list(range(12)) * 2, 12)
    values = patch_values(model, split).iloc[::-1]  # the values' own order does not matter
    outcome = run_intervention(model, split, LAYERS, "first", class_graph(12, 12), THRESHOLDS, values)
    assert outcome.n_correct == 24 and outcome.percent("aligned") == 100.0


class RotatedNet(nn.Module):
    """first = x; second = first rotated (second:k = first:(k+1) mod 4); class k's logit 10·relu(second:k), +0.1
    for class 3. An input of class y therefore has first:(y+1) mod 4 on."""

    def __init__(self) -> None:
        super().__init__()
        self.first, self.second, self.head = nn.Linear(4, 4), nn.Linear(4, 4), TinyNet(4).head
        with torch.no_grad():
            self.first.weight.copy_(torch.eye(4))
            self.second.weight.copy_(torch.eye(4)[[1, 2, 3, 0]])
            self.first.bias.zero_()
            self.second.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.relu(self.second(self.first(x))))


@pytest.mark.parametrize("written", ["first", "second"])
def test_two_recorded_layers_each_get_their_own_writes(written):
    # the graph speaks of one layer only: second:c (or first:(c+1) mod 4) on and the other three off
    model, labels = RotatedNet(), [c for c in range(4) for _ in range(5)]
    split = one_hot_split(labels, 4, shown=[(y + 1) % 4 for y in labels])
    layers, thresholds = {"first": "first", "second": "second"}, {"first": 0.0, "second": 0.0}
    values = on_off_values(record_activations(model, split, layers, desc=None), thresholds)
    shift = 1 if written == "first" else 0
    edges = [(f"{written}:{(c + shift) % 4}", f"class:{c}") for c in range(4)]
    edges += [(f"class:{c}", f"¬{written}:{(k + shift) % 4}") for c in range(4) for k in range(4) if k != c]
    predicates = [f"class:{c}" for c in range(4)] + [f"{layer}:{i}" for layer in layers for i in range(4)]
    graph = hand_graph(predicates, with_contrapositives(edges))
    outcome = run_intervention(model, split, layers, "first", graph, thresholds, values, batch_size=8)
    assert outcome.n_correct == 20 and outcome.percent("aligned") == 100.0
    assert (outcome.inputs["set_size"] == 4).all()


def per_class_by_hand(frame: pd.DataFrame) -> pd.DataFrame:
    """The per-class table from its definition: per counterfactual class, each outcome's share and the means."""
    rows = []
    for c in sorted(set(frame["counterfactual"])):
        group = frame[frame["counterfactual"] == c]
        n = len(group)
        shares = {name: 100.0 * sum(1 for o in group["outcome"] if o == name) / n for name in OUTCOMES}
        means = {f"mean_{column}": sum(group[column]) / n for column in ("set_size", "contradictions")}
        rows.append({"counterfactual": c, "n": n, **shares, **means})
    return pd.DataFrame(rows).astype({"counterfactual": np.int64, "n": np.int64})


def test_per_class_table_is_each_outcomes_share_per_counterfactual_class(four_classes):
    # the class graph aligns every input (no unchanged or unaligned one at all: their shares are 0);
    # the bystander network in reference mode has all three outcomes
    model, split = four_classes
    aligned = intervene(model, split, class_graph(4, 4), set_type=1)
    assert set(aligned.inputs["outcome"]) == {"aligned"}
    bystander = run_intervention(
        BystanderNet(), bystander_split(), LAYERS, "first", class_graph(4, 5), THRESHOLDS,
        binary_values(BYSTANDER_VALUES.index), "reference",
    )  # fmt: skip
    assert set(bystander.inputs["outcome"]) == set(OUTCOMES)
    for outcome in (aligned, bystander):
        pd.testing.assert_frame_equal(per_class_table(outcome), per_class_by_hand(outcome.inputs))


def test_report_passes_its_options_to_every_run(four_classes, capsys):
    # type 2 writes ¬hidden:k for the three k ≠ c: neuron y goes off and hidden:c stays off, so only class 3's
    # bias is left: aligned when c = 3, unaligned otherwise (the first 10 inputs are all of class 0)
    model, split = four_classes
    activations = record_activations(model, split, LAYERS, desc=None)
    summary, per_class = intervention_report(
        model, {"train": split}, LAYERS, "first", class_graph(4, 4), THRESHOLDS, activations,
        set_type=2, seed=3, max_inputs=10, batch_size=4,
    )  # fmt: skip
    assert (summary["n_inputs"] == 10).all() and (summary["n_correct"] == 10).all()
    graph = per_class[per_class["sets"] == "graph"]
    assert (graph["mean_set_size"] == 3.0).all()
    assert (graph["aligned"] == np.where(graph["counterfactual"] == 3, 100.0, 0.0)).all()
    assert (graph["unaligned"] == np.where(graph["counterfactual"] == 3, 0.0, 100.0)).all()
    progress = capsys.readouterr().err
    for mode in ("patch", "reference"):
        assert f"intervene train {mode} graph" in progress and f"intervene train {mode} random" in progress


def test_report_runs_each_value_mode_and_labels_its_per_class_rows():
    # patch mode aligns every input of the bystander network; reference mode sends every input to class 3
    model, split = BystanderNet(), bystander_split()
    activations = record_activations(model, split, LAYERS, desc=None)
    summary, per_class = intervention_report(
        model, {"test": split}, LAYERS, "first", class_graph(4, 5), THRESHOLDS, activations
    )
    runs = list(zip(summary["split"], summary["mode"], summary["sets"], strict=True))
    assert list(dict.fromkeys(zip(per_class["split"], per_class["mode"], per_class["sets"], strict=True))) == runs
    assert list(per_class.columns) == [
        "split", "mode", "sets", "counterfactual", "n", "aligned", "unchanged", "unaligned", "mean_set_size",
        "mean_contradictions",
    ]  # fmt: skip
    pd.testing.assert_index_equal(per_class.index, pd.RangeIndex(len(per_class)))
    assert per_class.groupby(["split", "mode", "sets"])["n"].sum().eq(40).all()
    graph = per_class[per_class["sets"] == "graph"]
    patch, reference = graph[graph["mode"] == "patch"], graph[graph["mode"] == "reference"]
    assert len(patch) == len(reference) == 4 and (patch["aligned"] == 100.0).all()
    assert (reference["aligned"] == np.where(reference["counterfactual"] == 3, 100.0, 0.0)).all()


def test_on_off_values_of_rare_states_and_of_activations_at_the_threshold():
    # threshold 0 everywhere (pre_activation); an activation equal to it is off, as in binarize
    activations = pd.DataFrame(
        {
            "c:0": [-1.0, 2.0, -1.0],  # on once: its own on value, not its layer's
            "c:1": [4.0, 6.0, 8.0],  # never off: the off values of layer c pooled
            "d:0": [-1.0, 3.0, 0.0],
            "d:1": [-1.0, -1.0, 0.0],  # never on, and layer d was on exactly once (d:0's 3)
            "e:0": [1.0, 2.0, 3.0],  # layer e is never off: the threshold
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a never-on or never-off neuron is expected, not a 0/0 to warn about
        values = on_off_values(activations, dict.fromkeys("cde", "pre_activation"))
    assert values.to_dict("index") == {
        "c:0": {"on": 2.0, "off": -1.0},
        "c:1": {"on": 6.0, "off": -1.0},
        "d:0": {"on": 3.0, "off": -0.5},
        "d:1": {"on": 3.0, "off": -2.0 / 3.0},
        "e:0": {"on": 2.0, "off": 0.0},
    }


def test_on_off_values_of_a_float32_recording_are_float64_means():
    # 1 + 2**-30 is exact in float64 but rounds to 1 in float32 (24-bit significand)
    activations = pd.DataFrame({"f:0": np.array([1.0, 2.0**-30, -1.0], dtype=np.float32)})
    values = on_off_values(activations, {"f": 0.0})
    assert values.loc["f:0", "on"] == (1.0 + 2.0**-30) / 2 and values.loc["f:0", "off"] == -1.0


def test_counterfactuals_are_int64_classes_whatever_the_labels_dtype():
    for num_classes in (2, 5):
        drawn = draw_counterfactuals(np.array([0, 1, 1], dtype=np.int32), num_classes, np.random.default_rng(0))
        assert drawn.dtype == np.int64 and (drawn != [0, 1, 1]).all()


def test_a_run_with_no_correct_input_has_the_columns_and_types_of_a_full_one(four_classes):
    model, split = four_classes
    full = intervene(model, split, class_graph(4, 4)).inputs
    empty = intervene(model, one_hot_split([1, 2], 4, [0, 0]), class_graph(4, 4)).inputs
    assert empty.empty and list(empty.columns) == list(full.columns)
    numbers = [column for column in full.columns if column != "outcome"]
    assert empty[numbers].dtypes.equals(full[numbers].dtypes)
    assert pd.api.types.is_string_dtype(empty["outcome"]) and pd.api.types.is_string_dtype(full["outcome"])
    assert empty.index.name == full.index.name == "input" and empty.index.dtype == full.index.dtype == np.int64
