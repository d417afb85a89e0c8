"""Parameters of the effective-information lens (``conf/base/parameters_effective_information.yml``).

The defaults are the paper's experiments (deep-ei's ``experiments/runs`` set-up); ``conf/ei_earlier`` keeps the
project's earlier set-up as a named variant (``kedro run --pipelines=effective_information --env ei_earlier``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from ndg_pipeline.config.base import Params

Activation = Literal["sigmoid", "tanh", "relu"]


class MeasureParams(Params):
    """How each layer is measured: sample counts, bins, mode and device."""

    samples: int = Field(400_000, gt=1)
    sensitivity_samples: int = Field(5_000, gt=1)
    bins: int = Field(8, ge=2, le=256)
    reference: bool = False
    seed: int = 0
    relu_max: float = Field(1.0, gt=0)
    device: str = "auto"


class TrainingParams(Params):
    """Training of one of the paper's small networks on the MSE to one-hot targets (the paper's scripts: SGD,
    summed MSE, no bias), measured at ``measure_epochs`` (0 = initial weights)."""

    epochs: int = Field(500, gt=0)
    batch_size: int = Field(50, gt=0)
    learning_rate: float = Field(0.01, gt=0)
    optimizer: Literal["sgd", "adam"] = "sgd"
    loss_reduction: Literal["sum", "mean"] = "sum"
    bias: bool = False
    measure_epochs: list[int] = Field(default_factory=lambda: [0, 5, 10, 25, 50, 100, 250, 500], min_length=1)

    @field_validator("measure_epochs")
    @classmethod
    def _non_negative(cls, epochs: list[int]) -> list[int]:
        if min(epochs) < 0:
            raise ValueError("measure_epochs must be ≥ 0 (0 = the initial weights)")
        return sorted(set(epochs))


class IrisParams(Params):
    """The Iris experiment: 4-5-5-3 sigmoid network; ``preparation`` paper = features / 8 and the first
    ``train_size`` shuffled rows for training; minmax = [0, 1]-scaled with a stratified ``test_fraction`` split."""

    widths: list[int] = Field(default_factory=lambda: [4, 5, 5, 3], min_length=2)
    activation: Activation = "sigmoid"
    preparation: Literal["paper", "minmax"] = "paper"
    train_size: int = Field(100, gt=0, lt=150)
    test_fraction: float = Field(0.2, gt=0, lt=1)
    split_seed: int = 0
    training: TrainingParams = TrainingParams(
        epochs=4000, batch_size=10, measure_epochs=[0, 10, 30, 100, 300, 1000, 2000, 4000]
    )


class MnistSmallParams(Params):
    """The MNIST 5×5 experiments: the embedded digits of the first ``classes`` classes, downsampled to 5×5."""

    networks: dict[str, list[int]] = Field(default_factory=lambda: {"shallow": [25, 6, 5], "deep": [25, 6, 6, 6, 5]})
    activations: list[Activation] = Field(default_factory=lambda: ["sigmoid"], min_length=1)
    classes: int = Field(5, ge=2, le=10)
    test_fraction: float = Field(0.2, gt=0, lt=1)
    split_seed: int = 0
    training: TrainingParams = TrainingParams()

    @field_validator("networks")
    @classmethod
    def _inputs_and_outputs(cls, networks: dict[str, list[int]]) -> dict[str, list[int]]:
        for name, widths in networks.items():
            if len(widths) < 2 or widths[0] != 25 or min(widths) < 1:
                raise ValueError(f"network {name!r}: widths must start with 25 (5×5 pixels) and have ≥ 2 layers")
        return networks


class ModelLayersParams(Params):
    """The trained NDG model: which Linear layers to measure (module paths) and with how many samples; ranges of
    layers after unbounded activations from the activations observed on training inputs (``observed_ranges``)."""

    layers: list[str] = Field(default_factory=lambda: ["encoder.10", "decoder.0", "decoder.3", "decoder.5"])
    samples: int = Field(500_000, gt=1)
    sensitivity_samples: int = Field(2_000, gt=1)
    bins: int = Field(8, ge=2, le=256)
    relu_max: float = Field(10.0, gt=0)
    observed_ranges: bool = True
    range_inputs: int = Field(512, gt=0)


class EffectiveInformationParams(Params):
    """The effective-information lens: the paper's experiments and the measures of the trained CNN."""

    seeds: list[int] = Field([0, 1, 2], min_length=1)
    measure: MeasureParams = MeasureParams()
    iris: IrisParams = IrisParams()
    mnist_small: MnistSmallParams = MnistSmallParams()
    model_layers: ModelLayersParams = ModelLayersParams()

    def model_measurement(self):
        """The :class:`~ndg_pipeline.effective_information.experiments.Measurement` of the trained model's layers:
        ``model_layers``' samples, bins, ReLU bound and observed ranges with ``measure``'s mode, seed and device."""
        from ndg_pipeline.effective_information.experiments import Measurement

        chosen = self.model_layers
        return Measurement(
            samples=chosen.samples,
            sensitivity_samples=chosen.sensitivity_samples,
            bins=chosen.bins,
            reference=self.measure.reference,
            seed=self.measure.seed,
            relu_max=chosen.relu_max,
            device=self.measure.device,
            observed_ranges=chosen.observed_ranges,
        )
