"""Runs that can be trusted: a mistyped parameter, a partial re-run out of step, and an interrupted run, each
through the real Kedro CLI, catalog and MLflow sqlite store."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pandas as pd
import pytest
from conftest import KEDRO, mlflow_runs, run_kedro, versions

pytestmark = pytest.mark.slow  # real kedro runs through the CLI

TINY = "data.limit=200,train.epochs=1,train.batch_size=64,mine.alpha=20"


def written_files(project) -> list:
    return [path for path in (project / "data").glob("**/*") if path.is_file() and path.name != ".gitkeep"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ("mnie.alpha=5", "mnie: unknown parameter; did you mean mine?"),
        ("mine.alpah=5", "mine.alpah: unknown parameter; did you mean alpha?"),
        ("record.position=mean", "record.position is 'mean' but node 'intervene' intervenes"),
    ],
)
def test_a_mistyped_run_stops_before_anything_is_trained_or_written(kedro_project, params, message):
    result = run_kedro(kedro_project, "run", "--pipelines=ndg", "--params", params, check=False)
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0
    assert message in output
    assert not written_files(kedro_project)
    assert not (kedro_project / "mlflow.db").exists() or mlflow_runs(kedro_project).empty


def test_a_partial_rerun_out_of_step_is_refused_and_pinning_the_version_fixes_it(kedro_project):
    run_kedro(kedro_project, "run", "--pipelines=ndg", "--params", TINY)
    first_model = versions(kedro_project, "data/06_models/model.pt")[0].parent.name
    run_kedro(kedro_project, "run", "--pipelines=ndg", "--to-nodes=train", "--params", f"{TINY},train.seed=5")
    stale = run_kedro(kedro_project, "run", "--pipelines=ndg", "--from-nodes=intervene", "--params", TINY, check=False)
    output = " ".join((stale.stdout + stale.stderr).split())
    assert stale.returncode != 0
    assert "node 'intervene' received inputs made from different models or data" in output
    assert "trained_model (version" in output and "dependency_graph (version" in output
    assert "--load-versions" in output
    assert len(versions(kedro_project, "data/08_reporting/intervention_summary.parquet")) == 1
    pinned = f"--load-versions=trained_model:{first_model},training_history:{first_model}"  # both from run 1
    run_kedro(kedro_project, "run", "--pipelines=ndg", "--from-nodes=intervene", pinned, "--params", TINY)
    summaries = versions(kedro_project, "data/08_reporting/intervention_summary.parquet")
    assert len(summaries) == 2
    first, second = (pd.read_parquet(path) for path in summaries)
    pd.testing.assert_frame_equal(first, second, check_like=True)
    assert first.attrs["lineage"] == second.attrs["lineage"]
    assert set(first.attrs["lineage"]) == {"model", "data"}


def test_sigterm_ends_the_mlflow_run_killed_and_leaves_no_half_written_entry(kedro_project):
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "DO_NOT_TRACK": "1", "MPLBACKEND": "Agg"}
    process = subprocess.Popen(
        [KEDRO, "run", "--pipelines=ndg", "--params", "data.limit=2000,train.epochs=50"],
        cwd=kedro_project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen = []
    deadline = time.monotonic() + 300
    for line in process.stdout:  # wait until training is under way
        seen.append(line)
        if "Completed node: prepare_data" in line or time.monotonic() > deadline:
            break
    time.sleep(3)
    process.send_signal(signal.SIGTERM)
    output = "".join(seen) + process.communicate(timeout=120)[0]
    assert process.returncode != 0
    assert "interrupted by SIGTERM" in output
    runs = mlflow_runs(kedro_project)
    assert runs["status"].tolist() == ["KILLED"]
    assert not versions(kedro_project, "data/06_models/model.pt")
    for path in written_files(kedro_project):  # whatever was saved is whole
        if path.suffix == ".parquet":
            pd.read_parquet(path)
