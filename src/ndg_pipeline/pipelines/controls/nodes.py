"""Kedro nodes of the control pipelines: each validates its parameters and calls ``ndg_pipeline.ndg.controls``.

Everything else a control does (train, record, binarize, count, mine) is the ndg pipeline's own nodes, reused in
the control's namespace.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd

from ndg_pipeline.config.ndg import MineParams, SeedParams
from ndg_pipeline.control_names import GROUPING
from ndg_pipeline.pipelines.ndg.nodes import Counts, Model, Splits
from ndg_pipeline.tracking import MetricHistory, metrics


def randomize_model(model: Model, params: SeedParams) -> Model:
    """Random model (Table 3): the trained network with every Linear/Conv layer re-initialized, seeded."""
    from ndg_pipeline.ndg.controls import randomize

    return randomize(model, params.seed)


def random_inputs(splits: Splits, params: SeedParams) -> Splits:
    """Random input (Table 3): both splits replaced by seeded noise in the train split's value range."""
    from ndg_pipeline.lineage import DATA, data_fingerprint
    from ndg_pipeline.ndg.controls import input_space, random_split

    seed = params.seed
    space = input_space(splits.train)
    return dataclasses.replace(
        splits,
        train=random_split(splits.train, space, seed, stream=0),
        test=random_split(splits.test, space, seed, stream=1),
        info={**splits.info, "inputs": "random"},
        lineage={DATA: data_fingerprint({"noise_of": splits.lineage.get(DATA), "seed": seed})},
    )


def pair_models(
    first_train: pd.DataFrame, first_test: pd.DataFrame, second_train: pd.DataFrame, second_test: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two models, same input (Table 4): both models' predicates side by side, per split."""
    from ndg_pipeline.ndg.controls import side_by_side

    return side_by_side(first_train, second_train), side_by_side(first_test, second_test)


def pair_inputs(
    predicates_train: pd.DataFrame, predicates_test: pd.DataFrame, params: SeedParams
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Same model, different inputs (Table 4): input r's predicates beside those of an unrelated r' (seeded)."""
    from ndg_pipeline.ndg.controls import with_unrelated_inputs

    seed = params.seed
    return with_unrelated_inputs(predicates_train, (seed, 0)), with_unrelated_inputs(predicates_test, (seed, 1))


def summarize(
    edges: pd.DataFrame, pair_counts: dict[str, Counts], info: dict[str, Any], mine: MineParams, *, control: str
) -> tuple[dict[str, pd.DataFrame], MetricHistory]:
    """The control's results (a row per edge group) as the partition ``<dataset>__<control>``, and as metrics."""
    from ndg_pipeline.ndg.controls import edge_groups, results_table

    table = results_table(
        edges,
        edge_groups(pair_counts["train"].columns, GROUPING[control]),
        dataset=info["name"],
        control=control,
        alpha=mine.alpha,
        n_train=pair_counts["train"].n_rows,
        n_test=pair_counts["test"].n_rows,
    )
    values = {
        f"{row.group}.{measure}": getattr(row, measure)
        for row in table.itertuples(index=False)
        for measure in ("edges", "train_accuracy", "test_accuracy")
    }
    return {f"{info['name']}__{control}": table}, metrics(values)
