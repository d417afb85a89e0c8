"""Write the README's result tables from a run's own outputs, so that no number in it is typed by hand.

``python -m ndg_pipeline.reporting.readme`` (``make readme-tables``) loads, from the project's catalog, the newest
version of each output made with the project's parameters (``--params`` adds a run's own, as ``kedro run`` takes
them; ``--version 2026-12-02T15.00.35.140Z`` pins every entry to one run's versions) and replaces the text
between ``<!-- generated: NAME -->`` and ``<!-- end: NAME -->`` in README.md; ``--check`` only says whether the
README still matches the outputs (exit status 1 when not).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ndg_pipeline.reporting.report import MISSING, format_exact, format_fraction, format_percent, is_missing
from ndg_pipeline.versions import versions

Loader = Callable[[str], Any]
BLOCK = re.compile(r"(<!-- generated: (?P<name>[\w-]+) -->\n).*?(<!-- end: (?P=name) -->)", re.DOTALL)
TIMELINE_ROWS = (
    ("ndg.edges", "NDG edges", format_exact),
    ("ndg.test_accuracy", "mean edge accuracy, test (%)", format_fraction),
    ("ndg.patch.graph.aligned", "aligned, test, patch values (%)", format_percent),
    ("ndg.patch.random.aligned", "the same, random-set baseline (%)", format_percent),
    ("interactions.concepts_per_sample", "interaction concepts per sample", lambda value: f"{float(value):.1f}"),
    ("interactions.explanation_ratio", "explanation ratio (%)", format_fraction),
    ("interactions.salient_concepts_per_sample", "salient concepts per sample", lambda value: f"{float(value):.1f}"),
)
MODES = {"patch": "patch values", "reference": "reference values"}
EI_NAMES = {"ei_parts": "EI_parts", "sensitivity": "sensitivity"}
STEADY_POINTS = 1.0  # a percentage that moves less than this many points between checkpoints "stays"
STEADY_SHARE = 0.1  # a count that moves less than this share of its first value "stays"


def markdown(header: list[str], rows: list[list[str]]) -> str:
    """A GitHub markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows]) + "\n"


SPREAD_STUDY, SPREAD_VARIANT = "dropout", "dropout"  # the study variant whose full preset is the default setting


def timeline_column(lens: str, metric: str) -> str:
    """The timeline table's column of a study metric: ``ndg``'s ``patch.aligned`` is ``ndg.patch.graph.aligned``,
    ``effective_information``'s ``decoder.0.ei_parts`` is ``ei.decoder.0.ei_parts``."""
    if lens == "effective_information":
        return f"ei.{metric}"
    if lens == "ndg" and metric == "edge_test_accuracy":
        return "ndg.test_accuracy"
    if lens == "ndg" and metric.endswith(".aligned"):
        return f"ndg.{metric.removesuffix('.aligned')}.graph.aligned"
    return f"{lens}.{metric}"


def seed_spread(runs: pd.DataFrame, variant: str) -> pd.DataFrame:
    """Lowest and highest value per timeline column and epoch, over ``variant``'s cells of
    a study's ``study_runs`` (converged values; the aligned share's random-set baseline is its null)."""
    cells = runs[(runs["variant"] == variant) & runs["converged"]]
    columns = [timeline_column(lens, metric) for lens, metric in zip(cells["lens"], cells["metric"], strict=True)]
    measured = cells.assign(column=columns)
    baselines = measured[measured["column"].str.endswith(".graph.aligned")]
    baselines = baselines.assign(column=baselines["column"].str.replace(".graph.", ".random.", regex=False))
    rows = pd.concat([measured, baselines.assign(value=baselines["null"])], ignore_index=True)
    return rows.groupby(["column", "epoch"])["value"].agg(low="min", high="max")


def spread_cell(spread: pd.DataFrame, column: str, epoch: Any, formatter: Callable[[Any], str]) -> str:
    """``low–high`` of ``column`` at ``epoch`` over the seeds, or "" where the spread lacks it."""
    if (column, epoch) not in spread.index:
        return ""
    low, high = spread.loc[(column, epoch)]
    return f"{formatter(low)}–{formatter(high)}"


def timeline_block(timeline: pd.DataFrame) -> str:
    """The default run's timeline: one column per checkpoint, one row per headline metric present."""
    ordered = timeline.sort_values("epoch")
    layers = dict.fromkeys(column[3:].rpartition(".")[0] for column in ordered.columns if column.startswith("ei."))
    ei_columns = [f"ei.{layer}.{measure}" for measure in EI_NAMES for layer in layers]
    ei_rows = tuple((column, *printed(column)) for column in ei_columns)
    rows = [
        [label, *(formatter(value) for value in ordered[column])]
        for column, label, formatter in TIMELINE_ROWS + ei_rows
        if column in ordered and ordered[column].notna().any()
    ]
    return markdown(["epoch", *(str(int(epoch)) for epoch in ordered["epoch"])], rows)


TRAINING_ROWS = (
    ("training.train_accuracy", "model accuracy, train (%)", format_fraction),
    ("training.test_accuracy", "model accuracy, test (%)", format_fraction),
)
REFERENCE_ROWS = (
    ("ndg.reference.graph.aligned", "aligned, test, reference values (%)", format_percent),
    ("ndg.reference.random.aligned", "the same, random-set baseline (%)", format_percent),
)


PRINTED = {column: (label, formatter) for column, label, formatter in TRAINING_ROWS + TIMELINE_ROWS + REFERENCE_ROWS}


def printed(column: str) -> tuple[str, Callable[[Any], str]]:
    """A timeline or training column's README label and how its values are printed."""
    if column in PRINTED:
        return PRINTED[column]
    layer, _, measure = column.removeprefix("ei.").rpartition(".")
    return f"{EI_NAMES.get(measure, measure)} of `{layer}`, bits", lambda value: f"{float(value):.1f}"


def seed_spread_block(spread: pd.DataFrame, version: str, seeds: list[int]) -> str:
    """Each number of the timeline table (and the model's accuracy) as its lowest–highest over seeds, laid out as
    that table, with the seeds and the study run it comes from."""
    epochs = sorted({int(epoch) for _, epoch in spread.index if epoch > 0})  # epoch 0, untrained, is not a row's
    measured = spread.index.get_level_values("column")
    layers = sorted({column for column in measured if column.startswith("ei.")}, key=lambda c: c.rpartition(".")[::-1])
    rows = [
        [printed(column)[0], *(spread_cell(spread, column, epoch, printed(column)[1]) or "—" for epoch in epochs)]
        for column in [*PRINTED, *layers]
        if column in measured
    ]
    note = (
        f"Lowest–highest over seeds {', '.join(map(str, seeds))} of this same setting: the `{SPREAD_STUDY}` study's "
        f"`{SPREAD_VARIANT}` variant, run `{version}`, preset `{FINDINGS_PRESET}`.\n\n"
    )
    return note + markdown(["epoch", *map(str, epochs)], rows)


def other_machines_block(recorded: pd.DataFrame, spread: pd.DataFrame) -> str:
    """Per machine whose seed-0 default run was recorded (``machine``, ``date``, ``column``, ``epoch``, ``value``
    as the README prints it): how many of its numbers lie inside this machine's lowest–highest over seeds, as
    printed, and which do not."""
    lines = []
    for (machine, date), numbers in recorded.groupby(["machine", "date"], sort=False):
        inside, outside = 0, []
        for row in numbers.itertuples(index=False):
            if (row.column, row.epoch) not in spread.index:
                continue
            label, formatter = printed(row.column)
            low, high = spread.loc[(row.column, row.epoch)]
            if float(formatter(low)) <= row.value <= float(formatter(high)):
                inside += 1
            else:
                bounds = f"{formatter(low)}–{formatter(high)}"
                outside.append(f"{label} at epoch {row.epoch}: {row.value:g} (range {bounds})")
        verdict = f"; outside: {'; '.join(outside)}" if outside else ""
        lines.append(f"- {machine}, {date}: {inside} of {inside + len(outside)} numbers inside the range{verdict}.")
    return "\n".join(lines) + "\n"


def movement(values: pd.Series, steady: float, unit: str, digits: int) -> str:
    """How a metric moves over the checkpoints, in words chosen by the data: "rises from 1.4 % at epoch 1 to
    88.5 % at epoch 20", "falls from …", or "stays between 98.1 and 98.4 %" when it moves less than ``steady``."""
    known = values.dropna()
    first, last = known.iloc[0], known.iloc[-1]
    if known.max() - known.min() < steady:
        return f"stays between {known.min():.{digits}f} and {known.max():.{digits}f}{unit}"
    verb = "rises" if last > first else "falls"
    return (
        f"{verb} from {first:.{digits}f}{unit} at epoch {int(known.index[0])} "
        f"to {last:.{digits}f}{unit} at epoch {int(known.index[-1])}"
    )


def aligned_sentence(by_epoch: pd.DataFrame) -> str:
    """The intervention's aligned share over training beside its random-set baseline, with the verdict the
    numbers allow (a value its baseline reaches is not a finding)."""
    aligned, baseline = by_epoch["ndg.patch.graph.aligned"], by_epoch["ndg.patch.random.aligned"]
    sentence = (
        f"The intervention's aligned share (test, patch values) {movement(aligned, STEADY_POINTS, ' %', 1)} "
        f"while its random-set baseline stays at or under {baseline.max():.1f} %"
    )
    first, final, highest = aligned.dropna().iloc[0], aligned.dropna().iloc[-1], baseline.max()
    if final <= highest:
        return sentence + ": at the last checkpoint the graph's sets do no better than random sets."
    if first <= highest:
        return sentence + (
            f": early in training the graph's sets do not beat the highest random-set baseline, the final "
            f"model's do by a factor of {final / highest:.0f}."
        )
    return sentence + ": the graph's sets beat random sets from the first checkpoint on."


def timeline_findings(timeline: pd.DataFrame, concepts: pd.DataFrame | None, alpha: str) -> str:
    """The sentences under the timeline table, each number and verdict taken from the run's outputs."""
    by_epoch = timeline.sort_values("epoch").set_index("epoch")
    sentences = []
    if {"ndg.patch.graph.aligned", "ndg.patch.random.aligned"} <= set(by_epoch):
        sentences.append(aligned_sentence(by_epoch))
    if "ndg.test_accuracy" in by_epoch:
        accuracy = 100 * by_epoch["ndg.test_accuracy"]
        sentences.append(f"The edges' mean test accuracy {movement(accuracy, STEADY_POINTS, ' %', 2)}.")
    if "interactions.explanation_ratio" in by_epoch:
        ratio = 100 * by_epoch["interactions.explanation_ratio"]
        sentences.append(f"The interaction lens's explanation ratio {movement(ratio, STEADY_POINTS, ' %', 1)}.")
    if "interactions.salient_concepts_per_sample" in by_epoch:
        salient = by_epoch["interactions.salient_concepts_per_sample"]
        steady = STEADY_SHARE * abs(salient.dropna().iloc[0])
        sentences.append(f"The number of salient concepts per sample {movement(salient, steady, '', 1)}.")
    left_out = [
        f"{EI_NAMES[column.rpartition('.')[2]]} of `{column[3:].rpartition('.')[0]}`"
        for column in by_epoch
        if column.startswith("ei.") and column.rpartition(".")[2] in EI_NAMES and by_epoch[column].isna().all()
    ]
    if left_out:
        sentences.append(
            f"Left out because its N/2 → N convergence check failed at every checkpoint: {', '.join(left_out)}."
        )
    if concepts is not None and len(concepts):
        with_sufficient = concepts.loc[concepts["sufficient"] > 0, "label"].nunique()
        classes = concepts["label"].nunique()
        sentences.append(
            f"At α = {alpha}, {with_sufficient} of the {classes} explained classes have a sufficient neuron "
            f"(an edge n → class) in the final model's graph."
        )
    return " ".join(sentences) + "\n"


def _summary(intervention: pd.DataFrame, split: str, mode: str, sets: str, column: str) -> Any:
    match = intervention.query("split == @split and mode == @mode and sets == @sets")[column]
    return match.iloc[0] if len(match) else None


def ndg_block(history: pd.DataFrame, statistics: Mapping[str, float], intervention: pd.DataFrame, alpha: float) -> str:
    """The NDG lens's headline numbers of the run: model accuracy, edges and their accuracy, aligned % per value
    mode beside its random-set baseline, and the mean intervention set."""
    last = history.iloc[-1]
    rows = [
        ["model accuracy train / test (%)", f"{format_fraction(last['train_accuracy'])} / "
         f"{format_fraction(last['test_accuracy'])}"],
        [f"edges at α = {format_exact(alpha)}; mean edge accuracy train / test (%)",
         f"{format_exact(statistics['edges'])}; {format_fraction(statistics['mean_train_accuracy'])} / "
         f"{format_fraction(statistics['mean_test_accuracy'])}"],
    ]  # fmt: skip
    for mode, label in MODES.items():
        graph, random = (_summary(intervention, "test", mode, sets, "aligned") for sets in ("graph", "random"))
        if graph is not None:
            rows.append([f"aligned, test — {label} (random-set baseline) (%)", f"{format_percent(graph)} "
                         f"({format_percent(random)})"])  # fmt: skip
    size = _summary(intervention, "test", "patch", "graph", "mean_set_size")
    share = _summary(intervention, "test", "patch", "graph", "set_fraction")
    if size is not None:
        rows.append(["mean intervention set, test (share of the layer)", f"{size:.1f} ({format_fraction(share)} %)"])
    return markdown(["", "this run"], rows)


def table5_block(intervention: pd.DataFrame) -> str:
    """Table 5 of the run: aligned / unchanged / unaligned on test (train in brackets), per value mode and sets."""
    rows = []
    for mode, label in MODES.items():
        for sets, suffix in (("graph", ""), ("random", ", random-set baseline")):
            if _summary(intervention, "test", mode, sets, "aligned") is None:
                continue
            cells = [
                f"{format_percent(_summary(intervention, 'test', mode, sets, outcome))} "
                f"({format_percent(_summary(intervention, 'train', mode, sets, outcome))})"
                for outcome in ("aligned", "unchanged", "unaligned")
            ]
            rows.append([label + suffix, *cells])
    return markdown(["test split (train in brackets)", "aligned %", "unchanged %", "unaligned %"], rows)


INTERACTION_ROWS = (  # metric, README label, format: percent with 0 or 1 decimals, a count, an error
    ("thresholds_met", "inputs meeting both thresholds", "percent0"),
    ("concepts_per_sample", "concepts per input (AND-OR graph)", "count"),
    ("explanation_ratio", "explanation ratio R", "percent1"),
    ("strength_share", "strength share of the kept concepts", "percent1"),
    ("normalized_error", "normalised error", "error"),
    ("salient_concepts_per_sample", "salient AND-OR concepts per input", "count"),
    ("harsanyi_salient_concepts_per_sample", "salient AND-only concepts per input", "count"),
    ("samplewise_transferability", "sample-wise transferability ρ(k={k})", "percent1"),
    ("discrimination", "discrimination power β", "percent1"),
    ("modelwise_transferability_0.05", "model-wise transferability γ(0.05)", "percent1"),
    ("modelwise_transferability_0.30", "model-wise transferability γ(0.30)", "percent1"),
)
INTERACTION_FORMATS = {
    "percent0": lambda value: f"{100 * value:.0f}%",
    "percent1": lambda value: f"{100 * value:.1f}%",
    "count": lambda value: f"{value:.1f}",
    "error": lambda value: f"{value:.4f}",
}


def interactions_block(metrics: pd.DataFrame) -> str:
    """The interaction lens's headline numbers: value [interval over inputs], its null [range], the verdict."""
    table = metrics.set_index("metric")
    k = format_exact(float(table.loc["dictionary_size", "value"])) if "dictionary_size" in table.index else "?"
    rows = []
    for metric, label, kind in INTERACTION_ROWS:
        if metric not in table.index:
            continue
        row, show = table.loc[metric], INTERACTION_FORMATS[kind]
        rows.append(
            [
                label.format(k=k),
                f"{show(row['value'])} [{show(row['low'])}, {show(row['high'])}]",
                f"{show(row['null'])} [{show(row['null_low'])}, {show(row['null_high'])}]",
                str(row["verdict"]),
            ]
        )
    return markdown(["quantity", "value [interval]", "null [range]", "verdict"], rows)


def interactions_notes(metrics: pd.DataFrame) -> str:
    """The sentence under the interaction table: the verdicts of the γ thresholds between the two shown, the random
    concept sets' score, the reconstruction error and the AND-OR graphs' sizes, all from the run's metrics."""
    table = metrics.set_index("metric")
    shown = table.index[table.index.str.startswith("modelwise_transferability_")][1:-1]
    verdicts = ", ".join(f"γ({name.rsplit('_', 1)[1]}) {table.loc[name, 'verdict']}" for name in shown)
    value = table.value
    error = max(value["reconstruction_error_harsanyi"], value["reconstruction_error_and_or"])
    return (
        f"Between the two γ rows: {verdicts}; random concept sets of the same sizes score "
        f"{100 * value['modelwise_random_baseline']:.1f} %. Reconstruction of the target + q is exact to {error:.0e}; "
        f"the AND-OR graphs have {value['graph_nodes']:.1f} nodes, {value['graph_edges']:.1f} edges and "
        f"{value['coalitions']:.1f} merged coalitions per input (description length "
        f"{value['description_length_unmerged']:.0f} → {value['description_length']:.0f}).\n"
    )


def noise_removal_block(variants: pd.DataFrame) -> str:
    """Each deliberate difference from the authors' noise removal replayed on the run's inputs: concepts per input
    (mean over inputs) and the share of inputs meeting both thresholds."""
    rows = [
        [variant, f"{group.concepts.mean():.1f}", f"{100 * group.thresholds_met.mean():.0f} %"]
        for variant, group in variants.groupby("variant", sort=False)
    ]
    return markdown(["noise removal", "concepts per input", "inputs meeting both thresholds within the cap"], rows)


def _span(values: pd.Series, digits: int) -> str:
    """'a–b' over seeds (one number when they agree at this precision)."""
    low, high = f"{values.min():.{digits}f}", f"{values.max():.{digits}f}"
    return low if low == high else f"{low}–{high}"


def _share(flags: pd.Series) -> str:
    """The share of converged values, in percent."""
    return f"{100 * flags.astype(bool).mean():.0f} %"


def ei_paper_block(series: pd.DataFrame) -> str:
    """The paper's experiments per network and layer: test accuracy, sensitivity and EI_parts at the first and the
    last measured epoch (range over seeds), and the share of converged values of each quantity."""
    rows = []
    for (experiment, architecture, layer), group in series.groupby(["experiment", "architecture", "layer"]):
        first, last = group[group["epoch"] == group["epoch"].min()], group[group["epoch"] == group["epoch"].max()]
        rows.append(
            [
                f"{experiment} {architecture}",
                str(layer),
                _span(100 * last["test_accuracy"], 1),
                f"{_span(first['sensitivity'], 2)} → {_span(last['sensitivity'], 1)}",
                f"{_span(first['ei_parts'], 2)} → {_span(last['ei_parts'], 2)}",
                f"{_share(group['ei_parts_converged'])} / {_share(group['sensitivity_converged'])} / "
                f"{_share(group['ei_converged'])}",
            ]
        )
    header = [
        "network",
        "layer",
        "test accuracy, last epoch (%)",
        "sensitivity, first → last epoch (bits)",
        "EI_parts, first → last epoch (bits)",
        "converged: EI_parts / sensitivity / whole EI",
    ]
    return markdown(header, rows)


def _changes(series: pd.DataFrame, column: str) -> pd.DataFrame:
    """Per seed, the measured interval ("a → b" epochs) over which ``column`` summed over layers changes most, and
    the last interval's change as a share of that largest one (small: the quantity has levelled off)."""

    def largest(group: pd.DataFrame) -> pd.Series:
        total = group.groupby("epoch")[column].sum().sort_index()
        steps = total.diff().abs().to_numpy()[1:]
        where = int(steps.argmax())
        interval = f"{total.index[where]} → {total.index[where + 1]}"
        return pd.Series({"interval": interval, "last": steps[-1] / steps[where]})

    return series.groupby("seed").apply(largest, include_groups=False)


def _paths(series: pd.DataFrame) -> pd.DataFrame:
    """Per seed and layer, the length of the path in the causal plane (sensitivity, degeneracy) over the measured
    epochs, and the distance between its first and last point (bits)."""

    def path(group: pd.DataFrame) -> pd.Series:
        points = group.sort_values("epoch")[["sensitivity", "degeneracy_parts"]].to_numpy()
        steps = np.hypot(*np.diff(points, axis=0).T)
        return pd.Series({"length": steps.sum(), "net": float(np.hypot(*(points[-1] - points[0])))})

    return series.groupby(["seed", "layer"]).apply(path, include_groups=False).reset_index()


def ei_findings_block(series: pd.DataFrame) -> str:
    """The paper's qualitative findings, each beside what this run measured (ranges over seeds): where training
    starts in the plane, whether EI_parts changes most where the loss falls most, how far each layer travels."""
    rows = []
    for (experiment, architecture), runs in series.groupby(["experiment", "architecture"]):
        network = f"{experiment} {architecture}"
        first = runs[runs["epoch"] == runs["epoch"].min()]
        rows.append(
            [
                "—",
                network,
                f"first measured epoch: sensitivity {_span(first['sensitivity'], 2)} bits, degeneracy "
                f"{first['degeneracy_parts'].min():.2f} to {first['degeneracy_parts'].max():.2f} bits (all layers)",
            ]
        )
        loss = _changes(runs[runs["layer_index"] == 0], "train_loss")
        parts = _changes(runs, "ei_parts")
        same = int((loss["interval"] == parts["interval"]).sum())
        rows.append(
            [
                "EI changes most while the loss falls fastest, then levels off",
                network,
                f"largest loss drop per seed: {', '.join(loss['interval'])}; largest change of ΣEI_parts: "
                f"{', '.join(parts['interval'])} (same interval in {same} of {len(loss)} seeds; the log-spaced "
                f"intervals differ in length); ΣEI_parts's change over the last interval: "
                f"{_span(100 * parts['last'], 0)} % of its largest",
            ]
        )
        paths = _paths(runs)
        travelled = "; ".join(
            f"layer {layer}: {_span(group['length'], 1)} (ends {_span(group['net'], 1)} from its start)"
            for layer, group in paths.groupby("layer")
        )
        rows.append(
            [
                "layers differentiate in the plane (MNIST more than Iris); deeper nets' hidden layers move little",
                network,
                f"path length in the plane, bits: {travelled}",
            ]
        )
    return markdown(["paper (qualitative)", "network", "this run (seeds 0, 1, 2; ranges over seeds)"], rows)


CONTROL_ROWS = (  # README label, paper table, column prefix
    ("T3 original", "table3", "original"),
    ("T3 random model", "table3", "random_model"),
    ("T3 random input", "table3", "random_input"),
    ("T4 different models", "table4", "different_models"),
    ("T4 different inputs", "table4", "different_inputs"),
    ("T6 layer 1", "table6", "layer1"),
    ("T6 layer 2", "table6", "layer2"),
    ("T6 inter-layer (layer 1 → layer 2)", "table6", "inter_layer"),
)


def control_cell(row: pd.Series, prefix: str) -> str:
    """``edges, mean train %, mean test %`` of one control; the edge count alone where the accuracies are not given
    (no edge to average over); – where the control was not run."""
    edges = row.get(f"{prefix}_edges")
    accuracies = [row.get(f"{prefix}_{split}") for split in ("train", "test")]
    if any(is_missing(value) for value in accuracies):  # format_exact shows missing edges as –
        return format_exact(edges)
    return ", ".join([format_exact(edges), *map(format_percent, accuracies)])


def control_tables_block(tables: Mapping[str, pd.DataFrame]) -> str:
    """Tables 3, 4 and 6 (``tables``: the tables pipeline's paper_table3/4/6): one column per dataset that has
    controls and one beside it for the paper's numbers, one row per control."""
    from ndg_pipeline.reporting.tables import OURS

    columns = tables["table3"][["dataset", "source", "paper_dataset"]].itertuples(index=False)
    labels = [row.dataset if row.source == OURS else f"paper {row.paper_dataset}" for row in columns]
    indexed = {name: table.set_index(["dataset", "source"]) for name, table in tables.items()}
    keys = list(indexed["table3"].index)

    def cell(table: str, key: tuple[str, str], prefix: str) -> str:
        return control_cell(indexed[table].loc[key], prefix) if key in indexed[table].index else MISSING

    rows = [[label, *(cell(table, key, prefix) for key in keys)] for label, table, prefix in CONTROL_ROWS]
    return markdown(["", *labels], rows)


def ei_model_block(layers: pd.DataFrame) -> str:
    """The trained CNN's measured Linear layers (our extension): EI_parts and sensitivity with their flags and the
    share of intervened outputs outside their range."""
    rows = [
        [
            f"`{row.layer}`",
            f"{row.samples:,}".replace(",", " "),
            f"{row.ei_parts:.2f}" + ("" if row.ei_parts_converged else " (not converged)"),
            f"{row.sensitivity:.1f}" + ("" if row.sensitivity_converged else " (not converged)"),
            f"{100 * row.outside_share:.2f} %",
        ]
        for row in layers.itertuples(index=False)
    ]
    return markdown(["layer", "samples", "EI_parts (bits)", "sensitivity (bits)", "outputs outside the range"], rows)


FINDINGS_PRESET = "full"  # the preset whose answers the README states


def newest_full_runs(saved: Mapping[str, pd.DataFrame]) -> dict[str, str]:
    """Each study's newest version at the full preset. ``saved``: ``study_answers`` by version (those of a quick
    preset, or saved before verdicts were stored, are passed over)."""
    found: dict[str, str] = {}
    for version in sorted(saved, reverse=True):
        answers = saved[version]
        if "together" in answers and not answers.empty and answers["preset"].iloc[0] == FINDINGS_PRESET:
            found.setdefault(answers["study"].iloc[0], version)
    return found


def study_blocks(saved: Mapping[str, pd.DataFrame]) -> dict[str, str]:
    """``study-<name>`` per study with a run at the full preset: the newest such run's answers, one bullet each, and
    what the lenses say together. ``saved``: ``study_answers`` by version."""
    found: dict[str, str] = {}
    for study, version in newest_full_runs(saved).items():
        answers = saved[version]
        bullets = "\n".join(f"- {sentence}" for sentence in answers["answer"])
        found[f"study-{study}"] = (
            f"Run `{version}`, preset `{FINDINGS_PRESET}`:\n\n{bullets}\n\n{answers['together'].iloc[0]}\n"
        )
    return found


def blocks(load: Loader, recorded: pd.DataFrame | None = None) -> dict[str, str]:
    """Every generated README block, from the catalog entries ``load`` returns (absent entries: no block); the
    default run's numbers get their spread over seeds from the newest full run of the ``dropout`` study, against
    which ``recorded`` (other machines' seed-0 numbers) is read."""
    from kedro.io import DatasetError

    from ndg_pipeline.ndg.graph import graph_statistics

    found: dict[str, str] = {}
    answers = load(f"{EVERY_VERSION}study_answers")
    full = newest_full_runs(answers)
    if SPREAD_STUDY in full:
        runs = load(f"study_runs{AT_VERSION}{full[SPREAD_STUDY]}")
        spread = seed_spread(runs, SPREAD_VARIANT)
        seeds = sorted(int(seed) for seed in runs.loc[runs["variant"] == SPREAD_VARIANT, "seed"].unique())
        found["seed-spread"] = seed_spread_block(spread, full[SPREAD_STUDY], seeds)
        if recorded is not None:
            found["other-machines"] = other_machines_block(recorded, spread)
    try:
        intervention = load("intervention_summary")
        statistics = graph_statistics(load("dependency_graph"))
        history = load("training_history")
    except DatasetError as error:  # an entry without a saved version: say which, write no NDG block
        print(f"no NDG numbers: {error}", file=sys.stderr)
    else:
        found["ndg-numbers"] = ndg_block(history, statistics, intervention, float(load("run:mine.alpha")))
        found["ndg-table5"] = table5_block(intervention)
    try:
        metrics = load("interaction_metrics_table")
        found["interactions"] = interactions_block(metrics)
        found["interactions-notes"] = interactions_notes(metrics)
    except DatasetError as error:
        print(f"no interaction numbers: {error}", file=sys.stderr)
    try:
        found["interactions-differences"] = noise_removal_block(load("interaction_noise_removal"))
    except DatasetError as error:  # a run from before the replay was a node
        print(f"no noise-removal replay: {error}", file=sys.stderr)
    try:
        series = load("ei_training_series")
        found["ei-paper"] = ei_paper_block(series)
        found["ei-findings"] = ei_findings_block(series)
        found["ei-model"] = ei_model_block(load("ei_model_layers"))
    except DatasetError as error:
        print(f"no effective-information numbers: {error}", file=sys.stderr)
    try:
        timeline = load("timeline_table")
    except DatasetError as error:
        print(f"no timeline numbers: {error}", file=sys.stderr)
    else:
        found["timeline"] = timeline_block(timeline)
        found["timeline-findings"] = timeline_findings(
            timeline, load("concept_neurons"), format_exact(float(load("run:mine.alpha")))
        )
    try:
        found["control-tables"] = control_tables_block({f"table{n}": load(f"paper_table{n}") for n in (3, 4, 6)})
    except DatasetError as error:
        print(f"no control tables: {error}", file=sys.stderr)
    found |= study_blocks(answers)
    return found


def fill(text: str, generated: Mapping[str, str]) -> str:
    """``text`` with each generated block replaced by its new content (blocks not generated are kept)."""

    def replace(found: re.Match[str]) -> str:
        name = found.group("name")
        return found.group(1) + generated[name] + found.group(3) if name in generated else found.group(0)

    return BLOCK.sub(replace, text)


def catalog_loader(project: Path, version: str | None, setting: str = "") -> Loader:
    """``catalog.load`` of the project's Kedro catalog: each entry's newest version made with the project's
    parameters plus ``setting`` (``--params`` text), as a run with them would load it — so a later run of other
    data or another setting never becomes what the README describes — or every entry at ``version``."""
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project
    from kedro.io import DatasetError
    from omegaconf import OmegaConf

    from ndg_pipeline.errors import RunRefused
    from ndg_pipeline.hooks import load_setting

    bootstrap_project(project)
    overrides = OmegaConf.to_container(OmegaConf.from_dotlist([item for item in setting.split(",") if item]))
    context = KedroSession.create(project_path=project, runtime_params=overrides).load_context()
    catalog = context.catalog
    entries = context.config_loader["catalog"]

    pointed: set[str] = set()

    def newest(name: str) -> None:
        """Point the catalog at the newest version of ``name`` made with the setting, once per entry (none: a
        DatasetError)."""
        if name in pointed:
            return
        try:
            load_setting(catalog, context, [name], setting)
        except RunRefused as error:
            raise DatasetError(str(error)) from error
        pointed.add(name)

    def load(name: str) -> Any:
        if name.startswith(EVERY_VERSION):
            entry = name.removeprefix(EVERY_VERSION)
            folder = project / entries[entry]["filepath"]
            return {saved: catalog.load(entry, version=saved) for saved in versions(folder)}
        if AT_VERSION in name:
            entry, saved = name.split(AT_VERSION)
            return catalog.load(entry, version=saved)
        if name.startswith(RUN_PARAMETER):
            if not version:
                newest("intervention_summary")
            run = version or catalog.get("intervention_summary").resolve_load_version()
            return run_parameter(project, run, name.removeprefix(RUN_PARAMETER))
        if version:
            return catalog.load(name, version=version)
        newest(name)
        return catalog.load(name)

    return load


RUN_PARAMETER = "run:"
OTHER_MACHINES = Path("docs/other_machines.csv")  # seed-0 numbers of the default run recorded on other machines
EVERY_VERSION = "every:"  # every saved version of an entry, by version
AT_VERSION = "@"  # <entry>@<version>: that saved version of the entry


def run_parameter(project: Path, version: str, name: str) -> str:
    """A parameter of the run that saved ``version`` of the outputs, as its MLflow run logged it (the run's
    ``--params`` included, which the project's configuration alone would miss)."""
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{(project / 'mlflow.db').resolve()}")
    experiments = [experiment.experiment_id for experiment in client.search_experiments()]
    runs = client.search_runs(experiments, filter_string=f"tags.run_id = '{version}'")
    if not runs or name not in runs[0].data.params:
        raise LookupError(f"no MLflow run of version {version} with parameter {name!r} in {project / 'mlflow.db'}")
    return runs[0].data.params[name]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=Path.cwd(), help="the Kedro project (default: here)")
    parser.add_argument(
        "--version",
        help="one run's timestamp for every entry (default: each entry's newest version made with the "
        "project's parameters and --params)",
    )
    parser.add_argument(
        "--params",
        default="",
        help="the run's --params (default: none): the tables come from versions made with the project's parameters "
        "plus these",
    )
    parser.add_argument("--check", action="store_true", help="only check that README.md matches the outputs")
    arguments = parser.parse_args(argv)
    readme = arguments.project / "README.md"
    text = readme.read_text(encoding="utf-8")
    recorded = arguments.project / OTHER_MACHINES
    loader = catalog_loader(arguments.project, arguments.version, arguments.params)
    updated = fill(text, blocks(loader, pd.read_csv(recorded) if recorded.exists() else None))
    if arguments.check:
        print("README.md matches the run's outputs" if updated == text else "README.md differs from the run's outputs")
        return 0 if updated == text else 1
    readme.write_text(updated, encoding="utf-8")
    print(f"wrote the generated tables of {readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
