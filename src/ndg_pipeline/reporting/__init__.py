"""The run's HTML report, with the paper's published tables beside the run's numbers."""

from ndg_pipeline.reporting.paper import PAPER_TABLES, paper_rows
from ndg_pipeline.reporting.report import ReportContext, render_report

__all__ = ["PAPER_TABLES", "ReportContext", "paper_rows", "render_report"]
