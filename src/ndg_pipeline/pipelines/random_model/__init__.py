"""The random-model control (Table 3): ``kedro run --pipelines=random_model``. See ``pipelines/controls``."""

from ndg_pipeline.pipelines.controls.pipeline import random_model as create_pipeline

__all__ = ["create_pipeline"]
