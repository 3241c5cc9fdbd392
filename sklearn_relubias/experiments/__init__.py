"""Reproducible sweeps of gradient descent against the minimum-norm solution; the gap explained."""

from .._metrics import active_least_squares_weights, label_sign_least_squares_weights
from ._activations import ActivationSweepResult, activation_sweep
from ._compare import SolutionComparison, compare_solutions, reference_estimator
from ._flow import GradientFlowResult, gradient_flow
from ._gap_sweep import GapSweepResult, gap_sweep
from ._gram_sweep import gram_gap, gram_gap_sweep
from ._theory import (
    CATEGORIES,
    ExtrapolationResult,
    GapDecomposition,
    GapPrediction,
    critical_learning_rate,
    gap_decomposition,
    gradient_flow_limit,
    predict_gap,
    richardson_extrapolation,
)

__all__ = [
    "CATEGORIES",
    "ActivationSweepResult",
    "ExtrapolationResult",
    "GapDecomposition",
    "GapPrediction",
    "GapSweepResult",
    "GradientFlowResult",
    "SolutionComparison",
    "active_least_squares_weights",
    "activation_sweep",
    "compare_solutions",
    "critical_learning_rate",
    "gap_decomposition",
    "gap_sweep",
    "gradient_flow",
    "gradient_flow_limit",
    "gram_gap",
    "gram_gap_sweep",
    "label_sign_least_squares_weights",
    "predict_gap",
    "reference_estimator",
    "richardson_extrapolation",
]
