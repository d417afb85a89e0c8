"""Effective information: ours vs deep-ei 0.7.0 on the same calls, and the largest layer we measure.

    .venv/bin/python benchmarks/effective_information.py [--samples 1000000] [--deep-ei /tmp/deepei-venv/bin/python]

Part 1 runs the full causal-plane measurement (EI, EI_parts, sensitivity of the three layers of the Iris 4-5-5-3
sigmoid network, 8 bins, ``torch.manual_seed`` before each call) in reference mode here and with deep-ei in its side
venv (recipe: shared/spec/deep-ei-reference.md), and prints both times, the ratio and the largest difference.
Part 2 times EI_parts of a 784 × 100 sigmoid layer at 64 bins and prints the peak resident memory.
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
samples, ours = int(sys.argv[1]), sys.argv[2] == "ours"
if ours:
    from ndg_pipeline.effective_information import topology_of, ei, ei_parts, sensitivity, SampleCapWarning
    warnings.simplefilter("ignore", SampleCapWarning)
    extra = {"reference": True}
else:
    from deep_ei import topology_of, ei, ei_parts, sensitivity
    extra = {}
torch.manual_seed(0)
net = nn.Sequential(nn.Linear(4, 5), nn.Sigmoid(), nn.Linear(5, 5), nn.Sigmoid(), nn.Linear(5, 3), nn.Sigmoid())
top = topology_of(net, torch.zeros((1, 4)))
values, start = [], time.perf_counter()
for index in (0, 2, 4):
    ranges = {"in_range": (0, 1)} if index == 0 else {}
    for measure in (ei, ei_parts, sensitivity):
        torch.manual_seed(1)
        values.append(measure(net[index], top, samples=samples, in_bins=8, out_bins=8, **ranges, **extra))
print(json.dumps({"seconds": time.perf_counter() - start, "values": values}))
"""


def _run(python: str, samples: int, which: str) -> dict:
    result = subprocess.run([python, "-c", CALLS, str(samples), which], capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--deep-ei", default="/tmp/deepei-venv/bin/python", help="python of deep-ei's side venv")
    parser.add_argument("--large-samples", type=int, default=20_000)
    args = parser.parse_args()
    ours = _run(sys.executable, args.samples, "ours")
    print(f"ours (reference mode), Iris causal plane at {args.samples} samples: {ours['seconds']:.2f} s")
    try:
        theirs = _run(args.deep_ei, args.samples, "deep-ei")
    except (FileNotFoundError, subprocess.CalledProcessError) as error:
        print(f"deep-ei not run ({error}); install its side venv as shared/spec/deep-ei-reference.md says")
    else:
        difference = max(abs(a - b) for a, b in zip(ours["values"], theirs["values"], strict=True))
        print(f"deep-ei 0.7.0: {theirs['seconds']:.2f} s; ratio {theirs['seconds'] / ours['seconds']:.1f}×; "
              f"largest difference {difference:.2e} bits")  # fmt: skip
    largest_layer(784, 100, 64, args.large_samples)


if __name__ == "__main__":
    main()
