"""Synthetic regression problems for studying the implicit bias of gradient descent."""

from ._generators import (
    make_adversarial_regression,
    make_high_dim_regression,
    make_orthogonal_regression,
)

__all__ = [
    "make_adversarial_regression",
    "make_high_dim_regression",
    "make_orthogonal_regression",
]
