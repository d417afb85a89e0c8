"""SST-2, AllNLI and Devign loaders on tiny files in their real formats, tokenized by an offline tokenizer."""

from __future__ import annotations

import json

import pytest
import torch
from hf_fixtures import save_tokenizer, texts_of, write_allnli, write_devign, write_sst2

from ndg_pipeline.batches import loader
from ndg_pipeline.config import DataParams
from ndg_pipeline.data import load_dataset
from ndg_pipeline.data.text import NLI_CLASSES, PadCollate


@pytest.fixture
def sst2(tmp_path):
    """GLUE's SST-2 folder and a BERT-style tokenizer trained on it."""
    folder = write_sst2(tmp_path / "SST-2")
    save_tokenizer(tmp_path / "tok", texts_of(folder / "train.tsv") + texts_of(folder / "dev.tsv"))
    return folder, tmp_path / "tok"


def test_sst2_folder_gives_train_and_dev_tokenized_with_cls_and_sep(sst2):
    folder, tokenizer = sst2
    splits = load_dataset(DataParams(name="sst2", path=str(folder), processor=str(tokenizer), max_length=64))
    assert (len(splits.train), len(splits.test)) == (80, 60)
    assert splits.class_names == ["negative", "positive"]
    first_line = (folder / "train.tsv").read_text().splitlines()[1]
    example, label = splits.train.dataset[0]
    assert label == int(first_line.split("\t")[1])
    assert set(example) == {"input_ids", "attention_mask"}
    assert len(example["input_ids"]) == len(first_line.split("\t")[0].split()) + 2
    assert splits.info["tokenizer"] == str(tokenizer)


def test_truncation_and_right_padding(sst2):
    folder, tokenizer = sst2
    splits = load_dataset(DataParams(name="sst2", path=str(folder), processor=str(tokenizer), max_length=6))
    lengths = [len(splits.train.dataset[i][0]["input_ids"]) for i in range(len(splits.train))]
    assert max(lengths) == 6 and min(lengths) < 6
    inputs, labels = next(iter(loader(splits.train, batch_size=80)))
    assert inputs["input_ids"].shape == (80, 6) and labels.shape == (80,)
    row = lengths.index(min(lengths))
    assert inputs["attention_mask"][row].tolist() == [1] * min(lengths) + [0] * (6 - min(lengths))
    assert (inputs["input_ids"][row, min(lengths) :] == 0).all(), "[PAD] is id 0 in the fixture tokenizer"
    assert inputs["input_ids"][row, min(lengths) - 1] == 3, "the last real token is [SEP]"


def test_pad_collate_uses_the_pad_id_for_ids_and_zero_elsewhere():
    batch = [({"input_ids": [5, 6, 7], "attention_mask": [1, 1, 1]}, 1), ({"input_ids": [5], "attention_mask": [1]}, 0)]
    inputs, labels = PadCollate(pad_token_id=9)(batch)
    assert inputs["input_ids"].tolist() == [[5, 6, 7], [5, 9, 9]]
    assert inputs["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert labels.dtype == torch.long and labels.tolist() == [1, 0]


def test_one_sst2_tsv_is_split_stratified(sst2):
    folder, tokenizer = sst2
    params = DataParams(name="sst2", path=str(folder / "train.tsv"), processor=str(tokenizer), test_fraction=0.25)
    splits = load_dataset(params)
    assert (len(splits.train), len(splits.test)) == (60, 20)


def test_allnli_reads_pairs_text_labels_and_the_train_and_test_rows(tmp_path):
    path = write_allnli(tmp_path / "AllNLI.tsv.gz")
    tokenizer = save_tokenizer(tmp_path / "tok", texts_of(path), style="roberta")
    splits = load_dataset(DataParams(name="allnli", path=str(path), processor=str(tmp_path / "tok")))
    assert (len(splits.train), len(splits.test)) == (80, 60)
    assert splits.class_names == NLI_CLASSES
    row = texts_of(path)[1].split("\t")
    example, label = splits.train.dataset[0]
    assert label == NLI_CLASSES.index(row[5])
    expected = tokenizer(row[3], row[4])["input_ids"]
    assert example["input_ids"].tolist() == expected
    assert expected.count(tokenizer.sep_token_id) == 3, "a pair is framed <s> A </s></s> B </s>"


def test_allnli_pairs_are_truncated_longest_first(tmp_path):
    path = write_allnli(tmp_path / "AllNLI.tsv.gz")
    save_tokenizer(tmp_path / "tok", texts_of(path), style="roberta")
    splits = load_dataset(DataParams(name="allnli", path=str(path), processor=str(tmp_path / "tok"), max_length=8))
    assert max(len(splits.train.dataset[i][0]["input_ids"]) for i in range(80)) == 8


def test_allnli_unknown_label_is_named(tmp_path):
    path = tmp_path / "AllNLI.tsv"
    path.write_text("split\tdataset\tfilename\tsentence1\tsentence2\tlabel\ntrain\tS\tf\ta b\tc d\thidden\n")
    save_tokenizer(tmp_path / "tok", ["a b c d"])
    with pytest.raises(ValueError, match=r"labels \['hidden'\] outside the classes"):
        load_dataset(DataParams(name="allnli", path=str(path), processor=str(tmp_path / "tok")))


def test_devign_folder_reads_func_and_target(tmp_path):
    folder = write_devign(tmp_path / "devign")
    save_tokenizer(tmp_path / "tok", texts_of(folder / "train.jsonl"), style="roberta")
    splits = load_dataset(DataParams(name="devign", path=str(folder), processor=str(tmp_path / "tok"), max_length=64))
    assert (len(splits.train), len(splits.test)) == (80, 60)
    assert splits.class_names == ["no_defect", "defect"]
    records = [json.loads(line) for line in texts_of(folder / "test.jsonl")]
    assert [splits.test.dataset[i][1] for i in range(60)] == [r["target"] for r in records]


def test_missing_files_name_the_path_and_both_fixes(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nowhere does not exist: expected GLUE's SST-2.*download: true"):
        load_dataset(DataParams(name="sst2", path=str(tmp_path / "nowhere"), processor="unused"))
    (tmp_path / "SST-2").mkdir()
    with pytest.raises(FileNotFoundError, match=r"SST-2 lacks train.tsv, dev.tsv"):
        load_dataset(DataParams(name="sst2", path=str(tmp_path / "SST-2"), processor="unused"))
    with pytest.raises(FileNotFoundError, match=r"data\.path is not set"):
        load_dataset(DataParams(name="devign"))


def test_text_datasets_need_a_tokenizer(sst2):
    folder, _ = sst2
    with pytest.raises(ValueError, match=r"data\.processor is not set"):
        load_dataset(DataParams(name="sst2", path=str(folder)))
    with pytest.raises(FileNotFoundError, match=r"no tokenizer could be loaded from data\.processor"):
        load_dataset(DataParams(name="sst2", path=str(folder), processor=str(folder / "no_tokenizer")))
