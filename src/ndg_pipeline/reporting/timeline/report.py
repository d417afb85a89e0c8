"""The timeline report: the three lenses over the checkpoints of one training run on one x axis, then the two
cross-lens tables of the final model (layers → dependencies, concepts → neurons), then links to each lens's own
report. One self-contained HTML page (inline CSS, PNG data URIs)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ndg_pipeline.reporting.canvas import data_uri
from ndg_pipeline.reporting.effective_information import FLAG_NOTE, any_flagged, flag
from ndg_pipeline.reporting.header import lineage_items, template_environment
from ndg_pipeline.reporting.report import (
    MISSING,
    Row,
    Table,
    class_label,
    format_decimal,
    format_exact,
    format_fraction,
    format_percent,
    is_missing,
)
from ndg_pipeline.reporting.timeline.figures import (
    EPOCH,
    concepts_figure,
    ei_layers,
    has_values,
    layers_figure,
    timeline_figure_png,
)

SETTLE_TOLERANCE = 0.05  # a metric has settled from the first checkpoint after which it stays within 5% of its last
# The lenses' own reports, as saved by their catalog entries: side by side in the MLflow run's artifacts, and under
# data/08_reporting/<file>/<run timestamp>/<file> in the catalog.
LENS_REPORTS = {
    "neuron dependency graph": "report.html",
    "interaction concepts": "interaction_report.html",
    "effective information": "effective_information.html",
}
LENS_PREFIXES = {
    "neuron dependency graph": "ndg.",
    "interaction concepts": "interactions.",
    "effective information": "ei.",
}
Formatter = Callable[[Any], str]


def format_bits(value: Any) -> str:
    """Bits with 3 decimals (EI terms are often below 0.1 bit)."""
    return MISSING if is_missing(value) else f"{float(value):.3f}"


def format_any(value: Any) -> str:
    """Any timeline value: whole numbers exactly, others with 4 significant digits."""
    if is_missing(value):
        return MISSING
    return format_exact(value) if float(value).is_integer() else f"{float(value):.4g}"


def headline_metrics(timeline: pd.DataFrame) -> list[tuple[str, str, str, Formatter]]:
    """(lens, metric label with unit, column, formatter) of the headline metrics, every lens listed even when absent
    (its cells then read "–")."""
    ndg = [
        ("ndg.edges", "edges", format_exact),
        ("ndg.test_accuracy", "mean edge accuracy, test (%)", format_fraction),
    ]
    for mode in ("patch", "reference"):
        ndg += [
            (f"ndg.{mode}.graph.aligned", f"aligned, {mode} values, the graph's sets (%, test)", format_percent),
            (f"ndg.{mode}.random.aligned", f"aligned, {mode} values, random-set baseline (%, test)", format_percent),
        ]
    interactions = [
        ("interactions.concepts_per_sample", "concepts per sample", format_decimal),
        ("interactions.explanation_ratio", "explanation ratio (%)", format_fraction),
        (
            "interactions.salient_concepts_per_sample",
            "salient concepts per sample",
            format_decimal,
        ),
    ]
    ei = [(f"ei.{layer}.ei_parts", f"EI_parts of {layer} (bits)", format_bits) for layer in ei_layers(timeline)]
    lenses = {"NDG": ndg, "interactions": interactions, "effective information": ei}
    return [(lens, label, column, formatter) for lens, rows in lenses.items() for column, label, formatter in rows]


def settle_epoch(epochs: pd.Series, values: pd.Series, tolerance: float = SETTLE_TOLERANCE) -> int | None:
    """The first checkpoint from which every later value stays within ``tolerance`` (relative) of the last one;
    None without values. A metric that only matches at the last checkpoint has not settled (the caller says so)."""
    kept = pd.DataFrame({"epoch": epochs, "value": values}).dropna().sort_values("epoch")
    if kept.empty:
        return None
    final = float(kept["value"].iloc[-1])
    close = (kept["value"] - final).abs() <= tolerance * abs(final) + 1e-12
    outside = np.flatnonzero(~close.to_numpy())
    return int(kept["epoch"].iloc[outside[-1] + 1 if len(outside) else 0])


def settle_text(timeline: pd.DataFrame, column: str) -> str:
    """The settling epoch of one column, "not yet" when it still moves at the last checkpoint."""
    if column not in timeline or timeline[column].notna().sum() == 0:
        return MISSING
    epoch = settle_epoch(timeline[EPOCH], timeline[column])
    last = int(timeline.loc[timeline[column].notna(), EPOCH].max())
    return "not yet" if epoch == last and timeline[column].notna().sum() > 1 else str(epoch)


def checkpoints(timeline: pd.DataFrame) -> list[int]:
    """The checkpoint epochs, oldest first."""
    return sorted(int(epoch) for epoch in timeline[EPOCH].dropna().unique())


def _at(timeline: pd.DataFrame, epoch: int, column: str) -> Any:
    """One timeline value, None when the column or checkpoint is absent."""
    if column not in timeline:
        return None
    match = timeline.loc[timeline[EPOCH] == epoch, column]
    return match.iloc[0] if len(match) else None


def headline_table(timeline: pd.DataFrame) -> Table:
    """Headline metric × checkpoint, with the epoch each metric settles at."""
    epochs = checkpoints(timeline)
    rows = [
        Row(
            [lens, label]
            + [formatter(_at(timeline, epoch, column)) for epoch in epochs]
            + [settle_text(timeline, column)],
            "" if has_values(timeline, [column]) else "baseline",
        )
        for lens, label, column, formatter in headline_metrics(timeline)
    ]
    groups = [("", 2), ("epoch", len(epochs)), ("", 1)]
    return Table(["lens", "metric", *map(str, epochs), "settles at epoch"], rows, groups)


def full_table(timeline: pd.DataFrame) -> Table:
    """Every timeline column × checkpoint, values as stored (fractions as fractions, bits, percents)."""
    epochs = checkpoints(timeline)
    rows = [
        Row([column] + [format_any(value := _at(timeline, epoch, column)) + flag(column, value) for epoch in epochs])
        for column in timeline.columns
        if column != EPOCH
    ]
    return Table(["metric", *map(str, epochs)], rows, [("", 1), ("epoch", len(epochs))])


def missing_lenses(timeline: pd.DataFrame) -> list[str]:
    """The lenses with no value at any checkpoint (not run, or only NaN)."""
    return [
        lens
        for lens, prefix in LENS_PREFIXES.items()
        if not has_values(timeline, [column for column in timeline.columns if column.startswith(prefix)])
    ]


def layers_table(layers: pd.DataFrame) -> Table:
    """Layers → dependencies: per recorded layer, its Linear's EI measures beside its NDG edges."""
    rows = [
        Row(
            [
                str(row["layer"]),
                str(row["linear"]),
                format_exact(row["edges"]),
                format_exact(row["edges_within"]),
                format_fraction(row["edge_test_accuracy"]),
                format_bits(row["ei"]),
                format_bits(row["ei_parts"]),
                format_bits(row["sensitivity"]) + flag("sensitivity", row["sensitivity"]),
                format_bits(row["degeneracy"]) + flag("degeneracy", row["degeneracy"]),
            ]
        )
        for row in layers.to_dict("records")
    ]
    columns = ["recorded layer", "its Linear", "touching", "within", "test accuracy (%)"]
    columns += ["EI", "EI_parts", "sensitivity", "degeneracy"]
    groups = [("", 2), ("NDG edges", 3), ("effective information (bits)", 4)]
    return Table(columns, rows, groups)


def concept_sources(frame: pd.DataFrame) -> dict[str, pd.Series]:
    """Which rows each input source holds: the top concepts that push the class's output up (I(S) > 0) apart from
    those that push it down (I(S) < 0), the whole input, the baseline alone."""
    concept = frame["input"] == "concept"
    return {
        "for": concept & (frame["value"] > 0),
        "against": concept & (frame["value"] < 0),
        "full": frame["input"] == "full",
        "empty": frame["input"] == "empty",
    }


def concepts_per_class(concepts: pd.DataFrame, class_names: list[str]) -> pd.DataFrame:
    """Per class: samples, top concepts for and against the class, the class's sufficient and necessary neuron
    counts, and the mean share of each that holds on each input source (:func:`concept_sources`)."""
    rows = []
    for label, frame in concepts.groupby("label", sort=True):
        sources = concept_sources(frame)
        row: dict[str, Any] = {
            "class": class_label(int(label), class_names),
            "samples": frame["sample"].nunique(),
            "concepts_for": int(sources["for"].sum()),
            "concepts_against": int(sources["against"].sum()),
            "sufficient": int(frame["sufficient"].max()),
            "necessary": int(frame["necessary"].max()),
        }
        for role in ("sufficient", "necessary"):
            for source, rows_of in sources.items():
                row[f"{role}_{source}"] = frame.loc[rows_of, f"{role}_share"].mean()
        rows.append(row)
    return pd.DataFrame(rows)


SOURCES = ("for", "against", "full", "empty")


def concepts_class_table(per_class: pd.DataFrame) -> Table:
    """Concepts → neurons per class, as read from ``concepts_per_class``."""
    rows = [
        Row(
            [
                row["class"],
                format_exact(row["samples"]),
                format_exact(row["concepts_for"]),
                format_exact(row["concepts_against"]),
                format_exact(row["sufficient"]),
                *(format_fraction(row[f"sufficient_{source}"]) for source in SOURCES),
                format_exact(row["necessary"]),
                *(format_fraction(row[f"necessary_{source}"]) for source in SOURCES),
            ]
        )
        for row in per_class.to_dict("records")
    ]
    on = ["for", "against", "whole", "baseline"]  # % on: the concepts of each sign alone, the whole input, none
    columns = ["class", "samples", "for (I > 0)", "against (I < 0)", "in graph", *on, "in graph", *on]
    groups = [
        ("", 2),
        ("top concepts", 2),
        ("sufficient neurons (n → class): count, % on", 5),
        ("necessary neurons (class → n): count, % on", 5),
    ]
    return Table(columns, rows, groups)


def concepts_detail_table(concepts: pd.DataFrame, class_names: list[str]) -> Table:
    """Every (sample, input) row: the concept, whether it pushes for or against its class, and how many of its
    class's neurons hold on it."""
    position = concepts["input"].map({"concept": 0, "full": 1, "empty": 2})
    ordered = concepts.assign(position=position).sort_values(["sample", "position", "rank"])
    rows = [
        Row(
            [
                format_exact(row["sample"]),
                class_label(int(row["label"]), class_names),
                str(row["input"]),
                format_exact(row["rank"]) if row["input"] == "concept" else MISSING,
                str(row["kind"] or MISSING) if row["input"] == "concept" else MISSING,
                format_exact(row["order"]) if row["input"] == "concept" else MISSING,
                format_decimal(row["value"]) if row["input"] == "concept" else MISSING,
                ("for" if row["value"] > 0 else "against") if row["input"] == "concept" else MISSING,
                str(row["players"]) if row["input"] == "concept" else MISSING,
                f"{format_exact(row['sufficient_on'])} / {format_exact(row['sufficient'])}",
                f"{format_exact(row['necessary_on'])} / {format_exact(row['necessary'])}",
            ]
        )
        for row in ordered.to_dict("records")
    ]
    columns = ["sample", "class", "input", "rank", "kind", "order", "I(S)", "pushes the class", "players"]
    return Table([*columns, "sufficient on", "necessary on"], rows)


def lens_links() -> list[dict[str, str]]:
    """Each lens's own report: its relative link (beside this page among the MLflow artifacts) and its catalog
    path (Kedro gives every versioned output of one run the same timestamp)."""
    return [
        {"lens": lens, "file": file, "catalog": f"data/08_reporting/{file}/<same run timestamp>/{file}"}
        for lens, file in LENS_REPORTS.items()
    ]


def require_columns(frame: pd.DataFrame, columns: list[str], name: str) -> None:
    """A clear error when an input table lacks columns the report reads."""
    missing = [column for column in columns if column not in frame]
    if missing:
        raise ValueError(
            f"the timeline report's {name} table lacks the columns {missing}; it has {list(frame.columns)}. "
            f"Pass the table that the timeline pipeline's node builds (see ndg_pipeline.reporting.timeline)."
        )


LAYER_COLUMNS = ["layer", "linear", "edges", "edges_within", "edge_test_accuracy", "ei", "ei_parts", "sensitivity"]
CONCEPT_COLUMNS = ["sample", "label", "input", "rank", "kind", "order", "value", "players", "sufficient"]
CONCEPT_COLUMNS += ["sufficient_on", "necessary", "necessary_on", "sufficient_share", "necessary_share"]


def render_timeline_report(
    timeline: pd.DataFrame,
    layers: pd.DataFrame,
    concepts: pd.DataFrame,
    info: dict[str, Any],
    lineage: Mapping[str, str],
    identity: Mapping[str, str] | None = None,
) -> str:
    """The timeline report as one self-contained HTML string; ``identity`` names the run that made it
    (:func:`ndg_pipeline.reporting.header.run_identity`)."""
    require_columns(timeline, [EPOCH], "timeline")
    require_columns(layers, [*LAYER_COLUMNS, "degeneracy"], "layers")
    require_columns(concepts, CONCEPT_COLUMNS, "concepts")
    class_names = [str(name) for name in info.get("class_names", [])]
    per_class = concepts_per_class(concepts, class_names) if len(concepts) else pd.DataFrame()
    epochs = checkpoints(timeline)
    top = concepts.loc[concepts["input"] == "concept", "rank"]
    return (
        template_environment("ndg_pipeline.reporting.timeline", ".")
        .get_template("timeline.html.j2")
        .render(
            title=f"Three lenses over training — {info.get('name', 'dataset')}",
            dataset_name=info.get("name", "dataset"),
            n_train=info.get("n_train"),
            n_test=info.get("n_test"),
            epochs=epochs,
            lineage=lineage_items(lineage),
            identity=dict(identity or {}),
            figure=data_uri(timeline_figure_png(timeline)) if epochs else None,
            missing=missing_lenses(timeline),
            headline=headline_table(timeline),
            full=full_table(timeline),
            tolerance=f"{100 * SETTLE_TOLERANCE:g}",
            layers=layers_table(layers) if len(layers) else None,
            layers_flagged=any_flagged(layers[["sensitivity", "degeneracy"]]),
            timeline_flagged=any_flagged(timeline),
            flag_note=FLAG_NOTE,
            layer_count=len(layers),
            layers_figure=layers_figure(layers) if len(layers) else None,
            concepts=concepts_class_table(per_class) if len(per_class) else None,
            concepts_figure=concepts_figure(per_class) if len(per_class) else None,
            concepts_detail=concepts_detail_table(concepts, class_names) if len(concepts) else None,
            top_concepts=int(top.max()) + 1 if len(top) and not math.isnan(top.max()) else 0,
            roles_absent=[role for role in ("sufficient", "necessary") if len(per_class) and not per_class[role].any()],
            links=lens_links(),
        )
    )
