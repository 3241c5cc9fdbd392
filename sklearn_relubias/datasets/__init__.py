"""Synthetic regression problems for studying the implicit bias of gradient descent."""

from ._generators import (
    make_adversarial_regression,
    make_frozen_regression,
    make_high_dim_regression,
    make_orthogonal_regression,
    make_stalled_regression,
    make_tfidf_regression,
)
from ._gram import make_gram_regression
from ._spectra import make_spectrum, spectrum_stats

__all__ = [
    "make_adversarial_regression",
    "make_frozen_regression",
    "make_gram_regression",
    "make_high_dim_regression",
    "make_orthogonal_regression",
    "make_stalled_regression",
    "make_tfidf_regression",
    "make_spectrum",
    "spectrum_stats",
]
