"""The effective-information library against the spec's reference values, closed forms and deep-ei 0.7.0 runs."""

from __future__ import annotations

import itertools
import math
import re
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.metrics import mutual_info_score
from torch import nn

from ndg_pipeline.effective_information import (
    SampleCapWarning,
    binning,
    ei,
    ei_parts,
    ei_parts_matrix,
    estimators,
    layer_estimates,
    measures,
    sensitivity,
    sensitivity_matrix,
    topology_of,
    vector_and_pairwise_ei,
    whole_ei_is_capped,
)
from ndg_pipeline.effective_information.networks import layered_network

BINS = {"in_bins": 8, "out_bins": 8}


@pytest.fixture
def spec_layer():
    """The spec's §4 layer: Linear(5, 5, bias=False) built right after manual_seed(0), sigmoid, ranges (0, 1)."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 5, bias=False), nn.Sigmoid())
    return net, topology_of(net, torch.zeros((1, 5)))


def _reference(function, layer, topology, samples, **kwargs):
    torch.manual_seed(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SampleCapWarning)
        return function(layer, topology, samples=samples, batch_size=100, reference=True, **BINS, **kwargs)


@pytest.mark.parametrize(("samples", "whole", "parts"), [(10_000, 3.139831, 1.895474), (100_000, 2.919198, 1.887718)])
def test_reference_mode_gives_the_spec_values(spec_layer, samples, whole, parts):
    net, topology = spec_layer
    ranges = {"in_range": (0, 1), "out_range": (0, 1)}
    assert _reference(ei, net[0], topology, samples, **ranges) == pytest.approx(whole, abs=1e-6)
    assert _reference(ei_parts, net[0], topology, samples, **ranges) == pytest.approx(parts, abs=1e-6)
    matrix = _reference(ei_parts_matrix, net[0], topology, samples, **ranges)
    assert matrix.shape == (5, 5) and matrix.sum() == pytest.approx(parts, abs=1e-6)
    both = _reference(vector_and_pairwise_ei, net[0], topology, samples, **ranges)
    assert both == pytest.approx((whole, parts), abs=1e-6)


# Produced with deep-ei 0.7.0 in a side venv (torch 2.13.0 CPU, networkx 2.5.1, numpy 1.26.4): torch.manual_seed(3),
# net = Sequential(Linear(4,5), Sigmoid(), Linear(5,5), Sigmoid(), Linear(5,3), Sigmoid()), topology_of(net,
# zeros((1,4))), then for each layer torch.manual_seed(4) and deep_ei.<measure>(net[i], top, samples=30011,
# batch_size=20, in_range=(0,1), in_bins=8, out_bins=8) (in_range only for layer 0). Our code recomputes them.
DEEP_EI_IRIS_LIKE = {
    0: (3.083250884598515, 2.119146666070189, 10.573225520672848),
    2: (3.123411537170501, 2.0922402723036715, 6.019489806234825),
    4: (1.9291660701860724, 1.1733822358251043, 3.8545453361242275),
}


@pytest.mark.parametrize("index", [0, 2, 4])
def test_reference_mode_matches_deep_ei_on_a_three_layer_sigmoid_net(index):
    torch.manual_seed(3)
    net = layered_network((4, 5, 5, 3), "sigmoid")
    topology = topology_of(net, torch.zeros((1, 4)))
    kwargs = {"samples": 30011, "batch_size": 20, "reference": True, **BINS}
    if index == 0:
        kwargs["in_range"] = (0, 1)
    results = []
    for measure in (ei, ei_parts, sensitivity):
        torch.manual_seed(4)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SampleCapWarning)
            results.append(measure(net[index], topology, **kwargs))
    assert results == pytest.approx(DEEP_EI_IRIS_LIKE[index], abs=1e-6)


@pytest.mark.parametrize("reference", [True, False])
def test_identity_layer_with_matching_bins_has_n_log2_bins(reference):
    net = nn.Sequential(nn.Linear(2, 2, bias=False))
    with torch.no_grad():
        net[0].weight.copy_(torch.eye(2))
    topology = topology_of(net, torch.zeros((1, 2)))
    torch.manual_seed(5)
    value = ei(net[0], topology, samples=100_000, in_range=(0, 1), out_range=(0, 1), in_bins=4, out_bins=4,
               reference=reference)  # fmt: skip
    assert value == pytest.approx(2 * math.log2(4), abs=2e-3)
    parts = ei_parts_matrix(net[0], topology, samples=100_000, in_range=(0, 1), out_range=(0, 1), in_bins=4, out_bins=4)
    assert parts.diagonal() == pytest.approx([2.0, 2.0], abs=2e-3) and abs(parts[0, 1]) < 1e-3


@pytest.mark.parametrize("reference", [True, False])
def test_zero_weights_give_zero_where_deep_ei_crashes(reference):
    net = nn.Sequential(nn.Linear(3, 3), nn.Sigmoid())
    with torch.no_grad():
        net[0].weight.zero_()
        net[0].bias.zero_()
    topology = topology_of(net, torch.zeros((1, 3)))
    common = {"in_range": (0, 1), "reference": reference, **BINS}
    torch.manual_seed(0)
    assert ei_parts(net[0], topology, **common) == 0.0  # auto mode: deep-ei divides by EI = 0 here
    assert ei(net[0], topology, samples=20_000, **common) == pytest.approx(0.0, abs=1e-12)
    assert sensitivity(net[0], topology, samples=500, **common) == 0.0


def test_all_samples_out_of_range_give_zero_bits():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 2), nn.Sigmoid())
    topology = topology_of(net, torch.zeros((1, 3)))
    kwargs = {"samples": 2000, "in_range": (0, 1), "out_range": (5, 6), **BINS}  # deep-ei: math domain error
    assert ei_parts(net[0], topology, reference=True, **kwargs) == 0.0
    assert sensitivity(net[0], topology, reference=True, **kwargs) == 0.0


def test_default_mode_agrees_with_reference_within_sampling_error(spec_layer):
    net, topology = spec_layer
    ranges = {"in_range": (0, 1), "out_range": (0, 1)}
    reference = _reference(ei_parts, net[0], topology, 200_000, **ranges)
    ranges |= BINS
    values = [ei_parts(net[0], topology, samples=200_000, seed=seed, **ranges) for seed in (0, 1)]
    assert values[0] != values[1]  # its own generator: another seed, other samples
    assert values == pytest.approx([reference, reference], abs=0.01)
    assert ei_parts(net[0], topology, samples=200_000, seed=0, **ranges) == values[0]


def test_default_mode_clips_out_of_range_outputs_into_the_edge_bins():
    net = nn.Sequential(nn.Linear(1, 1, bias=False))
    with torch.no_grad():
        net[0].weight.fill_(2.0)  # y = 2x on (0, 1): half of the outputs lie above out_range (0, 1)
    topology = topology_of(net, torch.zeros((1, 1)))
    kwargs = {"samples": 100_000, "in_range": (0, 1), "out_range": (0, 1), "in_bins": 2, "out_bins": 2}
    # clipped: x < 0.5 → y = 2x splits over bins 0 and 1; x ≥ 0.5 → y ≥ 1 counts in bin 1. I = H(Y) − H(Y|X)
    # = (0.5 + 0.75·log2(4/3)) − 0.5 bits.
    assert ei_parts(net[0], topology, **kwargs) == pytest.approx(0.75 * math.log2(4 / 3), abs=5e-3)


def test_capped_whole_layer_estimate_warns():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(6, 2), nn.Sigmoid())
    topology = topology_of(net, torch.zeros((1, 6)))
    with pytest.warns(SampleCapWarning, match="8\\^6 input cells") as record:
        ei(net[0], topology, samples=5000, in_range=(0, 1), **BINS)
    assert Path(record[0].filename).parent != Path(measures.__file__).parent  # it points at the caller


def test_convolutions_are_refused_with_the_measurable_layers_named():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 3), nn.Sigmoid())
    topology = topology_of(net, torch.zeros((1, 1, 4, 4)))
    with pytest.raises(NotImplementedError, match=r"Conv2d.*Measurable layers: 3"):
        ei_parts(net[0], topology, samples=100)
    assert topology.nodes["3"]["input"]["range"] == (-10.0, 10.0)  # deep-ei: Flatten hides the ReLU before it
    assert ei_parts(net[3], topology, samples=2000, **BINS) > 0.0


# ---- oracles from the definitions: the seeded draws, the two pairwise binning rules, plug-in I ------------------


def uniform(shape: tuple[int, ...], value_range: tuple[float, float], seed: int | None) -> torch.Tensor:
    """Uniform interventions as the spec draws them, (high − low)·U + low in float32: from a generator seeded by
    ``seed`` (the default mode), or with ``seed=None`` from torch's global generator (reference mode)."""
    low, high = value_range
    generator = None if seed is None else torch.Generator().manual_seed(seed)
    return torch.rand(shape, generator=generator).mul_(high - low).add_(low)


def clipped_bins(values: torch.Tensor, value_range: tuple[float, float], bins: int) -> list[int]:
    """The default rule: floor((v − low)·bins/(high − low)) in float32, clipped into 0 … bins − 1."""
    low, high = value_range
    index = np.floor((values.numpy() - np.float32(low)) * np.float32(bins / (high - low)))
    return [int(i) for i in np.clip(index, 0, bins - 1)]


def reference_bins(values: torch.Tensor, value_range: tuple[float, float], bins: int) -> list[int | None]:
    """deep-ei's pairwise rule: bins of equal width over [low − 1e-6, high + 1e-6) in float64; outside, None."""
    low, high = value_range[0] - 1e-6, value_range[1] + 1e-6
    return [min(math.floor((v - low) * (bins / (high - low))), bins - 1) if low <= v < high else None
            for v in values.double().tolist()]  # fmt: skip


def plug_in_bits(xs: list, ys: list) -> float:
    """Plug-in I(X; Y) in bits from the counts of the pairs, leaving out a pair with a dropped (None) side."""
    pairs = [(x, y) for x, y in zip(xs, ys, strict=True) if x is not None and y is not None]
    n = len(pairs)
    joint, left, right = Counter(pairs), Counter(x for x, _ in pairs), Counter(y for _, y in pairs)
    return sum(c / n * math.log2(c * n / (left[a] * right[b])) for (a, b), c in joint.items())


def sensitivity_by_definition(function, n_in, samples, in_range, out_range, in_bins, out_bins, *, seed, silent,
                              reference=False) -> np.ndarray:  # fmt: skip
    """I(x_A; y_B) with x_A drawn alone (n_in rows of ``samples`` draws, one per input) and the others at ``silent``."""
    rule = reference_bins if reference else clipped_bins
    values = uniform((n_in, samples), in_range, seed)
    rows = []
    for a in range(n_in):
        x = torch.full((samples, n_in), silent)
        x[:, a] = values[a]
        with torch.no_grad():
            y = function(x)
        rows.append([plug_in_bits(rule(values[a], in_range, in_bins), rule(y[:, b], out_range, out_bins))
                     for b in range(y.shape[1])])  # fmt: skip
    return np.array(rows)


def weighted(*weights: list[list[float]]) -> tuple[nn.Sequential, object]:
    """A chain of bias-free Linear layers with these weights and its topology. Powers of two and sums of two terms:
    every output is exact in float32, whatever kernel or batch computes it."""
    net = nn.Sequential(*(nn.Linear(len(w[0]), len(w), bias=False) for w in weights))
    with torch.no_grad():
        for layer, w in zip(net, weights, strict=True):
            layer.weight.copy_(torch.tensor(w))
    return net, topology_of(net, torch.zeros((1, len(weights[0][0]))))


@pytest.fixture
def chain():
    """x → 2x → (2x_1 + 2x_2, x_1 − 2x_2)."""
    return weighted([[2.0, 0.0], [0.0, 2.0]], [[1.0, 1.0], [0.5, -1.0]])


# ---- sensitivity -------------------------------------------------------------------------------------------------


def test_sensitivity_with_deep_ei_defaults_is_the_plug_in_estimate_of_the_seeded_draws():
    # deep-ei's defaults: 500 samples, 64 bins, each input drawn alone with the other at 0; the topology's ranges
    # (−10, 10) for a Linear without activation, y = (2x_1 + x_2, x_1/2 − x_2): 2x_1 leaves the output range, and the
    # default mode clips it into the edge bins. Its generator is seeded by 0.
    net, topology = weighted([[2.0, 1.0], [0.5, -1.0]])
    expected = sensitivity_by_definition(net, 2, 500, (-10, 10), (-10, 10), 64, 64, seed=0, silent=0.0)
    assert sensitivity_matrix(net[0], topology, device="cpu") == pytest.approx(expected, rel=1e-9)
    assert sensitivity(net[0], topology, device="cpu") == pytest.approx(expected.sum(), rel=1e-9)


@pytest.mark.parametrize("reference", [False, True])
def test_sensitivity_of_a_chain_with_its_own_activation_and_silent_value(chain, reference):
    # From in_layer net[0] to net[1] with a ReLU put after it, the other input held at −0.5, 4 input and 8 output
    # bins; reference mode drops what lies outside the ranges, the default mode clips it.
    net, topology = chain
    kwargs = {"in_range": (-1, 1), "out_range": (-1, 3), "in_bins": 4, "out_bins": 8, "silent": -0.5}
    common = {"in_layer": net[0], "activation": torch.relu, "reference": reference, **kwargs}
    if not reference:
        common["device"] = "cpu"  # reference mode runs on the CPU by default, the default mode on CUDA if there is one
    torch.manual_seed(9)
    expected = sensitivity_by_definition(lambda x: torch.relu(net(x)), 2, 301, (-1, 1), (-1, 3), 4, 8, silent=-0.5,
                                         seed=None if reference else 3, reference=reference)  # fmt: skip
    torch.manual_seed(9)
    assert sensitivity_matrix(net[1], topology, 301, 7, seed=3, **common) == pytest.approx(expected, rel=1e-9)
    torch.manual_seed(9)
    assert sensitivity(net[1], topology, 301, 7, seed=3, **common) == pytest.approx(expected.sum(), rel=1e-9)
    assert expected.min() > 0  # every pair carries information: a silent value of 0 or no ReLU would change it


# ---- layer_estimates: EI, EI_parts and sensitivity with their N/2 checks ----------------------------------------


@pytest.mark.parametrize("whole", [True, False])
def test_layer_estimates_are_the_plug_in_estimates_of_the_seeded_draws(chain, whole):
    # The default mode draws from its own generator seeded by `seed` (0): first the N inputs of EI and EI_parts,
    # then, per input A, the S values of x_A for the sensitivity (the other input held at 0). The estimates here are
    # recomputed from those draws by definition: bins by the clipped rule (8 by default), plug-in I from the counts,
    # each on all N (S) samples and on the first N // 2 (S // 2).
    net, topology = chain
    n, s, in_range, out_range = 2001, 301, (-1.0, 1.0), (-2.0, 2.0)
    kwargs = {"in_layer": net[0], "in_range": in_range, "out_range": out_range, "device": "cpu"}
    found = layer_estimates(net[1], topology, n, s, **kwargs) if whole else layer_estimates(
        net[1], topology, n, s, whole=False, **kwargs)  # fmt: skip
    generator = torch.Generator().manual_seed(0)
    x = torch.rand((n, 2), generator=generator).mul_(2.0).add_(-1.0)
    values = torch.rand((2, s), generator=generator).mul_(2.0).add_(-1.0)
    with torch.no_grad():
        y = net(x)
        alone = [net(torch.stack([v, torch.zeros(s)] if a == 0 else [torch.zeros(s), v], dim=1))
                 for a, v in enumerate(values)]  # fmt: skip
    bx = [clipped_bins(x[:, a], in_range, 8) for a in range(2)]
    by = [clipped_bins(y[:, b], out_range, 8) for b in range(2)]

    def parts(rows: int) -> float:
        return sum(plug_in_bits(bx[a][:rows], by[b][:rows]) for a in range(2) for b in range(2))

    def whole_ei(rows: int) -> float:
        return plug_in_bits(list(zip(*bx, strict=True))[:rows], list(zip(*by, strict=True))[:rows])

    def sensitivity_bits(rows: int) -> float:
        return sum(
            plug_in_bits(clipped_bins(values[a, :rows], in_range, 8), clipped_bins(alone[a][:rows, b], out_range, 8))
            for a in range(2) for b in range(2)
        )  # fmt: skip

    assert (found.ei_parts.value, found.ei_parts.half) == pytest.approx((parts(n), parts(1000)), rel=1e-9)
    assert (found.sensitivity.value, found.sensitivity.half) == pytest.approx(
        (sensitivity_bits(s), sensitivity_bits(150)), rel=1e-9)  # fmt: skip
    assert (found.ei_parts.samples, found.sensitivity.samples) == (n, s)
    if whole:
        assert (found.ei.value, found.ei.half, found.ei.samples) == pytest.approx((whole_ei(n), whole_ei(1000), n))
    else:
        assert found.ei is None
    assert found.outside_share == float(((y < -2) | (y > 2)).sum()) / (2 * n)
    assert (found.in_range, found.out_range) == (in_range, out_range)
    assert 0 < found.outside_share < 1 and parts(n) != parts(1000) and sensitivity_bits(s) != sensitivity_bits(150)


def test_layer_estimates_in_reference_mode_reproduce_deep_ei_and_its_bins():
    # EI and EI_parts on deep-ei's draws: the same numbers as deep-ei's ei and ei_parts (DEEP_EI_IRIS_LIKE, layer 2,
    # batches of deep-ei's default 20) ...
    torch.manual_seed(3)
    net = layered_network((4, 5, 5, 3), "sigmoid")
    topology = topology_of(net, torch.zeros((1, 4)))
    torch.manual_seed(4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SampleCapWarning)
        found = layer_estimates(net[2], topology, 30011, 101, reference=True)
    assert (found.ei.value, found.ei_parts.value) == pytest.approx(DEEP_EI_IRIS_LIKE[2][:2], abs=1e-6)
    # ... and deep-ei's two binning rules: y = 2x on (0, 1) with out_range (0, 1) has its rows above the range
    # (x ≥ 0.5, half of them) dropped from the whole-layer EI and its pairs outside the range dropped from EI_parts
    # and the sensitivity; on x < 0.5 y's 8 bins determine x's 4: every estimate is 2 bits.
    net, topology = weighted([[2.0]])
    torch.manual_seed(0)
    found = layer_estimates(net[0], topology, 40_000, 20_000, in_range=(0, 1), out_range=(0, 1), reference=True)
    for estimate in (found.ei, found.ei_parts, found.sensitivity):
        assert (estimate.value, estimate.half) == pytest.approx((2.0, 2.0), abs=0.01)
    assert found.outside_share == pytest.approx(0.5, abs=0.02)


@pytest.mark.parametrize(
    ("bad", "message"),
    [({"samples": 0}, "samples=0"), ({"sensitivity_samples": 2.5}, "sensitivity_samples=2.5"),
     ({"bins": 0}, "bins=0"), ({"batch_size": 0}, "batch_size=0")],
)  # fmt: skip
def test_layer_estimates_refuse_bad_counts_by_name(chain, bad, message):
    net, topology = chain
    counts = {"samples": 100, "sensitivity_samples": 100, **bad}
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        layer_estimates(net[1], topology, counts.pop("samples"), counts.pop("sensitivity_samples"), **counts)


# ---- EI, EI_parts and their matrix on fixed samples ---------------------------------------------------------------


def reference_vector_bins(values: torch.Tensor, value_range: tuple[float, float], bins: int) -> list[int]:
    """deep-ei's whole-layer rule in its float32 arithmetic: floor((v − low)/(high − low + 1e-4)·bins), unclipped."""
    low, high = value_range
    width = np.float32(high - low + 1e-4)
    return [int(i) for i in np.floor((values.numpy() - np.float32(low)) / width * np.float32(bins))]


def estimates_by_definition(x, y, in_range, out_range, in_bins, out_bins, reference=False):
    """(EI, the matrix of I(x_A; y_B)) of the draws ``x`` and their outputs ``y``: in reference mode the whole-layer
    EI keeps only the rows with no bin at or above the bin count, and the pairs drop what lies outside."""
    rule = reference_bins if reference else clipped_bins
    bx = [rule(x[:, a], in_range, in_bins) for a in range(x.shape[1])]
    by = [rule(y[:, b], out_range, out_bins) for b in range(y.shape[1])]
    matrix = np.array([[plug_in_bits(column, row) for row in by] for column in bx])
    if reference:
        vx = [reference_vector_bins(x[:, a], in_range, in_bins) for a in range(x.shape[1])]
        vy = [reference_vector_bins(y[:, b], out_range, out_bins) for b in range(y.shape[1])]
        inside = zip(zip(*vx, strict=True), zip(*vy, strict=True), strict=True)
        rows = [(tx, ty) for tx, ty in inside if max(tx) < in_bins and max(ty) < out_bins]
    else:
        rows = list(zip(zip(*bx, strict=True), zip(*by, strict=True), strict=True))
    return plug_in_bits([tx for tx, _ in rows], [ty for _, ty in rows]), matrix


def outcome(function, whole: float, matrix: np.ndarray):
    """What ``function`` returns from the whole-layer EI and the matrix."""
    return {ei: whole, ei_parts: matrix.sum(), ei_parts_matrix: matrix, vector_and_pairwise_ei: (whole, matrix.sum())}[
        function
    ]


FIXED = [ei, ei_parts, ei_parts_matrix, vector_and_pairwise_ei]


@pytest.mark.parametrize("function", FIXED)
def test_fixed_sample_estimates_with_deep_ei_defaults_are_the_plug_in_estimates_of_the_seeded_draws(function):
    # deep-ei's defaults: 64 bins and the topology's ranges, (−10, 10) for a Linear without activation (2x_1 leaves
    # it: clipped into the edge bins); the default mode's generator seeded by 0. 5 000 samples > 64² input cells.
    net, topology = weighted([[2.0, 1.0], [0.5, -1.0]])
    x = uniform((5000, 2), (-10, 10), 0)
    with torch.no_grad():
        whole, matrix = estimates_by_definition(x, net(x), (-10, 10), (-10, 10), 64, 64)
    found = function(net[0], topology, samples=5000, device="cpu")
    assert found == pytest.approx(outcome(function, whole, matrix), rel=1e-9)


@pytest.mark.parametrize("reference", [False, True])
@pytest.mark.parametrize("function", FIXED)
def test_fixed_sample_estimates_of_a_chain_with_its_own_activation(chain, function, reference):
    # From in_layer net[0] to net[1] with a ReLU put after it, 4 input and 8 output bins over the given ranges,
    # seed 3 (default mode) or torch's global generator (reference mode, which drops what lies outside).
    net, topology = chain
    common = {"in_layer": net[0], "in_range": (-1, 1), "out_range": (-1, 3), "in_bins": 4, "out_bins": 8,
              "activation": torch.relu, "reference": reference}  # fmt: skip
    if not reference:
        common |= {"device": "cpu", "seed": 3}
    torch.manual_seed(9)
    x = uniform((3001, 2), (-1, 1), None if reference else 3)
    with torch.no_grad():
        y = torch.relu(net(x))
    whole, matrix = estimates_by_definition(x, y, (-1, 1), (-1, 3), 4, 8, reference=reference)
    torch.manual_seed(9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # 16 input cells, 3 001 samples: not capped
        found = function(net[1], topology, samples=3001, batch_size=7, **common)
    expected = outcome(function, whole, matrix)
    assert found == pytest.approx(expected, rel=1e-9)
    assert float((y > 3).float().mean()) > 0.01 and matrix.min() > 0.01  # rows dropped, every pair informative


# ---- refused arguments, named in the message ---------------------------------------------------------------------

PUBLIC = [ei, ei_parts, ei_parts_matrix, sensitivity, sensitivity_matrix, vector_and_pairwise_ei]


@pytest.mark.parametrize("reference", [False, True])
@pytest.mark.parametrize(
    ("bad", "message"),
    [({"in_bins": 0}, "in_bins=0: give a whole number of bins between 1 and 32767"),
     ({"out_bins": 8.5}, "out_bins=8.5: give a whole number of bins between 1 and 32767"),
     ({"samples": 0}, "samples=0: give a positive whole number"),
     ({"batch_size": 0}, "batch_size=0: give a positive whole number")],
)  # fmt: skip
@pytest.mark.parametrize("function", PUBLIC)
def test_bad_counts_are_refused_by_name(chain, function, bad, message, reference):
    net, topology = chain
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        function(net[1], topology, **{"samples": 100, "reference": reference, **bad})


@pytest.mark.parametrize("function", [ei, ei_parts, ei_parts_matrix])
def test_automatic_schedules_refuse_a_bad_cap(chain, function):
    net, topology = chain
    with pytest.raises(ValueError, match="^" + re.escape("max_samples=0.5: give a positive whole number")):
        function(net[1], topology, max_samples=0.5)


@pytest.mark.parametrize("function", [ei_parts, ei_parts_matrix])
def test_an_automatic_schedule_that_could_never_stop_is_refused(function):
    # threshold ≤ 0 with samples=None and no max_samples, or in reference mode (which has none). The layer is zero:
    # were such a call let through, EI_parts = 0 would stop it at its second round (EI's absolute rule would never
    # stop, so EI is not tried here).
    net, topology = weighted([[0.0, 0.0]])
    never = "threshold=0 with samples=None never stops: give threshold > 0, a number of samples"
    with pytest.raises(ValueError, match=f"^{re.escape(never)}, or max_samples\\.$"):
        function(net[0], topology, threshold=0, max_samples=None)
    with pytest.raises(ValueError, match=f"^{re.escape(never)}\\.$"):
        function(net[0], topology, threshold=0, reference=True)


def test_what_deep_ei_cannot_do_is_refused_with_the_reason(chain):
    net, topology = chain
    for function in (sensitivity, sensitivity_matrix):
        with pytest.raises(ValueError, match=r"^sensitivity needs a number of samples \(deep-ei's default is 500\)\.$"):
            function(net[1], topology, samples=None)
    message = "vector_and_pairwise_ei needs samples: both estimates use the same fixed sample set."
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        vector_and_pairwise_ei(net[1], topology)
    message = ("extrapolate=True (deep-ei's power-law fit to 2 M samples) is not offered: give samples, or None for "
               "the automatic schedule.")  # fmt: skip
    with pytest.raises(NotImplementedError, match=f"^{re.escape(message)}$"):
        ei_parts(net[1], topology, samples=100, extrapolate=True)


# ---- the automatic schedules' stopping rules, at and around their thresholds --------------------------------------


def test_the_absolute_rule_stops_on_a_change_of_the_last_two_estimates_below_the_threshold():
    rule = measures._absolute_rule(0.25)
    assert not rule([1.0], 10_000, 10_000)  # nothing to compare yet
    assert not rule([1.0, 1.25], 10_000, 20_000) and not rule([1.25, 1.0], 10_000, 20_000)  # exactly 0.25: not below
    assert rule([1.0, 1.125], 10_000, 20_000) and rule([1.125, 1.0], 10_000, 20_000)
    assert not rule([2.0, 1.0], 10_000, 20_000)  # a fall of 1 is a change of 1
    assert not rule([1.0, 5.0, 6.0], 20_000, 40_000) and not rule([5.0, 1.0, 1.5], 20_000, 40_000)
    assert rule([9.0, 5.0, 5.125], 20_000, 40_000)  # only the last two count


def test_the_relative_rule_predicts_the_change_of_one_more_doubling_relative_to_the_estimate():
    # (EI_{k−1} − EI_k)/added · total / EI_k ≤ threshold: 8 samples added to a total of 16 make the factor 2.
    signed, unsigned = measures._relative_rule(1.0, signed=True), measures._relative_rule(1.0, signed=False)
    for rule in (signed, unsigned):
        assert not rule([1.0], 8, 8)  # nothing to compare yet
        assert rule([1.5, 1.0], 8, 16) and rule([3.0, 2.0], 8, 16)  # 0.5·2/1 and 1·2/2: exactly the threshold
        assert not rule([1.625, 1.0], 8, 16) and not rule([1.5, 1.0], 4, 16)  # 0.625·2/1 and 0.5·4/1
        assert rule([1.0, 0.5, 0.0], 8, 16) and rule([0.0, 0.0], 8, 16)  # EI = 0 counts as converged
        assert rule([9.0, 1.5, 1.0], 8, 16) and not rule([0.0, 1.625, 1.0], 8, 16)  # the last two only
    # a rise: deep-ei (signed) stops at once, the default mode takes its magnitude (|−2·2|/3 and |−0.5·2|/1)
    assert signed([1.0, 3.0], 8, 16) and not unsigned([1.0, 3.0], 8, 16)
    assert signed([1.0, 0.0, 0.5], 8, 16) and not unsigned([1.0, 0.0, 0.5], 8, 16)
    assert unsigned([9.0, 0.5, 1.0], 8, 16)


# ---- the binning rules and the bin counts, by hand ----------------------------------------------------------------


def test_the_three_binning_rules_on_hand_worked_values():
    # (−1, 1) in 4 bins of width 0.5. Clipped: floor((v + 1)·2), out-of-range values in the edge bins. deep-ei's
    # pairwise rule: bins of (2 + 2e-6)/4 over [−1 − 1e-6, 1 + 1e-6), anything outside dropped (−1). Its whole-layer
    # rule: floor((v + 1)/2.0001·4), unclipped (below the range negative, above it 4 or more).
    values = torch.tensor([[-1.5, -1.0000015, -1.0000005, -0.2], [0.3, 1.0000005, 1.0002, 3.0]])
    assert binning.clipped(values, (-1, 1), 4).tolist() == [[0, 0, 0, 1], [2, 3, 3, 3]]
    assert binning.reference_pairwise(values, (-1, 1), 4).tolist() == [[-1, -1, 0, 1], [2, 3, -1, -1]]
    assert binning.reference_vector(values, (-1, 1), 4).tolist() == [[-1, -1, -1, 1], [2, 3, 4, 7]]
    # (0, 1): the whole-layer bins are 1e-4/4 wider than 1/4, so 0.99995 is in bin 3 (0.99995/1.0001·4 = 3.9994)
    assert binning.reference_vector(torch.tensor([0.99995]), (0, 1), 4).tolist() == [3]
    for rule in (binning.clipped, binning.reference_pairwise, binning.reference_vector):
        assert rule(values, (-1, 1), 4).shape == values.shape and rule(values, (-1, 1), 4).dtype.is_signed


@pytest.mark.parametrize(("bins", "valid"), [(1, True), (8.0, True), (32_767, True), (0, False), (32_768, False),
                                             (8.5, False), (True, False), ("8", False)])  # fmt: skip
def test_a_bin_count_is_a_whole_number_from_1_to_32767(bins, valid):
    if valid:
        assert binning.check_bins(bins, "in_bins") == bins and type(binning.check_bins(bins, "in_bins")) is int
    else:
        message = f"in_bins={bins!r}: give a whole number of bins between 1 and 32767 ('dynamic' is not offered)."
        with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
            binning.check_bins(bins, "in_bins")


# ---- reference mode: the activation in deep-ei's batches -----------------------------------------------------------


@pytest.fixture
def on_an_edge():
    """Linear(1, 3) with zero weights and bias c, then a sigmoid, for a c whose float32 sigmoid torch rounds to two
    neighbouring values a < b depending on the position in one call (its vectorised loop and its tail); and a, b."""
    for c in np.linspace(-4, 4, 4001).tolist():
        rounded = torch.sigmoid(torch.full((20, 3), c)).unique().tolist()
        if len(rounded) == 2:
            break
    else:
        pytest.skip("this CPU's sigmoid rounds every position of a call alike")
    net = nn.Sequential(nn.Linear(1, 3), nn.Sigmoid())
    with torch.no_grad():
        net[0].weight.zero_()
        net[0].bias.fill_(c)
    return net, topology_of(net, torch.zeros((1, 1))), *rounded


def in_batches(net: nn.Module, x: torch.Tensor, size: int = 20) -> torch.Tensor:
    """deep-ei's outputs: the layer and its activation called on one batch of ``size`` rows at a time."""
    with torch.no_grad():
        return torch.cat([net(x[start : start + size]) for start in range(0, len(x), size)])


def test_reference_mode_calls_the_activation_on_deep_ei_s_default_batches_of_20(on_an_edge):
    # Every output is a or b, as its position in deep-ei's batch of 20 decides; the bin edges lie between a and b:
    # out_range (m − 1, m + 1) in 2 pairwise bins (edge m = (a + b)/2), (0, 2b − 1e-4) in 2 whole-layer bins (edge
    # at (2b − 1e-4 + 1e-4)/2 = b). Other batches put other outputs in the upper bin.
    net, topology, a, b = on_an_edge
    pair_range, vector_range = ((a + b) / 2 - 1, (a + b) / 2 + 1), (0.0, 2 * b - 1e-4)
    common = {"samples": 500, "in_range": (0, 1), "in_bins": 64, "out_bins": 2, "reference": True}
    torch.manual_seed(0)
    x = uniform((500, 1), (0, 1), None)
    y = in_batches(net, x)
    _, matrix = estimates_by_definition(x, y, (0, 1), pair_range, 64, 2, reference=True)
    whole, _ = estimates_by_definition(x, y, (0, 1), vector_range, 64, 2, reference=True)
    flat, _ = estimates_by_definition(x, y, (0, 1), pair_range, 64, 2, reference=True)
    expected = {
        ei_parts_matrix: matrix, ei_parts: matrix.sum(), sensitivity_matrix: matrix, sensitivity: matrix.sum(),
        vector_and_pairwise_ei: (flat, matrix.sum()),  # one input: x_A alone is x, drawn from the same stream
    }  # fmt: skip
    for function, value in expected.items():
        torch.manual_seed(0)
        assert function(net[0], topology, out_range=pair_range, **common) == pytest.approx(value, rel=1e-9)
    torch.manual_seed(0)
    assert ei(net[0], topology, out_range=vector_range, **common) == pytest.approx(whole, rel=1e-9)
    torch.manual_seed(0)
    uniform((500, 1), (0, 1), None)  # EI's draws, then the sensitivity's
    values = uniform((1, 500), (0, 1), None)
    torch.manual_seed(0)
    found = layer_estimates(net[0], topology, 500, 500, in_range=(0, 1), out_range=pair_range, bins=2, reference=True)
    parts = estimates_by_definition(x, y, (0, 1), pair_range, 2, 2, reference=True)[1].sum()
    alone = estimates_by_definition(values.T, in_batches(net, values.T), (0, 1), pair_range, 2, 2, reference=True)
    assert (found.ei_parts.value, found.sensitivity.value) == pytest.approx((parts, alone[1].sum()), rel=1e-9)
    assert 0 < float((y == b).float().mean()) < 1 and whole > 0.01 and matrix.sum() > 0.01


# ---- the estimators on integer bins, against counts by definition -------------------------------------------------


def test_row_ids_number_the_rows_in_mixed_radix_below_2_to_the_53_and_by_unique_rows_from_there():
    # columns spanning 2 … 4 and 5 … 7: radix 3 and 3, id = (r_0 − 2) + 3·(r_1 − 5), 9 ids possible
    ids, count = estimators.row_ids(np.array([[2, 5], [3, 5], [4, 7], [3, 5]]))
    assert ids.tolist() == [0, 1, 8, 1] and count == 9 and ids.dtype == np.int64
    # radix 2^26 · (2^27 − 1) < 2^53: still mixed radix; 2^26 · 2^27 = 2^53: the rows in sorted order instead
    ids, count = estimators.row_ids(np.array([[0, 0], [2**26 - 1, 2**27 - 2]]))
    assert ids.tolist() == [0, 2**26 - 1 + 2**26 * (2**27 - 2)] and count == 2**26 * (2**27 - 1)
    ids, count = estimators.row_ids(np.array([[0, 0], [2**26 - 1, 2**27 - 1], [0, 0]]))
    assert ids.tolist() == [0, 1, 0] and count == 2
    ids, count = estimators.row_ids(np.array([[0, 0], [2**40, 5], [0, 0], [7, 2**20]]))
    assert ids.tolist() == [0, 2, 0, 1] and count == 3 and ids.dtype == np.int64
    ids, count = estimators.row_ids(np.array([[3, 4]]))
    assert ids.tolist() == [0] and count == 1
    ids, count = estimators.row_ids(np.zeros((0, 3), dtype=np.int16))
    assert ids.shape == (0,) and ids.dtype == np.int64 and count == 1


def test_entropy_of_counts_by_hand():
    assert estimators.entropy_bits(torch.tensor([2, 0, 1, 1])) == pytest.approx(1.5)  # H(1/2, 1/4, 1/4)
    assert estimators.entropy_bits(torch.zeros(3)) == 0.0  # nothing observed


@pytest.mark.parametrize(
    ("high", "columns"),
    [(4, (3, 2)),  # few ids: counted by bincount
     (1000, (3, 2)),  # about 2^30 input ids: counted from the sorted ids
     (32_767, (3, 2)),  # 2^45 · 2^30 joint ids would overflow int64: the rows are renumbered first
     (32_767, (4, 1))],  # 2^60 input ids ≥ 2^53: numbered by unique rows
)  # fmt: skip
def test_whole_layer_mutual_information_is_the_plug_in_estimate_on_every_counting_path(high, columns):
    # 300 rows drawn from 40 distinct x rows, y from x's pool index plus noise: repeated rows, unequal counts
    rng = np.random.default_rng(high)
    pool_x, pool_y = (rng.integers(0, high + 1, size=(40, n)) for n in columns)
    pool_x[:2], pool_y[:2] = [[0], [high]], [[0], [high]]  # every column spans 0 … high
    pick = np.concatenate([[0, 1], rng.integers(0, 40, size=298)])
    x, y = pool_x[pick], pool_y[(pick + rng.integers(0, 3, size=300)) % 40]
    # two x rows whose mixed-radix ids lie 2^(15(n−1) + 4) apart, with the same y: one joint id if it overflowed
    x[2], x[3], y[3] = [1] * columns[0], [1] * (columns[0] - 1) + [17], y[2]
    expected = plug_in_bits([tuple(r) for r in x], [tuple(r) for r in y])
    found = estimators.vector_mutual_information(*(torch.from_numpy(v.astype(np.int16)) for v in (x, y)))
    assert found == pytest.approx(expected, rel=1e-12)


def test_whole_layer_mutual_information_keeps_only_rows_below_the_limits():
    x = torch.tensor([[0, 1], [1, 1], [2, 0], [1, 0], [0, 0]], dtype=torch.int16)
    y = torch.tensor([[0], [1], [0], [3], [1]], dtype=torch.int16)
    # x_limit 2 drops row 2, y_limit 3 drops row 3: rows 0, 1, 4 remain, each x row with its own y
    expected = plug_in_bits([(0, 1), (1, 1), (0, 0)], [0, 1, 1])
    assert estimators.vector_mutual_information(x, y, 2, 3) == pytest.approx(expected, rel=1e-12)
    assert estimators.vector_mutual_information(x, y, 1, 1) == 0.0  # no row left


def test_pairwise_tables_larger_than_the_cell_budget_are_counted_a_chunk_of_inputs_at_a_time():
    # 3 inputs against 43 outputs at 32 767 × 1 bins (or 1 × 32 767): 1.4 M cells per input, so the 2^22-cell
    # budget takes 2 inputs, then the third. With one bin on a side every pair carries 0 bits.
    many = torch.from_numpy(np.random.default_rng(1).integers(0, 32_767, size=(40, 43)).astype(np.int16))
    one = torch.zeros((40, 43), dtype=torch.int16)
    for found in (estimators.pairwise_mutual_information(many[:, :3], one, 32_767, 1),
                  estimators.pairwise_mutual_information(one[:, :3], many, 1, 32_767)):  # fmt: skip
        assert found.shape == (3, 43) and (found == 0).all()
    # 5 inputs against 22 outputs at 32 767 × 2 bins: chunks of inputs 0-1, 2-3 and 4, each pair as counted by hand
    bx, by = many[:, :5] // 4, many[:, 5:27] % 2
    expected = np.array([[plug_in_bits(bx[:, a].tolist(), by[:, b].tolist()) for b in range(22)] for a in range(5)])
    found = estimators.pairwise_mutual_information(bx, by, 32_767, 2).numpy()
    assert found == pytest.approx(expected, rel=1e-12) and expected.min() > 0.01


def test_the_whole_layer_estimate_is_capped_once_the_input_cells_outnumber_the_samples():
    assert not whole_ei_is_capped(1, 8, 8) and whole_ei_is_capped(1, 8, 7)  # 8 input cells
    assert not whole_ei_is_capped(2, 4, 16) and whole_ei_is_capped(2, 4, 15)  # 4² = 16 input cells
    assert whole_ei_is_capped(1, 2, 1) and whole_ei_is_capped(1, 2, 0)  # 2 cells, one sample or none


def test_the_default_mode_on_its_default_device_clips_into_the_edge_bins():
    # y = 2x on (0, 1), out_range (0, 1), 8 bins, on the default device (CUDA where there is one): x < 0.5 spreads
    # over y's 8 bins, x ≥ 0.5 lands in the top one. I = 3 − 9/16 · H(1/9, 2/9, 2/9, 2/9, 2/9) bits, whole or by
    # pairs alike (one input, one output), and half the outputs lie outside the range.
    net, topology = weighted([[2.0]])
    clipped = 3 - 9 / 16 * (-(1 / 9) * math.log2(1 / 9) - 4 * (2 / 9) * math.log2(2 / 9))
    ranges = {"in_range": (0, 1), "out_range": (0, 1)}
    found = layer_estimates(net[0], topology, 50_000, 40_000, **ranges)
    for estimate in (found.ei, found.ei_parts, found.sensitivity):  # about 3 standard errors at 20 000 samples
        assert (estimate.value, estimate.half) == pytest.approx((clipped, clipped), abs=0.02)
    assert found.outside_share == pytest.approx(0.5, abs=0.02)
    relu = {"activation": torch.relu}  # y = relu(2x) = 2x here; a function, not a module, on the measured path
    both = vector_and_pairwise_ei(net[0], topology, samples=50_000, in_bins=8, out_bins=8, **relu, **ranges)
    assert both == pytest.approx((clipped, clipped), abs=0.01)
    assert net[0].weight.device.type == "cpu"  # measured on a copy: the model stays where it was


def test_table_mutual_information_is_scikit_learns_in_bits():
    # deep-ei's reference: scikit-learn's mutual_info_score on the contingency table (nats; terms below machine
    # epsilon set to 0, the total clipped at 0). Every 2 × 2 table with counts up to 4, and three where that matters:
    # one sample, an independent table with rounding residue below epsilon, one with a term of exactly epsilon.
    tables = [np.array(t).reshape(2, 2) for t in itertools.product(range(5), repeat=4) if any(t)]
    tables += [np.array([[1, 0], [0, 0]]), np.array([[1, 1], [4, 4]]), np.array([[0, 0], [5, 6]])]
    found = estimators.mutual_information_bits(torch.from_numpy(np.stack(tables))).tolist()
    expected = [mutual_info_score(None, None, contingency=t) / math.log(2) for t in tables]
    assert found == pytest.approx(expected, rel=1e-12, abs=0)
    assert estimators.mutual_information_bits(torch.tensor([[2, 0], [0, 2]])) == pytest.approx(1.0)  # one table
    assert estimators.mutual_information_bits(torch.zeros((3, 4))) == 0.0  # nothing observed


def test_ranges_must_have_lower_below_upper(chain):
    net, topology = chain
    for in_range, out_range in (((1, 1), (0, 1)), ((2, 1), (0, 1)), ((0, 1), (1, 1)), ((0, 1), (1, 0))):
        message = f"ranges must have lower < upper; got in_range={in_range}, out_range={out_range}."
        with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
            ei_parts(net[1], topology, samples=100, in_range=in_range, out_range=out_range)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_a_layer_with_non_finite_weights_is_refused_by_name(chain, bad):
    net, topology = chain
    with torch.no_grad():
        net[0].weight[1, 0] = bad
    message = ("Linear.weight on the measured path holds NaN or inf values: every estimate would be meaningless. "
               "Measure a model with finite weights and biases.")  # fmt: skip
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        ei_parts(net[1], topology, samples=100, in_layer=net[0], activation=torch.relu)


def test_one_sample_and_batches_of_one_are_allowed(chain):
    net, topology = chain
    for reference in (False, True):
        assert ei_parts(net[1], topology, samples=1, batch_size=1, reference=reference) == 0.0  # one sample: 0 bits


def test_outputs_exactly_on_the_range_bounds_are_inside_it():
    # a zero layer outputs its bias: on either bound it lies inside the range, a hair above the upper one outside
    net = nn.Sequential(nn.Linear(2, 1))
    topology = topology_of(net, torch.zeros((1, 2)))
    for bias, outside in ((0.0, 0.0), (1.0, 0.0), (1.5, 1.0), (-0.25, 1.0)):
        with torch.no_grad():
            net[0].weight.zero_()
            net[0].bias.fill_(bias)
        found = layer_estimates(net[0], topology, 200, 10, in_range=(0, 1), out_range=(0, 1), device="cpu")
        assert found.outside_share == outside


@pytest.mark.skipif(torch.cuda.is_available(), reason="refused only where CUDA is missing")
@pytest.mark.parametrize("reference", [False, True])
@pytest.mark.parametrize("function", [*PUBLIC, layer_estimates])
def test_a_cuda_device_is_refused_where_there_is_none(chain, function, reference):
    net, topology = chain
    message = "device 'cuda' was asked for, but CUDA is not available here; use 'auto' or 'cpu'."
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        if function is layer_estimates:
            layer_estimates(net[1], topology, 100, 100, device="cuda", reference=reference)
        else:
            function(net[1], topology, samples=100, device="cuda", reference=reference)


@pytest.mark.parametrize("function", [ei, ei_parts, ei_parts_matrix])
def test_fixed_samples_need_no_threshold(chain, function):
    # the threshold only stops an automatic schedule: with samples given, 0 (refused without them) is harmless
    net, topology = chain
    for kwargs in ({"reference": True}, {"max_samples": None}):
        torch.manual_seed(0)
        zero = function(net[1], topology, samples=500, threshold=0, **BINS, **kwargs)
        torch.manual_seed(0)
        np.testing.assert_array_equal(zero, function(net[1], topology, samples=500, **BINS, **kwargs))


def test_an_rnn_cell_map_is_measured_as_its_linear_and_tanh_over_the_input_and_previous_state():
    """The recurrent study's measured map (x_t, h_t−1) → h_t: the cell's Linear, called once per step, with the
    tanh after it; the same numbers as that Linear and a tanh measured alone, and observed input ranges over every
    step's inputs."""
    from ndg_pipeline.effective_information.experiments import observed_ranges
    from ndg_pipeline.models import build_model

    model = build_model({"architecture": "mnist_rnn", "hidden": 3, "steps": 14, "num_classes": 2}, seed=0).eval()
    topology = topology_of(model, torch.zeros(1, 1, 28, 28))
    assert [step.path for step in topology.graph["steps"]].count("cell.linear") == 14
    assert topology.nodes["cell.linear"]["input"]["shape"] == (1, 59)
    assert topology.nodes["cell.linear"]["output"]["range"] == (-1.0, 1.0)
    alone = nn.Sequential(model.cell.linear, nn.Tanh())
    alone_topology = topology_of(alone, torch.zeros(1, 59))
    kwargs = {"samples": 4000, "in_range": (-1.0, 2.0), "in_bins": 8, "out_bins": 8}
    torch.manual_seed(3)
    in_rnn = ei_parts(model.cell.linear, topology, **kwargs)
    torch.manual_seed(3)
    assert ei_parts(alone[0], alone_topology, **kwargs) == in_rnn > 0
    images = torch.rand(5, 1, 28, 28) * 3 - 1
    state, seen = torch.zeros(5, 3), []
    with torch.no_grad():
        for band in range(14):
            seen.append(torch.cat([images[:, 0, 2 * band : 2 * band + 2].reshape(5, 56), state], dim=1))
            state = torch.tanh(model.cell.linear(seen[-1]))
    every_step = torch.cat(seen)
    ranges = observed_ranges(model, images, topology, ["cell.linear"])["cell.linear"]
    assert ranges == {"in_range": (float(every_step.min()), float(every_step.max()))}
