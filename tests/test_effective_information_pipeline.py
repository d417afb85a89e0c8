"""The effective-information pipeline end to end through the real Kedro CLI, catalog, parquet and MLflow store."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import make_project, mlflow_runs, run_kedro, versions

TINY = (
    "data.limit=200,train.epochs=1,effective_information.iris.training.epochs=2,"
    "effective_information.mnist_small.training.epochs=1,effective_information.measure.samples=1000,"
    "effective_information.measure.sensitivity_samples=200,effective_information.model_layers.samples=500,"
    "effective_information.model_layers.sensitivity_samples=100"
)


@pytest.mark.slow
def test_pipeline_writes_series_layers_report_and_per_epoch_metrics(tmp_path):
    project = make_project(tmp_path)
    run_kedro(project, "run", "--pipelines=effective_information", "--params", TINY)
    series = pd.read_parquet(versions(project, "data/07_model_output/ei_training_series.parquet")[-1])
    assert set(series.experiment) == {"iris", "mnist_shallow_sigmoid", "mnist_deep_sigmoid"}
    assert sorted(series[series.experiment == "iris"].epoch.unique()) == [0, 1, 2]
    assert (series.ei_parts >= 0).all() and (series.integration == series.ei - series.ei_parts).all()
    layers = pd.read_parquet(versions(project, "data/07_model_output/ei_model_layers.parquet")[-1])
    assert list(layers.layer) == ["encoder.10", "decoder.0", "decoder.3", "decoder.5"]
    assert layers.capped.all() and layers.ei.isna().all()  # bins^inputs ≫ 500 samples: whole-layer EI left out
    html = versions(project, "data/08_reporting/effective_information.html")[-1].read_text()
    assert "How to read this" in html and html.count("data:image/png;base64,") == 3 * 3
    runs = mlflow_runs(project)
    assert "metrics.ei.iris/seed0/layer0/ei_parts" in runs.columns
