"""Wiring of the control pipelines (spec §4): each is the ndg pipeline's own nodes, reused in a namespace.

A control is the ndg pipeline's data and model stages (unnamespaced, the same catalog entries as ``ndg``) plus a
modular pipeline in the control's namespace: the node that makes the control (a random network, noise inputs,
a second model, paired predicates) followed by the ndg nodes that record, binarize, count and mine, and the node
that summarizes the edges into the control's results partition. kedro-viz shows each namespace as one group.
"""

from __future__ import annotations

import functools

from kedro.pipeline import Node, Pipeline, pipeline

from ndg_pipeline.control_names import DIFFERENT_INPUTS, RANDOM_INPUT, RANDOM_MODEL, TRAINED, TWO_LAYERS, TWO_MODELS
from ndg_pipeline.hooks import COMBINES_MODELS
from ndg_pipeline.pipelines.controls import nodes
from ndg_pipeline.pipelines.ndg import create_pipeline as create_ndg_pipeline

MEASURE = ("record_activations", "binarize")
MINE = ("count_pairs", "mine_edges")
PAIRED = {"predicates_train": "paired_train", "predicates_test": "paired_test"}


def ndg_through(last: str) -> Pipeline:
    """The ndg pipeline up to and including the node ``last`` (its catalog entries, unnamespaced)."""
    return create_ndg_pipeline().to_nodes(last)


def ndg_stages(*stages: str, **renamed: dict[str, str]) -> Pipeline:
    """The ndg pipeline's nodes ``stages``, with ``inputs``/``outputs``/``parameters`` renamed as given."""
    return pipeline(create_ndg_pipeline().only_nodes(*stages), **renamed)


def summary_node(control: str) -> Node:
    """The node that turns a control's edges into its results partition and MLflow metrics (one function for
    every control: the control's name is bound to it; ``update_wrapper`` keeps its name for Kedro's logs)."""
    summarize = functools.update_wrapper(functools.partial(nodes.summarize, control=control), nodes.summarize)
    return Node(
        summarize,
        ["edges_table", "pair_counts", "dataset_info", "params:mine"],
        ["control_results", "control_metrics"],
        name="summarize",
    )


def control(name: str, *parts: Node | Pipeline) -> Pipeline:
    """``parts`` and the summary in the namespace ``name``; the ndg datasets and parameters they read keep their
    names (the free inputs), everything they make is prefixed ``name.``."""
    body = Pipeline([*parts, summary_node(name)])
    free = body.inputs()
    parameters = {item.removeprefix("params:") for item in free if item.startswith("params:")}
    datasets = {item for item in free if not item.startswith("params:")}
    return pipeline(body, namespace=name, inputs=datasets, parameters=parameters, tags=["controls"])


def trained() -> Pipeline:
    """Table 3, "original": the ndg pipeline's own graph of the trained model, summarized."""
    return ndg_through("mine_edges") + control(TRAINED)


def random_model() -> Pipeline:
    """Table 3, random model: one seeded re-initialization of the trained network, recorded on both splits."""
    randomize = Node(
        nodes.randomize_model, ["trained_model", "params:controls.random_model"], "random_network", name="randomize"
    )
    return ndg_through("train") + control(
        RANDOM_MODEL, randomize, ndg_stages(*MEASURE, *MINE, inputs={"trained_model": "random_network"})
    )


def random_input() -> Pipeline:
    """Table 3, random input: the trained model fed seeded noise in the data's value range."""
    noise = Node(
        nodes.random_inputs, ["dataset_splits", "params:controls.random_input"], "noise_splits", name="random_inputs"
    )
    return ndg_through("train") + control(
        RANDOM_INPUT, noise, ndg_stages(*MEASURE, *MINE, inputs={"dataset_splits": "noise_splits"})
    )


def two_models() -> Pipeline:
    """Table 4, different models: a second model (its own seed) on the same inputs; edges from model 1 to 2."""
    second = ndg_stages(
        "train",
        *MEASURE,
        outputs={"predicates_train": "second_predicates_train", "predicates_test": "second_predicates_test"},
        parameters={"train": "controls.two_models.train"},
    )
    pair = Node(
        nodes.pair_models,
        ["predicates_train", "predicates_test", "second_predicates_train", "second_predicates_test"],
        ["paired_train", "paired_test"],
        name="pair_models",
        tags=[COMBINES_MODELS],
    )
    return ndg_through("binarize") + control(TWO_MODELS, second, pair, ndg_stages(*MINE, inputs=PAIRED))


def different_inputs() -> Pipeline:
    """Table 4, different inputs: the trained model on input r beside the same model on an unrelated input r'."""
    pair = Node(
        nodes.pair_inputs,
        ["predicates_train", "predicates_test", "params:controls.different_inputs"],
        ["paired_train", "paired_test"],
        name="pair_inputs",
    )
    return ndg_through("binarize") + control(DIFFERENT_INPUTS, pair, ndg_stages(*MINE, inputs=PAIRED))


def two_layers() -> Pipeline:
    """Table 6: two layers of the trained model recorded in one pass; edges within and between them."""
    stages = ndg_stages(
        *MEASURE,
        *MINE,
        parameters={"record": "controls.two_layers.record", "binarize": "controls.two_layers.binarize"},
    )
    return ndg_through("train") + control(TWO_LAYERS, stages)


CONTROL_PIPELINES = {
    TRAINED: trained,
    RANDOM_MODEL: random_model,
    RANDOM_INPUT: random_input,
    TWO_MODELS: two_models,
    DIFFERENT_INPUTS: different_inputs,
    TWO_LAYERS: two_layers,
}  # each is also a pipeline of its own, ``kedro run --pipelines=<control>`` (see pipeline_registry)


def create_pipeline(**kwargs) -> Pipeline:
    """Every control in one run (``kedro run --pipelines=controls``): the shared ndg stages run once."""
    return sum((create() for create in CONTROL_PIPELINES.values()), Pipeline([]))
