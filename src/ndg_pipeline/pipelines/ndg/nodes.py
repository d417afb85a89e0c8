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
    ScaleParams,
    TrainParams,
)
from ndg_pipeline.config.interactions import SecondModelParams
from ndg_pipeline.tracking import MetricHistory, metric_history, metrics

Model = Any  # a torch.nn.Module built by ndg_pipeline.models
Splits = Any  # ndg_pipeline.data.DatasetSplits
Counts = Any  # ndg_pipeline.ndg.PairCounts
Graph = Any  # an ndg_pipeline.ndg.graph.DependencyGraph (arrays over literal ids)

log = logging.getLogger(__name__)


def prepare_data(data: DataParams) -> tuple[Splits, dict[str, Any]]:
    """Open the dataset named in ``data.name``; also return a JSON summary of it, with its fingerprint."""
    from ndg_pipeline.data import load_dataset
    from ndg_pipeline.lineage import DATA, data_fingerprint
    from ndg_pipeline.versions import setting_value

    splits = load_dataset(data)
    sizes = [len(splits.train), len(splits.test)]  # without raw_dir: a clone elsewhere has the same data fingerprint
    splits.lineage = {DATA: data_fingerprint({**setting_value(data), "n": sizes})}
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


def train_model(
    splits: Splits, model: Any, train: TrainParams
) -> tuple[Model, pd.DataFrame, MetricHistory, dict[int, Model]]:
    """Train the configured model; return it, its per-epoch history, that history as MLflow metrics, and the
    checkpoints at ``train.checkpoint_epochs()`` (the last one is the trained model)."""
    from ndg_pipeline.training import train_with_checkpoints

    network, history, checkpoints = train_with_checkpoints(splits, model.model_dump(), train)
    frame = pd.DataFrame(history)
    return network, frame, metric_history(frame, "epoch", ("loss", "train_accuracy", "test_accuracy")), checkpoints


def train_second_model(splits: Splits, model: Any, train: TrainParams, second: SecondModelParams) -> Model:
    """The same network trained the same way from ``second.seed`` (the interaction lens compares its concepts with
    ``trained_model``'s for model-wise transferability γ); ``second.epochs`` = 0 keeps its initial weights, and the
    lens then has no second model."""
    epochs = train.epochs if second.epochs is None else second.epochs
    network, history, _, _ = train_model(
        splits, model, train.model_copy(update={"seed": second.seed, "epochs": epochs})
    )
    log.info(
        "second model (seed %d, %d epochs): test accuracy %.4f", second.seed, epochs, history["test_accuracy"].iloc[-1]
    )
    return network


def record(model: Model, splits: Splits, record: RecordParams, scale: ScaleParams) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Record the configured layers on the train and the test split, in this process or on the Dask cluster."""
    from ndg_pipeline.ndg.measure import record_splits

    return record_splits(model, splits, record, scale)


def binarize(
    activations_train: pd.DataFrame, activations_test: pd.DataFrame, binarize: BinarizeParams, info: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Boolean predicate tables (class predicates first, then neurons) for both splits."""
    from ndg_pipeline.ndg.measure import binarize_splits

    return binarize_splits(activations_train, activations_test, binarize, info["num_classes"])


def count(
    predicates_train: pd.DataFrame, predicates_test: pd.DataFrame, mine: MineParams, scale: ScaleParams
) -> dict[str, Counts]:
    """The exact (N, n, G) statistics of each split: shards counted as tasks, summed by a tree."""
    from ndg_pipeline.ndg.measure import count_splits

    return count_splits(predicates_train, predicates_test, mine, scale)


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
    edges: pd.DataFrame, equivalences: pd.DataFrame, priors: pd.DataFrame, scale: ScaleParams
) -> tuple[Graph, dict[str, Any], dict[str, Any]]:
    """The dependency graph in array form (pickled), its node-link JSON (below ``scale.json_max_edges``) and
    its statistics."""
    from ndg_pipeline.ndg.graph import build_graph as to_graph
    from ndg_pipeline.ndg.graph import graph_statistics, node_link

    graph = to_graph(edges, equivalences, priors)
    return graph, node_link(graph, scale.json_max_edges), metrics(graph_statistics(graph))


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
    scale: ScaleParams,
) -> tuple[pd.DataFrame, pd.DataFrame, MetricHistory]:
    """Interchange intervention (Table 5) in every value mode beside its random-set baseline, on both splits;
    the summary's numbers also as MLflow metrics."""
    from ndg_pipeline.ndg.measure import intervene_splits

    summary, per_class = intervene_splits(model, splits, graph, activations_train, record, binarize, intervene, scale)
    values = {
        f"{row.mode}.{row.split}.{row.sets}.{name}": getattr(row, name)
        for row in summary.itertuples(index=False)
        for name in ("aligned", "unchanged", "unaligned", "model_accuracy", "mean_contradictions", "set_fraction")
    }
    return summary, per_class, metrics(values)


REPORTED_GROUPS = ("data", "model", "train", "record", "binarize", "mine", "graph", "intervene", "scale")


def report(
    info: dict[str, Any],
    training_history: pd.DataFrame,
    dependency_graph: Graph,
    edges: pd.DataFrame,
    alpha_sweep: pd.DataFrame,
    intervention_summary: pd.DataFrame,
    intervention_per_class: pd.DataFrame,
    drawings: dict[str, str],
    **groups: Any,
) -> str:
    """The self-contained HTML report of the run (also logged to MLflow as an artifact); ``groups`` are the
    parameter groups of :data:`REPORTED_GROUPS`, read one by one so that MLflow logs each parameter once."""
    import kedro
    import torch

    from ndg_pipeline import __version__
    from ndg_pipeline.lineage import read
    from ndg_pipeline.names import RECALL, SUPPORT, TEST_PRECISION, TRAIN_PRECISION
    from ndg_pipeline.ndg.graph import graph_statistics
    from ndg_pipeline.reporting import ReportContext, render_report
    from ndg_pipeline.reporting.header import run_identity
    from ndg_pipeline.reporting.report import informative_edges, role_counts

    shown = ["source", "source_value", "target", "target_value", "kind", SUPPORT, TRAIN_PRECISION, RECALL]
    shown += [c for c in (TEST_PRECISION,) if c in edges]
    context = ReportContext(
        title=f"Neuron Dependency Graph — {info['name']}",
        dataset=info,
        parameters={name: group.model_dump() for name, group in groups.items()},
        training_history=training_history,
        graph_statistics=graph_statistics(dependency_graph),
        alpha_sweep=alpha_sweep,
        alpha=groups["mine"].alpha,
        intervention=intervention_summary,
        intervention_per_class=intervention_per_class,
        drawings=drawings,
        top_edges=informative_edges(edges[shown]),
        edge_roles=role_counts(edges),
        run_info={"ndg_pipeline": __version__, "kedro": kedro.__version__, "torch": torch.__version__},
        lineage=read(edges),
        identity=run_identity(),
    )
    return render_report(context)
