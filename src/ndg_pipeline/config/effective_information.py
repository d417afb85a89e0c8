"""Parameters of the effective-information lens (``conf/base/parameters_effective_information.yml``)."""

from ndg_pipeline.config.base import Params


class EffectiveInformationParams(Params):
    """The effective-information lens: the paper's experiments and the measures of the trained CNN."""
