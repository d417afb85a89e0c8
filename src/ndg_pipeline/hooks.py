"""Run-level hooks: validate parameters before anything runs, one MLflow experiment per pipeline, run tags,
and MLflow artifacts for the catalog entries marked ``mlflow_artifact: true``."""

from __future__ import annotations

import logging
from typing import Any

import mlflow
from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl
from kedro.io import DataCatalog
from kedro.io.core import get_filepath_str

from ndg_pipeline.config import validate
from ndg_pipeline.control_names import TRAINED

log = logging.getLogger(__name__)
SUMMARY_PIPELINES = frozenset({"tables"})  # they summarize earlier runs: no dataset or α of their own to tag


def pipeline_label(run_params: dict[str, Any]) -> str:
    """The pipelines a run executes, joined by '+' (``__default__`` reads as ``ndg``)."""
    names = run_params.get("pipeline_names") or ["__default__"]
    return "+".join("ndg" if name == "__default__" else name for name in names)


def control_label(run_params: dict[str, Any]) -> str:
    """The control a run computes, named after its pipelines (the ndg pipeline's graph is the ``trained`` one)."""
    return "+".join(TRAINED if name == "ndg" else name for name in pipeline_label(run_params).split("+"))


class RunSetup:
    """Validates parameters and points kedro-mlflow at the experiment of the pipeline being run."""

    def __init__(self) -> None:
        self.context: KedroContext | None = None

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        self.context = context

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        assert self.context is not None
        validate(self.context.params)
        mlflow_config = getattr(self.context, "mlflow", None)
        if mlflow_config is not None:
            mlflow_config.tracking.experiment.name = f"ndg_pipeline.{pipeline_label(run_params)}"
            mlflow_config._set_experiment()


class MlflowRunTags:
    """Tags the MLflow run with dataset, control and α so runs compare side by side in the MLflow UI."""

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        self.params = context.params

    @hook_impl(trylast=True)
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        if mlflow.active_run() is None:
            return
        params = validate(self.params)
        tags = {"control": control_label(run_params), "pipeline": pipeline_label(run_params)}
        if not set(run_params.get("pipeline_names") or []) <= SUMMARY_PIPELINES:
            tags |= {"dataset": params.data.name, "alpha": params.mine.alpha}
        mlflow.set_tags(tags)


class MlflowArtifacts:
    """Logs the file of every versioned entry marked ``mlflow_artifact: true`` once the run has saved it."""

    def __init__(self) -> None:
        self.catalog: DataCatalog | None = None

    @hook_impl
    def after_catalog_created(self, catalog: DataCatalog) -> None:
        self.catalog = catalog

    @hook_impl
    def after_dataset_saved(self, dataset_name: str) -> None:
        if self.catalog is None or mlflow.active_run() is None:
            return
        dataset = self.catalog[dataset_name]
        if not (getattr(dataset, "metadata", None) or {}).get("mlflow_artifact"):
            return
        path = get_filepath_str(dataset._get_load_path(), dataset._protocol)
        mlflow.log_artifact(path)
        log.info("logged %s to MLflow as an artifact", path)
