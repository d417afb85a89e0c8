"""The interaction lens: Harsanyi AND / AND-OR concepts and AND-OR graphs of the project's models."""

from ndg_pipeline.pipelines.interactions.pipeline import create_pipeline

__all__ = ["create_pipeline"]
