"""Implicit bias of gradient descent on shallow ReLU regression, as scikit-learn estimators.

Reference: Lai, Wang, Tao and Muthukumar, "How Does the ReLU Activation Affect
the Implicit Bias of Gradient Descent on High-dimensional Neural Network
Regression?", COLT 2026, arXiv:2603.04895.

The public names are imported on first use (PEP 562), so that importing the
package for its version, or running ``relubias --help``, does not load the
numerical stack.
"""

import importlib

__version__ = "0.1.0.dev0"

# public name -> the module that defines it
_EXPORTS = {
    "MinNormReLURegressor": "._min_norm",
    "PAPER_MODEL": "._shallow",
    "Precomputed": "._plan",
    "ShallowReLURegressor": "._shallow",
    "memory_budget": "._memory",
}

__all__ = [*sorted(_EXPORTS), "__version__"]


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__():
    return sorted({*globals(), *_EXPORTS})
