"""Kedro nodes of the ndg pipeline: each loads typed parameters and calls one library function.

Heavy libraries (torch, networkx) are imported inside the nodes so that ``kedro registry list`` and
``kedro viz`` stay fast; their objects are annotated with the aliases below, which Kedro can resolve.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import pandas as pd

from ndg_pipeline import config

Model = Any  # a torch.nn.Module built by ndg_pipeline.models
Splits = Any  # ndg_pipeline.data.DatasetSplits
Counts = Any  # ndg_pipeline.ndg.PairCounts
Graph = Any  # a networkx.DiGraph over literals (ndg_pipeline.ndg.graph)

log = logging.getLogger(__name__)


def as_mlflow_metrics(values: dict[str, float]) -> dict[str, dict[str, float]]:
    """``{name: value}`` → the MlflowMetricsHistoryDataset form, dropping NaN (MLflow plots it badly)."""
    return {name: {"value": float(value), "step": 0} for name, value in values.items() if not math.isnan(float(value))}


def prepare_data(data: dict[str, Any]) -> tuple[Splits, dict[str, Any]]:
    """Open the dataset named in ``data.name``; also return a JSON summary of it."""
    from ndg_pipeline.data import load_dataset

    splits = load_dataset(config.DataParams.model_validate(data))
    info = {
        "name": splits.name,
        "class_names": splits.class_names,
        "num_classes": splits.num_classes,
        "n_train": len(splits.train),
        "n_test": len(splits.test),
        **splits.info,
    }
    return splits, info


def train_model(
    splits: Splits, model: dict[str, Any], train: dict[str, Any]
) -> tuple[Model, pd.DataFrame, dict[str, Any]]:
    """Train the configured model; return it, its per-epoch history, and that history as MLflow metrics."""
    from ndg_pipeline.device import resolve_device
    from ndg_pipeline.models import build_model
    from ndg_pipeline.training import train_classifier

    model_params, train_params = config.ModelParams.model_validate(model), config.TrainParams.model_validate(train)
    network = build_model({**model_params.model_dump(), "num_classes": splits.num_classes}, seed=train_params.seed)
    network, history = train_classifier(
        network,
        splits.train,
        splits.test,
        epochs=train_params.epochs,
        batch_size=train_params.batch_size,
        learning_rate=train_params.learning_rate,
        weight_decay=train_params.weight_decay,
        seed=train_params.seed,
        device=resolve_device(train_params.device),
        warmup_ratio=train_params.warmup_ratio,
        schedule=train_params.schedule,
        accumulation_steps=train_params.accumulation_steps,
        mixed_precision=train_params.mixed_precision,
    )
    frame = pd.DataFrame(history)
    points = {
        column: [
            {"value": float(v), "step": int(e)}
            for e, v in zip(frame.epoch, frame[column], strict=True)
            if not math.isnan(float(v))
        ]
        for column in ("loss", "train_accuracy", "test_accuracy")
    }
    return network, frame, {column: values for column, values in points.items() if values}  # no loss at epoch 0


def record(model: Model, splits: Splits, record: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Record the configured layers on the train and the test split (same network, fixed order)."""
    from ndg_pipeline.ndg.recording import record_activations

    params = config.RecordParams.model_validate(record)
    return tuple(  # type: ignore[return-value]
        record_activations(
            model,
            split,
            params.layers,
            params.position,
            params.batch_size,
            params.max_inputs,
            params.device,
            desc=f"record {name}",
        )
        for name, split in (("train", splits.train), ("test", splits.test))
    )


def binarize(
    activations_train: pd.DataFrame, activations_test: pd.DataFrame, binarize: dict[str, Any], info: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Boolean predicate tables (class predicates first, then neurons) for both splits."""
    from ndg_pipeline.ndg.binarize import binarize as to_predicates

    thresholds = config.BinarizeParams.model_validate(binarize).thresholds
    return (
        to_predicates(activations_train, thresholds, info["num_classes"]),
        to_predicates(activations_test, thresholds, info["num_classes"]),
    )


def count(predicates_train: pd.DataFrame, predicates_test: pd.DataFrame, mine: dict[str, Any]) -> dict[str, Counts]:
    """The (N, n, G) statistics of each split, streamed over row chunks."""
    from ndg_pipeline.ndg.counting import count_frame

    params = config.MineParams.model_validate(mine)
    return {
        name: count_frame(frame, chunk_rows=params.chunk_rows, device=params.device)
        for name, frame in (("train", predicates_train), ("test", predicates_test))
    }


def mine_edges(
    pair_counts: dict[str, Counts], mine: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Mine edges on train (spec §3) and evaluate them on test: edges, equivalences, constants, priors."""
    from ndg_pipeline.ndg.edges import mine as mine_counts

    params = config.MineParams.model_validate(mine)
    result = mine_counts(pair_counts["train"], params.alpha, test=pair_counts["test"])
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
    return graph, graph, as_mlflow_metrics(graph_statistics(graph))


def draw(graph: Graph, graph_params: dict[str, Any]) -> tuple[dict[str, str], str]:
    """Graphviz pictures (or the reason there are none) and the interactive HTML view."""
    from ndg_pipeline.ndg.drawing import GraphvizMissingError, interactive_html
    from ndg_pipeline.ndg.drawing import draw as draw_svgs

    params = config.GraphParams.model_validate(graph_params)
    try:
        drawings = draw_svgs(graph, params.max_nodes, params.max_edges_per_class)
    except GraphvizMissingError as error:
        log.warning("%s", error)
        drawings = {"error": str(error)}
    return drawings, interactive_html(graph, params.html_max_edges)


def intervene(
    model: Model,
    splits: Splits,
    graph: Graph,
    activations_train: pd.DataFrame,
    record: dict[str, Any],
    binarize: dict[str, Any],
    intervene: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Interchange intervention (Table 5) in every value mode, with the random-set baseline."""
    from ndg_pipeline.ndg.intervention import intervention_report

    record_params = config.RecordParams.model_validate(record)
    params = config.InterveneParams.model_validate(intervene)
    summary, per_class = intervention_report(
        model,
        {"train": splits.train, "test": splits.test},
        record_params.layers,
        record_params.position,
        graph,
        config.BinarizeParams.model_validate(binarize).thresholds,
        activations_train,
        value_modes=tuple(params.value_modes),
        set_type=params.set_type,
        seed=params.seed,
        batch_size=params.batch_size,
        max_inputs=params.max_inputs or record_params.max_inputs,
        device=params.device,
    )
    metrics: dict[str, float] = {}
    for row in summary.itertuples(index=False):
        for name in ("aligned", "unchanged", "unaligned", "model_accuracy", "mean_contradictions", "set_fraction"):
            metrics[f"{row.mode}.{row.split}.{name}"] = getattr(row, name)
    return summary, per_class, as_mlflow_metrics(metrics)


def report(
    info: dict[str, Any],
    parameters: dict[str, Any],
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
    from ndg_pipeline.ndg.graph import graph_statistics
    from ndg_pipeline.reporting import ReportContext, render_report

    checked = config.validate(parameters)
    shown = ["source", "source_value", "target", "target_value", "kind", "support", "train_precision", "recall"]
    shown += [c for c in ("test_precision",) if c in edges]
    top = edges.sort_values(["support", "source", "target"], ascending=[False, True, True], kind="stable")
    context = ReportContext(
        title=f"Neuron Dependency Graph — {info['name']}",
        dataset=info,
        parameters=checked.model_dump(),
        training_history=training_history,
        graph_statistics=graph_statistics(graph),
        alpha_sweep=alpha_sweep,
        alpha=checked.mine.alpha,
        intervention=intervention_summary,
        intervention_per_class=intervention_per_class,
        drawings=drawings,
        top_edges=top[shown].head(20).reset_index(drop=True),
        run_info={"ndg_pipeline": __version__, "kedro": kedro.__version__, "torch": torch.__version__},
    )
    return render_report(context)
