"""The two-models control (Table 4): ``kedro run --pipelines=two_models``. See ``pipelines/controls``."""

from ndg_pipeline.pipelines.controls.pipeline import two_models as create_pipeline

__all__ = ["create_pipeline"]
