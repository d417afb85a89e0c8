"""The effective-information pipeline end to end through the real Kedro CLI, catalog, parquet and MLflow store."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import make_project, mlflow_runs, run_kedro, versions

TINY = (
    "data.limit=200,train.epochs=1,effective_information.iris.training.epochs=2,"
    "effective_information.mnist_small.training.epochs=1,effective_information.measure.samples=1000,"
    "effective_information.measure.sensitivity_samples=200,effective_information.model_layers.samples=500,"
    "effective_information.model_layers.sensitivity_samples=100,effective_information.seeds=[0]"
)


@pytest.mark.slow
def test_pipeline_writes_series_layers_report_and_per_epoch_metrics(tmp_path):
    project = make_project(tmp_path)
    run_kedro(project, "run", "--pipelines=effective_information", "--params", TINY)
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
    runs = mlflow_runs(project)
    assert "metrics.ei.iris/seed0/layer0/ei_parts" in runs.columns
    assert "metrics.ei.iris/seed0/layer0/ei_parts_converged" in runs.columns
