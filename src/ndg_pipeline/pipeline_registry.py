"""The project's pipelines, discovered from ``pipelines/``; ``kedro run`` alone runs ``ndg``."""

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline


def register_pipelines() -> dict[str, Pipeline]:
    """Every pipeline package under ``ndg_pipeline.pipelines``; a broken one fails loudly.

    Kedro loads only the pipelines a run names (``kedro run --pipelines=tables`` imports just ``tables``), so
    ``ndg`` becomes the default only when it was loaded.
    """
    pipelines = find_pipelines(raise_errors=True)
    if "ndg" in pipelines:
        pipelines["__default__"] = pipelines["ndg"]
    return pipelines
