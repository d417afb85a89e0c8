"""Names of the controls (spec §4) and of their edge groups: plain strings, importable without torch, shared by
the control functions, the pipelines, the MLflow tags and the tables."""

TRAINED, RANDOM_MODEL, RANDOM_INPUT = "trained", "random_model", "random_input"
TWO_MODELS, DIFFERENT_INPUTS, TWO_LAYERS = "two_models", "different_inputs", "two_layers"
CONTROLS = (TRAINED, RANDOM_MODEL, RANDOM_INPUT, TWO_MODELS, DIFFERENT_INPUTS, TWO_LAYERS)
ALL, BETWEEN, LAYER1, LAYER2, INTER_LAYER = "all", "between", "layer1", "layer2", "inter_layer"
# How each control groups its edges (ndg_pipeline.ndg.controls.edge_groups).
GROUPING = {
    TRAINED: "all",
    RANDOM_MODEL: "all",
    RANDOM_INPUT: "all",
    TWO_MODELS: "copies",
    DIFFERENT_INPUTS: "copies",
    TWO_LAYERS: "layers",
}
