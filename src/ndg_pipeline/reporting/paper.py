"""The paper's published Tables 3–6 (Hu & Tian, ICML 2022), so a report can set a run's numbers beside them."""

from __future__ import annotations

import math

import pandas as pd

NA = math.nan  # the paper's "-": no edge, so no accuracy
PAPER_DATASETS = ("MNIST", "MNIST even", "SST2", "AllNLI", "CUB200", "Devign")
DATASET_NAMES = {
    "mnist": "MNIST",
    "mnist_sample": "MNIST",
    "mnist_even": "MNIST even",
    "sst2": "SST2",
    "allnli": "AllNLI",
    "cub200": "CUB200",
    "devign": "Devign",
}
PAPER_ALPHA = {"MNIST": 100.0, "MNIST even": 100.0, "SST2": 100.0, "AllNLI": 20.0, "CUB200": 3.0, "Devign": 20.0}

TABLE3_COLUMNS = [
    f"{group}_{measure}"
    for group in ("original", "random_model", "random_input")
    for measure in ("edges", "train", "test")
]
TABLE3_ROWS = [
    (524, 99.90, 99.85, 0, NA, NA, 22, 99.94, 99.89),
    (686, 99.83, 99.82, 0, NA, NA, 316, 99.95, 99.95),
    (29132, 100.0, 97.35, 0, NA, NA, 464024, 99.92, 99.92),
    (202250, 99.58, 99.58, 2686, 99.82, 48.04, 149116, 99.68, 99.55),
    (195998, 97.87, 97.15, 237286, 96.43, 50.15, 748, 95.76, 91.80),
    (473058, 99.97, 99.96, 4200, 99.64, 53.01, 26786, 99.75, 99.99),
]

TABLE4_COLUMNS = ["different_models_edges", "different_models_train", "different_models_test", "different_inputs_edges"]
TABLE4_ROWS = [
    (0, NA, NA, 0),
    (27, 99.71, 99.75, 0),
    (35354, 100.00, 92.29, 0),
    (138406, 99.48, 99.43, 0),
    (0, NA, NA, 0),
    (75597, 99.90, 99.92, 0),
]

TABLE5_COLUMNS = [
    f"{measure}_{split}"
    for measure in ("aligned", "unchanged", "unaligned", "model_accuracy", "contradictions")
    for split in ("train", "test")
]
TABLE5_ROWS = [
    (93.41, 95.21, 5.53, 3.78, 1.05, 1.01, 99.48, 98.93, 0.00, 0.00),
    (100.00, 100.00, 0.00, 0.00, 0.00, 0.00, 99.28, 99.17, 0.00, 0.00),
    (100.00, 100.00, 0.00, 0.00, 0.00, 0.00, 100.00, 90.00, 0.00, 0.00),
    (100.00, 100.00, 0.00, 0.00, 0.00, 0.00, 76.28, 72.05, 14.02, 14.12),
    (89.38, 88.39, 2.26, 1.77, 8.36, 9.84, 92.63, 87.79, 0.01, 0.02),
    (100.00, 100.00, 0.00, 0.00, 0.00, 0.00, 78.78, 60.86, 102.12, 102.04),
]

TABLE6_COLUMNS = [
    f"{group}_{measure}" for group in ("layer1", "layer2", "inter_layer") for measure in ("edges", "train", "test")
]
TABLE6_ROWS = [
    (4172, 99.93, 99.90, 10648, 99.95, 99.92, 4986, 99.92, 99.89),
    (790, 99.94, 99.95, 7002, 99.99, 99.99, 1088, 99.88, 99.90),
    (529394, 100.00, 99.62, 1877060, 99.98, 99.63, 997980, 100.00, 99.74),
    (747115, 99.52, 99.50, 2186033, 99.58, 99.55, 1087438, 99.58, 99.56),
    (900258, 97.89, 97.16, 902210, 97.89, 97.16, 900402, 97.89, 97.16),
    (2191519, 99.94, 99.94, 7952771, 99.91, 99.91, 3430234, 99.94, 99.93),
]


def _table(columns: list[str], rows: list[tuple[float, ...]]) -> pd.DataFrame:
    """One paper table indexed by the paper's dataset names; edge counts as integers, "-" as NaN."""
    frame = pd.DataFrame(rows, columns=columns, index=pd.Index(PAPER_DATASETS, name="dataset"))
    edge_columns = [column for column in columns if column.endswith("_edges")]
    return frame.astype(dict.fromkeys(edge_columns, "int64"))


PAPER_TABLES: dict[str, pd.DataFrame] = {
    "table3": _table(TABLE3_COLUMNS, TABLE3_ROWS),
    "table4": _table(TABLE4_COLUMNS, TABLE4_ROWS),
    "table5": _table(TABLE5_COLUMNS, TABLE5_ROWS),
    "table6": _table(TABLE6_COLUMNS, TABLE6_ROWS),
}


def paper_dataset(dataset_name: str) -> str | None:
    """The paper's name for one of this project's datasets, or None when the paper has no row for it."""
    return DATASET_NAMES.get(dataset_name)


def paper_rows(table: str, dataset_name: str) -> pd.DataFrame:
    """The paper's row(s) of a table for this project's dataset; empty (same columns) when there is none."""
    frame = PAPER_TABLES[table]
    name = paper_dataset(dataset_name)
    return frame.loc[[name]] if name is not None else frame.iloc[:0]
