"""Typed, validated parameters of the pipelines (the schema behind ``conf/base/parameters_*.yml``).

Every group forbids unknown keys, so a typo fails when the run starts instead of being silently ignored.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator


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

    @field_validator("name")
    @classmethod
    def _known(cls, name: str) -> str:
        from ndg_pipeline.data.registry import DATASETS

        if name not in DATASETS:
            raise ValueError(f"unknown dataset {name!r}; known datasets: {', '.join(sorted(DATASETS))}")
        return name


class ModelParams(Params):
    """Architecture of the model to train (see ``ndg_pipeline.models``)."""

    architecture: str = "mnist_cnn"
    latent_dim: int = Field(32, gt=0)
    dropout: float = Field(0.25, ge=0, lt=1)


class TrainParams(Params):
    """AdamW training of the classifier."""

    seed: int = 0
    epochs: int = Field(6, gt=0)
    batch_size: int = Field(64, gt=0)
    learning_rate: float = Field(1e-3, gt=0)
    weight_decay: float = Field(0.01, ge=0)
    device: str = "auto"


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

    @model_validator(mode="after")
    def _thresholds_cover_layers(self) -> NdgParams:
        missing = sorted(set(self.record.layers) - set(self.binarize.thresholds))
        if missing:
            raise ValueError(f"binarize.thresholds has no threshold for recorded layer(s) {missing}")
        return self


def validate(params: dict[str, Any]) -> NdgParams:
    """Validate the run's parameters, turning pydantic's report into one readable error."""
    try:
        return NdgParams.model_validate(params)
    except ValidationError as error:
        lines = [f"  {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()]
        raise ValueError("invalid parameters (conf/base/parameters_*.yml):\n" + "\n".join(lines)) from None
