"""The "trained" control (Table 3, original): ``kedro run --pipelines=trained``. See ``pipelines/controls``."""

from ndg_pipeline.pipelines.controls.pipeline import trained as create_pipeline

__all__ = ["create_pipeline"]
