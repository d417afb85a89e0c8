"""The project's pipelines: each package under ``pipelines/``, each control variant by its own name, and the
default run (``kedro run``), which trains one model and runs every lens and the timeline on it."""

import importlib

from kedro.pipeline import Pipeline

PACKAGES = ("ndg", "controls", "tables", "interactions", "effective_information", "timeline", "study")
DEFAULT = ("ndg", "interactions", "effective_information", "timeline")


def register_pipelines() -> dict[str, Pipeline]:
    """Every pipeline package (an import error fails loudly), every control alone, and ``__default__``.

    Registered explicitly rather than discovered: the control variants have no package of their own, and Kedro's
    discovery would look for one when a run names them.
    """
    from ndg_pipeline.pipelines.controls.pipeline import CONTROL_PIPELINES

    pipelines = {name: importlib.import_module(f"ndg_pipeline.pipelines.{name}").create_pipeline() for name in PACKAGES}
    pipelines |= {name: create() for name, create in CONTROL_PIPELINES.items()}
    pipelines["__default__"] = sum((pipelines[name] for name in DEFAULT), Pipeline([]))
    return pipelines
