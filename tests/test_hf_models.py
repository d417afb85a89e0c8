"""Transformers classifiers through the real loading code, and the fine-tuning options of the trainer."""

from __future__ import annotations

import math

import pytest
import torch
from hf_fixtures import save_text_model, save_tokenizer, save_vit
from torch import nn
from torch.utils.data import TensorDataset

from ndg_pipeline.data.splits import Split
from ndg_pipeline.models import build_model, load_model_file, save_model_file
from ndg_pipeline.training import lr_factor, train_classifier

TINY_DISTILBERT = {
    "model_type": "distilbert",
    "vocab_size": 30,
    "dim": 32,
    "n_layers": 2,
    "n_heads": 2,
    "hidden_dim": 64,
}


@pytest.fixture(scope="module")
def distilbert(tmp_path_factory):
    """A tiny random DistilBERT classifier and its tokenizer, saved with save_pretrained."""
    folder = tmp_path_factory.mktemp("distilbert")
    tokenizer = save_tokenizer(folder, ["the film was good", "the plot was bad"])
    return save_text_model(folder, tokenizer, "distilbert", num_labels=2), tokenizer


def sequence_model(source, num_classes=2, **options):
    """A sequence classifier built by the registry, as the train node builds it."""
    return build_model(
        {"architecture": "hf_sequence_classification", "num_classes": num_classes, "source": source, **options}, seed=0
    )


def test_a_saved_folder_loads_with_its_weights(distilbert):
    from transformers import AutoModelForSequenceClassification

    folder, _ = distilbert
    model = sequence_model(str(folder))
    reference = AutoModelForSequenceClassification.from_pretrained(folder)
    for name, tensor in reference.state_dict().items():
        assert torch.equal(model.state_dict()[name], tensor), name
    assert model.pre_classifier.out_features == 32


def test_model_file_rebuilds_offline_from_the_plain_config(distilbert, tmp_path):
    folder, tokenizer = distilbert
    model = sequence_model(str(folder)).eval()
    save_model_file(model, tmp_path / "model.pt")
    payload = torch.load(tmp_path / "model.pt", weights_only=True)
    assert payload["config"]["architecture"] == "hf_sequence_classification"
    assert payload["config"]["config"]["model_type"] == "distilbert" and "source" not in payload["config"]
    loaded = load_model_file(tmp_path / "model.pt")
    assert not loaded.training
    inputs = tokenizer(["the film was good", "bad"], padding=True, return_tensors="pt")
    torch.testing.assert_close(loaded(**inputs).logits, model(**inputs).logits)


def test_random_weights_from_a_configuration_are_seeded():
    first = build_model({"architecture": "hf_sequence_classification", "num_classes": 3, "config": TINY_DISTILBERT}, 4)
    second = build_model({"architecture": "hf_sequence_classification", "num_classes": 3, "config": TINY_DISTILBERT}, 4)
    assert first.classifier.out_features == 3 and first.distilbert.transformer.layer[1].ffn.lin1.out_features == 64
    assert torch.equal(first.pre_classifier.weight, second.pre_classifier.weight)


def test_a_head_of_another_size_is_reinitialized(tmp_path):
    folder = save_vit(tmp_path / "vit", num_labels=3)
    model = build_model({"architecture": "hf_image_classification", "num_classes": 5, "source": str(folder)}, seed=0)
    assert model.classifier.out_features == 5
    assert model(torch.zeros(2, 3, 32, 32)).logits.shape == (2, 5)


def test_missing_source_and_missing_model_type_are_explained(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"neither a model folder here.*save_pretrained"):
        sequence_model(str(tmp_path / "no_model"))
    with pytest.raises(ValueError, match="needs a model_type"):
        sequence_model(None, config={"dim": 32})


def linear_run(batch_size: int, accumulation_steps: int, n: int = 12, **options) -> nn.Module:
    """Train a linear classifier on fixed random data (no dropout: the result depends only on the steps)."""
    generator = torch.Generator().manual_seed(0)
    data = Split(TensorDataset(torch.randn(n, 5, generator=generator), torch.arange(n) % 3))
    torch.manual_seed(0)
    model = nn.Linear(5, 3)
    trained, _ = train_classifier(
        model,
        data,
        data,
        epochs=2,
        batch_size=batch_size,
        learning_rate=0.1,
        weight_decay=0.0,
        seed=0,
        device=torch.device("cpu"),
        accumulation_steps=accumulation_steps,
        **options,
    )
    return trained


def test_gradient_accumulation_equals_the_larger_batch_with_a_smaller_last_group():
    large, accumulated = linear_run(batch_size=8, accumulation_steps=1), linear_run(batch_size=4, accumulation_steps=2)
    torch.testing.assert_close(accumulated.weight, large.weight)
    torch.testing.assert_close(accumulated.bias, large.bias)


def test_mixed_precision_is_ignored_on_the_cpu():
    plain, mixed = linear_run(4, 1), linear_run(4, 1, mixed_precision=True)
    assert torch.equal(plain.weight, mixed.weight)


def test_warmup_then_constant_or_linear_decay():
    assert [lr_factor(step, total=10, warmup=2, schedule="linear") for step in (0, 1, 2, 6, 10)] == [0, 0.5, 1, 0.5, 0]
    assert [lr_factor(step, total=10, warmup=2, schedule="constant") for step in (1, 2, 9)] == [0.5, 1, 1]
    assert lr_factor(0, total=10, warmup=0, schedule="constant") == 1.0


def test_zero_epochs_keeps_the_weights_and_evaluates_once():
    data = Split(TensorDataset(torch.randn(6, 5), torch.arange(6) % 3))
    model = nn.Linear(5, 3)
    before = model.weight.detach().clone()
    trained, history = train_classifier(
        model,
        data,
        data,
        epochs=0,
        batch_size=4,
        learning_rate=0.1,
        weight_decay=0.0,
        seed=0,
        device=torch.device("cpu"),
    )
    assert torch.equal(trained.weight, before)
    assert len(history) == 1 and history[0]["epoch"] == 0 and math.isnan(history[0]["loss"])
    assert 0 <= history[0]["train_accuracy"] <= 1
