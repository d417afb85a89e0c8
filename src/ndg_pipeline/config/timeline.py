"""Parameters of the timeline pipeline (``conf/base/parameters_timeline.yml``)."""

from pydantic import Field

from ndg_pipeline.config.base import Params


class TimelineParams(Params):
    """Every lens on every checkpoint (train.checkpoints), and the cross-lens links on the final model."""

    concepts_per_sample: int = Field(3, ge=1)
