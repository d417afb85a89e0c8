"""The whole ndg pipeline (`kedro run --env=<setting>`) on tiny text, sentence-pair, code and image fixtures.

Each run loads a tiny random transformer from a save_pretrained folder and fine-tunes it for one epoch (AllNLI:
none, as its setting uses the cross-encoder as trained), then records, binarizes, mines, draws, intervenes and
reports, exactly as a user's run with real data and weights would.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT, mlflow_runs, run_kedro, versions
from hf_fixtures import (
    save_text_model,
    save_tokenizer,
    save_vit,
    texts_of,
    write_allnli,
    write_cub,
    write_devign,
    write_sst2,
)

from ndg_pipeline.config import validate

SETTINGS = ("sst2", "allnli", "devign", "cub200")
# One short epoch; α = 3 as, on 80 inputs, the paper's α (20, 100) expects under one counterexample for any pair.
QUICK = ",".join(
    [
        "train.epochs=1",
        "train.batch_size=16",
        "record.batch_size=64",
        "intervene.batch_size=64",
        "data.max_length=32",
        "mine.alpha=3",
    ]
)


def params(data: Path, model: Path, *extra: str) -> str:
    """The --params of a tiny run: local data and model folders, one short epoch."""
    return ",".join([QUICK, f"data.path={data}", f"data.processor={model}", f"model.source={model}", *extra])


def run_setting(project: Path, env: str, overrides: str) -> dict[str, pd.DataFrame]:
    """Run the ndg pipeline in ``env``; return the edges and intervention tables it saved."""
    run_kedro(project, "run", "--pipelines=ndg", f"--env={env}", "--params", overrides)
    tables = {
        "edges": "data/07_model_output/edges.parquet",
        "intervention": "data/08_reporting/intervention_summary.parquet",
        "activations": "data/04_feature/activations_train.parquet",
    }
    assert versions(project, "data/08_reporting/report.html"), "the report was not written"
    return {name: pd.read_parquet(versions(project, path)[-1]) for name, path in tables.items()}


def check_run(project: Path, tables: dict[str, pd.DataFrame], layers: dict[str, int], trained: bool = True) -> None:
    """Recorded widths per layer, class edges among the mined ones, Table 5 rows whose sets write neurons,
    per-epoch MLflow metrics (accuracy only when the model was not trained)."""
    columns = [c for c in tables["activations"].columns if c not in ("predicted", "label")]
    assert {layer: sum(c.startswith(f"{layer}:") for c in columns) for layer in layers} == layers
    edges = tables["edges"]
    assert (edges["source"].str.startswith("class:") | edges["target"].str.startswith("class:")).any()
    summary = tables["intervention"]
    assert set(summary["split"]) == {"train", "test"}
    assert {("patch", "graph"), ("patch", "random"), ("reference", "graph"), ("reference", "random")} <= set(
        zip(summary["mode"], summary["sets"], strict=True)
    )
    assert (summary.loc[summary["mode"] == "patch", "mean_set_size"] > 0).all(), "the sets write no neuron"
    runs = mlflow_runs(project)
    assert ("metrics.train.loss" in runs) == trained and runs["metrics.train.test_accuracy"].notna().any()


@pytest.mark.parametrize("env", SETTINGS)
def test_setting_parameters_pass_the_schema(env):
    from kedro.config import OmegaConfigLoader

    from ndg_pipeline.settings import CONFIG_LOADER_ARGS

    loader = OmegaConfigLoader(str(ROOT / "conf"), **{**CONFIG_LOADER_ARGS, "default_run_env": env})
    checked = validate(loader["parameters"])
    assert checked.data.name == env
    assert set(checked.record.layers) == set(checked.binarize.thresholds)


@pytest.mark.slow
def test_sst2_two_layers_end_to_end(kedro_project, tmp_path):
    data = write_sst2(tmp_path / "SST-2")
    tokenizer = save_tokenizer(tmp_path / "model", texts_of(data / "train.tsv"))
    model = save_text_model(tmp_path / "model", tokenizer, "distilbert", num_labels=2)
    two_layers = ("record.layers.ffn=distilbert.transformer.layer.1.ffn.lin1", "binarize.thresholds.ffn=pre_activation")
    tables = run_setting(kedro_project, "sst2", params(data, model, *two_layers))
    check_run(kedro_project, tables, {"pre_classifier": 32, "ffn": 64})
    neurons = pd.concat([tables["edges"]["source"], tables["edges"]["target"]]).str.extract(r"^¬?(\w+):")[0]
    assert {"pre_classifier", "ffn"} <= set(neurons), "both layers take part in the mined graph"


@pytest.mark.slow
def test_allnli_sentence_pairs_with_the_model_as_trained_end_to_end(kedro_project, tmp_path):
    data = write_allnli(tmp_path / "AllNLI.tsv.gz")
    tokenizer = save_tokenizer(tmp_path / "model", texts_of(data), style="roberta")
    model = save_text_model(tmp_path / "model", tokenizer, "roberta", num_labels=3)
    tables = run_setting(kedro_project, "allnli", params(data, model, "data.limit=null", "train.epochs=0"))
    check_run(kedro_project, tables, {"dense": 32}, trained=False)


@pytest.mark.slow
def test_devign_code_end_to_end(kedro_project, tmp_path):
    data = write_devign(tmp_path / "devign")
    tokenizer = save_tokenizer(tmp_path / "model", texts_of(data / "train.jsonl"), style="roberta")
    model = save_text_model(tmp_path / "model", tokenizer, "roberta", num_labels=2)
    tables = run_setting(kedro_project, "devign", params(data, model))
    check_run(kedro_project, tables, {"dense": 32})


@pytest.mark.slow
def test_cub200_images_end_to_end(kedro_project, tmp_path):
    data = write_cub(tmp_path / "CUB_200_2011")
    model = save_vit(tmp_path / "model", num_labels=3)
    tables = run_setting(kedro_project, "cub200", params(data, model))
    check_run(kedro_project, tables, {"cls": 32})
