"""Maximum-entropy interventions: uniform inputs drawn in deep-ei's order (reference) or from a seeded generator.

The reference mode reproduces deep-ei 0.7.0 bit for bit on the CPU: its sample chunks (``MEMORY_LIMIT``), its
batches of ``batch_size`` (the torch CPU generator gives the same stream however a draw is split, so one draw per
chunk is enough), and its float32 arithmetic. Elementwise activations are the one place where batching changes
the numbers (torch's vectorised and scalar tails round differently), so they are applied batch by batch, in views
whose rows are deep-ei's batches, each call small enough to run on one thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from torch import nn

from ndg_pipeline.effective_information.topology import LayerMap

MEMORY_LIMIT = 100_000_000
"""deep-ei's chunking rule: one chunk while samples · max(n_in, n_out) ≤ this many floats."""

SERIAL_NUMEL = 32_768
"""torch runs an elementwise kernel on one thread below this many elements (its grain size)."""

BLOCK_FLOATS = 1 << 24
"""Default mode: inputs are drawn and evaluated in blocks of about this many floats (64 MB)."""


def chunk_sizes(samples: int, num_inputs: int, num_outputs: int, limit: int = MEMORY_LIMIT) -> Iterator[int]:
    """deep-ei's sample chunks (its ``_chunk_sizes``, quirks included)."""
    width = max(num_inputs, num_outputs)
    size = limit // width
    for _ in range(size, samples + 1, size):
        yield size
    if size > samples:
        yield samples
    remainder = samples % size
    if remainder and width * samples >= limit:
        yield remainder


def batch_sizes(samples: int, batch_size: int) -> list[int]:
    """deep-ei's batches of one chunk: full batches of ``batch_size``, then the remainder."""
    if batch_size > samples:
        return [samples]
    return [batch_size] * (samples // batch_size) + ([samples % batch_size] if samples % batch_size else [])


def _elementwise_by_batch(function: Callable[[torch.Tensor], torch.Tensor], y: torch.Tensor, sizes: list[int]):
    """``function`` applied as if called once per batch of ``sizes`` rows (same float32 rounding as deep-ei)."""
    out = torch.empty_like(y)
    start = 0
    for size in sorted(set(sizes), key=sizes.index):
        count = sizes.count(size)
        width = size * y[0].numel()
        block = y[start : start + count * size].reshape(count, width)
        padded = torch.empty((count, width + 1), dtype=y.dtype, device=y.device)
        padded[:, :width] = block  # rows one element apart in memory: each row is its own inner loop, like a call
        rows = max(1, (SERIAL_NUMEL - 1) // width)
        target = out[start : start + count * size].view(count, width)
        for row in range(0, count, rows):
            target[row : row + rows] = function(padded[row : row + rows, :width])
        start += count * size
    return out


def evaluate(g: LayerMap, x: torch.Tensor, sizes: list[int] | None = None) -> torch.Tensor:
    """g(x) flattened to (samples, n_out); with ``sizes``, elementwise steps round as deep-ei's batches would."""
    with torch.no_grad():
        y = x
        for module in g.modules:
            elementwise = not isinstance(module, nn.Linear | nn.Flatten)
            y = _elementwise_by_batch(module, y, sizes) if elementwise and sizes is not None else module(y)
        return y.reshape(len(x), -1)


@dataclass
class Sampler:
    """Where uniform inputs come from: the global torch RNG in deep-ei's order, or an own seeded generator."""

    reference: bool
    device: torch.device
    batch_size: int = 20
    generator: torch.Generator | None = None

    @classmethod
    def create(cls, reference: bool, device: torch.device, batch_size: int, seed: int) -> Sampler:
        generator = None if reference else torch.Generator(device=device).manual_seed(seed)
        return cls(reference, device, batch_size, generator)

    def uniform(self, shape: tuple[int, ...], low: float, high: float) -> torch.Tensor:
        """``(high − low) · U + low`` in float32, U uniform on [0, 1), as deep-ei writes it."""
        return torch.rand(shape, device=self.device, generator=self.generator).mul_(high - low).add_(low)

    def blocks(self, samples: int, g: LayerMap) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """(inputs, outputs) flattened, in blocks: deep-ei's chunks in reference mode, else ~64 MB blocks."""
        if self.reference:
            for chunk in chunk_sizes(samples, g.n_in, g.n_out):
                x = self.uniform((chunk, *g.in_shape), *g.in_range)
                yield x.reshape(chunk, -1), evaluate(g, x, batch_sizes(chunk, self.batch_size))
            return
        block = max(1, BLOCK_FLOATS // max(g.n_in, g.n_out))
        for start in range(0, samples, block):
            x = self.uniform((min(block, samples - start), *g.in_shape), *g.in_range)
            yield x.reshape(len(x), -1), evaluate(g, x)

    def one_hot_blocks(
        self, samples: int, g: LayerMap, silent: float = 0.0
    ) -> Iterator[tuple[int, torch.Tensor, torch.Tensor]]:
        """For the sensitivity: (first input A, x_A of shape (a, samples), outputs (a, samples, n_out)) per block of
        inputs; each input A perturbed alone, every other input held at ``silent``."""
        per_block = max(1, BLOCK_FLOATS // (samples * max(g.n_in, g.n_out)))
        sizes = batch_sizes(samples, self.batch_size) if self.reference else None
        for first in range(0, g.n_in, per_block):
            count = min(per_block, g.n_in - first)
            values = self.uniform((count, samples), *g.in_range)
            x = torch.full((count, samples, g.n_in), silent, device=self.device)
            x[torch.arange(count), :, torch.arange(first, first + count)] = values
            flat = x.reshape(count * samples, *g.in_shape)
            y = evaluate(g, flat, None if sizes is None else sizes * count)
            yield first, values, y.reshape(count, samples, g.n_out)
