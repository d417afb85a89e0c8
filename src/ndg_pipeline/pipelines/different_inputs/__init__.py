"""The different-inputs control (Table 4): ``kedro run --pipelines=different_inputs``. See ``pipelines/controls``."""

from ndg_pipeline.pipelines.controls.pipeline import different_inputs as create_pipeline

__all__ = ["create_pipeline"]
