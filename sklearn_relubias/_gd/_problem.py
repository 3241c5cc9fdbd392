"""What gradient descent runs on: an operator holding X, the model, the step and the optimizer.

The fit plan (:mod:`sklearn_relubias._plan`) describes a problem once and
hands it to the driver (:func:`~sklearn_relubias._gd.run_gd`); nothing below
the driver looks at estimator parameters. Operators say their *form*
(``'gram'``, ``'dense'`` or ``'csr'``), which is what a backend dispatches on.
"""

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from ._optimizers import OPTIMIZERS


def kernel_array(x):
    """float64, C-contiguous and writeable (read-only memmaps would compile a twin)."""
    return np.require(x, dtype=np.float64, requirements=["C", "W"])


@dataclass(frozen=True)
class GramOperator:
    """X through its Gram matrix ``K = X X^T``: steps cost ``O(n^2 m)``, whatever d.

    ``X`` is kept as given (float32, dense or sparse; None when only ``K`` is
    known) to turn data-span coefficients into weights at the end.
    """

    gram: np.ndarray
    X: object
    form = "gram"


@dataclass(frozen=True)
class DataOperator:
    """X itself, dense or CSR: steps cost ``O(n d m)`` or ``O(nnz m)``.

    Dense X is float64 or float32 (never copied to float64: the kernel upcasts
    it a block of rows at a time) and C-contiguous; CSR X has float64 data and
    int64 indices and is never densified.
    """

    X: object
    gram = None

    @property
    def form(self):
        return "csr" if sparse.issparse(self.X) else "dense"


def make_operator(X, K=None):
    """Return the Gram operator when ``K`` is given, else the operator holding X (dense or CSR)."""
    if K is not None:
        return GramOperator(kernel_array(K), X)
    if sparse.issparse(X):
        X = X.tocsr().astype(np.float64)
        X.indices, X.indptr = X.indices.astype(np.int64), X.indptr.astype(np.int64)
        X.data = kernel_array(X.data)
        return DataOperator(X)
    if X.dtype == np.float32:  # kept float32: the kernel upcasts it block by block
        return DataOperator(np.require(X, requirements=["C", "W"]))
    return DataOperator(kernel_array(X))


@dataclass(frozen=True)
class GDProblem:
    """One gradient-descent problem: minimise ``1/2 sum_i w_i (f(x_i) - y_i)^2``.

    Attributes
    ----------
    operator : GramOperator or DataOperator
        How X is held.
    output_weights : ndarray of shape (n_neurons,)
        The fixed output weights ``a``.
    targets : ndarray of shape (n_samples,)
        ``y``.
    weights : ndarray of shape (n_samples,)
        Example weights ``w``, non-negative, summing to one (``1/n`` each
        without sample weights).
    init_weights : ndarray of shape (n_neurons, n_features)
        Initial hidden weights ``W0`` (``n_features = 0`` when only ``K`` is
        known).
    init_pre_activations : ndarray of shape (n_samples, n_neurons)
        ``X W0^T``.
    step_size : float
        ``eta = learning_rate / curvature bound`` (see the fit plan).
    negative_slope : float, default=0.0
        The activation, ``sigma(z) = z`` for ``z >= 0`` and
        ``negative_slope * z`` below (0: ReLU, 1: linear).
    optimizer : str, default='gd'
        A key of :data:`~sklearn_relubias._gd._optimizers.OPTIMIZERS`.
    optimizer_params : dict, default=None
        The optimizer's parameters (keys of ``OPTIMIZER_DEFAULTS``, and
        ``'seed'`` for SGD's shuffling); for Adam ``step_size`` is its own
        step in internal weight units and ``'epsilon'`` is in internal
        gradient units.
    init_optimizer_state : dict, default=None
        The optimizer's state to start from (a backend state's ``carry()``,
        for a warm start); None starts it afresh.
    fallback : callable, default=None
        Returns the operator holding X itself, for a Gram-form run whose
        gradient norm reaches the rounding floor of ``<D, K D>`` (the driver
        goes on with it); None where X is not known or its float64 copy would
        not fit in memory.
    """

    operator: object
    output_weights: np.ndarray
    targets: np.ndarray
    weights: np.ndarray
    init_weights: np.ndarray
    init_pre_activations: np.ndarray
    step_size: float
    negative_slope: float = 0.0
    optimizer: str = "gd"
    optimizer_params: dict = field(default_factory=dict)
    init_optimizer_state: dict = None
    fallback: object = None

    @property
    def spec(self):
        """The optimizer's :class:`~sklearn_relubias._gd._optimizers.OptimizerSpec`."""
        return OPTIMIZERS[self.optimizer]
