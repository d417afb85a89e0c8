"""Tables for the interaction lens: wine (ships with scikit-learn, the embedded default) and the UCI census
``adult.data`` CSV. Features are standardised with the training split's mean and std; each column is a player.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch.utils.data import TensorDataset

from ndg_pipeline.data.mnist import stratified_split
from ndg_pipeline.data.splits import DatasetSplits, Split

ADULT_COLUMNS = [
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education-num",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital-gain",
    "capital-loss",
    "hours-per-week",
    "native-country",
    "income",
]
# fnlwgt is the census' sampling weight (not a person's attribute) and education duplicates education-num:
# the 12 remaining attributes are the authors' census players.
ADULT_FEATURES = [c for c in ADULT_COLUMNS if c not in ("fnlwgt", "education", "income")]
ADULT_NUMERIC = {"age", "education-num", "capital-gain", "capital-loss", "hours-per-week"}
ADULT_CLASSES = ["<=50K", ">50K"]
TABLES = ("wine", "adult")


def table_splits(
    name: str,
    features: pd.DataFrame,
    labels: np.ndarray,
    class_names: list[str],
    test_fraction: float,
    seed: int,
    source: str,
) -> DatasetSplits:
    """Stratified, seeded train/test splits of a numeric table, standardised with the training statistics."""
    train_idx, test_idx = stratified_split(labels, test_fraction, seed)
    values = features.to_numpy(dtype=np.float64)
    mean = values[train_idx].mean(axis=0)
    std = values[train_idx].std(axis=0)
    std = np.where(std > 0, std, 1.0)
    scaled = torch.as_tensor((values - mean) / std, dtype=torch.float32)
    targets = torch.as_tensor(np.array(labels), dtype=torch.long)
    return DatasetSplits(
        name=name,
        train=Split(TensorDataset(scaled[train_idx], targets[train_idx])),
        test=Split(TensorDataset(scaled[test_idx], targets[test_idx])),
        class_names=class_names,
        info={
            "source": source,
            "features": list(features.columns),
            "mean": mean.tolist(),
            "std": std.tolist(),
            "test_fraction": test_fraction,
            "split_seed": seed,
        },
    )


def load_wine(test_fraction: float = 0.2, seed: int = 0) -> DatasetSplits:
    """The 178 wines of scikit-learn (13 chemical measurements, 3 cultivars): no download, no file."""
    from sklearn.datasets import load_wine as sklearn_wine

    wine = sklearn_wine(as_frame=True)
    names = [str(n) for n in wine.target_names]
    return table_splits(
        "wine", wine.data, wine.target.to_numpy(), names, test_fraction, seed, "sklearn.datasets.load_wine"
    )


def read_adult(path: str | Path) -> pd.DataFrame:
    """The UCI census file (``adult.data`` or ``adult.test``): 15 comma-separated columns, no header, '?' for
    missing; rows with a missing value are dropped. Raises a clear error for a missing or malformed file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} does not exist: expected the UCI census file adult.data (15 comma-separated columns, no "
            "header). Download it from https://archive.ics.uci.edu/dataset/2/adult and set interactions.tabular.path."
        )
    frame = pd.read_csv(
        path, header=None, names=ADULT_COLUMNS, skipinitialspace=True, na_values="?", comment="|", dtype=str
    )
    frame = frame.dropna(how="all")
    if frame.shape[1] != len(ADULT_COLUMNS) or frame["income"].isna().all():
        raise ValueError(f"{path} does not have the adult.data layout ({len(ADULT_COLUMNS)} columns: {ADULT_COLUMNS}).")
    frame = frame.dropna().copy()
    frame["income"] = frame["income"].str.rstrip(".")
    unknown = sorted(set(frame["income"]) - set(ADULT_CLASSES))
    if unknown:
        raise ValueError(f"{path}: income values {unknown[:5]} are not {ADULT_CLASSES}; is this adult.data?")
    if frame.empty:
        raise ValueError(f"{path} has no complete row.")
    return frame.reset_index(drop=True)


def adult_features(frame: pd.DataFrame) -> pd.DataFrame:
    """The 12 attribute columns as numbers: numeric ones as they are, categories as codes by frequency (0 = most
    frequent, ties alphabetical)."""
    columns = {}
    for column in ADULT_FEATURES:
        if column in ADULT_NUMERIC:
            columns[column] = pd.to_numeric(frame[column], errors="raise").astype(np.float64)
        else:
            counts = frame[column].value_counts()
            ranked = sorted(counts.index, key=lambda value: (-counts[value], value))
            columns[column] = frame[column].map({value: code for code, value in enumerate(ranked)}).astype(np.float64)
    return pd.DataFrame(columns)


def load_adult(path: str | Path, test_fraction: float = 0.2, seed: int = 0, limit: int | None = None) -> DatasetSplits:
    """The census table from ``adult.data`` (income >50K is class 1); ``limit`` keeps the first rows only."""
    frame = read_adult(path)
    if limit is not None:
        frame = frame.iloc[:limit]
    labels = frame["income"].map(ADULT_CLASSES.index).to_numpy()
    if len(np.unique(labels)) < 2:
        raise ValueError(f"{path} holds only one income class in its first rows; use more rows.")
    return table_splits("adult", adult_features(frame), labels, ADULT_CLASSES, test_fraction, seed, str(path))


def load_table(
    name: str, path: str | None = None, test_fraction: float = 0.2, seed: int = 0, limit: int | None = None
) -> DatasetSplits:
    """The table named ``name`` (``wine`` or ``adult``; adult needs ``path``)."""
    if name == "wine":
        return load_wine(test_fraction, seed)
    if name == "adult":
        if path is None:
            raise ValueError("the adult table is read from a file: set interactions.tabular.path to adult.data.")
        return load_adult(path, test_fraction, seed, limit)
    raise ValueError(f"unknown table {name!r}; choose one of {', '.join(TABLES)}.")
