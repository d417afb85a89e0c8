"""The probe: reading and writing a model by site, on hand-made tensors, the MNIST CNN and a tiny transformer."""

import pytest
import torch
from torch import nn

from ndg_pipeline.models import build_model
from ndg_pipeline.probe import Site, place, probing, select

MASK = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1]])


def sequence() -> torch.Tensor:
    return torch.arange(2 * 4 * 3, dtype=torch.float32).reshape(2, 4, 3)


def test_select_takes_the_first_the_last_real_and_the_mean_of_real_tokens():
    output = sequence()
    assert select(output, "first", MASK).tolist() == [output[0, 0].tolist(), output[1, 0].tolist()]
    assert select(output, "last", MASK).tolist() == [output[0, 1].tolist(), output[1, 3].tolist()]
    expected_mean = torch.stack([output[0, :2].mean(0), output[1].mean(0)])
    assert torch.allclose(select(output, "mean", MASK), expected_mean)
    assert select(output, "all", MASK) is output


def test_select_flattens_a_convolution_per_input_and_place_restores_its_shape():
    output = torch.randn(2, 3, 4, 5)
    flat = select(output, "first")
    assert flat.shape == (2, 60)
    assert torch.equal(flat[1], output[1].reshape(-1))
    assert torch.equal(place(output, flat, "first"), output)


def test_place_writes_only_the_selected_token():
    output = sequence()
    written = place(output, torch.full((2, 3), -1.0), "last", MASK)
    changed = (written != output).any(dim=2)
    assert changed.tolist() == [[False, True, False, False], [False, False, False, True]]
    assert output.min() >= 0  # the module's own tensor is not modified


def test_mean_cannot_be_written_and_unknown_positions_are_refused():
    with pytest.raises(ValueError, match="cannot be written back"):
        place(sequence(), torch.zeros(2, 3), "mean", MASK)
    with (
        pytest.raises(ValueError, match="cannot be written back"),
        probing(nn.Linear(2, 2), writes={Site("", "mean"): None}),
    ):
        pass
    with pytest.raises(ValueError, match="position 'middle' is unknown"):
        Site("latent", "middle")  # type: ignore[arg-type]


def test_unknown_module_lists_the_closest_names_and_installs_nothing():
    model = build_model({"architecture": "mnist_cnn", "num_classes": 10}, seed=0)
    with pytest.raises(ValueError, match="latent"), probing(model, reads={"x": Site("latnet")}):
        pass
    assert all(not module._forward_hooks for module in model.modules())


def test_hooks_are_removed_when_the_block_fails():
    model = build_model({"architecture": "mnist_cnn", "num_classes": 10}, seed=0)
    with pytest.raises(RuntimeError), probing(model, reads={"latent": Site("latent")}):
        raise RuntimeError("boom")
    assert all(not module._forward_hooks for module in model.modules())


def test_writing_back_the_recorded_cnn_values_leaves_the_logits_unchanged():
    model = build_model({"architecture": "mnist_cnn", "num_classes": 10}, seed=0).eval()
    images = torch.rand(6, 1, 28, 28)
    for path in ("latent", "encoder.0", "decoder.0"):
        with torch.no_grad(), probing(model, reads={"v": Site(path, "first")}) as probe:
            clean = probe.forward(images)
            recorded = probe.take("v")
        with (
            torch.no_grad(),
            probing(model, writes={Site(path, "first"): lambda _values, recorded=recorded: recorded}) as probe,
        ):
            written = probe.forward(images)
        assert torch.equal(clean, written), path
        with torch.no_grad(), probing(model, writes={Site(path, "first"): torch.zeros_like}) as probe:
            assert not torch.equal(probe.forward(images), clean), path


def test_input_stream_reads_what_the_module_receives():
    model = nn.Sequential(nn.Linear(3, 4), nn.Sigmoid(), nn.Linear(4, 2))
    x = torch.randn(5, 3)
    with torch.no_grad(), probing(model, reads={"in": Site("2", stream="input"), "out": Site("1")}) as probe:
        probe.forward(x)
        assert torch.equal(probe.take("in"), probe.take("out"))
        with pytest.raises(ValueError, match="saw nothing"):
            probe.take("in")


@pytest.mark.parametrize("position", ["first", "last"])
def test_writing_back_recorded_transformer_values_leaves_the_logits_unchanged(position):
    from transformers import DistilBertConfig, DistilBertForSequenceClassification

    torch.manual_seed(0)
    config = DistilBertConfig(vocab_size=50, dim=16, hidden_dim=32, n_layers=2, n_heads=2, num_labels=3)
    model = DistilBertForSequenceClassification(config).eval()
    inputs = {
        "input_ids": torch.randint(1, 50, (3, 6)),
        "attention_mask": torch.tensor([[1] * 6, [1] * 4 + [0] * 2, [1] * 2 + [0] * 4]),
    }
    site = Site("distilbert.transformer.layer.0.ffn.lin1", position)
    with torch.no_grad(), probing(model, reads={"v": site}) as probe:
        clean = probe.forward(inputs)
        recorded = probe.take("v")
    with torch.no_grad(), probing(model, writes={site: lambda _values: recorded}) as probe:
        assert torch.equal(probe.forward(inputs), clean)
    with torch.no_grad(), probing(model, writes={site: lambda values: values + 5}) as probe:
        assert not torch.equal(probe.forward(inputs), clean)
