"""The effective-information library against the spec's reference values, closed forms and deep-ei 0.7.0 runs."""

from __future__ import annotations

import math
import warnings

import pytest
import torch
from torch import nn

from ndg_pipeline.effective_information import (
    SampleCapWarning,
    ei,
    ei_parts,
    ei_parts_matrix,
    sensitivity,
    topology_of,
    vector_and_pairwise_ei,
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
    with pytest.warns(SampleCapWarning, match="8\\^6 input cells"):
        ei(net[0], topology, samples=5000, in_range=(0, 1), **BINS)


def test_convolutions_are_refused_with_the_measurable_layers_named():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 3), nn.Sigmoid())
    topology = topology_of(net, torch.zeros((1, 1, 4, 4)))
    with pytest.raises(NotImplementedError, match=r"Conv2d.*Measurable layers: 3"):
        ei_parts(net[0], topology, samples=100)
    assert topology.nodes["3"]["input"]["range"] == (-10.0, 10.0)  # deep-ei: Flatten hides the ReLU before it
    assert ei_parts(net[3], topology, samples=2000, **BINS) > 0.0
