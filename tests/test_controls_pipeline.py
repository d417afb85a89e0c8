"""The control pipelines and the tables pipeline through the real Kedro CLI, catalog, parquet files and MLflow store:
one combined run of every control on a small MNIST subset, one control alone, then the tables."""

from __future__ import annotations

import json

import mlflow
import pandas as pd
import pytest
from conftest import make_project, mlflow_runs, run_kedro, versions

from ndg_pipeline.control_names import CONTROLS
from ndg_pipeline.ndg.controls import edge_groups, group_summary

pytestmark = pytest.mark.slow  # real kedro runs through the CLI

SMALL = "data.limit=800,train.epochs=3,mine.alpha=20"


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """Every control in one run, the different-inputs control alone with another pairing seed, then the tables."""
    project = make_project(tmp_path_factory.mktemp("controls"))
    run_kedro(project, "run", "--pipelines=controls", "--params", SMALL)
    run_kedro(project, "run", "--pipelines=different_inputs", "--params", f"{SMALL},controls.different_inputs.seed=1")
    run_kedro(project, "run", "--pipelines=tables")
    return project


def results(project, control: str) -> pd.DataFrame:
    """The results partition of a control on mnist_sample, indexed by edge group."""
    path = project / "data/08_reporting/control_results" / f"mnist_sample__{control}.parquet"
    return pd.read_parquet(path).set_index("group")


def edges(project, control: str, version: int = -1) -> pd.DataFrame:
    """A saved version of a control's edges table."""
    return pd.read_parquet(versions(project, f"data/07_model_output/{control}/edges.parquet")[version])


def test_every_control_saves_its_results_partition_with_its_record(project):
    saved = sorted(path.name for path in (project / "data/08_reporting/control_results").iterdir())
    partitions = sorted(f"mnist_sample__{control}.parquet" for control in CONTROLS)
    assert saved == sorted(partitions + [f"{name}.lineage.json" for name in partitions])
    record = json.loads(
        (project / "data/08_reporting/control_results/mnist_sample__two_models.parquet.lineage.json").read_text()
    )
    assert record["entry"] == "two_models.control_results" and record["settings"]["params:train"]["epochs"] == 3
    assert record["settings"]["params:controls.two_models.train"]["seed"] == 1
    trained = results(project, "trained")
    assert trained.loc["all", ["alpha", "n_train", "n_test"]].tolist() == [20.0, 800, 800]


def test_the_random_model_has_far_fewer_edges_than_the_trained_one(project):
    trained, random = results(project, "trained").loc["all"], results(project, "random_model").loc["all"]
    assert trained["edges"] >= 50 and trained["test_accuracy"] > 0.98
    assert random["edges"] * 10 <= trained["edges"]


def test_unrelated_inputs_give_about_no_edges_between_the_copies(project):
    for version in (0, 1):  # the pairing seeds of the combined run and of the run alone
        table = edges(project, "different_inputs", version)
        between = group_summary(table, edge_groups(pd.concat([table.source, table.target]), "copies"))
        assert between["edges"].item() <= 2
    assert results(project, "different_inputs").loc["between", "edges"] <= 2


def test_two_models_count_only_edges_from_model_1_to_model_2(project):
    table = edges(project, "two_models")
    counted = table.source.str.startswith("first.") & table.target.str.startswith("second.")
    assert results(project, "two_models").loc["between", "edges"] == counted.sum()
    first = versions(project, "data/06_models/model.pt")[-1].read_bytes()
    assert first != versions(project, "data/06_models/two_models/model.pt")[-1].read_bytes()


def test_the_two_layer_groups_count_inside_each_layer_and_from_layer_1_to_layer_2(project):
    table = edges(project, "two_layers")
    priors = pd.read_parquet(versions(project, "data/07_model_output/two_layers/priors.parquet")[-1])
    assert priors["predicate"].str.startswith("fc1:").sum() == priors["predicate"].str.startswith("fc2:").sum() == 128
    source, target = table.source.str.split(":").str[0], table.target.str.split(":").str[0]
    groups = results(project, "two_layers")
    assert groups.index.tolist() == ["layer1", "layer2", "inter_layer"]
    assert groups.loc["layer1", "edges"] == ((source == "fc1") & (target == "fc1")).sum()
    assert groups.loc["layer2", "edges"] == ((source == "fc2") & (target == "fc2")).sum()
    forward, backward = (source == "fc1") & (target == "fc2"), (source == "fc2") & (target == "fc1")
    assert groups.loc["inter_layer", "edges"] == forward.sum() == backward.sum() > 0


def test_mlflow_runs_are_tagged_with_dataset_control_and_alpha(project):
    runs = mlflow_runs(project).set_index("tags.control")
    assert {"controls", "different_inputs", "tables"} <= set(runs.index)
    for control in ("controls", "different_inputs"):
        assert runs.loc[control, ["tags.dataset", "tags.alpha"]].tolist() == ["mnist_sample", "20.0"]
    combined = runs.loc["controls"]
    assert combined["metrics.trained.all.edges"] == results(project, "trained").loc["all", "edges"]
    assert combined["metrics.random_model.all.edges"] == results(project, "random_model").loc["all", "edges"]
    assert "metrics.two_layers.inter_layer.test_accuracy" in runs.columns
    assert pd.isna(runs.loc["tables", "tags.dataset"])  # the tables summarize several datasets
    client = mlflow.MlflowClient()
    artifacts = {artifact.path for artifact in client.list_artifacts(runs.loc["tables", "run_id"])}
    assert artifacts == {"tables_report.html", "reports"}  # the page, and the run's bundle of linked reports
    bundle = {artifact.path for artifact in client.list_artifacts(runs.loc["tables", "run_id"], "reports")}
    assert bundle == {"reports/tables_report.html", "reports/index.html"}


def test_the_tables_set_every_control_beside_the_paper(project):
    table3 = pd.read_parquet(versions(project, "data/08_reporting/paper_table3.parquet")[-1])
    assert table3["source"].tolist() == ["this project", "paper"]
    ours = table3.iloc[0]
    assert ours["original_edges"] == results(project, "trained").loc["all", "edges"]
    assert ours["random_model_edges"] == results(project, "random_model").loc["all", "edges"]
    for table in ("paper_table4", "paper_table6"):
        frame = pd.read_parquet(versions(project, f"data/08_reporting/{table}.parquet")[-1])
        assert frame.filter(like="_edges").iloc[0].notna().all(), table  # every column of ours is filled
    page = versions(project, "data/08_reporting/tables_report.html")[-1].read_text()
    assert f'<td class="num">{ours["original_edges"]}</td>' in page and "paper: MNIST" in page


def test_the_tables_refuse_controls_of_one_dataset_made_from_different_models(project, tmp_path):
    import shutil

    copy = tmp_path / "project"
    shutil.copytree(project, copy)
    run_kedro(copy, "run", "--pipelines=random_input", "--params", SMALL.replace("epochs=3", "epochs=2"))
    refused = run_kedro(copy, "run", "--pipelines=tables", check=False)
    printed = refused.stdout + refused.stderr
    assert refused.returncode != 0 and "Traceback" not in printed
    assert "mnist_sample__random_input.parquet come from the same data but train.epochs=3 vs 2" in printed
    assert len(versions(copy, "data/08_reporting/paper_table3.parquet")) == 1  # the first run's, nothing new


def test_the_tables_before_any_control_name_the_pipeline_that_makes_the_results(tmp_path):
    refused = run_kedro(make_project(tmp_path), "run", "--pipelines=tables", check=False)
    printed = refused.stdout + refused.stderr
    assert refused.returncode != 0 and "Traceback" not in printed
    assert "control_results: No partitions found" in printed
    assert "rebuild it with `kedro run --pipelines=controls`" in printed  # made as <control>.control_results
