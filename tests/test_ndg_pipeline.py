"""The whole ndg pipeline through the real Kedro CLI, catalog, parquet files and MLflow sqlite store."""

from __future__ import annotations

import json
import os
import pickle
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
from conftest import make_project, mlflow_runs, run_kedro, run_notebook, versions
from report_links import broken_artifact_links, broken_links

from ndg_pipeline.models import load_model_file

pytestmark = pytest.mark.slow  # real kedro runs through the CLI

SMALL = "data.limit=400,train.epochs=3,train.batch_size=64,mine.alpha=20"
RUN_IDENTITY = re.compile(r'<p class="runline" id="run-identity">.*?</p>', re.DOTALL)


@pytest.fixture(scope="module")
def finished_project(tmp_path_factory) -> dict:
    """One small run of the whole ndg pipeline, then a second identical one (for determinism)."""
    project = make_project(tmp_path_factory.mktemp("ndg"))
    first = run_kedro(project, "run", "--pipelines=ndg", "--params", SMALL)
    second = run_kedro(project, "run", "--pipelines=ndg", "--params", SMALL)
    return {"project": project, "logs": (first, second)}


def latest(project, relative: str):
    return versions(project, relative)[-1]


def test_every_stage_lands_in_the_versioned_catalog(finished_project):
    project = finished_project["project"]
    for relative in (
        "data/06_models/model.pt",
        "data/04_feature/activations_train.parquet",
        "data/04_feature/activations_test.parquet",
        "data/03_primary/predicates_train.parquet",
        "data/07_model_output/edges.parquet",
        "data/07_model_output/equivalences.parquet",
        "data/07_model_output/constants.parquet",
        "data/07_model_output/alpha_sweep.parquet",
        "data/07_model_output/dependency_graph.pkl",
        "data/07_model_output/dependency_graph.json",
        "data/08_reporting/graph_drawings.json",
        "data/08_reporting/graph.html",
        "data/08_reporting/intervention_summary.parquet",
        "data/08_reporting/report.html",
    ):
        assert len(versions(project, relative)) == 2, relative
    activations = pd.read_parquet(latest(project, "data/04_feature/activations_train.parquet"))
    assert list(activations.columns[:2]) == ["latent:0", "latent:1"] and len(activations) == 400
    predicates = pd.read_parquet(latest(project, "data/03_primary/predicates_train.parquet"))
    assert list(predicates.columns[:10]) == [f"class:{c}" for c in range(10)]
    assert predicates.dtypes.eq(bool).all() and predicates.shape == (400, 42)
    assert (predicates[[f"class:{c}" for c in range(10)]].sum(axis=1) == 1).all()
    graph = json.loads(latest(project, "data/07_model_output/dependency_graph.json").read_text())
    assert len(graph["nodes"]) == 2 * 42


def test_recorded_predicates_match_the_saved_model(finished_project):
    project = finished_project["project"]
    model = load_model_file(latest(project, "data/06_models/model.pt"))
    with latest(project, "data/02_intermediate/dataset_splits.pkl").open("rb") as handle:
        splits = pickle.load(handle)
    images = torch.stack([splits.test.dataset[i][0] for i in range(5)])
    with torch.no_grad():
        latent = model.latent(model.encoder(images))
        predicted = model(images).argmax(dim=1)
    activations = pd.read_parquet(latest(project, "data/04_feature/activations_test.parquet"))
    torch.testing.assert_close(torch.tensor(activations.iloc[:5, :32].to_numpy()), latent)
    assert activations["predicted"].iloc[:5].tolist() == predicted.tolist()


def test_same_parameters_give_the_same_model_edges_and_report(finished_project):
    project = finished_project["project"]
    first, second = versions(project, "data/06_models/model.pt")
    a, b = torch.load(first, weights_only=True), torch.load(second, weights_only=True)
    assert all(torch.equal(a["state_dict"][k], b["state_dict"][k]) for k in a["state_dict"])
    edges = [pd.read_parquet(p) for p in versions(project, "data/07_model_output/edges.parquet")]
    assert len(edges[0]) > 0
    pd.testing.assert_frame_equal(edges[0], edges[1])
    reports = [RUN_IDENTITY.sub("", p.read_text()) for p in versions(project, "data/08_reporting/report.html")]
    assert reports[0] == reports[1]  # all but the line that names the run (MLflow run id, start time)


def test_mlflow_has_finished_runs_with_params_metrics_and_the_report(finished_project):
    runs = mlflow_runs(finished_project["project"])
    assert len(runs) == 2 and set(runs["status"]) == {"FINISHED"}
    run = runs.iloc[0]
    assert run["params.mine.alpha"] == "20.0" and run["params.data.limit"] == "400"
    assert run["tags.dataset"] == "mnist_sample" and run["tags.pipeline"] == "ndg"
    metrics = ("train.test_accuracy", "graph.edges", "intervention.patch.test.graph.aligned")
    for metric in (*metrics, "intervention.patch.test.random.aligned"):
        assert f"metrics.{metric}" in runs.columns, metric
    assert run["metrics.graph.edges"] == len(
        pd.read_parquet(latest(finished_project["project"], "data/07_model_output/edges.parquet"))
    )
    import mlflow

    artifacts = {a.path for a in mlflow.MlflowClient().list_artifacts(run["run_id"])}
    assert {"report.html", "graph.html"} <= artifacts


def test_mlflow_runs_are_named_tagged_and_hold_each_parameter_once(finished_project):
    runs = mlflow_runs(finished_project["project"])
    assert set(runs["tags.mlflow.runName"]) == {"ndg · mnist_sample · seed 0"}
    run = runs.iloc[0]
    assert (run["tags.dataset"], run["tags.alpha"], run["tags.seed"], run["tags.runner"]) == (
        "mnist_sample",
        "20.0",
        "0",
        "SequentialRunner",
    )
    assert run["tags.git_commit"]
    assert run["tags.kedro_command"] == f'kedro run --pipelines=ndg --params "{SMALL}"'  # the command, to re-run it
    params = {column.removeprefix("params."): run[column] for column in runs.columns if column.startswith("params.")}
    assert not [name for name in params if name.startswith("parameters.") or name in ("mine", "data", "record")]
    other_lenses = [
        name for name in params if name.startswith(("controls.", "interactions.", "effective_information."))
    ]
    # the ndg pipeline trains the interaction lens's second model, so only those parameters of another group appear
    assert sorted(other_lenses) == ["interactions.second_model.epochs", "interactions.second_model.seed"]
    assert params["record.layers.latent"] == "latent" and params["intervene.value_modes"] == '["patch", "reference"]'
    summary = pd.read_parquet(latest(finished_project["project"], "data/08_reporting/intervention_summary.parquet"))
    aligned = summary.query("split == 'test' and mode == 'patch' and sets == 'graph'")["aligned"].item()
    assert run["metrics.intervention.patch.test.graph.aligned"] == pytest.approx(aligned / 100)  # one unit: fractions
    assert 0 <= run["metrics.train.test_accuracy"] <= 1
    import mlflow

    experiments = mlflow.MlflowClient().search_experiments()
    empty = [e.name for e in experiments if e.name != "Default" and not mlflow.search_runs([e.experiment_id]).size]
    assert not empty and {e.name for e in experiments} == {"Default", "ndg_pipeline.ndg"}


def test_each_runs_reports_are_bundled_with_working_links_on_disk_and_in_mlflow(finished_project, tmp_path):
    import mlflow

    project = finished_project["project"]
    bundles = sorted((project / "data" / "08_reporting" / "runs").iterdir())
    assert len(bundles) == 2
    for bundle in bundles:
        assert sorted(path.name for path in bundle.iterdir()) == ["graph.html", "index.html", "report.html"]
        assert broken_links(bundle) == []
        report = (bundle / "report.html").read_text()
        link = '<a href="graph.html" data-artifact="reports/graph.html">Neuron dependency graph (interactive view)</a>'
        assert link in report
    run = mlflow_runs(project).sort_values("start_time").iloc[-1]
    downloaded = Path(
        mlflow.artifacts.download_artifacts(run_id=run["run_id"], artifact_path="reports", dst_path=tmp_path)
    )
    assert sorted(path.name for path in downloaded.iterdir()) == ["graph.html", "index.html", "report.html"]
    assert broken_links(downloaded) == []
    artifacts = {entry.path for entry in mlflow.MlflowClient().list_artifacts(run["run_id"], "reports")}
    assert broken_artifact_links(downloaded, artifacts) == []
    header = RUN_IDENTITY.search((downloaded / "report.html").read_text()).group(0)
    assert run["run_id"] in header and "pipeline <code>ndg</code>" in header


def test_readme_tables_are_written_from_the_runs_outputs(finished_project):
    project = finished_project["project"]
    blocks = "".join(
        f"<!-- generated: {name} -->\ntyped\n<!-- end: {name} -->\n" for name in ("ndg-numbers", "ndg-table5")
    )
    (project / "README.md").write_text("# results\n" + blocks)
    command = [sys.executable, "-m", "ndg_pipeline.reporting.readme", "--project", str(project)]
    environment = {**os.environ, "PYTHONPATH": str(project / "src"), "KEDRO_DISABLE_TELEMETRY": "1"}
    # the run used --params: no version was made with the project's own parameters, so nothing describes them
    other = subprocess.run(command, env=environment, capture_output=True, text=True, check=True)
    assert "no NDG numbers" in other.stderr and "not made with the project's parameters" in other.stderr
    assert (project / "README.md").read_text().count("typed") == 2
    command += ["--params", SMALL]
    check = subprocess.run([*command, "--check"], env=environment, capture_output=True, text=True, check=False)
    assert check.returncode == 1 and "differs" in check.stdout
    subprocess.run(command, env=environment, check=True, capture_output=True)
    readme = (project / "README.md").read_text()
    edges = len(pd.read_parquet(latest(project, "data/07_model_output/edges.parquet")))
    summary = pd.read_parquet(latest(project, "data/08_reporting/intervention_summary.parquet"))
    aligned = summary.query("split == 'test' and mode == 'reference' and sets == 'graph'")["aligned"].item()
    assert f"| edges at α = 20; mean edge accuracy train / test (%) | {edges}; " in readme  # the run's --params α
    assert f"| reference values | {aligned:.2f} (" in readme and "typed" not in readme
    again = subprocess.run([*command, "--check"], env=environment, capture_output=True, text=True, check=False)
    assert again.returncode == 0, again.stdout + again.stderr


def test_the_link_check_finds_a_broken_link(tmp_path):
    (tmp_path / "a.html").write_text('<a href="b.html#x">b</a> <a href="#top">top</a> <a href="https://x.org">x</a>')
    (tmp_path / "b.html").write_text('<p id="y"></p>')
    assert broken_links(tmp_path) == [
        "a.html: b.html#x (no element with id 'x')",
        "a.html: #top (no element with id 'top')",
        "a.html: https://x.org (points outside the folder)",
    ]
    assert broken_artifact_links(tmp_path, {"reports/b.html"}) == ["a.html: b.html#x (no data-artifact)"]
    (tmp_path / "a.html").write_text('<a href="b.html" data-artifact="reports/c.html">b</a> <a href="#y">y</a>')
    assert broken_artifact_links(tmp_path, {"reports/b.html"}) == ["a.html: b.html (no artifact reports/c.html)"]


def test_the_report_shows_this_runs_numbers(finished_project):
    project = finished_project["project"]
    report = latest(project, "data/08_reporting/report.html").read_text()
    summary = pd.read_parquet(latest(project, "data/08_reporting/intervention_summary.parquet"))
    aligned = summary.query("split == 'test' and mode == 'patch' and sets == 'graph'")["aligned"].item()
    assert f"{aligned:.2f}" in report
    assert "95.21" in report  # the paper's MNIST Table 5 row beside ours
    assert "How to read this report" in report


def test_notebook_runs_against_the_catalog(finished_project, monkeypatch):
    project = finished_project["project"]
    started_in = project / "data" / "08_reporting"  # any folder inside the project
    outputs = run_notebook("explore_class.ipynb", started_in, monkeypatch, NDG_PARAMS=SMALL)
    printed = "".join(output.get("text", "") for output in outputs)
    assert "neurons written" in printed and "sufficient" in printed
    newest = versions(project, "data/07_model_output/dependency_graph.pkl")[-1].parent.name
    assert f"dependency_graph: version {newest}, made with the project's parameters and {SMALL} (" in printed


def test_notebook_refuses_a_setting_no_run_made(finished_project, monkeypatch):
    from nbclient.exceptions import CellExecutionError

    other = SMALL.replace("mine.alpha=20", "mine.alpha=30")
    with pytest.raises(CellExecutionError) as refused:
        run_notebook("explore_class.ipynb", finished_project["project"], monkeypatch, NDG_PARAMS=other)
    message = refused.value.evalue
    assert refused.value.ename == "RunRefused" and "dependency_graph" in message and "dataset_info" not in message
    assert "mine.alpha=20.0 (this run: 30.0)" in message


def test_bad_parameters_fail_before_anything_is_written(kedro_project):
    result = run_kedro(kedro_project, "run", "--pipelines=ndg", "--params", "mine.alpha=1", check=False)
    assert result.returncode != 0
    assert "alpha must be > 1" in result.stdout + result.stderr
    assert not list((kedro_project / "data").glob("**/*.p*"))


def test_unknown_layer_names_the_existing_ones(kedro_project):
    result = run_kedro(
        kedro_project,
        "run",
        "--pipelines=ndg",
        "--to-nodes=record_activations",
        "--params",
        "data.limit=64,train.epochs=1,record.layers.latent=latnt",
        check=False,
    )
    assert result.returncode != 0
    assert "'latnt' is not a module of MnistCnn" in result.stdout + result.stderr
    assert "latent" in result.stdout + result.stderr
    assert not list((kedro_project / "data" / "04_feature").glob("**/*.parquet"))


def test_kedro_viz_build_names_every_node(kedro_project):
    run_kedro(kedro_project, "viz", "build")
    graph = json.loads((kedro_project / "build" / "api" / "main").read_text())
    tasks = {node["name"] for node in graph["nodes"] if node["type"] == "task"}
    assert {"train", "record_activations", "binarize", "mine_edges", "build_graph", "intervene", "ndg_report"} <= tasks
    assert {"models", "primary", "feature", "reporting"} <= set(graph["layers"])
