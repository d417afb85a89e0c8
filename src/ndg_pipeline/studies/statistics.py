"""Statistics over seeds for a study: per metric a mean with its 95 % interval, per contrast a difference with its
interval and a permutation p-value, and whether the metric's null is excluded.

The unit of replication is the seed (one trained network per seed), so intervals are Student-t intervals over
seeds and the p-value permutes the variant labels of the seeds (exact: every relabelling is enumerated, which is
cheap at the 3–10 seeds a study has).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import scipy.stats

RUN_COLUMNS = ("variant", "seed", "epoch", "lens", "metric", "value", "null")
KEYS = ["epoch", "lens", "metric"]
LEVEL = 0.95


def mean_interval(values: np.ndarray, level: float = LEVEL) -> tuple[float, float, float]:
    """Mean and the two-sided Student-t interval of the mean over seeds, NaN values (not measured) left out;
    (mean, nan, nan) with one seed, (mean, mean, mean) when every seed agrees."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return math.nan, math.nan, math.nan
    mean = float(values.mean())
    if len(values) < 2:
        return mean, math.nan, math.nan
    if np.ptp(values) == 0:  # every seed gave the same value: the interval is that value
        return mean, mean, mean
    low, high = scipy.stats.t.interval(level, len(values) - 1, loc=mean, scale=scipy.stats.sem(values))
    return mean, float(low), float(high)


def difference_interval(a: np.ndarray, b: np.ndarray, level: float = LEVEL) -> tuple[float, float, float]:
    """mean(b) − mean(a) with Welch's interval (unequal variances); nan bounds when a side has one seed, the
    difference itself when neither side varies."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    difference = float(b.mean() - a.mean())
    if min(len(a), len(b)) < 2:
        return difference, math.nan, math.nan
    if np.ptp(a) == 0 and np.ptp(b) == 0:  # no spread on either side: the interval is the difference itself
        return difference, difference, difference
    low, high = scipy.stats.ttest_ind(b, a, equal_var=False).confidence_interval(level)
    return difference, float(low), float(high)


def permutation_p(a: np.ndarray, b: np.ndarray) -> float:
    """Exact p-value of |mean(b) − mean(a)| under every reassignment of the pooled seeds to the two variants
    (the two most extreme splits give the smallest attainable value, 2 / C(n_a + n_b, n_a): 0.1 for 3 + 3 seeds);
    NaN, not tested, when a side has fewer than two measured seeds (scipy's test needs two)."""
    if min(len(a), len(b)) < 2:
        return math.nan
    result = scipy.stats.permutation_test(
        (np.asarray(a, dtype=float), np.asarray(b, dtype=float)),
        lambda x, y, axis: np.abs(np.mean(y, axis=axis) - np.mean(x, axis=axis)),
        permutation_type="independent",
        n_resamples=np.inf,
        alternative="greater",
        vectorized=True,
    )
    return float(result.pvalue)


def smallest_p(n_a: int, n_b: int) -> float:
    """The smallest p-value :func:`permutation_p` can give for ``n_a`` and ``n_b`` seeds: 1 / C(n_a + n_b, n_a), or
    twice that for equal sizes (the mirrored split is then as extreme)."""
    return min(1.0, (2 if n_a == n_b else 1) / math.comb(n_a + n_b, n_a))


def summarize(runs: pd.DataFrame, level: float = LEVEL) -> pd.DataFrame:
    """Per variant, epoch, lens and metric: seeds, mean and interval of the value, of its null, and of the paired
    difference value − null; ``null_excluded`` when that difference's interval leaves out 0."""
    rows = []
    for (variant, *keys), group in runs.groupby(["variant", *KEYS], sort=True):
        mean, low, high = mean_interval(group["value"].to_numpy(), level)
        row = {
            "variant": variant,
            **dict(zip(KEYS, keys, strict=True)),
            "seeds": int(group["value"].notna().sum()),  # seeds with a measured value (converged, present)
            "mean": mean,
            "low": low,
            "high": high,
        }
        nulls = group["null"].to_numpy(dtype=float)
        if np.isnan(nulls).all():
            row |= {"null_mean": math.nan, "null_low": math.nan, "null_high": math.nan, "null_excluded": pd.NA}
        else:
            null_mean, null_low, null_high = mean_interval(nulls, level)
            _, gap_low, gap_high = mean_interval(group["value"].to_numpy() - nulls, level)
            excluded = pd.NA if math.isnan(gap_low) else bool(gap_low > 0 or gap_high < 0)
            row |= {"null_mean": null_mean, "null_low": null_low, "null_high": null_high, "null_excluded": excluded}
        rows.append(row)
    return pd.DataFrame(rows)


def contrast(runs: pd.DataFrame, baseline: str, variant: str, level: float = LEVEL) -> pd.DataFrame:
    """Per epoch, lens and metric: ``variant`` − ``baseline`` over seeds, its Welch interval and the exact
    permutation p-value (rows only where both variants have a measured value)."""
    rows = []
    pairs = runs[runs["variant"].isin([baseline, variant])]
    for keys, group in pairs.groupby(KEYS, sort=True):
        group = group.dropna(subset=["value"])
        a = group.loc[group["variant"] == baseline, "value"].to_numpy()
        b = group.loc[group["variant"] == variant, "value"].to_numpy()
        if len(a) == 0 or len(b) == 0:
            continue
        difference, low, high = difference_interval(a, b, level)
        rows.append(
            {
                "baseline": baseline,
                "variant": variant,
                **dict(zip(KEYS, keys, strict=True)),
                "difference": difference,
                "low": low,
                "high": high,
                "p_value": permutation_p(a, b),
            }
        )
    return pd.DataFrame(rows)
