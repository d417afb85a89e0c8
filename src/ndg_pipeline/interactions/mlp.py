"""The authors' tabular classifier: an MLP of ``layers`` linear layers of width ``hidden`` with ReLU (mlp5)."""

from __future__ import annotations

import itertools

from torch import Tensor, nn


class TabularMlp(nn.Module):
    """in → hidden → … → hidden → classes: ``layers`` linear layers, ReLU between them (mlp5: layers = 5)."""

    def __init__(self, features: int, num_classes: int, hidden: int = 100, layers: int = 5) -> None:
        super().__init__()
        if layers < 1:
            raise ValueError(f"an MLP needs at least one linear layer; got layers={layers}.")
        widths = [features] + [hidden] * (layers - 1) + [num_classes]
        blocks: list[nn.Module] = []
        for index, (width_in, width_out) in enumerate(itertools.pairwise(widths)):
            blocks.append(nn.Linear(width_in, width_out))
            if index < layers - 1:
                blocks.append(nn.ReLU())
        self.layers = nn.Sequential(*blocks)

    def forward(self, rows: Tensor) -> Tensor:
        """Class logits of a batch of standardised rows [B, features]."""
        return self.layers(rows)
