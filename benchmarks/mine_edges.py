"""Time and measure the memory of edge mining (count_pairs + mine) against a bare float32 GEMM XᵀX.

Each size runs in a fresh child process, so that its peak resident memory is its own. The boolean matrix is
generated (not timed) with planted structure: predicates copy, AND or OR a few latent variables with noise,
some are independent with assorted priors, and eight one-hot class predicates follow three latents.

    python benchmarks/mine_edges.py --sizes 1000x50000,4000x100000 --device auto
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from ndg_pipeline.device import resolve_device
from ndg_pipeline.ndg import count_pairs, mine

CLASSES = 8
GENERATION_ROWS = 8192
STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")


def parse_sizes(text: str) -> list[tuple[int, int]]:
    """Parse ``MxN,MxN`` (M predicates, N inputs) into pairs."""
    sizes = []
    for item in text.split(","):
        m, n = item.lower().split("x")
        sizes.append((int(m), int(n)))
    return sizes


def planted_matrix(m: int, n: int, seed: int) -> tuple[np.ndarray, list[str]]:
    """A (n, m) boolean matrix with planted structure, and its column names (class predicates first)."""
    rng = np.random.default_rng(seed)
    neurons = m - CLASSES
    latents = max(4, neurons // 50)
    kind = rng.choice(4, size=neurons, p=[0.4, 0.2, 0.2, 0.2])  # copy, and, or, independent
    first = rng.integers(latents, size=neurons)
    second = rng.integers(latents, size=neurons)
    noise = rng.uniform(0.0, 0.05, size=neurons).astype(np.float32)
    prior = rng.uniform(0.0005, 0.5, size=neurons).astype(np.float32)
    x = np.empty((n, m), dtype=bool)
    for start in range(0, n, GENERATION_ROWS):
        rows = min(GENERATION_ROWS, n - start)
        z = rng.random((rows, latents), dtype=np.float32) < 0.5
        a, b = z[:, first], z[:, second]
        logic = np.where(kind == 1, a & b, np.where(kind == 2, a | b, a))
        u = rng.random((rows, neurons), dtype=np.float32)
        x[start : start + rows, CLASSES:] = np.where(kind == 3, u < prior, logic ^ (u < noise))
        label = z[:, 0] + 2 * z[:, 1] + 4 * z[:, 2]
        x[start : start + rows, :CLASSES] = label[:, None] == np.arange(CLASSES)
    names = [f"class:{c}" for c in range(CLASSES)] + [f"n{j}" for j in range(neurons)]
    return x, names


def row_chunks(x: np.ndarray, chunk_rows: int) -> Iterator[np.ndarray]:
    """Views of consecutive row chunks of ``x`` (no copy)."""
    for start in range(0, x.shape[0], chunk_rows):
        yield x[start : start + chunk_rows]


def status_kib(field: str) -> int:
    """A memory field of /proc/self/status in KiB (VmRSS: now, VmHWM: peak since the last reset)."""
    for line in STATUS.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def reset_peak() -> bool:
    """Reset the process's peak resident memory (Linux clear_refs); False where that is not possible."""
    try:
        CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work so that wall times are real."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_mining(x: np.ndarray, names: list[str], device: str, chunk_rows: int, alpha: float) -> dict:
    """Wall time and peak RSS increase of count_pairs over row chunks followed by mine."""
    target = resolve_device(device)
    rss_before = status_kib("VmRSS")
    exact_peak = reset_peak()
    cpu_start = time.process_time()
    start = time.perf_counter()
    counts = count_pairs(row_chunks(x, chunk_rows), names, device)
    synchronize(target)
    counted = time.perf_counter()
    result = mine(counts, alpha)
    done = time.perf_counter()
    cpu_s = time.process_time() - cpu_start
    peak = status_kib("VmHWM") if exact_peak else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "count_s": counted - start,
        "mine_s": done - counted,
        "total_s": done - start,
        "cpu_s": cpu_s,
        "peak_delta_gib": (peak - rss_before) / 2**20,
        "rss_before_gib": rss_before / 2**20,
        "exact_peak": exact_peak,
        "edges": len(result.edges),
        "equivalences": len(result.equivalences),
        "constants": len(result.constants),
    }


def time_gemm(x: np.ndarray, device: str) -> tuple[float, float]:
    """Wall and CPU time of one bare float32 XᵀX of the whole matrix (the conversion is not timed)."""
    target = resolve_device(device)
    xf = torch.from_numpy(x).to(target).to(torch.float32)
    synchronize(target)
    cpu_start = time.process_time()
    start = time.perf_counter()
    gram = xf.T @ xf
    synchronize(target)
    elapsed = time.perf_counter() - start, time.process_time() - cpu_start
    del gram, xf
    return elapsed


def run_size(m: int, n: int, device: str, chunk_rows: int, alpha: float, repeats: int, seed: int) -> dict:
    """Generate one size, then time mining and the bare GEMM ``repeats`` times each (the best of each kept)."""
    x, names = planted_matrix(m, n, seed)
    warm = torch.ones((256, 256), device=resolve_device(device))
    synchronize(warm.device)
    _ = warm @ warm
    runs = []
    gemm = []
    for _ in range(repeats):
        runs.append(time_mining(x, names, device, chunk_rows, alpha))
        gemm.append(time_gemm(x, device))
    best = min(runs, key=lambda r: r["total_s"])
    best["peak_delta_gib"] = max(r["peak_delta_gib"] for r in runs)
    best["gemm_s"], best["gemm_cpu_s"] = min(gemm)
    best["all_total_s"] = [round(r["total_s"], 2) for r in runs]
    best["all_gemm_s"] = [round(wall, 2) for wall, _ in gemm]
    best["process_peak_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    best["device"] = str(resolve_device(device))
    best["threads"] = torch.get_num_threads()
    return best


def report(m: int, n: int, r: dict, alpha: float) -> str:
    """One human-readable block of figures for a size."""
    peak_kind = "VmHWM after reset" if r["exact_peak"] else "ru_maxrss (upper bound)"
    return (
        f"M={m} predicates, N={n} inputs, device={r['device']}, torch threads={r['threads']}\n"
        f"  mining (count_pairs + mine, alpha={alpha:g}): {r['total_s']:.2f} s "
        f"(count {r['count_s']:.2f} s + mine {r['mine_s']:.2f} s), CPU {r['cpu_s']:.2f} s; "
        f"runs {r['all_total_s']}\n"
        f"  bare float32 GEMM XᵀX: {r['gemm_s']:.2f} s, CPU {r['gemm_cpu_s']:.2f} s; runs {r['all_gemm_s']}\n"
        f"  ratio mining / GEMM (best runs): wall {r['total_s'] / r['gemm_s']:.2f}, "
        f"CPU {r['cpu_s'] / r['gemm_cpu_s']:.2f}\n"
        f"  peak RSS during mining: +{r['peak_delta_gib']:.2f} GiB over {r['rss_before_gib']:.2f} GiB "
        f"before it ({peak_kind}); whole-process peak {r['process_peak_gib']:.2f} GiB\n"
        f"  edges {r['edges']}, equivalent pairs {r['equivalences']}, constants {r['constants']}"
    )


def main() -> None:
    """Run every requested size in its own process and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000x50000,4000x100000", help="MxN list: predicates x inputs")
    parser.add_argument("--device", default="auto", help="auto (CUDA when available), cpu or cuda")
    parser.add_argument("--alpha", type=float, default=20.0)
    parser.add_argument("--chunk-rows", type=int, default=65536)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    context = multiprocessing.get_context("spawn")
    with context.Pool(1, maxtasksperchild=1) as pool:
        for m, n in parse_sizes(args.sizes):
            figures = pool.apply(run_size, (m, n, args.device, args.chunk_rows, args.alpha, args.repeats, args.seed))
            print(report(m, n, figures, args.alpha), flush=True)


if __name__ == "__main__":
    main()
