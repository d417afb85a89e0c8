"""Parameters of a study (``conf/base/parameters_study.yml``): named questions, each a baseline and variants given
as parameter overrides, run at a preset's seeds and scale."""

from __future__ import annotations

import difflib
from typing import Any, Literal

from pydantic import Field, model_validator

from ndg_pipeline.config.base import Params

Lens = Literal["ndg", "interactions", "effective_information"]
Overrides = dict[str, Any]  # dotted parameter name → value, e.g. {"model.dropout": 0.0}


class StudyDefinition(Params):
    """One question: overrides shared by every variant (and per preset), and each variant's own overrides."""

    question: str
    baseline: str
    shared: Overrides = Field(default_factory=dict)
    presets: dict[str, Overrides] = Field(default_factory=dict)
    variants: dict[str, Overrides]

    @model_validator(mode="after")
    def _baseline_is_a_variant(self) -> StudyDefinition:
        if len(self.variants) < 2:
            raise ValueError(f"a study compares ≥ 2 variants; got {sorted(self.variants)}")
        if self.baseline not in self.variants:
            raise ValueError(f"baseline {self.baseline!r} is not one of the variants {sorted(self.variants)}")
        return self


class StudyPreset(Params):
    """Seeds and the overrides that set a study's scale (``quick`` for tests, ``full`` for the findings)."""

    seeds: list[int] = Field(min_length=2)
    overrides: Overrides = Field(default_factory=dict)


class StudyParams(Params):
    """Which study to run at which preset, with which lenses; the studies and presets themselves."""

    name: str = "dropout"
    preset: str = "quick"
    lenses: list[Lens] = Field(default_factory=lambda: ["ndg", "interactions", "effective_information"], min_length=1)
    studies: dict[str, StudyDefinition] = Field(default_factory=dict)
    presets: dict[str, StudyPreset] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _named_ones_exist(self) -> StudyParams:
        for field, name, known in (("name", self.name, self.studies), ("preset", self.preset, self.presets)):
            if known and name not in known:
                close = difflib.get_close_matches(name, list(known), n=1)
                hint = f"did you mean {close[0]}? " if close else ""
                raise ValueError(f"study.{field} {name!r} is not defined; {hint}known: {', '.join(sorted(known))}")
        return self

    def cells(self) -> list[tuple[str, int, Overrides]]:
        """(variant, seed, overrides) of every cell of the chosen study at the chosen preset: the preset's
        overrides, the study's shared ones, the study's own for this preset, then the variant's (later ones win)."""
        study, preset = self.studies[self.name], self.presets[self.preset]
        common = {**preset.overrides, **study.shared, **study.presets.get(self.preset, {})}
        return [
            (variant, seed, {**common, **overrides, "train.seed": seed})
            for variant, overrides in study.variants.items()
            for seed in preset.seeds
        ]
