"""Kedro nodes of the ndg pipeline: each receives its parameter groups validated and typed (``hooks.RunSetup``)
and calls one library function.

Heavy libraries (torch, networkx) are imported inside the nodes so that ``kedro registry list`` and
``kedro viz`` stay fast; their objects are annotated with the aliases below, which Kedro can resolve.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from ndg_pipeline.config import (
    BinarizeParams,
    DataParams,
    GraphParams,
    InterveneParams,
    MineParams,
    RecordParams,
    RunParams,
    TrainParams,
)
from ndg_pipeline.tracking import MetricHistory, metric_history, metrics

Model = Any  # a torch.nn.Module built by ndg_pipeline.models
Splits = Any  # ndg_pipeline.data.DatasetSplits
Counts = Any  # ndg_pipeline.ndg.PairCounts
Graph = Any  # a networkx.DiGraph over literals (ndg_pipeline.ndg.graph)

log = logging.getLogger(__name__)


def prepare_data(data: DataParams) -> tuple[Splits, dict[str, Any]]:
    """Open the dataset named in ``data.name``; also return a JSON summary of it, with its fingerprint."""
    from ndg_pipeline.data import load_dataset
    from ndg_pipeline.lineage import DATA, data_fingerprint

    splits = load_dataset(data)
    splits.lineage = {DATA: data_fingerprint({**data.model_dump(), "n": [len(splits.train), len(splits.test)]})}
    info = {
        "name": splits.name,
        "class_names": splits.class_names,
        "num_classes": splits.num_classes,
        "n_train": len(splits.train),
        "n_test": len(splits.test),
        **splits.info,
        "fingerprint": splits.lineage[DATA],
    }
    return splits, info


def train_model(splits: Splits, model: Any, train: TrainParams) -> tuple[Model, pd.DataFrame, MetricHistory]:
    """Train the configured model; return it, its per-epoch history, and that history as MLflow metrics."""
    from ndg_pipeline.device import resolve_device
    from ndg_pipeline.models import build_model
    from ndg_pipeline.training import train_classifier

    network = build_model({**model.model_dump(), "num_classes": splits.num_classes}, seed=train.seed)
    network, history = train_classifier(
        network,
        splits.train,
        splits.test,
        epochs=train.epochs,
        batch_size=train.batch_size,
        learning_rate=train.learning_rate,
        weight_decay=train.weight_decay,
        seed=train.seed,
        device=resolve_device(train.device),
        warmup_ratio=train.warmup_ratio,
        schedule=train.schedule,
        accumulation_steps=train.accumulation_steps,
        mixed_precision=train.mixed_precision,
    )
    frame = pd.DataFrame(history)
    return network, frame, metric_history(frame, "epoch", ("loss", "train_accuracy", "test_accuracy"))


def record(model: Model, splits: Splits, record: RecordParams) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Record the configured layers on the train and the test split (same network, fixed order)."""
    from ndg_pipeline.ndg.recording import record_activations

    return tuple(  # type: ignore[return-value]
        record_activations(
            model,
            split,
            record.layers,
            record.position,
            record.batch_size,
            record.max_inputs,
            record.device,
            desc=f"record {name}",
        )
        for name, split in (("train", splits.train), ("test", splits.test))
    )


def binarize(
    activations_train: pd.DataFrame, activations_test: pd.DataFrame, binarize: BinarizeParams, info: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Boolean predicate tables (class predicates first, then neurons) for both splits."""
    from ndg_pipeline.ndg.binarize import binarize as to_predicates

    thresholds = binarize.thresholds
    return (
        to_predicates(activations_train, thresholds, info["num_classes"]),
        to_predicates(activations_test, thresholds, info["num_classes"]),
    )


def count(predicates_train: pd.DataFrame, predicates_test: pd.DataFrame, mine: MineParams) -> dict[str, Counts]:
    """The (N, n, G) statistics of each split, streamed over row chunks."""
    from ndg_pipeline.ndg.counting import count_frame

    return {
        name: count_frame(frame, chunk_rows=mine.chunk_rows, device=mine.device)
        for name, frame in (("train", predicates_train), ("test", predicates_test))
    }


def mine_edges(
    pair_counts: dict[str, Counts], mine: MineParams
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Mine edges on train (spec §3) and evaluate them on test: edges, equivalences, constants, priors."""
    from ndg_pipeline.ndg.edges import mine as mine_counts

    result = mine_counts(pair_counts["train"], mine.alpha, test=pair_counts["test"])
    return result.edges, result.equivalences, result.constants, result.priors


def sweep_alpha(pair_counts: dict[str, Counts]) -> pd.DataFrame:
    """Figure 3: edges and mean train/test accuracy over the paper's α grid, from the same counts."""
    from ndg_pipeline.ndg.edges import alpha_sweep

    return alpha_sweep(pair_counts["train"], pair_counts["test"])


def build_graph(
    edges: pd.DataFrame, equivalences: pd.DataFrame, priors: pd.DataFrame
) -> tuple[Graph, Graph, dict[str, Any]]:
    """The dependency graph over literals (saved as pickle and node-link JSON) and its statistics."""
    from ndg_pipeline.ndg.graph import build_graph as to_graph
    from ndg_pipeline.ndg.graph import graph_statistics

    graph = to_graph(edges, equivalences, priors)
    return graph, graph, metrics(graph_statistics(graph))


def draw(graph: Graph, graph_params: GraphParams) -> tuple[dict[str, str], str]:
    """Graphviz pictures (or the reason there are none) and the interactive HTML view."""
    from ndg_pipeline.reporting.drawing import GraphvizMissingError, interactive_html
    from ndg_pipeline.reporting.drawing import draw as draw_svgs

    try:
        drawings = draw_svgs(graph, graph_params.max_nodes, graph_params.max_edges_per_class)
    except GraphvizMissingError as error:
        log.warning("%s", error)
        drawings = {"error": str(error)}
    return drawings, interactive_html(graph, graph_params.html_max_edges)


def intervene(
    model: Model,
    splits: Splits,
    graph: Graph,
    activations_train: pd.DataFrame,
    record: RecordParams,
    binarize: BinarizeParams,
    intervene: InterveneParams,
) -> tuple[pd.DataFrame, pd.DataFrame, MetricHistory]:
    """Interchange intervention (Table 5) in every value mode, each beside its random-set baseline."""
    from ndg_pipeline.ndg.intervention import intervention_report

    summary, per_class = intervention_report(
        model,
        {"train": splits.train, "test": splits.test},
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
    )
    values = {
        f"{row.mode}.{row.split}.{row.sets}.{name}": getattr(row, name)
        for row in summary.itertuples(index=False)
        for name in ("aligned", "unchanged", "unaligned", "model_accuracy", "mean_contradictions", "set_fraction")
    }
    return summary, per_class, metrics(values)


def report(
    info: dict[str, Any],
    parameters: RunParams,
    training_history: pd.DataFrame,
    graph: Graph,
    edges: pd.DataFrame,
    alpha_sweep: pd.DataFrame,
    intervention_summary: pd.DataFrame,
    intervention_per_class: pd.DataFrame,
    drawings: dict[str, str],
) -> str:
    """The self-contained HTML report of the run (also logged to MLflow as an artifact)."""
    import kedro
    import torch

    from ndg_pipeline import __version__
    from ndg_pipeline.lineage import read
    from ndg_pipeline.ndg.graph import graph_statistics
    from ndg_pipeline.reporting import ReportContext, render_report

    shown = ["source", "source_value", "target", "target_value", "kind", "support", "train_precision", "recall"]
    shown += [c for c in ("test_precision",) if c in edges]
    top = edges.sort_values(["support", "source", "target"], ascending=[False, True, True], kind="stable")
    context = ReportContext(
        title=f"Neuron Dependency Graph — {info['name']}",
        dataset=info,
        parameters=parameters.model_dump(),
        training_history=training_history,
        graph_statistics=graph_statistics(graph),
        alpha_sweep=alpha_sweep,
        alpha=parameters.mine.alpha,
        intervention=intervention_summary,
        intervention_per_class=intervention_per_class,
        drawings=drawings,
        top_edges=top[shown].head(20).reset_index(drop=True),
        run_info={"ndg_pipeline": __version__, "kedro": kedro.__version__, "torch": torch.__version__},
        lineage=read(edges),
    )
    return render_report(context)
