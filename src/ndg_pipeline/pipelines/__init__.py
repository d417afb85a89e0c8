"""Kedro pipelines: thin wiring of catalog entries to the functions in ``ndg_pipeline.ndg`` and friends."""
