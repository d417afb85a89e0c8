"""Typed, validated parameters of the pipelines (the schema behind ``conf/base/parameters_*.yml``).

Every group forbids unknown keys, so a typo fails when the run starts instead of being silently ignored.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    RootModel,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)


class Params(BaseModel):
    """Base of every parameter group: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class DataParams(Params):
    """Which dataset to open and how to split it."""

    name: str = "mnist_sample"
    test_fraction: float = Field(0.2, gt=0, lt=1)
    split_seed: int = 0
    raw_dir: str = "data/01_raw"
    download: bool = False
    even_source: Literal["mnist_sample", "mnist"] = "mnist_sample"
    limit: int | None = Field(None, gt=0)
    path: str | None = None
    processor: str | None = None
    max_length: int = Field(128, gt=0)

    @field_validator("name")
    @classmethod
    def _known(cls, name: str) -> str:
        from ndg_pipeline.data.registry import DATASETS

        if name not in DATASETS:
            raise ValueError(f"unknown dataset {name!r}; known datasets: {', '.join(sorted(DATASETS))}")
        return name


class MnistCnnParams(Params):
    """The paper's MNIST CNN (``ndg_pipeline.models.mnist_cnn``)."""

    architecture: Literal["mnist_cnn"] = "mnist_cnn"
    latent_dim: int = Field(32, gt=0)
    dropout: float = Field(0.25, ge=0, lt=1)
    hidden_dropout: float = Field(0.5, ge=0, lt=1)
    decoder_dropout: float = Field(0.25, ge=0, lt=1)


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
        bad = [alias for alias in layers if ":" in alias or alias == "class"]
        if bad:
            raise ValueError(f"layer aliases may not contain ':' or be 'class': {bad}")
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


class NdgParams(Params):
    """All parameters of the ndg pipeline, checked together when a run starts."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    data: DataParams = DataParams()
    model: ModelParams = ModelParams()
    train: TrainParams = TrainParams()
    record: RecordParams = RecordParams()
    binarize: BinarizeParams = BinarizeParams()
    mine: MineParams = MineParams()
    graph: GraphParams = GraphParams()
    intervene: InterveneParams = InterveneParams()
    controls: ControlsParams = ControlsParams()

    @model_validator(mode="after")
    def _thresholds_cover_layers(self) -> NdgParams:
        missing = sorted(set(self.record.layers) - set(self.binarize.thresholds))
        if missing:
            raise ValueError(f"binarize.thresholds has no threshold for recorded layer(s) {missing}")
        return self

    @model_validator(mode="after")
    def _controls_follow_ndg(self) -> NdgParams:
        two_models, two_layers = self.controls.two_models, self.controls.two_layers
        if two_models.seed == self.train.seed:
            raise ValueError(
                f"controls.two_models.seed ({two_models.seed}) equals train.seed, so the second model would be the "
                "first one again; give it another seed"
            )
        given = "train" in two_models.model_fields_set
        if given and two_models.train != self.train.model_copy(update={"seed": two_models.seed}):
            raise ValueError(
                "controls.two_models.train must be train with controls.two_models.seed (it is derived in "
                "parameters_controls.yml); override train.* or controls.two_models.seed instead"
            )
        given = "record" in two_layers.model_fields_set
        if given and two_layers.record != self.record.model_copy(update={"layers": two_layers.layers}):
            raise ValueError(
                "controls.two_layers.record must be record with controls.two_layers.layers (it is derived in "
                "parameters_controls.yml); override record.* or controls.two_layers.layers instead"
            )
        return self


def validate(params: dict[str, Any]) -> NdgParams:
    """Validate the run's parameters, turning pydantic's report into one readable error."""
    try:
        return NdgParams.model_validate(params)
    except ValidationError as error:
        lines = [f"  {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()]
        raise ValueError("invalid parameters (conf/base/parameters_*.yml):\n" + "\n".join(lines)) from None
