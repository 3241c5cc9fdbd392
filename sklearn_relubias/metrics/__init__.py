"""Distances to the minimum-norm solution and the other references of the package."""

from .._metrics import (
    active_least_squares_weights,
    distance,
    global_min_norm_reference,
    label_sign_least_squares_weights,
    min_linf_interpolant,
    min_norm_reference,
    ntk_reference,
    reference_gaps,
    relative_distance,
    stranded_examples,
    unfittable_rows,
)
from .._scorers import GAP_SCORERS, make_gap_scorer

__all__ = [
    "GAP_SCORERS",
    "active_least_squares_weights",
    "distance",
    "global_min_norm_reference",
    "label_sign_least_squares_weights",
    "make_gap_scorer",
    "min_linf_interpolant",
    "min_norm_reference",
    "ntk_reference",
    "reference_gaps",
    "relative_distance",
    "stranded_examples",
    "unfittable_rows",
]
