"""Kedro nodes of the effective-information lens: each takes typed parameters and calls the library."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ndg_pipeline.config import EffectiveInformationParams
from ndg_pipeline.tracking import MetricHistory, metric_history

Model = Any  # a torch.nn.Module (the ndg pipeline's trained_model)


def _settings(params: EffectiveInformationParams, seed: int):
    from ndg_pipeline.effective_information.experiments import Measurement

    measure = params.measure
    return Measurement(
        samples=measure.samples,
        sensitivity_samples=measure.sensitivity_samples,
        bins=measure.bins,
        reference=measure.reference,
        seed=measure.seed + seed,
        relu_max=measure.relu_max,
        device=measure.device,
    )


def _training(params):
    from ndg_pipeline.effective_information.experiments import Training

    return Training(
        epochs=params.epochs,
        batch_size=params.batch_size,
        learning_rate=params.learning_rate,
        measure_epochs=tuple(params.measure_epochs),
        optimizer=params.optimizer,
        loss_reduction=params.loss_reduction,
    )


def run_paper_experiments(params: EffectiveInformationParams) -> pd.DataFrame:
    """Iris 4-5-5-3 and MNIST 5×5 networks, each trained per seed while every layer is measured at the chosen
    epochs (with its convergence checks)."""
    from ndg_pipeline.data.iris import load_iris_splits
    from ndg_pipeline.data.mnist_small import load_mnist_small
    from ndg_pipeline.effective_information.experiments import paper_iris, train_and_measure
    from ndg_pipeline.effective_information.networks import layered_network

    iris, mnist = params.iris, params.mnist_small
    iris_splits = (
        paper_iris(iris.split_seed, iris.train_size)
        if iris.preparation == "paper"
        else load_iris_splits(iris.test_fraction, iris.split_seed)
    )
    runs = [("iris", iris.widths, iris.activation, iris.training, iris_splits)]
    digits = load_mnist_small(mnist.classes, mnist.test_fraction, mnist.split_seed)
    for name, widths in mnist.networks.items():
        for activation in mnist.activations:
            runs.append((f"mnist_{name}_{activation}", widths, activation, mnist.training, digits))
    frames = []
    for experiment, widths, activation, training, splits in runs:
        for seed in params.seeds:
            frame = train_and_measure(
                layered_network(widths, activation, seed, bias=training.bias),
                splits.train,
                splits.test,
                _training(training),
                seed=seed,
                settings=_settings(params, seed),
                desc=f"{experiment} seed {seed}",
            )
            frames.append(
                frame.assign(
                    experiment=experiment,
                    architecture="-".join(map(str, widths)),
                    seed=seed,
                    train_examples=len(splits.train),
                    test_examples=len(splits.test),
                )
            )
    return pd.concat(frames, ignore_index=True)


def training_metrics(series: pd.DataFrame) -> MetricHistory:
    """Every (experiment, seed, layer) curve of the time series as MLflow metrics, step = epoch: the measures
    (whole-layer EI, its degeneracy and integration only where converged) and the convergence/range flags (1/0)."""
    from ndg_pipeline.effective_information.experiments import FLAGS, MEASURES

    history: MetricHistory = {}
    frame = series.assign(**{flag: series[flag].astype(float) for flag in FLAGS})
    for (experiment, seed, layer), part in frame.groupby(["experiment", "seed", "layer_index"], sort=True):
        prefix = f"{experiment}/seed{seed}/layer{layer}/"
        history.update(metric_history(part, "epoch", (*MEASURES, *FLAGS), prefix=prefix))
    return history


def measure_trained_model(
    model: Model, dataset_info: dict[str, Any], params: EffectiveInformationParams, splits: Any = None
) -> pd.DataFrame:
    """EI_parts, sensitivity and degeneracy of the trained model's chosen Linear layers with their convergence
    checks; whole-layer EI only where converged. With the dataset ``splits``, layers after unbounded activations
    are intervened on over the range their real activations span on training inputs (``observed_ranges``)."""
    from ndg_pipeline.effective_information.experiments import measure_model

    chosen = params.model_layers
    train = None if splits is None else splits.train
    dataset = dataset_info.get("name", "dataset")
    return measure_model(model, chosen.layers, params.model_measurement(), train, chosen.range_inputs, dataset=dataset)


def model_metrics(layers: pd.DataFrame) -> MetricHistory:
    """The trained model's per-layer measures as MLflow metrics (step 0)."""
    from ndg_pipeline.tracking import metrics

    values = {
        f"{row.layer}/{column}": getattr(row, column)
        for row in layers.itertuples()
        for column in ("ei", "ei_parts", "sensitivity", "degeneracy_parts", "outside_share")
    }
    flags = {
        f"{row.layer}/{flag}": float(getattr(row, flag))
        for row in layers.itertuples()
        for flag in ("ei_converged", "ei_parts_converged", "sensitivity_converged", "outside_flag")
    }
    return metrics(values | flags)


def report(series: pd.DataFrame, layers: pd.DataFrame, params: EffectiveInformationParams) -> str:
    """The lens's self-contained HTML report."""
    from ndg_pipeline.lineage import read
    from ndg_pipeline.reporting.effective_information import render_report
    from ndg_pipeline.reporting.header import run_header

    return render_report(series, layers, params.model_dump(), run_header(read(layers)))
