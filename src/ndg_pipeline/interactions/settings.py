"""The three settings the pipeline explains: image cells of the ndg pipeline's CNN, table columns of the authors'
MLP, and the words of sentences for a transformer. A :class:`Setting` knows its models, its test inputs and how
to turn one input into players and a masker; :func:`select_samples` picks what to explain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from ndg_pipeline.batches import to_device
from ndg_pipeline.data.splits import DatasetSplits
from ndg_pipeline.interactions.players import ImageMasker, Masker, TabularMasker, TokenMasker, grid_players, words_of
from ndg_pipeline.interactions.rewards import log_odds

Kind = Literal["image", "tabular", "text"]


@dataclass
class Sample:
    """One input to explain: its index in the test split, label, model inputs, players and their names."""

    index: int
    label: int
    inputs: Any
    players: list[Any]
    names: list[str]


@dataclass
class Setting:
    """Models (``first``, optionally ``second``), test split, class names and how to build players."""

    kind: Kind
    models: dict[str, nn.Module]
    splits: DatasetSplits
    baseline: Any = 0.0
    image_players: list[np.ndarray] = field(default_factory=list)
    background_kept: bool = True
    feature_names: list[str] = field(default_factory=list)
    tokenizer: Any = None
    words: tuple[int, int] = (1, 20)
    embedding: str | None = None
    samples: list[Sample] = field(default_factory=list)  # the inputs selected for explanation
    lineage: dict[str, str] = field(default_factory=dict)  # the explained model's fingerprint (ndg_pipeline.lineage)

    def sample(self, index: int) -> Sample | None:
        """Test input ``index`` as a :class:`Sample`, or None when it does not qualify (sentence length)."""
        inputs, label = self.splits.test.dataset[index]
        label = int(label)
        if self.kind == "image":
            names = [f"cell {i}" for i in range(len(self.image_players))]
            return Sample(index, label, inputs, list(self.image_players), names)
        if self.kind == "tabular":
            return Sample(index, label, inputs, list(range(len(self.feature_names))), list(self.feature_names))
        text = self.tokenizer.decode(list(inputs["input_ids"]), skip_special_tokens=True)
        encoded = self.tokenizer(text, truncation=True, max_length=len(inputs["input_ids"]) + 2)
        words = words_of(encoded.word_ids())
        if not self.words[0] <= len(words) <= self.words[1]:
            return None
        names = [text[span.start : span.end] for span in (encoded.word_to_chars(w) for w in range(len(words)))]
        tensors = {key: torch.tensor(value) for key, value in encoded.items() if key in ("input_ids", "attention_mask")}
        return Sample(index, label, tensors, words, names)

    def masker(self, sample: Sample, model: nn.Module) -> Masker:
        """The masker of ``sample`` for ``model`` (text: the model's own pad embedding as the baseline)."""
        if self.kind == "image":
            return ImageMasker(sample.inputs, sample.players, self.baseline, self.background_kept)
        if self.kind == "tabular":
            return TabularMasker(sample.inputs, self.baseline)
        masker = TokenMasker.for_model(model, sample.inputs, sample.players, int(self.tokenizer.pad_token_id))
        return (
            masker
            if self.embedding is None
            else TokenMasker(sample.inputs, sample.players, self.embedding, masker.baseline)
        )

    def full_logits(self, sample: Sample, model: nn.Module) -> torch.Tensor:
        """The model's logits on the unmasked input [1, C]."""
        device = next(model.parameters()).device
        inputs = sample.inputs
        batch = {k: v[None] for k, v in inputs.items()} if isinstance(inputs, dict) else torch.as_tensor(inputs)[None]
        with torch.no_grad():
            output = model(**to_device(batch, device)) if isinstance(batch, dict) else model(batch.to(device))
        return getattr(output, "logits", output)


def select_samples(setting: Setting, per_class: int, seed: int, classes: Sequence[int] | None = None) -> list[Sample]:
    """Up to ``per_class`` test inputs per class (of ``classes``, default all), in a seeded random order, that every
    model classifies correctly with positive log-odds of the label (p > 0.5), so that v(N) > 0 (spec §1)."""
    studied = range(setting.splits.num_classes) if classes is None else sorted(set(classes))
    unknown = [c for c in studied if not 0 <= c < setting.splits.num_classes]
    if unknown:
        raise ValueError(f"interactions.classes {unknown} are not class ids 0…{setting.splits.num_classes - 1}.")
    order = np.random.default_rng(seed).permutation(len(setting.splits.test))
    chosen: dict[int, list[Sample]] = {c: [] for c in studied}
    for model in setting.models.values():
        model.eval()
    for index in order:
        if all(len(found) >= per_class for found in chosen.values()):
            break
        sample = setting.sample(int(index))
        if sample is None or sample.label not in chosen or len(chosen[sample.label]) >= per_class:
            continue
        if all(float(log_odds(setting.full_logits(sample, m), sample.label)[0]) > 0 for m in setting.models.values()):
            chosen[sample.label].append(sample)
    samples = [s for found in chosen.values() for s in found]
    if not samples:
        raise ValueError(
            "no test input is classified correctly (with p > 0.5) by every model; train the models longer "
            "(train.epochs) or check the labels."
        )
    return samples


def image_setting(
    models: dict[str, nn.Module],
    splits: DatasetSplits,
    grid: tuple[int, int],
    region: tuple[int, int, int, int] | None,
    baseline: str | float,
    background_kept: bool,
) -> Setting:
    """Grid-cell players over ``region`` of every test image; ``black`` baseline = the smallest training pixel."""
    image = torch.as_tensor(splits.test.dataset[0][0])
    height, width = image.shape[-2:]
    players = grid_players(height, width, grid[0], grid[1], region)
    if baseline == "black":
        count = min(len(splits.train), 512)
        value: float = float(min(torch.as_tensor(splits.train.dataset[i][0]).min() for i in range(count)))
    else:
        value = 0.0 if baseline == "zero" else float(baseline)
    return Setting("image", models, splits, value, players, background_kept)


def tabular_setting(models: dict[str, nn.Module], splits: DatasetSplits, baseline: str) -> Setting:
    """Column players of a standardised table; ``mean`` baseline = 0 (the training mean), ``zero`` = the value
    zero in the table's own units."""
    mean, std = np.asarray(splits.info["mean"]), np.asarray(splits.info["std"])
    value = torch.zeros(len(mean)) if baseline == "mean" else torch.as_tensor(-mean / std, dtype=torch.float32)
    return Setting("tabular", models, splits, value, feature_names=list(splits.info["features"]))


def text_setting(
    models: dict[str, nn.Module], splits: DatasetSplits, tokenizer: Any, words: tuple[int, int], embedding: str | None
) -> Setting:
    """Word players of test sentences with ``words`` = (min, max) words; masked words take the pad embedding."""
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError("word players need a fast tokenizer (word_ids()); save the model's tokenizer as a fast one.")
    return Setting("text", models, splits, tokenizer=tokenizer, words=words, embedding=embedding)
