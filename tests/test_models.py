"""The MNIST CNN: deterministic training, safe save/load, and clear errors for unknown layers."""

from __future__ import annotations

import pytest
import torch

from ndg_pipeline.config import DataParams
from ndg_pipeline.data import load_dataset
from ndg_pipeline.models import build_model, load_model_file, save_model_file
from ndg_pipeline.probe import resolve_module
from ndg_pipeline.training import train_classifier


def train_small(seed: int) -> torch.nn.Module:
    splits = load_dataset(DataParams(name="mnist_sample", limit=200))
    model = build_model({"architecture": "mnist_cnn", "num_classes": 10}, seed=seed)
    trained, history = train_classifier(
        model,
        splits.train,
        splits.test,
        epochs=1,
        batch_size=32,
        learning_rate=1e-3,
        weight_decay=0.01,
        seed=seed,
        device=torch.device("cpu"),
    )
    assert len(history) == 1 and history[0]["loss"] > 0
    return trained


def test_same_seed_gives_identical_weights_and_another_seed_does_not():
    first, second, other = train_small(0), train_small(0), train_small(1)
    for name, tensor in first.state_dict().items():
        assert torch.equal(tensor, second.state_dict()[name]), name
    assert not torch.equal(first.state_dict()["decoder.0.weight"], other.state_dict()["decoder.0.weight"])


def test_model_file_round_trips_without_unpickling_classes(tmp_path):
    model = build_model({"architecture": "mnist_cnn", "num_classes": 2, "latent_dim": 8})
    path = tmp_path / "model.pt"
    save_model_file(model, path)
    payload = torch.load(path, weights_only=True)
    assert payload["config"] == {"architecture": "mnist_cnn", "num_classes": 2, "latent_dim": 8}
    loaded = load_model_file(path)
    assert not loaded.training
    images = torch.randn(3, 1, 28, 28)
    torch.testing.assert_close(loaded(images), model.eval()(images))
    assert loaded.decoder[-1].out_features == 2 and loaded.encoder[-1].out_features == 8


def test_missing_model_file_says_which_node_makes_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="run the train node first"):
        load_model_file(tmp_path / "nope.pt")


def test_unknown_architecture_lists_known_ones():
    with pytest.raises(ValueError, match=r"unknown architecture 'resnet'; known: .*mnist_cnn"):
        build_model({"architecture": "resnet", "num_classes": 10})


def test_unknown_layer_lists_closest_names():
    model = build_model({"architecture": "mnist_cnn", "num_classes": 10})
    assert resolve_module(model, "decoder.2") is model.decoder[2]
    with pytest.raises(ValueError, match=r"'decoder.7' is not a module of MnistCnn.*decoder\.\d"):
        resolve_module(model, "decoder.7")


def test_the_mlp_has_a_stable_name_per_layer_and_computes_what_its_layers_say():
    from ndg_pipeline.config import validate

    params = validate({"model": {"architecture": "mnist_mlp", "hidden": [6, 5], "activation": "tanh"}})
    model = build_model({**params.model.root.model_dump(), "num_classes": 3}, seed=0).eval()
    names = {name for name, _ in model.named_modules()}
    assert {"hidden.0.linear", "hidden.0.activation", "hidden.1.linear", "hidden.1.dropout", "output"} <= names
    images = torch.randn(4, 1, 28, 28)
    first, second = resolve_module(model, "hidden.0.linear"), resolve_module(model, "hidden.1.linear")
    expected = model.output(torch.tanh(second(torch.tanh(first(images.reshape(4, 784))))))
    assert torch.allclose(model(images), expected)


def test_mlp_dropout_acts_only_in_training_and_the_file_round_trips(tmp_path):
    model = build_model({"architecture": "mnist_mlp", "hidden": [32], "dropout": 0.5, "num_classes": 10}, seed=1)
    images = torch.randn(8, 1, 28, 28)
    model.train()
    assert not torch.equal(model(images), model(images))
    save_model_file(model, tmp_path / "mlp.pt")
    loaded = load_model_file(tmp_path / "mlp.pt")
    assert torch.equal(loaded(images), model.eval()(images))


def test_the_rnn_reads_bands_top_to_bottom_through_one_cell_and_classifies_the_last_state(tmp_path):
    from ndg_pipeline.config import validate

    params = validate({"model": {"architecture": "mnist_rnn", "hidden": 5, "steps": 4}})
    model = build_model({**params.model.root.model_dump(), "num_classes": 3}, seed=0).eval()
    assert {"cell.linear", "cell.activation", "last", "output"} <= {name for name, _ in model.named_modules()}
    images = torch.randn(2, 1, 28, 28)
    state = torch.zeros(2, 5)
    for band in range(4):  # 7 rows of 28 pixels per step
        step = images[:, 0, 7 * band : 7 * band + 7].reshape(2, 196)
        state = torch.tanh(model.cell.linear(torch.cat([step, state], dim=1)))
    assert torch.allclose(model(images), model.output(state))
    save_model_file(model, tmp_path / "rnn.pt")
    assert torch.equal(load_model_file(tmp_path / "rnn.pt")(images), model(images))


def test_rnn_steps_must_divide_the_image_in_the_config_and_in_the_library():
    from ndg_pipeline.config import validate
    from ndg_pipeline.errors import RunRefused

    with pytest.raises(RunRefused, match="steps"):
        validate({"model": {"architecture": "mnist_rnn", "steps": 5}})
    with pytest.raises(ValueError, match="steps dividing 28; got hidden=4, steps=5"):
        build_model({"architecture": "mnist_rnn", "hidden": 4, "steps": 5, "num_classes": 10})
