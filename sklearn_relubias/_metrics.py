"""What the package measures about a solution: the minimum-norm reference and distances to it.

Estimators, :func:`~sklearn_relubias.experiments.gap_sweep`, the Displays
and the ``relubias`` command all take these quantities from here.
"""

import warnings
from typing import NamedTuple

import numpy as np
from scipy import linalg, sparse
from scipy.sparse.linalg import lsqr

from ._base import forward
from ._dual_qp import DualFactor, solve_min_norm
from ._linalg import gram, pre_activations, scale_rows, span
from ._memory import check_min_norm
from ._primal_qp import solve_min_norm_primal
from .exceptions import UnfittableRowsWarning


def _scaled_norms(W, W_ref):
    """``(||W - W_ref||_F / s, ||W_ref||_F / s, s)`` with ``s`` the largest entry involved.

    Dividing by ``s`` first keeps the norms finite for huge weights.
    """
    diff = W - W_ref
    scale = max(np.max(np.abs(diff), initial=0.0), np.max(np.abs(W_ref), initial=0.0))
    if scale == 0.0:
        return 0.0, 0.0, 0.0
    return float(np.linalg.norm(diff / scale)), float(np.linalg.norm(W_ref / scale)), scale


def distance(W, W_ref):
    """``||W - W_ref||_F``: the absolute distance, in the data's units."""
    dist, _, scale = _scaled_norms(W, W_ref)
    return dist * scale


def relative_distance(W, W_ref):
    """``||W - W_ref||_F / ||W_ref||_F``, or the absolute distance when ``W_ref = 0``."""
    dist, ref, scale = _scaled_norms(W, W_ref)
    return dist / ref if ref > 0 else dist * scale


class MinNormFit(NamedTuple):
    """What :func:`min_norm_reference` returns."""

    weights: np.ndarray
    dual_coef: np.ndarray
    active: np.ndarray
    n_iter: int
    interpolates: bool
    kkt: float


def min_norm_reference(X, y, a, *, sample_weight=None, gram_matrix=None, tol=1e-12, dual_coef=True):
    """Solve the minimum-norm program for output weights ``a``: weights, coefficients, pattern.

    Neurons with ``a_j > 0`` share the single-neuron solution ``u+`` for ``y``,
    neurons with ``a_j < 0`` the one for ``-y``, in proportion to ``|a_j|``:
    ``w_j = |a_j| u / sum_{k in group} a_k^2``. With fewer examples than
    features the program is solved in the dual, on the Gram matrix
    (:func:`~sklearn_relubias._dual_qp.solve_min_norm`); otherwise on the
    weights (:func:`~sklearn_relubias._primal_qp.solve_min_norm_primal`,
    memory ``O(n d + d^2)``, never an ``n x n`` object).

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Inputs.
    y : ndarray of shape (n_samples,)
        Targets, float64.
    a : ndarray of shape (n_neurons,)
        Output weights.
    sample_weight : ndarray of shape (n_samples,), default=None
        Non-negative example weights. The interpolating program only sees
        which are positive (its constraints do not change when a row is
        scaled); the surrogate of a non-interpolating problem is weighted
        like the loss.
    gram_matrix : ndarray of shape (n_samples, n_samples), default=None
        ``X X^T`` if already computed (used by the dual path only).
    tol : float, default=1e-12
        Relative tolerance of the solver.
    dual_coef : bool, default=True
        Whether to return the data-span coefficients (on the primal path they
        cost a least-squares solve on ``X^T``; None when False there).

    Returns
    -------
    MinNormFit
        ``weights`` (n_neurons, n_features); ``dual_coef`` (n_samples,
        n_neurons) with ``weights == dual_coef.T @ X`` (the multipliers on the
        dual path, where the identity holds to about ``cond(X) eps`` relative
        when X is ill-conditioned; the minimum-norm such coefficients on the
        primal path);
        ``active`` (n_samples, n_neurons), the rows each neuron fits with a
        positive value, read from the program's structure (rows on the kink
        ``<w, x_i> = 0`` are inactive, whatever the sign rounding gives them);
        ``n_iter``, solver iterations summed over the (at most two) groups;
        ``interpolates``, whether every group's program was feasible; ``kkt``,
        the largest relative KKT residual over the groups.
    """
    n, d = X.shape
    check_min_norm(n, d, "subsample the rows, or reduce the features.")
    if n >= d:
        return _primal_reference(X, y, a, sample_weight, tol, dual_coef)
    if sample_weight is not None:
        return _weighted_dual_reference(X, y, a, sample_weight, gram_matrix, tol)
    K = gram(X) if gram_matrix is None else gram_matrix
    factor = DualFactor(K, X)  # K when well conditioned, else a factor of X (cond(X) accuracy)
    dual_coef = np.zeros((n, a.shape[0]))
    weights = np.zeros((a.shape[0], d))
    active = np.zeros(dual_coef.shape, dtype=bool)
    n_iter, interpolates, kkt = 0, True, 0.0
    for sign, group, share in _groups(a):
        sol = solve_min_norm(sign * y, K, factor=factor, tol=tol)
        n_iter += sol.n_iter
        interpolates &= sol.interpolates
        kkt = max(kkt, sol.kkt)  # measured on the original program, with products by X
        dual_coef[:, group] = np.outer(sol.coef, share)
        # X^T c on the "gram" route; from X's orthogonal factor otherwise (X^T c is
        # then accurate to cond(X) eps normwise only, see _dual_qp)
        weights[group] = np.outer(share, sol.weights)
        active[:, group] = (sol.equality & (sol.targets > 0))[:, None]
    return MinNormFit(weights, dual_coef, active, n_iter, bool(interpolates), kkt)


def _groups(a):
    """``(sign, mask, share)`` of each non-empty neuron group: ``w_j = share_j u_sign``."""
    for sign in (1.0, -1.0):
        group = sign * a > 0
        if group.any():
            yield sign, group, np.abs(a[group]) / np.sum(a[group] ** 2)


def _primal_reference(X, y, a, sample_weight, tol, with_dual_coef):
    """:func:`min_norm_reference` solved on the weights (``n_samples >= n_features``)."""
    weights = np.zeros((a.shape[0], X.shape[1]))
    active = np.zeros((X.shape[0], a.shape[0]), dtype=bool)
    n_iter, interpolates, kkt = 0, True, 0.0
    for sign, group, share in _groups(a):
        sol = solve_min_norm_primal(X, sign * y, sample_weight=sample_weight, tol=tol)
        n_iter += sol.n_iter
        interpolates &= sol.interpolates
        kkt = max(kkt, sol.kkt)
        weights[group] = np.outer(share, sol.weights)
        active[:, group] = (sol.equality & (sol.targets > 0))[:, None]
    dual_coef = span_coefficients(X, weights) if with_dual_coef else None
    return MinNormFit(weights, dual_coef, active, n_iter, bool(interpolates), kkt)


def span_coefficients(X, W):
    """Minimum-norm ``C`` (n_samples, n_neurons) with ``W == C.T @ X``, if W is in X's row space.

    Least squares on ``X^T``: an SVD for dense X (memory ``O(n d)``), LSQR
    iterations for sparse X (never densified).
    """
    if sparse.issparse(X):
        XT = X.T.tocsr().astype(np.float64)
        cols = [lsqr(XT, w, atol=1e-15, btol=1e-15, iter_lim=10 * sum(X.shape))[0] for w in W]
        return np.column_stack(cols) if cols else np.zeros((X.shape[0], 0))
    return linalg.lstsq(np.asarray(X, dtype=np.float64).T, W.T)[0]


def _weighted_dual_reference(X, y, a, sample_weight, gram_matrix, tol):
    """:func:`min_norm_reference` on the rows with positive weight, scaled by their root.

    The interpolating constraints do not change when a row is scaled, and the
    surrogate's ``s_i (...)^2`` terms become unweighted on ``sqrt(s_i) x_i``.
    """
    keep = np.flatnonzero(sample_weight > 0)
    root = np.sqrt(sample_weight[keep])
    X_keep = scale_rows(X[keep], root)
    K_keep = None
    if gram_matrix is not None:
        K_keep = gram_matrix[np.ix_(keep, keep)] * np.outer(root, root)
    fit = min_norm_reference(X_keep, root * y[keep], a, gram_matrix=K_keep, tol=tol)
    dual_coef = np.zeros((X.shape[0], a.shape[0]))
    dual_coef[keep] = root[:, None] * fit.dual_coef
    active = pre_activations(X, fit.weights) > 0
    active[keep] = fit.active
    return fit._replace(dual_coef=dual_coef, active=active)


def active_least_squares_weights(X, W, *, gram_matrix=None):
    """Minimum-norm linear fit of each neuron's own values on GD's own final active set.

    For neuron ``j`` with active set ``A = {i : <w_j, x_i> > 0}`` this is
    ``argmin ||v||`` s.t. ``<v, x_i> = <w_j, x_i>`` for ``i`` in ``A``, i.e.
    ``v = X_A^T K_AA^+ X_A w_j``: the reference that ignores the sign
    constraints on the inactive examples. ``W`` minus this reference is what
    gradient descent kept from the examples it stopped fitting.

    The active set is the one gradient descent ended with, so a run that left
    an example stranded (inactive for every neuron that could fit it, see
    :func:`stranded_examples`) drags this reference with it. To compare the
    minimum-norm solution with a reference that does not depend on the run,
    use :func:`label_sign_least_squares_weights`.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Training inputs.
    W : ndarray of shape (n_neurons, n_features)
        Hidden weights.
    gram_matrix : ndarray of shape (n_samples, n_samples), default=None
        Gram matrix ``X X^T`` if already computed.

    Returns
    -------
    W_ls : ndarray of shape (n_neurons, n_features)
    """
    K = gram(X) if gram_matrix is None else gram_matrix
    P = pre_activations(X, W)
    C = np.zeros(P.shape)
    for j in range(W.shape[0]):
        A = np.flatnonzero(P[:, j] > 0)
        if A.size:
            C[A, j] = linalg.lstsq(K[np.ix_(A, A)], P[A, j])[0]
    return span(C, X)


def label_sign_least_squares_weights(X, y, a, *, gram_matrix=None):
    """Minimum-norm linear interpolant of the examples each neuron can fit, by label sign.

    A neuron with output weight ``a_j > 0`` can only produce positive outputs,
    so the examples it can fit are ``F+ = {i : y_i > 0}``; one with ``a_j < 0``
    fits ``F- = {i : y_i < 0}`` (``y_i a_j > 0`` in both cases). As in
    :func:`min_norm_reference`, the neurons of a sign group share one vector:
    ``w_j = |a_j| u / sum_{k in group} a_k^2``, with ``u`` the minimum-norm
    solution of ``<u, x_i> = sign(a_j) y_i`` for ``i`` in the group's set,
    i.e. ``u = X_F^+ (sign(a_j) y_F)``. The sign constraints
    ``<u, x_i> <= 0`` on the other examples are dropped: this is the
    minimum-norm program of the label-sign region without its inequalities,
    so it equals ``W*`` whenever those happen to hold, and it does not depend
    on any gradient-descent run (unlike
    :func:`active_least_squares_weights`, which uses the run's final active
    set).

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Training inputs.
    y : ndarray of shape (n_samples,)
        Targets.
    a : ndarray of shape (n_neurons,)
        Output weights (nonzero).
    gram_matrix : ndarray of shape (n_samples, n_samples), default=None
        ``X X^T`` if already computed; used only when
        ``n_samples < n_features``. With ``n_samples >= n_features`` the fit
        is a least-squares solve on the rows of X (memory ``O(n d)``, never
        an ``n x n`` object).

    Returns
    -------
    W_ls : ndarray of shape (n_neurons, n_features)
        Zero rows for a group whose set of examples is empty.
    """
    n, d = X.shape
    y = np.asarray(y, dtype=np.float64)
    a = np.asarray(a, dtype=np.float64)
    W_ls = np.zeros((a.shape[0], d))
    for sign, group, share in _groups(a):
        rows = np.flatnonzero(sign * y > 0)
        if not rows.size:
            continue
        target = sign * y[rows]
        X_rows = X[rows]
        if n < d:  # dual: u = X_F^T K_FF^+ t, the minimum-norm interpolant
            K = gram(X_rows) if gram_matrix is None else gram_matrix[np.ix_(rows, rows)]
            u = span(linalg.lstsq(K, target)[0][:, None], X_rows)[0]
        elif sparse.issparse(X_rows):
            X_rows = X_rows.tocsr().astype(np.float64)
            u = lsqr(X_rows, target, atol=1e-15, btol=1e-15, iter_lim=10 * (n + d))[0]
        else:  # primal: the minimum-norm least-squares solution on the rows of X
            u = linalg.lstsq(np.asarray(X_rows, dtype=np.float64), target)[0]
        W_ls[group] = np.outer(share, u)
    return W_ls


def training_loss(X, y, W, a):
    """``1/(2n) sum_i (f(x_i) - y_i)^2``."""
    return 0.5 * float(np.mean((forward(X, W, a) - y) ** 2))


def unfittable_rows(X, y, a, sample_weight=None):
    """Return the indices of all-zero rows of X that some neuron group must fit.

    ``<w, 0> = 0`` for every ``w``, so an example with ``x_i = 0`` and
    ``y_i > 0`` (``< 0``) is out of reach of the neurons with positive
    (negative) output weights, whose label-sign region must fit it; rows with
    zero sample weight do not count. Such rows are why no interpolant exists.
    """
    if sparse.issparse(X):
        zero = np.asarray(abs(X).sum(axis=1)).ravel() == 0
    else:
        zero = ~np.any(X, axis=1)
    must_fit = can_fit(y, a).any(axis=1)
    if sample_weight is not None:
        must_fit &= sample_weight > 0
    return np.flatnonzero(zero & must_fit)


def warn_if_unfittable(rows):
    """Warn once, naming the all-zero rows that make interpolation impossible."""
    if rows.size:
        shown = ", ".join(map(str, rows[:10])) + (", ..." if rows.size > 10 else "")
        warnings.warn(
            f"{rows.size} row(s) of X are all zero but have a target the network must fit "
            f"(indices {shown}): every neuron outputs 0 on them, so no network interpolates "
            "the data (MinNormReLURegressor: interpolates_ is False). Drop these rows.",
            UnfittableRowsWarning,
            stacklevel=5,
        )


def can_fit(y, a):
    """``(n_samples, n_neurons)``: neuron ``j`` can output ``y_i`` (``y_i a_j > 0``)."""
    return np.outer(y, a) > 0


def stranded_examples(y, a, active):
    """Return the indices of examples no neuron that could fit them is active on.

    An example with ``y_i > 0`` (``< 0``) can only be fitted by a neuron with a
    positive (negative) output weight; if none of those is active on it, its
    gradient is zero for good, and a gradient-descent run that converged sits
    at a stationary point above the global minimum of the loss.
    """
    fits = can_fit(y, a)
    return np.flatnonzero(fits.any(axis=1) & ~(fits & active).any(axis=1))
