"""A study's cells: the run's parameters with one variant's overrides applied, validated like any run's."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ndg_pipeline.config import RunParams, StudyParams, TrainParams, validate
from ndg_pipeline.errors import RunRefused


def with_overrides(params: dict[str, Any], overrides: dict[str, Any]) -> RunParams:
    """``params`` (the run's nested parameters) with each dotted override set, validated. The ``study`` and
    ``controls`` groups are dropped (a cell runs no control), and the seeds of second models (controls, the
    interaction lens's γ) are set apart from the cell's seed, as every run needs.
    An override naming no parameter is refused like a typo on the command line, with the closest known names."""
    cell = copy.deepcopy({key: value for key, value in params.items() if key not in ("study", "controls")})
    for dotted, value in overrides.items():
        *path, last = dotted.split(".")
        level = cell
        for part in path:
            level = level.setdefault(part, {})
            if not isinstance(level, dict):
                raise ValueError(f"study override {dotted!r}: {part!r} is a value, not a parameter group")
        # a group given whole is copied: the cell's later dotted overrides (model.hidden after a shared model
        # group) must not write into the study's own parameters
        level[last] = copy.deepcopy(value)
    other = TrainParams.model_validate(cell.get("train", {})).seed + 1
    cell["controls"] = {"two_models": {"seed": other}}
    cell.setdefault("interactions", {}).setdefault("second_model", {})["seed"] = other
    return validate(cell)


@dataclass(frozen=True)
class Cell:
    """One (variant, seed) of a study, with the overrides that make its run; ``index`` orders cells and names its
    task on a cluster."""

    index: int
    variant: str
    seed: int
    overrides: dict[str, Any] = field(default_factory=dict)


def plan_cells(study: StudyParams, params: dict[str, Any]) -> list[Cell]:
    """Every cell of the chosen study and preset, each checked before any is trained: valid parameters, and
    recorded layers its network has."""
    if not study.studies:
        raise ValueError("study.studies is empty; define a study in conf/base/parameters_study.yml")
    from ndg_pipeline.models import untrained_modules
    from ndg_pipeline.probe import check_sites

    cells = [Cell(index, *cell) for index, cell in enumerate(study.cells())]
    for cell in cells:
        run = with_overrides(params, cell.overrides)
        try:
            check_sites(untrained_modules(run.model.root), run.record.layers)
        except ValueError as error:
            raise RunRefused(f"study {study.name!r}, variant {cell.variant!r}: {error}") from error
    return cells


def run_cell(cell: Cell, params: dict[str, Any], lenses: Sequence[str]) -> pd.DataFrame:
    """Train and measure one cell (in this process or as a task on a Dask worker) in this process, with its own
    shard folder (cells may run at once); rows tagged with its variant and seed."""
    from ndg_pipeline.studies.measure import measure_cell

    own = {"scale.cluster": None, "scale.store": f"{params['scale']['store']}/study/cell_{cell.index:03d}"}
    rows = measure_cell(with_overrides(params, {**cell.overrides, **own}), lenses)
    return rows.assign(variant=cell.variant, seed=cell.seed)[["variant", "seed", *rows.columns]]


def run_cells(
    cells: Sequence[Cell],
    params: dict[str, Any],
    lenses: Sequence[str],
    cluster: str | None,
    workers: int = 2,
    retries: int = 2,
) -> pd.DataFrame:
    """Every cell, in this process (``cluster`` None) or as independent tasks on a Dask cluster; the same rows
    either way, in cell order."""
    from ndg_pipeline.ndg.sharding import executor

    with executor(cluster, workers, retries) as run:
        frames = run.map(run_cell, cells, "study-cell", params=params, lenses=list(lenses))
    return pd.concat(frames, ignore_index=True)
