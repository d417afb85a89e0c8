"""Tiny datasets in their real file formats and tiny random transformers saved as their tools save them.

Everything is built offline: tokenizers are trained on the fixture text with the ``tokenizers`` library,
models are random (2 layers, hidden size 32) and written with ``save_pretrained``. Their weights are drawn
wide (``initializer_range`` 0.5) so that first-token activations and predictions vary between inputs even
untrained, which gives the tiny runs edges to mine and classes to intervene on.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import torch

GOOD, BAD = ["good", "great", "fine", "lovely"], ["bad", "awful", "poor", "dull"]
FILLER = ["the", "film", "was", "a", "story", "very", "and", "plot", "it", "really", "acting", "quite"]
NLI = ["contradiction", "entailment", "neutral"]
WIDE = 0.5  # initializer range of the tiny models
STATEMENTS = ["n = n + K ;", "if ( n > K ) return K ;", "buf [ K ] = p [ K ] ;", "free ( p ) ;", "p ++ ;", "n -- ;"]


def sentence(rng: np.random.Generator, label: int, length: int) -> str:
    """Filler words with one sentiment word of the label's polarity."""
    words = list(rng.choice(FILLER, size=length))
    words.insert(int(rng.integers(0, length + 1)), str(rng.choice(GOOD if label else BAD)))
    return " ".join(words)


def write_sst2(folder: Path, n_train: int = 80, n_test: int = 60, seed: int = 0) -> Path:
    """GLUE's SST-2 folder: train.tsv and dev.tsv with a ``sentence\\tlabel`` header."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for name, n in (("train.tsv", n_train), ("dev.tsv", n_test)):
        labels = rng.integers(0, 2, size=n)
        rows = [f"{sentence(rng, int(y), int(rng.integers(2, 14)))}\t{y}" for y in labels]
        (folder / name).write_text("sentence\tlabel\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return folder


def write_allnli(path: Path, n_train: int = 80, n_test: int = 60, seed: int = 0) -> Path:
    """The sentence-transformers AllNLI.tsv.gz: split, dataset, filename, sentence1, sentence2, text label."""
    rng = np.random.default_rng(seed)
    lines = ["split\tdataset\tfilename\tsentence1\tsentence2\tlabel"]
    for split, n in (("train", n_train), ("dev", 5), ("test", n_test)):
        for _ in range(n):
            label = NLI[int(rng.integers(0, 3))]
            premise = sentence(rng, 1, int(rng.integers(3, 10)))
            hypothesis = {"entailment": premise, "contradiction": "nobody " + premise}.get(label, "maybe a plot")
            lines.append(f"{split}\tSNLI\tsnli_1.0_{split}.jsonl\t{premise}\t{hypothesis}\t{label}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode("utf-8")))
    return path


def write_devign(folder: Path, n_train: int = 80, n_test: int = 60, seed: int = 0) -> Path:
    """CodeXGLUE defect detection: train/valid/test.jsonl with func, target, project, commit_id, idx."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    index = 0
    for name, n in (("train.jsonl", n_train), ("valid.jsonl", 5), ("test.jsonl", n_test)):
        records = []
        for _ in range(n):
            target = int(rng.integers(0, 2))
            statements = list(rng.choice(STATEMENTS, size=int(rng.integers(1, 5))))
            statements.insert(int(rng.integers(0, len(statements) + 1)), "strcpy ( buf , p ) ;" if target else "")
            body = " ".join(statements).replace("K", str(int(rng.integers(0, 9))))
            func = f"int f{index} ( char * p , int n ) {{ char buf [ 8 ] ; {body} return n ; }}"
            records.append({"project": "qemu", "commit_id": f"{index:040x}", "target": target, "func": func})
            records[-1]["idx"] = index
            index += 1
        (folder / name).write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return folder


def write_cub(root: Path, classes: int = 3, train_per_class: int = 24, test_per_class: int = 16) -> Path:
    """CUB_200_2011's layout: images.txt, train_test_split.txt, image_class_labels.txt, classes.txt, images/."""
    from PIL import Image

    rng = np.random.default_rng(0)
    names = [f"{c + 1:03d}.Bird_{c}" for c in range(classes)]
    images, split, labels = [], [], []
    image_id = 0
    for c, name in enumerate(names):
        (root / "images" / name).mkdir(parents=True, exist_ok=True)
        for k in range(train_per_class + test_per_class):
            image_id += 1
            colour = np.zeros((20, 28, 3))
            colour[..., c % 3] = 200
            pixels = np.clip(colour + rng.normal(0, 30, colour.shape), 0, 255).astype(np.uint8)
            relative = f"{name}/Bird_{c}_{k:04d}.jpg"
            Image.fromarray(pixels).save(root / "images" / relative)
            images.append(f"{image_id} {relative}")
            split.append(f"{image_id} {int(k < train_per_class)}")
            labels.append(f"{image_id} {c + 1}")
    for file, lines in (
        ("images.txt", images),
        ("train_test_split.txt", split),
        ("image_class_labels.txt", labels),
        ("classes.txt", [f"{c + 1} {name}" for c, name in enumerate(names)]),
    ):
        (root / file).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def save_tokenizer(folder: Path, texts: list[str], style: str = "bert"):
    """A WordLevel tokenizer trained on ``texts``, with BERT ([CLS] … [SEP]) or RoBERTa (<s> … </s>) framing."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    bert, roberta = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"), ("<pad>", "<unk>", "<s>", "</s>", "<mask>")
    pad, unk, cls, sep, mask = bert if style == "bert" else roberta
    tokenizer = Tokenizer(models.WordLevel(unk_token=unk))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.train_from_iterator(texts, trainers.WordLevelTrainer(special_tokens=[pad, unk, cls, sep, mask]))
    pair = f"{cls} $A {sep} $B:1 {sep}:1" if style == "bert" else f"{cls} $A {sep} {sep} $B {sep}"
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{cls} $A {sep}",
        pair=pair,
        special_tokens=[(cls, tokenizer.token_to_id(cls)), (sep, tokenizer.token_to_id(sep))],
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        pad_token=pad,
        unk_token=unk,
        cls_token=cls,
        sep_token=sep,
        mask_token=mask,
        model_input_names=["input_ids", "attention_mask"],
    )
    fast.save_pretrained(folder)
    return fast


def save_text_model(folder: Path, tokenizer, kind: str = "distilbert", num_labels: int = 2) -> Path:
    """A random (seed 0) 2-layer, hidden-32 DistilBERT or RoBERTa classifier saved next to its tokenizer."""
    from transformers import AutoModelForSequenceClassification, DistilBertConfig, RobertaConfig

    if kind == "distilbert":
        config = DistilBertConfig(
            vocab_size=len(tokenizer),
            dim=32,
            n_layers=2,
            n_heads=2,
            hidden_dim=64,
            max_position_embeddings=128,
            pad_token_id=tokenizer.pad_token_id,
            num_labels=num_labels,
            initializer_range=WIDE,
        )
    else:
        config = RobertaConfig(
            vocab_size=len(tokenizer),
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            max_position_embeddings=130,
            pad_token_id=tokenizer.pad_token_id,
            bos_token_id=tokenizer.cls_token_id,
            eos_token_id=tokenizer.sep_token_id,
            num_labels=num_labels,
            initializer_range=WIDE,
        )
    torch.manual_seed(0)
    AutoModelForSequenceClassification.from_config(config).save_pretrained(folder)
    return folder


def save_vit(folder: Path, num_labels: int = 3) -> Path:
    """A random (seed 0) 2-layer, hidden-32 ViT for 32×32 images, saved with its image processor."""
    from transformers import AutoModelForImageClassification, ViTConfig, ViTImageProcessor

    config = ViTConfig(
        image_size=32,
        patch_size=8,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        num_labels=num_labels,
        initializer_range=WIDE,
    )
    torch.manual_seed(0)
    AutoModelForImageClassification.from_config(config).save_pretrained(folder)
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(folder)
    return folder


def texts_of(path: Path) -> list[str]:
    """Every word-bearing line of a fixture file (the tokenizer's training text)."""
    raw = gzip.decompress(path.read_bytes()).decode() if path.suffix == ".gz" else path.read_text(encoding="utf-8")
    return raw.splitlines()
