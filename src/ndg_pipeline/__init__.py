"""Neuron Dependency Graphs as a Kedro project."""

import warnings

__version__ = "0.1.0"

# Deprecation warnings that the pinned libraries raise about each other's internals at every start, which no user of
# this project can act on (about 60 lines before a run's first log line): Kedro's config loader calling OmegaConf's
# renamed register_new_resolver, kedro-viz's ORJSONResponse. Every other warning still shows.
for _message in (r"register_new_resolver\(\) is deprecated", r"ORJSONResponse is deprecated"):
    warnings.filterwarnings("ignore", message=_message)
