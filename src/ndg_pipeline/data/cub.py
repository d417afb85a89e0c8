"""CUB-200-2011 birds from the official folder layout, as images resized and normalized for a ViT.

Images are read from disk one at a time and prepared deterministically (resize, scale, normalize with the
model's image processor settings, no augmentation), so training, recording and intervention see the same pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch.utils.data import Dataset

from ndg_pipeline.data.splits import DatasetSplits, Split

if TYPE_CHECKING:
    from ndg_pipeline.config import DataParams

CUB_FILES = ("images.txt", "train_test_split.txt", "image_class_labels.txt", "classes.txt")


@dataclass(frozen=True)
class ImageTransform:
    """Resize to (height, width), scale to [0, 1] and normalize per channel: no randomness."""

    height: int
    width: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    resample: int = 2  # PIL bilinear, the ViT image processor's default

    def __call__(self, image: Any) -> torch.Tensor:
        resized = image.convert("RGB").resize((self.width, self.height), resample=self.resample)
        pixels = torch.from_numpy(np.asarray(resized, dtype=np.float32) / 255.0).permute(2, 0, 1)
        mean, std = torch.tensor(self.mean).view(-1, 1, 1), torch.tensor(self.std).view(-1, 1, 1)
        return (pixels - mean) / std


@dataclass
class ImageFiles(Dataset):
    """Image files and their labels, opened and transformed on access."""

    paths: list[str]
    labels: np.ndarray
    transform: ImageTransform

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        from PIL import Image

        with Image.open(self.paths[index]) as image:
            return self.transform(image), int(self.labels[index])


def image_transform(processor: str | None) -> ImageTransform:
    """The resize and normalization of the image processor at ``processor`` (a local folder or a hub name)."""
    from transformers import AutoImageProcessor

    if not processor:
        raise ValueError(
            "data.processor is not set: image datasets need the model's image processor (its size, mean and std). "
            "Set it to the model's folder or hub name, usually the same as model.source."
        )
    try:
        settings = AutoImageProcessor.from_pretrained(processor)
    except OSError as error:
        raise FileNotFoundError(
            f"no image processor could be loaded from data.processor={processor!r} ({error}). Point it at a folder "
            "written by image_processor.save_pretrained, or at a hub name on a machine with the internet."
        ) from error
    size = settings.size
    height, width = (size["height"], size["width"]) if "height" in size else (size["shortest_edge"],) * 2
    return ImageTransform(
        height, width, tuple(settings.image_mean), tuple(settings.image_std), int(getattr(settings, "resample", 2))
    )


def read_table(path: Path) -> dict[int, str]:
    """A CUB index file (``<id> <value>`` per line) as id → value."""
    rows = (line.split(" ", 1) for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    return {int(key): value.strip() for key, value in rows}


def load_cub200(params: DataParams) -> DatasetSplits:
    """CUB-200-2011 at ``data.path`` (the folder holding images.txt, …, images/): the official train/test split.

    Each split comes in one order shuffled with ``data.split_seed`` (the files list the birds class by class),
    so any prefix (``data.limit``) mixes the classes.
    """
    root = Path(params.path) if params.path else None
    missing = [name for name in CUB_FILES if root is None or not (root / name).is_file()]
    if root is None or missing or not (root / "images").is_dir():
        raise FileNotFoundError(
            f"CUB-200-2011 was not found at data.path={params.path!r} (missing: {', '.join(missing) or 'images/'}). "
            "Unpack CUB_200_2011.tgz and set data.path to its CUB_200_2011 folder (images.txt, "
            "train_test_split.txt, image_class_labels.txt, classes.txt, images/)."
        )
    images, is_train = read_table(root / "images.txt"), read_table(root / "train_test_split.txt")
    labels, classes = read_table(root / "image_class_labels.txt"), read_table(root / "classes.txt")
    class_ids = sorted(classes)
    class_index = {class_id: index for index, class_id in enumerate(class_ids)}
    transform = image_transform(params.processor)
    rng = np.random.default_rng(params.split_seed)
    splits = {}
    for name, flag in (("train", "1"), ("test", "0")):
        ids = [image_id for image_id in sorted(images) if is_train[image_id] == flag]
        ids = [ids[i] for i in rng.permutation(len(ids))]
        paths = [str(root / "images" / images[image_id]) for image_id in ids]
        targets = np.array([class_index[int(labels[image_id])] for image_id in ids], dtype=np.int64)
        splits[name] = Split(ImageFiles(paths, targets, transform))
    names = [classes[class_id].split(".", 1)[-1] for class_id in class_ids]
    info = {"source": str(root), "image_size": [transform.height, transform.width], "processor": params.processor}
    return DatasetSplits(name="cub200", train=splits["train"], test=splits["test"], class_names=names, info=info)
