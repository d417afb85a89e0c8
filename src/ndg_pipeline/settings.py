"""Kedro project settings: hooks, and the config resolvers that pin paths to the project root."""

from pathlib import Path

from kedro.config import OmegaConfigLoader
from kedro.utils import find_kedro_project

from ndg_pipeline.hooks import MlflowArtifacts, MlflowRunTags, RunSetup


def project_path(relative: str = "") -> str:
    """Absolute path of ``relative`` under the Kedro project root found from the working directory."""
    root = find_kedro_project(Path.cwd()) or Path.cwd()
    return str((Path(root) / relative).resolve())


def sqlite_uri(filename: str) -> str:
    """An absolute sqlite URI at the project root, so subfolders never create a second MLflow store."""
    return f"sqlite:///{project_path(filename)}"


HOOKS = (RunSetup(), MlflowRunTags(), MlflowArtifacts())

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "custom_resolvers": {"ndg.project_path": project_path, "ndg.sqlite_uri": sqlite_uri},
}
