"""Parameter groups of the ndg pipeline and its controls (``parameters_ndg.yml``, ``parameters_controls.yml``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import (
    ConfigDict,
    Discriminator,
    Field,
    RootModel,
    Tag,
    field_validator,
    model_validator,
)

from ndg_pipeline.config.base import Params
from ndg_pipeline.names import check_alias

DatasetName = Literal["mnist_sample", "mnist", "mnist_even", "sst2", "allnli", "devign", "cub200"]
DATASET_NAMES: tuple[str, ...] = get_args(DatasetName)


class DataParams(Params):
    """Which dataset to open and how to split it."""

    name: DatasetName = "mnist_sample"
    test_fraction: float = Field(0.2, gt=0, lt=1)
    split_seed: int = 0
    raw_dir: str = "data/01_raw"
    download: bool = False
    even_source: Literal["mnist_sample", "mnist"] = "mnist_sample"
    limit: int | None = Field(None, gt=0)
    shuffle_labels: bool = False
    path: str | None = None
    processor: str | None = None
    max_length: int = Field(128, gt=0)


class MnistCnnParams(Params):
    """The paper's MNIST CNN (``ndg_pipeline.models.mnist_cnn``)."""

    architecture: Literal["mnist_cnn"] = "mnist_cnn"
    latent_dim: int = Field(32, gt=0)
    dropout: float = Field(0.25, ge=0, lt=1)
    hidden_dropout: float = Field(0.5, ge=0, lt=1)
    decoder_dropout: float = Field(0.25, ge=0, lt=1)


class MnistMlpParams(Params):
    """A fully-connected digit classifier of configurable depth (``ndg_pipeline.models.mnist_mlp``)."""

    architecture: Literal["mnist_mlp"]
    hidden: list[Annotated[int, Field(gt=0)]] = Field(default_factory=lambda: [64], min_length=1)
    activation: Literal["sigmoid", "tanh", "relu"] = "sigmoid"
    dropout: float = Field(0.0, ge=0, lt=1)


class MnistRnnParams(Params):
    """A recurrent digit classifier reading the image in horizontal bands (``ndg_pipeline.models.mnist_rnn``)."""

    architecture: Literal["mnist_rnn"]
    hidden: int = Field(16, gt=0)
    steps: Literal[1, 2, 4, 7, 14, 28] = 7  # bands of 28 / steps rows, one per step


class HfModelParams(Params):
    """A transformers classifier (``ndg_pipeline.models.hf``): pretrained from ``source``, or random weights."""

    architecture: Literal["hf_sequence_classification", "hf_image_classification"]
    source: str | None = None
    pretrained: bool = True
    config: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _has_a_configuration(self) -> HfModelParams:
        if self.source is None and "model_type" not in self.config:
            raise ValueError("set model.source (a model folder or hub name), or model.config with a model_type")
        return self


def _architecture(value: Any) -> str | None:
    """The ``architecture`` of a model parameter group (MNIST's CNN when it is not given)."""
    if isinstance(value, dict):
        return value.get("architecture", "mnist_cnn")
    return getattr(value, "architecture", None)


class ModelParams(RootModel):
    """Architecture of the model to train, chosen by ``architecture`` (see ``ndg_pipeline.models``)."""

    model_config = ConfigDict(frozen=True)
    root: Annotated[
        Annotated[MnistCnnParams, Tag("mnist_cnn")]
        | Annotated[MnistMlpParams, Tag("mnist_mlp")]
        | Annotated[MnistRnnParams, Tag("mnist_rnn")]
        | Annotated[HfModelParams, Tag("hf_sequence_classification")]
        | Annotated[HfModelParams, Tag("hf_image_classification")],
        Discriminator(_architecture),
    ] = MnistCnnParams()


class TrainParams(Params):
    """AdamW training of the classifier."""

    seed: int = 0
    epochs: int = Field(20, ge=0)
    batch_size: int = Field(128, gt=0)
    learning_rate: float = Field(1e-3, gt=0)
    weight_decay: float = Field(0.01, ge=0)
    device: str = "auto"
    warmup_ratio: float = Field(0.0, ge=0, lt=1)
    schedule: Literal["constant", "linear"] = "constant"
    accumulation_steps: int = Field(1, gt=0)
    mixed_precision: bool = False
    checkpoints: list[int] = Field(default_factory=lambda: [1, 2, 5, 10, 20])

    @field_validator("checkpoints")
    @classmethod
    def _checkpoints(cls, checkpoints: list[int]) -> list[int]:
        if any(epoch < 0 for epoch in checkpoints):
            raise ValueError(f"train.checkpoints are epochs ≥ 0 (0 = the initial weights); got {checkpoints}")
        return sorted(set(checkpoints))

    def checkpoint_epochs(self) -> list[int]:
        """The epochs whose weights are kept: the listed ones up to ``epochs``, and always the last (the model)."""
        return sorted({epoch for epoch in self.checkpoints if epoch <= self.epochs} | {self.epochs})


class RecordParams(Params):
    """Which layers to record (alias → module path), at which sequence position, on how many inputs."""

    layers: dict[str, str] = Field(default_factory=lambda: {"latent": "latent"})
    position: Literal["first", "last", "mean"] = "first"
    batch_size: int = Field(512, gt=0)
    max_inputs: int | None = Field(100_000, gt=0)
    device: str = "auto"

    @field_validator("layers")
    @classmethod
    def _aliases(cls, layers: dict[str, str]) -> dict[str, str]:
        if not layers:
            raise ValueError("record.layers is empty; name at least one layer as alias: module.path")
        for alias in layers:
            check_alias(alias)
        return layers


Threshold = Literal["pre_activation", "sigmoid"] | float


class BinarizeParams(Params):
    """Per layer alias: ``pre_activation`` (> 0), ``sigmoid`` (> 0.5, an applied sigmoid) or a number."""

    thresholds: dict[str, Threshold] = Field(default_factory=lambda: {"latent": "sigmoid"})


class MineParams(Params):
    """The edge rule's α (> 1) and the streaming of the predicate matrix."""

    alpha: float = 100.0
    chunk_rows: int = Field(65_536, gt=0)
    device: str = "auto"

    @field_validator("alpha")
    @classmethod
    def _alpha(cls, alpha: float) -> float:
        if alpha <= 1:
            raise ValueError(f"alpha must be > 1 (the paper uses 20 by default, 3…100 per dataset); got {alpha}")
        return alpha


class GraphParams(Params):
    """How much of the graph to draw."""

    max_nodes: int = Field(80, gt=0)
    max_edges_per_class: int | None = Field(60, gt=0)
    html_max_edges: int | None = Field(2000, gt=0)


class InterveneParams(Params):
    """Interchange intervention (spec §5)."""

    set_type: Literal[0, 1, 2] = 0
    value_modes: list[Literal["patch", "reference"]] = Field(default_factory=lambda: ["patch", "reference"])
    seed: int = 0
    batch_size: int = Field(512, gt=0)
    max_inputs: int | None = Field(None, gt=0)
    device: str = "auto"


class SeedParams(Params):
    """A control that only needs a seed (random model, random input, different inputs)."""

    seed: int = 0


class TwoModelsParams(Params):
    """Two models (Table 4): the second model's seed, and its training parameters (``train`` with that seed)."""

    seed: int = 1
    train: TrainParams = TrainParams(seed=1)


class TwoLayersParams(Params):
    """Two layers (Table 6): two layers recorded in one pass, and the record/binarize groups derived from them."""

    layers: dict[str, str] = Field(default_factory=lambda: {"fc1": "decoder.0", "fc2": "decoder.3"})
    thresholds: dict[str, Threshold] = Field(default_factory=lambda: {"fc1": "pre_activation", "fc2": "pre_activation"})
    record: RecordParams = RecordParams(layers={"fc1": "decoder.0", "fc2": "decoder.3"})
    binarize: BinarizeParams = BinarizeParams(thresholds={"fc1": "pre_activation", "fc2": "pre_activation"})

    @model_validator(mode="after")
    def _two_layers(self) -> TwoLayersParams:
        if len(self.layers) != 2:
            raise ValueError(f"controls.two_layers.layers must name exactly two layers; got {list(self.layers)}")
        if set(self.thresholds) != set(self.layers):
            raise ValueError(
                f"controls.two_layers.thresholds must give one threshold per layer {list(self.layers)}; "
                f"got {list(self.thresholds)}"
            )
        if self.record.layers != self.layers or self.binarize.thresholds != self.thresholds:
            raise ValueError(
                "controls.two_layers.record/binarize are derived from controls.two_layers.layers/thresholds "
                "(see parameters_controls.yml); change (or --params override) those, not the derived groups"
            )
        return self


class ControlsParams(Params):
    """The control pipelines of spec §4 (``conf/base/parameters_controls.yml``)."""

    random_model: SeedParams = SeedParams()
    random_input: SeedParams = SeedParams()
    two_models: TwoModelsParams = TwoModelsParams()
    different_inputs: SeedParams = SeedParams()
    two_layers: TwoLayersParams = TwoLayersParams()


class ScaleParams(Params):
    """Where recording, counting and the intervention run: in this process, or sharded on a Dask cluster."""

    cluster: str | None = None
    workers: int = Field(2, gt=0)
    torch_threads: int | None = Field(None, gt=0)
    shard_rows: int = Field(16_384, gt=0)
    retries: int = Field(2, ge=0)
    store: str = "data/05_model_input/shards"
    json_max_edges: int = Field(100_000, ge=0)

    @field_validator("cluster")
    @classmethod
    def _cluster(cls, cluster: str | None) -> str | None:
        if cluster is not None and cluster != "local" and "://" not in cluster and ":" not in cluster:
            raise ValueError(
                f"scale.cluster must be null (this process), 'local' (a LocalCluster) or a scheduler address such "
                f"as tcp://10.0.0.5:8786; got {cluster!r}"
            )
        return cluster
