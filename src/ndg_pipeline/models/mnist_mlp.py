"""A fully-connected classifier of 28×28 digits whose depth, width, activation and dropout are parameters: the
studies' network for questions about depth and dropout, small enough to train many seeds on a CPU."""

from __future__ import annotations

from collections import OrderedDict
from itertools import pairwise
from typing import Literal

from torch import Tensor, nn

ACTIVATIONS: dict[str, type[nn.Module]] = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}


class MnistMlp(nn.Module):
    """Flatten, then per hidden width ``Linear → activation → Dropout``, then ``Linear(classes)``.

    Module names are stable whatever the depth: ``hidden.<i>.linear``, ``hidden.<i>.activation`` (the layer's
    recorded output), ``hidden.<i>.dropout`` and ``output``.
    """

    def __init__(
        self,
        num_classes: int = 10,
        hidden: tuple[int, ...] | list[int] = (64,),
        activation: Literal["sigmoid", "tanh", "relu"] = "sigmoid",
        dropout: float = 0.0,
        inputs: int = 28 * 28,
    ) -> None:
        super().__init__()
        widths = [inputs, *hidden]
        self.flatten = nn.Flatten()
        self.hidden = nn.Sequential(
            *(
                nn.Sequential(
                    OrderedDict(
                        linear=nn.Linear(width_in, width_out),
                        activation=ACTIVATIONS[activation](),
                        dropout=nn.Dropout(dropout),
                    )
                )
                for width_in, width_out in pairwise(widths)
            )
        )
        self.output = nn.Linear(widths[-1], num_classes)

    def forward(self, images: Tensor) -> Tensor:
        """Class logits of a batch of (N, 1, 28, 28) images."""
        return self.output(self.hidden(self.flatten(images)))
