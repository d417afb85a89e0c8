"""The paper's Tables 3, 4 and 6 from the controls' results, ours beside the paper's: as frames and as one page."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ndg_pipeline.control_names import (
    DIFFERENT_INPUTS,
    RANDOM_INPUT,
    RANDOM_MODEL,
    TRAINED,
    TWO_LAYERS,
    TWO_MODELS,
)
from ndg_pipeline.names import ALL, BETWEEN, INTER_LAYER, LAYER1, LAYER2
from ndg_pipeline.ndg.controls import RESULT_DTYPES
from ndg_pipeline.reporting.header import template_environment
from ndg_pipeline.reporting.paper import PAPER_ALPHA, PAPER_DATASETS, PAPER_TABLES, paper_dataset
from ndg_pipeline.reporting.report import Row, Table, format_exact, format_percent

OURS, PAPER = "this project", "paper"
RUN_COLUMNS = ["dataset", "paper_dataset", "source", "alpha", "n_train", "n_test"]
MEASURES = {"edges": "edges", "train": "train_accuracy", "test": "test_accuracy"}
# Per table: the paper's column group → (control, edge group) of our results that fills it, and its heading.
TABLE_CELLS: dict[str, dict[str, tuple[str, str, str]]] = {
    "table3": {
        "original": (TRAINED, ALL, "original (trained model)"),
        "random_model": (RANDOM_MODEL, ALL, "random model"),
        "random_input": (RANDOM_INPUT, ALL, "random input"),
    },
    "table4": {
        "different_models": (TWO_MODELS, BETWEEN, "different models, same input"),
        "different_inputs": (DIFFERENT_INPUTS, BETWEEN, "same model, different inputs"),
    },
    "table6": {
        "layer1": (TWO_LAYERS, LAYER1, "layer 1"),
        "layer2": (TWO_LAYERS, LAYER2, "layer 2"),
        "inter_layer": (TWO_LAYERS, INTER_LAYER, "inter-layer (layer 1 → layer 2)"),
    },
}
TITLES = {
    "table3": "Table 3 — trained model vs. random model vs. random input",
    "table4": "Table 4 — edges between two models",
    "table6": "Table 6 — two layers of one model",
}


def collect_results(partitions: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """All controls' results tables (one partition ``<dataset>__<control>`` each) as one frame."""
    if not partitions:
        raise ValueError("there are no control results; run a control first, e.g. kedro run --pipelines=controls.")
    frames = [partitions[key] for key in sorted(partitions)]
    return pd.concat(frames, ignore_index=True).astype(RESULT_DTYPES)


def _our_row(run: tuple, results: pd.DataFrame, table: str) -> dict:
    """Our row of ``table`` for one run key (dataset, α, N train, N test); accuracies in percent."""
    dataset, alpha, n_train, n_test = run
    row = {"dataset": dataset, "paper_dataset": paper_dataset(dataset), "source": OURS, "alpha": alpha}
    row |= {"n_train": n_train, "n_test": n_test}
    for prefix, (control, group, _) in TABLE_CELLS[table].items():
        match = results[(results["control"] == control) & (results["group"] == group)]
        for measure, column in MEASURES.items():
            value = match[column].iloc[0] if len(match) else np.nan
            row[f"{prefix}_{measure}"] = value if measure == "edges" else 100.0 * value
    return row


def _paper_row(name: str, table: str) -> dict:
    """The paper's row of ``table`` for the paper's dataset ``name``."""
    run = {"dataset": name, "paper_dataset": name, "source": PAPER, "alpha": PAPER_ALPHA[name]}
    return run | {"n_train": np.nan, "n_test": np.nan} | PAPER_TABLES[table].loc[name].to_dict()


def comparison_table(results: pd.DataFrame, table: str) -> pd.DataFrame:
    """One of Tables 3, 4, 6 for every run in ``results``: a row per (dataset, α, N train, N test) with our
    numbers (accuracies in percent, "-" as NaN), each paper dataset's published row after our rows for it."""
    columns = list(PAPER_TABLES[table].columns)
    runs = results[["dataset", "alpha", "n_train", "n_test"]].drop_duplicates()
    runs = runs.assign(order=runs["dataset"].map(lambda name: _paper_order(paper_dataset(name))))
    rows = []
    for _, group in runs.sort_values(["order", "dataset", "alpha", "n_train"]).groupby("order", sort=True):
        for run in group.drop(columns="order").itertuples(index=False, name=None):
            run_results = results[(results[["dataset", "alpha", "n_train", "n_test"]] == run).all(axis=1)]
            rows.append(_our_row(run, run_results, table))
        name = paper_dataset(group["dataset"].iloc[0])
        if name is not None:
            rows.append(_paper_row(name, table))
    frame = pd.DataFrame(rows, columns=RUN_COLUMNS + columns)
    edge_columns = [column for column in columns if column.endswith("_edges")]
    return frame.astype(dict.fromkeys(edge_columns, "Int64") | {"n_train": "Int64", "n_test": "Int64"})


def _paper_order(name: str | None) -> int:
    """Sort key of a paper dataset: its row in the paper's tables, datasets the paper lacks last."""
    return PAPER_DATASETS.index(name) if name in PAPER_DATASETS else len(PAPER_DATASETS)


def comparison_tables(results: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Tables 3, 4 and 6 (keyed ``table3``, ``table4``, ``table6``) for every run in ``results``."""
    return {table: comparison_table(results, table) for table in TABLE_CELLS}


def html_table(frame: pd.DataFrame, table: str) -> Table:
    """A comparison table for the page: run columns, then edges/train/test per column group; paper rows marked."""
    present = {
        prefix: [measure for measure in MEASURES if f"{prefix}_{measure}" in frame] for prefix in TABLE_CELLS[table]
    }
    columns = ["dataset", "α", "N train", "N test"]
    groups = [("", len(columns))]
    for prefix, (_, _, heading) in TABLE_CELLS[table].items():
        groups.append((heading, len(present[prefix])))
        columns += [measure if measure == "edges" else f"{measure} (%)" for measure in present[prefix]]
    rows = []
    for record in frame.to_dict("records"):
        is_paper = record["source"] == PAPER
        cells = [f"paper: {record['dataset']}" if is_paper else str(record["dataset"])]
        cells += [format_exact(record[column]) for column in ("alpha", "n_train", "n_test")]
        cells += [
            (format_exact if measure == "edges" else format_percent)(record[f"{prefix}_{measure}"])
            for prefix, measures in present.items()
            for measure in measures
        ]
        rows.append(Row(cells, "paper" if is_paper else ""))
    return Table(columns, rows, groups)


def render_tables(tables: Mapping[str, pd.DataFrame]) -> str:
    """The page of Tables 3, 4 and 6 as one self-contained HTML string."""
    sections = [(table, TITLES[table], html_table(frame, table)) for table, frame in tables.items()]
    return template_environment().get_template("tables.html.j2").render(sections=sections)
