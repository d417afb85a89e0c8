"""The effective-information pipeline end to end through the real Kedro CLI, catalog, parquet and MLflow store."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import make_project, mlflow_runs, run_kedro, run_notebook, versions

TINY = (
    "data.limit=200,train.epochs=1,effective_information.iris.training.epochs=2,"
    "effective_information.mnist_small.training.epochs=1,effective_information.measure.samples=1000,"
    "effective_information.measure.sensitivity_samples=200,effective_information.model_layers.samples=500,"
    "effective_information.model_layers.sensitivity_samples=100,effective_information.seeds=[0]"
)


@pytest.fixture(scope="module")
def ei_project(tmp_path_factory):
    """One tiny run of the effective_information pipeline, shared by the tests below."""
    project = make_project(tmp_path_factory.mktemp("effective_information"))
    run_kedro(project, "run", "--pipelines=effective_information", "--params", TINY)
    return project


@pytest.mark.slow
def test_pipeline_writes_series_layers_report_and_per_epoch_metrics(ei_project):
    project = ei_project
    series = pd.read_parquet(versions(project, "data/07_model_output/ei_training_series.parquet")[-1])
    assert set(series.experiment) == {"iris", "mnist_shallow_sigmoid", "mnist_deep_sigmoid"}
    assert sorted(series[series.experiment == "iris"].epoch.unique()) == [0, 2]  # measure_epochs within 2 epochs
    assert series[series.experiment == "iris"].train_examples.iloc[0] == 100  # the paper's Iris: 100 train, 50 test
    assert (series.ei_parts >= 0).all()
    converged = series[series.ei_converged]
    assert (series.ei.isna() == ~series.ei_converged).all() and (
        converged.integration == converged.ei - converged.ei_parts
    ).all()
    assert not series[series.n_in == 25].ei_converged.any()  # 8^25 input cells: never reported at 1000 samples
    layers = pd.read_parquet(versions(project, "data/07_model_output/ei_model_layers.parquet")[-1])
    assert list(layers.layer) == ["encoder.10", "decoder.0", "decoder.3", "decoder.5"]
    assert layers.capped.all() and layers.ei.isna().all()  # bins^inputs ≫ 500 samples: whole-layer EI left out
    assert layers.ranges_observed.any() and "outside_share" in layers
    html = versions(project, "data/08_reporting/effective_information.html")[-1].read_text()
    assert "How to read this" in html and "not converged at 1000 samples" in html
    assert '<td class="num">25</td>' in html and "25.000" not in html and "<th>n_in</th>" not in html  # sizes, names
    assert html.count("<style>") == 2 and ".runline" in html  # the shared page style, plus the wrapping rule
    runs = mlflow_runs(project)
    assert "metrics.ei.iris/seed0/layer0/ei_parts" in runs.columns
    assert "metrics.ei.iris/seed0/layer0/ei_parts_converged" in runs.columns


@pytest.mark.slow
def test_the_notebook_draws_a_layers_causal_plane_path_and_the_models_layers(ei_project, monkeypatch):
    started_in = ei_project / "data" / "07_model_output"  # any folder inside the project
    outputs = run_notebook("effective_information.ipynb", started_in, monkeypatch, NDG_LAYER_INDEX="1", NDG_PARAMS=TINY)
    printed = "".join(output.get("text", "") for output in outputs)
    tables = "".join(output.get("data", {}).get("text/html", "") for output in outputs)
    series = pd.read_parquet(versions(ei_project, "data/07_model_output/ei_training_series.parquet")[-1])
    path = series.query("experiment == 'iris' and layer_index == 1 and seed == 0").sort_values("epoch")
    assert "showing iris, layer 2" in printed
    assert f"seed 0: EI_parts {path.ei_parts.iloc[0]:.3f} → {path.ei_parts.iloc[-1]:.3f} bits" in printed
    assert sum("image/png" in output.get("data", {}) for output in outputs) == 1  # the causal-plane path
    assert "sensitivity_converged" in tables and "outside_flag" in tables  # the flags table
    assert "4 layers; whole-layer EI converged for 0" in printed  # capped at 500 samples
    assert all(name in tables for name in ("encoder.10", "decoder.5", "in_high", "out_high"))
