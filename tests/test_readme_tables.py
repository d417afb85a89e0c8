"""The README's generated blocks: tables written from a run's frames, and only between their markers."""

from __future__ import annotations

from test_timeline_report import timeline_frame

from ndg_pipeline.reporting.readme import fill, timeline_block


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
