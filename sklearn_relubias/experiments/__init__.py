"""Reproducible sweeps of gradient descent against the minimum-norm solution."""

from ._gap_sweep import GapSweepResult, active_least_squares_weights, gap_sweep

__all__ = ["GapSweepResult", "active_least_squares_weights", "gap_sweep"]
