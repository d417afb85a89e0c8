"""The interaction lens' HTML report: one self-contained page (figures inlined, graphs as inline SVG)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jinja2
import networkx as nx
import pandas as pd
from markupsafe import Markup

from ndg_pipeline.reporting.drawing import GraphvizMissingError
from ndg_pipeline.reporting.interactions.figures import (
    concept_bars,
    image_concepts,
    sparsity_figure,
    transferability_figure,
)
from ndg_pipeline.reporting.interactions.graphs import to_svg

HEADLINES = [
    ("concepts_per_sample", "concepts per sample (AND-OR graph)", "{:.1f}", "patterns kept by noise removal"),
    ("explanation_ratio", "explanation ratio R", "{:.1%}", "share of Σ|I| the kept concepts carry"),
    (
        "signed_explanation_ratio",
        "explanation ratio, authors' formula",
        "{:.1%}",
        "Σ|kept| / (Σ|kept| + |Σ removed|): cancelling noise counts as explained",
    ),
    ("normalized_error", "normalised error", "{:.4f}", "Σ_T (v+q − v̂)² / Σ_T (v+q)² of the kept concepts"),
    ("thresholds_met", "samples meeting both thresholds", "{:.0%}", "error and R within bounds at ≤ max patterns"),
    ("salient_concepts_per_sample", "salient AND-OR concepts per sample", "{:.1f}", "|I| ≥ 0.05·max, of 2^(n+1)"),
    (
        "harsanyi_salient_concepts_per_sample",
        "salient AND-only concepts per sample",
        "{:.1f}",
        "|I| ≥ 0.05·max, of 2^n",
    ),
    ("l1_harsanyi", "Σ|I|, AND only", "{:.1f}", "before the split"),
    ("l1_and_or", "Σ|I|, AND-OR", "{:.1f}", "after the learned split"),
    (
        "samplewise_transferability",
        "sample-wise transferability ρ(k)",
        "{:.1%}",
        "at the dictionary size, mean of classes",
    ),
    (
        "modelwise_transferability_0.05",
        "model-wise transferability γ(0.05)",
        "{:.1%}",
        "model 1's concepts salient in model 2",
    ),
    (
        "modelwise_transferability_0.30",
        "model-wise transferability γ(0.30)",
        "{:.1%}",
        "for model 1's strongest concepts",
    ),
    ("modelwise_random_baseline", "γ of random concept sets", "{:.1%}", "same sizes, same formula"),
    ("discrimination", "discrimination power β", "{:.1%}", "share of samples agreeing on a concept's sign"),
    ("reconstruction_error_harsanyi", "max reconstruction error, AND only", "{:.1e}", "over all masks (exact)"),
    ("reconstruction_error_and_or", "max error of AND-OR vs v + q", "{:.1e}", "over all masks (exact)"),
    ("q_max", "max |q|", "{:.3f}", "the split's bounded noise term"),
    ("reward_full", "mean v(N)", "{:.2f}", "log-odds of the true class, unmasked"),
    ("reward_empty", "mean v(∅)", "{:.2f}", "all players masked"),
]


@dataclass
class SampleView:
    """One shown sample: its title, its concept picture and its AND-OR graph drawing."""

    title: str
    figure: str
    graph_svg: Markup | None


def headline_rows(metrics: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(label, formatted value, meaning) for the metrics this run has."""
    values = dict(zip(metrics.metric, metrics.value, strict=True))
    return [(label, form.format(values[key]), meaning) for key, label, form, meaning in HEADLINES if key in values]


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
) -> str:
    """The whole page."""
    views, graphviz_missing = sample_views(explained, patterns, graphs, samples_shown, concepts_shown, graph_concepts)
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("ndg_pipeline.reporting.interactions", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    shown = patterns[patterns["sample"] == 0].nsmallest(20, "rank")
    return environment.get_template("interactions.html.j2").render(
        title=f"Interaction concepts — {explained.kind} setting ({explained.splits.name})",
        kind=explained.kind,
        dataset=explained.splits.name,
        models=len(explained.models),
        samples=samples,
        headlines=headline_rows(metrics),
        views=views,
        graphviz_missing=graphviz_missing,
        sparsity=sparsity_figure(curves[curves.curve == "sparsity"]),
        transferability=transferability_figure(curves),
        discrimination=curves[curves.curve == "discrimination"],
        first_patterns=shown,
        graph_concepts=graph_concepts,
        parameters=parameters,
    )
