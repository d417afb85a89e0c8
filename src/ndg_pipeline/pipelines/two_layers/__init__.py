"""The two-layers control (Table 6): ``kedro run --pipelines=two_layers``. See ``pipelines/controls``."""

from ndg_pipeline.pipelines.controls.pipeline import two_layers as create_pipeline

__all__ = ["create_pipeline"]
