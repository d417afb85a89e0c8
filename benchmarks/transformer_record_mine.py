"""Time recording and mining at SST-2 scale: a full-size DistilBERT on synthetic sentences, two layers.

The model is DistilBERT's default configuration (768 wide, 6 blocks, 3072-wide feed-forward) with random
weights drawn wider than the default (``--init-range``, 0.2 rather than 0.02, so that [CLS] activations vary
between inputs as a trained model's do instead of being mostly constant), built by the pipeline's own code
(``models.hf``); the sentences are random words, tokenized by a WordLevel tokenizer trained on them, so
nothing is downloaded. Recorded: ``pre_classifier`` (768, pre-ReLU) and
``distilbert.transformer.layer.5.ffn.lin1`` (3072, pre-GELU) at [CLS]; mined at α = 100, scored on test.
Only the science modules are imported (no Kedro, MLflow or pydantic).

    PYTHONPATH=src python benchmarks/transformer_record_mine.py --train 7000 --test 872 --device auto

``--save DIR`` also writes the predicate tables (``predicates_{train,test}.parquet``), so that counting and
mining can be timed again elsewhere with ``--predicates DIR`` (no model, no recording).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ndg_pipeline.data.splits import Split
from ndg_pipeline.data.text import LABEL, TEXT, PadCollate, tokenize
from ndg_pipeline.device import resolve_device
from ndg_pipeline.models import build_model
from ndg_pipeline.ndg import count_frame, mine
from ndg_pipeline.ndg.binarize import binarize
from ndg_pipeline.ndg.recording import record_activations

LAYERS = {"pre_classifier": "pre_classifier", "ffn": "distilbert.transformer.layer.5.ffn.lin1"}
THRESHOLDS = {"pre_classifier": "pre_activation", "ffn": "pre_activation"}


def sentences(n: int, vocabulary: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """``n`` random sentences of 5 to 45 words (SST-2's range) with random 0/1 labels."""
    words = [" ".join(rng.choice(vocabulary, size=int(rng.integers(5, 46)))) for _ in range(n)]
    return pd.DataFrame({TEXT: words, LABEL: rng.integers(0, 2, size=n)})


def word_tokenizer(texts: list[str]):
    """A BERT-style ([CLS] … [SEP]) WordLevel tokenizer trained on ``texts``."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
    tokenizer = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.train_from_iterator(texts, trainers.WordLevelTrainer(special_tokens=specials))
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        special_tokens=[(token, tokenizer.token_to_id(token)) for token in ("[CLS]", "[SEP]")],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        pad_token="[PAD]",
        unk_token="[UNK]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        model_input_names=["input_ids", "attention_mask"],
    )


def timed(function, device: torch.device):
    """``function()`` and its wall time in seconds, GPU work included."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    result = function()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return result, time.perf_counter() - start


def count_and_mine(train: pd.DataFrame, test: pd.DataFrame, device: torch.device) -> dict:
    """Count both predicate tables and mine at α = 100 scored on test; the times and the result's sizes."""
    counts, count_s = timed(lambda: [count_frame(table, device=str(device)) for table in (train, test)], device)
    result, mine_s = timed(lambda: mine(counts[0], 100.0, test=counts[1]), device)
    return {
        "predicates": train.shape[1],
        "count_s": round(count_s, 2),
        "mine_s": round(mine_s, 2),
        "edges": len(result.edges),
        "equivalences": len(result.equivalences),
        "constants": len(result.constants),
    }


def main() -> None:
    """Build, record both splits, binarize, count and mine; print one JSON line of timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=7000)
    parser.add_argument("--test", type=int, default=872)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--init-range", type=float, default=0.2, help="std of the random weights")
    parser.add_argument("--save", type=Path, help="write the predicate tables to this folder")
    parser.add_argument("--predicates", type=Path, help="only count and mine the predicate tables in this folder")
    args = parser.parse_args()
    device = resolve_device(args.device)
    if args.predicates:
        tables = [pd.read_parquet(args.predicates / f"predicates_{name}.parquet") for name in ("train", "test")]
        print(json.dumps({"inputs": [len(table) for table in tables], **count_and_mine(*tables, device)}))
        return
    rng = np.random.default_rng(0)
    vocabulary = np.array([f"w{index}" for index in range(20_000)])
    frames = sentences(args.train, vocabulary, rng), sentences(args.test, vocabulary, rng)
    tokenizer = word_tokenizer(frames[0][TEXT].tolist() + frames[1][TEXT].tolist())
    splits = [Split(tokenize(frame, tokenizer, 128), PadCollate(tokenizer.pad_token_id)) for frame in frames]
    config = {"model_type": "distilbert", "vocab_size": len(tokenizer), "pad_token_id": tokenizer.pad_token_id}
    config["initializer_range"] = args.init_range
    model, build_s = timed(
        lambda: build_model({"architecture": "hf_sequence_classification", "num_classes": 2, "config": config}, 0),
        device,
    )
    record = [
        timed(
            lambda split=split: record_activations(
                model, split, LAYERS, "first", args.batch_size, None, str(device), desc=None
            ),
            device,
        )
        for split in splits
    ]
    (train_p, test_p), binarize_s = timed(lambda: [binarize(frame, THRESHOLDS, 2) for frame, _ in record], device)
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
        for name, table in (("train", train_p), ("test", test_p)):
            table.to_parquet(args.save / f"predicates_{name}.parquet")
    timings = {
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "torch": torch.__version__,
        "inputs": [args.train, args.test],
        "mean_tokens": float(np.mean(np.diff(splits[0].dataset.offsets))),
        "build_s": round(build_s, 2),
        "record_train_s": round(record[0][1], 2),
        "record_test_s": round(record[1][1], 2),
        "binarize_s": round(binarize_s, 2),
    }
    print(json.dumps({**timings, **count_and_mine(train_p, test_p, device)}))


if __name__ == "__main__":
    main()
