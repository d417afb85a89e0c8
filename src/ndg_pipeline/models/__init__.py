"""Models the pipeline can build, train, save and load back without unpickling code."""

from ndg_pipeline.models.registry import ARCHITECTURES, build_model, load_model_file, save_model_file, untrained_modules

__all__ = ["ARCHITECTURES", "build_model", "load_model_file", "save_model_file", "untrained_modules"]
