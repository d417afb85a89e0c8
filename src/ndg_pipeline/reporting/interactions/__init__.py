"""The interaction lens' report: figures, AND-OR graph drawings and the HTML page."""

from ndg_pipeline.reporting.interactions.graphs import to_html, to_svg
from ndg_pipeline.reporting.interactions.report import render_report

__all__ = ["render_report", "to_html", "to_svg"]
