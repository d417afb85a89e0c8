"""The three MNIST loaders: the embedded sample, full MNIST from real IDX files, and the even/odd relabelling."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from ndg_pipeline.config import DataParams, validate
from ndg_pipeline.data import load_dataset
from ndg_pipeline.data.mnist import MNIST_MEAN, MNIST_STD, stratified_split


def write_idx(path: Path, array: np.ndarray, compress: bool = False) -> None:
    """Write ``array`` (uint8) in the IDX format MNIST ships in (magic 0x08 type, ndim, big-endian dims)."""
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    if compress:
        path = path.with_name(path.name + ".gz")
        payload = gzip.compress(payload)
    path.write_bytes(payload)


@pytest.fixture
def idx_root(tmp_path: Path) -> tuple[Path, dict[str, np.ndarray]]:
    """Tiny train (12) / test (5) MNIST in the real IDX format under <root>/MNIST/raw."""
    rng = np.random.default_rng(0)
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (12, 28, 28)),
        "train-labels-idx1-ubyte": np.arange(12) % 10,
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (5, 28, 28)),
        "t10k-labels-idx1-ubyte": np.array([3, 1, 4, 1, 5]),
    }
    for name, array in arrays.items():
        write_idx(raw / name, array)
    return tmp_path, arrays


def test_mnist_sample_is_stratified_deterministic_and_normalized():
    splits = load_dataset(DataParams(name="mnist_sample"))
    assert (len(splits.train), len(splits.test)) == (4000, 1000)
    train_images, train_labels = splits.train.dataset.tensors
    _, test_labels = splits.test.dataset.tensors
    assert torch.bincount(train_labels).tolist() == [400] * 10
    assert torch.bincount(test_labels).tolist() == [100] * 10
    assert train_images.shape == (4000, 1, 28, 28)
    assert train_images.min().item() == pytest.approx((0 - MNIST_MEAN) / MNIST_STD, abs=1e-5)
    again = load_dataset(DataParams(name="mnist_sample"))
    assert torch.equal(again.train.dataset.tensors[0], train_images)


def test_shuffled_labels_keep_inputs_and_class_counts_but_break_the_pairing():
    true = load_dataset(DataParams(name="mnist_sample"))
    shuffled = load_dataset(DataParams(name="mnist_sample", shuffle_labels=True))
    images, labels = true.train.dataset.tensors
    pairs = [shuffled.train.dataset[index] for index in range(len(shuffled.train))]
    relabelled = torch.as_tensor([int(label) for _, label in pairs])
    assert all(torch.equal(image, images[index]) for index, (image, _) in enumerate(pairs[:50]))
    assert torch.equal(torch.bincount(relabelled), torch.bincount(labels))
    assert (relabelled == labels).float().mean().item() < 0.15  # about 1 in 10 agree by chance
    assert torch.equal(shuffled.test.dataset.tensors[1], true.test.dataset.tensors[1])  # test labels stay true
    again = load_dataset(DataParams(name="mnist_sample", shuffle_labels=True))
    assert torch.equal(torch.as_tensor([int(again.train.dataset[i][1]) for i in range(len(again.train))]), relabelled)


def test_stratified_split_disjoint_and_complete():
    labels = np.repeat(np.arange(3), 10)
    train, test = stratified_split(labels, 0.3, seed=1)
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(30))
    assert np.bincount(labels[test]).tolist() == [3, 3, 3]
    assert len(set(labels[train[:10]].tolist())) > 1, "a prefix of the split must mix the classes"


def test_full_mnist_loader_reads_real_idx_files(idx_root):
    root, arrays = idx_root
    splits = load_dataset(DataParams(name="mnist", raw_dir=str(root)))
    images, labels = splits.train.dataset.tensors
    assert (len(splits.train), len(splits.test)) == (12, 5)
    assert labels.tolist() == arrays["train-labels-idx1-ubyte"].tolist()
    expected = (arrays["train-images-idx3-ubyte"][3] / 255.0 - MNIST_MEAN) / MNIST_STD
    np.testing.assert_allclose(images[3, 0].numpy(), expected, rtol=1e-5, atol=1e-5)
    assert splits.test.dataset.tensors[1].tolist() == [3, 1, 4, 1, 5]


def test_mnist_even_relabels_digits_mod_2(idx_root):
    root, arrays = idx_root
    splits = load_dataset(DataParams(name="mnist_even", even_source="mnist", raw_dir=str(root)))
    assert splits.class_names == ["even", "odd"]
    assert splits.train.dataset.tensors[1].tolist() == (arrays["train-labels-idx1-ubyte"] % 2).tolist()
    sample = load_dataset(DataParams(name="mnist_even", limit=50))
    assert set(sample.train.dataset.dataset.tensors[1].tolist()) == {0, 1}


def test_missing_idx_files_name_the_folder_and_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"MNIST/raw.*download: true"):
        load_dataset(DataParams(name="mnist", raw_dir=str(tmp_path)))


def test_empty_split_is_an_error():
    with pytest.raises(ValueError, match="the test split of 'mnist_sample' is empty"):
        load_dataset(DataParams(name="mnist_sample", test_fraction=0.0001))


def test_empty_idx_files_are_named(idx_root):
    root, _ = idx_root
    write_idx(root / "MNIST" / "raw" / "t10k-images-idx3-ubyte", np.zeros((0, 28, 28)))
    write_idx(root / "MNIST" / "raw" / "t10k-labels-idx1-ubyte", np.zeros((0,)))
    with pytest.raises(ValueError, match=r"the MNIST test IDX files under .* are empty or malformed"):
        load_dataset(DataParams(name="mnist", raw_dir=str(root)))


def test_unknown_dataset_lists_known_ones():
    with pytest.raises(ValueError, match=r"data\.name: Input should be 'mnist_sample', 'mnist', 'mnist_even'"):
        validate({"data": {"name": "mnst"}})


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"mine": {"alpha": 1.0}}, r"mine.alpha: .*alpha must be > 1"),
        ({"data": {"test_fraction": 1.5}}, r"data.test_fraction"),
        ({"train": {"epoch": 3}}, r"train.epoch: unknown parameter; did you mean epochs\?"),
        ({"record": {"layers": {"l2": "decoder.2"}}}, r"no threshold for recorded layer\(s\) \['l2'\]"),
    ],
)
def test_bad_parameters_are_named(params, message):
    with pytest.raises(ValueError, match=message):
        validate(params)


def test_the_data_fingerprint_names_the_data_not_where_the_project_lies(tmp_path):
    """Two clones of the project (raw_dir resolves under each) open the same split: one fingerprint; fewer digits,
    another."""
    from ndg_pipeline.pipelines.ndg.nodes import prepare_data

    def fingerprint(clone: str, limit: int) -> str:
        return prepare_data(DataParams(raw_dir=str(tmp_path / clone / "data/01_raw"), limit=limit))[1]["fingerprint"]

    assert fingerprint("clone_a", 300) == fingerprint("clone_b", 300)
    assert fingerprint("clone_a", 300) != fingerprint("clone_a", 200)
