"""What gradient descent runs on: an operator holding X, the model and the step size.

The estimators describe their problem once (:func:`make_problem`) and hand it
to the driver (:func:`~sklearn_relubias._gd.run_gd`); nothing below the
driver looks at estimator parameters. A new way of holding X (e.g. an array
from another library) is a new operator class here and a kernel for it in a
backend module.
"""

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from .._linalg import gram, pre_activations, weighted_top_eigenvalue
from .._memory import use_dual


def _kernel_array(x):
    """float64, C-contiguous and writeable (read-only memmaps would compile a twin)."""
    return np.require(x, dtype=np.float64, requirements=["C", "W"])


@dataclass(frozen=True)
class GramOperator:
    """X through its Gram matrix ``K = X X^T``: steps cost ``O(n^2 m)``, whatever d.

    ``X`` is kept as given (float32, dense or sparse) to turn data-span
    coefficients into weights at the end.
    """

    gram: np.ndarray
    X: object

    def curvature(self, weights):
        """``lambda_max(X^T diag(weights) X)``, from ``K``."""
        return weighted_top_eigenvalue(weights, K=self.gram)


@dataclass(frozen=True)
class DataOperator:
    """X itself, dense or CSR: steps cost ``O(n d m)`` or ``O(nnz m)``.

    Dense X is float64 and C-contiguous; CSR X has float64 data and int64
    indices and is never densified.
    """

    X: object
    gram = None

    def curvature(self, weights):
        """``lambda_max(X^T diag(weights) X)``, without forming an n x n matrix."""
        return weighted_top_eigenvalue(weights, X=self.X)


def make_operator(X, *, dual, gram_matrix=None):
    """Return the operator for X: its Gram matrix (``dual``), dense X or CSR X.

    ``gram_matrix``, when given, is used as ``X X^T`` instead of forming it.
    """
    if dual:
        K = gram(X) if gram_matrix is None else gram_matrix
        return GramOperator(_kernel_array(K), X)
    if sparse.issparse(X):
        X = X.tocsr().astype(np.float64)
        X.indices, X.indptr = X.indices.astype(np.int64), X.indptr.astype(np.int64)
        X.data = _kernel_array(X.data)
        return DataOperator(X)
    return DataOperator(_kernel_array(X))


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
        Initial hidden weights ``W0``.
    init_pre_activations : ndarray of shape (n_samples, n_neurons)
        ``X W0^T``.
    step_size : float
        ``eta = learning_rate / (||a||^2 lambda_max(X^T diag(w) X))``: the
        loss restricted to any activation region is a quadratic with
        curvature at most ``||a||^2 lambda_max(X^T diag(w) X)``.
    """

    operator: object
    output_weights: np.ndarray
    targets: np.ndarray
    weights: np.ndarray
    init_weights: np.ndarray
    init_pre_activations: np.ndarray
    step_size: float


def make_problem(X, y, a, W0, *, learning_rate, solver="auto", sample_weight=None, gram=None):
    """Describe gradient descent on ``(X, y)`` from ``W0`` for the driver.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Float32 or float64 inputs; dense C-contiguous, CSR or CSC.
    y : ndarray of shape (n_samples,)
        Targets, float64.
    a : ndarray of shape (n_neurons,)
        Output weights.
    W0 : ndarray of shape (n_neurons, n_features)
        Initial hidden weights.
    learning_rate : float
        Step relative to the curvature bound, in (0, 2).
    solver : {'auto', 'primal', 'dual'}, default='auto'
        Operator choice (see :func:`~sklearn_relubias._memory.use_dual`:
        ``'auto'`` iterates on the Gram matrix when ``n_samples <
        n_features`` and it fits in memory).
    sample_weight : ndarray of shape (n_samples,), default=None
        Non-negative weights with a positive sum; None for equal weights.
    gram : ndarray of shape (n_samples, n_samples), default=None
        ``X X^T`` if the caller already has it (dual path only).

    Returns
    -------
    GDProblem
    """
    n_samples = X.shape[0]
    if sample_weight is None:
        weights = np.full(n_samples, 1.0 / n_samples)
    else:
        weights = sample_weight / np.sum(sample_weight)
    dual = use_dual(solver, *X.shape, have_gram=gram is not None)
    operator = make_operator(X, dual=dual, gram_matrix=gram)
    lam = operator.curvature(weights)
    eta = learning_rate / (np.dot(a, a) * lam) if lam > 0.0 else 0.0
    with np.errstate(over="ignore", invalid="ignore"):  # an overflowing start stops the fit
        P0 = pre_activations(X, W0) if W0.any() else np.zeros((n_samples, a.shape[0]))
    return GDProblem(
        operator=operator,
        output_weights=_kernel_array(a),
        targets=_kernel_array(y),
        weights=_kernel_array(weights),
        init_weights=_kernel_array(W0),
        init_pre_activations=_kernel_array(P0),
        step_size=float(eta),
    )
