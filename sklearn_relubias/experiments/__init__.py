"""Reproducible sweeps of gradient descent against the minimum-norm solution."""

from .._metrics import active_least_squares_weights
from ._gap_sweep import GapSweepResult, gap_sweep

__all__ = ["GapSweepResult", "active_least_squares_weights", "gap_sweep"]
