"""Build a model from a plain configuration dict, and save/load it as weights plus that configuration.

The file holds only tensors and plain Python values, so it loads with ``torch.load(weights_only=True)``:
no arbitrary class is ever unpickled.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel
from torch import nn

from ndg_pipeline.models.hf import AUTO_CLASSES, build_hf_classifier
from ndg_pipeline.models.mnist_cnn import MnistCnn
from ndg_pipeline.models.mnist_mlp import MnistMlp
from ndg_pipeline.models.mnist_rnn import MnistRnn

ARCHITECTURES: dict[str, Callable[..., nn.Module]] = {
    "mnist_cnn": MnistCnn,
    "mnist_mlp": MnistMlp,
    "mnist_rnn": MnistRnn,
    **{name: partial(build_hf_classifier, name) for name in AUTO_CLASSES},
}


def build_model(config: dict[str, Any], seed: int | None = None) -> nn.Module:
    """A freshly initialized model for ``config`` (``architecture``, ``num_classes`` and its options).

    With ``seed``, the initialization is drawn from ``torch.manual_seed(seed)``: same seed, same weights.
    The config is kept on the model as ``model.ndg_config`` so that saving can write it beside the weights;
    builders that load weights from elsewhere (transformers) set their own, self-contained one.
    """
    architecture = config.get("architecture")
    if architecture not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {architecture!r}; known: {', '.join(sorted(ARCHITECTURES))}.")
    if seed is not None:
        torch.manual_seed(seed)
    model = ARCHITECTURES[architecture](**{k: v for k, v in config.items() if k != "architecture"})
    if not hasattr(model, "ndg_config"):
        model.ndg_config = dict(config)
    return model


def untrained_modules(params: BaseModel) -> nn.Module:
    """The configured architecture with random weights and two classes: enough to list its module names before
    training (transformers are built from their configuration, without loading pretrained weights)."""
    config = params.model_dump()
    if "pretrained" in config:
        config["pretrained"] = False
    return build_model({**config, "num_classes": 2})


def save_model_file(model: nn.Module, path: str | Path) -> None:
    """Write ``{'config', 'state_dict'}`` of a model built by :func:`build_model` to ``path``, atomically."""
    config = getattr(model, "ndg_config", None)
    if config is None:
        raise ValueError("the model has no ndg_config; build it with ndg_pipeline.models.build_model.")
    state = {name: tensor.detach().cpu() for name, tensor in model.state_dict().items()}
    partial = Path(f"{path}.partial")
    torch.save({"config": config, "state_dict": state}, partial)
    partial.replace(path)


def load_model_file(path: str | Path) -> nn.Module:
    """Rebuild a model saved by :func:`save_model_file`, in eval mode on the CPU."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"model file {path} does not exist; run the train node first.")
    payload = torch.load(path, map_location="cpu", weights_only=True)
    model = build_model(payload["config"])
    model.load_state_dict(payload["state_dict"])
    return model.eval()
