"""The interaction lens' nodes on real tiny models and data, and the whole pipeline through the real Kedro CLI,
catalog, parquet files and MLflow store."""

from __future__ import annotations

import dataclasses
import pickle

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from conftest import make_project, mlflow_runs, run_kedro, run_notebook, versions
from hf_fixtures import save_text_model, save_tokenizer, texts_of, write_sst2

from ndg_pipeline.config import DataParams, InteractionsParams, RunParams, TrainParams
from ndg_pipeline.data.tabular import ADULT_FEATURES, load_adult, load_table, read_adult
from ndg_pipeline.interactions import and_inverse, or_inverse
from ndg_pipeline.pipelines.interactions import nodes

ADULT_ROWS = [  # the first rows of the real adult.data, and one with missing values
    "39, State-gov, 77516, Bachelors, 13, Never-married, Adm-clerical, Not-in-family, "
    "White, Male, 2174, 0, 40, United-States, <=50K",
    "50, Self-emp-not-inc, 83311, Bachelors, 13, Married-civ-spouse, Exec-managerial, Husband, "
    "White, Male, 0, 0, 13, United-States, <=50K",
    "38, Private, 215646, HS-grad, 9, Divorced, Handlers-cleaners, Not-in-family, "
    "White, Male, 0, 0, 40, United-States, <=50K",
    "53, Private, 234721, 11th, 7, Married-civ-spouse, Handlers-cleaners, Husband, "
    "Black, Male, 0, 0, 40, United-States, <=50K",
    "31, Private, 45781, Masters, 14, Never-married, Prof-specialty, Not-in-family, "
    "White, Female, 14084, 0, 50, United-States, >50K",
    "42, Private, 159449, Bachelors, 13, Married-civ-spouse, Exec-managerial, Husband, "
    "White, Male, 5178, 0, 40, United-States, >50K",
    "37, Private, 280464, Some-college, 10, Married-civ-spouse, Exec-managerial, Husband, "
    "Black, Male, 0, 0, 80, United-States, >50K",
    "30, State-gov, 141297, Bachelors, 13, Married-civ-spouse, Prof-specialty, Husband, "
    "Asian-Pac-Islander, Male, 0, 0, 40, India, >50K",
    "23, Private, 122272, Bachelors, 13, Never-married, Adm-clerical, Own-child, "
    "White, Female, 0, 0, 30, United-States, <=50K",
    "32, ?, 205019, Assoc-acdm, 12, Never-married, ?, Not-in-family, Black, Male, 0, 0, 50, United-States, <=50K",
]


def write_adult(path, copies: int = 4):
    path.write_text("\n".join(ADULT_ROWS * copies) + "\n", encoding="utf-8")
    return path


def test_adult_csv_layout_is_read_into_twelve_numeric_players(tmp_path):
    frame = read_adult(write_adult(tmp_path / "adult.data", copies=1))
    assert len(frame) == 9  # the row with '?' is dropped
    splits = load_adult(write_adult(tmp_path / "adult.data"), test_fraction=0.25, seed=0)
    assert splits.info["features"] == ADULT_FEATURES and len(ADULT_FEATURES) == 12
    rows = splits.train.dataset.tensors[0]
    assert rows.shape[1] == 12 and abs(float(rows.mean(0).abs().max())) < 1e-5  # standardised on train
    assert splits.class_names == ["<=50K", ">50K"] and len(splits.train) + len(splits.test) == 36
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match=r"adult\.data layout"):
        read_adult(tmp_path / "bad.csv")
    with pytest.raises(FileNotFoundError, match=r"interactions\.tabular\.path"):
        load_table("adult", str(tmp_path / "missing.data"))


def test_parameters_refuse_too_many_players_and_adult_without_a_file():
    with pytest.raises(ValueError, match="players"):
        InteractionsParams.model_validate({"image": {"grid": [5, 5]}})
    with pytest.raises(ValueError, match=r"tabular\.path"):
        InteractionsParams.model_validate({"tabular": {"table": "adult"}})
    assert InteractionsParams().split_learning_rate(9) == 1e-5 and InteractionsParams().split_learning_rate(13) < 1e-6
    with pytest.raises(ValueError, match=r"max_patterns \(500\) exceeds greedy_from \(400\)"):
        InteractionsParams.model_validate({"patterns": {"max_patterns": 500}})
    for group in ("split", "baseline_learning"):
        with pytest.raises(ValueError, match="learning_rate"):
            InteractionsParams.model_validate({group: {"learning_rate": -1e-3}})
    with pytest.raises(ValueError, match="cut"):
        InteractionsParams.model_validate({"patterns": {"cut": "share"}})
    with pytest.raises(ValueError, match=r"interactions.second_model.seed \(0\) equals train.seed"):
        RunParams.model_validate({"interactions": {"second_model": {"seed": 0}}})


def run_nodes(explained_and_samples, params: InteractionsParams):
    explained, samples = explained_and_samples
    rewards = nodes.compute_rewards(explained, params)
    values, offsets = nodes.compute_interactions(rewards, params)
    graphs, patterns = nodes.build_graphs(rewards, values, offsets, explained, params)
    metrics, curves, mlflow_metrics = nodes.compute_metrics(rewards, values, offsets, patterns, explained, params)
    page, graphs_html = nodes.report(explained, samples, patterns, metrics, curves, graphs, params)
    return {
        "rewards": rewards,
        "values": values,
        "offsets": offsets,
        "graphs": graphs,
        "patterns": patterns,
        "metrics": metrics,
        "mlflow": mlflow_metrics,
        "page": page,
        "graphs_html": graphs_html,
    }


def test_word_players_of_a_tiny_transformer(tmp_path):
    data = write_sst2(tmp_path / "sst2", n_train=20, n_test=60)
    tokenizer = save_tokenizer(tmp_path / "model", texts_of(data / "train.tsv") + texts_of(data / "dev.tsv"))
    save_text_model(tmp_path / "model", tokenizer)
    from ndg_pipeline.data.text import load_sst2
    from ndg_pipeline.models import build_model

    splits = load_sst2(DataParams(name="sst2", path=str(data), processor=str(tmp_path / "model")))
    model = build_model(
        {"architecture": "hf_sequence_classification", "num_classes": 2, "source": str(tmp_path / "model")}
    )
    params = InteractionsParams.model_validate(
        {
            "setting": "text",
            "samples_per_class": 2,
            "device": "cpu",
            "text": {"max_words": 6, "min_words": 3},
            "split": {"iterations": 30},
            "patterns": {"min_patterns": 2, "max_patterns": 6},
        }
    )
    info = {"name": "sst2", "tokenizer": str(tmp_path / "model")}
    explained, samples = nodes.prepare_setting(model, None, splits, info, params, TrainParams())
    assert list(explained.models) == ["first"]  # no second transformer: it would not be pretrained
    assert samples.players.between(3, 6).all() and len(samples) >= 2
    for sample, row in zip(explained.samples, samples.itertuples(), strict=True):
        assert len(sample.names) == row.players and " ".join(sample.names) in tokenizer.decode(
            sample.inputs["input_ids"]
        )
    out = run_nodes((explained, samples), params)
    sizes = out["rewards"].groupby("sample").size()
    assert (sizes == 2 ** samples.players.to_numpy()).all()
    full = out["rewards"].sort_values("mask").groupby("sample").reward.last()
    assert (full > 0).all()
    assert "samplewise_transferability" not in set(out["metrics"].metric)  # words differ between sentences
    assert "Interaction concepts" in out["page"]


def test_tabular_setting_trains_two_mlps_and_explains_wine():
    params = InteractionsParams.model_validate(
        {
            "setting": "tabular",
            "samples_per_class": 1,
            "classes": None,
            "device": "cpu",
            "tabular": {"epochs": 15, "layers": 3},
            "split": {"iterations": 40},
            "patterns": {"min_patterns": 3, "max_patterns": 10},
            "metrics": {"dictionary_size": 5},
        }
    )
    explained, samples = nodes.prepare_setting(None, None, None, {}, params, TrainParams())
    assert set(explained.models) == {"first", "second", "null"} and len(samples) == 3  # null: untrained, not selected
    assert samples.class_name.tolist() == sorted(samples.class_name.tolist(), key=explained.splits.class_names.index)
    from ndg_pipeline.interactions.settings import select_samples

    studied = select_samples(dataclasses.replace(explained, models={"first": explained.models["first"]}), 3, 0, [2])
    assert [s.label for s in studied] == [2, 2, 2]
    with pytest.raises(ValueError, match=r"interactions.classes \[7\] are not class ids 0…2"):
        select_samples(explained, 1, 0, [0, 7])
    out = run_nodes((explained, samples), params)
    table = out["metrics"].set_index("metric")
    metrics = table.value.to_dict()
    assert metrics["players"] == 13 and metrics["reconstruction_error_and_or"] < 1e-9
    assert 0 <= metrics["modelwise_random_baseline"] < metrics["modelwise_transferability_0.30"] <= 1
    headlines = table.dropna(subset=["low"])
    assert {"concepts_per_sample", "explanation_ratio", "strength_share", "modelwise_transferability_0.05"} <= set(
        headlines.index
    )
    assert (headlines.low <= headlines.value + 1e-12).all() and (headlines.value <= headlines.high + 1e-12).all()
    assert headlines.null.notna().all() and (table.explains == "v(S) − v(∅)").all()
    overlap = (headlines.low <= headlines.null_high) & (headlines.null_low <= headlines.high)
    assert (headlines.matches_null == overlap).all()  # the null explains the number when the intervals overlap
    assert set(out["values"].kind) == {"harsanyi", "and", "or"}
    names = explained.feature_names
    for graph in out["graphs"].values():
        assert {graph.nodes[n]["label"] for n in graph if graph.nodes[n]["layer"] == "player"} == set(names)


SMALL_NDG = "data.limit=1000,train.epochs=5,train.batch_size=32,mine.alpha=20"
SMALL = ",".join(
    [
        "interactions.samples_per_class=1",
        "interactions.split.iterations=200",
        "interactions.patterns.min_patterns=3",
        "interactions.patterns.max_patterns=12",
        "interactions.metrics.dictionary_size=10",
        "interactions.report.samples_shown=2",
    ]
)


@pytest.fixture(scope="module")
def interaction_project(tmp_path_factory) -> dict:
    """The ndg pipeline once (for trained_model and second_model), then the interaction lens twice with the same
    parameters."""
    project = make_project(tmp_path_factory.mktemp("interactions"))
    missing = run_kedro(project, "run", "--pipelines=interactions", "--params", SMALL, check=False)
    run_kedro(project, "run", "--pipelines=ndg", "--params", SMALL_NDG)
    runs = [run_kedro(project, "run", "--pipelines=interactions", "--params", f"{SMALL_NDG},{SMALL}") for _ in range(2)]
    return {"project": project, "missing": missing, "runs": runs}


def latest(project, relative: str) -> pd.DataFrame:
    return pd.read_parquet(versions(project, relative)[-1])


@pytest.mark.slow
def test_interactions_need_both_models_and_name_the_command_that_trains_them(interaction_project):
    missing = interaction_project["missing"]
    output = " ".join((missing.stdout + missing.stderr).split())
    assert missing.returncode != 0 and "trained_model" in output and "second_model" in output
    assert "kedro run --pipelines=ndg" in output and "Traceback" not in output


@pytest.mark.slow
def test_the_catalog_holds_rewards_interactions_graphs_and_the_report(interaction_project):
    project = interaction_project["project"]
    rewards = latest(project, "data/07_model_output/interaction_rewards.parquet")
    values = latest(project, "data/07_model_output/interaction_values.parquet")
    offsets = latest(project, "data/07_model_output/interaction_offsets.parquet")
    samples = latest(project, "data/05_model_input/interaction_samples.parquet")
    assert 1 <= len(samples) == samples.label.nunique()  # ≤ 1 input per class, correct for both tiny models
    assert len(rewards) == 3 * len(samples) * 2**9 and set(rewards.model) == {"first", "second", "null"}
    assert (rewards[rewards["mask"] == 0].reward == 0).all()  # v(S) − v(∅) by default
    assert list(values.columns) == ["model", "sample", "mask", "order", "kind", "value"]
    first = rewards[(rewards.model == "first") & (rewards["sample"] == 0)].sort_values("mask")
    assert first.reward.iloc[-1] > 0  # v(N): log-odds of the true class of a correct input
    parts = {
        k: g.sort_values("mask").value.to_numpy()
        for k, g in values[(values.model == "first") & (values["sample"] == 0)].groupby("kind")
    }
    np.testing.assert_allclose(and_inverse(parts["harsanyi"]), first.reward, atol=1e-9)
    q = offsets[(offsets.model == "first") & (offsets["sample"] == 0)].sort_values("mask").q.to_numpy()
    np.testing.assert_allclose(and_inverse(parts["and"]) + or_inverse(parts["or"]), first.reward + q, atol=1e-9)
    assert (values[values.kind == "or"].query("order <= 1").value == 0).all()
    with versions(project, "data/07_model_output/interaction_graphs.pkl")[-1].open("rb") as handle:
        graphs = pickle.load(handle)
    assert len(graphs) == len(samples) and all(nx.is_directed_acyclic_graph(g) for g in graphs.values())
    patterns = latest(project, "data/07_model_output/interaction_patterns.parquet")
    assert patterns.groupby("sample").size().between(3, 12).all()
    replayed = latest(project, "data/07_model_output/interaction_noise_removal.parquet")
    assert len(replayed) == 4 * len(samples)  # four variants of every input of the first model
    ours = replayed[replayed.variant == "ours (the default)"].set_index("sample").concepts
    assert ours.to_dict() == patterns.groupby("sample").size().to_dict()  # the run's own noise removal
    report = versions(project, "data/08_reporting/interaction_report.html")[-1].read_text()
    metrics = latest(project, "data/08_reporting/interaction_metrics.parquet").set_index("metric").value
    assert f"{metrics['concepts_per_sample']:.1f}" in report and "<svg" in report and "How to read" in report
    assert "v(S) − v(∅)" in report and "interval" in report and "untrained network" in report
    assert "<script" in versions(project, "data/08_reporting/interaction_graphs.html")[-1].read_text()


@pytest.mark.slow
def test_runs_are_deterministic_and_tracked_in_mlflow(interaction_project):
    project = interaction_project["project"]
    for relative in (
        "data/07_model_output/interaction_values.parquet",
        "data/08_reporting/interaction_metrics.parquet",
    ):
        first, second = (pd.read_parquet(p) for p in versions(project, relative))
        pd.testing.assert_frame_equal(first, second)
    runs = mlflow_runs(project)
    lens = runs[(runs["tags.pipeline"] == "interactions") & (runs.status == "FINISHED")]
    assert len(lens) == 2  # (the run without a trained_model failed)
    assert lens["metrics.interactions.explanation_ratio"].notna().all()
    import mlflow

    artifacts = {a.path for a in mlflow.MlflowClient().list_artifacts(lens.iloc[0].run_id)}
    assert {"interaction_report.html", "interaction_graphs.html"} <= artifacts


@pytest.mark.slow
def test_the_notebook_shows_an_inputs_concepts_the_headlines_and_its_graph(interaction_project, monkeypatch):
    import shutil

    project = interaction_project["project"]
    started_in = project / "data" / "08_reporting"  # any folder inside the project
    outputs = run_notebook(
        "interactions.ipynb", started_in, monkeypatch, NDG_SAMPLE="1", NDG_PARAMS=f"{SMALL_NDG},{SMALL}"
    )
    printed = "".join(output.get("text", "") for output in outputs)
    tables = "".join(output.get("data", {}).get("text/html", "") for output in outputs)
    samples = latest(project, "data/05_model_input/interaction_samples.parquet").set_index("sample")
    kept = latest(project, "data/07_model_output/interaction_patterns.parquet").query("sample == 1")
    shown = f"sample 1: test input {samples.test_index[1]}, class {samples.class_name[1]}; {len(kept)} concepts kept"
    assert shown in printed
    assert f"explaining {kept.explanation_ratio.iloc[0]:.1%}" in printed
    assert sum("image/png" in output.get("data", {}) for output in outputs) == 2  # the input's concepts, sparsity
    metrics = latest(project, "data/08_reporting/interaction_metrics.parquet").set_index("metric")
    assert "verdicts: {" in printed and "untrained network" in tables
    assert f"{metrics.value['concepts_per_sample']:.1f}" in tables  # the headline table, formatted as the report
    graph = kept.iloc[0]
    size = f"'coalitions': {graph.coalitions}, 'nodes': {graph.graph_nodes}, 'edges': {graph.graph_edges}"
    assert "AND-OR graph of sample 1: {'concepts': " in printed and size in printed
    if shutil.which("dot"):
        assert sum("image/svg+xml" in output.get("data", {}) for output in outputs) == 1
