"""Run-level hooks: parameters validated once and handed to nodes typed, one MLflow experiment per pipeline, run
tags, interrupts that end the MLflow run as KILLED, and lineage checks between a node's inputs."""

from __future__ import annotations

import contextlib
import functools
import logging
import signal
from pathlib import Path
from typing import Any

from kedro.config import MissingConfigException
from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl
from kedro.io import DataCatalog, Version
from kedro.io.core import DatasetError
from kedro.pipeline import Node, Pipeline
from pydantic import BaseModel, RootModel

from ndg_pipeline import lineage, versions
from ndg_pipeline.config import InterveneParams, RecordParams, RunParams, validate
from ndg_pipeline.control_names import TRAINED
from ndg_pipeline.errors import RunRefused
from ndg_pipeline.tracking import flatten

log = logging.getLogger(__name__)
SUMMARY_PIPELINES = frozenset({"tables"})  # they summarize earlier runs: no dataset or α of their own to tag
COMBINES_MODELS = "combines_models"  # tag of nodes that join artefacts of several models on purpose
PARAMS = "params:"
MLFLOW_CONFIG = ["mlflow*", "mlflow*/**", "**/mlflow*"]  # where kedro-mlflow reads its configuration
PARTITIONS_FIX = (
    "Fix: make them again with one setting (e.g. `kedro run --pipelines=controls` with the --params you want; each "
    "control also runs alone), or remove the stale file."
)


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
            raise RunRefused(
                f"record.position is 'mean' but node {node.name!r} intervenes: a mean over tokens cannot be "
                "written back. Set record.position to 'first' or 'last'."
            )
        records += node_records
    if records and any(node.name == "train" or node.name.endswith(".train") for node in pipeline.nodes):
        from ndg_pipeline.models import untrained_modules
        from ndg_pipeline.probe import check_sites

        model = untrained_modules(params.model.root)
        for record in records:
            try:
                check_sites(model, record.layers)
            except ValueError as error:
                raise RunRefused(str(error)) from error


def prepare_store(uri: str) -> None:
    """Create the sqlite MLflow store once, under a lock, in WAL mode, before kedro-mlflow opens it: runs started
    together on one project then share it (readers never block the writer; MLflow's own busy timeout covers
    writers) instead of racing to create its tables or failing with "database is locked"."""
    if not uri.startswith("sqlite:///"):
        return
    import fcntl
    import sqlite3

    import mlflow

    path = Path(uri.removeprefix("sqlite:///"))
    # A lock file beside the store, never the store itself: closing any descriptor of the database file drops
    # every POSIX lock sqlite holds on it in this process, and another run closing its last connection then
    # checkpoints and deletes the WAL under this one's open connections (a malformed store).
    with path.with_name(f"{path.name}.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            mlflow.MlflowClient(tracking_uri=uri).search_experiments(max_results=1)  # creates the tables if new
            with contextlib.closing(sqlite3.connect(path, timeout=60)) as store:
                store.execute("PRAGMA journal_mode=WAL")
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


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
        loader = context.config_loader
        loader.config_patterns.setdefault("mlflow", MLFLOW_CONFIG)
        try:
            prepare_store(loader["mlflow"].get("server", {}).get("mlflow_tracking_uri") or "")
        except MissingConfigException:  # no mlflow.yml: kedro-mlflow's defaults, no sqlite store
            return

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
    left half-written).

    A signal that lands inside a finalizer (``__del__``, a weakref callback) has its exception printed and dropped
    by Python, so the error is raised again every :attr:`retry_s` seconds until Kedro reports it."""

    retry_s = 0.5

    def __init__(self) -> None:
        self.previous: dict[int, Any] = {}
        self.saving = 0
        self.pending: int | None = None  # a signal received and not yet seen by Kedro

    def _raise(self, signum: int, _frame: Any) -> None:
        self.pending = signum
        if self.saving:
            return
        signal.setitimer(signal.ITIMER_REAL, self.retry_s)
        raise RunInterrupted(f"the run was interrupted by {signal.Signals(signum).name}")

    def _retry(self, _signum: int, _frame: Any) -> None:
        if self.pending is not None:
            self._raise(self.pending, None)

    def _delivered(self, error: Exception) -> None:
        if isinstance(error, RunInterrupted) and self.previous:
            signal.setitimer(signal.ITIMER_REAL, 0)
            self.pending = None

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self) -> None:
        self.pending, self.saving = None, 0
        handlers = {signal.SIGINT: self._raise, signal.SIGTERM: self._raise, signal.SIGALRM: self._retry}
        for signum, handler in handlers.items():
            try:
                self.previous[signum] = signal.signal(signum, handler)
            except ValueError:  # not the main thread: leave the handlers alone
                return

    @hook_impl
    def before_dataset_saved(self) -> None:
        self.saving += 1

    @hook_impl
    def after_dataset_saved(self) -> None:
        self.saving -= 1
        if not self.saving and self.pending is not None:
            self._raise(self.pending, None)

    @hook_impl(tryfirst=True)
    def on_node_error(self, error: Exception) -> None:
        self._delivered(error)

    def _restore(self) -> None:
        if self.previous:
            signal.setitimer(signal.ITIMER_REAL, 0)
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)
        self.previous.clear()

    @hook_impl
    def after_pipeline_run(self) -> None:
        self._restore()

    @hook_impl(tryfirst=True)
    def on_pipeline_error(self, error: Exception) -> None:
        self._delivered(error)
        self._restore()


class KilledRuns:
    """Marks the MLflow run of an interrupted pipeline KILLED once kedro-mlflow has closed it as FAILED."""

    @hook_impl(trylast=True)
    def on_pipeline_error(self, error: Exception) -> None:
        if not isinstance(error, RunInterrupted):
            return
        import mlflow

        run = mlflow.last_active_run()
        if run is not None:
            mlflow.MlflowClient().set_terminated(run.info.run_id, "KILLED")
            log.warning("MLflow run %s marked KILLED: %s", run.info.run_id, error)


@functools.cache
def all_pipelines() -> Pipeline:
    """Every registered pipeline in one (identical nodes once): where each entry is made, and from what."""
    from kedro.framework.project import pipelines

    return sum((pipe for name, pipe in pipelines.items() if name != "__default__"), Pipeline([]))


@functools.cache
def entry_parameters(name: str) -> tuple[str, ...]:
    """The parameters catalog entry ``name`` is made from (its node's and those of every node upstream)."""
    return tuple(versions.upstream_parameters(all_pipelines(), name))


def run_settings(params: RunParams, name: str) -> dict[str, Any]:
    """This run's values of the parameters entry ``name`` is made from, as its versions' records keep them."""
    return {key: versions.setting_value(typed_parameter(params, key)) for key in entry_parameters(name)}


def rebuild_command(every: Pipeline, name: str, run_params: dict[str, Any]) -> str:
    """The command that makes a new version of ``name`` with this run's parameters."""
    from kedro.framework.project import pipelines

    # the node that makes ``name``; else those that make it as ``<namespace>.<name>`` (each control's partition of
    # control_results), not the namespaced copies of an entry a plain node makes (two_models.trained_model)
    makers = {node.name for node in every.nodes if name in node.outputs} or {
        node.name for node in every.nodes if any(out.endswith(f".{name}") for out in node.outputs)
    }
    found = [key for key, pipe in pipelines.items() if key != "__default__" and makers <= {n.name for n in pipe.nodes}]
    where = found[0] if makers and found else "__default__"
    return f"`{run_command(run_params, where)}`"


SELECTION = (("--nodes", "node_names"), ("--from-nodes", "from_nodes"), ("--to-nodes", "to_nodes"), ("--tags", "tags"))


def run_command(run_params: dict[str, Any], pipeline: str | None = None) -> str:
    """``kedro run`` with this run's ``--env`` and ``--params``: for ``pipeline``, or (without it) as this run was
    started, with its pipelines, node selection and pinned versions, so the MLflow tag reproduces the run."""
    parts = ["kedro run"]
    if pipeline is not None:
        parts.append(f"--pipelines={pipeline}")
    else:
        names = [name for name in run_params.get("pipeline_names") or [] if name != "__default__"]
        parts += [f"--pipelines={','.join(names)}"] if names else []
        parts += [f"{option}={','.join(run_params[key])}" for option, key in SELECTION if run_params.get(key)]
        pinned = run_params.get("load_versions") or {}
        parts += [f"--load-versions={','.join(f'{k}:{v}' for k, v in pinned.items())}"] if pinned else []
    env = run_params.get("env")
    parts += [f"--env={env}"] if env and env != "local" else []
    given = ",".join(f"{key}={value}" for key, value in flatten(run_params.get("runtime_params") or {}).items())
    parts += [f'--params "{given}"'] if given else []
    return " ".join(parts)


def missing_version(folder: Path, wanted: dict[str, Any]) -> str:
    """Why an entry has no version made with this run's parameters: none at all, or what the newest was made with."""
    newest = versions.versions(folder)
    if not newest:
        return "no saved version yet"
    record = versions.read_record(folder / newest[0])
    if record is None:
        return f"no version made with this run's parameters; the newest ({newest[0]}) has no lineage record"
    diff = versions.differences(record.get("settings", {}), wanted)
    made = ", ".join(f"{key}={old!r} (this run: {new!r})" for key, (old, new) in list(diff.items())[:3])
    return f"no version made with this run's parameters; the newest ({newest[0]}) was made with {made}"


def missing_versions(missing: dict[str, tuple[str, str]]) -> list[str]:
    """The refusal lines for entries without a usable version, those with one cause and fix on one line."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for name, cause_and_fix in missing.items():
        grouped.setdefault(cause_and_fix, []).append(name)
    return [
        f"{', '.join(names)}: {cause}.\n    Fix: make {'them' if len(names) > 1 else 'it'} with {command}, or pin "
        f"saved versions with --load-versions={names[0]}:<version>,… (each entry's versions are the folders "
        "under its filepath in conf/base/catalog*.yml)."
        for (cause, command), names in grouped.items()
    ]


def pin(catalog: DataCatalog, name: str, version: Version) -> None:
    """Make ``catalog`` load ``version`` of entry ``name`` (as ``--load-versions`` would; Kedro's notice that the
    entry is replaced is left out: the run logs which version it loads)."""
    logger = logging.getLogger("kedro.io.data_catalog")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        catalog[name] = catalog.get(name, version=version)
    finally:
        logger.setLevel(level)


def lineage_text(found: dict[str, str]) -> str:
    """``model 1a2b…, data 3c4d…`` for a log line."""
    return ", ".join(f"{key} {value}" for key, value in found.items() if key in (lineage.MODEL, lineage.DATA))


def ignored(node: Node, *keys: str) -> set[str]:
    """Lineage keys not compared between a node's inputs: ``keys``, and the model where the node combines models
    on purpose (their data must still agree)."""
    return {*keys, *((lineage.MODEL,) if COMBINES_MODELS in node.tags else ())}


def out_of_step(pipeline: Pipeline, loaded: dict[str, dict[str, str]]) -> list[str]:
    """For each node reading several loaded versions, the model or data they disagree on (before anything runs)."""
    problems = []
    for node in pipeline.nodes:
        read = {
            name: {key: value for key, value in loaded[name].items() if key not in ignored(node, "version")}
            for name in node.inputs
            if name in loaded
        }
        for key, values in lineage.conflicts(read).items():
            problem = (
                f"node {node.name!r} would read inputs made from different {key}: "
                + ", ".join(f"{name} (version {loaded[name]['version']}) ← {value}" for name, value in values.items())
                + ". Pin versions made together with --load-versions=<entry>:<version>,… or re-run the stale stage."
            )
            if problem not in problems:
                problems.append(problem)
    return problems


def entry_folder(catalog: DataCatalog, name: str) -> Path | None:
    """Where the versions of catalog entry ``name`` lie (None: not a local versioned entry)."""
    found = versions.local_folder(catalog.config_resolver.resolve_pattern(name) or {})
    return versions.project_root() / found if found is not None else None


def choose_versions(
    catalog: DataCatalog,
    params: RunParams,
    names: list[str],
    run_params: dict[str, Any],
    pins: dict[str, str] | None = None,
    save_version: str | None = None,
) -> tuple[dict[str, lineage.Lineage], list[str]]:
    """Point ``catalog`` at the newest version of each versioned entry in ``names`` made with ``params`` (``pins``
    kept) and check its files against its record; the lineage of each version chosen (with its ``version``), and
    the problems: entries with no such version, files changed since they were saved."""
    every = all_pipelines()
    pins = pins or {}
    problems: list[str] = []
    missing: dict[str, tuple[str, str]] = {}
    loaded: dict[str, lineage.Lineage] = {}
    for name in names:
        folder = entry_folder(catalog, name)
        if folder is None:
            files = versions.partition_files(catalog.config_resolver.resolve_pattern(name) or {})
            problems += [f"{name}: {problem}" for problem in versions.partition_problems(files, PARTITIONS_FIX)]
            continue
        wanted = run_settings(params, name)
        version = pins.get(name) or versions.choose(folder, wanted)
        if version is None:
            missing[name] = (missing_version(folder, wanted), rebuild_command(every, name, run_params))
            continue
        if not (folder / version).is_dir():
            saved = ", ".join(versions.versions(folder)[:3]) or "none yet"
            problems.append(f"{name}: --load-versions pins version {version}, which was never saved (newest: {saved}).")
            continue
        if name not in pins:
            pin(catalog, name, Version(version, save_version))
        record = versions.read_record(folder / version)
        if record is None:
            continue
        changed = versions.changed_files(folder / version, record)
        if changed:
            problems.append(
                f"{name} (version {version}): {folder / version / changed[0]} is corrupt or truncated (it "
                f"differs from the file saved then). Rebuild it: {rebuild_command(every, name, run_params)}"
            )
        loaded[name] = {**record.get("lineage", {}), "version": version}
    return loaded, missing_versions(missing) + problems


def load_setting(catalog: DataCatalog, context: KedroContext, names: list[str], setting: str = "") -> None:
    """For a notebook: point ``catalog`` at the newest version of each entry in ``names`` made with the project's
    parameters plus ``setting`` (``--params`` text, the one given to ``%reload_kedro``), as a run would load them,
    and print which version and fingerprints each is; refuse, as a run does, when one has no such version."""
    params = validate(context.config_loader["parameters"])
    overrides = dict(item.split("=", 1) for item in setting.split(",") if item)
    run_params = {"pipeline_names": ["notebook"], "env": context.env, "runtime_params": overrides}
    loaded, problems = choose_versions(catalog, params, names, run_params)
    made_with = f"the project's parameters and {setting}" if setting else "the project's parameters"
    if problems:
        raise RunRefused(
            f"this notebook would load saved versions not made with {made_with}:\n"
            + "\n".join(f"  {problem}" for problem in problems)
        )
    for name, found in loaded.items():
        fingerprints = f" ({lineage_text(found)})" if lineage_text(found) else ""
        print(f"{name}: version {found['version']}, made with {made_with}{fingerprints}")


def made_here(pipeline: Pipeline, pins: dict[str, str]) -> list[str]:
    """Refusals for pins of entries this run makes itself: Kedro would load the pinned version only after the
    node that makes the entry has run, and fail there if it does not exist."""
    problems = []
    for name in sorted(set(pins) & pipeline.all_outputs()):
        maker = next(node.name for node in pipeline.nodes if name in node.outputs)
        readers = ",".join(node.name for node in pipeline.nodes if name in node.inputs)
        start = f"`--from-nodes={readers}`" if readers else "a pipeline that reads it"
        problems.append(
            f"{name}: --load-versions pins an entry this run makes itself (node {maker!r}). Start after it "
            f"({start}, same --load-versions), or drop the pin."
        )
    return problems


class Lineage:
    """Chooses, records and checks what a run loads and saves (``ndg_pipeline.versions``).

    Before the run: each versioned entry it loads is set to the newest version made with this run's parameters
    (``--load-versions`` pins override), its files are checked against their recorded checksums, and the entries
    each node reads must come from the same model and data; otherwise the run is refused before any work. During
    the run: a node's inputs must agree, and its outputs are stamped with their lineage (that of the inputs, where
    a new model or data split among the outputs replaces the one it came from: ``train``, ``randomize``,
    ``random_inputs``); every version saved gets its record. A failed or interrupted run removes the versions it
    left without a record, and every version of the node whose outputs it did not finish saving.
    """

    def __init__(self, setup: RunSetup) -> None:
        self.setup = setup
        self.catalog: DataCatalog | None = None
        self.pins: dict[str, str] = {}
        self.save_version: str | None = None
        self.made: dict[str, lineage.Lineage] = {}  # per node that ran: the lineage of its outputs
        self.known: dict[str, lineage.Lineage] = {}  # per entry loaded or made: its whole lineage (a model's data too)
        self.unsaved: dict[str, set[str]] = {}  # per node that ran: its versioned outputs not yet recorded
        self.run_params: dict[str, Any] = {}
        self.busy: tuple[str, str, Node] | None = None  # ("loading" | "saving", entry, node) while it happens

    @hook_impl
    def after_catalog_created(
        self, catalog: DataCatalog, load_versions: dict[str, str] | None, save_version: str | None
    ) -> None:
        self.catalog, self.pins, self.save_version = catalog, dict(load_versions or {}), save_version

    def folder(self, name: str) -> Path | None:
        """Where the versions of catalog entry ``name`` lie (None: not a local versioned entry)."""
        return entry_folder(self.catalog, name) if self.catalog is not None else None

    def _version(self, name: str) -> str:
        dataset = self.catalog.get(name) if self.catalog is not None else None
        resolve = getattr(dataset, "resolve_load_version", None)
        version = resolve() if resolve is not None else None
        return f" (version {version})" if version else ""

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Pipeline, catalog: DataCatalog) -> None:
        self.made, self.unsaved, self.run_params, self.known = {}, {}, run_params, {}
        params = self.setup.params
        if params is None:
            return
        loaded, problems = choose_versions(
            catalog, params, sorted(pipeline.inputs()), run_params, self.pins, self.save_version
        )
        problems += out_of_step(pipeline, loaded) + made_here(pipeline, self.pins)
        if problems:
            raise RunRefused(
                f"this run ({pipeline_label(run_params)}) would load saved versions it cannot use:\n"
                + "\n".join(f"  {problem}" for problem in problems)
            )
        self.known = {name: {k: v for k, v in found.items() if k != "version"} for name, found in loaded.items()}
        for name, found in loaded.items():
            log.info("Loading %s version %s (%s)", name, found["version"], lineage_text(found))

    @hook_impl(trylast=True)
    def before_node_run(self, node: Node, inputs: dict[str, Any]) -> None:
        skipped = ignored(node)
        found = lineage.conflicts(
            {name: {k: v for k, v in lineage.read(value).items() if k not in skipped} for name, value in inputs.items()}
        )
        if not found:
            return
        lines = [
            f"  {key}: " + ", ".join(f"{name}{self._version(name)} ← {value}" for name, value in values.items())
            for key, values in found.items()
        ]
        raise RunRefused(
            f"node {node.name!r} received inputs made from different models or data:\n"
            + "\n".join(lines)
            + "\nA partial run left them out of step. Re-run from the earliest stale stage, e.g. "
            "`kedro run --pipelines=ndg --from-nodes=record_activations`, or pin matching versions with "
            "`kedro run --load-versions=<entry>:<version>,…`."
        )

    @hook_impl
    def after_node_run(self, node: Node, inputs: dict[str, Any], outputs: dict[str, Any]) -> None:
        inherited = lineage.merge(self.known.get(name, {}) | lineage.read(value) for name, value in inputs.items())
        own = lineage.merge(lineage.read(value) for value in outputs.values())
        self.made[node.name] = inherited | own
        self.known |= {name: inherited | own for name in outputs}
        self.unsaved[node.name] = {name for name in outputs if self.folder(name) is not None}
        for value in outputs.values():
            lineage.stamp(value, inherited | own)

    @hook_impl
    def before_dataset_loaded(self, dataset_name: str, node: Node) -> None:
        self.busy = ("loading", dataset_name, node)

    @hook_impl
    def after_dataset_loaded(self) -> None:
        self.busy = None

    @hook_impl
    def before_dataset_saved(self, dataset_name: str, node: Node) -> None:
        self.busy = ("saving", dataset_name, node)

    @hook_impl(tryfirst=True)
    def after_dataset_saved(self, dataset_name: str, data: Any, node: Node) -> None:
        self.busy = None
        folder = self.folder(dataset_name)
        params = self.setup.params
        if params is None or self.catalog is None:
            return
        wanted = run_settings(params, dataset_name)
        made = self.made.get(node.name, {})
        if folder is None:
            config = self.catalog.config_resolver.resolve_pattern(dataset_name) or {}
            if versions.partition_files(config) and isinstance(data, dict):
                for key in data:
                    versions.write_partition_record(versions.partition_file(config, key), dataset_name, wanted, made)
            return
        if self.save_version is None:
            return
        versions.write_record(folder / self.save_version, dataset_name, wanted, made)
        self.unsaved.get(node.name, set()).discard(dataset_name)

    @hook_impl
    def on_pipeline_error(self, error: Exception, pipeline: Pipeline) -> None:
        if self.busy is not None and isinstance(error, DatasetError | OSError):
            doing, name, node = self.busy
            note = f"(node {node.name!r}, {doing} catalog entry {name!r}"
            if doing == "loading":
                note += f"; rebuild it with {rebuild_command(all_pipelines(), name, self.run_params)}"
            error.add_note(note + ")")
        self.busy = None
        if self.save_version is None:
            return
        doomed = []
        for node in pipeline.nodes:
            broken = bool(self.unsaved.get(node.name))
            for name in node.outputs:
                folder = self.folder(name)
                if folder is None:
                    continue
                version = folder / self.save_version
                if broken or versions.read_record(version) is None:
                    doomed.append(version)
        for removed in versions.remove_versions(doomed):
            log.warning("Removed %s: the run stopped before it was whole.", removed)
