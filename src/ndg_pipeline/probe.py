"""Read and write any model at named sites: the one hook mechanism every lens uses.

A :class:`Site` is a module path as in ``model.named_modules()``, the stream read there (the module's output, or
its first positional input) and a position selector for sequence outputs. :func:`probing` installs forward hooks
for a set of reads and writes and always removes them; :class:`Probe` runs batches through the hooked model.

Position selectors, for a (batch, seq, features) tensor: ``first`` takes token 0 ([CLS] / ``<s>``), ``last`` the
last non-padding token, ``mean`` the mean over non-padding tokens (readable, not writable), ``all`` the tensor
unchanged. A 2-D (batch, features) tensor is its own selection for ``first``, ``last`` and ``mean``; a larger one
(a convolution's (batch, channels, h, w)) is flattened per input, and written back in that same order.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import torch
from torch import nn

from ndg_pipeline.batches import attention_mask_of, logits_of

Position = Literal["first", "last", "mean", "all"]
Stream = Literal["output", "input"]
POSITIONS: tuple[str, ...] = get_args(Position)
STREAMS: tuple[str, ...] = get_args(Stream)
WRITABLE_POSITIONS: tuple[str, ...] = ("first", "last", "all")

Write = Callable[[torch.Tensor], torch.Tensor | None]
"""A write receives the selected values and returns their replacement (same shape), or None to leave them."""


@dataclass(frozen=True)
class Site:
    """Where a model is read or written: ``module`` (dotted path), ``stream`` and ``position``."""

    module: str
    position: Position = "all"
    stream: Stream = "output"

    def __post_init__(self) -> None:
        if self.position not in POSITIONS:
            raise ValueError(f"position {self.position!r} is unknown; choose one of {', '.join(POSITIONS)}.")
        if self.stream not in STREAMS:
            raise ValueError(f"stream {self.stream!r} is unknown; choose one of {', '.join(STREAMS)}.")

    def check_writable(self) -> None:
        """Refuse a site whose selection cannot be written back (a mean over tokens has no single token)."""
        if self.position not in WRITABLE_POSITIONS:
            raise ValueError(
                f"position {self.position!r} cannot be written back: a mean over tokens has no single token to "
                f"set. Use one of {', '.join(WRITABLE_POSITIONS)} (record.position) to intervene."
            )


def resolve_module(model: nn.Module, path: str) -> nn.Module:
    """The submodule named ``path`` (as in ``model.named_modules()``); the closest names when it is absent."""
    modules = dict(model.named_modules())
    if path in modules and path != "":
        return modules[path]
    names = [name for name in modules if name]
    hint = difflib.get_close_matches(path, names, n=8, cutoff=0.3) or names[:20]
    raise ValueError(
        f"layer {path!r} is not a module of {type(model).__name__}. Closest existing names: {', '.join(hint)}. "
        "Set the layer to one of the names printed by model.named_modules()."
    )


def check_sites(model: nn.Module, paths: Mapping[str, str]) -> None:
    """Refuse, with the closest names, any alias → module path that ``model`` does not have."""
    for alias, path in paths.items():
        try:
            resolve_module(model, path)
        except ValueError as error:
            raise ValueError(f"layer {alias!r}: {error}") from None


def _last_tokens(tensor: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
    """Per input, the index of its last non-padding token (the last token without a mask)."""
    if attention_mask is None:
        return torch.full((tensor.shape[0],), tensor.shape[1] - 1, dtype=torch.long, device=tensor.device)
    return attention_mask.to(tensor.device).sum(dim=1).clamp(min=1) - 1


def select(tensor: torch.Tensor, position: Position, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
    """The values of ``tensor`` a site with ``position`` sees (see the module docstring)."""
    if position == "all":
        return tensor
    if tensor.dim() == 2:
        return tensor
    if tensor.dim() != 3:
        return tensor.flatten(start_dim=1)
    if position == "first":
        return tensor[:, 0]
    rows = torch.arange(tensor.shape[0], device=tensor.device)
    if position == "last":
        return tensor[rows, _last_tokens(tensor, attention_mask)]
    mask = (
        torch.ones(tensor.shape[:2], device=tensor.device)
        if attention_mask is None
        else attention_mask.to(tensor.device)
    )
    weights = mask.unsqueeze(-1).to(tensor.dtype)
    return (tensor * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1)


def place(
    tensor: torch.Tensor, values: torch.Tensor, position: Position, attention_mask: torch.Tensor | None = None
) -> torch.Tensor:
    """``tensor`` with its ``position`` selection replaced by ``values``: the inverse of :func:`select`."""
    Site("", position).check_writable()
    selected = select(tensor, position, attention_mask)
    if values.shape != selected.shape:
        raise ValueError(f"a write returned shape {tuple(values.shape)}; the site holds {tuple(selected.shape)}.")
    values = values.to(tensor.device, tensor.dtype)
    if position == "all" or tensor.dim() == 2:
        return values
    if tensor.dim() != 3:
        return values.reshape(tensor.shape)
    rows = torch.arange(tensor.shape[0], device=tensor.device)
    tokens = torch.zeros_like(rows) if position == "first" else _last_tokens(tensor, attention_mask)
    written = tensor.clone()
    written[rows, tokens] = values
    return written


def _first_tensor(value: Any) -> torch.Tensor:
    """The tensor a module returned or received (the first element of a tuple or list)."""
    return value[0] if isinstance(value, tuple | list) else value


def _replace_first(value: Any, tensor: torch.Tensor) -> Any:
    """``value`` with its (first) tensor replaced, tuples and lists rebuilt."""
    if isinstance(value, tuple):
        return (tensor, *value[1:])
    if isinstance(value, list):
        return [tensor, *value[1:]]
    return tensor


@dataclass
class Probe:
    """A model with hooks installed: run batches with :meth:`forward`, take what the reads saw with :meth:`take`."""

    model: nn.Module
    attention_mask: torch.Tensor | None = None
    captured: dict[str, list[torch.Tensor]] = field(default_factory=dict)

    def forward(self, inputs: Any) -> torch.Tensor:
        """The logits of one batch (a tensor or a tokenized dict), with every read and write applied."""
        self.attention_mask = attention_mask_of(inputs)
        return logits_of(self.model, inputs)

    def take(self, name: str) -> torch.Tensor:
        """What read ``name`` saw since the last take, batches concatenated, and forget it."""
        chunks, self.captured[name] = self.captured[name], []
        if not chunks:
            raise ValueError(f"read {name!r} saw nothing: run a batch with Probe.forward first.")
        return torch.cat(chunks)


def _hook(site: Site, probe: Probe, write: Write | None, read: str | None, detach_to: torch.device | None):
    """One hook function for ``site``: apply the write (if any) to the selection, then record it (if read)."""

    def apply(value: Any) -> Any:
        tensor = _first_tensor(value)
        changed = None
        if write is not None:
            new = write(select(tensor, site.position, probe.attention_mask))
            if new is not None:
                changed = place(tensor, new, site.position, probe.attention_mask)
        if read is not None:
            seen = select(tensor if changed is None else changed, site.position, probe.attention_mask).detach()
            probe.captured[read].append(seen if detach_to is None else seen.to(detach_to))
        return None if changed is None else _replace_first(value, changed)

    if site.stream == "output":
        return lambda _module, _inputs, output: apply(output)

    def pre_hook(_module: nn.Module, args: tuple) -> tuple | None:
        return apply(args)

    return pre_hook


@contextmanager
def probing(
    model: nn.Module,
    reads: Mapping[str, Site] | None = None,
    writes: Mapping[Site, Write] | None = None,
    reads_to: str | torch.device | None = "cpu",
) -> Iterator[Probe]:
    """Install the reads (name → site) and writes (site → function) on ``model`` for the ``with`` block.

    Every site is checked before any hook is installed, and every hook is removed on exit, also on errors.
    At a site both written and read, the read sees the written values. Reads are detached and moved to
    ``reads_to`` (None: left where they are).
    """
    reads, writes = dict(reads or {}), dict(writes or {})
    for site in writes:
        site.check_writable()
    sites = {*reads.values(), *writes}
    modules = {site: resolve_module(model, site.module) for site in sites}
    probe = Probe(model, captured={name: [] for name in reads})
    target = None if reads_to is None else torch.device(reads_to)
    handles = []
    try:
        for site, module in modules.items():
            names = [name for name, read_site in reads.items() if read_site == site] or [None]
            for index, name in enumerate(names):
                hook = _hook(site, probe, writes.get(site) if index == 0 else None, name, target)
                register = module.register_forward_hook if site.stream == "output" else module.register_forward_pre_hook
                handles.append(register(hook))
        yield probe
    finally:
        for handle in handles:
            handle.remove()
