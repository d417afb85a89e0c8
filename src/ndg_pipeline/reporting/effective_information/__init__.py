"""The effective-information lens's HTML report: EI over epochs, causal-plane trajectories, integration, the CNN.

Whole-layer EI and integration appear only where converged; elsewhere the tables say "not converged at N samples"
and the figures leave the point out.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ndg_pipeline.reporting.effective_information.figures import causal_plane_figure, over_epochs
from ndg_pipeline.reporting.header import RunHeader, template_environment

LAYER_MEASURES = ("layer", "n_in", "n_out", "ei", "ei_parts", "sensitivity", "degeneracy_parts", "integration")
LAYER_RANGES = ("layer", "in_low", "in_high", "out_low", "out_high", "outside_share")
SUMMARY_COLUMNS = ("layer", "seed", "n_in", "n_out", "ei", "ei_parts", "sensitivity", "integration")
COUNTS = frozenset({"seed", "n_in", "n_out"})  # whole numbers, printed without decimals
HEADINGS = {
    "layer": "layer",
    "seed": "seed",
    "n_in": "inputs",
    "n_out": "outputs",
    "ei": "EI (bits)",
    "ei_parts": "EI_parts (bits)",
    "sensitivity": "sensitivity S (bits)",
    "degeneracy_parts": "degeneracy D = S − EI_parts (bits)",
    "integration": "integration φ = EI − EI_parts (bits)",
    "in_low": "input range: low",
    "in_high": "input range: high",
    "out_low": "output range: low",
    "out_high": "output range: high",
    "outside_share": "outputs outside the range",
}
PAPER_FINDINGS = {
    "iris": "EI changes most while the loss falls fastest, then levels off; the Iris layers differentiate less in "
    "the causal plane than MNIST's.",
    "mnist": "EI changes most while the loss falls fastest, then levels off; the layers differentiate in the causal "
    "plane; in deeper networks the redundant hidden layers move little and stay near where they started.",
}


def _cell(value: Any, samples: int | None, flag: bool | None, count: bool = False) -> str:
    """A table cell: counts as integers, measures with 3 decimals, "not converged at N samples" for NaN (or an
    unconverged value)."""
    if count:
        return str(int(value))
    if isinstance(value, float):
        if pd.isna(value) or flag is False:
            return f"not converged at {samples} samples" if samples else "—"
        return f"{value:.3f}"
    return str(value)


def _table(frame: pd.DataFrame, columns: tuple[str, ...]) -> dict[str, list]:
    """Readable headings and formatted rows (for ``render_table``); each measure shown only where its own
    convergence flag holds."""
    rows = []
    for record in frame.to_dict("records"):
        row = []
        for column in columns:
            base = "ei" if column == "integration" else column
            flag = record.get(f"{base}_converged")
            samples = record.get("samples")
            row.append(_cell(record[column], samples, None if flag is None else bool(flag), column in COUNTS))
            if column == "outside_share" and record.get("outside_flag"):
                row[-1] += " ⚠ > 1 %"
        rows.append({"cells": row})
    return {"columns": [HEADINGS[column] for column in columns], "rows": rows}


def _convergence(frame: pd.DataFrame) -> dict[str, str]:
    """Share of converged values per measure, and the largest N/2 → N change, for one experiment."""
    result = {}
    for measure in ("ei", "ei_parts", "sensitivity"):
        share = frame[f"{measure}_converged"].mean()
        change = frame[f"{measure}_change"].max()
        largest = "no value to compare" if pd.isna(change) else f"largest N/2 → N change {change:.3f} bits"
        result[measure] = f"{100 * share:.0f} % converged ({largest})"
    return result


def render_report(
    series: pd.DataFrame, layers: pd.DataFrame, parameters: dict[str, Any], header: RunHeader | None = None
) -> str:
    """One self-contained HTML page from the training time series and the trained model's layers; ``header``
    names the run and the model and data fingerprints it was made from."""
    experiments = []
    for experiment in series.experiment.unique():
        frame = series[series.experiment == experiment]
        final = frame[frame.epoch == frame.epoch.max()]
        summary = final.sort_values(["layer_index", "seed"]).assign(layer=lambda f: f.layer_index + 1)
        experiments.append(
            {
                "name": experiment,
                "architecture": frame.architecture.iloc[0],
                "accuracy": float(final.test_accuracy.mean()),
                "epochs": int(frame.epoch.max()),
                "measured_epochs": sorted(int(e) for e in frame.epoch.unique()),
                "examples": (int(frame.train_examples.iloc[0]), int(frame.test_examples.iloc[0])),
                "seeds": sorted(int(s) for s in frame.seed.unique()),
                "paper": PAPER_FINDINGS["iris" if experiment.startswith("iris") else "mnist"],
                "convergence": _convergence(frame),
                "ei_figure": over_epochs(
                    frame, experiment, {"ei": "EI (whole, converged only)", "ei_parts": "EI_parts"}
                ),
                "plane_figure": causal_plane_figure(frame, experiment),
                "integration_figure": over_epochs(frame, experiment, {"integration": "φ = EI − EI_parts (converged)"}),
                "summary": _table(summary, SUMMARY_COLUMNS),
            }
        )
    environment = template_environment("ndg_pipeline.reporting.effective_information", ".", strict=False)
    header = header or RunHeader({})
    return environment.get_template("report.html.j2").render(
        identity=header.identity,
        fingerprints=header.fingerprints,
        experiments=experiments,
        layers=_table(layers, LAYER_MEASURES),
        ranges=_table(layers, LAYER_RANGES),
        measure=parameters["measure"],
        model_layers=parameters["model_layers"],
    )
