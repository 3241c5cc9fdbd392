"""Gradient-descent driver: shapes the problem, allocates buffers, calls the kernel."""

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from . import _kernels
from ._linalg import gram, pre_activations, span, top_eigenvalue


@dataclass
class GDResult:
    """What one gradient-descent run produced (see ``run_gd``)."""

    hidden_weights: np.ndarray
    dual_coef: np.ndarray
    activation_pattern: np.ndarray
    loss_curve: np.ndarray
    n_iter: int
    status: int
    stable_iter: int
    step_size: float
    gram: np.ndarray | None
    pattern_changes: np.ndarray
    n_pattern_changes: int


def _kernel_array(x):
    """float64, C-contiguous and writeable (read-only memmaps would compile a twin)."""
    return np.require(x, dtype=np.float64, requirements=["C", "W"])


def step_size(learning_rate, output_weights, lambda_max, n_samples):
    """``eta = learning_rate * n / (||a||^2 lambda_max(X^T X))`` (0 if X is zero)."""
    if lambda_max <= 0.0:
        return 0.0
    return learning_rate * n_samples / (np.dot(output_weights, output_weights) * lambda_max)


def use_dual(solver, n_samples, n_features):
    """Whether to iterate in the data span (O(n^2 m) per step) or in weight space."""
    if solver == "auto":
        return n_samples < n_features
    return solver == "dual"


# Most pattern changes stored when they are recorded (24 MB of int64 rows).
MAX_RECORDED_CHANGES = 1_000_000


def run_gd(X, y, a, W0, *, learning_rate, max_iter, tol, dual, record_pattern=False, jump=False):
    """Run full-batch gradient descent from ``W0``.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Training inputs, float32 or float64; dense C-contiguous, CSR or CSC.
    y : ndarray of shape (n_samples,)
        Targets, float64.
    a : ndarray of shape (n_neurons,)
        Output weights, float64.
    W0 : ndarray of shape (n_neurons, n_features)
        Initial hidden weights, float64.
    learning_rate, max_iter, tol : float, int, float
        As in :class:`ShallowReLURegressor`.
    dual : bool
        Iterate on the data-span coefficients with the Gram matrix.
    jump : bool, default=False
        On the dual path, jump to the certified limit once the pattern has
        settled (see ``_kernels._limit_jump``).
    record_pattern : bool, default=False
        Record each change of the activation pattern as a row
        ``(iteration, sample, neuron)`` (at most ``MAX_RECORDED_CHANGES``).

    Returns
    -------
    GDResult
        ``gram`` holds the Gram matrix when the dual path computed it;
        ``activation_pattern`` is ``P > 0`` for the pre-activations the
        iteration itself computed.
    """
    n_samples = X.shape[0]
    m = a.shape[0]
    P = np.ascontiguousarray(pre_activations(X, W0)) if W0.any() else np.zeros((n_samples, m))
    C = np.zeros((n_samples, m))
    loss_curve = np.empty(max_iter + 1)
    capacity = min(n_samples * m * max_iter, MAX_RECORDED_CHANGES) if record_pattern else 0
    events = np.empty((capacity, 3), dtype=np.int64)
    data, indices, indptr = np.empty(0), np.empty(0, np.int64), np.empty(0, np.int64)
    K = None
    if dual:
        K = gram(X)
        lam = top_eigenvalue(K)
        path, A, W = _kernels.DUAL, _kernel_array(K), np.empty((m, 0))
    elif sparse.issparse(X):
        X = X.tocsr()
        lam = top_eigenvalue(gram(X.T))
        data, indices, indptr = (
            _kernel_array(X.data),
            X.indices.astype(np.int64),
            X.indptr.astype(np.int64),
        )
        path, A, W = _kernels.PRIMAL_CSR, np.empty((0, 0)), W0.copy()
    else:
        A = _kernel_array(X)
        lam = top_eigenvalue(gram(X.T))
        path, W = _kernels.PRIMAL_DENSE, W0.copy()
    eta = step_size(learning_rate, a, lam, n_samples)
    n_iter, status, stable_iter, n_events = _kernels.gradient_descent(
        path,
        A,
        data,
        indices,
        indptr,
        P,
        C,
        W,
        _kernel_array(a),
        _kernel_array(y),
        eta,
        max_iter,
        tol,
        jump,
        loss_curve,
        events,
    )
    if dual:
        W = W0 + span(C, X)
    return GDResult(
        hidden_weights=W,
        dual_coef=C,
        activation_pattern=P > 0,
        loss_curve=loss_curve[: n_iter + 1].copy(),
        n_iter=int(n_iter),
        status=int(status),
        stable_iter=int(stable_iter),
        step_size=float(eta),
        gram=K,
        pattern_changes=events[: min(n_events, capacity)].copy(),
        n_pattern_changes=int(n_events),
    )
