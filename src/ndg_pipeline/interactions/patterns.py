"""From interactions to a few patterns (spec §5): noisy-pattern removal and aggregation by description length.

Noise removal is the authors' greedy (drop, among the ``n_greedy`` weakest remaining patterns, the one whose
removal increases the squared reconstruction error E = Σ_T (target(T) − v̂(T))² least) in closed form: removing
an AND pattern T of value c increases E by 2c·A_T + c²·2^{n−|T|}, A_T = Σ_{S⊇T} r(S) (r the residual); an OR
pattern S by 2c·(Σ r − B_{N∖S}) + c²·(2^n − 2^{n−|S|}), B_U = Σ_{T⊆U} r(T). A and B are updated in O(2^n) per step.
The empty pattern (the constant) is always kept and is no concept: it counts in E, not in R. The cut keeps the
fewest patterns with normalised error below ``max_error`` and, by default, the authors' explanation ratio
R = Σ|kept| / (Σ|kept| + |Σ removed|) above ``min_explanation`` (``cut="strict"`` uses the strength share
Σ|kept| / Σ|all| instead, which against 0.95 almost never holds); both numbers are reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from ndg_pipeline.interactions.players import subset_sizes
from ndg_pipeline.interactions.transforms import and_inverse, n_players_of, or_inverse, superset_sum, zeta

AND, OR = "and", "or"
Cut = Literal["authors", "strict"]
CUTS: tuple[str, ...] = ("authors", "strict")
CUT_COLUMN = {"authors": "explanation_ratio", "strict": "strength_share"}


@dataclass
class RetainedPatterns:
    """The patterns kept for one sample: kind (``and``/``or``), subset index and value, with their quality."""

    kinds: np.ndarray
    masks: np.ndarray
    values: np.ndarray
    bias: float  # I_and(∅): always kept, no concept
    error: float  # E / Σ target² over all masks
    explanation_ratio: float  # the authors' R: Σ|kept| / (Σ|kept| + |Σ removed|)
    strength_share: float  # Σ|kept| / Σ|all|: never above R
    cut: str  # which of the two the cut used: "authors" (R) or "strict" (the strength share)
    thresholds_met: bool
    steps: pd.DataFrame = field(repr=False)  # patterns remaining, error, R and strength share after each removal


def explanation_ratio(kept: np.ndarray, removed: np.ndarray) -> float:
    """The authors' R = Σ|kept| / (Σ|kept| + |Σ removed|): removed noise that cancels out counts as explained."""
    strength = float(np.abs(kept).sum())
    total = strength + abs(float(np.sum(removed)))
    return strength / total if total > 0 else 1.0


def strength_share(kept: np.ndarray, removed: np.ndarray) -> float:
    """Σ|kept| / (Σ|kept| + Σ|removed|): the share of the interaction strength the kept patterns carry."""
    strength = float(np.abs(kept).sum())
    total = strength + float(np.abs(removed).sum())
    return strength / total if total > 0 else 1.0


def first_bad(name: str, values: np.ndarray) -> None:
    """Refuse a non-finite value, naming the array and the first bad mask."""
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise ValueError(
            f"{name} is {values.flat[bad[0]]} at mask {int(bad[0])} ({bad.size} non-finite value(s)); the model's "
            "rewards must be finite: check its weights, the input and the baseline for NaN or inf."
        )


def remove_noisy(
    target: np.ndarray,
    and_values: np.ndarray,
    or_values: np.ndarray | None = None,
    min_patterns: int = 15,
    max_patterns: int = 80,
    n_greedy: int = 20,
    max_error: float = 0.1,
    min_explanation: float = 0.95,
    greedy_from: int = 400,
    cut: Cut = "authors",
) -> RetainedPatterns:
    """Greedy noise removal for one sample; keeps the fewest patterns with error < max_error and ratio >
    min_explanation, the ratio being the authors' R (``cut="authors"``) or the strength share (``"strict"``).

    ``target`` is what the patterns reconstruct (v for AND only, v + q for an AND-OR split). Patterns that are
    exactly zero are dropped first (they change nothing). When no count in [min_patterns, max_patterns] meets
    both thresholds, max_patterns are kept and ``thresholds_met`` is False. Patterns beyond the ``greedy_from``
    strongest are removed weakest first in one step (with n = 12 there are up to 8 192, and the greedy only
    decides among the weakest 20 anyway); the greedy then runs on the rest.
    """
    if not 1 <= min_patterns <= max_patterns:
        raise ValueError(f"need 1 ≤ min_patterns ≤ max_patterns; got {min_patterns}, {max_patterns}.")
    if max_patterns > greedy_from:
        raise ValueError(
            f"max_patterns ({max_patterns}) exceeds greedy_from ({greedy_from}): the greedy would never choose among "
            "the counts it may keep; raise greedy_from to at least max_patterns."
        )
    if n_greedy < 1:
        raise ValueError(f"n_greedy must be at least 1; got {n_greedy}.")
    if cut not in CUTS:
        raise ValueError(f"cut must be one of {CUTS}; got {cut!r}.")
    target = np.asarray(target, dtype=np.float64)
    n = n_players_of(len(target))
    size = 1 << n
    and_values = np.asarray(and_values, dtype=np.float64)
    or_values = np.zeros(size) if or_values is None else np.asarray(or_values, dtype=np.float64)
    for name, array in (("target", target), ("and_values", and_values), ("or_values", or_values)):
        if array.shape != (size,):
            raise ValueError(f"{name} must be one row of 2^{n} = {size} values; got shape {array.shape}.")
        first_bad(name, array)
    if or_values[0] != 0.0:
        and_values, or_values = and_values.copy(), or_values.copy()
        and_values[0] += or_values[0]  # I_or(∅) fires on every mask, as the constant does
        or_values[0] = 0.0
    kinds = np.repeat(np.array([AND, OR]), size)
    masks = np.tile(np.arange(size), 2)
    values = np.concatenate([and_values, or_values])
    pool = np.flatnonzero((values != 0) & (masks != 0))
    pool = pool[np.argsort(np.abs(values[pool]), kind="stable")]  # weakest first
    energy = float(np.sum(target**2)) or 1.0
    total_strength = float(np.abs(values[pool]).sum())

    def record(remaining: int, error: float, removed_strength: float, removed_sum: float) -> tuple:
        kept = total_strength - removed_strength
        ratio = kept / (kept + abs(removed_sum)) if kept + abs(removed_sum) > 0 else 1.0
        share = kept / total_strength if total_strength > 0 else 1.0
        return remaining, max(error, 0.0) / energy, ratio, share

    records = [record(len(pool), float(np.sum((target - and_inverse(and_values) - or_inverse(or_values)) ** 2)), 0, 0)]
    bulk = pool[: max(0, len(pool) - greedy_from)]  # far below what is kept: removed weakest first, in one go
    start = values.copy()
    start[bulk] = 0.0
    residual = target - and_inverse(start[:size]) - or_inverse(start[size:])
    error = float(np.sum(residual**2))
    removed_strength, removed_sum = float(np.abs(values[bulk]).sum()), float(values[bulk].sum())
    if bulk.size:
        records.append(record(len(pool) - bulk.size, error, removed_strength, removed_sum))
    supersets, subsets = superset_sum(residual), zeta(residual)
    sizes = subset_sizes(n)
    index = np.arange(size)
    power = 2.0 ** np.arange(n + 1)
    full = size - 1
    remaining = list(pool[bulk.size :])
    removed: list[int] = list(bulk)
    while len(remaining) > min_patterns:
        window = np.array(remaining[:n_greedy])
        c = values[window]
        subset = masks[window]
        is_and = kinds[window] == AND
        increase = np.where(
            is_and,
            2 * c * supersets[subset] + c**2 * power[n - sizes[subset]],
            2 * c * (subsets[full] - subsets[full ^ subset]) + c**2 * (size - power[n - sizes[subset]]),
        )
        choice = int(np.argmin(increase))
        chosen, value, s = int(window[choice]), float(c[choice]), int(subset[choice])
        if is_and[choice]:
            supersets += value * power[n - sizes[index | s]]
            subsets += value * np.where((index & s) == s, power[np.maximum(sizes - sizes[s], 0)], 0.0)
        else:
            supersets += value * (power[n - sizes] - np.where((index & s) == 0, power[n - sizes[index | s]], 0.0))
            subsets += value * (power[sizes] - power[sizes - sizes[index & s]])
        error += float(increase[choice])
        remaining.pop(choice)
        removed.append(chosen)
        removed_strength += abs(value)
        removed_sum += value
        records.append(record(len(remaining), error, removed_strength, removed_sum))
    steps = pd.DataFrame(records, columns=["patterns", "error", "explanation_ratio", "strength_share"])
    valid = steps[
        (steps.error < max_error) & (steps[CUT_COLUMN[cut]] > min_explanation) & (steps.patterns <= max_patterns)
    ]
    met = not valid.empty
    row = (
        steps.loc[valid.index[-1]]
        if met
        else steps.loc[steps.patterns.sub(min(max_patterns, len(pool))).abs().idxmin()]
    )
    dropped = np.array(removed[: len(pool) - int(row.patterns)], dtype=np.int64)  # in removal order
    kept = np.setdiff1d(pool, dropped)
    order = kept[np.argsort(-np.abs(values[kept]), kind="stable")]
    return RetainedPatterns(
        kinds=kinds[order],
        masks=masks[order],
        values=values[order],
        bias=float(and_values[0]),
        error=float(row.error),
        explanation_ratio=explanation_ratio(values[kept], values[dropped]),
        strength_share=strength_share(values[kept], values[dropped]),
        cut=cut,
        thresholds_met=met,
        steps=steps,
    )


@dataclass
class Aggregation:
    """Merged coalitions (codewords beyond the n single players) and how each pattern is encoded with them."""

    codewords: np.ndarray  # bool [k, n]: the merged coalitions
    encoding: np.ndarray  # bool [m, n + k]: which codewords (singletons first) compose each pattern
    lengths: list[float]  # description length after 0, 1, … merges


def description_length(usage: np.ndarray, entropy_weight: float) -> np.ndarray | float:
    """Σ f_j ℓ_j + λ Σ p_j ℓ_j with p = f / Σf and ℓ = −ln(p + 1e-8) (natural log), per row of codeword usages f
    (unused codewords add nothing)."""
    used = np.clip(np.asarray(usage, dtype=np.float64), 0.0, None)
    total = used.sum(axis=-1, keepdims=True)
    share = used / np.where(total > 0, total, 1.0)
    code = -np.log(share + 1e-8)
    length = np.sum(used * code, axis=-1) + entropy_weight * np.sum(share * code, axis=-1)
    return float(length) if length.ndim == 0 else length


def sub_coalitions(encoded: np.ndarray) -> np.ndarray:
    """Every set of ≥ 2 codewords inside some encoded pattern, as bit masks over codewords (deduplicated, sorted)."""
    found = []
    for row in np.unique(encoded):
        bits = np.flatnonzero([(int(row) >> j) & 1 for j in range(int(row).bit_length())])
        if len(bits) < 2:
            continue
        choice = (np.arange(1 << len(bits))[:, None] >> np.arange(len(bits))) & 1
        choice = choice[choice.sum(axis=1) >= 2]
        found.append(choice @ (np.int64(1) << bits.astype(np.int64)))
    return np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)


def aggregate(
    patterns: np.ndarray, weights: np.ndarray, max_merges: int = 5, entropy_weight: float = 10.0
) -> Aggregation:
    """Merge sub-coalitions shared by several patterns into codewords while the description length shrinks
    (the authors' ``aggregate_pattern_iterative``).

    ``patterns`` is bool [m, n] (each pattern's players), ``weights`` its |I|. Each round considers every set of
    at least two codewords of an encoded pattern, merges it (a new codeword replacing those codewords in every
    pattern that has them all), scores the merge by the change of the description length per player it covers,
    and takes the lowest score; it stops after ``max_merges`` merges, when the length would grow, or when the
    best merge serves a single pattern.
    """
    patterns = np.asarray(patterns, dtype=bool)
    weights = np.abs(np.asarray(weights, dtype=np.float64))
    if patterns.ndim != 2 or len(weights) != len(patterns):
        raise ValueError(f"need patterns [m, n] and m weights; got shapes {patterns.shape} and {weights.shape}.")
    n = patterns.shape[1]
    codebook = np.eye(n, dtype=bool)
    encoding = patterns.copy()
    lengths = [description_length(weights @ encoding, entropy_weight)]
    for _ in range(max_merges):
        width = encoding.shape[1]
        bits = np.int64(1) << np.arange(width, dtype=np.int64)
        encoded = encoding.astype(np.int64) @ bits
        candidates = sub_coalitions(encoded)
        if candidates.size == 0:
            break
        members = ((candidates[:, None] >> np.arange(width)) & 1).astype(bool)  # [C, K]
        covers = (encoded[None, :] & candidates[:, None]) == candidates[:, None]  # [C, m]
        mass = covers.astype(np.float64) @ weights
        usage = weights @ encoding
        new_usage = np.column_stack([usage[None, :] - mass[:, None] * members, mass])
        new_lengths = description_length(new_usage, entropy_weight)
        players = members.astype(np.int64) @ codebook.sum(axis=1)
        best = int(np.argmin((new_lengths - lengths[-1]) / players))
        if new_lengths[best] > lengths[-1] or covers[best].sum() <= 1:
            break
        codebook = np.vstack([codebook, members[best].astype(np.int64) @ codebook > 0])
        encoding = np.column_stack([encoding, covers[best]])
        encoding[np.ix_(covers[best], np.append(members[best], False))] = False
        lengths.append(float(new_lengths[best]))
    return Aggregation(codewords=codebook[n:], encoding=encoding, lengths=lengths)
