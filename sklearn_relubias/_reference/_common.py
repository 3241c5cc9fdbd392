"""What every minimum-norm program returns, and the memory each plans."""

from typing import NamedTuple

import numpy as np

from .._memory import min_norm_bytes


class MinNormFit(NamedTuple):
    """A minimum-norm reference.

    Attributes
    ----------
    weights : ndarray of shape (n_neurons, n_features) or None
        ``W*`` (None when only the Gram matrix was given).
    dual_coef : ndarray of shape (n_samples, n_neurons) or None
        Data-span coefficients, ``weights == dual_coef.T @ X`` (None when not
        asked for on the primal path).
    active : ndarray of shape (n_samples, n_neurons), dtype=bool
        The rows each neuron fits with a positive value, read from the
        program's structure.
    n_iter : int
        Solver iterations summed over the neuron groups.
    interpolates : bool
        Whether an interpolating solution exists.
    kkt : float
        Largest relative violation of the optimality conditions of the
        original program.
    route : str
        How it was solved: ``'gram'``, ``'factor'`` or ``'deficient'`` (dual),
        ``'primal'``, or ``'lstsq'``.
    """

    weights: np.ndarray | None
    dual_coef: np.ndarray | None
    active: np.ndarray
    n_iter: int
    interpolates: bool
    kkt: float
    route: str


def plan(memory, n_samples, n_features, advice):
    """Add a program's memory stage (dual when ``n < d``, on the weights otherwise) to ``memory``.

    Both programs hold the Gram matrix and copies of it in the dual, a
    ``d x d`` factor and copies of X's rows on the weights
    (:func:`~sklearn_relubias._memory.min_norm_bytes`).
    """
    if n_samples < n_features:
        what = f"its {n_samples} x {n_samples} Gram matrix and copies"
    else:
        what = f"its {n_features} x {n_features} factor and row copies of X"
    memory.add(f"The minimum-norm program ({what})", min_norm_bytes(n_samples, n_features), advice)
