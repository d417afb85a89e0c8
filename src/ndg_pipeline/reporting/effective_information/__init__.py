"""The effective-information lens's HTML report: EI over epochs, causal-plane trajectories, integration, the CNN."""

from __future__ import annotations

from typing import Any

import jinja2
import pandas as pd

from ndg_pipeline.reporting.effective_information.figures import causal_plane_figure, over_epochs

LAYER_COLUMNS = ("layer", "n_in", "n_out", "ei", "ei_parts", "sensitivity", "degeneracy_parts", "integration")


def _table(frame: pd.DataFrame, columns: tuple[str, ...]) -> dict[str, list]:
    """Header and formatted rows (3 decimals; NaN shown as "capped")."""
    rows = [
        [("capped" if pd.isna(value) else f"{value:.3f}") if isinstance(value, float) else str(value) for value in row]
        for row in frame[list(columns)].itertuples(index=False)
    ]
    return {"columns": list(columns), "rows": rows}


def render_report(series: pd.DataFrame, layers: pd.DataFrame, parameters: dict[str, Any]) -> str:
    """One self-contained HTML page from the training time series and the trained model's layers."""
    experiments = []
    for experiment in series.experiment.unique():
        frame = series[series.experiment == experiment]
        final = frame[frame.epoch == frame.epoch.max()]
        summary = final.groupby("layer_index")[["n_in", "n_out", "ei", "ei_parts", "sensitivity", "integration"]].mean()
        summary = summary.reset_index().assign(layer=lambda f: f.layer_index + 1)
        experiments.append(
            {
                "name": experiment,
                "architecture": frame.architecture.iloc[0],
                "accuracy": float(final.test_accuracy.mean()),
                "epochs": int(frame.epoch.max()),
                "seeds": sorted(int(s) for s in frame.seed.unique()),
                "ei_figure": over_epochs(frame, experiment, {"ei": "EI (whole)", "ei_parts": "EI_parts"}),
                "plane_figure": causal_plane_figure(frame, experiment),
                "integration_figure": over_epochs(frame, experiment, {"integration": "φ = EI − EI_parts"}),
                "summary": _table(summary, ("layer", "n_in", "n_out", "ei", "ei_parts", "sensitivity", "integration")),
            }
        )
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("ndg_pipeline.reporting.effective_information", "."),
        autoescape=True,
    )
    return environment.get_template("report.html.j2").render(
        experiments=experiments,
        layers=_table(layers, LAYER_COLUMNS),
        measure=parameters["measure"],
        model_layers=parameters["model_layers"],
    )
