"""Quantities derived from EI, EI_parts and sensitivity: degeneracy, integration and the causal-plane coordinates."""

from __future__ import annotations

import math

import numpy as np


def degeneracy(sensitivity: float | np.ndarray, ei: float | np.ndarray) -> float | np.ndarray:
    """Degeneracy = Sensitivity − EI. With EI_parts it is the paper's "parts" variant, with whole-layer EI "whole"."""
    return sensitivity - ei


def integration(ei: float | np.ndarray, ei_parts: float | np.ndarray) -> float | np.ndarray:
    """φ_feedforward = EI − EI_parts (whole minus pairwise on the same samples); it can be negative."""
    return ei - ei_parts


def causal_plane(
    sensitivity: float | np.ndarray, degeneracy: float | np.ndarray
) -> tuple[float | np.ndarray, float | np.ndarray]:
    """The plane's coordinates ((S − D)/√2, (S + D)/√2): x = EI/√2 (more degenerate ← → more sensitive), y grows
    when sensitivity and degeneracy grow together at constant EI."""
    root = math.sqrt(2.0)
    return (sensitivity - degeneracy) / root, (sensitivity + degeneracy) / root
