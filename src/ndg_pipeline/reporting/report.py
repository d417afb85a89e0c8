"""Render a run's results as one self-contained HTML page, with the paper's numbers beside ours.

The page reads top-down: a summary of the headline numbers, the figures, the detailed tables, and last the
parameters, collapsed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from numbers import Integral
from typing import Any

import numpy as np
import pandas as pd
from markupsafe import Markup

from ndg_pipeline.names import (
    CLASS_LAYER,
    GRAPH_SETS,
    RANDOM_SETS,
    RECALL,
    SEPARATOR,
    SUPPORT,
    TEST_PRECISION,
    TRAIN_PRECISION,
    literal_name,
)
from ndg_pipeline.reporting.figures import alpha_sweep_figure, per_class_figure, sweep_is_clipped, training_figure
from ndg_pipeline.reporting.header import lineage_items, template_environment
from ndg_pipeline.reporting.paper import PAPER_ALPHA, paper_dataset, paper_rows
from ndg_pipeline.tracking import flatten

MISSING = "–"
SPLITS = ("train", "test")
MODE_LABELS = {"patch": "patch values", "reference": "reference values"}
# Whose intervention sets a Table 5 row wrote (its ``sets`` column, as ndg.intervention names them): the graph's,
# or random sets of the same sizes; the graph's need no label beside the value mode.
SETS_LABELS = {GRAPH_SETS: "", RANDOM_SETS: "random-set baseline"}


@dataclass
class ReportContext:
    """Everything one run's report shows; the Kedro node fills it from the pipeline's outputs."""

    title: str
    dataset: dict[str, Any]
    parameters: dict[str, Any]
    training_history: pd.DataFrame
    graph_statistics: dict[str, float]
    alpha_sweep: pd.DataFrame
    alpha: float
    intervention: pd.DataFrame
    intervention_per_class: pd.DataFrame
    drawings: dict[str, str]
    top_edges: pd.DataFrame
    run_info: dict[str, str]
    lineage: dict[str, str] = field(default_factory=dict)  # fingerprints of the model and data behind the run
    identity: dict[str, str] = field(default_factory=dict)  # MLflow run, start time, git commit, pipeline
    edge_roles: dict[str, int] = field(default_factory=dict)  # edges per role (role_counts), all edges counted


@dataclass(frozen=True)
class Row:
    """One table row of formatted cells; css_class marks the paper's rows and the run's α."""

    cells: list[str]
    css_class: str = ""


@dataclass(frozen=True)
class Table:
    """A table ready for the template: column headers, optional grouped headers above them, rows."""

    columns: list[str]
    rows: list[Row]
    groups: list[tuple[str, int]] = field(default_factory=list)


def is_missing(value: Any) -> bool:
    """Whether a scalar is None or NaN (shown as "–")."""
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def format_percent(value: Any) -> str:
    """A value already in percent, with 2 decimals."""
    return MISSING if is_missing(value) else f"{float(value):.2f}"


def format_fraction(value: Any) -> str:
    """A fraction in [0, 1] shown as a percent with 2 decimals (the only arithmetic the report does)."""
    return MISSING if is_missing(value) else f"{100.0 * float(value):.2f}"


def format_exact(value: Any) -> str:
    """A count or α exactly: a plain integer when it is one (no separators, copyable), else the float's repr."""
    if is_missing(value):
        return MISSING
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def format_decimal(value: Any) -> str:
    """A mean or ratio with 2 decimals."""
    return MISSING if is_missing(value) else f"{float(value):.2f}"


def format_flag(value: Any) -> str:
    """A 0/1 statistic as yes/no."""
    return MISSING if is_missing(value) else ("yes" if value else "no")


def format_value(value: Any) -> str:
    """A parameter or metadata value as written in the configuration (floats exact, lists comma-joined)."""
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return "null"
    if isinstance(value, list | tuple):
        return ", ".join(format_value(item) for item in value)
    if isinstance(value, float):
        return MISSING if math.isnan(value) else repr(value)
    return str(value)


GRAPH_STATISTICS: dict[str, tuple[str, Callable[[Any], str]]] = {
    "edges": ("edges (directed; every accepted p → q with its contrapositive ¬q → ¬p)", format_exact),
    "mined_edges": ("mined edges (accepted p → q, contrapositives not counted)", format_exact),
    "equivalent_pairs": ("equivalent predicate pairs (kept apart from the edges)", format_exact),
    "constants": ("constant predicates (prior < 1e-4 or > 1 − 1e-4; in no edge)", format_exact),
    "literals": ("literals (two per predicate)", format_exact),
    "isolated_literals": ("isolated literals (in no edge)", format_exact),
    "mean_degree": ("mean degree (in + out) of non-isolated literals", format_decimal),
    "longest_path": ("longest path, in edges (– when the graph has a cycle)", format_exact),
    "acyclic": ("acyclic", format_flag),
    "weakly_connected_components": ("weakly connected components of non-isolated literals", format_exact),
    "mean_train_accuracy": ("mean edge accuracy, train split (%)", format_fraction),
    "mean_test_accuracy": ("mean edge accuracy, test split (%)", format_fraction),
}


def key_value_table(values: Mapping[str, Any], header: tuple[str, str]) -> Table:
    """Two-column table of names and formatted values."""
    return Table(list(header), [Row([str(key), format_value(value)]) for key, value in values.items()])


def parameter_tables(parameters: Mapping[str, Any]) -> dict[str, Table]:
    """One small table per top-level parameter group, keys flattened within the group (lists stay values)."""
    return {
        group: key_value_table(flatten(values) if isinstance(values, Mapping) else {group: values}, ("key", "value"))
        for group, values in parameters.items()
    }


def statistics_table(statistics: Mapping[str, float]) -> Table:
    """The graph statistics with their meaning; unknown keys follow, as given."""
    rows = [
        Row([label, formatter(statistics[key])])
        for key, (label, formatter) in GRAPH_STATISTICS.items()
        if key in statistics
    ]
    rows += [Row([key, format_value(value)]) for key, value in statistics.items() if key not in GRAPH_STATISTICS]
    return Table(["statistic", "value"], rows)


def paper_label(dataset_name: str, table: str) -> str:
    """Row label for the paper's numbers, naming the paper's dataset and its α."""
    name = paper_dataset(dataset_name)
    return f"paper, {table} ({name}, α = {format_exact(PAPER_ALPHA[name])})"


def run_label(context: ReportContext) -> str:
    """Row label for this run's numbers: its dataset and α."""
    return f"this run ({context.dataset['name']}, α = {format_exact(context.alpha)})"


def last_epoch(history: pd.DataFrame) -> dict[str, Any]:
    """The training history's last epoch (empty when there is no history)."""
    return {} if history.empty else history.iloc[-1].to_dict()


def edge_cells(statistics: dict[str, float]) -> list[str]:
    """This run's edge count and mean train / test edge accuracy, as cells."""
    return [
        format_exact(statistics.get("edges")),
        format_fraction(statistics.get("mean_train_accuracy")),
        format_fraction(statistics.get("mean_test_accuracy")),
    ]


def headline_table(context: ReportContext) -> Table:
    """The summary's first table: model accuracy, edges and mean edge accuracy, ours and the paper's."""
    statistics, last = context.graph_statistics, last_epoch(context.training_history)
    rows = [
        Row(
            [
                run_label(context),
                *(format_fraction(last.get(f"{split}_accuracy")) for split in SPLITS),
                *edge_cells(statistics),
            ]
        )
    ]
    name = context.dataset["name"]
    for table3, table5 in zip(
        paper_rows("table3", name).to_dict("records"), paper_rows("table5", name).to_dict("records"), strict=True
    ):
        cells = [format_percent(table5[f"model_accuracy_{split}"]) for split in SPLITS]
        cells += [format_exact(table3["original_edges"])]
        cells += [format_percent(table3[f"original_{split}"]) for split in SPLITS]
        rows.append(Row([paper_label(name, "Tables 3 and 5"), *cells], "paper"))
    columns = ["", "train", "test", "edges", "train", "test"]
    groups = [("", 1), ("model accuracy (%)", 2), ("", 1), ("mean edge accuracy (%)", 2)]
    return Table(columns, rows, groups)


def intervention_runs(intervention: pd.DataFrame) -> list[tuple[str, str]]:
    """(value mode, sets) of the rows present, in reading order: each mode's graph sets, then its random baseline."""
    if intervention.empty:
        return []
    present = list(dict.fromkeys(zip(intervention["mode"], intervention["sets"], strict=True)))

    def order(run: tuple[str, str]) -> tuple[int, int]:
        mode, sets = run
        modes, kinds = list(MODE_LABELS), list(SETS_LABELS)
        return (modes.index(mode) if mode in modes else len(modes), kinds.index(sets) if sets in kinds else len(kinds))

    return sorted(present, key=order)


def run_name(mode: str, sets: str) -> str:
    """A value mode with whose sets it wrote: "patch values", "patch values, random-set baseline"."""
    sets_label = SETS_LABELS.get(sets, f"{sets} sets")
    return ", ".join(part for part in (MODE_LABELS.get(mode, mode), sets_label) if part)


def is_baseline(sets: str) -> bool:
    """Whether a row wrote other sets than the graph's (a baseline, shown greyed)."""
    return sets != GRAPH_SETS


def _cell(frame: pd.DataFrame, split: str, mode: str, sets: str, column: str) -> Any:
    """One value of the intervention summary, or None when that split × mode × sets row is absent."""
    match = frame.loc[(frame["split"] == split) & (frame["mode"] == mode) & (frame["sets"] == sets), column]
    return match.iloc[0] if len(match) else None


def aligned_table(context: ReportContext) -> Table:
    """The summary's second table: aligned % per value mode, the graph's sets beside the random baseline's."""
    intervention = context.intervention
    modes = list(dict.fromkeys(mode for mode, _ in intervention_runs(intervention)))
    rows = [
        Row(
            [MODE_LABELS.get(mode, mode)]
            + [
                format_percent(_cell(intervention, split, mode, sets, "aligned"))
                for sets in (GRAPH_SETS, RANDOM_SETS)
                for split in SPLITS
            ]
        )
        for mode in modes
    ]
    rows += [
        Row(
            [paper_label(context.dataset["name"], "Table 5")]
            + [format_percent(paper[f"aligned_{split}"]) for split in SPLITS]
            + [MISSING] * len(SPLITS),
            "paper",
        )
        for paper in paper_rows("table5", context.dataset["name"]).to_dict("records")
    ]
    groups = [("", 1), ("the graph's sets", len(SPLITS)), (SETS_LABELS[RANDOM_SETS], len(SPLITS))]
    return Table(["value mode", *SPLITS, *SPLITS], rows, groups)


def edge_accuracy_table(context: ReportContext) -> Table:
    """Table 3 style: edges and mean train/test edge accuracy, ours and (if any) the paper's "original"."""
    statistics = context.graph_statistics
    dataset_name = context.dataset["name"]
    rows = [
        Row(
            [
                run_label(context),
                *edge_cells(statistics),
            ]
        )
    ]
    rows += [
        Row(
            [
                paper_label(dataset_name, "Table 3 original"),
                format_exact(paper["original_edges"]),
                format_percent(paper["original_train"]),
                format_percent(paper["original_test"]),
            ],
            "paper",
        )
        for paper in paper_rows("table3", dataset_name).to_dict("records")
    ]
    return Table(["", "edges", "train accuracy (%)", "test accuracy (%)"], rows)


def alpha_sweep_table(sweep: pd.DataFrame, alpha: float) -> Table:
    """The α sweep as in Figure 3, accuracies as percentages, the run's α highlighted."""
    rows = [
        Row(
            [
                format_exact(row["alpha"]),
                format_exact(row["edges"]),
                format_exact(row["equivalent_pairs"]),
                format_fraction(row["train_accuracy"]),
                format_fraction(row["test_accuracy"]),
            ],
            "current" if math.isclose(row["alpha"], alpha) else "",
        )
        for row in sweep.to_dict("records")
    ]
    return Table(["α", "edges", "equivalent pairs", "train accuracy (%)", "test accuracy (%)"], rows)


INTERVENTION_MEASURES = (
    ("aligned", "aligned (%)", "aligned", format_percent),
    ("unchanged", "unchanged (%)", "unchanged", format_percent),
    ("unaligned", "unaligned (%)", "unaligned", format_percent),
    ("model_accuracy", "model accuracy (%)", "model_accuracy", format_percent),
    ("mean_contradictions", "contradictions per input", "contradictions", format_decimal),
)


def intervention_table(intervention: pd.DataFrame, dataset_name: str) -> Table:
    """Table 5 layout: one row per value mode and its random baseline, train/test side by side per measure,
    the paper's row last."""
    rows = [
        Row(
            [f"this run, {run_name(mode, sets)}"]
            + [
                formatter(_cell(intervention, split, mode, sets, column))
                for column, _, _, formatter in INTERVENTION_MEASURES
                for split in SPLITS
            ],
            "baseline" if is_baseline(sets) else "",
        )
        for mode, sets in intervention_runs(intervention)
    ]
    rows += [
        Row(
            [paper_label(dataset_name, "Table 5")]
            + [
                formatter(paper[f"{paper_column}_{split}"])
                for _, _, paper_column, formatter in INTERVENTION_MEASURES
                for split in SPLITS
            ],
            "paper",
        )
        for paper in paper_rows("table5", dataset_name).to_dict("records")
    ]
    groups = [("", 1)] + [(header, len(SPLITS)) for _, header, _, _ in INTERVENTION_MEASURES]
    return Table(["", *(split for _ in INTERVENTION_MEASURES for split in SPLITS)], rows, groups)


def set_size_table(intervention: pd.DataFrame) -> Table:
    """Mean intervention-set size, absolute and as a share of the layer, with the inputs it was measured on."""
    rows = [
        Row(
            [
                run_name(mode, sets),
                split,
                format_decimal(_cell(intervention, split, mode, sets, "mean_set_size")),
                format_fraction(_cell(intervention, split, mode, sets, "set_fraction")),
                format_exact(_cell(intervention, split, mode, sets, "n_correct")),
                format_exact(_cell(intervention, split, mode, sets, "n_inputs")),
            ],
            "baseline" if is_baseline(sets) else "",
        )
        for mode, sets in intervention_runs(intervention)
        for split in SPLITS
    ]
    columns = ["intervention", "split", "mean set size", "set size / layer (%)", "correctly classified", "inputs"]
    return Table(columns, rows)


def class_label(value: Any, class_names: list[str]) -> str:
    """A class index with its name when the dataset names it differently (`3 (cat)`)."""
    text = format_value(value)
    index = int(value) if isinstance(value, Integral) and not isinstance(value, bool) else -1
    if 0 <= index < len(class_names) and class_names[index] != text:
        return f"{text} ({class_names[index]})"
    return text


def per_class_table(per_class: pd.DataFrame, class_names: list[str]) -> Table:
    """Intervention outcome per counterfactual class, split, value mode and sets."""
    rows = [
        Row(
            [
                row["split"],
                run_name(row["mode"], row["sets"]),
                class_label(row["counterfactual"], class_names),
                format_exact(row["n"]),
                format_percent(row["aligned"]),
                format_percent(row["unchanged"]),
                format_percent(row["unaligned"]),
                format_decimal(row["mean_set_size"]),
                format_decimal(row["mean_contradictions"]),
            ],
            "baseline" if is_baseline(row["sets"]) else "",
        )
        for row in per_class.to_dict("records")
    ]
    columns = [
        "split",
        "intervention",
        "counterfactual class",
        "inputs",
        "aligned (%)",
        "unchanged (%)",
        "unaligned (%)",
        "mean set size",
        "contradictions per input",
    ]
    return Table(columns, rows)


def model_accuracy_table(context: ReportContext) -> Table:
    """Model accuracy from the last training epoch and from the intervention run, with the paper's."""
    rows = []
    last = last_epoch(context.training_history)
    if last:
        rows.append(
            Row(
                [f"this run, training history (epoch {format_exact(last['epoch'])})"]
                + [format_fraction(last[f"{split}_accuracy"]) for split in SPLITS]
            )
        )
    runs = intervention_runs(context.intervention)
    if runs:
        rows.append(
            Row(
                ["this run, inputs of the intervention"]
                + [format_percent(_cell(context.intervention, split, *runs[0], "model_accuracy")) for split in SPLITS]
            )
        )
    rows += [
        Row(
            [paper_label(context.dataset["name"], "Table 5")]
            + [format_percent(paper[f"model_accuracy_{split}"]) for split in SPLITS],
            "paper",
        )
        for paper in paper_rows("table5", context.dataset["name"]).to_dict("records")
    ]
    return Table(["", "train accuracy (%)", "test accuracy (%)"], rows)


EDGE_ROLES = {
    "sufficient": "neuron → class (the neuron is sufficient for the class)",
    "necessary": "class → neuron (the neuron is necessary for the class)",
    "between neurons": "neuron → neuron",
}
CONTRAPOSITIVE = "contrapositive"


def edge_roles(edges: pd.DataFrame) -> pd.Series:
    """What each mined edge says: a neuron sufficient for a class (n → class), necessary for it (class → n), a
    neuron–neuron implication, or the contrapositive of one of these (it says nothing new); vectorized, since a
    graph can have millions of edges."""
    prefix = CLASS_LAYER + SEPARATOR
    source_class = edges["source"].astype(str).str.startswith(prefix).to_numpy()
    target_class = edges["target"].astype(str).str.startswith(prefix).to_numpy()
    conditions = [
        (edges["kind"] == CONTRAPOSITIVE).to_numpy(),
        target_class & ~source_class & edges["target_value"].to_numpy(dtype=bool),
        source_class & ~target_class & edges["source_value"].to_numpy(dtype=bool),
        ~source_class & ~target_class,
    ]
    roles = np.select(conditions, [CONTRAPOSITIVE, *EDGE_ROLES], default="other")
    return pd.Series(roles, index=edges.index, dtype=object)


def informative_edges(edges: pd.DataFrame, per_role: int = 8) -> pd.DataFrame:
    """The strongest edges (by support) of each role in reading order: neuron → class, class → neuron,
    neuron → neuron; contrapositives and class–class edges are left out (each mined edge implies its
    contrapositive)."""
    if edges.empty:
        return edges.assign(role=pd.Series(dtype=str))
    ranked = edges.assign(role=edge_roles(edges)).sort_values(
        [SUPPORT, "source", "target"], ascending=[False, True, True]
    )
    kept = [ranked[ranked["role"] == role].head(per_role) for role in EDGE_ROLES]
    return pd.concat(kept, ignore_index=True)


def role_counts(edges: pd.DataFrame) -> dict[str, int]:
    """How many edges of each role the graph has (contrapositives included)."""
    if edges.empty:
        return {}
    counts = edge_roles(edges).value_counts()
    return {role: int(counts.get(role, 0)) for role in [*EDGE_ROLES, CONTRAPOSITIVE]}


def classes_without_sets(per_class: pd.DataFrame, class_names: list[str], split: str = "test") -> list[str]:
    """Target classes whose intervention set was empty for every input (no neuron literal leads to the class)."""
    if per_class.empty:
        return []
    graph = per_class[(per_class["split"] == split) & (per_class["sets"] == GRAPH_SETS)]
    sizes = graph.groupby("counterfactual")["mean_set_size"].max()
    return [class_label(int(label), class_names) for label, size in sizes.items() if size == 0]


def top_edges_table(edges: pd.DataFrame) -> Table:
    """A few edges with their support and accuracies, literals named as in the graph (`¬latent:3`)."""
    roles = edges["role"] if "role" in edges else edge_roles(edges)
    rows = [
        Row(
            [
                EDGE_ROLES.get(role, role),
                literal_name(str(row["source"]), bool(row["source_value"])),
                literal_name(str(row["target"]), bool(row["target_value"])),
                str(row["kind"]),
                format_exact(row[SUPPORT]),
                format_fraction(row[TRAIN_PRECISION]),
                format_fraction(row[RECALL]),
                format_fraction(row.get(TEST_PRECISION)),
            ]
        )
        for role, row in zip(roles, edges.to_dict("records"), strict=True)
    ]
    columns = ["what it says", "p", "q", "kind", "support n(p∧q)", "train accuracy (%)", "recall (%)"]
    columns.append("test accuracy (%)")
    return Table(columns, rows)


def drawing_caption(key: str, class_names: list[str]) -> str:
    """Caption of one drawing: the whole graph, or the part around one class literal."""
    if key == "all":
        return "The whole graph."
    layer, _, index = key.rpartition(":")
    name = class_label(int(index), class_names) if layer == "class" and index.isdigit() else key
    return f"Around class {name} (its strongest edges by support; the title says what lies below and above it)."


def inline_svg(svg: str) -> Markup:
    """An SVG document as inline markup: the XML prolog and DOCTYPE that Graphviz writes are dropped."""
    start = svg.find("<svg")
    return Markup(svg[start:] if start >= 0 else svg)


def drawing_figures(drawings: Mapping[str, str], class_names: list[str]) -> list[tuple[str, Markup]]:
    """(caption, inline SVG) for every drawing, in the order given."""
    return [(drawing_caption(key, class_names), inline_svg(svg)) for key, svg in drawings.items() if key != "error"]


def render_report(context: ReportContext) -> str:
    """The report page as one self-contained HTML string (inline CSS, PNG data URIs, inline SVG)."""
    class_names = [str(name) for name in context.dataset.get("class_names", [])]
    class_labels = {index: class_label(index, class_names) for index in range(len(class_names))}
    sweep = context.alpha_sweep
    paper_name = paper_dataset(context.dataset["name"])
    has_intervention = not context.intervention.empty
    return (
        template_environment()
        .get_template("report.html.j2")
        .render(
            title=context.title,
            dataset_name=context.dataset["name"],
            paper_name=paper_name,
            paper_alpha=format_exact(PAPER_ALPHA[paper_name]) if paper_name else None,
            lineage=lineage_items(context.lineage),
            identity=context.identity,
            headline=headline_table(context),
            aligned=aligned_table(context) if has_intervention else None,
            dataset_table=key_value_table(context.dataset, ("field", "value")),
            parameter_tables=parameter_tables(context.parameters),
            model_accuracy=model_accuracy_table(context),
            training_figure=training_figure(context.training_history) if not context.training_history.empty else None,
            statistics=statistics_table(context.graph_statistics),
            edge_accuracy=edge_accuracy_table(context),
            alpha=format_exact(context.alpha),
            alpha_in_sweep=any(math.isclose(value, context.alpha) for value in sweep.get("alpha", [])),
            sweep_table=alpha_sweep_table(sweep, context.alpha),
            sweep_figure=alpha_sweep_figure(sweep, context.alpha) if not sweep.empty else None,
            sweep_clipped=not sweep.empty and sweep_is_clipped(sweep),
            intervention=intervention_table(context.intervention, context.dataset["name"]),
            set_sizes=set_size_table(context.intervention) if has_intervention else None,
            per_class=per_class_table(context.intervention_per_class, class_names)
            if not context.intervention_per_class.empty
            else None,
            drawing_error=context.drawings.get("error"),
            drawings=drawing_figures(context.drawings, class_names),
            top_edges=top_edges_table(context.top_edges) if not context.top_edges.empty else None,
            edge_roles={EDGE_ROLES.get(role, role): count for role, count in context.edge_roles.items()},
            per_class_figure=per_class_figure(context.intervention_per_class, class_labels)
            if not context.intervention_per_class.empty
            else None,
            empty_classes=classes_without_sets(context.intervention_per_class, class_names),
            run_info=context.run_info,
        )
    )
