"""deep-ei's measures with its API: ``ei``, ``ei_parts``, ``ei_parts_matrix``, ``sensitivity``,
``sensitivity_matrix``, ``vector_and_pairwise_ei``.

``reference=True`` reproduces deep-ei 0.7.0 (CPU, float32, after the same ``torch.manual_seed``): its sampling
order, its two binning conventions, the 0.01-bit floor of ``ei_parts`` and its stopping rules, with its crashes
fixed (an empty contingency table is 0 bits; EI_parts = 0 counts as converged). The default mode is the clean one:
one binning convention (out-of-range values clipped into the edge bins), no floor, its own generator seeded by
``seed``, and one convergence rule for every automatic estimate:

    start at 10 000 samples and double the total each round; stop at the first round whose estimate differs from
    the previous one by less than ``threshold`` bits, or at ``max_samples`` (with a warning).

All results are in bits. When ``bins**n_in`` exceeds the samples, almost every input tuple is unique and the
whole-layer EI tends to H(binned outputs) ≤ log2(samples): :class:`SampleCapWarning` says so.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import networkx as nx
import numpy as np
import torch
from torch import nn

from ndg_pipeline.device import resolve_device
from ndg_pipeline.effective_information import binning
from ndg_pipeline.effective_information.estimators import pairwise_mutual_information, vector_mutual_information
from ndg_pipeline.effective_information.sampling import Sampler
from ndg_pipeline.effective_information.topology import LayerMap, layer_map

FIRST_ROUND = 10_000
"""Automatic sample counts start here and double (deep-ei's schedule)."""

MAX_SAMPLES = 1 << 24
"""Default mode: the automatic schedule stops here (about 16.8 M samples) even if not converged, with a warning."""

REFERENCE_FLOOR = 0.01
"""deep-ei's ``ei_parts`` returns 0 below this many bits (reference mode only)."""

BITS_TOLERANCE = 0.05
RELATIVE_TOLERANCE = 0.02
"""An :class:`Estimate` is converged when its N/2 → N change is within max(0.05 bit, 2 % of the value)."""

Activation = Callable[[torch.Tensor], torch.Tensor] | None
Layer = nn.Module | str


class SampleCapWarning(UserWarning):
    """The whole-layer EI is capped by the sample count (bins**n_in ≫ samples): it estimates H(Y), ≤ log2 N."""


class ConvergenceWarning(UserWarning):
    """The automatic sample schedule reached ``max_samples`` before its stopping rule held."""


def whole_ei_is_capped(n_in: int, in_bins: int, samples: int) -> bool:
    """Whether ``in_bins**n_in`` input cells exceed ``samples``, so the whole-layer estimate is capped at log2 N."""
    return n_in * math.log2(in_bins) > math.log2(max(samples, 1))


def _prepare(
    layer: Layer,
    topology: nx.DiGraph,
    in_layer: Layer | None,
    in_range,
    in_bins: int,
    out_range,
    out_bins: int,
    activation: Activation,
    device,
    reference: bool,
) -> tuple[LayerMap, torch.device]:
    """g with its ranges, on the device the measure runs on (the CPU in reference mode unless one is given)."""
    target = torch.device("cpu") if reference and device in (None, "auto") else resolve_device(device)
    g = layer_map(topology, layer, in_layer, in_range, out_range, activation)
    if g.in_range[0] >= g.in_range[1] or g.out_range[0] >= g.out_range[1]:
        raise ValueError(f"ranges must have lower < upper; got in_range={g.in_range}, out_range={g.out_range}.")
    parameters = [p for m in g.modules if isinstance(m, nn.Module) for p in m.parameters()]
    for module in g.modules:
        for name, parameter in module.named_parameters() if isinstance(module, nn.Module) else ():
            if not bool(torch.isfinite(parameter).all()):
                raise ValueError(
                    f"{type(module).__name__}.{name} on the measured path holds NaN or inf values: every estimate "
                    "would be meaningless. Measure a model with finite weights and biases."
                )
    if any(p.device != target for p in parameters):
        g.modules = [copy.deepcopy(m).to(target) if isinstance(m, nn.Module) else m for m in g.modules]
    return g, target


def _whole(value, name: str) -> int:
    """``value`` as a positive int; a float is fine when it is whole (1e4), anything else is refused by name."""
    if not binning.is_whole(value) or int(value) < 1:
        raise ValueError(f"{name}={value!r}: give a positive whole number (1e4 is fine, 1.5e3 + 0.5 is not).")
    return int(value)


def _check_samples(samples: int | float | None, name: str = "samples") -> int | None:
    """``samples`` as an int, or None for the automatic schedule."""
    return None if samples is None else _whole(samples, name)


def _check_run(
    batch_size: int, threshold: float, samples: int | None, reference: bool, max_samples: int | None
) -> tuple[int, int | None]:
    """Refuse a batch size below 1 and an automatic schedule that could never stop (threshold ≤ 0 with no
    ``max_samples``; reference mode has none); returns the batch size and ``max_samples`` as ints."""
    batch_size = _whole(batch_size, "batch_size")
    max_samples = None if max_samples is None else _whole(max_samples, "max_samples")
    if samples is None and not threshold > 0 and (reference or max_samples is None):
        raise ValueError(
            f"threshold={threshold!r} with samples=None never stops: give threshold > 0, a number of samples"
            + ("." if reference else ", or max_samples.")
        )
    return batch_size, max_samples


def _draw(sampler: Sampler, g: LayerMap, samples: int, in_bins: int, out_bins: int) -> dict[str, torch.Tensor]:
    """Bins of ``samples`` perturbed inputs and their outputs (pairwise bins, and the whole-layer bins when they
    differ: reference mode), and per block the count of outputs outside ``out_range``."""
    parts: dict[str, list[torch.Tensor]] = {"px": [], "py": [], "vx": [], "vy": [], "outside": []}
    pair_bins = binning.reference_pairwise if sampler.reference else binning.clipped
    low, high = g.out_range
    for x, y in sampler.blocks(samples, g):
        parts["px"].append(pair_bins(x, g.in_range, in_bins))
        parts["py"].append(pair_bins(y, g.out_range, out_bins))
        parts["outside"].append(((y < low) | (y > high)).sum().reshape(1).cpu())
        if sampler.reference:
            parts["vx"].append(binning.reference_vector(x, g.in_range, in_bins))
            parts["vy"].append(binning.reference_vector(y, g.out_range, out_bins))
    return {key: torch.cat(values) for key, values in parts.items() if values}


def _merge(old: dict[str, torch.Tensor] | None, new: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return new if old is None else {key: torch.cat([old[key], new[key]]) for key in new}


def _head(bins: dict[str, torch.Tensor], rows: int) -> dict[str, torch.Tensor]:
    """The first ``rows`` samples of drawn bins."""
    return {key: value[:rows] for key, value in bins.items() if key != "outside"}


def _vector_ei(bins: dict[str, torch.Tensor], in_bins: int, out_bins: int) -> float:
    """Whole-layer EI of drawn bins; in reference mode only rows with no bin above the range count (deep-ei)."""
    if "vx" not in bins:
        return vector_mutual_information(bins["px"], bins["py"])
    return vector_mutual_information(bins["vx"], bins["vy"], in_bins, out_bins)


def _pairwise(bins: dict[str, torch.Tensor], in_bins: int, out_bins: int) -> torch.Tensor:
    return pairwise_mutual_information(bins["px"], bins["py"], in_bins, out_bins)


def _warn_if_capped(g: LayerMap, in_bins: int, samples: int) -> None:
    if whole_ei_is_capped(g.n_in, in_bins, samples):
        warnings.warn(
            f"whole-layer EI of a {g.n_in}-input layer at {in_bins} bins has {in_bins}^{g.n_in} input cells but "
            f"{samples} samples: the estimate tends to H(binned outputs) ≤ log2({samples}) = "
            f"{math.log2(samples):.2f} bits. Use fewer bins or inputs, or read EI_parts instead.",
            SampleCapWarning,
            stacklevel=3,
        )


def _auto(
    sampler: Sampler,
    g: LayerMap,
    in_bins: int,
    out_bins: int,
    estimate: Callable[[dict[str, torch.Tensor]], float],
    converged: Callable[[list[float], int, int], bool],
    max_samples: int | None,
) -> tuple[dict[str, torch.Tensor], list[float], int]:
    """deep-ei's schedule: 10 000 samples, then add as many as drawn so far, until ``converged(estimates, added,
    total)`` or (default mode) ``max_samples``. Returns the bins, the estimates and the total."""
    bins, estimates, added, total = None, [], FIRST_ROUND, FIRST_ROUND
    while True:
        bins = _merge(bins, _draw(sampler, g, added, in_bins, out_bins))
        estimates.append(estimate(bins))
        if converged(estimates, added, total):
            return bins, estimates, total
        if not sampler.reference and max_samples is not None and total * 2 > max_samples:
            change = f"{estimates[-1] - estimates[-2]:+.4f}" if len(estimates) > 1 else "unknown"
            warnings.warn(
                f"the estimate {estimates[-1]:.4f} bits had not converged at {total} samples (max_samples); last "
                f"change {change} bits.",
                ConvergenceWarning,
                stacklevel=3,
            )
            return bins, estimates, total
        added = total
        total += added


def _absolute_rule(threshold: float) -> Callable[[list[float], int, int], bool]:
    """|EI_k − EI_{k−1}| < threshold bits (deep-ei's ``ei`` rule, both modes)."""
    return lambda estimates, _added, _total: len(estimates) >= 2 and abs(estimates[-1] - estimates[-2]) < threshold


def _relative_rule(threshold: float, signed: bool) -> Callable[[list[float], int, int], bool]:
    """deep-ei's ``ei_parts`` rule, the change predicted for one more doubling relative to the estimate:
    (EI_{k−1} − EI_k)/added·total/EI_k ≤ threshold. deep-ei (``signed``) stops at once when EI rises; the default
    mode takes the change's magnitude. EI_k = 0 counts as converged (deep-ei divides by it)."""

    def converged(estimates: list[float], added: int, total: int) -> bool:
        if len(estimates) < 2:
            return False
        if estimates[-1] == 0.0:
            return True
        change = (estimates[-2] - estimates[-1]) / added * total
        return (change if signed else abs(change)) / estimates[-1] <= threshold

    return converged


def ei(
    layer: Layer,
    topology: nx.DiGraph,
    threshold: float = 0.05,
    samples: int | None = None,
    batch_size: int = 20,
    in_layer: Layer | None = None,
    in_range: tuple[float, float] | None = None,
    in_bins: int = 64,
    out_range: tuple[float, float] | None = None,
    out_bins: int = 64,
    activation: Activation = None,
    device: str | torch.device | None = "auto",
    *,
    reference: bool = False,
    seed: int = 0,
    max_samples: int | None = MAX_SAMPLES,
) -> float:
    """Whole-layer EI = I(X; Y) of ``layer`` (from ``in_layer``) under uniform interventions, in bits.

    ``samples=None`` uses the automatic schedule, stopping when two successive estimates differ by less than
    ``threshold`` bits (deep-ei's absolute rule, both modes).
    """
    samples = _check_samples(samples)
    batch_size, max_samples = _check_run(batch_size, threshold, samples, reference, max_samples)
    in_bins, out_bins = binning.check_bins(in_bins, "in_bins"), binning.check_bins(out_bins, "out_bins")
    g, target = _prepare(
        layer, topology, in_layer, in_range, in_bins, out_range, out_bins, activation, device, reference
    )
    sampler = Sampler.create(reference, target, batch_size, seed)
    if samples is None:
        estimate = lambda bins: _vector_ei(bins, in_bins, out_bins)  # noqa: E731
        _, estimates, total = _auto(sampler, g, in_bins, out_bins, estimate, _absolute_rule(threshold), max_samples)
        _warn_if_capped(g, in_bins, total)
        return estimates[-1]
    _warn_if_capped(g, in_bins, samples)
    return _vector_ei(_draw(sampler, g, samples, in_bins, out_bins), in_bins, out_bins)


def _parts_matrix(
    g: LayerMap,
    sampler: Sampler,
    samples: int | None,
    threshold: float,
    in_bins: int,
    out_bins: int,
    max_samples: int | None,
) -> np.ndarray:
    """The n_in × n_out matrix of I(x_A; y_B), all inputs perturbed together, on fixed or automatic samples."""
    if samples is not None:
        return _pairwise(_draw(sampler, g, samples, in_bins, out_bins), in_bins, out_bins).cpu().numpy()
    rule = _relative_rule(threshold, signed=sampler.reference)
    estimate = lambda bins: float(_pairwise(bins, in_bins, out_bins).sum())  # noqa: E731
    bins, _, _ = _auto(sampler, g, in_bins, out_bins, estimate, rule, max_samples)
    return _pairwise(bins, in_bins, out_bins).cpu().numpy()


def ei_parts_matrix(
    layer: Layer,
    topology: nx.DiGraph,
    samples: int | None = None,
    batch_size: int = 20,
    in_layer: Layer | None = None,
    in_range: tuple[float, float] | None = None,
    in_bins: int = 64,
    out_range: tuple[float, float] | None = None,
    out_bins: int = 64,
    activation: Activation = None,
    device: str | torch.device | None = "auto",
    *,
    reference: bool = False,
    seed: int = 0,
    threshold: float = 0.05,
    max_samples: int | None = MAX_SAMPLES,
) -> np.ndarray:
    """The n_in × n_out array of I(x_A; y_B) in bits (rows: flattened inputs), no floor; its sum is EI_parts on the
    same samples. ``samples=None`` (a crash in deep-ei) uses ``ei_parts``'s automatic schedule."""
    samples = _check_samples(samples)
    batch_size, max_samples = _check_run(batch_size, threshold, samples, reference, max_samples)
    in_bins, out_bins = binning.check_bins(in_bins, "in_bins"), binning.check_bins(out_bins, "out_bins")
    g, target = _prepare(
        layer, topology, in_layer, in_range, in_bins, out_range, out_bins, activation, device, reference
    )
    sampler = Sampler.create(reference, target, batch_size, seed)
    return _parts_matrix(g, sampler, samples, threshold, in_bins, out_bins, max_samples)


def ei_parts(
    layer: Layer,
    topology: nx.DiGraph,
    threshold: float = 0.05,
    samples: int | None = None,
    extrapolate: bool = False,
    batch_size: int = 20,
    in_layer: Layer | None = None,
    in_range: tuple[float, float] | None = None,
    in_bins: int = 64,
    out_range: tuple[float, float] | None = None,
    out_bins: int = 64,
    activation: Activation = None,
    device: str | torch.device | None = "auto",
    *,
    reference: bool = False,
    seed: int = 0,
    max_samples: int | None = MAX_SAMPLES,
) -> float:
    """EI_parts = Σ_(A,B) I(x_A; y_B) with every input perturbed together, in bits. ``threshold`` is deep-ei's
    relative one in both modes (the predicted change of one more doubling over the estimate; the default mode takes
    its magnitude); reference mode also returns 0 below 0.01 bit, the default mode has no floor."""
    if extrapolate:
        raise NotImplementedError(
            "extrapolate=True (deep-ei's power-law fit to 2 M samples) is not offered: give samples, or None for the "
            "automatic schedule."
        )
    samples = _check_samples(samples)
    batch_size, max_samples = _check_run(batch_size, threshold, samples, reference, max_samples)
    in_bins, out_bins = binning.check_bins(in_bins, "in_bins"), binning.check_bins(out_bins, "out_bins")
    g, target = _prepare(
        layer, topology, in_layer, in_range, in_bins, out_range, out_bins, activation, device, reference
    )
    sampler = Sampler.create(reference, target, batch_size, seed)
    total = float(_parts_matrix(g, sampler, samples, threshold, in_bins, out_bins, max_samples).sum())
    return 0.0 if reference and total < REFERENCE_FLOOR else total


def _sensitivity_matrices(
    g: LayerMap, sampler: Sampler, samples: int, in_bins: int, out_bins: int, silent: float, rows: tuple[int, ...]
) -> list[torch.Tensor]:
    """Sensitivity matrices on the first ``rows`` samples of each input's perturbation, one per entry of ``rows``."""
    pair_bins = binning.reference_pairwise if sampler.reference else binning.clipped
    results = [torch.zeros((g.n_in, g.n_out), dtype=torch.float64) for _ in rows]
    for first, values, outputs in sampler.one_hot_blocks(samples, g, silent):
        bx = pair_bins(values.T, g.in_range, in_bins)
        by = pair_bins(outputs.permute(1, 0, 2), g.out_range, out_bins)
        for result, count in zip(results, rows, strict=True):
            block = pairwise_mutual_information(bx[:count], by[:count], in_bins, out_bins)
            result[first : first + len(values)] = block.cpu()
    return results


def sensitivity_matrix(
    layer: Layer,
    topology: nx.DiGraph,
    samples: int = 500,
    batch_size: int = 20,
    in_layer: Layer | None = None,
    in_range: tuple[float, float] | None = None,
    in_bins: int = 64,
    out_range: tuple[float, float] | None = None,
    out_bins: int = 64,
    activation: Activation = None,
    device: str | torch.device | None = "auto",
    *,
    reference: bool = False,
    seed: int = 0,
    silent: float = 0.0,
) -> np.ndarray:
    """The n_in × n_out array of I(x_A; y_B) in bits with only input A perturbed, the others held at ``silent``
    (deep-ei: 0, whatever the range)."""
    if samples is None:
        raise ValueError("sensitivity needs a number of samples (deep-ei's default is 500).")
    samples = _check_samples(samples)
    batch_size, _ = _check_run(batch_size, 1.0, samples, reference, None)
    in_bins, out_bins = binning.check_bins(in_bins, "in_bins"), binning.check_bins(out_bins, "out_bins")
    g, target = _prepare(
        layer, topology, in_layer, in_range, in_bins, out_range, out_bins, activation, device, reference
    )
    sampler = Sampler.create(reference, target, batch_size, seed)
    return _sensitivity_matrices(g, sampler, samples, in_bins, out_bins, silent, (samples,))[0].numpy()


def sensitivity(
    layer: Layer,
    topology: nx.DiGraph,
    samples: int = 500,
    batch_size: int = 20,
    in_layer: Layer | None = None,
    in_range: tuple[float, float] | None = None,
    in_bins: int = 64,
    out_range: tuple[float, float] | None = None,
    out_bins: int = 64,
    activation: Activation = None,
    device: str | torch.device | None = "auto",
    *,
    reference: bool = False,
    seed: int = 0,
    silent: float = 0.0,
) -> float:
    """Sensitivity = Σ_(A,B) I(x_A; y_B) with only A perturbed (the sum of :func:`sensitivity_matrix`), in bits."""
    return float(
        sensitivity_matrix(
            layer, topology, samples, batch_size, in_layer, in_range, in_bins, out_range, out_bins, activation,
            device, reference=reference, seed=seed, silent=silent,
        ).sum()
    )  # fmt: skip


def vector_and_pairwise_ei(
    layer: Layer,
    topology: nx.DiGraph,
    samples: int | None = None,
    batch_size: int = 20,
    in_layer: Layer | None = None,
    in_range: tuple[float, float] | None = None,
    in_bins: int = 64,
    out_range: tuple[float, float] | None = None,
    out_bins: int = 64,
    activation: Activation = None,
    device: str | torch.device | None = "auto",
    *,
    reference: bool = False,
    seed: int = 0,
) -> tuple[float, float]:
    """(EI, EI_parts) on the same samples, in bits, no floor (deep-ei crashes without ``samples``; this says so)."""
    if samples is None:
        raise ValueError("vector_and_pairwise_ei needs samples: both estimates use the same fixed sample set.")
    samples = _check_samples(samples)
    batch_size, _ = _check_run(batch_size, 1.0, samples, reference, None)
    in_bins, out_bins = binning.check_bins(in_bins, "in_bins"), binning.check_bins(out_bins, "out_bins")
    g, target = _prepare(
        layer, topology, in_layer, in_range, in_bins, out_range, out_bins, activation, device, reference
    )
    _warn_if_capped(g, in_bins, samples)
    bins = _draw(Sampler.create(reference, target, batch_size, seed), g, samples, in_bins, out_bins)
    return _vector_ei(bins, in_bins, out_bins), float(_pairwise(bins, in_bins, out_bins).sum())


@dataclass(frozen=True)
class Estimate:
    """A plug-in estimate on N samples beside the same estimate on their first N/2.

    The plug-in bias of a mutual information falls as c/N (Miller–Madow: (K_xy − K_x − K_y + 1)/(2N ln 2) with K
    the occupied cells), so the N/2 → N change, c/(N/2) − c/N = c/N, estimates the bias left at N itself.
    """

    value: float
    half: float
    samples: int

    @property
    def change(self) -> float:
        """|estimate at N − estimate at N/2|, bits: the estimated bias left at N."""
        return abs(self.value - self.half)

    @property
    def converged(self) -> bool:
        """Whether the change is within max(0.05 bit, 2 % of the value)."""
        return self.change <= max(BITS_TOLERANCE, RELATIVE_TOLERANCE * abs(self.value))


@dataclass(frozen=True)
class LayerEstimates:
    """One layer's EI, EI_parts and sensitivity with their convergence checks, and the share of intervened outputs
    outside the output range (clipped into the edge bins, or dropped in reference mode)."""

    ei: Estimate | None
    ei_parts: Estimate
    sensitivity: Estimate
    outside_share: float
    in_range: tuple[float, float]
    out_range: tuple[float, float]


def layer_estimates(
    layer: Layer,
    topology: nx.DiGraph,
    samples: int,
    sensitivity_samples: int,
    *,
    whole: bool = True,
    in_layer: Layer | None = None,
    in_range: tuple[float, float] | None = None,
    out_range: tuple[float, float] | None = None,
    bins: int = 8,
    batch_size: int = 20,
    device: str | torch.device | None = "auto",
    reference: bool = False,
    seed: int = 0,
    silent: float = 0.0,
) -> LayerEstimates:
    """EI (when ``whole``) and EI_parts on the same ``samples``, sensitivity on ``sensitivity_samples`` per input,
    each with its N/2 → N check (:class:`Estimate`), as the pipeline reports them."""
    samples, sensitivity_samples = _whole(samples, "samples"), _whole(sensitivity_samples, "sensitivity_samples")
    batch_size, _ = _check_run(batch_size, 1.0, samples, reference, None)
    bins = binning.check_bins(bins, "bins")
    g, target = _prepare(layer, topology, in_layer, in_range, bins, out_range, bins, None, device, reference)
    sampler = Sampler.create(reference, target, batch_size, seed)
    drawn = _draw(sampler, g, samples, bins, bins)
    half = _head(drawn, samples // 2)
    parts = Estimate(float(_pairwise(drawn, bins, bins).sum()), float(_pairwise(half, bins, bins).sum()), samples)
    whole_ei = Estimate(_vector_ei(drawn, bins, bins), _vector_ei(half, bins, bins), samples) if whole else None
    full, first = _sensitivity_matrices(
        g, sampler, sensitivity_samples, bins, bins, silent, (sensitivity_samples, sensitivity_samples // 2)
    )
    sens = Estimate(float(full.sum()), float(first.sum()), sensitivity_samples)
    outside = float(drawn["outside"].sum()) / (samples * g.n_out)
    return LayerEstimates(whole_ei, parts, sens, outside, g.in_range, g.out_range)
