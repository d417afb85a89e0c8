"""Players, masks and maskers (spec §1): which input variables are kept on each of the 2^n masked inputs.

Mask k is the subset S whose n-bit binary form has player 0 as the most significant bit (k = 0 is ∅, the last
is N), the authors' order, so saved arrays stay interchangeable with theirs. A masker turns a batch of boolean
masks into the model's logits on the masked inputs: tabular columns, image cells or segments, or the words of a
tokenized sentence (whose embedding rows are replaced through :mod:`ndg_pipeline.probe`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from ndg_pipeline.batches import logits_of, to_device
from ndg_pipeline.probe import Site, probing

MAX_PLAYERS = 20


def check_players(n: int) -> int:
    """Refuse n < 1 or n > MAX_PLAYERS before 2^n masked inputs are built."""
    if n < 1:
        raise ValueError("there are no players: give at least one input variable (column, cell or word).")
    if n > MAX_PLAYERS:
        raise ValueError(
            f"{n} players would need 2^{n} = {2**n:,} masked inputs per sample; at most {MAX_PLAYERS} are allowed. "
            "Use fewer players: a coarser image grid, fewer table columns, shorter sentences."
        )
    return n


def subset_masks(n: int) -> np.ndarray:
    """All 2^n subsets as a bool array [2^n, n] in the authors' order (player 0 = most significant bit)."""
    check_players(n)
    index = np.arange(1 << n, dtype=np.int64)[:, None]
    return ((index >> (n - 1 - np.arange(n))) & 1).astype(bool)


def subset_sizes(n: int) -> np.ndarray:
    """|S| (the order) of every subset index k < 2^n."""
    index = np.arange(1 << n, dtype=np.int64)
    return sum(((index >> bit) & 1 for bit in range(n)), np.zeros(1 << n, dtype=np.int64))


def subset_index(players: Sequence[int], n: int) -> int:
    """The index of the subset holding ``players``."""
    return sum(1 << (n - 1 - int(p)) for p in set(players))


def players_of(index: int, n: int) -> list[int]:
    """The players of subset ``index``, ascending."""
    return [p for p in range(n) if (int(index) >> (n - 1 - p)) & 1]


class Masker(Protocol):
    """Turns a batch of masks [B, n] (bool) into the model's logits [B, C] on those masked inputs."""

    n_players: int

    def logits(self, model: nn.Module, masks: torch.Tensor) -> torch.Tensor: ...


def _as_tensor(value: Any, like: torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(value, dtype=like.dtype, device=like.device)


def finite_baseline(baseline: torch.Tensor) -> torch.Tensor:
    """Refuse a baseline with NaN or inf (every masked input would carry it), naming the first bad element."""
    bad = torch.nonzero(~torch.isfinite(baseline.detach()).reshape(-1))
    if len(bad):
        raise ValueError(
            f"the baseline is {baseline.detach().reshape(-1)[bad[0, 0]].item()} at element {int(bad[0, 0])}: a "
            "masked input would carry it; give a finite baseline (e.g. black, zero or the training mean)."
        )
    return baseline


@dataclass
class TabularMasker:
    """One player per column of a table row ``x`` [n]; masked columns take ``baseline`` (zero or the training
    mean, a scalar or a row [n])."""

    x: torch.Tensor
    baseline: torch.Tensor | float = 0.0

    def __post_init__(self) -> None:
        self.x = torch.as_tensor(self.x, dtype=torch.float32).flatten()
        self.baseline = finite_baseline(_as_tensor(self.baseline, self.x).expand_as(self.x))
        self.n_players = check_players(self.x.numel())

    def with_baseline(self, baseline: torch.Tensor) -> TabularMasker:
        return TabularMasker(self.x, baseline)

    def inputs(self, masks: torch.Tensor) -> torch.Tensor:
        """The masked rows [B, n]."""
        keep = masks.to(self.x.device, torch.bool)
        return torch.where(keep, self.x, self.baseline.to(self.x.device))

    def logits(self, model: nn.Module, masks: torch.Tensor) -> torch.Tensor:
        device = next(model.parameters()).device
        self.x = self.x.to(device)
        return logits_of(model, self.inputs(masks.to(device)))


def grid_players(
    height: int, width: int, rows: int, columns: int, region: tuple[int, int, int, int] | None = None
) -> list[np.ndarray]:
    """``rows × columns`` rectangular cells (row-major) covering ``region`` = (top, left, bottom, right) of an
    image (the whole image by default); each player is the array of its flat pixel indices r·width + c."""
    top, left, bottom, right = region or (0, 0, height, width)
    if not (0 <= top < bottom <= height and 0 <= left < right <= width):
        raise ValueError(f"region {region} does not lie inside the {height}×{width} image (top, left, bottom, right).")
    if rows > bottom - top or columns > right - left:
        raise ValueError(f"a {rows}×{columns} grid has empty cells in a {bottom - top}×{right - left} region.")
    row_edges = np.linspace(top, bottom, rows + 1).round().astype(int)
    column_edges = np.linspace(left, right, columns + 1).round().astype(int)
    players = []
    for r in range(rows):
        for c in range(columns):
            rr, cc = np.meshgrid(
                np.arange(row_edges[r], row_edges[r + 1]),
                np.arange(column_edges[c], column_edges[c + 1]),
                indexing="ij",
            )
            players.append((rr * width + cc).ravel())
    return players


@dataclass
class ImageMasker:
    """Image players: each a set of flat pixel indices (grid cells or given segments) of ``image`` [C, H, W].

    Masked pixels take ``baseline`` (a number or an image); ``background`` pixels are always kept (by default
    every pixel outside all players, as in the authors' segment experiments; pass ``background_kept=False``
    to mask those with the baseline too).
    """

    image: torch.Tensor
    players: Sequence[np.ndarray]
    baseline: torch.Tensor | float = 0.0
    background_kept: bool = True
    _maps: torch.Tensor = field(init=False, repr=False)
    _background: torch.Tensor = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.image = torch.as_tensor(self.image, dtype=torch.float32)
        if self.image.dim() != 3:
            raise ValueError(f"an image masker needs one image [C, H, W]; got shape {tuple(self.image.shape)}.")
        self.n_players = check_players(len(self.players))
        pixels = self.image.shape[1] * self.image.shape[2]
        maps = torch.zeros(self.n_players, pixels)
        for player, indices in enumerate(self.players):
            indices = np.asarray(indices, dtype=np.int64).ravel()
            if indices.size == 0 or indices.min() < 0 or indices.max() >= pixels:
                raise ValueError(f"player {player} has no pixels or pixels outside the image ({pixels} pixels).")
            maps[player, indices] = 1.0
        self._maps = maps
        self._background = (maps.sum(dim=0) == 0) & self.background_kept
        self.baseline = finite_baseline(_as_tensor(self.baseline, self.image).expand_as(self.image))

    def with_baseline(self, baseline: torch.Tensor) -> ImageMasker:
        return ImageMasker(self.image, self.players, baseline, self.background_kept)

    def inputs(self, masks: torch.Tensor) -> torch.Tensor:
        """The masked images [B, C, H, W]."""
        device = self.image.device
        kept = (masks.to(device, torch.float32) @ self._maps.to(device)) > 0
        kept = (kept | self._background.to(device)).view(masks.shape[0], 1, *self.image.shape[1:])
        return torch.where(kept, self.image, self.baseline.to(device))

    def logits(self, model: nn.Module, masks: torch.Tensor) -> torch.Tensor:
        device = next(model.parameters()).device
        self.image = self.image.to(device)
        return logits_of(model, self.inputs(masks.to(device)))


def input_embedding_path(model: nn.Module) -> str:
    """The module path of a transformers model's input (word) embedding, from ``get_input_embeddings()``."""
    get = getattr(model, "get_input_embeddings", None)
    embedding = get() if callable(get) else None
    for name, module in model.named_modules():
        if module is embedding and name:
            return name
    raise ValueError(
        f"{type(model).__name__} has no get_input_embeddings(); pass the embedding module's path (as in "
        "model.named_modules()) explicitly."
    )


@dataclass
class TokenMasker:
    """Word players of one tokenized sentence: ``words[i]`` lists the token positions of word i.

    A masked word's token embeddings are replaced by ``baseline`` (by default the pad token's embedding) with a
    write at ``Site(embedding, "all")`` through :func:`ndg_pipeline.probe.probing`; tokens in no word (e.g.
    [CLS], [SEP]) are always kept, and position embeddings, added later, are untouched.
    """

    inputs_: dict[str, torch.Tensor]
    words: Sequence[Sequence[int]]
    embedding: str
    baseline: torch.Tensor
    _maps: torch.Tensor = field(init=False, repr=False)

    def __post_init__(self) -> None:
        finite_baseline(torch.as_tensor(self.baseline))
        self.n_players = check_players(len(self.words))
        length = self.inputs_["input_ids"].shape[-1]
        maps = torch.zeros(self.n_players, length)
        for word, positions in enumerate(self.words):
            if not positions or min(positions) < 0 or max(positions) >= length:
                raise ValueError(f"word {word} has no tokens or tokens beyond the sentence's {length}.")
            maps[word, list(positions)] = 1.0
        self._maps = maps
        self._free = maps.sum(dim=0) == 0

    @classmethod
    def for_model(
        cls, model: nn.Module, inputs: dict[str, torch.Tensor], words: Sequence[Sequence[int]], pad_token_id: int
    ) -> TokenMasker:
        """A masker whose baseline is the model's embedding of the pad token."""
        path = input_embedding_path(model)
        table = dict(model.named_modules())[path]
        with torch.no_grad():
            pad = table(torch.tensor([pad_token_id], device=next(model.parameters()).device))[0]
        return cls(inputs, words, path, pad.detach().cpu())

    def with_baseline(self, baseline: torch.Tensor) -> TokenMasker:
        return TokenMasker(self.inputs_, self.words, self.embedding, baseline)

    def logits(self, model: nn.Module, masks: torch.Tensor) -> torch.Tensor:
        device = next(model.parameters()).device
        batch = masks.shape[0]
        kept = ((masks.to(device, torch.float32) @ self._maps.to(device)) > 0) | self._free.to(device)
        baseline = self.baseline.to(device)

        def replace(values: torch.Tensor) -> torch.Tensor:
            return torch.where(kept.unsqueeze(-1), values, baseline.to(values.dtype))

        inputs = {key: value.reshape(1, -1).expand(batch, -1) for key, value in self.inputs_.items()}
        with probing(model, writes={Site(self.embedding, "all"): replace}) as probe:
            return probe.forward(to_device(inputs, device))


def words_of(word_ids: Sequence[int | None], max_words: int | None = None) -> list[list[int]]:
    """Token positions per word from a fast tokenizer's ``word_ids()`` (None = special token, in no word)."""
    groups: dict[int, list[int]] = {}
    for position, word in enumerate(word_ids):
        if word is not None:
            groups.setdefault(word, []).append(position)
    words = [groups[w] for w in sorted(groups)]
    if max_words is not None and len(words) > max_words:
        raise ValueError(f"the sentence has {len(words)} words; at most {max_words} are players.")
    return words


def cells_outline(players: Sequence[np.ndarray], width: int) -> list[tuple[int, int, int, int]]:
    """The bounding box (top, left, bottom, right), exclusive, of each player's pixels (for drawing)."""
    boxes = []
    for pixels in players:
        rows, columns = np.divmod(np.asarray(pixels), width)
        boxes.append((int(rows.min()), int(columns.min()), int(rows.max()) + 1, int(columns.max()) + 1))
    return boxes
