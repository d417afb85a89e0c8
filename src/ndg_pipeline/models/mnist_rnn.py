"""A recurrent classifier of 28×28 digits: an Elman cell reads the image as a few horizontal bands, one band per step,
and a Linear layer classifies the last hidden state. The recurrent study's network (deep-ei's open question "Can EI
be measured in recurrent networks?"): its per-step map is one Linear layer followed by tanh, which every lens can
read by module path."""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import Tensor, nn

SIDE = 28


class MnistRnn(nn.Module):
    """h_t = tanh(W [x_t; h_{t−1}] + b) over ``steps`` bands of 28 / steps rows (top to bottom, h_0 = 0), then
    ``Linear(classes)`` on h_T.

    Module names: ``cell.linear`` (the cell's map, called once per step), ``cell.activation``, ``last`` (an
    Identity holding h_T, the state the NDG binarises) and ``output``.
    """

    def __init__(self, num_classes: int = 10, hidden: int = 16, steps: int = 7) -> None:
        super().__init__()
        if hidden < 1 or steps < 1 or SIDE % steps:
            raise ValueError(
                f"MnistRnn needs hidden ≥ 1 and steps dividing {SIDE}; got hidden={hidden}, steps={steps}."
            )
        self.steps, self.hidden, self.step_inputs = steps, hidden, SIDE // steps * SIDE
        self.cell = nn.Sequential(
            OrderedDict(linear=nn.Linear(self.step_inputs + hidden, hidden), activation=nn.Tanh())
        )
        self.last = nn.Identity()
        self.output = nn.Linear(hidden, num_classes)

    def forward(self, images: Tensor) -> Tensor:
        """Class logits of a batch of (N, 1, 28, 28) images."""
        bands = images.reshape(len(images), self.steps, self.step_inputs)
        state = images.new_zeros((len(images), self.hidden))
        for step in range(self.steps):
            state = self.cell(torch.cat([bands[:, step], state], dim=1))
        return self.output(self.last(state))
