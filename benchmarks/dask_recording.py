"""Recording + binarizing + counting of many inputs in this process against a 2-worker LocalCluster at equal cores.

(Not named distributed.py: a script of that name would shadow the `distributed` package it uses.)

Goal (issue 12): the distributed path costs at most 1.15× the in-process one. Both run the same fused shard tasks
(record the paper's MNIST CNN's 32-unit latent, write the activation and predicate partitions, count) over the
same shards; in-process torch uses all of this machine's cores, each of the ``--workers`` workers its share. The
inputs are random 28×28 images (the cost of a forward pass does not depend on the pixels). The cluster's start is
timed separately; the counts of both paths must be equal.

    python benchmarks/dask_recording.py --inputs 200000 --workers 2 --shard-rows 16384
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import torch
from torch.utils.data import TensorDataset

from ndg_pipeline.data.splits import Split
from ndg_pipeline.models import build_model
from ndg_pipeline.ndg.sharding import Measure, close_clients, executor, local_threads, measure_split


def main() -> None:
    """Time both paths and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inputs", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--shard-rows", type=int, default=16_384)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    generator = torch.Generator().manual_seed(0)
    images = torch.rand(args.inputs, 1, 28, 28, generator=generator)
    split = Split(TensorDataset(images, torch.randint(0, 10, (args.inputs,), generator=generator)))
    model = build_model({"architecture": "mnist_cnn", "num_classes": 10}, seed=0).eval()
    with tempfile.TemporaryDirectory() as store:

        def measure(name: str, threads: int | None) -> Measure:
            return Measure(
                {"latent": "latent"},
                "first",
                args.batch_size,
                args.device,
                f"{store}/{name}",
                thresholds={"latent": "sigmoid"},
                num_classes=10,
                count_device=args.device,
                threads=threads,
            )

        with executor(None) as run:
            start = time.perf_counter()
            here = measure_split(run, model, split, measure("here", None), args.shard_rows)
            in_process = time.perf_counter() - start
        start = time.perf_counter()
        with executor("local", args.workers) as run:
            started = time.perf_counter() - start
            threads = local_threads(args.workers)
            start = time.perf_counter()
            there = measure_split(run, model, split, measure("there", threads), args.shard_rows)
            distributed = time.perf_counter() - start
        close_clients()
    print(
        f"{args.inputs} inputs, shards of {args.shard_rows}, {os.cpu_count()} cores, device {args.device}\n"
        f"  in-process (torch threads {torch.get_num_threads()}): {in_process:.2f} s\n"
        f"  LocalCluster {args.workers} workers x {threads} torch threads: {distributed:.2f} s "
        f"(+ {started:.2f} s to start the cluster)\n"
        f"  ratio distributed / in-process: {distributed / in_process:.2f} (goal <= 1.15); "
        f"with the start: {(distributed + started) / in_process:.2f}\n"
        f"  counts equal: {here == there} (N = {here.n_rows}, {len(here.columns)} predicates)"
    )


if __name__ == "__main__":
    main()
