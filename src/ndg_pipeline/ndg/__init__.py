"""Neuron dependency graphs: counting predicate pairs and mining their edges."""

from ndg_pipeline.ndg.counting import PairCounts, count_frame, count_pairs, count_parquet
from ndg_pipeline.ndg.edges import PAPER_ALPHAS, MiningResult, alpha_sweep, mine, mine_edges

__all__ = [
    "PAPER_ALPHAS",
    "MiningResult",
    "PairCounts",
    "alpha_sweep",
    "count_frame",
    "count_pairs",
    "count_parquet",
    "mine",
    "mine_edges",
]
