"""The CUB-200-2011 loader on a tiny folder in the official layout, prepared as a saved ViT processor says."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hf_fixtures import save_vit, write_cub
from PIL import Image

from ndg_pipeline.batches import loader
from ndg_pipeline.config import DataParams
from ndg_pipeline.data import load_dataset


@pytest.fixture
def cub(tmp_path):
    """A 3-class CUB folder and a tiny ViT (with its 32×32 image processor)."""
    return write_cub(tmp_path / "CUB_200_2011"), save_vit(tmp_path / "vit")


def test_official_split_labels_and_class_names(cub):
    root, vit = cub
    splits = load_dataset(DataParams(name="cub200", path=str(root), processor=str(vit)))
    assert (len(splits.train), len(splits.test)) == (72, 48)
    assert splits.class_names == ["Bird_0", "Bird_1", "Bird_2"]
    for split in (splits.train, splits.test):
        for path, label in zip(split.dataset.paths, split.dataset.labels, strict=True):
            assert f".Bird_{label}/Bird_{label}_" in path
    assert len(set(splits.train.dataset.labels[:6].tolist())) > 1, "a prefix of a split mixes the classes"
    assert not set(splits.train.dataset.paths) & set(splits.test.dataset.paths)


def test_images_are_resized_and_normalized_without_randomness(cub):
    root, vit = cub
    splits = load_dataset(DataParams(name="cub200", path=str(root), processor=str(vit)))
    first, again = splits.train.dataset[0][0], splits.train.dataset[0][0]
    assert first.shape == (3, 32, 32) and first.dtype == torch.float32
    assert torch.equal(first, again)
    with Image.open(splits.train.dataset.paths[0]) as image:
        resized = np.asarray(image.convert("RGB").resize((32, 32), resample=2), dtype=np.float32) / 255.0
    np.testing.assert_allclose(first.permute(1, 2, 0).numpy(), (resized - 0.5) / 0.5, atol=1e-6)
    images, labels = next(iter(loader(splits.test, batch_size=8)))
    assert images.shape == (8, 3, 32, 32) and labels.dtype == torch.long


def test_missing_cub_files_are_named_with_the_fix(tmp_path, cub):
    root, vit = cub
    (root / "classes.txt").unlink()
    with pytest.raises(FileNotFoundError, match=r"missing: classes.txt.*set data.path to its CUB_200_2011 folder"):
        load_dataset(DataParams(name="cub200", path=str(root), processor=str(vit)))
    with pytest.raises(ValueError, match="image datasets need the model's image processor"):
        load_dataset(DataParams(name="cub200", path=str(write_cub(tmp_path / "again"))))
