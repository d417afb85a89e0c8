"""Names of the control pipelines (spec §4), importable without torch: the pipelines, MLflow tags and tables
share them, and each control's edge grouping (``ndg_pipeline.ndg.controls.edge_groups``)."""

TRAINED, RANDOM_MODEL, RANDOM_INPUT = "trained", "random_model", "random_input"
TWO_MODELS, DIFFERENT_INPUTS, TWO_LAYERS = "two_models", "different_inputs", "two_layers"
CONTROLS = (TRAINED, RANDOM_MODEL, RANDOM_INPUT, TWO_MODELS, DIFFERENT_INPUTS, TWO_LAYERS)
GROUPING = {
    TRAINED: "all",
    RANDOM_MODEL: "all",
    RANDOM_INPUT: "all",
    TWO_MODELS: "copies",
    DIFFERENT_INPUTS: "copies",
    TWO_LAYERS: "layers",
}
