"""The interaction lens' HTML report: one self-contained page (figures inlined, graphs as inline SVG)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import networkx as nx
import pandas as pd
from markupsafe import Markup

from ndg_pipeline.reporting.drawing import GraphvizMissingError
from ndg_pipeline.reporting.header import RunHeader, template_environment
from ndg_pipeline.reporting.interactions.figures import (
    concept_bars,
    image_concepts,
    sparsity_figure,
    transferability_figure,
)
from ndg_pipeline.reporting.interactions.graphs import to_svg

# key → (label, format, meaning); {salient}, {dictionary}, {k}, {error}, {ratio}, {cap} come from the run's parameters
HEADLINES = {
    "thresholds_met": (
        "inputs meeting both thresholds",
        "{:.0%}",
        "error < {error} and R > {ratio} with at most {cap} concepts",
    ),
    "concepts_per_sample": (
        "concepts per input (AND-OR graph)",
        "{:.1f}",
        "patterns kept by noise removal (cap {cap})",
    ),
    "explanation_ratio": (
        "explanation ratio R",
        "{:.1%}",
        "the authors' R = Σ|kept| / (Σ|kept| + |Σ removed|): removed noise that cancels counts as explained",
    ),
    "strength_share": ("strength share of the kept concepts", "{:.1%}", "Σ|kept| / Σ|all| (stricter than R)"),
    "normalized_error": ("normalised error", "{:.4f}", "Σ_T (target − v̂)² / Σ_T target² of the kept concepts"),
    "salient_concepts_per_sample": ("salient AND-OR concepts per input", "{:.1f}", "|I| ≥ {salient}·max, of 2^(n+1)"),
    "harsanyi_salient_concepts_per_sample": (
        "salient AND-only concepts per input",
        "{:.1f}",
        "|I| ≥ {salient}·max, of 2^n",
    ),
    "salient_ratio": ("share of salient AND-OR concepts", "{:.1%}", "|I| ≥ {salient}·max"),
    "samplewise_transferability": (
        "sample-wise transferability ρ(k={k})",
        "{:.1%}",
        "share of an input's concepts (|I| ≥ {dictionary}·max) in its class' {k} most frequent, mean of classes",
    ),
    "discrimination": (
        "discrimination power β",
        "{:.1%}",
        "share of a class' inputs agreeing on a concept's sign, frequency-weighted, mean of classes",
    ),
}
TRANSFER = ("model-wise transferability γ({tau})", "{:.1%}", "model 1's concepts at τ1 = {tau} salient in model 2")
CHECKS = [
    ("inputs_per_class", "inputs per class studied", "{:.0f}"),
    ("dictionary_size", "dictionary size k of ρ(k)", "{:.0f}"),
    ("modelwise_random_baseline", "γ of random concept sets (same sizes, same formula)", "{:.1%}"),
    ("graph_nodes", "graph nodes per input", "{:.1f}"),
    ("graph_edges", "graph edges per input", "{:.1f}"),
    ("coalitions", "merged coalitions per input", "{:.2f}"),
    ("description_length_unmerged", "description length before aggregation", "{:.2f}"),
    ("description_length", "description length after aggregation", "{:.2f}"),
    ("l1_harsanyi", "Σ|I|, AND only", "{:.1f}"),
    ("l1_and_or", "Σ|I|, AND-OR", "{:.1f}"),
    ("reconstruction_error_harsanyi", "max reconstruction error, AND only (exact)", "{:.1e}"),
    ("reconstruction_error_and_or", "max error of AND-OR vs target + q (exact)", "{:.1e}"),
    ("q_max", "max |q| (the split's bounded noise term)", "{:.3f}"),
    ("reward_full", "mean v(N) (log-odds of the true class, unmasked)", "{:.2f}"),
    ("reward_empty", "mean target at ∅ (0 when explaining v(S) − v(∅))", "{:.2f}"),
]


@dataclass
class Headline:
    """One headline number: value, interval over inputs, its null (with its range) and whether the null matches it."""

    label: str
    value: str
    interval: str
    null: str
    null_kind: str
    verdict: str  # "finding", "matched by its null", "against its null" or "no null"
    meaning: str


def _labels(parameters: dict[str, Any]) -> dict[str, Any]:
    patterns, metrics = parameters["patterns"], parameters["metrics"]
    return {
        "salient": metrics["salient_threshold"],
        "dictionary": metrics["dictionary_threshold"],
        "k": metrics["dictionary_size"],
        "error": patterns["max_error"],
        "ratio": patterns["min_explanation"],
        "cap": patterns["max_patterns"],
    }


def headline_rows(metrics: pd.DataFrame, parameters: dict[str, Any]) -> list[Headline]:
    """The headline numbers this run has, each with its interval, its null and a verdict."""
    labels = _labels(parameters)
    specs = dict(HEADLINES)
    for tau in parameters["metrics"]["transfer_thresholds"]:
        label, form, meaning = TRANSFER
        specs[f"modelwise_transferability_{tau:.2f}"] = (
            label.replace("{tau}", f"{tau:.2f}"),
            form,
            meaning.replace("{tau}", f"{tau:.2f}"),
        )
    rows = []
    table = metrics.set_index("metric")
    for key, (label, form, meaning) in specs.items():
        if key not in table.index or pd.isna(table.at[key, "low"]):
            continue
        row = table.loc[key]
        verdict = str(row["verdict"])
        rows.append(
            Headline(
                label.format(**labels),
                form.format(row["value"]),
                f"[{form.format(row['low'])}, {form.format(row['high'])}]",
                "–"
                if pd.isna(row["null"])
                else f"{form.format(row['null'])} [{form.format(row['null_low'])}, {form.format(row['null_high'])}]",
                str(row["null_kind"]),
                verdict,
                meaning.format(**labels),
            )
        )
    return rows


def check_rows(metrics: pd.DataFrame) -> list[tuple[str, str]]:
    """Diagnostics without a null: sizes, exactness checks, rewards."""
    values = dict(zip(metrics.metric, metrics.value, strict=True))
    return [(label, form.format(values[key])) for key, label, form in CHECKS if key in values]


def truth_first(metrics: pd.DataFrame, parameters: dict[str, Any], share: float = 0.8) -> str | None:
    """The sentence that must open the report when fewer than ``share`` of the inputs meet both thresholds."""
    values = dict(zip(metrics.metric, metrics.value, strict=True))
    met = values.get("thresholds_met")
    if met is None or met >= share:
        return None
    labels = _labels(parameters)
    return (
        f"Only {met:.0%} of the inputs meet both thresholds (error < {labels['error']} and R > {labels['ratio']} "
        f"with at most {labels['cap']} concepts); the others keep {labels['cap']} concepts, so their concept "
        "counts and graphs are set by the cap, not chosen by the criterion."
    )


@dataclass
class SampleView:
    """One shown sample: its title, its concept picture and its AND-OR graph drawing."""

    title: str
    figure: str
    graph_svg: Markup | None


def sample_views(
    explained: Any,
    patterns: pd.DataFrame,
    graphs: dict[str, nx.DiGraph],
    samples_shown: int,
    concepts_shown: int,
    graph_concepts: int,
) -> tuple[list[SampleView], str | None]:
    """Pictures and graph drawings of the first ``samples_shown`` samples (and why graphs are missing, if so)."""
    from ndg_pipeline.interactions.players import cells_outline

    views, missing = [], None
    for position, sample in enumerate(explained.samples[:samples_shown]):
        top = patterns[patterns["sample"] == position].nsmallest(concepts_shown, "rank")
        title = f"sample {position}, class {explained.splits.class_names[sample.label]}"
        if explained.kind == "image":
            width = sample.inputs.shape[-1]
            figure = image_concepts(sample.inputs.numpy(), cells_outline(sample.players, width), top, title)
        else:
            figure = concept_bars(
                top, title + ("" if explained.kind == "tabular" else f' — "{" ".join(sample.names)}"')
            )
        try:
            svg = Markup(to_svg(graphs[str(position)], graph_concepts))
        except GraphvizMissingError as error:
            svg, missing = None, str(error)
        views.append(SampleView(title, figure, svg))
    return views, missing


def render_report(
    explained: Any,
    samples: pd.DataFrame,
    patterns: pd.DataFrame,
    metrics: pd.DataFrame,
    curves: pd.DataFrame,
    graphs: dict[str, nx.DiGraph],
    parameters: dict[str, Any],
    samples_shown: int = 4,
    concepts_shown: int = 6,
    graph_concepts: int = 12,
    header: RunHeader | None = None,
) -> str:
    """The whole page; ``header`` names the run and the model and data fingerprints it was made from."""
    views, graphviz_missing = sample_views(explained, patterns, graphs, samples_shown, concepts_shown, graph_concepts)
    environment = template_environment("ndg_pipeline.reporting.interactions", "templates", strict=False)
    header = header or RunHeader({})
    shown = patterns[patterns["sample"] == 0].nsmallest(20, "rank")
    return environment.get_template("interactions.html.j2").render(
        identity=header.identity,
        fingerprints=header.fingerprints,
        title=f"Interaction concepts — {explained.kind} setting ({explained.splits.name})",
        kind=explained.kind,
        dataset=explained.splits.name,
        models=len([name for name in explained.models if name != "null"]),
        null_model="null" in explained.models,
        samples=samples,
        headlines=headline_rows(metrics, parameters),
        checks=check_rows(metrics),
        warning=truth_first(metrics, parameters),
        explains=str(metrics["explains"].iloc[0]) if "explains" in metrics else "v(S)",
        salient=parameters["metrics"]["salient_threshold"],
        dictionary=parameters["metrics"]["dictionary_threshold"],
        views=views,
        graphviz_missing=graphviz_missing,
        sparsity=sparsity_figure(curves[curves.curve == "sparsity"], parameters["metrics"]["salient_threshold"]),
        transferability=transferability_figure(curves),
        discrimination=curves[curves.curve == "discrimination"],
        first_patterns=shown,
        graph_concepts=graph_concepts,
        parameters=parameters,
    )
