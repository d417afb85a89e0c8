"""The effective-information lens: EI, EI_parts, sensitivity over training (the causal plane) and of the NDG model."""

from ndg_pipeline.pipelines.effective_information.pipeline import create_pipeline

__all__ = ["create_pipeline"]
