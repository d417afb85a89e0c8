"""Speed of the interaction lens: the fast transforms against dense matrices, the batched AND-OR split, and the
masked forward pass against the same model's bare batched inference.

    python benchmarks/interactions.py                     # all three, on the CPU
    python benchmarks/interactions.py --device cuda --iterations 10000

1. ``and_interactions`` / ``or_interactions`` (fast Möbius transforms, float64) at n = 10 … 22 players, beside the
   authors' dense 2^n × 2^n float32 matrix-vector product where it fits (n ≤ 13; building the matrix is timed
   apart). 2. Learning the AND-OR split of 20 samples at n = 12 (10 000 iterations; goal < 5 s on 2 CPU cores),
   beside the dense form timed on a few iterations and extrapolated. 3. Rewards on all 2^n masks of one input
   (the MNIST CNN, image cells; a small DistilBERT, words written through the probe) against the bare forward
   pass of the same number of already-built inputs (goal: ratio ≤ 1.2).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import torch
from tqdm.auto import tqdm

from ndg_pipeline.device import resolve_device
from ndg_pipeline.interactions import (
    ImageMasker,
    TokenMasker,
    and_interactions,
    compute_rewards,
    grid_players,
    learn_and_or,
    or_interactions,
    subset_masks,
)
from ndg_pipeline.interactions.and_or import _learn_torch, decaying_rates
from ndg_pipeline.models import build_model


def best_of(function: Callable[[], object], repeats: int) -> float:
    """The fastest of ``repeats`` wall-clock timings, in seconds (synchronising CUDA)."""
    times = []
    for _ in range(repeats):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        start = time.perf_counter()
        function()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return min(times)


def dense_and_matrix(n: int) -> np.ndarray:
    """The authors' reward → interaction matrix: (−1)^{|S|−|L|} where L ⊆ S (float32, 4^n entries)."""
    index = np.arange(1 << n)
    sizes = np.bitwise_count(index).astype(np.int64)
    subset = (index[None, :] & ~index[:, None]) == 0
    signs = np.where((sizes[:, None] - sizes[None, :]) % 2 == 0, 1.0, -1.0).astype(np.float32)
    return np.where(subset, signs, np.float32(0.0))


def transforms(max_n: int, dense_max_n: int) -> None:
    print("\n1. Transforms of one reward vector (float64 fast Möbius vs the dense float32 matrix)")
    print(
        f"{'n':>3} {'AND (ms)':>10} {'OR (ms)':>10} {'dense build (s)':>16} {'dense M·v (ms)':>15} {'dense/fast':>11}"
    )
    rng = np.random.default_rng(0)
    for n in range(10, max_n + 1):
        v = rng.normal(size=1 << n)
        repeats = 5 if n < 18 else 2
        fast_and = best_of(lambda v=v: and_interactions(v), repeats)
        fast_or = best_of(lambda v=v: or_interactions(v), repeats)
        row = f"{n:>3} {1e3 * fast_and:>10.2f} {1e3 * fast_or:>10.2f}"
        if n <= dense_max_n:
            start = time.perf_counter()
            matrix = dense_and_matrix(n)
            build = time.perf_counter() - start
            v32 = v.astype(np.float32)
            dense = best_of(lambda m=matrix, x=v32: m @ x, 3)
            error = np.abs(matrix @ v32 - and_interactions(v)).max()
            row += f" {build:>16.2f} {1e3 * dense:>15.2f} {dense / fast_and:>11.1f}   (|dense − fast| = {error:.1e})"
            del matrix
        print(row, flush=True)


def split(samples: int, n: int, iterations: int, device: torch.device) -> None:
    print(f"\n2. AND-OR split: {samples} samples, n = {n}, {iterations} iterations, on {device}")
    rewards = np.random.default_rng(1).normal(size=(samples, 1 << n)) + np.linspace(0, 5, 1 << n)
    start = time.perf_counter()
    learn_and_or(rewards[:1, :8], iterations=2, device=device, desc=None)
    print(
        f"   first call in this process (loads the compiled CPU loop, compiles it if uncached): "
        f"{time.perf_counter() - start:.2f} s"
    )
    start = time.perf_counter()
    result = learn_and_or(rewards, iterations=iterations, learning_rate=1e-5, device=device, desc=None)
    elapsed = time.perf_counter() - start
    print(
        f"   learn_and_or: {elapsed:.2f} s  (Σ|I| {result.loss_history[0].mean():.0f} → "
        f"{result.loss_history[-1].mean():.0f}); goal < 5 s on 2 CPU cores"
    )
    if device.type == "cpu":
        rates = decaying_rates(1e-5, iterations)
        with tqdm(disable=True) as progress:
            start = time.perf_counter()
            torch_loop = _learn_torch(rewards, result.q_bound, rates, 0.9, result.loss_steps, progress, device)
            torch_time = time.perf_counter() - start
        difference = max(np.abs(torch_loop[2] - result.p).max(), np.abs(torch_loop[3] - result.q).max())
        print(
            f"   the same loop as batched torch passes (the non-CPU path): {torch_time:.2f} s, "
            f"{torch_time / elapsed:.1f}× the compiled loop (max |Δp|, |Δq| = {difference:.1e})"
        )
    matrix = torch.from_numpy(dense_and_matrix(n)).to(device)
    values = torch.from_numpy(rewards.T.astype(np.float32)).to(device)
    steps = 5
    start = time.perf_counter()
    for _ in range(steps):  # per iteration the dense form needs 4 products with 2^n × 2^n matrices
        for _ in range(4):
            values = matrix @ values
            values = values / values.abs().max()
    if device.type == "cuda":
        torch.cuda.synchronize()
    per_iteration = (time.perf_counter() - start) / steps
    print(
        f"   dense (4 matrix products per iteration, float32): {per_iteration * 1e3:.1f} ms per iteration → "
        f"{per_iteration * iterations:.0f} s for {iterations} iterations (extrapolated)"
    )


def masked_against_bare(label: str, masked: Callable[[], object], bare: Callable[[], object]) -> None:
    masked()
    bare()
    masked_time, bare_time = best_of(masked, 3), best_of(bare, 3)
    print(
        f"   {label:<38} masked {masked_time:>7.3f} s   bare {bare_time:>7.3f} s   ratio {masked_time / bare_time:.2f}"
    )


def forward(device: torch.device, n: int, batch_size: int) -> None:
    print(
        f"\n3. Rewards on all 2^{n} masks of one input vs the bare batched forward pass (batch {batch_size}, {device})"
    )
    torch.manual_seed(0)
    cnn = build_model({"architecture": "mnist_cnn", "num_classes": 10}, seed=0).to(device).eval()
    image = torch.randn(1, 28, 28)
    players = grid_players(28, 28, 3, 4, (4, 4, 24, 24))
    masker = ImageMasker(image, players, baseline=-0.42)
    masks = torch.from_numpy(subset_masks(n)).to(device)
    built = torch.cat([masker.inputs(masks[i : i + batch_size]) for i in range(0, len(masks), batch_size)]).to(device)

    @torch.no_grad()
    def bare(model: torch.nn.Module, inputs) -> None:
        for start in range(0, len(masks), batch_size):
            chunk = (
                inputs[start : start + batch_size]
                if isinstance(inputs, torch.Tensor)
                else {k: v[start : start + batch_size] for k, v in inputs.items()}
            )
            output = model(chunk) if isinstance(chunk, torch.Tensor) else model(**chunk).logits
            output.double().cpu()

    masked_against_bare(
        "MNIST CNN, 3×4 image cells",
        lambda: compute_rewards(cnn, [masker], [3], batch_size, desc=None),
        lambda: bare(cnn, built),
    )
    from transformers import DistilBertConfig, DistilBertForSequenceClassification

    config = DistilBertConfig(vocab_size=30522, dim=256, n_layers=4, n_heads=4, hidden_dim=1024, pad_token_id=0)
    bert = DistilBertForSequenceClassification(config).to(device).eval()
    ids = torch.tensor([101, *range(2000, 2000 + n), 102])
    inputs = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    words = [[position + 1] for position in range(n)]
    tokens = TokenMasker.for_model(bert, inputs, words, pad_token_id=0)
    pad_ids = torch.where(
        torch.cat(
            [
                torch.ones(len(masks), 1, dtype=torch.bool, device=device),
                masks,
                torch.ones(len(masks), 1, dtype=torch.bool, device=device),
            ],
            dim=1,
        ),
        ids.to(device),
        0,
    )
    batch = {"input_ids": pad_ids, "attention_mask": torch.ones_like(pad_ids)}
    masked_against_bare(
        f"DistilBERT (4 layers, 256), {n} word players",
        lambda: compute_rewards(bert, [tokens], [1], batch_size, desc=None),
        lambda: bare(bert, batch),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    parser.add_argument("--max-n", type=int, default=22, help="largest n of the transform timings")
    parser.add_argument("--dense-max-n", type=int, default=13, help="largest n with a dense matrix (4^n · 4 bytes)")
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--players", type=int, default=12)
    parser.add_argument("--iterations", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: transforms, split, forward")
    args = parser.parse_args()
    device = resolve_device(args.device)
    skip = set(filter(None, args.skip.split(",")))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {device}")
    if "transforms" not in skip:
        transforms(args.max_n, args.dense_max_n)
    if "split" not in skip:
        split(args.samples, args.players, args.iterations, device)
    if "forward" not in skip:
        forward(device, args.players, args.batch_size)


if __name__ == "__main__":
    main()
