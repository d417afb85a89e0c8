"""The study report's opening sentences are generated from its tables, and their verdicts follow the data."""

import numpy as np
import pandas as pd
from conftest import ROOT

from ndg_pipeline.studies.answers import answers, together
from ndg_pipeline.studies.statistics import contrast, summarize


def _runs(shift: float, null_gap: float, seeds: int = 5) -> pd.DataFrame:
    """Two variants × ``seeds`` seeds × two epochs of one metric; the variant's values are ``shift`` higher, and
    every value sits ``null_gap`` above its null."""
    rng = np.random.default_rng(1)
    rows = []
    for variant, offset in (("base", 0.0), ("other", shift)):
        for seed in range(seeds):
            for epoch in (1, 4):
                value = 10 + offset + rng.normal(0, 0.1)
                rows.append(
                    {
                        "variant": variant,
                        "seed": seed,
                        "epoch": epoch,
                        "lens": "ndg",
                        "metric": "edges",
                        "value": value,
                        "null": value - null_gap + rng.normal(0, 0.1),
                    }
                )
    return pd.DataFrame(rows)


def _sentences(runs: pd.DataFrame) -> list[str]:
    return answers(summarize(runs), contrast(runs, "base", "other"))["answer"].tolist()


def test_a_planted_effect_is_reported_with_its_interval_at_the_last_epoch():
    runs = _runs(shift=2.0, null_gap=5.0)
    (sentence,) = _sentences(runs)
    assert sentence.startswith("other vs base, ndg edges at epoch 4: ")
    final = runs[runs["epoch"] == 4]
    difference = (
        final.loc[final["variant"] == "other", "value"].mean() - final.loc[final["variant"] == "base", "value"].mean()
    )
    assert f": {difference:.3g} [" in sentence
    assert "over 5 seeds per variant, p = 0.00794 — a difference" in sentence  # 2 / C(10, 5)
    assert "base clears its null" in sentence and "other clears its null" in sentence


def test_no_effect_and_a_null_that_matches_are_said_as_such():
    (sentence,) = _sentences(_runs(shift=0.0, null_gap=0.0))
    assert "no difference detected" in sentence
    assert "base is matched by its null" in sentence and "other is matched by its null" in sentence


def test_a_metric_without_a_null_says_so():
    (sentence,) = _sentences(_runs(shift=2.0, null_gap=1.0).assign(null=np.nan))
    assert "base: no null measured; other: no null measured." in sentence


def test_the_report_names_a_metric_it_cannot_draw_and_shows_it_as_a_dash():
    import yaml

    from ndg_pipeline.config.study import StudyParams
    from ndg_pipeline.reporting.study.report import render_study_report

    study = StudyParams(**yaml.safe_load((ROOT / "conf/base/parameters_study.yml").read_text())["study"])

    drawn = _runs(shift=2.0, null_gap=5.0).assign(converged=True)
    empty = drawn.assign(metric="patch.graph.aligned", value=np.nan, null=np.nan)
    runs = pd.concat([drawn, empty], ignore_index=True)
    summary, contrasts = summarize(runs), contrast(runs, "base", "other")
    page = " ".join(render_study_report(study, runs, summary, contrasts, [], [], {}).split())
    assert "No panel for patch.graph.aligned: no converged value" in page
    assert "No panel for edges" not in page
    assert '<td class="num">–</td>' in page


def test_three_seeds_per_variant_are_said_to_be_too_few_rather_than_to_show_no_difference():
    (sentence,) = _sentences(_runs(shift=2.0, null_gap=5.0, seeds=3))
    assert "p = 0.1 — too few seeds to detect a difference at p ≤ 0.05 (the smallest attainable p is 0.1)" in sentence


def test_a_metric_measured_on_one_seed_of_a_variant_is_too_few_seeds_not_a_crash():
    runs = _runs(shift=2.0, null_gap=5.0)
    runs.loc[(runs["variant"] == "other") & (runs["seed"] > 0), "value"] = np.nan  # converged on one seed only
    (sentence,) = _sentences(runs)
    assert "[n/a, n/a] over 1 seed per variant, p = n/a — too few seeds to detect a difference at p ≤ 0.05" in sentence


def test_a_difference_where_the_variant_is_matched_by_its_null_is_named_apart_not_counted():
    runs = _runs(shift=2.0, null_gap=0.0)  # the variants differ, but each sits on its own null
    found = answers(summarize(runs), contrast(runs, "base", "other"))
    assert found["verdict"].tolist() == ["a difference"] and not found["clears_null"].iloc[0]
    text = together(found)
    assert "a difference for the NDG in 0 of 1, and edges at the level of its null." in text
    assert "The lenses agree: none sees a difference." in text


def test_together_names_the_lenses_that_differ_and_says_where_they_disagree():
    moved = _runs(shift=2.0, null_gap=5.0)
    still = _runs(shift=0.0, null_gap=0.0).assign(lens="interactions", metric="concepts_per_sample")
    runs = pd.concat([moved, still], ignore_index=True)
    found = answers(summarize(runs), contrast(runs, "base", "other"))
    assert found.set_index("lens")["verdict"].to_dict() == {
        "ndg": "a difference",
        "interactions": "no difference detected",
    }
    text = together(found)
    assert text.startswith("Together, other vs base at epoch 4: a difference for ")
    assert "a difference for the NDG in 1 of 1 (edges); the interaction lens in 0 of 1." in text
    assert "The lenses disagree: the NDG sees a difference where the interaction lens sees none." in text
    assert "1 of 2 of other's metrics with a null clear it." in text
    agreeing = together(found[found["lens"] == "ndg"])
    assert "The lenses agree: each sees a difference." in agreeing
