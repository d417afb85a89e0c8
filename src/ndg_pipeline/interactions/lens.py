"""The interaction lens on one setting: rewards on every mask, the Harsanyi and AND-OR interactions, noise
removal with the AND-OR graph, and the metrics of spec §6 each beside its null — each stage one call with the
lens's typed parameters. The interaction pipeline runs the stages as nodes (every intermediate a catalog entry);
:func:`measure_model` chains them for callers that need only one model's metrics (the timeline, a study)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ndg_pipeline.config.interactions import InteractionsParams
from ndg_pipeline.device import resolve_device
from ndg_pipeline.interactions.and_or import learn_and_or, learn_baseline
from ndg_pipeline.interactions.graph import and_or_graph, graph_size
from ndg_pipeline.interactions.metrics import (
    cover_shares,
    discrimination_power,
    interval_over_inputs,
    matches_null,
    modelwise_transferability,
    normalized_strengths,
    null_draws,
    random_identities,
    reconstruction_error,
    salient,
    samplewise_transferability,
    verdict,
)
from ndg_pipeline.interactions.patterns import aggregate, remove_noisy
from ndg_pipeline.interactions.players import input_embedding_path, players_of, subset_masks
from ndg_pipeline.interactions.rewards import compute_rewards as rewards_of
from ndg_pipeline.interactions.settings import Sample, Setting
from ndg_pipeline.interactions.tables import arrays_of, groups_by_players, long_frame
from ndg_pipeline.interactions.transforms import and_interactions
from ndg_pipeline.names import FIRST, NULL, SECOND

Model = Any  # a torch.nn.Module
Graph = Any  # networkx.DiGraph


def reward_table(explained: Setting, params: InteractionsParams, require_correct: bool = True) -> pd.DataFrame:
    """v on all 2^n masks of every selected sample, for every model: rows (model, sample, mask, order, reward).

    ``require_correct`` checks v(N) > 0 for the first model (the samples were selected as correct);
    :func:`measure_model` turns it off to follow the same samples through checkpoints that misclassify some."""

    arrays = {}
    for name, model in explained.models.items():
        for position, sample in enumerate(explained.samples):
            masker = explained.masker(sample, model)
            if params.baseline_learning.enabled:
                spread = params.baseline_learning.bound * _baseline_scale(explained)
                start = masker.baseline.detach().cpu()
                learned = learn_baseline(
                    model,
                    masker,
                    sample.label,
                    start - spread,
                    start + spread,
                    params.baseline_learning.iterations,
                    params.baseline_learning.learning_rate,
                    params.batch_size,
                    desc=None,
                )
                masker = masker.with_baseline(learned.baseline)
            desc = f"rewards {name} {position + 1}/{len(explained.samples)}"
            try:
                values = rewards_of(model, [masker], [sample.label], params.batch_size, desc=desc)[0]
            except ValueError as error:
                raise ValueError(f"model {name}, input {position} (test index {sample.index}): {error}") from error
            if require_correct and name == FIRST and values[-1] <= 0:
                raise ValueError(f"sample {position}: v(N) = {values[-1]:.3f} ≤ 0 although it was selected as correct")
            arrays[(name, position)] = values - values[0] if params.subtract_empty else values
    return long_frame(arrays, "reward")


def _baseline_scale(explained: Setting) -> Any:
    """Per-dimension std of the inputs the baseline replaces: training columns, pixels, or embedding rows."""
    import torch

    if explained.kind == "tabular":
        return torch.ones(len(explained.feature_names))  # standardised columns: std 1
    if explained.kind == "image":
        count = min(len(explained.splits.train), 512)
        return torch.stack([torch.as_tensor(explained.splits.train.dataset[i][0]) for i in range(count)]).std(dim=0)

    model = explained.models[FIRST]
    return dict(model.named_modules())[input_embedding_path(model)].weight.detach().cpu().std(dim=0)


def interaction_tables(rewards: pd.DataFrame, params: InteractionsParams) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Harsanyi (plain AND) interactions and the learned AND-OR split of every sample, batched per player count;
    also q per mask (the split reconstructs v + q)."""

    values = arrays_of(rewards, "reward")
    harsanyi, and_part, or_part, offsets = {}, {}, {}, {}
    for n, keys in groups_by_players(list(values), values).items():
        stacked = np.stack([values[key] for key in keys])
        split = learn_and_or(
            stacked,
            params.split.iterations,
            params.split_learning_rate(n),
            params.split.q_threshold,
            params.split.momentum,
            resolve_device(params.device),
            desc=f"AND-OR split, {len(keys)} samples × 2^{n} masks",
        )
        for row, key in enumerate(keys):
            harsanyi[key] = and_interactions(stacked[row])
            and_part[key], or_part[key], offsets[key] = (
                split.and_interactions[row],
                split.or_interactions[row],
                split.q[row],
            )
    table = pd.concat(
        [
            long_frame(harsanyi, "value", kind="harsanyi"),
            long_frame(and_part, "value", kind="and"),
            long_frame(or_part, "value", kind="or"),
        ],
        ignore_index=True,
    )
    return table[["model", "sample", "mask", "order", "kind", "value"]], long_frame(offsets, "q")


def _split_arrays(interactions: pd.DataFrame, kind: str) -> dict[tuple[str, int], np.ndarray]:

    return arrays_of(interactions[interactions["kind"] == kind], "value")


def retained(
    target: np.ndarray, and_values: np.ndarray, or_values: np.ndarray, params: InteractionsParams, **changes: Any
) -> Any:
    """Noise removal of one sample with the run's rules (the authors' cut unless ``patterns.cut`` says strict),
    ``changes`` replacing some of them (a replayed variant)."""

    rules = params.patterns.model_copy(update=changes)
    return remove_noisy(
        target,
        and_values,
        or_values,
        rules.min_patterns,
        rules.max_patterns,
        rules.n_greedy,
        rules.max_error,
        rules.min_explanation,
        rules.greedy_from,
        rules.cut,
    )


def graphs_and_patterns(
    rewards: pd.DataFrame,
    interactions: pd.DataFrame,
    offsets: pd.DataFrame,
    explained: Setting,
    params: InteractionsParams,
) -> tuple[dict[str, Graph], pd.DataFrame]:
    """Noise removal, aggregation and the AND-OR graph of every sample of the first model; the retained patterns."""

    rules = params.patterns
    values, q = arrays_of(rewards, "reward"), arrays_of(offsets, "q")
    and_part, or_part = _split_arrays(interactions, "and"), _split_arrays(interactions, "or")
    graphs, rows = {}, []
    for key in tqdm([k for k in values if k[0] == FIRST], desc="AND-OR graphs"):
        sample = explained.samples[key[1]]
        kept = retained(values[key] + q[key], and_part[key], or_part[key], params)
        n = len(sample.names)
        merged = aggregate(subset_masks(n)[kept.masks], kept.values, rules.max_merges, rules.entropy_weight)
        title = f"sample {key[1]}, class {explained.splits.class_names[sample.label]}"
        graph = and_or_graph(kept, merged, sample.names, title)
        graphs[str(key[1])] = graph
        size = graph_size(graph)
        for rank, (kind, mask, value) in enumerate(zip(kept.kinds, kept.masks, kept.values, strict=True)):
            members = players_of(int(mask), n)
            rows.append(
                {
                    "sample": key[1],
                    "rank": rank,
                    "kind": str(kind),
                    "mask": int(mask),
                    "order": len(members),
                    "value": float(value),
                    "players": " ".join(sample.names[p] for p in members),
                    "player_ids": " ".join(str(p) for p in members),
                    "error": kept.error,
                    "explanation_ratio": kept.explanation_ratio,
                    "strength_share": kept.strength_share,
                    "thresholds_met": kept.thresholds_met,
                    "coalitions": size["coalitions"],
                    "graph_nodes": size["nodes"],
                    "graph_edges": size["edges"],
                    "description_length": merged.lengths[-1],
                    "description_length_unmerged": merged.lengths[0],
                }
            )
    return graphs, pd.DataFrame(rows)


NOISE_REMOVAL_VARIANTS = (
    "ours (the default)",
    "greedy over every pattern",
    "authors' fallback",
    "strict cut",
)


def noise_removal_variants(
    rewards: pd.DataFrame, interactions: pd.DataFrame, offsets: pd.DataFrame, params: InteractionsParams
) -> pd.DataFrame:
    """Our deliberate differences from the authors' noise removal, replayed on the first model's inputs: per input
    and variant, the concepts kept and whether both thresholds are met — with the run's rules, with the greedy run
    over every pattern (no ``greedy_from`` step), with the authors' fallback where no count within the cap meets
    the thresholds (one pattern removed: every non-zero concept but one kept), and with the strict cut."""

    values, q = arrays_of(rewards, "reward"), arrays_of(offsets, "q")
    and_part, or_part = _split_arrays(interactions, "and"), _split_arrays(interactions, "or")
    rows = []
    for key in [k for k in values if k[0] == FIRST]:
        target = values[key] + q[key]
        everything = max(2 * len(target), params.patterns.max_patterns)  # greedy_from beyond every pattern
        ours = retained(target, and_part[key], or_part[key], params)
        every = retained(target, and_part[key], or_part[key], params, greedy_from=everything)
        strict = retained(target, and_part[key], or_part[key], params, cut="strict")
        fallback = len(ours.values) if ours.thresholds_met else int(ours.steps.patterns.iloc[0]) - 1
        kept = {
            NOISE_REMOVAL_VARIANTS[0]: (len(ours.values), ours.thresholds_met),
            NOISE_REMOVAL_VARIANTS[1]: (len(every.values), every.thresholds_met),
            NOISE_REMOVAL_VARIANTS[2]: (fallback, ours.thresholds_met),
            NOISE_REMOVAL_VARIANTS[3]: (len(strict.values), strict.thresholds_met),
        }
        rows += [
            {"sample": key[1], "variant": variant, "concepts": count, "thresholds_met": met}
            for variant, (count, met) in kept.items()
        ]
    return pd.DataFrame(rows, columns=["sample", "variant", "concepts", "thresholds_met"])


def _padded(rows: list[np.ndarray]) -> np.ndarray:
    """Rows of different lengths (text: sentences of different lengths) padded with zeros into one array."""
    width = max(len(row) for row in rows)
    return np.stack([np.pad(row, (0, width - len(row))) for row in rows])


# the side of its null a headline number must lie on to be a finding (the rest: "above")
CLAIMS = {
    "concepts_per_sample": "below",
    "normalized_error": "below",
    "salient_concepts_per_sample": "below",
    "harsanyi_salient_concepts_per_sample": "below",
    "salient_ratio": "below",
}
# headline numbers that are shares: their intervals are clipped into [0, 1] (the rest are counts or errors, ≥ 0)
SHARES = {
    "explanation_ratio",
    "strength_share",
    "thresholds_met",
    "salient_ratio",
    "samplewise_transferability",
    "discrimination",
}
PER_SAMPLE = ("concepts_per_sample", "explanation_ratio", "strength_share", "normalized_error", "thresholds_met")


def _per_sample(patterns: pd.DataFrame, samples: int) -> pd.DataFrame:
    """One row per sample of the first model: concepts kept, R, strength share, normalised error, thresholds met."""
    grouped = patterns.groupby("sample")
    first = grouped[["explanation_ratio", "strength_share", "error", "thresholds_met"]].first()
    table = first.rename(columns={"error": "normalized_error"}).assign(concepts_per_sample=grouped.size())
    return table.reindex(range(samples)).fillna({"concepts_per_sample": 0}).astype(float)[list(PER_SAMPLE)]


def metric_tables(
    rewards: pd.DataFrame,
    interactions: pd.DataFrame,
    offsets: pd.DataFrame,
    patterns: pd.DataFrame,
    explained: Setting,
    params: InteractionsParams,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The metrics of spec §6 (one row per metric, headline numbers with an interval over inputs and their
    null) and the curves behind the figures."""

    thresholds, nulls = params.metrics, params.nulls
    values, q = arrays_of(rewards, "reward"), arrays_of(offsets, "q")
    harsanyi = _split_arrays(interactions, "harsanyi")
    and_part, or_part = _split_arrays(interactions, "and"), _split_arrays(interactions, "or")
    models = [m for m in (FIRST, SECOND, NULL) if any(k[0] == m for k in values)]
    keys = {model: sorted(k for k in values if k[0] == model) for model in models}
    concepts = {m: [np.concatenate([and_part[k], or_part[k]]) for k in keys[m]] for m in models}
    plain = {m: [np.concatenate([harsanyi[k], np.zeros_like(harsanyi[k])]) for k in keys[m]] for m in models}
    first = keys[FIRST]
    labels = np.array([explained.samples[k[1]].label for k in first])
    classes = np.unique(labels)
    rows: list[dict[str, Any]] = []

    def by_class(per_sample: np.ndarray) -> list[np.ndarray]:
        return [np.asarray(per_sample, dtype=np.float64)[labels == label] for label in classes]

    def mean_of(groups: list[np.ndarray]) -> float:
        return float(np.nanmean(np.concatenate(groups)))

    def interval(statistic: Any, groups: list[np.ndarray], name: str) -> tuple[float, float]:
        shares = name in SHARES or name.startswith("modelwise_transferability")
        bounds = (0.0, 1.0) if shares else (0.0, np.inf)
        return interval_over_inputs(statistic, groups, nulls.halves, nulls.level, nulls.seed, bounds)

    def headline(name: str, statistic: Any, groups: list[np.ndarray], null: tuple | None, null_kind: str) -> None:
        """A headline number with its interval over inputs, its null (value, low, high) or none, and the verdict
        on the side its claim makes (CLAIMS)."""
        low, high = interval(statistic, groups, name)
        null = null or (float("nan"),) * 3
        claim = CLAIMS.get(name, "above")
        rows.append(
            {
                "metric": name,
                "value": statistic(groups),
                "low": low,
                "high": high,
                "null": null[0],
                "null_low": null[1],
                "null_high": null[2],
                "null_kind": null_kind,
                "matches_null": matches_null((low, high), null[1:]) if np.isfinite(null[0]) else None,
                "claim": claim,
                "verdict": verdict((low, high), null[1:], claim),
            }
        )

    def per_input_null(per_sample: np.ndarray, name: str) -> tuple:
        groups = by_class(per_sample)
        return (mean_of(groups), *interval(mean_of, groups, name))

    def drawn_null(statistic: Any, groups: list[np.ndarray]) -> tuple:
        draws = null_draws(statistic, groups, nulls.draws, nulls.seed)
        tail = (1 - nulls.level) / 2
        return (float(np.mean(draws)), *(float(x) for x in np.quantile(draws, [tail, 1 - tail])))

    def check(name: str, value: float) -> None:
        rows.append({"metric": name, "value": float(value), "null_kind": "", "matches_null": None, "verdict": "check"})

    untrained = "untrained network, same code"
    per_sample = _per_sample(patterns, len(first))
    null_samples = None
    if NULL in models:
        summaries = [retained(values[k] + q[k], and_part[k], or_part[k], params) for k in keys[NULL]]
        null_samples = pd.DataFrame(
            {
                "concepts_per_sample": [len(s.values) for s in summaries],
                "explanation_ratio": [s.explanation_ratio for s in summaries],
                "strength_share": [s.strength_share for s in summaries],
                "normalized_error": [s.error for s in summaries],
                "thresholds_met": [float(s.thresholds_met) for s in summaries],
            }
        )
    for name in PER_SAMPLE:
        null = per_input_null(null_samples[name].to_numpy(), name) if null_samples is not None else None
        headline(name, mean_of, by_class(per_sample[name].to_numpy()), null, untrained if null else "")
    for name, source, size in (
        ("salient_concepts_per_sample", concepts, 1),
        ("harsanyi_salient_concepts_per_sample", plain, 1),
        ("salient_ratio", concepts, 0),
    ):

        def counts(model: str, source: dict = source, size: int = size) -> np.ndarray:
            found = [salient(c, thresholds.salient_threshold).sum() for c in source[model]]
            return np.asarray(found, float) if size else np.asarray(found, float) / [len(c) for c in source[model]]

        null = per_input_null(counts(NULL), name) if NULL in models else None
        headline(name, mean_of, by_class(counts(FIRST)), null, untrained if null else "")
    same_players = len({len(c) for c in concepts[FIRST]}) == 1 and explained.kind != "text"
    curves = []
    for name, series in [*((m, concepts[m]) for m in models), ("harsanyi", plain[FIRST])]:
        curve = normalized_strengths(_padded(series)).mean(axis=0)
        curves.append(
            pd.DataFrame({"curve": "sparsity", "series": name, "x": np.arange(1, len(curve) + 1), "y": curve})
        )
    shuffled = f"random identities and signs, same salience counts, {nulls.draws} draws"
    if same_players:
        stacked = np.stack(concepts[FIRST])
        groups = [stacked[labels == label] for label in classes]
        k = thresholds.dictionary_size

        def rho(parts: list[np.ndarray]) -> float:
            return float(
                np.mean([samplewise_transferability(g, k, thresholds.dictionary_threshold)[-1] for g in parts])
            )

        def beta(parts: list[np.ndarray]) -> float:
            overall = [
                discrimination_power(g, thresholds.discrimination_threshold, thresholds.frequency_bins)[1]
                for g in parts
            ]
            return float(np.nanmean(overall))

        headline("samplewise_transferability", rho, groups, drawn_null(rho, groups), shuffled)
        check("dictionary_size", k)
        headline("discrimination", beta, groups, drawn_null(beta, groups), shuffled)
        check("inputs_per_class", min(len(g) for g in groups))
        for label, rows_of_class in zip(classes, groups, strict=True):
            curve = samplewise_transferability(rows_of_class, k, thresholds.dictionary_threshold)
            name = explained.splits.class_names[int(label)]
            curves.append(pd.DataFrame({"curve": "samplewise", "series": name, "x": np.arange(1, k + 1), "y": curve}))
        mean_rho = np.mean([samplewise_transferability(g, k, thresholds.dictionary_threshold) for g in groups], axis=0)
        rng = np.random.default_rng(nulls.seed)
        null_rho = np.mean(
            [samplewise_transferability(random_identities(g, rng), k, thresholds.dictionary_threshold) for g in groups],
            axis=0,
        )
        for series, curve in (("mean", mean_rho), ("null", null_rho)):
            curves.append(pd.DataFrame({"curve": "samplewise", "series": series, "x": np.arange(1, k + 1), "y": curve}))
        tables = [
            discrimination_power(g, thresholds.discrimination_threshold, thresholds.frequency_bins)[0] for g in groups
        ]
        joined = pd.concat(tables).groupby(["frequency_low", "frequency_high"], as_index=False)
        bins = joined.agg(concepts=("concepts", "sum"), discrimination=("discrimination", "mean"))
        curves.append(
            pd.DataFrame(
                {
                    "curve": "discrimination",
                    "series": "mean over classes",
                    "x": (bins.frequency_low + bins.frequency_high) / 2,
                    "y": bins.discrimination,
                    "count": bins.concepts,
                    "low": bins.frequency_low,
                    "high": bins.frequency_high,
                }
            )
        )
    if SECOND in models:
        ones, twos = _padded(concepts[FIRST]), _padded(concepts[SECOND])
        nones = _padded(concepts[NULL]) if NULL in models else None
        for tau in thresholds.transfer_thresholds:
            name = f"modelwise_transferability_{tau:.2f}"
            shares = cover_shares(ones, twos, tau, thresholds.salient_threshold)
            null = (
                per_input_null(cover_shares(ones, nones, tau, thresholds.salient_threshold), name)
                if nones is not None
                else None
            )
            headline(name, mean_of, by_class(shares), null, untrained if null else "")
        transfer = modelwise_transferability(ones, twos, thresholds.transfer_thresholds, thresholds.salient_threshold)
        check("modelwise_random_baseline", transfer.random_baseline.iloc[0])
        series_of = [("second model", transfer.transferability), ("random sets", transfer.random_baseline)]
        if nones is not None:
            untrained_curve = modelwise_transferability(
                ones, nones, thresholds.transfer_thresholds, thresholds.salient_threshold
            ).transferability
            series_of.append(("untrained network (null)", untrained_curve))
        for series, column in series_of:
            curves.append(pd.DataFrame({"curve": "modelwise", "series": series, "x": transfer.threshold, "y": column}))
    graph_sizes = patterns.groupby("sample")[
        ["graph_nodes", "graph_edges", "coalitions", "description_length", "description_length_unmerged"]
    ].first()
    for name, value in {
        "samples": len(first),
        "players": float(np.mean([np.log2(len(values[k])) for k in first])),
        "reward_full": float(np.mean([values[k][-1] for k in first])),
        "reward_empty": float(np.mean([values[k][0] for k in first])),
        **{name: float(graph_sizes[name].mean()) for name in graph_sizes},
        "l1_harsanyi": float(np.mean([np.abs(harsanyi[k]).sum() for k in first])),
        "l1_and_or": float(np.mean([np.abs(c).sum() for c in concepts[FIRST]])),
        "reconstruction_error_harsanyi": float(max(reconstruction_error(values[k], harsanyi[k])[0] for k in first)),
        "reconstruction_error_and_or": float(
            max(reconstruction_error(values[k] + q[k], and_part[k], or_part[k])[0] for k in first)
        ),
        "q_max": float(max(np.abs(q[k]).max() for k in first)),
    }.items():
        check(name, value)
    columns = ["metric", "value", "low", "high", "null", "null_low", "null_high", "null_kind", "matches_null"]
    columns += ["claim", "verdict"]
    table = pd.DataFrame(rows, columns=columns)
    table["explains"] = params.explained
    table["matches_null"] = table["matches_null"].astype("boolean")
    return table, pd.concat(curves, ignore_index=True)


def first_per_class(samples: list[Sample], per_class: int) -> list[Sample]:
    """The first ``per_class`` samples of each class, in their order (a fixed subset of a seeded selection)."""
    return [s for i, s in enumerate(samples) if [t.label for t in samples[:i]].count(s.label) < per_class]


def measure_model(model: Model, setting: Setting, params: InteractionsParams) -> pd.DataFrame:
    """The metrics table of ``model`` alone on ``setting``'s samples, as the interaction pipeline's stages give it
    (rewards → interactions → noise removal → metrics). Samples ``model`` misclassifies are kept, so a fixed set
    can be followed through training; no second or null model, so the metrics have no null column."""

    alone = dataclasses.replace(setting, models={FIRST: model.to(resolve_device(params.device)).eval()})
    rewards = reward_table(alone, params, require_correct=False)
    values, offsets = interaction_tables(rewards, params)
    patterns = graphs_and_patterns(rewards, values, offsets, alone, params)[1]
    return metric_tables(rewards, values, offsets, patterns, alone, params)[0]
