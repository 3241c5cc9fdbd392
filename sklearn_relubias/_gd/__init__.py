"""Gradient descent: the problem description, the driver and its backends.

- ``_problem``: :class:`GDProblem` and the operators holding X (Gram matrix,
  dense X, CSR X); :func:`make_problem` builds one from estimator inputs.
- ``_driver``: :func:`run_gd` allocates the state, calls a backend in chunks
  and turns its status codes into :class:`Status`.
- ``_numba``: the Numba backend, one small kernel per operator.

Estimators import from here only, never from a backend.
"""

from ._driver import GDResult, Status, run_gd
from ._problem import GDProblem, make_problem

__all__ = ["GDProblem", "GDResult", "Status", "make_problem", "run_gd"]
