"""The effective-information lens's HTML report: EI over epochs, causal-plane trajectories, integration, the CNN.

Whole-layer EI and integration appear only where converged; elsewhere the tables say "not converged at N samples"
and the figures leave the point out.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ndg_pipeline.reporting.effective_information.figures import causal_plane_figure, over_epochs
from ndg_pipeline.reporting.header import RunHeader, template_environment
from ndg_pipeline.reporting.report import is_missing

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


SILENT_SENSITIVITY = 0.01  # bits: below this, moving one input alone moves no output out of its bin
FLAG = " ‡"
FLAG_NOTE = (
    "‡ Sensitivity below 0.01 bit, or a negative degeneracy D = S − EI_parts. deep-ei measures the sensitivity S by "
    "moving one input at a time over its range with every other input held at 0. For a layer whose outputs then "
    "stay in one bin (a ReLU layer whose pre-activations stay below 0 without the other inputs) S is about 0, and D "
    "falls below 0 whenever EI_parts is positive. That is what the definitions give for such a layer, not a "
    "numerical error; a negative D there says the one-at-a-time convention does not reach the layer, not that the "
    "layer is less than non-degenerate."
)


def flag(measure: str, value: Any) -> str:
    """``FLAG`` beside a sensitivity below :data:`SILENT_SENSITIVITY` or a negative degeneracy, else ''."""
    if is_missing(value):
        return ""
    silent = measure.endswith("sensitivity") and abs(float(value)) < SILENT_SENSITIVITY
    return FLAG if silent or ("degeneracy" in measure and float(value) < 0) else ""


def any_flagged(frame: pd.DataFrame) -> bool:
    """Whether any sensitivity or degeneracy value of ``frame`` gets :data:`FLAG` (its table needs the note)."""
    return any(flag(str(column), value) for column in frame.columns for value in frame[column])


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
            converged = record.get(f"{base}_converged")
            converged = None if converged is None else bool(converged)
            row.append(_cell(record[column], record.get("samples"), converged, column in COUNTS))
            if column == "outside_share" and record.get("outside_flag"):
                row[-1] += " ⚠ > 1 %"
            elif converged is not False:  # an unconverged value is not shown, so not flagged (flag skips NaN)
                row[-1] += flag(column, record[column])
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
                "flagged": any_flagged(summary[["sensitivity"]]),
            }
        )
    environment = template_environment("ndg_pipeline.reporting.effective_information", ".", strict=False)
    header = header or RunHeader({})
    return environment.get_template("report.html.j2").render(
        identity=header.identity,
        fingerprints=header.fingerprints,
        experiments=experiments,
        layers=_table(layers, LAYER_MEASURES),
        layers_flagged=any_flagged(layers[["sensitivity", "degeneracy_parts"]]),
        flag_note=FLAG_NOTE,
        ranges=_table(layers, LAYER_RANGES),
        measure=parameters["measure"],
        model_layers=parameters["model_layers"],
    )
