"""The random-input control (Table 3): ``kedro run --pipelines=random_input``. See ``pipelines/controls``."""

from ndg_pipeline.pipelines.controls.pipeline import random_input as create_pipeline

__all__ = ["create_pipeline"]
