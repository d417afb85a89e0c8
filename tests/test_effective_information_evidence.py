"""The effective-information lens as evidence: closed forms that pin each rule (silent value, stopping rules, floor,
binning), convergence flags, refused input, and deep-ei 0.7.0's own numbers for the cases its topology defines."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from ndg_pipeline.data.splits import Split
from ndg_pipeline.effective_information import (
    ConvergenceWarning,
    Estimate,
    SampleCapWarning,
    binning,
    ei,
    ei_parts,
    ei_parts_matrix,
    estimators,
    layer_estimates,
    sensitivity,
    topology_of,
    vector_and_pairwise_ei,
)
from ndg_pipeline.effective_information.experiments import Measurement, measure_layers, measure_model

BINS = {"in_bins": 8, "out_bins": 8}


def _linear(weight, activation: nn.Module | None = None) -> tuple[nn.Sequential, object]:
    weight = torch.as_tensor(weight, dtype=torch.float32)
    layer = nn.Linear(weight.shape[1], weight.shape[0], bias=False)
    with torch.no_grad():
        layer.weight.copy_(weight)
    net = nn.Sequential(layer, *([activation] if activation is not None else []))
    return net, topology_of(net, torch.zeros((1, weight.shape[1])))


# ---- the four rules the mutations changed ---------------------------------------------------------------


@pytest.mark.parametrize("reference", [True, False])
def test_sensitivity_holds_the_other_inputs_at_zero_not_at_the_lower_bound(reference):
    # y = x_1 + x_2, inputs on (−1, 1), outputs binned in 2 bins over (−2, 2): perturbing x_A alone with the other
    # at 0 gives y = x_A, whose sign is x_A's bin — 1 bit per input, 2 bits in all. Held at −1 instead, y = x_A − 1
    # stays in one bin: 0 bits.
    net, topology = _linear([[1.0, 1.0]])
    torch.manual_seed(0)
    value = sensitivity(net[0], topology, samples=20_000, in_range=(-1, 1), out_range=(-2, 2), in_bins=2,
                        out_bins=2, reference=reference)  # fmt: skip
    assert value == pytest.approx(2.0, abs=1e-3)
    held_low = sensitivity(net[0], topology, samples=20_000, in_range=(-1, 1), out_range=(-2, 2), in_bins=2,
                           out_bins=2, reference=reference, silent=-1.0)  # fmt: skip
    assert held_low == pytest.approx(0.0, abs=1e-9)


def _rounds(net, topology, function, **kwargs) -> list[float]:
    """The estimates at 10k, 20k, 40k, … samples from one seeded generator (the automatic schedule's draws)."""
    return [function(net[0], topology, samples=10_000 * 2**k, seed=3, **kwargs) for k in range(6)]


def test_automatic_ei_parts_stops_at_the_first_round_whose_relative_change_is_within_threshold():
    torch.manual_seed(2)
    net, topology = _linear(torch.randn(3, 3) * 2, nn.Sigmoid())
    kwargs = {"in_range": (0, 1), **BINS}
    values = _rounds(net, topology, ei_parts, **kwargs)
    threshold = 0.003
    # the schedule adds as many samples as drawn so far: change predicted for one more doubling = 2 |ΔEI|
    stop = next(k for k in range(1, 6) if 2 * abs(values[k - 1] - values[k]) / values[k] <= threshold)
    assert stop == 4  # EI_parts rose from round 2 to 3: deep-ei's signed rule would have stopped there
    assert values[3] > values[2]
    auto = ei_parts(net[0], topology, threshold=threshold, seed=3, **kwargs)
    assert auto == pytest.approx(values[stop], abs=1e-12)


def test_automatic_whole_ei_stops_at_the_first_round_whose_change_is_below_threshold_bits():
    torch.manual_seed(0)
    net, topology = _linear(torch.randn(3, 3) * 2, nn.Sigmoid())
    kwargs = {"in_range": (0, 1), **BINS}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SampleCapWarning)
        values = _rounds(net, topology, ei, **kwargs)
    threshold = 0.012
    stop = next(k for k in range(1, 6) if abs(values[k] - values[k - 1]) < threshold)
    assert stop == 4
    assert ei(net[0], topology, threshold=threshold, seed=3, **kwargs) == pytest.approx(values[stop], abs=1e-12)


def test_only_reference_ei_parts_floors_values_below_a_hundredth_of_a_bit():
    # y = x on (0, 1), 8 output bins over (0, 7.995): only x ≥ 0.999375 reaches bin 1 — I(x; y) ≈ 0.002 bits.
    net, topology = _linear([[1.0]])
    kwargs = {"samples": 200_000, "in_range": (0, 1), "out_range": (0, 7.995), **BINS}
    torch.manual_seed(0)
    clean = ei_parts(net[0], topology, **kwargs)
    assert 0.0005 < clean < 0.01
    torch.manual_seed(0)
    assert ei_parts(net[0], topology, reference=True, **kwargs) == 0.0
    torch.manual_seed(0)
    assert 0.0005 < ei_parts_matrix(net[0], topology, reference=True, **kwargs).sum() < 0.01  # no floor there


def test_the_three_binning_conventions_on_hand_picked_values():
    values = torch.tensor([-0.5, 0.0, 0.124, 0.125, 0.999, 1.0, 1.0000005, 1.5])
    assert binning.clipped(values, (0.0, 1.0), 8).tolist() == [0, 0, 0, 1, 7, 7, 7, 7]
    drop = binning.DROPPED
    assert binning.reference_pairwise(values, (0.0, 1.0), 8).tolist() == [drop, 0, 0, 1, 7, 7, 7, drop]
    assert binning.reference_vector(values, (0.0, 1.0), 8).tolist() == [-4, 0, 0, 0, 7, 7, 7, 11]


def test_clipped_bins_start_at_the_lower_bound_of_a_shifted_range():
    values = torch.tensor([-3.0, -1.01, -0.99, 0.0, 0.99, 1.01, 3.0])
    assert binning.clipped(values, (-1.0, 1.0), 2).tolist() == [0, 0, 0, 1, 1, 1, 1]
    assert binning.clipped(values, (-2.0, 2.0), 4).tolist() == [0, 0, 1, 2, 2, 3, 3]


# ---- estimators against closed forms ----------------------------------------------------------------------------


def test_mutual_information_of_hand_tables():
    tables = torch.tensor(
        [[[5, 0], [0, 5]], [[3, 3], [3, 3]], [[0, 0], [0, 0]], [[4, 0], [0, 12]], [[2, 1], [1, 2]]], dtype=torch.int64
    )
    expected = [1.0, 0.0, 0.0, -(0.25 * math.log2(0.25) + 0.75 * math.log2(0.75))]
    p = torch.tensor([[2, 1], [1, 2]], dtype=torch.float64) / 6
    expected.append(float((p * torch.log2(p / 0.25)).sum()))
    assert estimators.mutual_information_bits(tables).tolist() == pytest.approx(expected, abs=1e-12)


def _counted_by_hand(bx: np.ndarray, by: np.ndarray, in_bins: int, out_bins: int) -> np.ndarray:
    """Brute force: every sample, pair by pair, skipping DROPPED bins."""
    counts = np.zeros((bx.shape[1], by.shape[2], in_bins, out_bins), dtype=np.int64)
    for s, a, b in itertools.product(range(len(bx)), range(bx.shape[1]), range(by.shape[2])):
        i, j = bx[s, a], by[s, 0 if by.shape[1] == 1 else a, b]
        if i != binning.DROPPED and j != binning.DROPPED:
            counts[a, b, i, j] += 1
    return counts


def test_pair_counts_match_a_brute_force_count_dropped_values_and_chunks_included():
    generator = np.random.default_rng(0)
    bx = generator.integers(-1, 4, (300, 3)).astype(np.int16)
    for by in (generator.integers(-1, 5, (300, 1, 2)), generator.integers(-1, 5, (300, 3, 2))):  # shared, per input
        by = by.astype(np.int16)
        expected = _counted_by_hand(bx, by, 4, 5)
        assert np.array_equal(estimators._pair_counts(bx, by, 4, 5, 0, 3), expected)
        assert np.array_equal(estimators._pair_counts(bx, by, 4, 5, 1, 3), expected[1:])  # a chunk of inputs


def test_whole_layer_mutual_information_by_hand_and_with_wide_rows():
    x = torch.tensor([[0, 0], [0, 1], [1, 0], [1, 1]] * 25, dtype=torch.int16)
    assert estimators.vector_mutual_information(x, x) == pytest.approx(2.0)
    assert estimators.vector_mutual_information(x, x[:, :1]) == pytest.approx(1.0)
    assert estimators.vector_mutual_information(x, torch.zeros((100, 1), dtype=torch.int16)) == pytest.approx(0.0)
    wide = torch.randint(0, 8, (500, 30), generator=torch.Generator().manual_seed(0), dtype=torch.int16)
    assert estimators.vector_mutual_information(wide, wide) == pytest.approx(math.log2(500))  # every row unique


# ---- convergence flags ------------------------------------------------------------------------------------------


def test_an_estimate_is_converged_within_a_twentieth_of_a_bit_or_two_percent():
    assert Estimate(3.0, 3.059, 1000).converged and not Estimate(3.0, 3.061, 1000).converged  # 2 % of 3 = 0.06
    assert Estimate(0.5, 0.549, 1000).converged and not Estimate(0.5, 0.551, 1000).converged  # 0.05 bit
    assert Estimate(0.5, 0.45, 1000).change == pytest.approx(0.05)


def test_a_capped_layer_is_flagged_and_its_whole_ei_left_out():
    # 8 inputs at 8 bins = 16.8 M input cells against 20 000 samples: every input tuple is unique, so the whole-layer
    # estimate is H(binned outputs) at N/2 and at N alike — the N/2 → N check cannot see this bias, the cap rule does.
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(8, 2, bias=False), nn.Sigmoid())
    topology = topology_of(net, torch.zeros((1, 8)))
    found = layer_estimates("0", topology, 20_000, 500, in_range=(0, 1))
    assert found.ei.change < 0.05 and found.ei_parts.converged
    wide = layer_estimates("0", topology, 20_000, 500, in_range=(0, 1), bins=64)  # H(Y) grows with the bins …
    assert wide.ei.value > found.ei.value + 2  # … and so does the capped "EI": it measures the outputs' entropy
    rows = measure_layers(net, torch.zeros((1, 8)), Measurement(samples=20_000, sensitivity_samples=500), ["0"])
    assert rows[0]["capped"] and not rows[0]["ei_converged"] and math.isnan(rows[0]["ei"])  # … but never reported
    assert math.isnan(rows[0]["integration"]) and rows[0]["ei_parts_converged"]


def test_measure_model_is_measure_layers_with_observed_ranges_from_the_training_inputs():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    inputs = torch.rand((64, 3))
    train = Split(torch.utils.data.TensorDataset(inputs, torch.zeros(64, dtype=torch.int64)))
    settings = Measurement(samples=4_000, sensitivity_samples=200)
    table = measure_model(net, ["2"], settings, train, range_inputs=32)
    by_hand = measure_layers(net, inputs[:1], settings, ["2"], inputs=inputs[:32])
    pd.testing.assert_frame_equal(table.drop(columns="extension"), pd.DataFrame(by_hand))
    assert table["extension"].all()
    hidden = torch.relu(net[0](inputs[:32])).detach()  # the ReLU layer's real activations set layer 2's input range
    assert (table.at[0, "in_low"], table.at[0, "in_high"]) == (float(hidden.min()), float(hidden.max()))
    with pytest.raises(ValueError, match=r"\['9'\].*\(iris\); its Linear layers are \['0', '2'\]"):
        measure_model(net, ["9"], settings, example=torch.zeros((1, 3)), dataset="iris")


def test_outputs_outside_their_range_are_counted_and_flagged():
    _, topology = _linear([[2.0]])  # y = 2x on (0, 1) with out_range (0, 1): half the outputs lie above
    found = layer_estimates("0", topology, 20_000, 100, in_range=(0, 1), out_range=(0, 1))
    assert found.outside_share == pytest.approx(0.5, abs=0.02)


# ---- refused input ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_weights_or_biases_are_refused(bad):
    net = nn.Sequential(nn.Linear(3, 2), nn.Sigmoid())
    topology = topology_of(net, torch.zeros((1, 3)))
    with torch.no_grad():
        net[0].bias[1] = bad
    for function in (ei, ei_parts, sensitivity):
        with pytest.raises(ValueError, match="NaN or inf"):
            function(net[0], topology, samples=100, **BINS)


def test_bad_counts_are_refused_and_whole_floats_accepted():
    torch.manual_seed(0)
    net, topology = _linear(torch.randn(2, 2), nn.Sigmoid())
    for function in (ei, ei_parts, sensitivity, vector_and_pairwise_ei):
        with pytest.raises(ValueError, match=r"in_bins=8\.5"):
            function(net[0], topology, samples=100, in_bins=8.5, out_bins=8)
        with pytest.raises(ValueError, match=r"samples=100\.5"):
            function(net[0], topology, samples=100.5, **BINS)
        for reference in (True, False):
            with pytest.raises(ValueError, match="batch_size=0"):
                function(net[0], topology, samples=100, batch_size=0, reference=reference, **BINS)
    assert ei_parts(net[0], topology, samples=1e4, **BINS) == ei_parts(net[0], topology, samples=10_000, **BINS)


def test_a_schedule_that_could_never_stop_is_refused():
    net, topology = _linear([[1.0]], nn.Sigmoid())
    with pytest.raises(ValueError, match="never stops"):
        ei_parts(net[0], topology, threshold=0.0, reference=True, **BINS)
    with pytest.raises(ValueError, match="never stops"):
        ei(net[0], topology, threshold=-1.0, max_samples=None, **BINS)
    with pytest.warns(ConvergenceWarning):
        ei(net[0], topology, threshold=0.0, max_samples=40_000, **BINS)


# ---- deep-ei 0.7.0's own numbers --------------------------------------------------------------------------------
# Computed once with deep-ei 0.7.0 in a side venv (python3.11 -m venv V && V/bin/pip install torch==2.13.0
# deep-ei==0.7.0 networkx==2.5.1 numpy==1.26.4), by `V/bin/python cases.py` where cases.py builds each model right
# after torch.manual_seed(3) (the modules below; the chain's weights then multiplied by 8 under no_grad), takes
# deep_ei.topology_of(net, zeros((1, n))), and
# for ei, ei_parts, sensitivity calls torch.manual_seed(4) and f(layer, top, samples=20000, in_bins=8, out_bins=8,
# batch_size=20, **extra); the bare Linear(5, 5) (ei_parts) and Linear(2, 2) (ei) are each built after
# manual_seed(0) and measured in the automatic mode (samples=None) after manual_seed(1), in/out range (0, 1),
# activation=nn.Sigmoid().
DEEP_EI = {
    "reused_l2": [4.2769119979576224, 2.635902694986841, 0.0],
    "functional_l2": [9.896093866685247, 4.119738410857142, 31.881706031456055],
    "chain_0_4_x8": [1.5052099929784895, 1.0590058856602478, 5.976250862464363],
    "flatten_l3": [9.431604259781754, 3.147446363154042, 47.478562776214744],
    "bare_linear_auto": [1.8908145344861702, 0.886447474045581],
}


class Reused(nn.Module):
    """One Sigmoid module applied after both Linear layers."""

    def __init__(self):
        super().__init__()
        self.l1, self.l2, self.act = nn.Linear(4, 5, bias=False), nn.Linear(5, 5, bias=False), nn.Sigmoid()

    def forward(self, x):
        return self.act(self.l2(self.act(self.l1(x))))


class Functional(nn.Module):
    """torch.sigmoid calls: invisible to deep-ei's hooks (and to ours)."""

    def __init__(self):
        super().__init__()
        self.l1, self.l2 = nn.Linear(4, 5, bias=False), nn.Linear(5, 5, bias=False)

    def forward(self, x):
        return torch.sigmoid(self.l2(torch.sigmoid(self.l1(x))))


def _case(name):
    torch.manual_seed(3)
    if name == "reused_l2":
        net = Reused()
        return net, 4, net.l2, {}
    if name == "functional_l2":
        net = Functional()
        return net, 4, net.l2, {}
    if name == "chain_0_4_x8":
        net = nn.Sequential(nn.Linear(4, 5, bias=False), nn.Sigmoid(), nn.Linear(5, 5, bias=False), nn.Sigmoid(),
                            nn.Linear(5, 3, bias=False), nn.Sigmoid())  # fmt: skip
        with torch.no_grad():
            for index in (0, 2, 4):
                net[index].weight.mul_(8.0)
        return net, 4, net[4], {"in_layer": net[0], "in_range": (0, 1)}
    net = nn.Sequential(nn.Linear(6, 6, bias=False), nn.ReLU(), nn.Flatten(), nn.Linear(6, 4, bias=False), nn.Sigmoid())
    return net, 6, net[3], {}


@pytest.mark.parametrize("name", ["reused_l2", "functional_l2", "chain_0_4_x8", "flatten_l3"])
def test_reference_mode_gives_deep_ei_numbers_where_its_topology_defines_them(name):
    net, n_in, layer, extra = _case(name)
    topology = topology_of(net, torch.zeros((1, n_in)))
    values = []
    for function in (ei, ei_parts, sensitivity):
        torch.manual_seed(4)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SampleCapWarning)
            values.append(function(layer, topology, samples=20000, batch_size=20, reference=True, **BINS, **extra))
    assert values == pytest.approx(DEEP_EI[name], abs=1e-6)


def test_a_bare_linear_layer_and_the_automatic_modes_give_deep_ei_numbers():
    ranges = {"in_range": (0, 1), "out_range": (0, 1), "activation": nn.Sigmoid(), "batch_size": 20, "reference": True}
    ranges |= BINS
    torch.manual_seed(0)
    layer = nn.Linear(5, 5, bias=False)
    topology = topology_of(layer, input=torch.zeros((1, 5)))  # deep-ei's README example
    torch.manual_seed(1)
    parts = ei_parts(layer, topology, **ranges)
    torch.manual_seed(0)
    small = nn.Linear(2, 2, bias=False)
    torch.manual_seed(1)
    whole = ei(small, topology_of(small, input=torch.zeros((1, 2))), **ranges)
    assert [parts, whole] == pytest.approx(DEEP_EI["bare_linear_auto"], abs=1e-6)
