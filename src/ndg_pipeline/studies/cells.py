"""A study's cells: the run's parameters with one variant's overrides applied, validated like any run's."""

from __future__ import annotations

import copy
from typing import Any

from ndg_pipeline.config import RunParams, TrainParams, validate


def with_overrides(params: dict[str, Any], overrides: dict[str, Any]) -> RunParams:
    """``params`` (the run's nested parameters) with each dotted override set, validated. The ``study`` and
    ``controls`` groups are dropped (a cell runs no control; only the second model's seed is set apart from the
    cell's, as every run needs).
    An override naming no parameter is refused like a typo on the command line, with the closest known names."""
    cell = copy.deepcopy({key: value for key, value in params.items() if key not in ("study", "controls")})
    for dotted, value in overrides.items():
        *path, last = dotted.split(".")
        level = cell
        for part in path:
            level = level.setdefault(part, {})
            if not isinstance(level, dict):
                raise ValueError(f"study override {dotted!r}: {part!r} is a value, not a parameter group")
        level[last] = value
    cell["controls"] = {"two_models": {"seed": TrainParams.model_validate(cell.get("train", {})).seed + 1}}
    return validate(cell)
