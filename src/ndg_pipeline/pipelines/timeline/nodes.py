"""Kedro nodes of the timeline: every lens on every checkpoint of one training run, and the cross-lens links on
the final model. Each lens measures a checkpoint with the same library calls its own pipeline makes, so a
checkpoint's numbers here are the numbers that lens's pipeline gives for that model."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pandas as pd

from ndg_pipeline.config import (
    BinarizeParams,
    EffectiveInformationParams,
    InteractionsParams,
    InterveneParams,
    MineParams,
    RecordParams,
    ScaleParams,
    TimelineParams,
)
from ndg_pipeline.tracking import MetricHistory, metric_history

Model = Any  # a torch.nn.Module
Splits = Any  # ndg_pipeline.data.DatasetSplits
Checkpoints = dict[int, Callable[[], Model]]  # epoch → load function (ndg_pipeline.io.TorchCheckpointsDataset)

log = logging.getLogger(__name__)
EPOCH = "epoch"


def _each(checkpoints: Checkpoints, lens: str):
    """(epoch, model) for every checkpoint, oldest first, with a progress bar."""
    from tqdm.auto import tqdm

    for epoch, load in tqdm(sorted(checkpoints.items()), desc=f"timeline: {lens}"):
        yield epoch, load()


def ndg_over_checkpoints(
    checkpoints: Checkpoints,
    splits: Splits,
    info: dict[str, Any],
    record: RecordParams,
    binarize: BinarizeParams,
    mine: MineParams,
    intervene: InterveneParams,
    scale: ScaleParams,
) -> pd.DataFrame:
    """Per checkpoint: the NDG's edges, their mean train/test accuracy, and the test split's aligned % of each
    value mode beside its random-set baseline (:func:`ndg_pipeline.ndg.measure_model`, the ndg pipeline's stages)."""
    from ndg_pipeline.ndg import measure_model

    return pd.DataFrame(
        [
            {
                EPOCH: epoch,
                **measure_model(model, splits, info["num_classes"], record, binarize, mine, intervene, scale),
            }
            for epoch, model in _each(checkpoints, "NDG")
        ]
    )


INTERACTION_METRICS = ("concepts_per_sample", "explanation_ratio", "salient_ratio", "salient_concepts_per_sample")


def interactions_over_checkpoints(
    checkpoints: Checkpoints, explained: Any, interactions: InteractionsParams
) -> pd.DataFrame:
    """Per checkpoint, on the first ``interactions.timeline_per_class`` inputs per class of the interaction lens's
    seeded selection (chosen on the final model): concepts per sample, the authors' explanation ratio R and the
    salient ratio (:func:`ndg_pipeline.interactions.measure_model`, the lens's stages; samples a checkpoint
    misclassifies are kept, so the set stays fixed)."""
    import dataclasses

    from ndg_pipeline.interactions import first_per_class, measure_model

    followed = dataclasses.replace(
        explained, samples=first_per_class(explained.samples, interactions.timeline_per_class)
    )
    rows = []
    for epoch, model in _each(checkpoints, "interactions"):
        table = measure_model(model, followed, interactions)
        measured = dict(zip(table["metric"], table["value"], strict=True))
        rows.append({EPOCH: epoch, **{name: measured[name] for name in INTERACTION_METRICS}})
    return pd.DataFrame(rows)


def ei_over_checkpoints(
    checkpoints: Checkpoints,
    info: dict[str, Any],
    effective_information: EffectiveInformationParams,
    splits: Any = None,
) -> pd.DataFrame:
    """Per checkpoint and measured layer: EI, EI_parts, sensitivity and degeneracy (the library call the
    effective-information pipeline makes for the trained model, run on that checkpoint)."""
    from ndg_pipeline.effective_information.experiments import measure_model

    chosen = effective_information.model_layers
    settings = effective_information.model_measurement()
    train = None if splits is None else splits.train
    dataset = info.get("name", "dataset")
    frames = [
        measure_model(model, chosen.layers, settings, train, chosen.range_inputs, dataset=dataset).assign(
            **{EPOCH: epoch}
        )
        for epoch, model in _each(checkpoints, "effective information")
    ]
    table = pd.concat(frames, ignore_index=True)
    return table[[EPOCH, *table.columns.drop(EPOCH)]]


def converged_only(ei: pd.DataFrame) -> pd.DataFrame:
    """``ei`` with EI_parts and sensitivity set to NaN where their N/2 → N check failed (``*_converged`` false),
    and degeneracy recomputed from what is left."""
    masked = {
        measure: ei[measure].where(ei[f"{measure}_converged"].astype(bool))
        for measure in ("ei_parts", "sensitivity")
        if f"{measure}_converged" in ei
    }
    ei = ei.assign(**masked)
    return ei.assign(degeneracy_parts=ei["sensitivity"] - ei["ei_parts"]) if masked else ei


def timeline_table(
    ndg: pd.DataFrame, interactions: pd.DataFrame, ei: pd.DataFrame
) -> tuple[pd.DataFrame, MetricHistory]:
    """One row per checkpoint, one column per lens metric (``ndg.*``, ``interactions.*``, ``ei.<layer>.*``), and
    the same numbers as MLflow metrics with step = epoch, so the MLflow UI overlays the lenses. EI values whose
    convergence check failed are left out (NaN), as the effective-information lens leaves out whole-layer EI."""
    ei = converged_only(ei)
    wide_ei = ei.pivot(index=EPOCH, columns="layer", values=["ei", "ei_parts", "sensitivity", "degeneracy_parts"])
    wide_ei.columns = [f"ei.{layer}.{measure}" for measure, layer in wide_ei.columns]
    table = (
        ndg.set_index(EPOCH)
        .add_prefix("ndg.")
        .join(interactions.set_index(EPOCH).add_prefix("interactions."), how="outer")
        .join(wide_ei, how="outer")
        .reset_index()
    )
    return table, metric_history(table, EPOCH, table.columns.drop(EPOCH), prefix="")


def layers_to_dependencies(
    model: Model, splits: Splits, ei_layers: pd.DataFrame, edges: pd.DataFrame, record: RecordParams
) -> pd.DataFrame:
    """Per recorded layer of the final model: EI, EI_parts, sensitivity and degeneracy of the Linear producing it
    beside the number of NDG edges touching it and their test accuracy."""
    from ndg_pipeline.batches import loader
    from ndg_pipeline.crosslens import layer_dependencies, producing_linear

    example, _ = next(iter(loader(splits.test, batch_size=1)))  # one test input, batched as the model takes it
    producers = {alias: producing_linear(model, path, example) for alias, path in record.layers.items()}
    return layer_dependencies(ei_layers, edges, producers)


def concepts_to_neurons(
    model: Model,
    explained: Any,
    patterns: pd.DataFrame,
    edges: pd.DataFrame,
    record: RecordParams,
    binarize: BinarizeParams,
    timeline: TimelineParams,
) -> pd.DataFrame:
    """For each explained sample of the final model, its strongest concepts (the interaction lens's retained
    patterns) and, on the input where only that concept is present (the rest at the baseline), how many of the
    class's sufficient and necessary NDG neuron literals hold; the whole input and the baseline alone beside."""
    import numpy as np
    import torch

    from ndg_pipeline.crosslens import concept_neurons
    from ndg_pipeline.interactions import subset_masks
    from ndg_pipeline.ndg.binarize import threshold_value

    samples = explained.samples
    top = patterns[patterns["rank"] < timeline.concepts_per_sample].assign(input="concept")
    reference = []
    for position, sample in enumerate(samples):
        everything = (1 << len(sample.players)) - 1
        for input_, mask, players in (("full", everything, "all"), ("empty", 0, "none")):
            order = bin(mask).count("1")
            reference.append(
                {"sample": position, "rank": -1, "kind": "", "mask": mask, "order": order, "value": np.nan}
                | {"players": players, "input": input_}
            )
    concepts = pd.concat([top, pd.DataFrame(reference)], ignore_index=True)
    concepts["label"] = [samples[int(s)].label for s in concepts["sample"]]
    concepts["class_name"] = [explained.splits.class_names[label] for label in concepts["label"]]

    def masked_input(position: int, mask: int):
        sample = samples[position]
        players = subset_masks(len(sample.players))[mask][None]
        return explained.masker(sample, model).inputs(torch.as_tensor(players))

    thresholds = {alias: threshold_value(binarize.thresholds[alias]) for alias in record.layers}
    columns = ["sample", "label", "class_name", "input", "rank", "kind", "order", "value", "players", "mask"]
    return concept_neurons(model, concepts[columns], masked_input, record.layers, thresholds, edges)


def report(
    timeline: pd.DataFrame, layers: pd.DataFrame, concepts: pd.DataFrame, info: dict[str, Any], model: Model
) -> str:
    """The timeline report: the lenses over epochs on one axis, the cross-lens tables, links to each lens's report."""
    from ndg_pipeline.lineage import DATA, MODEL, model_fingerprint
    from ndg_pipeline.reporting.header import run_identity
    from ndg_pipeline.reporting.timeline import render_timeline_report

    lineage = {MODEL: model_fingerprint(model), DATA: info.get("fingerprint", "")}
    return render_timeline_report(timeline, layers, concepts, info, lineage, run_identity())
