"""Runs that can be trusted, through the real Kedro CLI, catalog, files and MLflow sqlite store: a mistyped
parameter, what each pipeline loads (chosen by its own parameters, refused when none matches or when versions
are out of step), corrupt files, a failing save, interrupts, and two runs at once on one project."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import KEDRO, make_project, mlflow_runs, run_kedro, versions

from ndg_pipeline.hooks import Interrupts, RunInterrupted

pytestmark = pytest.mark.slow  # real kedro runs through the CLI

TINY = "data.limit=200,train.epochs=1,train.batch_size=64,mine.alpha=20"
# a tiny model that still classifies some inputs of every class correctly (the interaction lens needs them)
GOOD = (
    "data.limit=600,model.dropout=0.0,model.hidden_dropout=0.0,model.decoder_dropout=0.0,train.epochs=3,"
    "train.learning_rate=0.003,mine.alpha=5"
)
INTERACTIONS = "interactions.samples_per_class=1,interactions.split.iterations=200,interactions.report.samples_shown=1"
EI = "effective_information.model_layers.samples=500,effective_information.model_layers.sensitivity_samples=100"
ENV = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "DO_NOT_TRACK": "1", "MPLBACKEND": "Agg", "COLUMNS": "400"}


def written_files(project) -> list:
    return [path for path in (project / "data").glob("**/*") if path.is_file() and path.name != ".gitkeep"]


def output_of(result: subprocess.CompletedProcess) -> str:
    return result.stdout + result.stderr


def error_block(result: subprocess.CompletedProcess) -> list[str]:
    """The lines the CLI printed for a refused run, from ``Error:`` on."""
    lines = result.stderr.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Error:"))
    return lines[start:]


def record(project: Path, relative: str, version: str | None = None) -> dict:
    """The lineage record of one version of an entry (the newest by default)."""
    folder = project / relative / version if version else versions(project, relative)[-1].parent
    return json.loads((folder / "lineage.json").read_text())


def version_of(project: Path, relative: str, index: int) -> str:
    return versions(project, relative)[index].parent.name


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
    output = " ".join(output_of(result).split())
    assert result.returncode != 0
    assert message in output
    assert "Traceback" not in output and len(error_block(result)) <= 8  # short: the problem, cause, fix
    assert not written_files(kedro_project)
    assert not (kedro_project / "mlflow.db").exists() or mlflow_runs(kedro_project).empty


def test_the_traceback_of_a_refused_run_is_one_flag_away(kedro_project):
    for verbose in (["--verbose"], []):
        env = {} if verbose else {"NDG_VERBOSE": "1"}
        result = run_kedro(
            kedro_project, "run", "--pipelines=ndg", *verbose, "--params", "mnie.alpha=5", check=False, env=env
        )
        assert result.returncode != 0 and "Traceback" in output_of(result)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict:
    """One project: the ndg pipeline on mnist_sample (run A), then a newer model and split of mnist_even (run B),
    which a later mnist_sample run must never load."""
    project = make_project(tmp_path_factory.mktemp("lineage"))
    run_kedro(project, "run", "--pipelines=ndg", "--params", GOOD)
    run_kedro(project, "run", "--pipelines=ndg", "--to-nodes=train", "--params", f"{GOOD},data.name=mnist_even")
    model = "data/06_models/model.pt"
    return {"project": project, "A": version_of(project, model, 0), "B": version_of(project, model, 1)}


# (pipeline × loaded entry): the run, its extra parameters, and the entry whose record shows what it loaded
MATCHING = {
    "interactions": (["--pipelines=interactions"], INTERACTIONS, "data/05_model_input/interaction_samples.parquet"),
    "ndg_from_intervene": (
        ["--pipelines=ndg", "--from-nodes=intervene"],
        "",
        "data/08_reporting/intervention_summary.parquet",
    ),
    "effective_information": (
        ["--pipelines=effective_information", "--nodes=ei_model_layers"],
        EI,
        "data/07_model_output/ei_model_layers.parquet",
    ),
    "controls": (
        ["--pipelines=random_model", "--from-nodes=random_model.randomize"],
        "",
        "data/07_model_output/random_model/edges.parquet",
    ),
    "timeline": (["--pipelines=timeline", "--nodes=timeline_ndg"], "", "data/07_model_output/timeline_ndg.parquet"),
}


@pytest.mark.parametrize("case", sorted(MATCHING))
def test_each_pipeline_loads_the_versions_made_with_its_own_parameters(trained, case):
    """Run B (mnist_even) is newer, yet a run with A's parameters loads A's model and split."""
    project = trained["project"]
    args, extra, made = MATCHING[case]
    run_kedro(project, "run", *args, "--params", ",".join(filter(None, [GOOD, extra])))
    model = record(project, "data/06_models/model.pt", trained["A"])["lineage"]
    lineage = record(project, made)["lineage"]
    assert lineage["data"] == model["data"]
    if case != "controls":  # the random_model control's edges come from its own re-initialized network
        assert lineage["model"] == model["model"]


# (pipeline × loaded entry): a run whose parameters no saved version was made with, and the entries it names
MISMATCHED = {
    "interactions": (["--pipelines=interactions"], f"{INTERACTIONS},train.seed=3", ["trained_model"], "train.seed=0"),
    "ndg_from_intervene": (
        ["--pipelines=ndg", "--from-nodes=intervene"],
        "data.name=mnist_even",
        ["activations_train", "dependency_graph", "edges_table"],
        "data.name='mnist_sample' (this run: 'mnist_even')",
    ),
    "ndg_from_build_graph": (
        ["--pipelines=ndg", "--from-nodes=build_graph"],
        "mine.alpha=7",
        ["edges_table", "equivalences_table", "priors_table"],
        "mine.alpha=5.0 (this run: 7.0)",
    ),
    "effective_information": (
        ["--pipelines=effective_information", "--nodes=ei_model_layers"],
        f"{EI},model.latent_dim=16",
        ["trained_model"],
        "model.latent_dim=32 (this run: 16)",
    ),
    "effective_information_report": (
        ["--pipelines=effective_information", "--nodes=ei_report"],
        "",
        ["ei_training_series"],
        "no saved version yet",
    ),
    "controls": (
        ["--pipelines=random_model", "--from-nodes=random_model.randomize"],
        "train.epochs=2",
        ["trained_model"],
        "train.epochs=3 (this run: 2)",
    ),
    "timeline": (["--pipelines=timeline", "--nodes=timeline_ndg"], "train.seed=3", ["model_checkpoints"], "seed"),
}


@pytest.mark.parametrize("case", sorted(MISMATCHED))
def test_a_run_no_saved_version_matches_is_refused_before_any_work(trained, case):
    project = trained["project"]
    args, extra, entries, cause = MISMATCHED[case]
    before = written_files(project)
    result = run_kedro(project, "run", *args, "--params", f"{GOOD},{extra}", check=False)
    block = " ".join(" ".join(error_block(result)).split())
    assert result.returncode == 1
    assert all(entry in block for entry in entries)
    assert "no version made with this run's parameters" in block or "no saved version yet" in block
    assert cause in block and "Fix: make" in block and "--load-versions=" in block
    assert "--pipelines=controls" not in block  # each entry's own maker, not a pipeline that makes a namespaced copy
    assert "Traceback" not in output_of(result) and len(error_block(result)) <= 8
    assert sorted(written_files(project)) == sorted(before)  # nothing written, not even a record


def test_pinned_versions_out_of_step_are_refused_and_name_their_versions(trained):
    """--load-versions overrides the choice; the pinned mnist_even model beside mnist_sample's graph is refused."""
    project = trained["project"]
    pinned = f"--load-versions=trained_model:{trained['B']}"
    result = run_kedro(
        project, "run", "--pipelines=ndg", "--from-nodes=intervene", pinned, "--params", GOOD, check=False
    )
    block = " ".join(" ".join(error_block(result)).split())
    assert result.returncode == 1
    assert "node 'intervene' would read inputs made from different data" in block
    assert f"trained_model (version {trained['B']})" in block and "dataset_splits (version" in block
    assert "--load-versions" in block


def test_corrupt_parquet_pickle_and_torch_files_are_named_with_their_entry_and_the_fix(trained, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(trained["project"], project)
    for relative in (
        "data/03_primary/predicates_train.parquet",
        "data/02_intermediate/dataset_splits.pkl",
        "data/06_models/model.pt",
    ):
        path = versions(project, relative)[0]  # run A's version, the one this run loads
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    result = run_kedro(project, "run", "--pipelines=ndg", "--from-nodes=count_pairs", "--params", GOOD, check=False)
    block = " ".join(" ".join(error_block(result)).split())
    assert result.returncode == 1
    for entry, name in (("predicates_train", "predicates_train.parquet"), ("dataset_splits", "dataset_splits.pkl")):
        assert f"{entry} (version {trained['A']})" in block and f"{name} is corrupt or truncated" in block
    assert f"trained_model (version {trained['A']})" in block and "model.pt is corrupt or truncated" in block
    assert "Rebuild it: `kedro run --pipelines=ndg --params" in block


def test_a_failing_save_names_the_entry_and_file_and_leaves_no_version_of_its_node(kedro_project):
    blocked = kedro_project / "data/08_reporting/training_history.parquet"
    blocked.parent.mkdir(parents=True, exist_ok=True)
    blocked.write_text("a file where the entry's versions folder should be")
    result = run_kedro(kedro_project, "run", "--pipelines=ndg", "--to-nodes=train", "--params", TINY, check=False)
    block = " ".join(" ".join(error_block(result)).split())
    assert result.returncode == 1
    assert "training_history.parquet" in block and "saving catalog entry 'training_history'" in block
    assert not versions(kedro_project, "data/06_models/model.pt")  # the node's other outputs are removed too
    assert not list((kedro_project / "data/06_models").glob("checkpoints/*"))
    assert versions(kedro_project, "data/02_intermediate/dataset_splits.pkl")  # the node before it stays whole
    assert mlflow_runs(kedro_project)["status"].tolist() == ["FAILED"]


def test_a_pipeline_listed_in_disable_tracking_runs_without_an_mlflow_run(kedro_project):
    mlflow_yml = kedro_project / "conf/base/mlflow.yml"
    mlflow_yml.write_text(mlflow_yml.read_text().replace("    pipelines: []", "    pipelines: [ndg]", 1))
    result = run_kedro(kedro_project, "run", "--pipelines=ndg", "--to-nodes=train", "--params", TINY, check=False)
    assert result.returncode == 0, output_of(result)[-3000:]
    assert versions(kedro_project, "data/06_models/model.pt")  # the run itself is whole
    assert mlflow_runs(kedro_project).empty
    tracked = run_kedro(kedro_project, "run", "--pipelines=trained", "--to-nodes=train", "--params", TINY)
    assert tracked.returncode == 0 and len(mlflow_runs(kedro_project)) == 1  # other pipelines still tracked


def interrupt(project: Path, args: list[str], params: str, after: str) -> str:
    """Start ``kedro run``, send SIGTERM a second after the log line ``after``, return the whole output."""
    process = subprocess.Popen(
        [KEDRO, "run", *args, "--params", params],
        cwd=project,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen = []
    deadline = time.monotonic() + 300
    for line in process.stdout:
        seen.append(line)
        if after in line or time.monotonic() > deadline:
            break
    time.sleep(1)
    process.send_signal(signal.SIGTERM)
    output = "".join(seen) + process.communicate(timeout=120)[0]
    assert process.returncode == 1, output[-3000:]
    assert "interrupted by SIGTERM" in output
    return output


def assert_whole(project: Path) -> None:
    """Every version folder left has its record, and its files are those the record took checksums of."""
    for found in (project / "data").glob("**/lineage.json"):
        saved = json.loads(found.read_text())["files"]
        assert saved and all((found.parent / name).is_file() for name in saved)
    for entry in (project / "data").glob("*/*"):
        for version in entry.iterdir() if entry.is_dir() else []:
            if version.is_dir() and (version / entry.name).exists():
                assert (version / "lineage.json").is_file(), version


def test_sigterm_during_training_ends_the_mlflow_run_killed_and_leaves_no_half_written_entry(kedro_project):
    interrupt(kedro_project, ["--pipelines=ndg"], "data.limit=2000,train.epochs=50", "Completed node: prepare_data")
    assert mlflow_runs(kedro_project)["status"].tolist() == ["KILLED"]
    assert not versions(kedro_project, "data/06_models/model.pt")
    assert_whole(kedro_project)
    for path in written_files(kedro_project):  # whatever was saved is whole
        if path.suffix == ".parquet":
            pd.read_parquet(path)


class SignalsItself:
    """An object whose finalizer is where SIGTERM arrives: Python prints and drops an exception raised there."""

    def __del__(self) -> None:
        os.kill(os.getpid(), signal.SIGTERM)


def test_sigterm_that_lands_in_a_finalizer_still_ends_the_run(monkeypatch):
    dropped = []
    monkeypatch.setattr(sys, "unraisablehook", dropped.append)
    interrupts = Interrupts()
    interrupts.before_pipeline_run()
    try:
        with pytest.raises(RunInterrupted, match="SIGTERM"):
            SignalsItself()  # dropped at once: its __del__ runs here and swallows the first RunInterrupted
            deadline = time.monotonic() + 5 * interrupts.retry_s
            while time.monotonic() < deadline:
                sum(range(1000))  # the node's work goes on until the retry lands
        assert [type(each.exc_value) for each in dropped] == [RunInterrupted]
    finally:
        interrupts.on_pipeline_error(RunInterrupted("test"))
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


@pytest.mark.parametrize(
    ("args", "params", "after", "unwritten"),
    [
        (
            ["--pipelines=interactions"],
            f"{GOOD},{INTERACTIONS},interactions.samples_per_class=2,interactions.split.iterations=100000",
            "Loading data from interaction_setting",
            "data/07_model_output/interaction_values.parquet",
        ),
        (
            ["--pipelines=effective_information", "--nodes=ei_train"],
            "effective_information.iris.training.epochs=500",
            "Loading data from params:effective_information",
            "data/07_model_output/ei_training_series.parquet",
        ),
        (
            ["--pipelines=two_models"],
            "data.limit=2000,train.epochs=50",
            "Completed node: prepare_data",
            "data/06_models/model.pt",
        ),
    ],
    ids=["interactions", "effective_information", "controls"],
)
def test_sigterm_in_each_lens_ends_killed_and_writes_no_partial_version(
    trained, tmp_path, args, params, after, unwritten
):
    project = tmp_path / "project"
    shutil.copytree(trained["project"], project, ignore=shutil.ignore_patterns("mlflow.db*"))
    before = len(versions(project, unwritten))
    interrupt(project, args, params, after)
    assert mlflow_runs(project)["status"].tolist() == ["KILLED"]
    assert len(versions(project, unwritten)) == before
    assert_whole(project)


def test_two_runs_at_once_on_one_project_both_finish_each_with_its_own_lineage(trained, tmp_path):
    """A control on mnist_even (training a new model) and the interaction lens on mnist_sample, started together."""
    project = tmp_path / "project"
    shutil.copytree(trained["project"], project, ignore=shutil.ignore_patterns("mlflow.db*"))
    commands = [
        ["--pipelines=trained", "--params", f"{TINY},data.name=mnist_even"],
        ["--pipelines=interactions", "--params", f"{GOOD},{INTERACTIONS}"],
    ]
    processes = [
        subprocess.Popen([KEDRO, "run", *args], cwd=project, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for args in commands
    ]
    outputs = [process.communicate(timeout=600)[0].decode() for process in processes]
    for process, output in zip(processes, outputs, strict=True):
        assert process.returncode == 0, output[-3000:]
        assert "database is locked" not in output
    assert sorted(mlflow_runs(project)["status"]) == ["FINISHED", "FINISHED"]
    model = record(project, "data/06_models/model.pt", trained["A"])["lineage"]
    assert record(project, "data/05_model_input/interaction_samples.parquet")["lineage"]["model"] == model["model"]
    even = record(project, "data/06_models/model.pt")["lineage"]  # the control's new model, saved meanwhile
    assert even["data"] != model["data"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--pipelines=ndg"],
            "trained_model: --load-versions pins an entry this run makes itself (node 'train'). Start after it "
            "(`--from-nodes=record_activations,intervene`, same --load-versions), or drop the pin.",
        ),
        (
            ["--pipelines=ndg", "--from-nodes=record_activations"],
            "trained_model: --load-versions pins version 2026-11-22T11.33.00.000Z, which was never saved (newest: "
            "none yet).",
        ),
    ],
)
def test_a_pin_the_run_cannot_read_is_refused_before_any_work(kedro_project, args, message):
    pinned = "--load-versions=trained_model:2026-11-22T11.33.00.000Z"
    result = run_kedro(kedro_project, "run", *args, pinned, "--params", "data.limit=64", check=False)
    assert result.returncode == 1 and message in " ".join(" ".join(error_block(result)).split())
    assert "Traceback" not in output_of(result) and not written_files(kedro_project)


def test_a_data_file_the_user_must_provide_is_a_short_error_naming_it_and_the_fix(kedro_project):
    result = run_kedro(kedro_project, "run", "--pipelines=ndg", "--params", "data.name=mnist", check=False)
    block = " ".join(" ".join(error_block(result)).split())
    assert result.returncode == 1 and "Traceback" not in output_of(result)
    assert f"MNIST IDX files were not found under {kedro_project / 'data/01_raw/MNIST/raw'}" in block
    assert "Set data.download: true on a machine with the internet" in block


def test_preparing_the_store_keeps_the_locks_of_this_process_open_connections(tmp_path):
    """A run that prepares the store while this process holds a connection (as a second in-process session does)
    must not drop its locks: another process closing its last connection would then delete the WAL under it."""
    import sqlite3

    from ndg_pipeline.hooks import prepare_store

    store = tmp_path / "mlflow.db"
    prepare_store(f"sqlite:///{store}")
    reader = sqlite3.connect(store)
    reader.execute("SELECT count(*) FROM experiments").fetchall()
    prepare_store(f"sqlite:///{store}")
    write = f"import sqlite3; c = sqlite3.connect({str(store)!r}); c.execute('PRAGMA user_version = 1'); c.close()"
    subprocess.run([sys.executable, "-c", write], check=True)
    assert store.with_name("mlflow.db-wal").exists()  # still open here: the closing writer was not the last
    assert reader.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    reader.close()
