"""The ndg pipeline: train → record → binarize → count → mine → graph → draw → intervene → report."""

from ndg_pipeline.pipelines.ndg.pipeline import create_pipeline

__all__ = ["create_pipeline"]
