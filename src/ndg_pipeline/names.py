"""Every name the project gives a predicate, a literal or a recorded quantity, built and parsed in one place.

Torch-free, so tables, graphs, reports and notebooks can use it without loading a model. A predicate is
``layer:index`` (``latent:17``, ``class:3``); a literal is a predicate with a value, ``latent:17`` (on) or
``¬latent:17`` (off).
"""

from __future__ import annotations

from collections.abc import Sequence

NOT = "¬"
CLASS_LAYER = "class"
SEPARATOR = ":"

# The models the interaction lens explains side by side (its tables' ``model`` column): trained_model, the
# second_model trained the same way from another seed, and an untrained network of the same architecture.
FIRST, SECOND, NULL = "first", "second", "null"

# Columns of a recorded activation table besides the neurons.
PREDICTED, LABEL = "predicted", "label"

# One name per edge quantity, used by the edge table, the graph's edge attributes and the reports.
SUPPORT = "support"  # n(p ∧ q) on the mining (train) split
TRAIN_PRECISION = "train_precision"  # n(p ∧ q) / n(p) on train: the edge's train accuracy
TEST_PRECISION = "test_precision"  # the same on test (NaN where p never holds there)
RECALL = "recall"  # n(p ∧ q) / n(q) on train
N_SOURCE, N_SOURCE_TEST = "n_source", "n_source_test"  # n(p) on train and on test
PRIOR = "prior"  # P(literal) on train

# Whose intervention sets were written: the graph's, or the random-set baseline's of the same sizes.
GRAPH_SETS, RANDOM_SETS = "graph", "random"

# Groups of edges a control reports (Tables 3, 4, 6).
ALL, BETWEEN, LAYER1, LAYER2, INTER_LAYER = "all", "between", "layer1", "layer2", "inter_layer"


def predicate(layer: str, index: int) -> str:
    """The predicate of neuron (or class) ``index`` of ``layer``: ``layer:index``."""
    return f"{layer}{SEPARATOR}{int(index)}"


def predicates(layer: str, width: int) -> list[str]:
    """The predicates of a whole layer: ``layer:0`` … ``layer:width-1``."""
    return [predicate(layer, index) for index in range(width)]


def class_predicate(index: int) -> str:
    """The predicate "the model predicts class ``index``": ``class:index``."""
    return predicate(CLASS_LAYER, index)


def class_predicates(num_classes: int) -> list[str]:
    """``class:0`` … ``class:C-1``."""
    return predicates(CLASS_LAYER, num_classes)


def split_predicate(name: str) -> tuple[str, int]:
    """Split ``layer:index`` into its layer alias and index."""
    layer, separator, index = name.rpartition(SEPARATOR)
    if not separator or not layer or not index.lstrip("-").isdigit():
        raise ValueError(f"{name!r} is not a predicate name; predicates are 'layer:index', e.g. 'latent:17'.")
    return layer, int(index)


def layer_of(name: str) -> str:
    """The layer alias of a predicate or literal."""
    return split_predicate(parse_literal(name)[0])[0]


def is_class(name: str) -> bool:
    """Whether a predicate or literal is about the predicted class."""
    return parse_literal(name)[0].startswith(CLASS_LAYER + SEPARATOR)


def literal_name(predicate_name: str, value: bool) -> str:
    """The literal ``predicate`` (on) or ``¬predicate`` (off)."""
    return predicate_name if value else NOT + predicate_name


def parse_literal(name: str) -> tuple[str, bool]:
    """Split a literal into its predicate and value."""
    return (name[len(NOT) :], False) if name.startswith(NOT) else (name, True)


def negate(name: str) -> str:
    """The opposite literal of the same predicate."""
    predicate_name, value = parse_literal(name)
    return literal_name(predicate_name, not value)


def literal_key(name: str) -> tuple[bool, str, int, bool]:
    """Sort key for literals: classes first, then layer, index, on before off (stable output everywhere)."""
    predicate_name, value = parse_literal(name)
    layer, index = split_predicate(predicate_name)
    return layer != CLASS_LAYER, layer, index, not value


def neuron_columns(columns: Sequence[str]) -> list[str]:
    """The neuron columns of a recorded activation table (all but ``predicted`` and ``label``)."""
    return [column for column in columns if column not in (PREDICTED, LABEL)]


def check_alias(alias: str) -> str:
    """Refuse a layer alias that could not be told apart from a predicate's index or from the class layer."""
    if not alias or SEPARATOR in alias or alias == CLASS_LAYER or alias.startswith(NOT):
        raise ValueError(
            f"layer alias {alias!r} is not allowed: aliases name predicates ('alias:17'), so they may not be "
            f"empty, contain '{SEPARATOR}', start with '{NOT}' or be '{CLASS_LAYER}'."
        )
    return alias
