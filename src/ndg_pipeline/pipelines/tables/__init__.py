"""The tables pipeline: Tables 3, 4 and 6 from every control's results, beside the paper's numbers."""

from ndg_pipeline.pipelines.tables.pipeline import create_pipeline

__all__ = ["create_pipeline"]
