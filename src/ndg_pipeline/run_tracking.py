"""How a run reads in the MLflow UI: its name (pipeline · dataset · seed), the tags a researcher filters on
(pipeline, control, dataset, α, seed, git commit), and each parameter once, under its dotted name.

kedro-mlflow's own hook is replaced by :class:`RunTracking`, a subclass that keeps everything it does (start and
end the run, the metric and artifact datasets) but names the run and logs parameters differently: Kedro hands
nodes their parameter groups as validated objects, which kedro-mlflow would log as one repr per group
(``mine = alpha=100.0 chunk_rows=…``). Metrics follow one convention, stated in the README: names start with
their lens (``train.``, ``graph.``, ``intervention.``, ``interactions.``, ``ei.``, ``timeline.``).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.io import DataCatalog
from kedro.pipeline import Node, Pipeline
from kedro_mlflow.framework.hooks import MlflowHook
from pydantic import BaseModel

from ndg_pipeline.config import RunParams
from ndg_pipeline.hooks import PARAMS, SUMMARY_PIPELINES, RunSetup, control_label, pipeline_label, run_command
from ndg_pipeline.tracking import flatten

UNKNOWN_COMMIT = "unknown (not a git checkout)"
OBJECT_REPR = re.compile(r"<([\w.]+) object at 0x[0-9a-fA-F]+>")


def git_commit(project: Path) -> str:
    """The project's commit (``git describe --always --dirty``: a short hash, ``-dirty`` with uncommitted changes)."""
    try:
        found = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=12"],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return UNKNOWN_COMMIT
    return found.stdout.strip() if found.returncode == 0 and found.stdout.strip() else UNKNOWN_COMMIT


def is_summary(run_params: Mapping[str, Any]) -> bool:
    """Whether the run only summarizes earlier runs (no dataset, α or seed of its own)."""
    names = set(run_params.get("pipeline_names") or [])
    return bool(names) and names <= SUMMARY_PIPELINES


def run_name(run_params: Mapping[str, Any], params: RunParams) -> str:
    """``default · mnist_sample · seed 0``; a control run is named by its control (``random_model · …``), a study
    by its study and preset (``study · dropout · quick``: its cells carry the datasets and seeds)."""
    label = pipeline_label(run_params)
    if is_summary(run_params):
        return label
    if label == "study":
        return f"{label} · {params.study.name} · {params.study.preset}"
    return f"{label} · {params.data.name} · seed {params.train.seed}"


def tag_value(value: Any) -> str:
    """A run parameter as a tag value: lists and mappings as JSON, objects (the runner) by their class name, also
    when Kedro hands them over as their repr (``<kedro.runner.SequentialRunner object at 0x…>``)."""
    if isinstance(value, str):
        return OBJECT_REPR.sub(lambda found: found.group(1).rpartition(".")[2], value)
    if isinstance(value, int | float | bool):
        return str(value)
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, default=str)
    return type(value).__name__


def is_disabled(run_params: Mapping[str, Any], disabled: list[str]) -> bool:
    """Whether ``mlflow.yml`` (``tracking.disable_tracking.pipelines``) turns tracking off for every pipeline run."""
    names = run_params.get("pipeline_names") or ["__default__"]
    return all(name in disabled for name in names)


def param_value(value: Any) -> str:
    """A parameter as MLflow shows it: strings as they are, anything else as JSON (``20.0``, ``null``, ``["a"]``)."""
    return value if isinstance(value, str) else json.dumps(value)


def node_params(inputs: Mapping[str, Any]) -> dict[str, str]:
    """A node's ``params:`` inputs (validated objects or plain values), flattened to dotted names."""
    groups: dict[str, Any] = {}
    for name, value in inputs.items():
        if name.startswith(PARAMS):
            groups[name.removeprefix(PARAMS)] = value.model_dump(mode="json") if isinstance(value, BaseModel) else value
    return {key: param_value(value) for key, value in flatten(groups).items()}


class RunTracking(MlflowHook):
    """kedro-mlflow's hook with the project's run names, tags and parameter logging; reads the parameters that
    :class:`~ndg_pipeline.hooks.RunSetup` validated."""

    def __init__(self, setup: RunSetup) -> None:
        super().__init__()
        self.setup = setup
        self.logged: dict[str, str] = {}
        self.tracked = False

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Pipeline, catalog: DataCatalog) -> None:
        params = self.setup.params
        if params is not None:
            self.mlflow_config.tracking.run.name = run_name(run_params, params)
        self.logged = {}
        super().before_pipeline_run(run_params, pipeline, catalog)
        import mlflow

        disabled = is_disabled(run_params, self.mlflow_config.tracking.disable_tracking.pipelines)
        self.tracked = not disabled and mlflow.active_run() is not None
        if not self.tracked:
            return
        tags = {key: tag_value(value) for key, value in run_params.items() if value}
        tags |= {
            "pipeline": pipeline_label(run_params),
            "control": control_label(run_params),
            "git_commit": git_commit(Path(run_params.get("project_path") or Path.cwd())),
            "kedro_command": run_command(run_params),
        }
        if params is not None and not is_summary(run_params):
            tags |= {"dataset": params.data.name, "alpha": str(params.mine.alpha), "seed": str(params.train.seed)}
        mlflow.set_tags(tags)

    @hook_impl
    def before_node_run(self, node: Node, catalog: DataCatalog, inputs: dict[str, Any], is_async: bool) -> None:
        """kedro-mlflow's per-node step without its parameter logging, then each new parameter once."""
        super().before_node_run(node, catalog, {}, is_async)
        if not self.tracked:
            return
        import mlflow

        new = {key: value for key, value in node_params(inputs).items() if key not in self.logged}
        if new and mlflow.active_run() is not None:
            mlflow.log_params(new)
            self.logged |= new
