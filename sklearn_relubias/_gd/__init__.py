"""Gradient descent: the problem description, the optimizers, the driver and its backends.

- ``_problem``: :class:`GDProblem` and the operators holding X (Gram matrix,
  dense X, CSR X), each with its *form*.
- ``_optimizers``: the optimizer specifications (stable learning-rate range,
  extra state, kernel code).
- ``_driver``: :func:`run_gd` selects a backend, runs it in chunks and turns
  its status codes into :class:`Status`.
- ``_backends``: the registry; ``_backends._numba`` is the Numba backend,
  one kernel loop for every form.

The fit plan builds problems; estimators never import a backend.
"""

from ._driver import GDResult, Status, run_gd
from ._optimizers import OPTIMIZER_DEFAULTS, OPTIMIZERS
from ._problem import GDProblem, make_operator

__all__ = [
    "OPTIMIZER_DEFAULTS",
    "OPTIMIZERS",
    "GDProblem",
    "GDResult",
    "Status",
    "make_operator",
    "run_gd",
]
