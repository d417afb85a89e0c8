"""Are trained weights bit-identical across runs, and across CPUs? Trains the default CNN on a small slice of the
embedded MNIST sample in fresh processes under different CPU math settings and compares the weights.

Another x86-64 machine differs from this one mostly in the instruction set its math libraries pick (AVX2 or
AVX-512 kernels sum in another order). Pinning the kernels to one ISA on every machine — ATen's
``ATEN_CPU_CAPABILITY``, oneDNN's ``ONEDNN_MAX_CPU_ISA``, MKL's conditional numerical reproducibility
``MKL_CBWR`` — is the candidate for identical weights everywhere; this script shows whether the setting changes
the weights at all here (if the pinned run equals the default one, this machine already uses that ISA) and what
it costs in time. Run: ``.venv/bin/python benchmarks/reproducibility.py [--limit 1000 --epochs 2]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time

SETTINGS = {
    "default (run 1)": {},
    "default (run 2)": {},
    "one thread": {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
    "pinned AVX2": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_CBWR": "AVX2"},
    "pinned AVX2, one thread": {
        "ATEN_CPU_CAPABILITY": "avx2",
        "ONEDNN_MAX_CPU_ISA": "AVX2",
        "MKL_CBWR": "AVX2",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    },
    "no vector ISA (ATen default, oneDNN SSE4.1)": {
        "ATEN_CPU_CAPABILITY": "default",
        "ONEDNN_MAX_CPU_ISA": "SSE41",
        "MKL_CBWR": "COMPATIBLE",
    },
}
CHILD = """
import hashlib, json, sys, time
import torch
from ndg_pipeline.config import validate
from ndg_pipeline.pipelines.ndg.nodes import prepare_data, train_model
limit, epochs = int(sys.argv[1]), int(sys.argv[2])
params = validate({"data": {"limit": limit}, "train": {"epochs": epochs, "checkpoints": [epochs], "device": "cpu"}})
splits, _ = prepare_data(params.data)
start = time.perf_counter()
model, history, _, _ = train_model(splits, params.model.root, params.train)
seconds = time.perf_counter() - start
digest = hashlib.sha256()
for name, tensor in sorted(model.state_dict().items()):
    digest.update(name.encode()); digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
weights = torch.cat([t.detach().flatten().double() for _, t in sorted(model.state_dict().items())])
torch.save(weights, sys.argv[3])
capability = torch.backends.cpu.get_cpu_capability()
accuracy = float(history["test_accuracy"].iloc[-1])
result = {"sha256": digest.hexdigest()[:16], "seconds": seconds, "capability": capability}
print(json.dumps({**result, "test_accuracy": accuracy}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=1000, help="digits of the embedded sample to train on")
    parser.add_argument("--epochs", type=int, default=2)
    arguments = parser.parse_args()
    import torch

    results = {}
    for name, extra in SETTINGS.items():
        path = f"/tmp/reproducibility-{hashlib.md5(name.encode()).hexdigest()[:8]}.pt"
        environment = {**os.environ, "TQDM_DISABLE": "1", **extra}
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(arguments.limit), str(arguments.epochs), path],
            env=environment,
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result["process_seconds"] = time.perf_counter() - started
        result["weights"] = torch.load(path)
        results[name] = result
    reference = results["default (run 1)"]["weights"]
    print(f"trained on {arguments.limit} digits for {arguments.epochs} epochs, CPU, in fresh processes")
    print(f"{'setting':46} {'ATen ISA':9} {'sha256':17} {'train s':>8} {'test acc':>8} {'max |Δw| vs run 1':>18}")
    for name, result in results.items():
        difference = float((result["weights"] - reference).abs().max())
        print(
            f"{name:46} {result['capability']:9} {result['sha256']:17} {result['seconds']:8.1f} "
            f"{100 * result['test_accuracy']:8.2f} {difference:18.3g}"
        )


if __name__ == "__main__":
    main()
