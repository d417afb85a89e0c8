"""The default run (every lens on one model) and the timeline, in-process through the real catalog and MLflow store:
the timeline's numbers for the last checkpoint equal those each lens's own pipeline gives for the trained model."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from conftest import make_project, mlflow_runs, run_notebook, versions

from ndg_pipeline.tracking import flatten

TINY = {
    "data": {"limit": 600},
    "model": {"dropout": 0.0, "hidden_dropout": 0.0, "decoder_dropout": 0.0},
    "train": {"epochs": 3, "checkpoints": [1], "learning_rate": 0.003},  # the last epoch is always kept
    "mine": {"alpha": 5},
    "interactions": {"samples_per_class": 1, "split": {"iterations": 200}},
    "effective_information": {
        "seeds": [0],
        "iris": {"training": {"epochs": 2}},
        "mnist_small": {"training": {"epochs": 1}},
        "measure": {"samples": 2000, "sensitivity_samples": 200},
        "model_layers": {"samples": 1000, "sensitivity_samples": 100},
    },
}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """One default run (``kedro run`` with no --pipelines) of a tiny setting, in-process."""
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    project = make_project(tmp_path_factory.mktemp("timeline"))
    here = os.getcwd()
    os.chdir(project)  # as `kedro run` does: the MLflow store and data paths resolve from the project folder
    try:
        bootstrap_project(project)
        with KedroSession.create(project_path=project, runtime_params=TINY) as session:
            session.run()
    finally:
        os.chdir(here)
    return project


def latest(project, relative: str) -> pd.DataFrame:
    return pd.read_parquet(versions(project, relative)[-1])


@pytest.mark.slow
def test_the_default_run_trains_once_and_runs_every_lens_and_the_timeline(project):
    assert len(versions(project, "data/06_models/model.pt")) == 1
    assert len(versions(project, "data/06_models/second_model.pt")) == 1  # trained once, beside the first
    checkpoints = versions(project, "data/06_models/checkpoints")
    assert [path.name for path in sorted(checkpoints[0].iterdir())] == ["epoch_0001.pt", "epoch_0003.pt"]
    for report in ("report.html", "interaction_report.html", "effective_information.html", "timeline.html"):
        assert len(versions(project, f"data/08_reporting/{report}")) == 1, report
    table = latest(project, "data/08_reporting/timeline_table.parquet")
    assert table["epoch"].tolist() == [1, 3]
    runs = mlflow_runs(project)
    assert runs["status"].tolist() == ["FINISHED"]
    import mlflow

    history = mlflow.MlflowClient().get_metric_history(runs["run_id"][0], "timeline.ndg.edges")
    assert [point.step for point in history] == [1, 3]
    assert [point.value for point in history] == table["ndg.edges"].astype(float).tolist()


@pytest.mark.slow
def test_the_last_checkpoint_gives_each_lens_pipelines_numbers(project):
    from ndg_pipeline.ndg.edges import edge_accuracy

    table = latest(project, "data/08_reporting/timeline_table.parquet").set_index("epoch").loc[3]
    edges = latest(project, "data/07_model_output/edges.parquet")
    for name, value in edge_accuracy(edges).items():
        assert table[f"ndg.{name}"] == pytest.approx(value, nan_ok=True), name
    summary = latest(project, "data/08_reporting/intervention_summary.parquet").query("split == 'test'")
    for row in summary.itertuples(index=False):
        assert table[f"ndg.{row.mode}.{row.sets}.aligned"] == pytest.approx(row.aligned)
    measured = latest(project, "data/07_model_output/ei_model_layers.parquet").set_index("layer")
    for layer, row in measured.iterrows():  # the timeline leaves out what failed its convergence check
        for measure in ("ei_parts", "sensitivity"):
            expected = row[measure] if row[f"{measure}_converged"] else float("nan")
            assert table[f"ei.{layer}.{measure}"] == pytest.approx(expected, nan_ok=True), (layer, measure)
    metrics = latest(project, "data/08_reporting/interaction_metrics.parquet").set_index("metric")["value"]
    for name in ("concepts_per_sample", "explanation_ratio", "salient_ratio"):
        assert table[f"interactions.{name}"] == pytest.approx(metrics[name]), name


@pytest.mark.slow
def test_the_cross_lens_tables_read_the_final_models_graph(project):
    layers = latest(project, "data/08_reporting/layer_dependencies.parquet")
    edges = latest(project, "data/07_model_output/edges.parquet")
    assert layers["layer"].tolist() == ["latent"] and layers["linear"].tolist() == ["encoder.10"]
    touching = edges["source"].str.startswith("latent:") | edges["target"].str.startswith("latent:")
    assert layers["edges"].item() == touching.sum()
    concepts = latest(project, "data/08_reporting/concept_neurons.parquet")
    assert set(concepts["input"]) == {"concept", "full", "empty"}
    sufficient = edges[edges["target"].str.startswith("class:") & edges["source"].str.startswith("latent:")]
    for row in concepts.itertuples(index=False):
        expected = (sufficient["target"] == f"class:{row.label}") & sufficient["target_value"]
        assert row.sufficient == expected.sum()
        assert 0 <= row.sufficient_on <= row.sufficient


@pytest.mark.slow
def test_the_timeline_notebook_opens_the_runs_outputs(project, monkeypatch):
    setting = ",".join(f"{key}={value}" for key, value in flatten(TINY).items())  # as --params takes it
    outputs = run_notebook("timeline.ipynb", project, monkeypatch, NDG_PARAMS=setting)
    printed = "".join(output.get("text", "") for output in outputs)
    assert "measured layers:" in printed
    assert sum("image/png" in output.get("data", {}) for output in outputs) == 2  # the timeline, the causal plane


@pytest.mark.slow
def test_every_report_of_the_default_run_links_to_the_others_on_disk_and_in_mlflow(project, tmp_path):
    import mlflow
    from report_links import broken_artifact_links, broken_links

    (bundle,) = (project / "data" / "08_reporting" / "runs").iterdir()
    names = sorted(path.name for path in bundle.iterdir())
    assert {"index.html", "report.html", "graph.html", "timeline.html"} <= set(names)
    assert {"interaction_report.html", "effective_information.html"} <= set(names)
    assert broken_links(bundle) == []
    run_id = mlflow_runs(project)["run_id"][0]
    downloaded = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="reports", dst_path=str(tmp_path))
    assert sorted(path.name for path in Path(downloaded).iterdir()) == names
    assert broken_links(Path(downloaded)) == []
    artifacts = {entry.path for entry in mlflow.MlflowClient().list_artifacts(run_id, "reports")}
    assert broken_artifact_links(Path(downloaded), artifacts) == []
    for name in names:
        if name != "index.html":
            page = (bundle / name).read_text()
            assert page.count('href="index.html"') == 1, name  # every page links the others through the bundle


def test_ei_values_that_failed_their_convergence_check_are_left_out_of_the_timeline_table():
    import numpy as np

    from ndg_pipeline.pipelines.timeline.nodes import timeline_table

    ndg = pd.DataFrame({"epoch": [1, 2], "edges": [3, 4]})
    interactions = pd.DataFrame({"epoch": [1, 2], "concepts_per_sample": [5.0, 6.0]})
    ei = pd.DataFrame(
        {
            "epoch": [1, 1, 2, 2],
            "layer": ["a", "b", "a", "b"],
            "ei": [np.nan] * 4,
            "ei_parts": [1.0, 2.0, 3.0, 4.0],
            "sensitivity": [5.0, 6.0, 7.0, 9.0],
            "degeneracy_parts": [0.0] * 4,
            "ei_parts_converged": [True, False, True, True],
            "sensitivity_converged": [True, True, False, True],
        }
    )
    table, _ = timeline_table(ndg, interactions, ei)
    first, last = (table[table["epoch"] == epoch].iloc[0] for epoch in (1, 2))
    assert first["ei.a.ei_parts"] == 1.0 and first["ei.a.degeneracy_parts"] == 4.0
    assert np.isnan(first["ei.b.ei_parts"]) and first["ei.b.sensitivity"] == 6.0
    assert np.isnan(first["ei.b.degeneracy_parts"])
    assert np.isnan(last["ei.a.sensitivity"]) and last["ei.a.ei_parts"] == 3.0
    assert last["ei.b.degeneracy_parts"] == 5.0
