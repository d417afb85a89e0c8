"""The lens's replay of our deliberate differences from the authors' noise removal, on hand-made games."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ndg_pipeline.config.interactions import InteractionsParams
from ndg_pipeline.interactions.lens import NOISE_REMOVAL_VARIANTS, noise_removal_variants
from ndg_pipeline.interactions.patterns import remove_noisy
from ndg_pipeline.interactions.tables import long_frame
from ndg_pipeline.interactions.transforms import and_inverse


def _frames(games: dict[int, np.ndarray]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Rewards, AND/OR values (OR all zero) and offsets (zero) of AND-only games, as the lens stores them."""
    keys = {("first", sample): values for sample, values in games.items()}
    zeros = {key: np.zeros_like(values) for key, values in keys.items()}
    rewards = long_frame({key: and_inverse(values) for key, values in keys.items()}, "reward")
    values = pd.concat([long_frame(keys, "value", kind="and"), long_frame(zeros, "value", kind="or")])
    second = long_frame({("second", 0): and_inverse(games[0])}, "reward")  # other models are not replayed
    return pd.concat([rewards, second]), values, long_frame(zeros, "q")


def test_each_variant_is_noise_removal_with_that_one_rule_changed():
    rng = np.random.default_rng(0)
    sparse = np.zeros(32)
    sparse[[3, 5, 9, 17, 30]] = [9.0, -7.0, 6.0, 5.0, -4.0]
    sparse[1:] += rng.normal(0, 0.01, 31)  # five concepts and weak noise: the thresholds are met
    dense = np.r_[0.0, rng.choice([-1.0, 1.0], 31) * rng.uniform(0.9, 1.1, 31)]  # no few concepts explain it
    params = InteractionsParams.model_validate(
        {"patterns": {"min_patterns": 2, "max_patterns": 6, "n_greedy": 4, "greedy_from": 8}}
    )
    table = noise_removal_variants(*_frames({0: sparse, 1: dense}), params)
    assert list(table.variant.unique()) == list(NOISE_REMOVAL_VARIANTS) and sorted(set(table["sample"])) == [0, 1]
    kept = table.set_index(["sample", "variant"])
    rules = {"min_patterns": 2, "max_patterns": 6, "n_greedy": 4}
    for sample, game in ((0, sparse), (1, dense)):
        target = and_inverse(game)
        ours = remove_noisy(target, game, **rules, greedy_from=8)
        every = remove_noisy(target, game, **rules, greedy_from=64)
        strict = remove_noisy(target, game, **rules, greedy_from=8, cut="strict")
        assert kept.loc[(sample, NOISE_REMOVAL_VARIANTS[0])].tolist() == [len(ours.values), ours.thresholds_met]
        assert kept.loc[(sample, NOISE_REMOVAL_VARIANTS[1])].tolist() == [len(every.values), every.thresholds_met]
        assert kept.loc[(sample, NOISE_REMOVAL_VARIANTS[3])].tolist() == [len(strict.values), strict.thresholds_met]
    assert kept.loc[(0, NOISE_REMOVAL_VARIANTS[0])].tolist() == [5, True]
    assert kept.loc[(0, NOISE_REMOVAL_VARIANTS[2])].tolist() == [5, True]  # met: the authors' rule agrees
    assert kept.loc[(1, NOISE_REMOVAL_VARIANTS[0])].tolist() == [6, False]  # the cap
    assert kept.loc[(1, NOISE_REMOVAL_VARIANTS[2])].tolist() == [30, False]  # all 31 non-zero concepts but one
