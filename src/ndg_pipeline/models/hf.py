"""Transformers classifiers (text and image) from a local folder, a hub name, or a bare configuration.

A built model records its complete Hugging Face configuration as a plain dict in ``ndg_config``, so the saved
file rebuilds it offline with random weights before loading the trained ones (no download, no pickled class).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

AUTO_CLASSES = {
    "hf_sequence_classification": "AutoModelForSequenceClassification",
    "hf_image_classification": "AutoModelForImageClassification",
}


def hf_config(source: str | None, overrides: dict[str, Any], num_classes: int) -> Any:
    """The model's configuration: the one at ``source`` with ``overrides``, or ``overrides`` alone; C labels."""
    from transformers import AutoConfig

    if source is None:
        if "model_type" not in overrides:
            raise ValueError(
                "model.config needs a model_type (e.g. distilbert, roberta, vit) when model.source is null; "
                "or set model.source to a model folder or hub name."
            )
        config = AutoConfig.for_model(**overrides)
    else:
        try:
            config = AutoConfig.from_pretrained(source, **overrides)
        except OSError as error:
            raise FileNotFoundError(
                f"model.source={source!r} is neither a model folder here nor a hub model that can be reached "
                f"({error}). Point it at a folder written by save_pretrained, or run where the hub is reachable."
            ) from error
    if config.num_labels != num_classes:
        config.num_labels = num_classes
    return config


def build_hf_classifier(
    architecture: str,
    num_classes: int,
    source: str | None = None,
    pretrained: bool = True,
    config: dict[str, Any] | None = None,
) -> nn.Module:
    """A float32 classifier with ``num_classes`` outputs: pretrained weights from ``source`` (a classification
    head of another size is re-initialized), or random weights from its configuration.

    ``architecture`` picks the Auto class (see ``AUTO_CLASSES``); ``config`` overrides the source's configuration
    or, without a source, is the whole configuration (with ``model_type``).
    """
    import transformers

    auto = getattr(transformers, AUTO_CLASSES[architecture])
    settings = hf_config(source, dict(config or {}), num_classes)
    if source is not None and pretrained:
        model = auto.from_pretrained(source, config=settings, ignore_mismatched_sizes=True, dtype=torch.float32)
    else:
        model = auto.from_config(settings, dtype=torch.float32)
    model.ndg_config = {"architecture": architecture, "num_classes": num_classes, "config": model.config.to_dict()}
    return model
