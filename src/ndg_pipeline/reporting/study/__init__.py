"""The study report: one answer per contrast, a figure per lens, the tables."""

from ndg_pipeline.reporting.study.report import render_study_report

__all__ = ["render_study_report"]
