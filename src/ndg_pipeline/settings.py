"""Kedro project settings: hooks, and the config resolvers (paths pinned to the project root, merged groups)."""

import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kedro.config import OmegaConfigLoader
from kedro.utils import find_kedro_project

from ndg_pipeline.hooks import Interrupts, KilledRuns, Lineage, RunSetup
from ndg_pipeline.reporting.bundle import ReportBundle
from ndg_pipeline.run_tracking import RunTracking

# Deprecation warnings that the pinned libraries raise about each other's internals at every start, which no user of
# this project can act on (about 60 lines before a run's first log line): Kedro's config loader calling OmegaConf's
# renamed register_new_resolver, kedro-viz's ORJSONResponse. Every other warning still shows.
for _message in (r"register_new_resolver\(\) is deprecated", r"ORJSONResponse is deprecated"):
    warnings.filterwarnings("ignore", message=_message)


def project_path(relative: str = "") -> str:
    """Absolute path of ``relative`` under the Kedro project root found from the working directory."""
    root = find_kedro_project(Path.cwd()) or Path.cwd()
    return str((Path(root) / relative).resolve())


def sqlite_uri(filename: str) -> str:
    """An absolute sqlite URI at the project root, so subfolders never create a second MLflow store."""
    return f"sqlite:///{project_path(filename)}"


def merged(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with the keys of ``changes`` replaced (shallow): a parameter group reused with a few changes,
    e.g. ``${ndg.merge:${train},{seed: 1}}``, so that ``--params`` overrides of ``base`` reach the copy too."""
    return {**base, **changes}


_SETUP = RunSetup()
HOOKS = (_SETUP, RunTracking(_SETUP), Interrupts(), KilledRuns(), Lineage(_SETUP), ReportBundle())
DISABLE_HOOKS_FOR_PLUGINS = ("kedro_mlflow",)  # RunTracking is kedro-mlflow's hook, with our names, tags and params

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "custom_resolvers": {"ndg.project_path": project_path, "ndg.sqlite_uri": sqlite_uri, "ndg.merge": merged},
}
