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


def run_paper_experiments(params: EffectiveInformationParams) -> pd.DataFrame:
    """Iris 4-5-5-3 and MNIST 5×5 networks, each trained per seed while every layer is measured per epoch."""
    from ndg_pipeline.data.iris import load_iris_splits
    from ndg_pipeline.data.mnist_small import load_mnist_small
    from ndg_pipeline.effective_information.experiments import train_and_measure
    from ndg_pipeline.effective_information.networks import layered_network

    iris, mnist = params.iris, params.mnist_small
    runs = [
        ("iris", iris.widths, iris.activation, iris.training, load_iris_splits(iris.test_fraction, iris.split_seed))
    ]
    digits = load_mnist_small(mnist.classes, mnist.test_fraction, mnist.split_seed)
    for name, widths in mnist.networks.items():
        for activation in mnist.activations:
            runs.append((f"mnist_{name}_{activation}", widths, activation, mnist.training, digits))
    frames = []
    for experiment, widths, activation, training, splits in runs:
        for seed in params.seeds:
            frame = train_and_measure(
                layered_network(widths, activation, seed),
                splits.train,
                splits.test,
                epochs=training.epochs,
                batch_size=training.batch_size,
                learning_rate=training.learning_rate,
                seed=seed,
                settings=_settings(params, seed),
                measure_every=training.measure_every,
                desc=f"{experiment} seed {seed}",
            )
            frames.append(frame.assign(experiment=experiment, architecture="-".join(map(str, widths)), seed=seed))
    return pd.concat(frames, ignore_index=True)


def training_metrics(series: pd.DataFrame) -> MetricHistory:
    """Every (experiment, seed, layer, measure) curve of the time series as an MLflow metric, step = epoch."""
    from ndg_pipeline.effective_information.experiments import MEASURES

    history: MetricHistory = {}
    for (experiment, seed, layer), frame in series.groupby(["experiment", "seed", "layer_index"], sort=True):
        history.update(metric_history(frame, "epoch", MEASURES, prefix=f"{experiment}/seed{seed}/layer{layer}/"))
    return history


def measure_trained_model(
    model: Model, dataset_info: dict[str, Any], params: EffectiveInformationParams
) -> pd.DataFrame:
    """EI_parts, sensitivity and degeneracy of the trained model's chosen Linear layers; whole-layer EI only where
    the sample count does not cap it (NaN otherwise)."""
    import torch

    from ndg_pipeline.effective_information.experiments import Measurement, measure_layers
    from ndg_pipeline.effective_information.topology import linear_layers, topology_of

    chosen = params.model_layers
    example = torch.zeros((1, 1, 28, 28))
    known = linear_layers(topology_of(model, example))
    unknown = sorted(set(chosen.layers) - set(known))
    if unknown:
        raise ValueError(
            f"effective_information.model_layers.layers names {unknown}, which are not Linear layers of the trained "
            f"model ({dataset_info.get('name', 'dataset')}); its Linear layers are {known}."
        )
    settings = Measurement(
        samples=chosen.samples,
        sensitivity_samples=chosen.sensitivity_samples,
        bins=chosen.bins,
        reference=params.measure.reference,
        seed=params.measure.seed,
        relu_max=chosen.relu_max,
        device=params.measure.device,
        whole_when_capped=False,
    )
    return pd.DataFrame(measure_layers(model, example, settings, chosen.layers))


def model_metrics(layers: pd.DataFrame) -> MetricHistory:
    """The trained model's per-layer measures as MLflow metrics (step 0)."""
    from ndg_pipeline.tracking import metrics

    values = {
        f"{row.layer}/{column}": getattr(row, column)
        for row in layers.itertuples()
        for column in ("ei", "ei_parts", "sensitivity", "degeneracy_parts")
    }
    return metrics(values)


def report(series: pd.DataFrame, layers: pd.DataFrame, params: EffectiveInformationParams) -> str:
    """The lens's self-contained HTML report."""
    from ndg_pipeline.reporting.effective_information import render_report

    return render_report(series, layers, params.model_dump())
