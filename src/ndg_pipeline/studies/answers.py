"""The sentences that open a study report: one per lens metric at the last checkpoint, generated from the study's
tables (the effect, its interval over seeds, the permutation p-value, and whether each variant clears its null)."""

from __future__ import annotations

import pandas as pd

from ndg_pipeline.studies.statistics import smallest_p

ALPHA = 0.05


def number(value: float | None, missing: str = "n/a") -> str:
    """A value with three significant digits (``missing`` where there is none: None or NaN)."""
    return missing if value is None or pd.isna(value) else f"{float(value):.3g}"


def _null_clause(summary: pd.DataFrame, variant: str) -> str:
    """Whether ``variant``'s value clears its null (the summary row of that variant)."""
    row = summary[summary["variant"] == variant]
    if row.empty or pd.isna(row["null_excluded"].iloc[0]):
        return f"{variant}: no null measured"
    row = row.iloc[0]
    verdict = "clears its null" if bool(row["null_excluded"]) else "is matched by its null"
    return f"{variant} {verdict} ({number(row['mean'])} vs {number(row['null_mean'])})"


def answer(contrast_row: pd.Series, summary: pd.DataFrame, seeds: int) -> str:
    """One sentence: '<variant> vs <baseline>, <lens> <metric> at epoch E: difference D [low, high] over N seeds,
    p = P — a difference / no difference detected (or: too few seeds to tell); <each variant against its null>.'"""
    found = (
        contrast_row["p_value"] <= ALPHA
        and not pd.isna(contrast_row["low"])
        and (contrast_row["low"] > 0 or contrast_row["high"] < 0)
    )
    floor = smallest_p(seeds, seeds)
    if found:
        verdict = "a difference"
    elif floor > ALPHA:
        verdict = f"too few seeds to detect a difference at p ≤ {ALPHA} (the smallest attainable p is {number(floor)})"
    else:
        verdict = "no difference detected"
    nulls = "; ".join(_null_clause(summary, name) for name in (contrast_row["baseline"], contrast_row["variant"]))
    return (
        f"{contrast_row['variant']} vs {contrast_row['baseline']}, {contrast_row['lens']} {contrast_row['metric']} "
        f"at epoch {contrast_row['epoch']}: {number(contrast_row['difference'])} "
        f"[{number(contrast_row['low'])}, {number(contrast_row['high'])}] over {seeds} seeds per variant, "
        f"p = {number(contrast_row['p_value'])} — {verdict}; {nulls}."
    )


def answers(summary: pd.DataFrame, contrasts: pd.DataFrame) -> list[str]:
    """One sentence per lens metric of every contrast, at the last checkpoint measured."""
    last = contrasts[contrasts["epoch"] == contrasts["epoch"].max()]
    sentences = []
    for _, row in last.iterrows():
        keys = (
            (summary["epoch"] == row["epoch"]) & (summary["lens"] == row["lens"]) & (summary["metric"] == row["metric"])
        )
        both = summary["variant"].isin([row["variant"], row["baseline"]])
        seeds = int(summary.loc[keys & both, "seeds"].min())
        sentences.append(answer(row, summary[keys], seeds))
    return sentences
