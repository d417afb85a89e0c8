"""The control pipelines of spec §4 (Tables 3, 4, 6): the ndg pipeline's nodes reused in one namespace per control."""

from ndg_pipeline.pipelines.controls.pipeline import create_pipeline

__all__ = ["create_pipeline"]
