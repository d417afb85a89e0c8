"""Kedro nodes of the interaction lens: each takes typed parameters and calls the library
(:mod:`ndg_pipeline.interactions`). Heavy imports stay inside the nodes so that listing pipelines stays fast.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from ndg_pipeline.config import InteractionsParams, TrainParams
from ndg_pipeline.names import FIRST, NULL, SECOND

Model = Any  # a torch.nn.Module
Splits = Any  # ndg_pipeline.data.DatasetSplits
Explained = Any  # ndg_pipeline.interactions.settings.Setting with its samples
Graph = Any  # networkx.DiGraph

log = logging.getLogger(__name__)


def _train(
    model: Model, splits: Splits, train: TrainParams, epochs: int, seed: int, batch_size: int, lr: float
) -> Model:
    from ndg_pipeline.device import resolve_device
    from ndg_pipeline.training import train_classifier

    trained, history = train_classifier(
        model,
        splits.train,
        splits.test,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=lr,
        weight_decay=train.weight_decay,
        seed=seed,
        device=resolve_device(train.device),
    )
    log.info("trained %s (seed %d): test accuracy %.4f", type(model).__name__, seed, history[-1]["test_accuracy"])
    return trained


def _tabular(params: InteractionsParams, train: TrainParams) -> Explained:
    import torch

    from ndg_pipeline.data.tabular import load_table
    from ndg_pipeline.interactions.mlp import TabularMlp
    from ndg_pipeline.interactions.settings import tabular_setting

    table = params.tabular
    splits = load_table(table.table, table.path, table.test_fraction, table.split_seed, table.limit)
    seeds = {FIRST: params.seed} | ({SECOND: params.second_model.seed} if params.second_model.epochs != 0 else {})
    models = {}
    for name, seed in seeds.items():  # both trained the same way (table.epochs), from different seeds
        torch.manual_seed(seed)
        mlp = TabularMlp(len(splits.info["features"]), splits.num_classes, table.hidden, table.layers)
        models[name] = _train(mlp, splits, train, table.epochs, seed, table.batch_size, table.learning_rate)
    return tabular_setting(models, splits, table.baseline)


def _null_model(model: Model, explained: Explained, params: InteractionsParams) -> Model | None:
    """The untrained network of the same architecture whose concepts are the null of the per-sample numbers and
    of γ (none for text: a transformer's untrained weights are no comparable model)."""
    import torch

    if explained.kind == "image":
        from ndg_pipeline.models import build_model

        return build_model(dict(model.ndg_config), seed=params.nulls.model_seed)
    if explained.kind == "tabular":
        from ndg_pipeline.interactions.mlp import TabularMlp

        torch.manual_seed(params.nulls.model_seed)
        table = params.tabular
        return TabularMlp(len(explained.feature_names), explained.splits.num_classes, table.hidden, table.layers)
    return None


def prepare_setting(
    model: Model,
    second: Model,
    splits: Splits,
    info: dict[str, Any],
    interactions: InteractionsParams,
    train: TrainParams,
) -> tuple[Explained, pd.DataFrame]:
    """The models and inputs to explain (``interactions.setting``) and the seeded selection of test samples.

    The image setting explains ``trained_model`` beside ``second_model`` (the ndg pipeline trains both, the same
    way from two seeds); 0 ``second_model.epochs`` leave the second out, as does the text setting."""
    from ndg_pipeline.device import resolve_device
    from ndg_pipeline.interactions.settings import image_setting, select_samples, text_setting
    from ndg_pipeline.lineage import MODEL, model_fingerprint

    params, train_params = interactions, train
    if params.setting == "tabular":
        setting = _tabular(params, train_params)
    elif params.setting == "image":
        image = params.image
        models = {FIRST: model} | ({SECOND: second} if params.second_model.epochs != 0 else {})
        setting = image_setting(models, splits, image.grid, image.region, image.baseline, image.background_kept)
    else:
        from ndg_pipeline.data.text import load_tokenizer

        if "tokenizer" not in info:
            raise ValueError(
                f"interactions.setting is text but the dataset {info.get('name')!r} is not text; run the ndg pipeline "
                "in a text environment first: kedro run --pipelines=ndg --env=sst2"
            )
        if params.second_model.epochs != 0:
            log.warning(
                "the text setting has no second model: γ is skipped (interactions.second_model.epochs=0 also spares "
                "the ndg pipeline its training)"
            )
        words = (params.text.min_words, params.text.max_words)
        setting = text_setting({FIRST: model}, splits, load_tokenizer(info["tokenizer"]), words, params.text.embedding)
    setting.lineage = {MODEL: model_fingerprint(setting.models[FIRST])}  # the explained model, not the second
    device = resolve_device(params.device)
    setting.models = {name: m.to(device).eval() for name, m in setting.models.items()}
    samples = select_samples(setting, params.samples_per_class, params.seed, params.classes)
    null = _null_model(model, setting, params)
    if null is not None:  # added after the selection: it classifies at chance
        setting.models[NULL] = null.to(device).eval()
    table = pd.DataFrame(
        {
            "sample": np.arange(len(samples), dtype=np.int64),
            "test_index": [s.index for s in samples],
            "label": [s.label for s in samples],
            "class_name": [setting.splits.class_names[s.label] for s in samples],
            "players": [len(s.players) for s in samples],
            "player_names": [" | ".join(s.names) for s in samples],
        }
    )
    setting.samples = samples
    return setting, table


def compute_rewards(explained: Explained, params: InteractionsParams) -> pd.DataFrame:
    """v on all 2^n masks of every selected sample, for every model: rows (model, sample, mask, order, reward)."""
    from ndg_pipeline.interactions.lens import reward_table

    return reward_table(explained, params)


def compute_interactions(rewards: pd.DataFrame, params: InteractionsParams) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Harsanyi (plain AND) interactions and the learned AND-OR split of every sample; q per mask."""
    from ndg_pipeline.interactions.lens import interaction_tables

    return interaction_tables(rewards, params)


def build_graphs(
    rewards: pd.DataFrame,
    interactions: pd.DataFrame,
    offsets: pd.DataFrame,
    explained: Explained,
    params: InteractionsParams,
) -> tuple[dict[str, Graph], pd.DataFrame]:
    """Noise removal, aggregation and the AND-OR graph of every sample of the first model; the retained patterns."""
    from ndg_pipeline.interactions.lens import graphs_and_patterns

    return graphs_and_patterns(rewards, interactions, offsets, explained, params)


def replay_noise_removal(
    rewards: pd.DataFrame, interactions: pd.DataFrame, offsets: pd.DataFrame, params: InteractionsParams
) -> pd.DataFrame:
    """Our deliberate differences from the authors' noise removal replayed on the run's inputs: concepts kept and
    thresholds met per input and variant."""
    from ndg_pipeline.interactions.lens import noise_removal_variants

    return noise_removal_variants(rewards, interactions, offsets, params)


def compute_metrics(
    rewards: pd.DataFrame,
    interactions: pd.DataFrame,
    offsets: pd.DataFrame,
    patterns: pd.DataFrame,
    explained: Explained,
    params: InteractionsParams,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """The metrics of spec §6 with their intervals and nulls, the curves behind the figures, and the MLflow
    metrics (each headline number with ``_low``, ``_high`` and ``_null``)."""
    from ndg_pipeline import tracking
    from ndg_pipeline.interactions.lens import metric_tables

    table, curves = metric_tables(rewards, interactions, offsets, patterns, explained, params)
    logged = dict(zip(table.metric, table.value, strict=True))
    for row in table.dropna(subset=["low"]).itertuples(index=False):
        logged |= {f"{row.metric}_low": row.low, f"{row.metric}_high": row.high, f"{row.metric}_null": row.null}
    return table, curves, tracking.metrics(logged)


def report(
    explained: Explained,
    samples: pd.DataFrame,
    patterns: pd.DataFrame,
    metrics: pd.DataFrame,
    curves: pd.DataFrame,
    graphs: dict[str, Graph],
    params: InteractionsParams,
) -> tuple[str, str]:
    """The HTML report and the interactive page of every sample's AND-OR graph."""
    from ndg_pipeline.lineage import MODEL, model_fingerprint
    from ndg_pipeline.reporting.header import run_header
    from ndg_pipeline.reporting.interactions import render_report, to_html

    lineage = {MODEL: model_fingerprint(explained.models["first"])} | explained.splits.lineage
    page = render_report(
        explained,
        samples,
        patterns,
        metrics,
        curves,
        graphs,
        params.model_dump(mode="json"),
        params.report.samples_shown,
        params.report.concepts_shown,
        params.report.graph_concepts,
        run_header(lineage),
    )
    return page, to_html(graphs)
