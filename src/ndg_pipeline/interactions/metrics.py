"""What the papers use to say concepts are real (spec §6): sparsity, faithfulness, transferability, discrimination.

A sample's concept vector is [I_and, I_or] (2^{n+1} entries, after moving order ≤ 1 OR terms to AND); a concept
is salient at τ when |I(S)| ≥ τ · max_S' |I(S')| of that sample.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import scipy.stats

from ndg_pipeline.interactions.transforms import and_inverse, or_inverse

TRANSFER_THRESHOLDS = (0.05, 0.10, 0.15, 0.20, 0.25, 0.30)


def normalized_strengths(concepts: np.ndarray) -> np.ndarray:
    """|I| / max|I| per sample, sorted descending: rows [B, K]."""
    strength = np.abs(np.atleast_2d(concepts))
    peak = strength.max(axis=1, keepdims=True)
    return -np.sort(-strength / np.where(peak > 0, peak, 1.0), axis=1)


def sparsity_curve(concepts: np.ndarray) -> np.ndarray:
    """The sorted normalised strengths averaged position-wise over samples (the papers' sparsity figure)."""
    return normalized_strengths(concepts).mean(axis=0)


def salient(concepts: np.ndarray, threshold: float) -> np.ndarray:
    """Bool [B, K]: |I(S)| ≥ threshold · max |I| of the sample (nothing is salient in an all-zero sample)."""
    strength = np.abs(np.atleast_2d(concepts))
    peak = strength.max(axis=1, keepdims=True)
    return (strength >= threshold * peak) & (peak > 0)


def salient_ratio(concepts: np.ndarray, threshold: float = 0.05) -> float:
    """Mean share of salient concepts among all 2^{n+1}."""
    return float(salient(concepts, threshold).mean())


def reconstruction_error(target: np.ndarray, and_values: np.ndarray, or_values: np.ndarray | None = None) -> np.ndarray:
    """Per sample, max over all 2^n masks of |target − reconstruction| (0 up to rounding for exact splits)."""
    rebuilt = and_inverse(and_values) + (0.0 if or_values is None else or_inverse(or_values))
    return np.abs(np.atleast_2d(np.asarray(target) - rebuilt)).max(axis=1)


def samplewise_transferability(concepts: np.ndarray, k_max: int = 50, threshold: float = 0.1) -> np.ndarray:
    """ρ(k), k = 1…k_max, for the samples of one class: the mean share of each sample's salient concepts that
    lie in the dictionary of the k concepts salient in most samples (ties: lower index first)."""
    sets = salient(concepts, threshold)
    frequency = sets.mean(axis=0)
    order = np.argsort(-frequency, kind="stable")[:k_max]
    counts = np.maximum(sets.sum(axis=1), 1)
    covered = np.cumsum(sets[:, order], axis=1) / counts[:, None]
    rho = covered.mean(axis=0)
    return np.pad(rho, (0, k_max - len(rho)), mode="edge") if len(rho) < k_max else rho


def cover_shares(first: np.ndarray, second: np.ndarray, threshold: float, second_threshold: float = 0.05) -> np.ndarray:
    """Per sample, |Ω¹_x(τ1) ∩ Ω²_x(τ2)| / |Ω¹_x(τ1)|: the share of model 1's salient concepts also salient in
    model 2 (0 for a sample without salient concepts)."""
    if first.shape != second.shape:
        raise ValueError(f"the two models' concepts differ in shape: {first.shape} vs {second.shape}.")
    own, other = salient(first, threshold), salient(second, second_threshold)
    return (own & other).sum(axis=1) / np.maximum(own.sum(axis=1), 1)


def modelwise_transferability(
    first: np.ndarray,
    second: np.ndarray,
    thresholds: Sequence[float] = TRANSFER_THRESHOLDS,
    second_threshold: float = 0.05,
) -> pd.DataFrame:
    """γ(τ1) = mean_x |Ω¹_x(τ1) ∩ Ω²_x(τ2)| / |Ω¹_x(τ1)| between two models' concepts on the same samples.

    ``random_baseline`` scores, with the same cover ratio, a random set of the size of Ω²_x(τ2) against any set
    of the size of Ω¹_x(τ1): its exact expectation |Ω²_x(τ2)| / K, averaged over samples (like for like).
    """
    other = salient(second, second_threshold)
    baseline = float((other.sum(axis=1) / other.shape[1]).mean())
    rows = [
        {
            "threshold": threshold,
            "transferability": float(cover_shares(first, second, threshold, second_threshold).mean()),
            "random_baseline": baseline,
        }
        for threshold in thresholds
    ]
    return pd.DataFrame(rows)


def discrimination_power(concepts: np.ndarray, threshold: float = 0.05, bins: int = 5) -> tuple[pd.DataFrame, float]:
    """β per frequency bin for the samples of one class, and the frequency-weighted mean β over all concepts.

    For each concept, m⁺ / m⁻ count the samples where it is salient with a positive / negative effect;
    β = max(m⁺, m⁻) / (m⁺ + m⁻); frequency α = (m⁺ + m⁻) / samples. A bin without concepts has β NaN.
    """
    sets = salient(concepts, threshold)
    positive = (sets & (concepts > 0)).sum(axis=0)
    negative = (sets & (concepts < 0)).sum(axis=0)
    seen = positive + negative
    used = seen > 0
    beta = np.maximum(positive, negative)[used] / seen[used]
    alpha = seen[used] / sets.shape[0]
    edges = np.linspace(0.0, 1.0, bins + 1)
    rows = []
    for low, high in itertools.pairwise(edges):
        inside = (alpha > low) & (alpha <= high)
        rows.append(
            {
                "frequency_low": low,
                "frequency_high": high,
                "concepts": int(inside.sum()),
                "discrimination": float(beta[inside].mean()) if inside.any() else float("nan"),
            }
        )
    overall = float(np.sum(alpha * beta) / np.sum(alpha)) if used.any() else float("nan")
    return pd.DataFrame(rows), overall


def random_identities(concepts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The null of β and ρ: each sample's values moved to random concepts with random signs — the same strengths
    and salience counts per sample, but no concept shared across samples and no consistent sign."""
    concepts = np.atleast_2d(np.asarray(concepts, dtype=np.float64))
    return rng.permuted(concepts, axis=1) * rng.choice([-1.0, 1.0], size=concepts.shape)


def null_draws(
    statistic: Callable[[list[np.ndarray]], float], groups: Sequence[np.ndarray], draws: int = 20, seed: int = 0
) -> np.ndarray:
    """``statistic`` of the groups (e.g. one array of concepts per class) with random identities and signs, once per
    seeded draw: what the statistic gives on these inputs when their concepts carry no shared structure."""
    rng = np.random.default_rng(seed)
    return np.array([statistic([random_identities(g, rng) for g in groups]) for _ in range(draws)])


def interval_over_inputs(
    statistic: Callable[[list[np.ndarray]], float],
    groups: Sequence[np.ndarray],
    draws: int = 200,
    level: float = 0.95,
    seed: int = 0,
    bounds: tuple[float, float] = (-np.inf, np.inf),
) -> tuple[float, float]:
    """θ̂ ± z·se over the inputs, se from the delete-half jackknife: ``draws`` random halves of each group (class),
    se² = (kept / deleted) · mean over halves of (θ_half − their mean)² (Shao & Wu 1989; for a mean it is s²/n),
    clipped into ``bounds``, the statistic's range (a share's interval stays within [0, 1]).

    Not the with-replacement bootstrap: it repeats inputs, and statistics that learn from the inputs they score
    (ρ's dictionary of the most frequent concepts) rise on repeated inputs — on pure noise its resamples all lie
    above the estimate, so its interval would exclude the null for noise."""
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1); got {level}.")
    if not bounds[0] < bounds[1]:
        raise ValueError(f"bounds must be (low, high) with low < high; got {bounds}.")
    rng = np.random.default_rng(seed)
    estimate = statistic(list(groups))
    keep = [(len(g) + 1) // 2 for g in groups]
    deleted = sum(len(g) for g in groups) - sum(keep)
    if deleted == 0:
        return estimate, estimate
    halves = [
        statistic([g[rng.choice(len(g), size=k, replace=False)] for g, k in zip(groups, keep, strict=True)])
        for _ in range(draws)
    ]
    spread = float(np.sqrt(sum(keep) / deleted * np.nanvar(halves)))
    z = float(scipy.stats.norm.ppf(0.5 + level / 2))
    low, high = np.clip([estimate - z * spread, estimate + z * spread], *bounds)
    return float(low), float(high)


def matches_null(interval: tuple[float, float], null_interval: tuple[float, float]) -> bool:
    """True when the number's interval and its null's overlap: the null then explains the number, no finding."""
    return bool(interval[0] <= null_interval[1] and null_interval[0] <= interval[1])


def verdict(interval: tuple[float, float], null_interval: tuple[float, float], claim: str) -> str:
    """``finding`` when the number's interval lies beyond its null's on the side the claim makes (``above``: e.g.
    transferability; ``below``: e.g. concepts per input), ``matched by its null`` when they overlap, else
    ``against its null`` (beyond it on the other side: no finding either)."""
    if claim not in ("above", "below"):
        raise ValueError(f"claim must be 'above' or 'below'; got {claim!r}.")
    if not np.all(np.isfinite(null_interval)):
        return "no null"
    if matches_null(interval, null_interval):
        return "matched by its null"
    above = interval[0] > null_interval[1]
    return "finding" if above == (claim == "above") else "against its null"
