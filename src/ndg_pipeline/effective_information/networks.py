"""The paper's small networks: fully-connected layers, each followed by the same activation (output included)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import torch
from torch import nn

ACTIVATIONS: dict[str, type[nn.Module]] = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}


def layered_network(
    widths: Sequence[int], activation: str = "sigmoid", seed: int | None = None, bias: bool = True
) -> nn.Sequential:
    """Linear layers widths[0] → widths[1] → … each followed by ``activation``; seeded initialisation if ``seed``.
    torch's default initialisation is the paper's U(−1/√fan_in, 1/√fan_in); its runs use ``bias=False``."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation {activation!r} is unknown; choose one of {', '.join(ACTIVATIONS)}.")
    if len(widths) < 2:
        raise ValueError(f"a network needs at least two widths (inputs and outputs), got {list(widths)}.")
    if seed is not None:
        torch.manual_seed(seed)
    layers: list[nn.Module] = []
    for n_in, n_out in itertools.pairwise(widths):
        layers += [nn.Linear(n_in, n_out, bias=bias), ACTIVATIONS[activation]()]
    return nn.Sequential(*layers)


def iris_network(seed: int | None = None) -> nn.Sequential:
    """The paper's Iris network: 4-5-5-3, sigmoid after every layer."""
    return layered_network((4, 5, 5, 3), "sigmoid", seed)


def mnist_network(depth: str = "shallow", activation: str = "sigmoid", seed: int | None = None) -> nn.Sequential:
    """The paper's MNIST 5×5 networks: ``shallow`` 25-6-5 or ``deep`` 25-6-6-6-5."""
    widths = {"shallow": (25, 6, 5), "deep": (25, 6, 6, 6, 5)}
    if depth not in widths:
        raise ValueError(f"depth {depth!r} is unknown; choose shallow (25-6-5) or deep (25-6-6-6-5).")
    return layered_network(widths[depth], activation, seed)
