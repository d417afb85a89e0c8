"""Dataset names the ``data.name`` parameter accepts, and the one function that opens any of them."""

from __future__ import annotations

from collections.abc import Callable

from ndg_pipeline.config.ndg import DataParams, DatasetName
from ndg_pipeline.data.cub import load_cub200
from ndg_pipeline.data.mnist import load_mnist, load_mnist_sample, to_even_odd
from ndg_pipeline.data.splits import DatasetSplits, capped, shuffled_labels
from ndg_pipeline.data.text import load_allnli, load_devign, load_sst2


def _digits(params: DataParams, source: str) -> DatasetSplits:
    if source == "mnist":
        return load_mnist(params.raw_dir, download=params.download)
    return load_mnist_sample(params.test_fraction, params.split_seed)


DATASETS: dict[DatasetName, Callable[[DataParams], DatasetSplits]] = {
    "mnist_sample": lambda params: _digits(params, "mnist_sample"),
    "mnist": lambda params: _digits(params, "mnist"),
    "mnist_even": lambda params: to_even_odd(_digits(params, params.even_source)),
    "sst2": load_sst2,
    "allnli": load_allnli,
    "devign": load_devign,
    "cub200": load_cub200,
}


def load_dataset(params: DataParams) -> DatasetSplits:
    """Open the dataset named by ``params.name`` (at most ``params.limit`` inputs per split)."""
    if params.name not in DATASETS:
        raise ValueError(f"unknown dataset {params.name!r}; known datasets: {', '.join(sorted(DATASETS))}.")
    splits = DATASETS[params.name](params)
    splits.name = params.name  # one name per dataset in tags, partitions and reports
    for name, split in (("train", splits.train), ("test", splits.test)):
        if len(split) == 0:
            raise ValueError(f"the {name} split of {params.name!r} is empty; check the data files and data.limit.")
    splits.train, splits.test = capped(splits.train, params.limit), capped(splits.test, params.limit)
    if params.shuffle_labels:
        splits.train = shuffled_labels(splits.train, params.split_seed)
    return splits
