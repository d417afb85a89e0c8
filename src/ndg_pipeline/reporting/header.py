"""The header every report opens with: which run made it (MLflow run id, start time, git commit, pipeline) and
from which model and data (their lineage fingerprints). A report's template shows it with the ``run_header`` macro
of ``macros.html.j2``; the links to the run's other reports are filled in by :mod:`ndg_pipeline.reporting.bundle`
where the macro leaves :data:`BUNDLE_MARKER`."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import jinja2

from ndg_pipeline.lineage import DATA, MODEL

BUNDLE_MARKER = "<!-- links to this run's other reports -->"
NOT_TRACKED = "not tracked (MLflow was off for this run)"
LINEAGE_LABELS = {MODEL: "model weights fingerprint", DATA: "data split fingerprint"}


@dataclass(frozen=True)
class RunHeader:
    """What identifies a report's run; ``identity`` varies between runs, ``fingerprints`` only with the inputs."""

    identity: dict[str, str]
    fingerprints: dict[str, str] = field(default_factory=dict)


def lineage_items(lineage: Mapping[str, str]) -> dict[str, str]:
    """The run's fingerprints with readable names: model weights, then data split, then any other."""
    ordered = [key for key in LINEAGE_LABELS if key in lineage] + [key for key in lineage if key not in LINEAGE_LABELS]
    return {LINEAGE_LABELS.get(key, f"{key} fingerprint"): str(lineage[key]) for key in ordered}


def run_identity() -> dict[str, str]:
    """MLflow run id, start time (UTC), git commit and pipeline of the active run (tags set by
    :class:`ndg_pipeline.run_tracking.RunTracking`); says so when no run is active."""
    import mlflow

    run = mlflow.active_run()
    if run is None:
        return {"MLflow run": NOT_TRACKED}
    run = mlflow.get_run(run.info.run_id)  # the active run object does not see tags set after it started
    started = datetime.fromtimestamp(run.info.start_time / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    tags = run.data.tags
    return {
        "MLflow run": f"{run.info.run_name} ({run.info.run_id})",
        "started": started,
        "git commit": tags.get("git_commit", "–"),
        "pipeline": tags.get("pipeline", "–"),
    }


def run_header(lineage: Mapping[str, str]) -> RunHeader:
    """The header of a report made in this run from inputs with ``lineage`` (``ndg_pipeline.lineage.read``)."""
    return RunHeader(run_identity(), lineage_items(lineage))


@functools.cache
def template_environment(
    package: str = "ndg_pipeline.reporting", folder: str = "templates", strict: bool = True
) -> jinja2.Environment:
    """A report's templates (``folder`` of ``package``) beside the shared macros (table, page style, run header),
    autoescaped, built once; with ``strict`` an undefined name in a template is an error."""
    loaders = [jinja2.PackageLoader(package, folder)]
    if (package, folder) != ("ndg_pipeline.reporting", "templates"):
        loaders.append(jinja2.PackageLoader("ndg_pipeline.reporting", "templates"))
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        undefined=jinja2.StrictUndefined if strict else jinja2.Undefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
