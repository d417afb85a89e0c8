"""Report panels say when their y axis is zoomed (a sub-percent change must not look large)."""

from __future__ import annotations

from matplotlib.figure import Figure

from ndg_pipeline.reporting.canvas import zoomed_title


def test_a_panel_whose_axis_leaves_out_zero_is_labelled_zoomed() -> None:
    axis = Figure().subplots()
    axis.plot([1, 20], [0.994, 0.999])
    low, high = axis.get_ylim()
    assert low > 0
    assert zoomed_title("edge_test_accuracy", axis) == f"edge_test_accuracy\n(zoomed: y from {low:.4g} to {high:.4g})"


def test_only_a_panel_whose_axis_holds_zero_keeps_its_plain_title() -> None:
    from_zero, across, below = (Figure().subplots() for _ in range(3))
    from_zero.plot([1, 20], [0, 462])
    across.plot([1, 20], [-3, 4])
    below.plot([1, 20], [-3, -1])
    assert zoomed_title("edges", from_zero) == "edges"
    assert zoomed_title("difference", across) == "difference"
    assert zoomed_title("difference", below).startswith("difference\n(zoomed: y from ")
