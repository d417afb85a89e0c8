"""Time and measure every stage after mining on paper-scale graphs (1–8 M edges), against mining itself.

Goal (issue 12): all stages after mining together take at most as long as mining, and their peak memory stays
within 2× the in-memory edge table. The predicates are planted structure: copies, ANDs and ORs of a few latent
variables with at most 1 % noise, some independent neurons and eight one-hot classes, named ``latent:j``. Few
latent variables make dense implication structure (millions of edges). Each size runs in a fresh child process
so that its peak resident memory is its own.

    python benchmarks/graph_scale.py --sizes 4200x7000x5,7600x7000x6     # M predicates x N inputs x latents
"""

from __future__ import annotations

import argparse
import multiprocessing
import pickle
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from mine_edges import reset_peak, status_kib

from ndg_pipeline.ndg import count_pairs, mine
from ndg_pipeline.ndg.graph import (
    build_graph,
    graph_statistics,
    intervention_closure_graph,
    necessary_neurons,
    node_link,
    sufficient_neurons,
)
from ndg_pipeline.ndg.intervention import intervention_set, neuron_assignments
from ndg_pipeline.reporting.drawing import drawable_graph, interactive_html, merged_graph, to_graphviz

JSON_MAX_EDGES = 200_000
CLASSES = 8


def planted(m: int, n: int, latents: int, seed: int) -> tuple[np.ndarray, list[str]]:
    """A (n, m) boolean matrix of planted logic over ``latents`` variables, and its predicate names."""
    rng = np.random.default_rng(seed)
    neurons = m - CLASSES
    kind = rng.choice(4, size=neurons, p=[0.2, 0.3, 0.3, 0.2])  # copy, and, or, independent
    first, second = rng.integers(latents, size=neurons), rng.integers(latents, size=neurons)
    noise = rng.uniform(0.0, 0.01, size=neurons).astype(np.float32)
    prior = rng.uniform(0.0005, 0.5, size=neurons).astype(np.float32)
    z = rng.random((n, latents), dtype=np.float32) < 0.5
    a, b = z[:, first], z[:, second]
    logic = np.where(kind == 1, a & b, np.where(kind == 2, a | b, a))
    u = rng.random((n, neurons), dtype=np.float32)
    x = np.empty((n, m), dtype=bool)
    x[:, CLASSES:] = np.where(kind == 3, u < prior, logic ^ (u < noise))
    x[:, :CLASSES] = (z[:, 0] + 2 * z[:, 1] + 4 * z[:, 2])[:, None] == np.arange(CLASSES)
    return x, [f"class:{c}" for c in range(CLASSES)] + [f"latent:{j}" for j in range(neurons)]


def timed(stages: dict[str, float], name: str, work: Callable[[], Any]) -> Any:
    """Run ``work``, add its wall time to ``stages[name]`` and return its result."""
    start = time.perf_counter()
    result = work()
    stages[name] = stages.get(name, 0.0) + time.perf_counter() - start
    return result


def after_mining(result: Any, classes: int) -> dict[str, float]:
    """Every stage the pipeline runs after mining, on the mined tables: wall time per stage."""
    stages: dict[str, float] = {}
    graph = timed(stages, "build_graph", lambda: build_graph(result.edges, result.equivalences, result.priors))
    timed(stages, "statistics", lambda: graph_statistics(graph))
    timed(stages, "node_link_json", lambda: node_link(graph, JSON_MAX_EDGES))
    saved = timed(stages, "pickle_save", lambda: pickle.dumps(graph, protocol=pickle.HIGHEST_PROTOCOL))
    graph = timed(stages, "pickle_load", partial(pickle.loads, saved))
    stages["pickle_mib"] = len(saved) / 2**20
    del saved
    closure = timed(stages, "closure", lambda: intervention_closure_graph(graph))
    for c in range(classes):
        literals = timed(stages, "intervention_sets", lambda c=c: intervention_set(closure, c))
        timed(stages, "intervention_sets", lambda literals=literals: neuron_assignments(literals, ["latent"]))
        timed(stages, "class_tables", lambda c=c: (sufficient_neurons(graph, c), necessary_neurons(graph, c)))
    merged = timed(stages, "draw_per_class", lambda: merged_graph(graph))
    for c in range(classes):
        timed(stages, "draw_per_class", lambda c=c: to_graphviz(drawable_graph(merged, f"class:{c}", 60)).source)
    timed(stages, "html_view", lambda: interactive_html(graph, 2000))
    return stages


def run_size(m: int, n: int, latents: int, alpha: float, seed: int) -> dict[str, Any]:
    """Generate, count and mine one size (mining timed), then time the later stages and their peak memory."""
    x, names = planted(m, n, latents, seed)
    counts = count_pairs([x], names)
    del x
    start = time.perf_counter()
    result = mine(counts, alpha)
    mine_s = time.perf_counter() - start
    del counts
    table_bytes = int(result.edges.memory_usage(deep=True).sum())
    rss_before = status_kib("VmRSS")
    exact = reset_peak()
    stages = after_mining(result, classes=CLASSES)
    peak = status_kib("VmHWM")
    return {
        "edges": len(result.edges),
        "mine_s": mine_s,
        "stages": stages,
        "table_mib": table_bytes / 2**20,
        "peak_delta_mib": (peak - rss_before) / 2**10,
        "rss_before_mib": rss_before / 2**10,
        "exact_peak": exact,
    }


def report(m: int, n: int, latents: int, r: dict[str, Any]) -> str:
    """One human-readable block of figures for a size."""
    stages = {name: value for name, value in r["stages"].items() if not name.endswith("_mib")}
    total = sum(stages.values())
    lines = [
        f"M={m} predicates, N={n} inputs, {latents} latent variables: {r['edges']:,} edges",
        f"  mining {r['mine_s']:.2f} s; all stages after mining {total:.2f} s "
        f"(ratio {total / r['mine_s']:.2f}, goal <= 1)",
        *(f"    {name:<18} {seconds:7.2f} s" for name, seconds in stages.items()),
        f"  pickled graph {r['stages']['pickle_mib']:.0f} MiB; edge table in memory {r['table_mib']:.0f} MiB",
        f"  peak memory of the later stages: +{r['peak_delta_mib']:.0f} MiB over {r['rss_before_mib']:.0f} MiB "
        f"(ratio to the edge table {r['peak_delta_mib'] / r['table_mib']:.2f}, goal <= 2; "
        f"{'VmHWM after reset' if r['exact_peak'] else 'upper bound'})",
    ]
    return "\n".join(lines)


def main() -> None:
    """Run every requested size in its own process and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="4200x7000x5,7600x7000x6", help="MxNxL list: predicates x inputs x latents")
    parser.add_argument("--alpha", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    context = multiprocessing.get_context("spawn")
    with context.Pool(1, maxtasksperchild=1) as pool:
        for size in args.sizes.split(","):
            m, n, latents = (int(part) for part in size.lower().split("x"))
            figures = pool.apply(run_size, (m, n, latents, args.alpha, args.seed))
            print(report(m, n, latents, figures), flush=True)


if __name__ == "__main__":
    main()
