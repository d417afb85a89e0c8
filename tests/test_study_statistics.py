"""The study's statistics over seeds against hand-worked intervals and a brute-force permutation count."""

import itertools
import math

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from ndg_pipeline.studies.statistics import (
    contrast,
    difference_interval,
    mean_interval,
    permutation_p,
    smallest_p,
    summarize,
)


def test_mean_interval_is_the_student_t_interval_worked_by_hand():
    # [1, 2, 3]: mean 2, standard error 1/√3; with 2 degrees of freedom the t CDF is 1/2 + t / (2√(2 + t²)),
    # so its 0.975 quantile solves t / √(2 + t²) = 0.95: t = √(2 · 0.95² / (1 − 0.95²))
    quantile = math.sqrt(2 * 0.95**2 / (1 - 0.95**2))
    mean, low, high = mean_interval(np.array([1.0, 2.0, 3.0]))
    assert mean == 2.0
    assert (low, high) == pytest.approx((2 - quantile / math.sqrt(3), 2 + quantile / math.sqrt(3)), abs=1e-12)


def test_one_seed_has_no_interval():
    mean, low, high = mean_interval(np.array([0.7]))
    assert mean == 0.7 and math.isnan(low) and math.isnan(high)


def test_difference_interval_is_welchs_worked_out():
    a, b = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 7.0])
    va, vb = 1.0, 7 / 3  # sample variances
    se = math.sqrt(va / 3 + vb / 3)
    df = se**4 / ((va / 3) ** 2 / 2 + (vb / 3) ** 2 / 2)  # Welch–Satterthwaite
    half = scipy.stats.t.ppf(0.975, df) * se
    difference, low, high = difference_interval(a, b)
    assert difference == pytest.approx(10 / 3)
    assert (low, high) == pytest.approx((10 / 3 - half, 10 / 3 + half), abs=1e-9)


def _brute_force_p(a, b):
    pooled = list(a) + list(b)
    observed = abs(np.mean(b) - np.mean(a))
    hits = total = 0
    for chosen in itertools.combinations(range(len(pooled)), len(a)):
        first = [pooled[i] for i in chosen]
        second = [pooled[i] for i in range(len(pooled)) if i not in chosen]
        hits += abs(np.mean(second) - np.mean(first)) >= observed - 1e-9
        total += 1
    return hits / total


@pytest.mark.parametrize("seed", range(6))
def test_permutation_p_counts_every_relabelling(seed):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=3 + seed % 2), rng.normal(0.8 * seed, size=3 + seed % 3)
    assert permutation_p(a, b) == pytest.approx(_brute_force_p(a, b))


def test_separated_variants_reach_the_smallest_p_and_identical_ones_p_1():
    assert permutation_p(np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])) == pytest.approx(0.1)
    assert permutation_p(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0])) == 1.0


@pytest.mark.parametrize(("n_a", "n_b"), [(3, 3), (5, 5), (2, 4)])
def test_smallest_p_is_what_the_most_separated_seeds_give(n_a, n_b):
    separated = permutation_p(np.arange(n_a, dtype=float), 100 + np.arange(n_b, dtype=float))
    assert smallest_p(n_a, n_b) == pytest.approx(separated)


def _runs(offset: float, seeds: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    null = rng.normal(10, 1, seeds)
    value = null + offset + rng.normal(0, 0.1, seeds)
    return pd.DataFrame(
        {
            "variant": "base",
            "seed": range(seeds),
            "epoch": 5,
            "lens": "ndg",
            "metric": "edges",
            "value": value,
            "null": null,
        }
    )


def test_a_planted_gap_over_the_null_is_excluded_and_noise_is_not():
    assert bool(summarize(_runs(offset=3.0)).loc[0, "null_excluded"]) is True
    assert bool(summarize(_runs(offset=0.0)).loc[0, "null_excluded"]) is False


def test_summary_without_a_null_says_so():
    runs = _runs(offset=1.0).assign(null=math.nan)
    row = summarize(runs).iloc[0]
    assert math.isnan(row["null_mean"]) and row["null_excluded"] is pd.NA
    assert row["seeds"] == 5 and row["low"] < row["mean"] < row["high"]


def test_contrast_pairs_the_two_variants_per_metric():
    base, other = _runs(0.0), _runs(2.0).assign(variant="dropout")
    row = contrast(pd.concat([base, other]), "base", "dropout").iloc[0]
    assert row["difference"] == pytest.approx(other["value"].mean() - base["value"].mean())
    assert row["low"] < row["difference"] < row["high"]
    assert row["p_value"] == pytest.approx(_brute_force_p(base["value"], other["value"]))


def test_seeds_that_agree_give_a_point_interval_and_unmeasured_values_are_left_out():
    assert mean_interval(np.array([4.0, 4.0, 4.0])) == (4.0, 4.0, 4.0)
    assert mean_interval(np.array([1.0, np.nan, 3.0]))[0] == 2.0
    assert all(math.isnan(x) for x in mean_interval(np.array([np.nan, np.nan])))
    assert difference_interval(np.array([0.0, 0.0]), np.array([2.0, 2.0])) == (2.0, 2.0, 2.0)


def test_a_metric_equal_to_its_null_on_every_seed_is_matched_not_unmeasured():
    runs = _runs(offset=0.0).assign(value=0.0, null=0.0)
    assert bool(summarize(runs).loc[0, "null_excluded"]) is False
    rows = contrast(pd.concat([runs, runs.assign(variant="other", value=np.nan)]), "base", "other")
    assert rows.empty  # nothing measured for the variant: no contrast


def test_a_metric_measured_on_one_seed_of_a_side_is_contrasted_without_a_test_and_counts_its_seeds():
    """A value left out where its convergence check failed can leave one seed on a side: the difference stands,
    the permutation test (which needs two per side) is not made, and the summary counts measured seeds only."""
    base = _runs(0.0)
    other = _runs(2.0).assign(variant="wide")
    other.loc[1:, "value"] = np.nan  # converged on seed 0 only
    row = contrast(pd.concat([base, other]), "base", "wide").iloc[0]
    assert row["difference"] == pytest.approx(other["value"].iloc[0] - base["value"].mean())
    assert math.isnan(row["p_value"]) and math.isnan(row["low"])
    assert summarize(other).loc[0, "seeds"] == 1 and summarize(base).loc[0, "seeds"] == 5
