"""The timeline report: three lenses over the checkpoints of one training run, and their links on the final model."""

from ndg_pipeline.reporting.timeline.figures import timeline_figure_png
from ndg_pipeline.reporting.timeline.report import render_timeline_report

__all__ = ["render_timeline_report", "timeline_figure_png"]
