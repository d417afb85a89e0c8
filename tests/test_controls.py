"""The control functions (spec §4) in-process: random model, derangement, noise inputs, paired copies, edge groups,
their parameters, MLflow tags, pipelines and the assembled Tables 3, 4, 6, on small hand-checkable cases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from ndg_pipeline.config import validate
from ndg_pipeline.data.splits import Split
from ndg_pipeline.hooks import control_label
from ndg_pipeline.models import build_model
from ndg_pipeline.ndg import count_frame, mine
from ndg_pipeline.ndg.controls import (
    RESETTABLE,
    TokenSpace,
    derangement,
    edge_groups,
    group_summary,
    input_space,
    random_split,
    randomize,
    results_table,
    side_by_side,
    with_unrelated_inputs,
)
from ndg_pipeline.pipelines.controls.pipeline import CONTROL_PIPELINES, create_pipeline
from ndg_pipeline.reporting.tables import collect_results, comparison_table, comparison_tables, render_tables

NAN = math.nan


# --- random model -------------------------------------------------------------------------------------------


def layer_weights(model: nn.Module) -> dict[str, torch.Tensor]:
    """The weight of every Linear/Conv layer, by module name."""
    return {name: module.weight for name, module in model.named_modules() if isinstance(module, RESETTABLE)}


def test_randomize_redraws_every_linear_and_conv_layer_from_its_seed():
    trained = build_model({"architecture": "mnist_cnn", "num_classes": 10}, seed=0)
    before = {name: tensor.clone() for name, tensor in trained.state_dict().items()}
    generator_state = torch.random.get_rng_state()
    first, again, other = randomize(trained, 1), randomize(trained, 1), randomize(trained, 2)
    assert torch.equal(torch.random.get_rng_state(), generator_state)  # the global generator is left alone
    weights = layer_weights(first)
    assert len(weights) == 7  # conv32, conv64, fc128, fc32 (latent), then the decoder's fc128, fc128, fc10
    for name, weight in weights.items():
        assert not torch.equal(weight, layer_weights(trained)[name]), name  # every layer changed
        assert torch.equal(weight, layer_weights(again)[name]), name  # same seed, same network
        assert not torch.equal(weight, layer_weights(other)[name]), name
        fan_in = weight[0].numel()
        assert weight.abs().max() <= 1 / math.sqrt(fan_in)  # torch's default init: U(±1/√fan_in)
    assert all(torch.equal(before[k], v) for k, v in trained.state_dict().items())  # the original is untouched
    assert not first.training and first.ndg_config == trained.ndg_config


def test_randomize_keeps_other_parameters_and_needs_a_linear_or_conv_layer():
    model = nn.Sequential(nn.Embedding(5, 3), nn.LayerNorm(3), nn.Linear(3, 2))
    random = randomize(model, 0)
    assert torch.equal(random[0].weight, model[0].weight) and torch.equal(random[1].weight, model[1].weight)
    assert not torch.equal(random[2].weight, model[2].weight)
    with pytest.raises(ValueError, match="no Linear or Conv layer"):
        randomize(nn.Sequential(nn.Embedding(5, 3)), 0)


# --- pairing unrelated inputs -------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [2, 3, 10, 1000])
def test_derangement_is_a_seeded_permutation_without_fixed_points(n):
    sigma = derangement(n, 7)
    assert sorted(sigma) == list(range(n))
    assert (sigma != np.arange(n)).all()
    assert np.array_equal(sigma, derangement(n, 7))


def test_derangement_of_two_swaps_them_and_other_seeds_give_other_pairings():
    assert derangement(2, 0).tolist() == [1, 0]
    assert not np.array_equal(derangement(1000, (0, 0)), derangement(1000, (0, 1)))
    with pytest.raises(ValueError, match="at least 2 inputs"):
        derangement(1, 0)


PREDICATES = pd.DataFrame(
    {
        "class:0": [True, False, True],
        "class:1": [False, True, False],
        "latent:0": [True, True, False],
        "latent:1": [False, True, True],
    }
)


def test_side_by_side_keeps_the_first_copys_classes_and_renames_both_copies_neurons():
    second = PREDICATES.iloc[[2, 0, 1]]
    paired = side_by_side(PREDICATES, second)
    assert list(paired.columns) == [
        "class:0",
        "class:1",
        "first.latent:0",
        "first.latent:1",
        "second.latent:0",
        "second.latent:1",
    ]
    assert paired["second.latent:0"].tolist() == [False, True, True]
    assert paired["first.latent:1"].tolist() == [False, True, True]
    with pytest.raises(ValueError, match="one row per input"):
        side_by_side(PREDICATES, PREDICATES.iloc[:2])


def test_unrelated_inputs_pair_row_r_with_row_sigma_r():
    paired = with_unrelated_inputs(PREDICATES, 3)
    sigma = derangement(3, 3)
    for r in range(3):
        assert paired.loc[r, "second.latent:0"] == PREDICATES.loc[sigma[r], "latent:0"]
        assert paired.loc[r, "first.latent:0"] == PREDICATES.loc[r, "latent:0"]


# --- random inputs ------------------------------------------------------------------------------------------


def batches(split: Split, batch_size: int) -> tuple[torch.Tensor | dict, torch.Tensor]:
    """All of a split, batched with its own collate and concatenated back."""
    parts = list(DataLoader(split.dataset, batch_size=batch_size, collate_fn=split.collate))
    labels = torch.cat([labels for _, labels in parts])
    if isinstance(parts[0][0], dict):
        return {key: torch.cat([inputs[key] for inputs, _ in parts]) for key in parts[0][0]}, labels
    return torch.cat([inputs for inputs, _ in parts]), labels


def test_noise_images_keep_shape_labels_and_the_datas_value_range():
    images = torch.linspace(-0.5, 2.5, 20 * 4 * 4).reshape(20, 1, 4, 4)
    split = Split(TensorDataset(images, torch.arange(20) % 3))
    space = input_space(split, batch_size=8)
    assert space == (-0.5, 2.5)
    noise, labels = batches(random_split(split, space, seed=0, stream=0), 7)
    assert noise.shape == images.shape and noise.dtype == images.dtype
    assert noise.min() >= -0.5 and noise.max() <= 2.5 and noise.std() > 0.5
    assert torch.equal(labels, torch.arange(20) % 3)
    same, _ = batches(random_split(split, space, seed=0, stream=0), 20)  # whatever the batching
    other, _ = batches(random_split(split, space, seed=0, stream=1), 7)
    assert torch.equal(noise, same) and not torch.equal(noise, other)


def pad_collate(items):
    """Right-pad tokenized examples with id 0 (as a tokenizer's collate does), with an attention mask."""
    width = max(len(ids) for ids, _ in items)
    ids = torch.zeros((len(items), width), dtype=torch.long)
    mask = torch.zeros((len(items), width), dtype=torch.long)
    for row, (tokens, _) in enumerate(items):
        ids[row, : len(tokens)] = torch.as_tensor(tokens)
        mask[row, : len(tokens)] = 1
    return {"input_ids": ids, "attention_mask": mask}, torch.tensor([label for _, label in items])


# [CLS] = 101, [SEP] = 102 (also between the two sentences of a pair), padding = 0
SENTENCES = [[101, 7, 8, 9, 102], [101, 10, 102, 11, 12, 102], [101, 13, 102]]


def test_random_token_ids_keep_special_tokens_padding_and_the_mask():
    split = Split([(tokens, i % 2) for i, tokens in enumerate(SENTENCES)], pad_collate)
    space = input_space(split)
    assert isinstance(space, TokenSpace)
    assert space.special.tolist() == [101, 102] and space.ordinary.tolist() == list(range(7, 14))
    original, _ = batches(split, 3)
    noisy = random_split(split, space, seed=0, stream=0)
    noise, _ = batches(noisy, 3)
    assert torch.equal(noise["attention_mask"], original["attention_mask"])
    keep = torch.isin(original["input_ids"], torch.tensor([0, 101, 102]))
    assert torch.equal(noise["input_ids"][keep], original["input_ids"][keep])
    drawn = noise["input_ids"][~keep]
    assert torch.isin(drawn, torch.arange(7, 14)).all() and not torch.equal(drawn, original["input_ids"][~keep])
    for row, (alone, _) in enumerate(DataLoader(noisy.dataset, batch_size=1, collate_fn=noisy.collate)):
        assert torch.equal(alone["input_ids"][0], noise["input_ids"][row, : len(SENTENCES[row])])  # any batching


def test_inputs_that_are_neither_tensors_nor_tokens_are_named():
    split = Split([({"pixels": torch.zeros(2)}, 0)])
    with pytest.raises(TypeError, match=r"tokenized dict with 'input_ids'; got dict with keys \['pixels'\]"):
        input_space(split)


# --- edge groups --------------------------------------------------------------------------------------------


def edges_table(rows: list[tuple[str, str, float, float]]) -> pd.DataFrame:
    """A hand-made edges table: source, target, train and test precision (values and counts are irrelevant)."""
    source, target, train, test = zip(*rows, strict=True)
    return pd.DataFrame({"source": source, "target": target, "train_precision": train, "test_precision": test})


TWO_LAYER_EDGES = edges_table(
    [
        ("fc1:0", "fc1:1", 1.00, 1.00),  # layer 1
        ("fc1:1", "fc1:0", 0.98, 0.96),  # layer 1
        ("fc2:0", "fc2:3", 0.99, NAN),  # layer 2 (no test input with its p: left out of the test mean)
        ("fc1:0", "fc2:0", 0.97, 0.95),  # inter-layer
        ("fc2:3", "fc1:1", 0.95, 0.91),  # inter-layer, the other direction
        ("class:2", "fc1:0", 1.00, 1.00),  # a class edge: in no group
        ("fc2:0", "class:2", 1.00, 1.00),  # a class edge: in no group
    ]
)
COLUMNS = ["class:0", "class:1", "class:2", "fc1:0", "fc1:1", "fc2:0", "fc2:3"]


def test_two_layer_groups_by_hand():
    groups = edge_groups(COLUMNS, "layers")
    summary = group_summary(TWO_LAYER_EDGES, groups).set_index("group")
    assert summary["edges"].to_dict() == {"layer1": 2, "layer2": 1, "inter_layer": 1}  # fc2 → fc1 is not counted
    assert summary.loc["layer1", "train_accuracy"] == pytest.approx(0.99)
    assert summary.loc["layer1", "test_accuracy"] == pytest.approx(0.98)
    assert summary.loc["layer2", "train_accuracy"] == pytest.approx(0.99)
    assert math.isnan(summary.loc["layer2", "test_accuracy"])
    assert summary.loc["inter_layer", "train_accuracy"] == pytest.approx(0.97)
    assert summary.loc["inter_layer", "test_accuracy"] == pytest.approx(0.95)


def test_copy_groups_count_only_edges_from_the_first_copy_to_the_second():
    edges = edges_table(
        [
            ("first.latent:0", "second.latent:1", 1.0, 1.0),  # counted
            ("second.latent:1", "first.latent:0", 1.0, 0.5),  # its contrapositive, the other way: not counted
            ("first.latent:0", "first.latent:1", 1.0, 1.0),  # inside one copy: not counted
            ("class:0", "second.latent:1", 1.0, 1.0),  # a class edge: not counted
        ]
    )
    columns = ["class:0", "first.latent:0", "first.latent:1", "second.latent:0", "second.latent:1"]
    summary = group_summary(edges, edge_groups(columns, "copies"))
    assert summary.to_dict("records") == [{"group": "between", "edges": 1, "train_accuracy": 1.0, "test_accuracy": 1.0}]
    all_edges = group_summary(edges, edge_groups(columns, "all"))
    assert all_edges["edges"].tolist() == [4]


def test_edge_groups_name_what_is_missing():
    with pytest.raises(ValueError, match=r"exactly two recorded layers; got \['fc1'\]"):
        edge_groups(["class:0", "fc1:0"], "layers")
    with pytest.raises(ValueError, match=r"two copies named 'first\.\*' and 'second\.\*'"):
        edge_groups(["class:0", "latent:0"], "copies")
    with pytest.raises(ValueError, match="unknown edge grouping 'random'"):
        edge_groups(["class:0"], "random")


def test_two_layer_groups_count_each_accepted_neuron_cell_once():
    """A tiny recording by hand: fc2:0 copies fc1:0, fc1:1 implies fc1:0, fc2:1 is noise; α = 2."""
    rng = np.random.default_rng(0)
    a = rng.random(400) < 0.5
    b = a & (rng.random(400) < 0.6)
    frame = pd.DataFrame(
        {
            "class:0": a,
            "class:1": ~a,
            "fc1:0": a,
            "fc1:1": b,
            "fc2:0": a ^ (rng.random(400) < 0.02),
            "fc2:1": rng.random(400) < 0.5,
        }
    )
    result = mine(count_frame(frame), 2.0, test=count_frame(frame))
    summary = group_summary(result.edges, edge_groups(frame.columns, "layers")).set_index("group")
    edges = result.edges
    neurons = ~(edges["source"].str.startswith("class:") | edges["target"].str.startswith("class:"))
    across = neurons & (edges["source"].str[:3] != edges["target"].str[:3])
    within = neurons & ~across
    assert summary.loc[["layer1", "layer2"], "edges"].sum() == within.sum()
    assert summary.loc["layer1", "edges"] == 2  # fc1:1 → fc1:0 and its contrapositive ¬fc1:0 → ¬fc1:1
    # every accepted cell between the layers gives an edge each way; only layer 1 → layer 2 is counted
    assert summary.loc["inter_layer", "edges"] == across.sum() / 2 > 0
    forward = edges[across & edges["source"].str.startswith("fc1")]
    assert len(forward) == summary.loc["inter_layer", "edges"]


def test_results_table_is_one_typed_row_per_group():
    table = results_table(
        TWO_LAYER_EDGES,
        edge_groups(COLUMNS, "layers"),
        dataset="mnist_sample",
        control="two_layers",
        alpha=100.0,
        n_train=4000,
        n_test=1000,
    )
    assert list(table.columns) == [
        "dataset",
        "control",
        "group",
        "edges",
        "train_accuracy",
        "test_accuracy",
        "alpha",
        "n_train",
        "n_test",
    ]
    assert table["group"].tolist() == ["layer1", "layer2", "inter_layer"]
    assert table["edges"].dtype == np.int64 and set(table["n_test"]) == {1000}


# --- parameters and MLflow tags -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("controls", "message"),
    [
        ({"random_model": {"seeed": 1}}, r"controls.random_model.seeed: unknown parameter; did you mean seed\?"),
        ({"two_models": {"seed": 0, "train": {"seed": 0}}}, r"second model would be the first one again"),
        ({"two_models": {"seed": 2, "train": {"seed": 2, "epochs": 3}}}, r"controls.two_models.train must be train"),
        ({"two_layers": {"layers": {"a": "decoder.0"}}}, r"exactly two layers; got \['a'\]"),
        (
            {"two_layers": {"record": {"layers": {"fc1": "decoder.0", "fc2": "decoder.3"}, "batch_size": 7}}},
            r"controls.two_layers.record must be record",
        ),
    ],
)
def test_bad_control_parameters_are_named(controls, message):
    with pytest.raises(ValueError, match=message):
        validate({"controls": controls})


def test_the_control_tag_follows_the_pipelines_run():
    assert control_label({"pipeline_names": None}) == "trained"
    assert control_label({"pipeline_names": ["ndg"]}) == "trained"
    assert control_label({"pipeline_names": ["random_model"]}) == "random_model"
    assert control_label({"pipeline_names": ["ndg", "two_layers"]}) == "trained+two_layers"


# --- pipelines ----------------------------------------------------------------------------------------------


def test_the_combined_pipeline_runs_the_shared_ndg_stages_once():
    names = [node.name for node in create_pipeline().nodes]
    assert len(names) == len(set(names)) and names.count("train") == 1
    assert {f"{control}.summarize" for control in CONTROL_PIPELINES} <= set(names)


# --- Tables 3, 4, 6 -----------------------------------------------------------------------------------------


def results(dataset: str, control: str, groups: dict[str, tuple[int, float, float]], alpha: float = 100.0):
    """A hand-made results partition."""
    rows = [
        {
            "dataset": dataset,
            "control": control,
            "group": group,
            "edges": edges,
            "train_accuracy": train,
            "test_accuracy": test,
            "alpha": alpha,
            "n_train": 4000,
            "n_test": 1000,
        }
        for group, (edges, train, test) in groups.items()
    ]
    return pd.DataFrame(rows)


PARTITIONS = {
    "mnist_sample__trained": results("mnist_sample", "trained", {"all": (600, 0.999, 0.998)}),
    "mnist_sample__random_model": results("mnist_sample", "random_model", {"all": (0, NAN, NAN)}),
    "mnist_sample__random_input": results("mnist_sample", "random_input", {"all": (40, 0.9995, 0.99)}),
    "mnist_sample__two_models": results("mnist_sample", "two_models", {"between": (3, 0.99, 0.98)}),
    "mnist_sample__two_layers": results(
        "mnist_sample", "two_layers", {"layer1": (10, 1.0, 0.99), "layer2": (20, 0.99, 0.98), "inter_layer": (5, 1, 1)}
    ),
    "mnist_even__trained": results("mnist_even", "trained", {"all": (700, 0.998, 0.9975)}),
}


def test_table3_sets_our_rows_beside_the_papers_in_percent():
    table = comparison_table(collect_results(PARTITIONS), "table3")
    assert table["source"].tolist() == ["this project", "paper", "this project", "paper"]
    assert table["dataset"].tolist() == ["mnist_sample", "MNIST", "mnist_even", "MNIST even"]
    ours = table.iloc[0]
    assert ours["original_edges"] == 600 and ours["original_train"] == pytest.approx(99.9)
    assert ours["random_model_edges"] == 0 and math.isnan(ours["random_model_train"])
    assert ours["random_input_test"] == pytest.approx(99.0) and ours["n_train"] == 4000
    assert table.iloc[1]["original_edges"] == 524 and table.iloc[1]["alpha"] == 100.0
    even = table.iloc[2]
    assert even["original_edges"] == 700 and pd.isna(even["random_model_edges"])  # not run: missing, not 0


def test_table4_and_table6_take_their_groups():
    tables = comparison_tables(collect_results(PARTITIONS))
    table4 = tables["table4"].iloc[0]
    assert table4["different_models_edges"] == 3 and table4["different_models_test"] == pytest.approx(98.0)
    assert pd.isna(table4["different_inputs_edges"])
    assert tables["table4"].iloc[1]["different_models_edges"] == 0  # the paper's MNIST row
    table6 = tables["table6"].iloc[0]
    assert (table6["layer1_edges"], table6["layer2_edges"], table6["inter_layer_edges"]) == (10, 20, 5)
    assert tables["table6"].iloc[1]["layer2_edges"] == 10648


def test_runs_at_another_alpha_get_their_own_row():
    partitions = {**PARTITIONS, "mnist__trained": results("mnist", "trained", {"all": (500, 1.0, 1.0)}, alpha=20.0)}
    table = comparison_table(collect_results(partitions), "table3")
    assert table["dataset"].tolist()[:3] == ["mnist", "mnist_sample", "MNIST"]
    assert table["alpha"].tolist()[:3] == [20.0, 100.0, 100.0]


def test_the_tables_page_shows_ours_and_the_papers_numbers():
    page = render_tables(comparison_tables(collect_results(PARTITIONS)))
    for text in ("Table 3", "Table 4", "Table 6", "paper: MNIST even", "99.90", "10648", "inter-layer", "<style>"):
        assert text in page, text


def test_no_results_is_a_clear_error():
    with pytest.raises(ValueError, match="no control results; run a control first"):
        collect_results({})
