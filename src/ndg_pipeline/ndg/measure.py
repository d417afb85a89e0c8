"""The NDG lens on one model: record, binarize, count, mine, graph and intervene, each stage one call with the
run's typed parameters. The ndg pipeline runs the stages as separate nodes (every intermediate a catalog entry);
:func:`measure_model` chains them for callers that need only the summary of a model (the timeline, a study)."""

from __future__ import annotations

import uuid
from typing import Any

import pandas as pd

from ndg_pipeline.config import BinarizeParams, InterveneParams, MineParams, RecordParams, ScaleParams

Model = Any  # a torch.nn.Module built by ndg_pipeline.models
Splits = Any  # ndg_pipeline.data.DatasetSplits
Graph = Any  # an ndg_pipeline.ndg.graph.DependencyGraph


def torch_threads(scale: ScaleParams) -> int | None:
    """Torch threads per worker: as configured, else this machine's cores shared out on a LocalCluster."""
    from ndg_pipeline.ndg.sharding import LOCAL, local_threads

    return scale.torch_threads or (local_threads(scale.workers) if scale.cluster == LOCAL else None)


def record_splits(model: Model, splits: Splits, record: RecordParams, scale: ScaleParams) -> tuple[pd.DataFrame, ...]:
    """The configured layers recorded on the train and the test split (same network, fixed order), shard by shard
    in this process or on the Dask cluster of ``scale``. Each shard's partition lands in a folder of this call's own
    under ``scale.store`` (two runs at once never read or clear each other's shards), removed once read."""
    from ndg_pipeline.ndg.sharding import Measure, clear_folder, executor, measure_split, read_partitions

    scratch = f"{scale.store.rstrip('/')}/{uuid.uuid4().hex}"
    tables = []
    try:
        with executor(scale.cluster, scale.workers, scale.retries) as run:
            for name, split in (("train", splits.train), ("test", splits.test)):
                store = f"{scratch}/{name}"
                measure = Measure(
                    record.layers,
                    record.position,
                    record.batch_size,
                    record.device,
                    store,
                    threads=torch_threads(scale),
                )
                measure_split(run, model, split, measure, scale.shard_rows, record.max_inputs)
                tables.append(read_partitions(f"{store}/activations"))
    finally:
        clear_folder(scratch)
    return tables[0], tables[1]


def binarize_splits(
    activations_train: pd.DataFrame, activations_test: pd.DataFrame, binarize: BinarizeParams, num_classes: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Boolean predicate tables (class predicates first, then neurons) for both splits."""
    from ndg_pipeline.ndg.binarize import binarize as to_predicates

    return (
        to_predicates(activations_train, binarize.thresholds, num_classes),
        to_predicates(activations_test, binarize.thresholds, num_classes),
    )


def count_splits(
    predicates_train: pd.DataFrame, predicates_test: pd.DataFrame, mine: MineParams, scale: ScaleParams
) -> dict[str, Any]:
    """The exact (N, n, G) statistics of each split: shards counted as tasks, summed by a tree."""
    from ndg_pipeline.ndg.sharding import count_sharded, executor

    with executor(scale.cluster, scale.workers, scale.retries) as run:
        return {
            name: count_sharded(run, frame, scale.shard_rows, mine.chunk_rows, mine.device)
            for name, frame in (("train", predicates_train), ("test", predicates_test))
        }


def intervene_splits(
    model: Model,
    splits: Splits,
    graph: Graph,
    activations_train: pd.DataFrame,
    record: RecordParams,
    binarize: BinarizeParams,
    intervene: InterveneParams,
    scale: ScaleParams,
    split_names: tuple[str, ...] = ("train", "test"),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Interchange intervention (Table 5) in every value mode, each beside its random-set baseline: the summary
    and the per-class table. Each split draws its own seeded counterfactuals, so ``split_names=("test",)`` gives
    the test rows of a run on both splits."""
    from ndg_pipeline.ndg.intervention import intervention_report
    from ndg_pipeline.ndg.sharding import executor, intervention_runner

    with executor(scale.cluster, scale.workers, scale.retries) as run:
        return intervention_report(
            model,
            {name: getattr(splits, name) for name in split_names},
            record.layers,
            record.position,
            graph,
            binarize.thresholds,
            activations_train,
            value_modes=tuple(intervene.value_modes),
            set_type=intervene.set_type,
            seed=intervene.seed,
            batch_size=intervene.batch_size,
            max_inputs=intervene.max_inputs or record.max_inputs,
            device=intervene.device,
            runner=intervention_runner(run, scale.shard_rows, torch_threads(scale)),
        )


def measure_model(
    model: Model,
    splits: Splits,
    num_classes: int,
    record: RecordParams,
    binarize: BinarizeParams,
    mine: MineParams,
    intervene: InterveneParams,
    scale: ScaleParams,
) -> dict[str, float]:
    """The NDG of ``model`` in summary, as the ndg pipeline's stages give it: the number of edges, their mean
    train/test accuracy, the equivalent pairs, and the test split's aligned % of each value mode beside its
    random-set baseline (``<mode>.<sets>.aligned``)."""
    from ndg_pipeline.ndg.edges import edge_accuracy
    from ndg_pipeline.ndg.edges import mine as mine_counts
    from ndg_pipeline.ndg.graph import build_graph

    activations = record_splits(model, splits, record, scale)
    counts = count_splits(*binarize_splits(*activations, binarize, num_classes), mine, scale)
    mined = mine_counts(counts["train"], mine.alpha, test=counts["test"])
    graph = build_graph(mined.edges, mined.equivalences, mined.priors)
    test = intervene_splits(model, splits, graph, activations[0], record, binarize, intervene, scale, ("test",))[0]
    aligned = {f"{row.mode}.{row.sets}.aligned": row.aligned for row in test.itertuples(index=False)}
    return {**edge_accuracy(mined.edges), "equivalent_pairs": len(mined.equivalences), **aligned}
