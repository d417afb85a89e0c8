"""A study end to end through the real CLI, catalog and MLflow store, and its cells on a real Dask LocalCluster."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml
from conftest import make_project, mlflow_runs, run_kedro, versions

LENSES = ["ndg", "interactions", "effective_information"]
TINY = {
    "mine": {"alpha": 5},
    "interactions": {"timeline_per_class": 1, "split": {"iterations": 200}},
    "effective_information": {"model_layers": {"samples": 1000, "sensitivity_samples": 100, "range_inputs": 64}},
}
EI_TINY = TINY["effective_information"]["model_layers"]
TINY_PRESET = {"seeds": [0, 1], "overrides": {"data.limit": 120, "train.epochs": 1, "train.checkpoints": [1]}}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """The memorisation study at a tiny preset (written to conf/local: presets are nested, --params cannot hold
    them), run once with the real ``kedro`` command."""
    project = make_project(tmp_path_factory.mktemp("study"))
    study = yaml.safe_load((project / "conf" / "base" / "parameters_study.yml").read_text())["study"]
    study["presets"]["tiny"] = TINY_PRESET  # conf/local replaces a whole group: the study group is written whole
    local = {**TINY, "study": {**study, "lenses": LENSES}}
    (project / "conf" / "local" / "parameters.yml").write_text(yaml.safe_dump(local))
    run_kedro(project, "run", "--pipelines=study", "--params", "study.name=memorization,study.preset=tiny")
    return project


def latest(project, relative: str) -> pd.DataFrame:
    return pd.read_parquet(versions(project, relative)[-1])


@pytest.mark.slow
def test_every_cell_is_measured_by_every_lens_at_every_epoch_with_its_null(project):
    runs = latest(project, "data/07_model_output/study_runs.parquet")
    cells = runs[["variant", "seed"]].drop_duplicates()
    assert sorted(map(tuple, cells.to_numpy())) == [
        ("shuffled_labels", 0),
        ("shuffled_labels", 1),
        ("true_labels", 0),
        ("true_labels", 1),
    ]
    assert set(runs["epoch"]) == {0, 1}  # the untrained network is always measured: it is the null
    assert set(runs["lens"]) == {"training", *LENSES}
    untrained = runs[runs["epoch"] == 0]
    not_aligned = ~untrained["metric"].str.endswith(".aligned")
    assert (untrained.loc[not_aligned, "null"].fillna(-1) == untrained.loc[not_aligned, "value"].fillna(-1)).all()
    aligned = runs[runs["metric"].str.endswith(".aligned")]
    assert aligned["null"].notna().all()  # the random-set baseline


@pytest.mark.slow
def test_summary_contrasts_and_answers_follow_from_the_runs(project):
    runs = latest(project, "data/07_model_output/study_runs.parquet")
    summary = latest(project, "data/08_reporting/study_summary.parquet")
    contrasts = latest(project, "data/08_reporting/study_contrasts.parquet")
    answers = latest(project, "data/08_reporting/study_answers.parquet")
    converged = runs[runs["converged"]]
    one = summary[
        (summary["variant"] == "true_labels") & (summary["metric"] == "test_accuracy") & (summary["epoch"] == 1)
    ].iloc[0]
    expected = converged[
        (converged["variant"] == "true_labels") & (converged["metric"] == "test_accuracy") & (converged["epoch"] == 1)
    ]["value"]
    assert one["seeds"] == 2 and one["mean"] == pytest.approx(expected.mean())
    assert set(contrasts["variant"]) == {"shuffled_labels"} and set(contrasts["baseline"]) == {"true_labels"}
    assert len(answers) == len(contrasts[contrasts["epoch"] == 1])
    page = (versions(project, "data/08_reporting/study.html")[-1]).read_text()
    assert page.index("Answers") < page.index("<img")
    assert all(sentence.replace("'", "&#39;") in page for sentence in answers["answer"].head(3))


@pytest.mark.slow
def test_the_study_run_has_a_child_run_per_cell_in_mlflow(project):
    runs = mlflow_runs(project)
    parents = runs[runs["tags.mlflow.parentRunId"].isna()]
    children = runs[runs["tags.mlflow.parentRunId"].notna()]
    assert len(parents) == 1 and len(children) == 4
    assert parents["tags.mlflow.runName"].tolist() == ["study · memorization · tiny"]
    assert set(children["tags.mlflow.parentRunId"]) == set(parents["run_id"])
    assert set(children["tags.variant"]) == {"true_labels", "shuffled_labels"}
    assert children["metrics.training.train_accuracy"].notna().all()


@pytest.mark.slow
def test_cells_on_a_local_cluster_give_the_same_rows_as_in_process(tmp_path, monkeypatch):
    from ndg_pipeline.config import RunParams
    from ndg_pipeline.ndg.sharding import close_clients
    from ndg_pipeline.studies.cells import Cell, run_cells

    monkeypatch.chdir(tmp_path)  # the cells' shard folders are relative to the working folder
    base = RunParams().model_dump(mode="json")
    tiny = {"data.limit": 80, "train.epochs": 1, "train.checkpoints": [1], "mine.alpha": 5}
    cells = [Cell(0, "plain", 0, tiny), Cell(1, "shuffled", 0, {**tiny, "data.shuffle_labels": True})]
    here = run_cells(cells, base, ["ndg"], None)
    try:
        there = run_cells(cells, base, ["ndg"], "local", workers=2)
    finally:
        close_clients()
    pd.testing.assert_frame_equal(here, there)
    assert set(here["variant"]) == {"plain", "shuffled"}


@pytest.mark.slow
def test_a_recurrent_cell_is_measured_on_its_cell_map_its_last_state_and_its_steps(tmp_path, monkeypatch):
    from ndg_pipeline.config import RunParams, StudyParams
    from ndg_pipeline.studies.cells import Cell, run_cell

    with open("conf/base/parameters_study.yml") as file:
        study = StudyParams.model_validate(yaml.safe_load(file)["study"] | {"name": "recurrent"})
    monkeypatch.chdir(tmp_path)  # the cell's shard folder is relative to the working folder
    _, seed, overrides = study.cells()[0]
    tiny = {"data.limit": 120, "train.epochs": 1, "train.checkpoints": [1], "mine.alpha": 5}
    tiny |= {f"effective_information.model_layers.{key}": value for key, value in EI_TINY.items()}
    tiny |= {"interactions.timeline_per_class": 1, "interactions.split.iterations": 200}
    rows = run_cell(Cell(0, "state_16", seed, {**overrides, **tiny}), RunParams().model_dump(mode="json"), LENSES)
    measured = rows[rows["epoch"] == 1].set_index(["lens", "metric"])["value"]
    ei = {metric for lens, metric in measured.index if lens == "effective_information"}
    assert ei == {f"{layer}.{name}" for layer in ("cell.linear", "output") for name in ("ei_parts", "sensitivity")}
    assert measured[("effective_information", "cell.linear.ei_parts")] > 0
    assert 0 < measured[("interactions", "concepts_per_sample")] <= 2 * (2**7 - 1)  # AND and OR over 7 players
    assert measured[("ndg", "edges")] >= 0 and 0 <= measured[("training", "train_accuracy")] <= 1


@pytest.mark.slow
def test_a_later_study_never_becomes_what_a_resumed_study_loads(project):
    """After another study's run (newer versions of every study entry), resuming the first study's report loads
    that study's own runs and summary: the cells' runs depend on all parameters, which their records keep."""
    run_kedro(project, "run", "--pipelines=study", "--params", "study.name=dropout,study.preset=tiny")
    args = ["run", "--pipelines=study", "--from-nodes=study_report"]
    run_kedro(project, *args, "--params", "study.name=memorization,study.preset=tiny")
    answers = latest(project, "data/08_reporting/study_answers.parquet")
    assert set(answers["study"]) == {"memorization"} and set(answers["variant"]) == {"shuffled_labels"}
