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


DIFFERENCE, NO_DIFFERENCE, TOO_FEW = "a difference", "no difference detected", "too few seeds"
LENS_NAMES = {
    "training": "training",
    "ndg": "the NDG",
    "interactions": "the interaction lens",
    "effective_information": "the effective-information lens",
}


def verdict(contrast_row: pd.Series, seeds: int) -> str:
    """:data:`DIFFERENCE` (p ≤ :data:`ALPHA` and an interval that leaves out 0), :data:`TOO_FEW` (``seeds`` per
    variant cannot reach p ≤ ALPHA) or :data:`NO_DIFFERENCE`."""
    found = (
        contrast_row["p_value"] <= ALPHA
        and not pd.isna(contrast_row["low"])
        and (contrast_row["low"] > 0 or contrast_row["high"] < 0)
    )
    if found:
        return DIFFERENCE
    return TOO_FEW if smallest_p(seeds, seeds) > ALPHA else NO_DIFFERENCE


def answer(contrast_row: pd.Series, summary: pd.DataFrame, seeds: int) -> str:
    """One sentence: '<variant> vs <baseline>, <lens> <metric> at epoch E: difference D [low, high] over N seeds,
    p = P — a difference / no difference detected (or: too few seeds to tell); <each variant against its null>.'"""
    said = verdict(contrast_row, seeds)
    if said == TOO_FEW:
        said = f"too few seeds to detect a difference at p ≤ {ALPHA} (the smallest attainable p is "
        said += f"{number(smallest_p(seeds, seeds))})"
    nulls = "; ".join(_null_clause(summary, name) for name in (contrast_row["baseline"], contrast_row["variant"]))
    return (
        f"{contrast_row['variant']} vs {contrast_row['baseline']}, {contrast_row['lens']} {contrast_row['metric']} "
        f"at epoch {contrast_row['epoch']}: {number(contrast_row['difference'])} "
        f"[{number(contrast_row['low'])}, {number(contrast_row['high'])}] "
        f"over {seeds} seed{'' if seeds == 1 else 's'} per variant, "
        f"p = {number(contrast_row['p_value'])} — {said}; {nulls}."
    )


def answers(summary: pd.DataFrame, contrasts: pd.DataFrame) -> pd.DataFrame:
    """Per contrast and lens metric at the last checkpoint measured: its verdict, whether the variant clears its
    null (NA: no null) and the sentence of :func:`answer`."""
    last = contrasts[contrasts["epoch"] == contrasts["epoch"].max()]
    rows = []
    for _, row in last.iterrows():
        keys = (
            (summary["epoch"] == row["epoch"]) & (summary["lens"] == row["lens"]) & (summary["metric"] == row["metric"])
        )
        both = summary["variant"].isin([row["variant"], row["baseline"]])
        seeds = int(summary.loc[keys & both, "seeds"].min())
        own = summary.loc[keys & (summary["variant"] == row["variant"]), "null_excluded"]
        rows.append(
            {
                "variant": row["variant"],
                "baseline": row["baseline"],
                "epoch": row["epoch"],
                "lens": row["lens"],
                "metric": row["metric"],
                "verdict": verdict(row, seeds),
                "clears_null": own.iloc[0] if len(own) else pd.NA,
                "answer": answer(row, summary[keys], seeds),
            }
        )
    return pd.DataFrame(
        rows, columns=["variant", "baseline", "epoch", "lens", "metric", "verdict", "clears_null", "answer"]
    )


def together(found: pd.DataFrame) -> str:
    """What the lenses say together, from :func:`answers`' rows: per lens the metrics that differ, whether the
    lenses agree, and how many of the variant's metrics clear their null. A difference where the variant is
    matched by its null is named apart and not counted: it is no finding of the lens."""
    if found.empty:
        return "No contrast was measured."
    first = found.iloc[0]
    parts = []
    seen: dict[str, bool] = {}
    order = {lens: i for i, lens in enumerate(LENS_NAMES)}
    for lens, rows in sorted(found.groupby("lens"), key=lambda item: order.get(str(item[0]), len(order))):
        moved = rows["verdict"] == DIFFERENCE
        matched = rows["clears_null"].eq(False).fillna(False).astype(bool)
        differ = rows.loc[moved & ~matched, "metric"].tolist()
        seen[str(lens)] = bool(differ)
        named = f" ({', '.join(differ)})" if differ else ""
        at_null = rows.loc[moved & matched, "metric"].tolist()
        if at_null:
            named += f", and {', '.join(at_null)} at the level of its null"
        parts.append(f"{LENS_NAMES.get(str(lens), str(lens))} in {len(differ)} of {len(rows)}{named}")
    text = f"Together, {first['variant']} vs {first['baseline']} at epoch {first['epoch']}: a difference for "
    text += "; ".join(parts) + "."
    lenses = {lens: differs for lens, differs in seen.items() if lens != "training"}
    if (found["verdict"] == TOO_FEW).all():
        text += " These seeds cannot show a difference at all; run the full preset."
    elif len(set(lenses.values())) > 1:
        yes = [LENS_NAMES.get(lens, lens) for lens, differs in lenses.items() if differs]
        no = [LENS_NAMES.get(lens, lens) for lens, differs in lenses.items() if not differs]
        verb = "sees" if len(yes) == 1 else "see"
        text += f" The lenses disagree: {' and '.join(yes)} {verb} a difference where {' and '.join(no)} "
        text += "sees none." if len(no) == 1 else "see none."
    elif lenses:
        text += " The lenses agree: " + (
            "each sees a difference." if any(lenses.values()) else "none sees a difference."
        )
    known = found["clears_null"].dropna()
    if len(known):
        text += (
            f" {int(known.astype(bool).sum())} of {len(known)} of {first['variant']}'s metrics with a null clear it."
        )
    return text
