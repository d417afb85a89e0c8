"""Property and closed-form tests of the effective-information measures through their public functions (deep-ei's
API), so they hold for any implementation of the spec: EI of a permutation layer is n·log2(bins), EI_parts is at
most the sum of the per-pair maxima, a zero layer has sensitivity 0, and deep-ei's semantics (the silent value 0,
the 0.01-bit floor, the two binning rules, the automatic stopping rules) give the values worked out by hand."""

from __future__ import annotations

import itertools
import math
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from ndg_pipeline.effective_information import (
    ConvergenceWarning,
    SampleCapWarning,
    ei,
    ei_parts,
    ei_parts_matrix,
    measures,
    sensitivity,
    sensitivity_matrix,
    topology_of,
)

PROPERTY = settings(max_examples=10, derandomize=True, deadline=None, database=None)


def linear(weight: np.ndarray, activation: nn.Module | None = None, bias: np.ndarray | None = None):
    """A one-layer net with the given weights, its Linear and its topology."""
    n_out, n_in = weight.shape
    layers = [nn.Linear(n_in, n_out, bias=bias is not None)] + ([activation] if activation is not None else [])
    net = nn.Sequential(*layers)
    with torch.no_grad():
        net[0].weight.copy_(torch.as_tensor(weight, dtype=torch.float32))
        if bias is not None:
            net[0].bias.copy_(torch.as_tensor(bias, dtype=torch.float32))
    return net[0], topology_of(net, torch.zeros((1, n_in)))


def binary_entropy(p: float) -> float:
    return -p * math.log2(p) - (1 - p) * math.log2(1 - p)


@st.composite
def permutations(draw) -> tuple[np.ndarray, int]:
    """A permutation matrix of 1-3 inputs and a bin count with bins^n ≤ 64 input cells."""
    n = draw(st.integers(1, 3))
    bins = draw(st.sampled_from([b for b in (2, 4, 8) if b**n <= 64]))
    order = draw(st.permutations(range(n)))
    return np.eye(n)[list(order)], bins


@PROPERTY
@given(permutations(), st.booleans(), st.integers(0, 1000))
def test_ei_of_a_permutation_layer_is_n_log2_bins(case, reference, seed):
    weight, bins = case
    n = len(weight)
    layer, topology = linear(weight)
    common = {"in_range": (0, 1), "out_range": (0, 1), "in_bins": bins, "out_bins": bins, "reference": reference}
    torch.manual_seed(seed)
    # plug-in bias of H over bins^n cells: about (bins^n − 1) / (2 N ln 2) bits, below 0.003 here
    assert ei(layer, topology, samples=25_000, seed=seed, **common) == pytest.approx(n * math.log2(bins), abs=0.01)
    torch.manual_seed(seed)
    matrix = ei_parts_matrix(layer, topology, samples=25_000, seed=seed, **common)
    np.testing.assert_allclose(matrix, weight.T * math.log2(bins), atol=0.01)  # x_A drives y_B where W[B, A] = 1


@PROPERTY
@given(
    st.integers(1, 4),
    st.integers(1, 4),
    st.sampled_from([2, 4, 8]),
    st.sampled_from([2, 4, 8]),
    st.booleans(),
    st.integers(0, 1000),
)
def test_ei_parts_is_at_most_the_sum_of_the_per_pair_maxima(n_in, n_out, in_bins, out_bins, reference, seed):
    weight = np.random.default_rng(seed).normal(scale=3.0, size=(n_out, n_in))
    layer, topology = linear(weight, nn.Sigmoid())
    common = {"in_range": (0, 1), "in_bins": in_bins, "out_bins": out_bins, "reference": reference, "seed": seed}
    torch.manual_seed(seed)
    matrix = ei_parts_matrix(layer, topology, samples=3000, **common)
    pair_maximum = math.log2(min(in_bins, out_bins))  # I(x_A; y_B) ≤ min(H(x_A), H(y_B))
    assert matrix.shape == (n_in, n_out)
    assert (matrix >= 0).all() and (matrix <= pair_maximum + 1e-9).all()
    torch.manual_seed(seed)
    total = ei_parts(layer, topology, samples=3000, **common)
    assert total <= n_in * n_out * pair_maximum + 1e-9
    assert total == pytest.approx(matrix.sum(), abs=1e-12) or (reference and total == 0.0 and matrix.sum() < 0.01)


ACTIVATIONS = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU, "none": None}


@PROPERTY
@given(
    st.integers(1, 4),
    st.integers(1, 4),
    st.sampled_from(sorted(ACTIVATIONS)),
    st.sampled_from([(0.0, 1.0), (-1.0, 1.0), (-10.0, 10.0), (2.0, 3.0)]),
    st.sampled_from([2, 8, 64]),
    st.booleans(),
    st.floats(-2.0, 2.0),
)
def test_a_zero_layer_has_sensitivity_zero(n_in, n_out, activation, in_range, bins, reference, bias):
    make = ACTIVATIONS[activation]
    layer, topology = linear(np.zeros((n_out, n_in)), make() if make else None, np.full(n_out, bias))
    common = {"samples": 400, "in_range": in_range, "in_bins": bins, "out_bins": bins, "reference": reference}
    # a constant output is one bin: every plug-in term log(n_ij·N / (n_i·n_j)) is log 1, zero up to rounding (the
    # reference's scikit-learn formula rounds the same way, so 1e-16 bits can remain)
    torch.manual_seed(0)
    assert sensitivity(layer, topology, out_range=(-5, 5), **common) == pytest.approx(0.0, abs=1e-12)
    torch.manual_seed(0)
    assert sensitivity_matrix(layer, topology, out_range=(-5, 5), **common) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("reference", [True, False])
@pytest.mark.parametrize("bins", [2, 4, 8])
def test_sensitivity_holds_the_other_inputs_at_zero_whatever_the_range(reference, bins):
    # y = x_1 + x_2 on in_range (−1, 1): with the other input silent at 0, y = x_A spans out_range (−1, 1) and its
    # bins are x_A's bins: I = H(bins of x_A) = log2(bins) per input. Silent at the lower bound −1 would put y in
    # (−2, 0), half of it outside the range, and give less.
    layer, topology = linear(np.array([[1.0, 1.0]]))
    common = {"in_range": (-1, 1), "out_range": (-1, 1), "in_bins": bins, "out_bins": bins, "reference": reference}
    torch.manual_seed(0)
    value = sensitivity(layer, topology, samples=20_000, **common)
    assert value == pytest.approx(2 * math.log2(bins), abs=0.01)


def test_the_reference_floor_zeroes_ei_parts_below_a_hundredth_of_a_bit():
    # y = x on (0, 1), 2 input bins (edge 0.5) and 2 output bins over (0, 2·edge): the output bin is 1[x ≥ edge], so
    # I(x_bin; y_bin) = h(1 − edge) − h(2(1 − edge))/2 with h the binary entropy.
    layer, topology = linear(np.array([[1.0]]))
    values = {}
    for edge in (0.995, 0.98):
        common = {"in_range": (0, 1), "out_range": (0, 2 * edge), "in_bins": 2, "out_bins": 2, "samples": 200_000}
        exact = binary_entropy(1 - edge) - binary_entropy(2 * (1 - edge)) / 2
        torch.manual_seed(0)
        floored = ei_parts(layer, topology, reference=True, **common)
        torch.manual_seed(0)
        unfloored = ei_parts_matrix(layer, topology, reference=True, **common).sum()
        clean = ei_parts(layer, topology, **common)
        assert unfloored == pytest.approx(exact, abs=1.5e-3) and clean == pytest.approx(exact, abs=1.5e-3)
        values[edge] = (exact, floored, clean)
    assert values[0.995][0] < 0.01 < values[0.98][0]  # 0.0050 and 0.0203 bits
    assert values[0.995][1] == 0.0 and values[0.995][2] > 0.0  # floored in reference mode only
    assert values[0.98][1] == pytest.approx(values[0.98][0], abs=1.5e-3)  # above the floor: kept


@pytest.mark.parametrize(("slope", "reference", "expected"), [(-1, True, 3.0), (-1, False, 0.0), (2, True, 2.0)])
def test_whole_layer_binning_rules(slope, reference, expected):
    # 1 input on (0, 1), out_range (0, 1), 8 bins. y = −x lies below the range: deep-ei's whole-layer bins keep
    # it (negative bins, y's bin determines x's: I = H(x_bin) = 3 bits); the clean mode clips it all into bin 0
    # (0 bits). y = 2x: deep-ei drops the rows above the range (x ≥ 0.5), and on the rest y's bin determines
    # x's 4 bins: I = 2 bits.
    layer, topology = linear(np.array([[float(slope)]]))
    torch.manual_seed(0)
    common = {"in_range": (0, 1), "out_range": (0, 1), "in_bins": 8, "out_bins": 8, "samples": 50_000}
    assert ei(layer, topology, reference=reference, **common) == pytest.approx(expected, abs=0.005)


def test_clean_whole_layer_binning_clips_into_the_edge_bins():
    # y = 2x, clipped: x < 0.5 spreads over y bins 0-7 (1/16 each), x ≥ 0.5 all in bin 7. I = H(X) − H(X|Y) with
    # H(X) = 3 and H(X|Y) = 9/16 · H(1/9, 2/9, 2/9, 2/9, 2/9) (given bin 7, x is in bin 3 or one of bins 4-7).
    layer, topology = linear(np.array([[2.0]]))
    given_top = -(1 / 9) * math.log2(1 / 9) - 4 * (2 / 9) * math.log2(2 / 9)
    common = {"in_range": (0, 1), "out_range": (0, 1), "in_bins": 8, "out_bins": 8, "samples": 50_000}
    assert ei(layer, topology, **common) == pytest.approx(3 - 9 / 16 * given_top, abs=0.005)


def estimates(measure, layer, topology, rounds: int, **common) -> list[float]:
    """The measure on the first 10 000 · 2^k samples of the same stream, k = 0 … rounds − 1."""
    values = []
    for k in range(rounds):
        torch.manual_seed(7)
        values.append(measure(layer, topology, samples=10_000 * 2**k, **common))
    return values


@pytest.fixture
def two_by_two():
    return linear(np.array([[1.3, -0.4], [0.7, 2.1]]))


def test_reference_ei_stops_when_the_change_is_below_the_threshold_in_bits(two_by_two):
    layer, topology = two_by_two
    common = {"in_range": (0, 1), "out_range": (-1, 3), "in_bins": 8, "out_bins": 8, "reference": True}
    values = estimates(ei, layer, topology, 4, **common)
    changes = np.abs(np.diff(values))  # deep-ei: stop after round k ≥ 2 when |EI_k − EI_{k−1}| < threshold
    for threshold in sorted({*(changes * 1.001), *(changes * 0.999), float("inf")}):
        hits = [k for k, change in enumerate(changes, start=1) if change < threshold]
        if hits:
            torch.manual_seed(7)
            assert ei(layer, topology, threshold=threshold, **common) == values[hits[0]]


def test_reference_ei_parts_stops_on_the_signed_relative_rule(two_by_two):
    layer, topology = two_by_two
    common = {"in_range": (0, 1), "out_range": (-1, 3), "in_bins": 8, "out_bins": 8, "reference": True}
    values = estimates(ei_parts, layer, topology, 4, **common)
    # deep-ei: stop after round k ≥ 2 when 2·(EI_{k−1} − EI_k)/EI_k ≤ threshold (it stops at once if EI rose)
    ratios = [2 * (old - new) / new for old, new in itertools.pairwise(values)]
    # threshold ≤ 0 is refused (it could never stop); a positive one still stops at once where EI rose (ratio < 0)
    candidates = {*ratios, *(r * 1.001 for r in ratios), *(r * 0.999 for r in ratios)}
    for threshold in sorted(t for t in candidates if t > 0):
        hits = [k for k, ratio in enumerate(ratios, start=1) if ratio <= threshold]
        if not hits:
            continue
        torch.manual_seed(7)
        assert ei_parts(layer, topology, threshold=threshold, **common) == values[hits[0]]


@pytest.mark.parametrize("reference", [True, False])
def test_the_automatic_schedule_starts_at_ten_thousand_and_doubles(two_by_two, reference):
    # With an infinite threshold every rule stops at its first comparison: the second round, 20 000 samples.
    layer, topology = two_by_two
    common = {"in_range": (0, 1), "out_range": (-1, 3), "in_bins": 8, "out_bins": 8, "reference": reference}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SampleCapWarning)
        values = estimates(ei, layer, topology, 2, **common)
        torch.manual_seed(7)
        assert ei(layer, topology, threshold=float("inf"), **common) == values[1]


def test_reference_bins_start_at_the_lower_bound_and_drop_what_lies_outside():
    # y = 2x on in_range = out_range = (−1, 1), 8 bins of 0.25. deep-ei's whole-layer rule drops the rows above the
    # range (x ≥ 0.5) and keeps those below (negative bins): on x < 0.5 (6 of x's 8 bins) y's bin determines x's,
    # I = log2 6. Its pairwise rule drops y outside [−1, 1) on both sides: on x in [−0.5, 0.5) (4 bins), log2 4.
    layer, topology = linear(np.array([[2.0]]))
    common = {"in_range": (-1, 1), "out_range": (-1, 1), "in_bins": 8, "out_bins": 8, "samples": 50_000}
    torch.manual_seed(0)
    assert ei(layer, topology, reference=True, **common) == pytest.approx(math.log2(6), abs=0.005)
    torch.manual_seed(0)
    assert ei_parts(layer, topology, reference=True, **common) == pytest.approx(2.0, abs=0.005)
    # clean mode, clipped into the edge bins: y bins 0 and 7 get 5/16 each, bins 1-6 1/16; H(Y|X) = 1/2 bit
    clipped = 2 * (5 / 16) * math.log2(16 / 5) + 6 / 16 * 4 - 0.5
    assert ei(layer, topology, **common) == pytest.approx(clipped, abs=0.005)
    assert ei_parts(layer, topology, **common) == pytest.approx(clipped, abs=0.005)


def test_default_ei_parts_stops_on_the_magnitude_of_the_relative_change(two_by_two):
    layer, topology = two_by_two
    common = {"in_range": (0, 1), "out_range": (-1, 3), "in_bins": 8, "out_bins": 8, "seed": 7, "device": "cpu"}
    values = estimates(ei_parts, layer, topology, 4, **common)
    # the default mode: stop after round k ≥ 2 when |2·(EI_{k−1} − EI_k)/EI_k| ≤ threshold, whichever way EI moved
    # (max_samples = 160 000 only bounds the run of a rule that would never hold)
    ratios = [abs(2 * (old - new) / new) for old, new in itertools.pairwise(values)]
    stops = []
    for threshold in sorted({*(r * 1.001 for r in ratios), *(r * 0.999 for r in ratios)}):
        hits = [k for k, ratio in enumerate(ratios, start=1) if ratio <= threshold]
        if hits:
            assert ei_parts(layer, topology, threshold=threshold, max_samples=160_000, **common) == values[hits[0]]
            stops.append(hits[0])
    assert len(set(stops)) > 1  # the thresholds stop it at different rounds


DEEP_EI_DEFAULTS = {"in_range": (0, 1), "out_range": (-1, 3), "seed": 7, "device": "cpu"}  # 64 bins, threshold 0.05


def rounds(function, layer, topology) -> tuple[list, int]:
    """``function`` at deep-ei's defaults on 10 000 · 2^k samples of one stream (k = 0 … 3), and the round where
    deep-ei's rule stops: |EI_k − EI_{k−1}| < 0.05 bit for EI, |2·(EI_{k−1} − EI_k)/EI_k| ≤ 0.05 for EI_parts."""
    values = [function(layer, topology, samples=10_000 * 2**k, **DEEP_EI_DEFAULTS) for k in range(4)]
    sums = [float(np.sum(value)) for value in values]
    if function is ei:
        converged = [abs(new - old) < 0.05 for old, new in itertools.pairwise(sums)]
    else:
        converged = [abs(2 * (old - new) / new) <= 0.05 for old, new in itertools.pairwise(sums)]
    return values, converged.index(True) + 1


@pytest.mark.parametrize("function", [ei, ei_parts, ei_parts_matrix])
def test_the_default_thresholds_are_deep_ei_s_and_max_samples_caps_the_schedule(two_by_two, function):
    # On this layer neither rule holds at 20 000 samples, so a max_samples of 20 000 stops the schedule there, with
    # a warning. (max_samples = 160 000 only bounds the run of a rule that would never hold.)
    layer, topology = two_by_two
    values, stop = rounds(function, layer, topology)
    assert stop >= 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        found = function(layer, topology, max_samples=160_000, **DEEP_EI_DEFAULTS)
    np.testing.assert_array_equal(found, values[stop])
    with pytest.warns(ConvergenceWarning, match="had not converged at 20000 samples"):
        np.testing.assert_array_equal(function(layer, topology, max_samples=20_000, **DEEP_EI_DEFAULTS), values[1])


@pytest.fixture(scope="module")
def ei_rounds():
    """The 2 × 2 layer and its EI rounds at deep-ei's defaults: the rule holds first at 80 000 samples."""
    layer, topology = linear(np.array([[1.3, -0.4], [0.7, 2.1]]))
    values, converged = rounds(ei, layer, topology)
    assert converged == 3
    return layer, topology, values


@pytest.mark.parametrize(("max_samples", "stop"), [(10_000, 0), (20_000, 1), (39_999, 1), (40_000, 2)])
def test_the_default_schedule_stops_at_max_samples_and_says_how_far_it_got(ei_rounds, max_samples, stop):
    # Before EI's rule holds, the schedule draws 10 000 · 2^k samples while the next total stays within
    # max_samples, and warns with the last estimate, its sample count and its change from the round before.
    layer, topology, values = ei_rounds
    change = f"{values[stop] - values[stop - 1]:+.4f}" if stop else "unknown"
    message = (f"the estimate {values[stop]:.4f} bits had not converged at {10_000 * 2**stop} samples (max_samples); "
               f"last change {change} bits.")  # fmt: skip
    with pytest.warns(ConvergenceWarning, match=f"^{re.escape(message)}$") as record:
        assert ei(layer, topology, max_samples=max_samples, **DEEP_EI_DEFAULTS) == values[stop]
    assert len(record) == 1
    assert Path(record[0].filename).parent != Path(measures.__file__).parent  # it points at the caller


def test_without_max_samples_or_in_reference_mode_only_the_rule_stops_the_schedule(two_by_two):
    # An infinite threshold stops every schedule at its first comparison, the second round (20 000 samples), however
    # small max_samples is in reference mode (deep-ei has none); the default mode also runs without one.
    layer, topology = two_by_two
    reference = {"in_range": (0, 1), "out_range": (-1, 3), "in_bins": 8, "out_bins": 8, "reference": True}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        second = ei(layer, topology, samples=20_000, **DEEP_EI_DEFAULTS)
        assert ei(layer, topology, threshold=float("inf"), max_samples=None, **DEEP_EI_DEFAULTS) == second
        second = estimates(ei, layer, topology, 2, **reference)[1]
        torch.manual_seed(7)
        assert ei(layer, topology, threshold=float("inf"), max_samples=10_000, **reference) == second


def test_reference_ei_drops_the_rows_above_the_range_in_every_round_of_its_schedule():
    # y = 2x on (0, 1), out_range (0, 1), 8 bins: the rows with y ≥ 1 (x ≥ 0.5) are dropped, and on the rest y's bin
    # determines x's 4 bins: 2 bits in every round (3 bits if the rows were kept).
    layer, topology = linear(np.array([[2.0]]))
    torch.manual_seed(0)
    common = {"in_range": (0, 1), "out_range": (0, 1), "in_bins": 8, "out_bins": 8, "reference": True}
    assert ei(layer, topology, threshold=float("inf"), **common) == pytest.approx(2.0, abs=0.01)
