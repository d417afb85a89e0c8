"""From interactions to a few patterns (spec §5): noisy-pattern removal and aggregation by description length.

Noise removal is the authors' greedy (drop, among the ``n_greedy`` weakest remaining patterns, the one whose
removal increases the squared reconstruction error E = Σ_T (target(T) − v̂(T))² least) in closed form: removing
an AND pattern T of value c increases E by 2c·A_T + c²·2^{n−|T|}, A_T = Σ_{S⊇T} r(S) (r the residual); an OR
pattern S by 2c·(Σ r − B_{N∖S}) + c²·(2^n − 2^{n−|S|}), B_U = Σ_{T⊆U} r(T). A and B are updated in O(2^n) per step.
The empty pattern (the constant v(∅)) is always kept and is no concept: it counts in E, not in R. The explanation
ratio is R = Σ_kept |I| / Σ_all |I| (the authors' |Σ removed I| rewards noise that cancels; ours does not).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ndg_pipeline.interactions.players import subset_sizes
from ndg_pipeline.interactions.transforms import and_inverse, n_players_of, or_inverse, superset_sum, zeta

AND, OR = "and", "or"


@dataclass
class RetainedPatterns:
    """The patterns kept for one sample: kind (``and``/``or``), subset index and value, with their quality."""

    kinds: np.ndarray
    masks: np.ndarray
    values: np.ndarray
    bias: float  # I_and(∅): always kept, no concept
    error: float  # E / Σ target² over all masks
    explanation_ratio: float
    signed_explanation_ratio: float  # the authors' R: Σ|kept| / (Σ|kept| + |Σ removed|), for comparison
    thresholds_met: bool
    steps: pd.DataFrame = field(repr=False)  # patterns remaining, normalised error and R after each removal


def explanation_ratio(kept: np.ndarray, removed: np.ndarray) -> float:
    """Σ|kept| / (Σ|kept| + Σ|removed|): the share of interaction strength the kept patterns carry."""
    strength = np.abs(kept).sum()
    total = strength + np.abs(removed).sum()
    return float(strength / total) if total > 0 else 1.0


def signed_explanation_ratio(kept: np.ndarray, removed: np.ndarray) -> float:
    """The authors' ratio Σ|kept| / (Σ|kept| + |Σ removed|): removed noise that cancels out costs nothing."""
    strength = np.abs(kept).sum()
    total = strength + abs(removed.sum())
    return float(strength / total) if total > 0 else 1.0


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
) -> RetainedPatterns:
    """Greedy noise removal for one sample; keeps the fewest patterns with error < max_error and R > min_explanation.

    ``target`` is what the patterns reconstruct (v for AND only, v + q for an AND-OR split). Patterns that are
    exactly zero are dropped first (they change nothing). When no count in [min_patterns, max_patterns] meets
    both thresholds, max_patterns are kept and ``thresholds_met`` is False. Patterns beyond the ``greedy_from``
    strongest are removed weakest first in one step (with n = 12 there are up to 8 192, and the greedy only
    decides among the weakest 20 anyway); the greedy then runs on the rest.
    """
    if not 1 <= min_patterns <= max_patterns:
        raise ValueError(f"need 1 ≤ min_patterns ≤ max_patterns; got {min_patterns}, {max_patterns}.")
    n = n_players_of(len(target))
    size = 1 << n
    or_values = np.zeros(size) if or_values is None else np.asarray(or_values, dtype=np.float64)
    and_values = np.asarray(and_values, dtype=np.float64)
    if or_values[0] != 0.0:
        and_values, or_values = and_values.copy(), or_values.copy()
        and_values[0] += or_values[0]  # I_or(∅) fires on every mask, as the constant does
        or_values[0] = 0.0
    kinds = np.repeat(np.array([AND, OR]), size)
    masks = np.tile(np.arange(size), 2)
    values = np.concatenate([and_values, or_values])
    pool = np.flatnonzero((values != 0) & (masks != 0))
    pool = pool[np.argsort(np.abs(values[pool]), kind="stable")]  # weakest first
    target = np.asarray(target, dtype=np.float64)
    energy = float(np.sum(target**2)) or 1.0
    total_strength = float(np.abs(values[pool]).sum())
    records = [
        (len(pool), float(np.sum((target - and_inverse(and_values) - or_inverse(or_values)) ** 2)) / energy, 1.0)
    ]
    bulk = pool[: max(0, len(pool) - greedy_from)]  # far below what is kept: removed weakest first, in one go
    start = values.copy()
    start[bulk] = 0.0
    residual = target - and_inverse(start[:size]) - or_inverse(start[size:])
    error = float(np.sum(residual**2))
    removed_strength = float(np.abs(values[bulk]).sum())
    if bulk.size:
        records.append((len(pool) - bulk.size, error / energy, 1.0 - removed_strength / total_strength))
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
        ratio = 1.0 - removed_strength / total_strength if total_strength > 0 else 1.0
        records.append((len(remaining), max(error, 0.0) / energy, ratio))
    steps = pd.DataFrame(records, columns=["patterns", "error", "explanation_ratio"])
    valid = steps[
        (steps.error < max_error) & (steps.explanation_ratio > min_explanation) & (steps.patterns <= max_patterns)
    ]
    met = not valid.empty
    row = (
        steps.loc[valid.index[-1]]
        if met
        else steps.loc[steps.patterns.sub(min(max_patterns, len(pool))).abs().idxmin()]
    )
    cut = len(pool) - int(row.patterns)  # the patterns removed up to the chosen step, in removal order
    kept = np.setdiff1d(pool, np.array(removed[:cut], dtype=np.int64))
    order = kept[np.argsort(-np.abs(values[kept]), kind="stable")]
    return RetainedPatterns(
        kinds=kinds[order],
        masks=masks[order],
        values=values[order],
        bias=float(and_values[0]),
        error=float(row.error),
        explanation_ratio=float(row.explanation_ratio),
        signed_explanation_ratio=signed_explanation_ratio(
            values[kept], values[np.array(removed[:cut], dtype=np.int64)]
        ),
        thresholds_met=met,
        steps=steps,
    )


@dataclass
class Aggregation:
    """Merged coalitions (codewords beyond the n single players) and how each pattern is encoded with them."""

    codewords: np.ndarray  # bool [k, n]: the merged coalitions
    encoding: np.ndarray  # bool [m, n + k]: which codewords (singletons first) compose each pattern
    lengths: list[float]  # description length after 0, 1, … merges


def description_length(usage: np.ndarray, entropy_weight: float) -> float:
    """Σ f_j ℓ_j + λ Σ p_j ℓ_j with p = f / Σf and ℓ = −ln p (natural log), over used codewords."""
    used = usage[usage > 0]
    if used.size == 0:
        return 0.0
    share = used / used.sum()
    code = -np.log(share + 1e-8)
    return float(np.sum(used * code) + entropy_weight * np.sum(share * code))


def aggregate(
    patterns: np.ndarray, weights: np.ndarray, max_merges: int = 5, entropy_weight: float = 10.0
) -> Aggregation:
    """Merge sub-coalitions shared by several patterns into codewords while the description length shrinks.

    ``patterns`` is bool [m, n] (each pattern's players), ``weights`` its |I|. Each round considers the
    coalitions two patterns share (in codewords, at least two of them), scores a merge by the change of the
    description length per player it covers, and takes the best; it stops after ``max_merges`` merges, when the
    length would grow, or when nothing is shared.
    """
    patterns = np.asarray(patterns, dtype=bool)
    weights = np.abs(np.asarray(weights, dtype=np.float64))
    n = patterns.shape[1]
    codebook = [np.eye(n, dtype=bool)[i] for i in range(n)]
    encoding = patterns.copy()
    usage = weights @ encoding
    lengths = [description_length(usage, entropy_weight)]
    for _ in range(max_merges):
        members = [frozenset(np.flatnonzero(row)) for row in encoding]
        shared = {a & b for i, a in enumerate(members) for b in members[i + 1 :] if len(a & b) >= 2}
        best = None
        for candidate in sorted(shared, key=sorted):
            columns = sorted(candidate)
            covers = encoding[:, columns].all(axis=1)
            mass = float(weights[covers].sum())
            new_usage = usage.copy()
            new_usage[columns] -= mass
            length = description_length(np.append(new_usage, mass), entropy_weight)
            players = int(np.logical_or.reduce([codebook[c] for c in columns]).sum())
            score = (length - lengths[-1]) / players
            if best is None or score < best[0]:
                best = (score, columns, covers, length)
        if best is None or best[3] > lengths[-1]:
            break
        _, columns, covers, length = best
        codebook.append(np.logical_or.reduce([codebook[c] for c in columns]))
        encoding = np.column_stack([encoding, covers])
        encoding[np.ix_(covers, columns)] = False
        usage = weights @ encoding
        lengths.append(length)
    merged = np.array(codebook[n:], dtype=bool).reshape(-1, n)
    return Aggregation(codewords=merged, encoding=encoding, lengths=lengths)
