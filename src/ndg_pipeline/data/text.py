"""Text classification datasets (SST-2, AllNLI, Devign): read, tokenized once, padded per batch.

Each loader reads the files a dataset ships in (``data.path``) or, when they are missing and ``data.download``
is true, its copy on the Hugging Face hub through ``datasets``. The tokenizer (``data.processor``) truncates
every example to ``data.max_length`` tokens; batches are padded on the right to their longest example.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from ndg_pipeline.data.mnist import stratified_split
from ndg_pipeline.data.splits import DatasetSplits, Split

if TYPE_CHECKING:
    from ndg_pipeline.config import DataParams

TEXT, PAIR, LABEL = "text", "text_pair", "label"
SST2_CLASSES = ["negative", "positive"]
NLI_CLASSES = ["contradiction", "entailment", "neutral"]  # the order of the sentence-transformers cross-encoders
DEVIGN_CLASSES = ["no_defect", "defect"]


@dataclass
class TokenizedDataset(Dataset):
    """Tokenized examples stored ragged: per tokenizer output one flat int array, cut by ``offsets``."""

    columns: dict[str, np.ndarray]
    offsets: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[dict[str, np.ndarray], int]:
        start, stop = self.offsets[index], self.offsets[index + 1]
        return {key: values[start:stop] for key, values in self.columns.items()}, int(self.labels[index])


@dataclass(frozen=True)
class PadCollate:
    """Batch tokenized examples: right-pad ``input_ids`` with the pad id and every other key with 0."""

    pad_token_id: int

    def __call__(self, batch: list[tuple[dict[str, np.ndarray], int]]) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        width = max(len(example["input_ids"]) for example, _ in batch)
        inputs = {}
        for key in batch[0][0]:
            padded = np.full((len(batch), width), self.pad_token_id if key == "input_ids" else 0, dtype=np.int64)
            for row, (example, _) in enumerate(batch):
                padded[row, : len(example[key])] = example[key]
            inputs[key] = torch.from_numpy(padded)
        return inputs, torch.tensor([label for _, label in batch], dtype=torch.long)


def load_tokenizer(processor: str | None) -> Any:
    """The tokenizer at ``processor`` (a local folder or a hub name), with a clear error when it is unset."""
    from transformers import AutoTokenizer

    if not processor:
        raise ValueError(
            "data.processor is not set: text datasets need a tokenizer. Set it to the model's folder "
            "(written by save_pretrained) or its hub name, usually the same as model.source."
        )
    try:
        return AutoTokenizer.from_pretrained(processor)
    except OSError as error:
        raise FileNotFoundError(
            f"no tokenizer could be loaded from data.processor={processor!r} ({error}). Point it at a folder "
            "written by tokenizer.save_pretrained, or at a hub name on a machine with the internet."
        ) from error


def tokenize(frame: pd.DataFrame, tokenizer: Any, max_length: int) -> TokenizedDataset:
    """Tokenize a frame's ``text`` (and ``text_pair`` when present), truncated to ``max_length`` tokens."""
    pairs = frame[PAIR].tolist() if PAIR in frame else None
    encoded = tokenizer(frame[TEXT].tolist(), pairs, truncation=True, max_length=max_length)
    lengths = np.array([len(ids) for ids in encoded["input_ids"]], dtype=np.int64)
    columns = {
        key: np.fromiter((token for row in rows for token in row), dtype=np.int64, count=int(lengths.sum()))
        for key, rows in encoded.items()
    }
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    return TokenizedDataset(columns, offsets, frame[LABEL].to_numpy(dtype=np.int64))


def text_splits(
    name: str, frames: tuple[pd.DataFrame, pd.DataFrame], class_names: list[str], params: DataParams, source: str
) -> DatasetSplits:
    """Tokenize a train and a test frame into splits that pad per batch."""
    tokenizer = load_tokenizer(params.processor)
    if tokenizer.pad_token_id is None:
        raise ValueError(f"the tokenizer at {params.processor!r} has no pad token; set one before saving it.")
    collate = PadCollate(int(tokenizer.pad_token_id))
    train, test = (Split(tokenize(frame, tokenizer, params.max_length), collate) for frame in frames)
    info = {"source": source, "tokenizer": params.processor, "max_length": params.max_length}
    return DatasetSplits(name=name, train=train, test=test, class_names=class_names, info=info)


def split_frame(frame: pd.DataFrame, params: DataParams) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One labelled file split stratified into train and test (``data.test_fraction``, ``data.split_seed``)."""
    train_idx, test_idx = stratified_split(frame[LABEL].to_numpy(), params.test_fraction, params.split_seed)
    return frame.iloc[train_idx].reset_index(drop=True), frame.iloc[test_idx].reset_index(drop=True)


def local_or_hub(
    params: DataParams,
    what: str,
    read: Callable[[Path], tuple[pd.DataFrame, pd.DataFrame]],
    hub: Callable[[], tuple[pd.DataFrame, pd.DataFrame]],
    hub_name: str,
) -> tuple[tuple[pd.DataFrame, pd.DataFrame], str]:
    """The dataset's files at ``data.path``, else (``data.download``) the hub copy; the frames and their source."""
    path = Path(params.path) if params.path else None
    if path is not None and path.exists():
        return read(path), str(path)
    if params.download:
        return hub(), f"hub:{hub_name}"
    where = f"{path} does not exist" if path is not None else "data.path is not set"
    raise FileNotFoundError(
        f"{where}: expected {what}. Set data.path to it, or data.download: true to load {hub_name} "
        "from the Hugging Face hub (needs the internet)."
    )


def labelled(frame: pd.DataFrame, class_names: list[str], where: str) -> pd.DataFrame:
    """The frame with text labels turned into class indices, naming any label that is not a class."""
    unknown = sorted(set(frame[LABEL]) - set(class_names))
    if unknown:
        raise ValueError(f"{where} has labels {unknown[:5]} outside the classes {class_names}.")
    return frame.assign(**{LABEL: frame[LABEL].map(class_names.index).astype(np.int64)})


def read_tsv(path: Path) -> pd.DataFrame:
    """A tab-separated file with a header, read as text (GLUE and sentence-transformers quote nothing)."""
    return pd.read_csv(path, sep="\t", quoting=csv.QUOTE_NONE, dtype=str, keep_default_na=False)


def columns(frame: pd.DataFrame, renames: dict[str, str], where: Path) -> pd.DataFrame:
    """Select and rename the needed columns, naming those the file lacks."""
    missing = [column for column in renames if column not in frame]
    if missing:
        raise ValueError(f"{where} has no column(s) {missing}; its columns are {list(frame.columns)}.")
    return frame[list(renames)].rename(columns=renames)


def folder_or_file(
    path: Path, files: tuple[str, str], read: Callable[[Path], pd.DataFrame], params: DataParams
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A folder's train and test files, or one file split by ``data.test_fraction``."""
    if path.is_file():
        return split_frame(read(path), params)
    missing = [name for name in files if not (path / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{path} lacks {', '.join(missing)}; put the dataset's files there.")
    return read(path / files[0]), read(path / files[1])


def read_sst2_tsv(path: Path) -> pd.DataFrame:
    """GLUE's SST-2 TSV (``sentence``, ``label`` 0/1)."""
    frame = columns(read_tsv(path), {"sentence": TEXT, "label": LABEL}, path)
    return frame.astype({LABEL: np.int64})


def hub_sst2() -> tuple[pd.DataFrame, pd.DataFrame]:
    """GLUE SST-2 from the hub: train and validation (the test split has no labels)."""
    from datasets import load_dataset as hub_dataset

    glue = hub_dataset("nyu-mll/glue", "sst2")
    train, test = (glue[split].to_pandas().rename(columns={"sentence": TEXT}) for split in ("train", "validation"))
    return train[[TEXT, LABEL]], test[[TEXT, LABEL]]


def load_sst2(params: DataParams) -> DatasetSplits:
    """SST-2: GLUE's folder (train.tsv → train, dev.tsv → test), one ``sentence\\tlabel`` TSV, or the hub."""
    frames, source = local_or_hub(
        params,
        "GLUE's SST-2 folder (train.tsv, dev.tsv) or one TSV with columns sentence and label",
        lambda path: folder_or_file(path, ("train.tsv", "dev.tsv"), read_sst2_tsv, params),
        hub_sst2,
        "nyu-mll/glue (sst2)",
    )
    return text_splits("sst2", frames, SST2_CLASSES, params, source)


def read_allnli(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The sentence-transformers AllNLI TSV (``.tsv`` or ``.tsv.gz``): its train rows and its test rows."""
    renames = {"split": "split", "sentence1": TEXT, "sentence2": PAIR, "label": LABEL}
    frame = labelled(columns(read_tsv(path), renames, path), NLI_CLASSES, str(path))
    parts = []
    for split in ("train", "test"):
        part = frame[frame["split"] == split].drop(columns="split").reset_index(drop=True)
        if part.empty:
            raise ValueError(f"{path} has no rows whose split is {split!r}.")
        parts.append(part)
    return parts[0], parts[1]


def hub_allnli() -> tuple[pd.DataFrame, pd.DataFrame]:
    """sentence-transformers/all-nli (pair-class) from the hub, relabelled to the cross-encoder order."""
    from datasets import load_dataset as hub_dataset

    nli = hub_dataset("sentence-transformers/all-nli", "pair-class")
    feature = nli["train"].features["label"]
    names = getattr(feature, "names", ["entailment", "neutral", "contradiction"])
    frames = []
    for split in ("train", "test"):
        frame = nli[split].to_pandas().rename(columns={"premise": TEXT, "hypothesis": PAIR})
        frame[LABEL] = [names[label] for label in frame[LABEL]]
        frames.append(labelled(frame[[TEXT, PAIR, LABEL]], NLI_CLASSES, f"all-nli {split}"))
    return frames[0], frames[1]


def load_allnli(params: DataParams) -> DatasetSplits:
    """AllNLI sentence pairs (3 classes): the sentence-transformers TSV (train/test rows) or the hub set."""
    frames, source = local_or_hub(
        params,
        "the sentence-transformers AllNLI TSV (split, dataset, filename, sentence1, sentence2, label)",
        read_allnli,
        hub_allnli,
        "sentence-transformers/all-nli (pair-class)",
    )
    return text_splits("allnli", frames, NLI_CLASSES, params, source)


def read_jsonl(path: Path) -> pd.DataFrame:
    """CodeXGLUE defect-detection JSON lines (``func``, ``target``) as code text and 0/1 labels."""
    with path.open(encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines if line.strip()]
    frame = columns(pd.DataFrame.from_records(records), {"func": TEXT, "target": LABEL}, path)
    return frame.astype({LABEL: np.int64})


def hub_devign() -> tuple[pd.DataFrame, pd.DataFrame]:
    """CodeXGLUE defect detection (Devign) from the hub: train and test."""
    from datasets import load_dataset as hub_dataset

    devign = hub_dataset("google/code_x_glue_cc_defect_detection")
    renames = {"func": TEXT, "target": LABEL}
    train, test = (devign[split].to_pandas().rename(columns=renames)[[TEXT, LABEL]] for split in ("train", "test"))
    return train.astype({LABEL: np.int64}), test.astype({LABEL: np.int64})


def load_devign(params: DataParams) -> DatasetSplits:
    """Devign functions (defect or not): CodeXGLUE's folder (train.jsonl, test.jsonl), one JSONL, or the hub."""
    frames, source = local_or_hub(
        params,
        "CodeXGLUE's defect-detection folder (train.jsonl, test.jsonl with func and target) or one such JSONL",
        lambda path: folder_or_file(path, ("train.jsonl", "test.jsonl"), read_jsonl, params),
        hub_devign,
        "google/code_x_glue_cc_defect_detection",
    )
    return text_splits("devign", frames, DEVIGN_CLASSES, params, source)
