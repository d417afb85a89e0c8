"""The paper's MNIST CNN: a convolutional encoder, a 32-unit sigmoid latent, and a fully-connected decoder."""

from __future__ import annotations

from torch import Tensor, nn


class MnistCnn(nn.Module):
    """conv32-conv64-maxpool-dropout-fc128-dropout-fc32-sigmoid (the recorded ``latent``), then
    fc128-dropout-fc128-fc(classes), with the dropout rates of the authors' released model (0.25, 0.5, 0.25).

    Module names, as ``named_modules()`` shows them: ``encoder.*``, ``latent`` (the Sigmoid whose output is
    recorded, > 0.5 on), ``decoder.0`` and ``decoder.3`` (the two hidden fully-connected layers, pre-ReLU).
    """

    def __init__(
        self,
        num_classes: int = 10,
        latent_dim: int = 32,
        dropout: float = 0.25,
        hidden_dropout: float = 0.5,
        decoder_dropout: float = 0.25,
    ) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 32, 3),
            nn.ReLU(),
            nn.Conv2d(32, 64, 3),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Dropout(dropout),
            nn.Flatten(),
            nn.Linear(64 * 12 * 12, 128),
            nn.ReLU(),
            nn.Dropout(hidden_dropout),
            nn.Linear(128, latent_dim),
        )
        self.latent = nn.Sigmoid()
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, 128),
            nn.ReLU(),
            nn.Dropout(decoder_dropout),
            nn.Linear(128, 128),
            nn.ReLU(),
            nn.Linear(128, num_classes),
        )

    def forward(self, images: Tensor) -> Tensor:
        """Class logits of a batch of (N, 1, 28, 28) images."""
        return self.decoder(self.latent(self.encoder(images)))
