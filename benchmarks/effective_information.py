"""Effective information: ours vs deep-ei 0.7.0 on the same calls, and the largest layer we measure.

    PYTHONPATH=src .venv/bin/python benchmarks/effective_information.py [--samples 1000000]
        [--sensitivity-samples 50000] [--deep-ei /work/deepei-venv/bin/python]

Part 1 runs the Iris causal-plane measurement (``vector_and_pairwise_ei`` at ``--samples`` and ``sensitivity`` at
``--sensitivity-samples`` for the three layers of the Iris 4-5-5-3 sigmoid network, 8 bins, ``torch.manual_seed``
before each call, one thread) three ways in one run: our reference mode, our default (fast) mode, and deep-ei in its
side venv (a venv with torch 2.13.0, deep-ei 0.7.0, networkx 2.5.1, numpy 1.26.4); it prints the wall and CPU
times, the ratios and the largest difference of the reference mode to deep-ei. Each of the three makes one small
warm-up call first (ours loads its compiled numba kernels from the cache on the first call, about 2 s). Without
the side venv it says so and times ours only.
Part 2 times one 10^7-sample measurement of an Iris layer (the paper's count). Part 3 times EI_parts of a 784 × 100
sigmoid layer at 64 bins and prints the peak resident memory. Part 4 times the pair counts of a 128 × 128 layer (the
CNN's ``decoder.3``) at 8 bins with the count table of each chunk of input neurons at 32 MB and at
``estimators.TABLE_CELLS``, side by side, and checks that both give the same matrix.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import warnings

CALLS = r"""
import json, sys, time, warnings, torch
from torch import nn
torch.set_grad_enabled(False)
torch.set_num_threads(1)
samples, sensitivity_samples, which = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
if which == "deep-ei":
    from deep_ei import topology_of, vector_and_pairwise_ei, sensitivity
    extra = {}
else:
    from ndg_pipeline.effective_information import topology_of, vector_and_pairwise_ei, sensitivity, SampleCapWarning
    warnings.simplefilter("ignore", SampleCapWarning)
    extra = {"reference": which == "reference"}
torch.manual_seed(0)
net = nn.Sequential(nn.Linear(4, 5), nn.Sigmoid(), nn.Linear(5, 5), nn.Sigmoid(), nn.Linear(5, 3), nn.Sigmoid())
top = topology_of(net, torch.zeros((1, 4)))
vector_and_pairwise_ei(net[0], top, samples=1000, in_bins=8, out_bins=8, in_range=(0, 1), **extra)  # warm-up
sensitivity(net[0], top, samples=1000, in_bins=8, out_bins=8, in_range=(0, 1), **extra)
values, start, cpu = [], time.perf_counter(), time.process_time()
for index in (0, 2, 4):
    ranges = {"in_range": (0, 1)} if index == 0 else {}
    torch.manual_seed(1)
    values += vector_and_pairwise_ei(net[index], top, samples=samples, in_bins=8, out_bins=8, **ranges, **extra)
    torch.manual_seed(1)
    values.append(sensitivity(net[index], top, samples=sensitivity_samples, in_bins=8, out_bins=8, **ranges, **extra))
print(json.dumps({"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu, "values": values}))
"""


def _run(python: str, samples: int, sensitivity_samples: int, which: str) -> dict:
    command = [python, "-c", CALLS, str(samples), str(sensitivity_samples), which]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def _times(run: dict) -> str:
    return f"{run['seconds']:.2f} s wall ({run['cpu']:.2f} s CPU)"


def _ratios(slow: dict, quick: dict) -> str:
    """Ratios of wall and of CPU times: on a shared machine the CPU time is the one load does not inflate."""
    return f"{slow['seconds'] / quick['seconds']:.1f}× wall, {slow['cpu'] / quick['cpu']:.1f}× CPU"


def paper_count(samples: int) -> None:
    """Time of one measurement of the Iris middle layer at the paper's sample count (EI, EI_parts, checks)."""
    import torch

    from ndg_pipeline.effective_information import layer_estimates, topology_of
    from ndg_pipeline.effective_information.networks import iris_network

    net = iris_network(seed=0)
    topology = topology_of(net, torch.zeros((1, 4)))
    layer_estimates("2", topology, 10_000, 500)  # warm-up: loads the compiled kernels
    start, cpu = time.perf_counter(), time.process_time()
    found = layer_estimates("2", topology, samples, 5000)
    times = f"{time.perf_counter() - start:.1f} s wall ({time.process_time() - cpu:.1f} s CPU)"
    print(f"Iris layer 2 at {samples} samples (EI, EI_parts with N/2 checks, sensitivity at 5000): {times}; "
          f"EI {found.ei.value:.3f} (change {found.ei.change:.3f}), "
          f"EI_parts {found.ei_parts.value:.3f} (change {found.ei_parts.change:.4f})")  # fmt: skip


def largest_layer(n_in: int, n_out: int, bins: int, samples: int) -> None:
    """Time and peak memory of EI_parts of an n_in × n_out sigmoid layer."""
    import torch
    from torch import nn

    from ndg_pipeline.effective_information import ei_parts, topology_of

    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(n_in, n_out), nn.Sigmoid())
    topology = topology_of(net, torch.zeros((1, n_in)))
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = ei_parts(net[0], topology, samples=samples, in_range=(0, 1), in_bins=bins, out_bins=bins)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"EI_parts {n_in}×{n_out}, {bins} bins, {samples} samples: {value:.3f} bits in {seconds:.1f} s, "
          f"peak RSS {peak:.0f} MB")  # fmt: skip


def table_size(samples: int, sizes: tuple[int, ...] = (1 << 22,)) -> None:
    """Pair counts of a 128 × 128 layer at 8 bins with each chunk's count table at each size and at the default."""
    import torch

    from ndg_pipeline.effective_information import estimators

    generator = torch.Generator().manual_seed(0)
    bx, by = (torch.randint(0, 8, (samples, 128), generator=generator) for _ in range(2))
    default = estimators.TABLE_CELLS
    times, results = {}, []
    for cells in (*sizes, default):
        estimators.TABLE_CELLS = cells
        estimators.pairwise_mutual_information(bx[:1000], by[:1000], 8, 8)
        start = time.perf_counter()
        results.append(estimators.pairwise_mutual_information(bx, by, 8, 8))
        times[cells] = time.perf_counter() - start
    estimators.TABLE_CELLS = default
    same = all(torch.equal(result, results[0]) for result in results)
    shown = ", ".join(f"{cells * 8 / 2**20:g} MB tables {seconds:.1f} s" for cells, seconds in times.items())
    print(
        f"pair counts 128×128, 8 bins, {samples} samples: {shown} (default {default * 8 / 2**20:g} MB; "
        f"{times[sizes[0]] / times[default]:.1f}× faster than {sizes[0] * 8 / 2**20:g} MB; same matrix: {same})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--sensitivity-samples", type=int, default=50_000)
    parser.add_argument("--deep-ei", default="/work/deepei-venv/bin/python", help="python of deep-ei's side venv")
    parser.add_argument("--paper-samples", type=int, default=10_000_000)
    parser.add_argument("--large-samples", type=int, default=20_000)
    parser.add_argument("--table-samples", type=int, default=500_000)
    args = parser.parse_args()
    counts = (args.samples, args.sensitivity_samples)
    reference = _run(sys.executable, *counts, "reference")
    fast = _run(sys.executable, *counts, "fast")
    ours = f"ours reference {_times(reference)}, ours fast {_times(fast)}"
    print(f"Iris causal plane, vector_and_pairwise_ei at {args.samples} + sensitivity at {args.sensitivity_samples}, "
          f"3 layers, one thread: {ours}")  # fmt: skip
    try:
        theirs = _run(args.deep_ei, *counts, "deep-ei")
    except (FileNotFoundError, subprocess.CalledProcessError) as error:
        print(f"deep-ei not run ({type(error).__name__}: no side venv at {args.deep_ei}); ratios left out")
    else:
        difference = max(abs(a - b) for a, b in zip(reference["values"], theirs["values"], strict=True))
        print(f"deep-ei 0.7.0: {_times(theirs)}; reference mode {_ratios(theirs, reference)} faster (largest "
              f"difference {difference:.2e} bits), fast mode {_ratios(theirs, fast)} faster")  # fmt: skip
    paper_count(args.paper_samples)
    largest_layer(784, 100, 64, args.large_samples)
    table_size(args.table_samples)


if __name__ == "__main__":
    main()
