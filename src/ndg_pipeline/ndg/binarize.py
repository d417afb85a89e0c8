"""Turn recorded activations into the boolean predicate table: class predicates first, then neurons."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ndg_pipeline.names import PREDICTED, class_predicates, layer_of, neuron_columns

NAMED_THRESHOLDS = {"pre_activation": 0.0, "sigmoid": 0.5}


def threshold_value(threshold: str | float) -> float:
    """``pre_activation`` → 0 (a ReLU/GELU/tanh/sigmoid input), ``sigmoid`` → 0.5 (its output), or the number."""
    if isinstance(threshold, str):
        if threshold not in NAMED_THRESHOLDS:
            raise ValueError(f"unknown threshold {threshold!r}; use {', '.join(NAMED_THRESHOLDS)} or a number.")
        return NAMED_THRESHOLDS[threshold]
    return float(threshold)


def binarize(activations: pd.DataFrame, thresholds: Mapping[str, str | float], num_classes: int) -> pd.DataFrame:
    """Boolean predicates: the one-hot of the *predicted* class, then every neuron > its layer's threshold."""
    neurons = neuron_columns(activations.columns)
    missing = sorted({layer_of(c) for c in neurons} - set(thresholds))
    if missing:
        raise ValueError(f"no threshold for layer(s) {missing}; add them to binarize.thresholds.")
    predicted = activations[PREDICTED].to_numpy()
    classes = {name: predicted == c for c, name in enumerate(class_predicates(num_classes))}
    limits = np.array([threshold_value(thresholds[layer_of(c)]) for c in neurons], dtype=np.float64)
    on = activations[neurons].to_numpy(dtype=np.float64) > limits
    return pd.concat([pd.DataFrame(classes), pd.DataFrame(on, columns=neurons)], axis=1)
