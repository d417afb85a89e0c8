"""Run-level hooks: parameters validated once and handed to nodes typed, one MLflow experiment per pipeline, run
tags, interrupts that end the MLflow run as KILLED, and lineage checks between a node's inputs."""

from __future__ import annotations

import logging
import signal
from typing import Any

from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl
from kedro.io import DataCatalog
from kedro.pipeline import Node, Pipeline
from pydantic import BaseModel, RootModel

from ndg_pipeline import lineage
from ndg_pipeline.config import InterveneParams, RecordParams, RunParams, validate
from ndg_pipeline.control_names import TRAINED

log = logging.getLogger(__name__)
SUMMARY_PIPELINES = frozenset({"tables"})  # they summarize earlier runs: no dataset or α of their own to tag
COMBINES_MODELS = "combines_models"  # tag of nodes that join artefacts of several models on purpose
PARAMS = "params:"


def pipeline_label(run_params: dict[str, Any]) -> str:
    """The pipelines a run executes, joined by '+' (``__default__`` reads as ``default``)."""
    names = run_params.get("pipeline_names") or ["__default__"]
    return "+".join("default" if name == "__default__" else name for name in names)


def control_label(run_params: dict[str, Any]) -> str:
    """The control a run computes, named after its pipelines (the ndg pipeline's graph is the ``trained`` one)."""
    return "+".join(TRAINED if name in ("ndg", "default") else name for name in pipeline_label(run_params).split("+"))


def typed_parameter(params: RunParams, name: str) -> Any:
    """The validated value of ``params:a.b`` (a parameter group as its typed object) or of ``parameters``."""
    if name == "parameters":
        return params
    value: Any = params
    for part in name.removeprefix(PARAMS).split("."):
        value = value[part] if isinstance(value, dict) else getattr(value, part)
    return value.root if isinstance(value, RootModel) else value


def node_parameters(node: Node, params: RunParams) -> dict[str, Any]:
    """The parameter inputs of ``node`` (``params:…`` and ``parameters``), each as its validated value."""
    return {
        name: typed_parameter(params, name) for name in node.inputs if name.startswith(PARAMS) or name == "parameters"
    }


def check_run(params: RunParams, pipeline: Pipeline) -> None:
    """Refuse, before anything runs, what would fail late: a mean position where the run intervenes, and a
    recorded layer the configured model does not have (checked on the untrained model)."""
    records = []
    for node in pipeline.nodes:
        groups = [value for value in node_parameters(node, params).values() if isinstance(value, BaseModel)]
        node_records = [group for group in groups if isinstance(group, RecordParams)]
        intervenes = any(isinstance(group, InterveneParams) for group in groups)
        if intervenes and any(record.position == "mean" for record in node_records):
            raise ValueError(
                f"record.position is 'mean' but node {node.name!r} intervenes: a mean over tokens cannot be "
                "written back. Set record.position to 'first' or 'last'."
            )
        records += node_records
    if records and any(node.name == "train" or node.name.endswith(".train") for node in pipeline.nodes):
        from ndg_pipeline.models import untrained_modules
        from ndg_pipeline.probe import check_sites

        model = untrained_modules(params.model.root)
        for record in records:
            check_sites(model, record.layers)


class RunSetup:
    """Validates the parameters once per run, checks the run, and points kedro-mlflow at the pipeline's
    experiment; nodes then receive each parameter group as its typed object."""

    def __init__(self) -> None:
        self.context: KedroContext | None = None
        self.params: RunParams | None = None

    @hook_impl(tryfirst=True)
    def after_context_created(self, context: KedroContext) -> None:
        """Validate the raw configuration (runtime ``--params`` merged) before Kedro or a plugin reads it."""
        self.context = context
        self.params = validate(context.config_loader["parameters"])

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Pipeline) -> None:
        assert self.context is not None and self.params is not None
        check_run(self.params, pipeline)
        mlflow_config = getattr(self.context, "mlflow", None)
        if mlflow_config is not None:
            mlflow_config.tracking.experiment.name = f"ndg_pipeline.{pipeline_label(run_params)}"
            mlflow_config.setup(self.context)

    @hook_impl
    def before_node_run(self, node: Node) -> dict[str, Any] | None:
        if self.params is None:
            return None
        return node_parameters(node, self.params) or None


class RunInterrupted(Exception):
    """Ctrl-C or SIGTERM during a run: raised as an ordinary error so the run ends through Kedro's error hooks."""


class Interrupts:
    """Turns SIGINT/SIGTERM into :class:`RunInterrupted` (deferred while a dataset is being saved, so no entry is
    left half-written) and marks the MLflow run KILLED once kedro-mlflow has closed it."""

    def __init__(self) -> None:
        self.previous: dict[int, Any] = {}
        self.saving = 0
        self.pending: int | None = None

    def _raise(self, signum: int, _frame: Any) -> None:
        if self.saving:
            self.pending = signum
            return
        raise RunInterrupted(f"the run was interrupted by {signal.Signals(signum).name}")

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self) -> None:
        self.pending, self.saving = None, 0
        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                self.previous[signum] = signal.signal(signum, self._raise)
            except ValueError:  # not the main thread: leave the handlers alone
                return

    @hook_impl
    def before_dataset_saved(self) -> None:
        self.saving += 1

    @hook_impl
    def after_dataset_saved(self) -> None:
        self.saving -= 1
        if not self.saving and self.pending is not None:
            signum, self.pending = self.pending, None
            self._raise(signum, None)

    def _restore(self) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)
        self.previous.clear()

    @hook_impl
    def after_pipeline_run(self) -> None:
        self._restore()

    @hook_impl(trylast=True)
    def on_pipeline_error(self, error: Exception) -> None:
        self._restore()
        if not isinstance(error, RunInterrupted):
            return
        import mlflow

        run = mlflow.last_active_run()  # kedro-mlflow has just ended it as FAILED
        if run is not None:
            mlflow.MlflowClient().set_terminated(run.info.run_id, "KILLED")
            log.warning("MLflow run %s marked KILLED: %s", run.info.run_id, error)


class Lineage:
    """Checks that a node's inputs come from the same model and data, and stamps its outputs with their lineage:
    that of the inputs, where a new model or data split among the outputs replaces the model or data it came
    from (``train``, ``randomize``, ``random_inputs``)."""

    def __init__(self) -> None:
        self.catalog: DataCatalog | None = None

    @hook_impl
    def after_catalog_created(self, catalog: DataCatalog) -> None:
        self.catalog = catalog

    def _version(self, name: str) -> str:
        dataset = self.catalog.get(name) if self.catalog is not None else None
        resolve = getattr(dataset, "resolve_load_version", None)
        version = resolve() if resolve is not None else None
        return f" (version {version})" if version else ""

    @hook_impl(trylast=True)
    def before_node_run(self, node: Node, inputs: dict[str, Any]) -> None:
        if COMBINES_MODELS in node.tags:
            return
        found = lineage.conflicts({name: lineage.read(value) for name, value in inputs.items()})
        if not found:
            return
        lines = [
            f"  {key}: " + ", ".join(f"{name}{self._version(name)} ← {value}" for name, value in values.items())
            for key, values in found.items()
        ]
        raise ValueError(
            f"node {node.name!r} received inputs made from different models or data:\n"
            + "\n".join(lines)
            + "\nA partial run left them out of step. Re-run from the earliest stale stage, e.g. "
            "`kedro run --pipelines=ndg --from-nodes=record_activations`, or pin matching versions with "
            "`kedro run --load-versions=<entry>:<version>,…`."
        )

    @hook_impl
    def after_node_run(self, node: Node, inputs: dict[str, Any], outputs: dict[str, Any]) -> None:
        inherited = lineage.merge(lineage.read(value) for value in inputs.values())
        own = lineage.merge(lineage.read(value) for value in outputs.values())
        for value in outputs.values():
            lineage.stamp(value, inherited | own)
