"""Effective information of layers (Mattsson, Michaud & Hoel 2020): a drop-in for deep-ei 0.7.0's API.

``from ndg_pipeline.effective_information import topology_of, ei, ei_parts, sensitivity`` replaces
``from deep_ei import ...``; ``reference=True`` reproduces deep-ei's numbers, the default mode fixes its defects.
"""

from ndg_pipeline.effective_information.causal_plane import (
    causal_plane,
    degeneracy,
    integration,
)
from ndg_pipeline.effective_information.measures import (
    ConvergenceWarning,
    Estimate,
    LayerEstimates,
    SampleCapWarning,
    ei,
    ei_parts,
    ei_parts_matrix,
    layer_estimates,
    sensitivity,
    sensitivity_matrix,
    vector_and_pairwise_ei,
    whole_ei_is_capped,
)
from ndg_pipeline.effective_information.topology import linear_layers, topology_of

__all__ = [
    "ConvergenceWarning",
    "Estimate",
    "LayerEstimates",
    "SampleCapWarning",
    "causal_plane",
    "degeneracy",
    "ei",
    "ei_parts",
    "ei_parts_matrix",
    "integration",
    "layer_estimates",
    "linear_layers",
    "sensitivity",
    "sensitivity_matrix",
    "topology_of",
    "vector_and_pairwise_ei",
    "whole_ei_is_capped",
]
