"""Typed, validated parameters of every pipeline: the schema behind ``conf/base/parameters_*.yml``.

Every group, and the root, forbids unknown keys, so a typo (``--params mnie.alpha=5``) stops the run before
anything is trained or written. Defaults live here and only here.
"""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import ValidationError, model_validator

from ndg_pipeline.config.base import Params
from ndg_pipeline.config.effective_information import EffectiveInformationParams
from ndg_pipeline.config.interactions import InteractionsParams
from ndg_pipeline.config.ndg import (
    BinarizeParams,
    ControlsParams,
    DataParams,
    GraphParams,
    InterveneParams,
    MineParams,
    ModelParams,
    RecordParams,
    ScaleParams,
    TrainParams,
)
from ndg_pipeline.config.study import StudyParams
from ndg_pipeline.config.timeline import TimelineParams
from ndg_pipeline.errors import RunRefused


class RunParams(Params):
    """All parameters of a run, checked together when it starts."""

    data: DataParams = DataParams()
    model: ModelParams = ModelParams()
    train: TrainParams = TrainParams()
    record: RecordParams = RecordParams()
    binarize: BinarizeParams = BinarizeParams()
    mine: MineParams = MineParams()
    graph: GraphParams = GraphParams()
    intervene: InterveneParams = InterveneParams()
    scale: ScaleParams = ScaleParams()
    controls: ControlsParams = ControlsParams()
    interactions: InteractionsParams = InteractionsParams()
    effective_information: EffectiveInformationParams = EffectiveInformationParams()
    timeline: TimelineParams = TimelineParams()
    study: StudyParams = StudyParams()

    @model_validator(mode="after")
    def _thresholds_cover_layers(self) -> RunParams:
        missing = sorted(set(self.record.layers) - set(self.binarize.thresholds))
        if missing:
            raise ValueError(f"binarize.thresholds has no threshold for recorded layer(s) {missing}")
        return self

    @model_validator(mode="after")
    def _second_model_differs(self) -> RunParams:
        if self.interactions.second_model.seed == self.train.seed:
            raise ValueError(
                f"interactions.second_model.seed ({self.train.seed}) equals train.seed, so the interaction lens's "
                "second model would be the first one again; give it another seed"
            )
        return self

    @model_validator(mode="after")
    def _controls_follow_ndg(self) -> RunParams:
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


def _known_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys the schema accepts beside the unknown one at ``loc`` (from the defaults, as a nested dict)."""
    level: Any = RunParams().model_dump()
    for part in loc[:-1]:  # a part that is not a key is the tag of a union (model.mnist_cnn.…): stay
        level = level.get(part, level) if isinstance(level, dict) else {}
    return sorted(level) if isinstance(level, dict) else []


def _describe(error: dict[str, Any]) -> str:
    """One line per problem; an unknown key names the closest known keys."""
    where = ".".join(map(str, error["loc"])) or "(parameters)"
    if error["type"] != "extra_forbidden":
        return f"  {where}: {error['msg']}"
    known = _known_keys(error["loc"])
    close = difflib.get_close_matches(str(error["loc"][-1]), known, n=3)
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    return f"  {where}: unknown parameter; {hint}known here: {', '.join(known)}"


def validate(params: dict[str, Any]) -> RunParams:
    """Validate a run's parameters, turning pydantic's report into one readable error."""
    try:
        return RunParams.model_validate(params)
    except ValidationError as error:
        lines = [_describe(e) for e in error.errors()]
        raise RunRefused("invalid parameters (conf/base/parameters_*.yml):\n" + "\n".join(lines)) from None


__all__ = [
    "BinarizeParams",
    "ControlsParams",
    "DataParams",
    "EffectiveInformationParams",
    "GraphParams",
    "InteractionsParams",
    "InterveneParams",
    "MineParams",
    "ModelParams",
    "Params",
    "RecordParams",
    "RunParams",
    "ScaleParams",
    "StudyParams",
    "TimelineParams",
    "TrainParams",
    "validate",
]
