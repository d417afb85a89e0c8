"""The README's generated blocks: tables written from a run's frames, and only between their markers."""

from __future__ import annotations

import numpy as np
import pandas as pd
from test_study_answers import _runs
from test_timeline_report import concepts_frame, timeline_frame

from ndg_pipeline.reporting.readme import (
    control_tables_block,
    ei_findings_block,
    ei_model_block,
    ei_paper_block,
    fill,
    interactions_block,
    interactions_notes,
    noise_removal_block,
    study_blocks,
    timeline_block,
    timeline_findings,
)


def test_the_timeline_block_has_one_column_per_checkpoint_and_the_runs_values() -> None:
    timeline = timeline_frame()
    block = timeline_block(timeline).splitlines()
    assert block[0] == "| epoch | 1 | 2 | 5 | 10 | 20 |"
    edges = next(line for line in block if line.startswith("| NDG edges |"))
    assert edges == "| NDG edges | " + " | ".join(str(int(value)) for value in timeline["ndg.edges"]) + " |"
    ei = next(line for line in block if line.startswith("| EI_parts of `encoder.10`, bits |"))
    assert ei.split(" | ")[1] == f"{timeline['ei.encoder.10.ei_parts'].iloc[0]:.1f}"
    assert not [line for line in block if "salient" in line]  # a metric the run lacks gets no row


def test_fill_replaces_only_the_named_blocks() -> None:
    text = "intro\n<!-- generated: a -->\nold a\n<!-- end: a -->\n"
    text += "middle\n<!-- generated: b -->\nold b\n<!-- end: b -->\n"
    assert fill(text, {"a": "new a\n"}) == text.replace("old a\n", "new a\n")
    assert fill(text, {}) == text


def test_the_sentences_under_the_timeline_take_numbers_and_verdicts_from_the_run() -> None:
    timeline = timeline_frame().assign(**{"interactions.salient_concepts_per_sample": [18.0, 40, 70, 100, 114]})
    timeline["ei.encoder.10.ei_parts"] = np.nan  # failed its convergence check everywhere
    text = timeline_findings(timeline, concepts_frame(), "100")
    assert text.startswith(
        "The intervention's aligned share (test, patch values) rises from 41.0 % at epoch 1 to 66.5 % at epoch 20"
        " while its random-set baseline stays at or under 4.0 %: the graph's sets beat random sets from the first"
    )
    assert "The edges' mean test accuracy rises from 94.10 % at epoch 1 to 96.83 % at epoch 20." in text
    assert "explanation ratio rises from 91.2 % at epoch 1 to 95.7 % at epoch 20." in text
    assert "The number of salient concepts per sample rises from 18.0 at epoch 1 to 114.0 at epoch 20." in text
    assert "check failed at every checkpoint: EI_parts of `encoder.10`." in text
    assert text.endswith("At α = 100, 1 of the 2 explained classes have a sufficient neuron (an edge n → class) in "
                         "the final model's graph.\n")  # class 3 has four, class 7 none  # fmt: skip
    steady = timeline.assign(**{"ndg.patch.graph.aligned": [3.0, 3.2, 3.5, 3.8, 3.9]})
    assert "stays between 3.0 and 3.9 % while its random-set baseline stays at or under 4.0 %: at the last " in (
        timeline_findings(steady, None, "100")
    )
    late = timeline.assign(**{"ndg.patch.graph.aligned": [1.4, 3.3, 28.4, 60.1, 88.5]})
    assert "the final model's do by a factor of 22." in timeline_findings(late, None, "100")  # 88.5 / 4.0


def test_the_interaction_block_shows_each_headline_with_its_interval_null_and_verdict() -> None:
    metrics = pd.DataFrame(
        [
            ["thresholds_met", 0.96, 0.9176, 1.0, 0.0, 0.0, 0.0, "finding"],
            ["samplewise_transferability", 0.58697, 0.5615, 0.61248, 0.1406, 0.1293, 0.1541, "finding"],
            ["dictionary_size", 50.0, np.nan, np.nan, np.nan, np.nan, np.nan, "check"],
            ["normalized_error", 0.05109, 0.04682, 0.05536, 1382.2765, 0.0, 3464.887, "matched by its null"],
        ],
        columns=["metric", "value", "low", "high", "null", "null_low", "null_high", "verdict"],
    )
    lines = interactions_block(metrics).splitlines()
    assert lines[0] == "| quantity | value [interval] | null [range] | verdict |"
    assert lines[2] == "| inputs meeting both thresholds | 96% [92%, 100%] | 0% [0%, 0%] | finding |"
    assert (
        lines[3]
        == "| normalised error | 0.0511 [0.0468, 0.0554] | 1382.2765 [0.0000, 3464.8870] | matched by its null |"
    )
    assert lines[4] == "| sample-wise transferability ρ(k=50) | 58.7% [56.1%, 61.2%] | 14.1% [12.9%, 15.4%] | finding |"
    assert len(lines) == 5  # metrics the run did not measure get no row


def test_the_effective_information_blocks_give_ranges_over_seeds_and_the_convergence_flags() -> None:
    rows = [
        {
            "experiment": "iris",
            "architecture": "4-5-5-3",
            "layer": 0,
            "seed": seed,
            "epoch": epoch,
            "test_accuracy": 0.9 + 0.02 * seed,
            "sensitivity": epoch * (1 + seed),
            "ei_parts": 2.0 + epoch / 10,
            "ei_parts_converged": True,
            "sensitivity_converged": True,
            "ei_converged": epoch == 0,
        }
        for seed in (0, 1)
        for epoch in (0, 10)
    ]
    lines = ei_paper_block(pd.DataFrame(rows)).splitlines()
    assert lines[2] == "| iris 4-5-5-3 | 0 | 90.0–92.0 | 0.00 → 10.0–20.0 | 2.00 → 3.00 | 100 % / 100 % / 50 % |"
    layers = pd.DataFrame(
        [
            {
                "layer": "fc",
                "samples": 500000,
                "ei_parts": 8.314,
                "ei_parts_converged": False,
                "sensitivity": 7.84,
                "sensitivity_converged": True,
                "outside_share": 0.00687,
            }
        ]
    )
    assert ei_model_block(layers).splitlines()[2] == "| `fc` | 500 000 | 8.31 (not converged) | 7.8 | 0.69 % |"


def test_the_findings_block_sets_each_paper_claim_beside_intervals_and_paths_worked_by_hand() -> None:
    # two seeds, two layers, epochs 0/1/3/7. Seed 0: loss falls most over 1 → 3 and ΣEI_parts changes most there;
    # seed 1: loss falls most over 0 → 1, ΣEI_parts over 3 → 7. Layer 0 moves (3, 4) then (0, 0) then (6, 8) in
    # the plane: path 5 + 0 + 10 = 15 bits, ending 15 from its start; layer 1 goes out 5 and back: path 10, net 0.
    loss = {0: [1.0, 0.9, 0.2, 0.1], 1: [1.0, 0.2, 0.15, 0.1]}
    parts = {0: [1.0, 1.1, 2.1, 2.2], 1: [1.0, 1.1, 1.2, 2.2]}
    moves = {0: [(0, 0), (3, 4), (3, 4), (9, 12)], 1: [(0, -1), (3, 3), (0, -1), (0, -1)]}
    rows = [
        {
            "experiment": "iris",
            "architecture": "4-5-3",
            "seed": seed,
            "epoch": epoch,
            "layer": layer,
            "layer_index": layer,
            "train_loss": loss[seed][step],
            "ei_parts": parts[seed][step] / 2,
            "sensitivity": moves[layer][step][0],
            "degeneracy_parts": moves[layer][step][1],
        }
        for seed in (0, 1)
        for step, epoch in enumerate((0, 1, 3, 7))
        for layer in (0, 1)
    ]
    lines = ei_findings_block(pd.DataFrame(rows)).splitlines()
    assert lines[2] == (
        "| — | iris 4-5-3 | first measured epoch: sensitivity 0.00 bits, degeneracy -1.00 to 0.00 bits (all layers) |"
    )
    assert "largest loss drop per seed: 1 → 3, 0 → 1; largest change of ΣEI_parts: 1 → 3, 3 → 7" in lines[3]
    assert "same interval in 1 of 2 seeds" in lines[3]
    assert "ΣEI_parts's change over the last interval: 10–100 % of its largest" in lines[3]
    assert lines[4].endswith(
        "path length in the plane, bits: layer 0: 15.0 (ends 15.0 from its start); layer 1: 10.0 (ends 0.0 from its "
        "start) |"
    )


def test_each_study_block_states_its_newest_full_run_and_what_the_lenses_say_together() -> None:
    from ndg_pipeline.studies.answers import answers, together
    from ndg_pipeline.studies.statistics import contrast, summarize

    def saved(shift: float, preset: str, study: str = "depth"):
        runs = _runs(shift=shift, null_gap=5.0)
        found = answers(summarize(runs), contrast(runs, "base", "other"))
        return found.assign(study=study, preset=preset, together=together(found))

    older, newer, quick = saved(2.0, "full"), saved(0.0, "full"), saved(3.0, "quick")
    generated = study_blocks(
        {"2026-12-01T00.00.00.000Z": older, "2026-12-02T00.00.00.000Z": newer, "2026-12-03T00.00.00.000Z": quick}
    )
    assert list(generated) == ["study-depth"]
    block = generated["study-depth"]
    assert block.startswith("Run `2026-12-02T00.00.00.000Z`, preset `full`:")
    assert f"- {newer['answer'].iloc[0]}" in block and newer["together"].iloc[0] in block
    assert "no difference detected" in block and older["answer"].iloc[0] not in block


def test_the_sentence_under_the_interaction_table_takes_verdicts_scores_and_sizes_from_the_run() -> None:
    rows = {
        "modelwise_transferability_0.05": (0.63, "matched by its null"),
        "modelwise_transferability_0.10": (0.70, "finding"),
        "modelwise_transferability_0.15": (0.74, "against its null"),
        "modelwise_transferability_0.30": (0.85, "finding"),
        "modelwise_random_baseline": (0.1204, "check"),
        "reconstruction_error_harsanyi": (1.4e-14, "check"),
        "reconstruction_error_and_or": (3.2e-15, "check"),
        "graph_nodes": (36.96, "check"),
        "graph_edges": (84.94, "check"),
        "coalitions": (3.26, "check"),
        "description_length": (244.6, "check"),
        "description_length_unmerged": (314.4, "check"),
    }
    metrics = pd.DataFrame([(name, value, verdict) for name, (value, verdict) in rows.items()])
    text = interactions_notes(metrics.set_axis(["metric", "value", "verdict"], axis=1))
    assert text == (
        "Between the two γ rows: γ(0.10) finding, γ(0.15) against its null; random concept sets of the same sizes "
        "score 12.0 %. Reconstruction of the target + q is exact to 1e-14; the AND-OR graphs have 37.0 nodes, 84.9 "
        "edges and 3.3 merged coalitions per input (description length 314 → 245).\n"
    )


def test_the_noise_removal_block_gives_each_variants_mean_concepts_and_share_within_the_cap() -> None:
    variants = pd.DataFrame(
        [(0, "ours", 20, True), (1, "ours", 80, False), (0, "strict", 70, False), (1, "strict", 80, False)],
        columns=["sample", "variant", "concepts", "thresholds_met"],
    )
    assert noise_removal_block(variants).splitlines()[2:] == ["| ours | 50.0 | 50 % |", "| strict | 75.0 | 0 % |"]


def _study_runs() -> pd.DataFrame:
    """The dropout study's rows at epochs 1 and 20: the default variant over three seeds (seed 2's EI not
    converged), and a no-dropout variant far from it whose values must not enter the spread."""
    rows = []
    for variant, offset in (("dropout", 0.0), ("no_dropout", 1000.0)):
        for seed, edges, aligned, random, accuracy, ei in (
            (0, 400, 80.0, 4.0, 0.97, 60.0),
            (1, 430, 90.5, 5.5, 0.98, 62.5),
            (2, 415, 85.0, 3.0, 0.975, 99.0),
        ):
            for epoch in (1, 20):
                rows += [
                    (variant, seed, epoch, "ndg", "edges", edges + offset + epoch, np.nan, True),
                    (variant, seed, epoch, "ndg", "patch.aligned", aligned + offset, random, True),
                    (variant, seed, epoch, "training", "test_accuracy", accuracy, np.nan, True),
                    (variant, seed, epoch, "effective_information", "decoder.0.ei_parts", ei, np.nan, seed != 2),
                ]
    columns = ["variant", "seed", "epoch", "lens", "metric", "value", "null", "converged"]
    return pd.DataFrame(rows, columns=columns)


def test_the_spread_table_gives_each_timeline_number_its_lowest_and_highest_over_the_default_variants_seeds() -> None:
    from ndg_pipeline.reporting.readme import seed_spread, seed_spread_block

    block = seed_spread_block(seed_spread(_study_runs(), "dropout"), "2026-12-07T00.00.00.000Z", [0, 1, 2])
    lines = block.splitlines()
    assert lines[0] == (
        "Lowest–highest over seeds 0, 1, 2 of this same setting: the `dropout` study's `dropout` variant, run "
        "`2026-12-07T00.00.00.000Z`, preset `full`."
    )
    assert lines[2:] == [
        "| epoch | 1 | 20 |",
        "|---|---|---|",
        "| model accuracy, test (%) | 97.00–98.00 | 97.00–98.00 |",
        "| NDG edges | 401–431 | 420–450 |",  # the no_dropout variant's values stay out
        "| aligned, test, patch values (%) | 80.00–90.50 | 80.00–90.50 |",
        "| the same, random-set baseline (%) | 3.00–5.50 | 3.00–5.50 |",  # the aligned share's null
        "| EI_parts of `decoder.0`, bits | 60.0–62.5 | 60.0–62.5 |",  # seed 2 did not converge
    ]


def test_another_machines_numbers_are_read_against_the_spread_as_printed() -> None:
    from ndg_pipeline.reporting.readme import other_machines_block, seed_spread

    recorded = pd.DataFrame(
        [
            ("AMD EPYC", "2026-12-06", "ndg.edges", 20, 455),
            ("AMD EPYC", "2026-12-06", "training.test_accuracy", 20, 97.5),  # printed as a percent, inside
            ("AMD EPYC", "2026-12-06", "ndg.patch.graph.aligned", 20, 90.5),  # on the bound as printed
            ("AMD EPYC", "2026-12-06", "interactions.explanation_ratio", 20, 98.4),  # not in the study: skipped
            ("Intel Xeon", "2026-12-05", "ndg.edges", 1, 401),
        ],
        columns=["machine", "date", "column", "epoch", "value"],
    )
    assert other_machines_block(recorded, seed_spread(_study_runs(), "dropout")) == (
        "- AMD EPYC, 2026-12-06: 2 of 3 numbers inside the range; outside: NDG edges at epoch 20: 455 (range "
        "420–450).\n"
        "- Intel Xeon, 2026-12-05: 1 of 1 numbers inside the range.\n"
    )


def test_the_control_tables_set_each_control_beside_the_papers_and_say_where_one_was_not_run() -> None:
    ours, paper = ("mnist_sample", "this project", "MNIST"), ("MNIST", "paper", "MNIST")
    keys = ["dataset", "source", "paper_dataset"]
    table3 = pd.DataFrame(
        [
            [*ours, 468, 99.9392, 99.5640, 0, np.nan, np.nan, 4, 99.929, 99.691],
            [*paper, 524, 99.90, 99.85, 0, np.nan, np.nan, 22, 99.94, 99.89],
        ],
        columns=[
            *keys,
            *(f"{c}_{m}" for c in ("original", "random_model", "random_input") for m in ("edges", "train", "test")),
        ],
    )
    table4 = pd.DataFrame(  # the paper's row only: this project's different-models control was not run
        [[*paper, 0, np.nan, np.nan, 0]],
        columns=[
            *keys,
            "different_models_edges",
            "different_models_train",
            "different_models_test",
            "different_inputs_edges",
        ],
    )
    table6 = pd.DataFrame(columns=keys)
    lines = control_tables_block({"table3": table3, "table4": table4, "table6": table6}).splitlines()
    assert lines[0] == "|  | mnist_sample | paper MNIST |"
    rows = {line.split(" | ")[0].removeprefix("| "): line.split(" | ")[1:] for line in lines[2:]}
    assert rows["T3 original"] == ["468, 99.94, 99.56", "524, 99.90, 99.85 |"]
    assert rows["T3 random model"] == ["0", "0 |"]  # no edge: the count alone
    assert rows["T3 random input"] == ["4, 99.93, 99.69", "22, 99.94, 99.89 |"]
    assert rows["T4 different models"] == ["–", "0 |"]  # not run here; the paper's 0 edges
    assert rows["T6 layer 1"] == ["–", "– |"]
