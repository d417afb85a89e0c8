"""The project's pipelines: the packages under ``pipelines/``, each control variant by its own name, and the
default run (``kedro run``), which trains one model and runs every lens on it."""

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

from ndg_pipeline.pipelines.controls.pipeline import CONTROL_PIPELINES

LENSES = ("ndg", "interactions", "effective_information", "timeline")


def register_pipelines() -> dict[str, Pipeline]:
    """Every pipeline package (a broken one fails loudly), every control alone, and ``__default__``."""
    pipelines = find_pipelines(raise_errors=True)
    pipelines |= {name: create() for name, create in CONTROL_PIPELINES.items()}
    pipelines["__default__"] = sum((pipelines[name] for name in LENSES if name in pipelines), Pipeline([]))
    return pipelines
