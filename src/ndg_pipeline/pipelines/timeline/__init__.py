"""The timeline pipeline: every lens on every checkpoint of one training run, and the cross-lens links."""

from ndg_pipeline.pipelines.timeline.pipeline import create_pipeline

__all__ = ["create_pipeline"]
