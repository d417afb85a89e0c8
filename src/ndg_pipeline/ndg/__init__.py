"""Neuron dependency graphs: counting predicate pairs, mining their edges, and the lens on one model
(:func:`measure_model`)."""

from ndg_pipeline.ndg.counting import PairCounts, count_frame, count_pairs, count_parquet
from ndg_pipeline.ndg.edges import PAPER_ALPHAS, MiningResult, alpha_sweep, mine, mine_edges
from ndg_pipeline.ndg.measure import measure_model

__all__ = [
    "PAPER_ALPHAS",
    "MiningResult",
    "PairCounts",
    "alpha_sweep",
    "count_frame",
    "count_pairs",
    "count_parquet",
    "measure_model",
    "mine",
    "mine_edges",
]
