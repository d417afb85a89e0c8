"""Harsanyi AND / AND-OR interaction concepts and the AND-OR graph, on any model and any reward.

One module per stage: ``players`` (subset order, maskers), ``rewards`` (v on all 2^n masks), ``transforms``
(fast Möbius transforms), ``and_or`` (learned split, learned baseline), ``patterns`` (noise removal,
aggregation), ``graph`` (the AND-OR graph) and ``metrics``; ``lens`` runs them on a setting with the lens's
parameters (:func:`measure_model`: one model's metrics). Usable without Kedro::

    from ndg_pipeline.interactions import TabularMasker, compute_rewards, and_interactions
    v = compute_rewards(model, [TabularMasker(x, baseline=0.0)], [label])
    I = and_interactions(v)            # [1, 2^n], index k = subset with player 0 as the most significant bit
"""

from ndg_pipeline.interactions.and_or import AndOrSplit, LearnedBaseline, learn_and_or, learn_baseline, reorganize
from ndg_pipeline.interactions.graph import and_or_graph, graph_size
from ndg_pipeline.interactions.lens import first_per_class, measure_model
from ndg_pipeline.interactions.metrics import (
    discrimination_power,
    modelwise_transferability,
    normalized_strengths,
    reconstruction_error,
    salient,
    salient_ratio,
    samplewise_transferability,
    sparsity_curve,
)
from ndg_pipeline.interactions.patterns import Aggregation, RetainedPatterns, aggregate, explanation_ratio, remove_noisy
from ndg_pipeline.interactions.players import (
    MAX_PLAYERS,
    ImageMasker,
    Masker,
    TabularMasker,
    TokenMasker,
    check_players,
    grid_players,
    players_of,
    subset_index,
    subset_masks,
    subset_sizes,
    words_of,
)
from ndg_pipeline.interactions.rewards import compute_rewards, log_odds
from ndg_pipeline.interactions.transforms import (
    and_interactions,
    and_inverse,
    and_transpose,
    mobius,
    or_interactions,
    or_inverse,
    or_transpose,
    superset_mobius,
    superset_sum,
    zeta,
)

__all__ = [
    "MAX_PLAYERS",
    "Aggregation",
    "AndOrSplit",
    "ImageMasker",
    "LearnedBaseline",
    "Masker",
    "RetainedPatterns",
    "TabularMasker",
    "TokenMasker",
    "aggregate",
    "and_interactions",
    "and_inverse",
    "and_or_graph",
    "and_transpose",
    "check_players",
    "compute_rewards",
    "discrimination_power",
    "explanation_ratio",
    "first_per_class",
    "graph_size",
    "grid_players",
    "learn_and_or",
    "learn_baseline",
    "log_odds",
    "measure_model",
    "mobius",
    "modelwise_transferability",
    "normalized_strengths",
    "or_interactions",
    "or_inverse",
    "or_transpose",
    "players_of",
    "reconstruction_error",
    "remove_noisy",
    "reorganize",
    "salient",
    "salient_ratio",
    "samplewise_transferability",
    "sparsity_curve",
    "subset_index",
    "subset_masks",
    "subset_sizes",
    "superset_mobius",
    "superset_sum",
    "words_of",
    "zeta",
]
