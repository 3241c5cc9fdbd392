"""Implicit bias of gradient descent on shallow ReLU regression, as scikit-learn estimators.

Reference: Lai, Wang, Tao and Muthukumar, "How Does the ReLU Activation Affect
the Implicit Bias of Gradient Descent on High-dimensional Neural Network
Regression?", COLT 2026, arXiv:2603.04895.
"""

from ._memory import memory_budget
from ._min_norm import MinNormReLURegressor
from ._plan import Precomputed
from ._shallow import ShallowReLURegressor

__version__ = "0.1.0.dev0"

__all__ = [
    "MinNormReLURegressor",
    "Precomputed",
    "ShallowReLURegressor",
    "__version__",
    "memory_budget",
]
