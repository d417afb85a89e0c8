"""Parameters of the interaction lens (``conf/base/parameters_interactions.yml``)."""

from ndg_pipeline.config.base import Params


class InteractionsParams(Params):
    """The interaction lens: players, rewards, the AND-OR split and its metrics."""
