"""The study pipeline: training variants × seeds measured by the lenses, with intervals over seeds."""

from ndg_pipeline.pipelines.study.pipeline import create_pipeline

__all__ = ["create_pipeline"]
