"""What the package measures about a solution: the minimum-norm reference and distances to it.

Estimators, :func:`~sklearn_relubias.experiments.gap_sweep`, the Displays
and the ``relubias`` command all take these quantities from here.
"""

from typing import NamedTuple

import numpy as np
from scipy import linalg, sparse

from ._base import forward
from ._dual_qp import kkt_residual, solve_min_norm
from ._linalg import gram, pre_activations, span


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

    dual_coef: np.ndarray
    active: np.ndarray
    n_iter: int
    interpolates: bool
    kkt: float


def min_norm_reference(X, y, a, *, sample_weight=None, gram_matrix=None, tol=1e-12):
    """Data-span coefficients of the minimum-norm solution for output weights ``a``.

    Neurons with ``a_j > 0`` share the single-neuron solution ``u+`` for ``y``,
    neurons with ``a_j < 0`` the one for ``-y``, in proportion to ``|a_j|``:
    ``w_j = |a_j| u / sum_{k in group} a_k^2``; the weights are
    ``span(dual_coef, X)``.

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
        like the loss. Both are the unweighted program on the rows with
        positive weight scaled by ``sqrt(sample_weight)``, which is how they
        are solved.
    gram_matrix : ndarray of shape (n_samples, n_samples), default=None
        ``X X^T`` if already computed (formed here otherwise).
    tol : float, default=1e-12
        Relative tolerance of the solver.

    Returns
    -------
    MinNormFit
        ``dual_coef`` (n_samples, n_neurons); ``active`` (n_samples,
        n_neurons), the rows each neuron fits with a positive value (the
        equality rows with a positive target: rows on the kink
        ``<w, x_i> = 0`` are inactive, whatever the sign rounding gives them);
        ``n_iter``, active-set iterations summed over the (at most two) groups;
        ``interpolates``, whether every group's program was feasible; ``kkt``,
        the largest relative KKT residual over the groups. Rows with zero
        weight have zero coefficients, and are active where ``<w_j, x_i> > 0``.
    """
    if sample_weight is not None:
        return _weighted_min_norm_reference(X, y, a, sample_weight, gram_matrix, tol)
    K = gram(X) if gram_matrix is None else gram_matrix
    dual_coef = np.zeros((X.shape[0], a.shape[0]))
    active = np.zeros(dual_coef.shape, dtype=bool)
    n_iter, interpolates, kkt = 0, True, 0.0
    for sign in (1.0, -1.0):
        group = sign * a > 0
        if not group.any():
            continue
        sol = solve_min_norm(sign * y, K, tol=tol)
        fitted = K @ sol.coef
        n_iter += sol.n_iter
        interpolates &= sol.interpolates
        kkt = max(kkt, kkt_residual(fitted, sol.coef, sol.targets, sol.equality))
        dual_coef[:, group] = np.outer(sol.coef, np.abs(a[group]) / np.sum(a[group] ** 2))
        active[:, group] = (sol.equality & (sol.targets > 0))[:, None]
    return MinNormFit(dual_coef, active, n_iter, bool(interpolates), kkt)


def _weighted_min_norm_reference(X, y, a, sample_weight, gram_matrix, tol):
    """:func:`min_norm_reference` on the rows with positive weight, scaled by their root."""
    keep = np.flatnonzero(sample_weight > 0)
    root = np.sqrt(sample_weight[keep])
    X_keep = X[keep]
    X_keep = (
        X_keep.multiply(root[:, None]).tocsr() if sparse.issparse(X) else X_keep * root[:, None]
    )
    K_keep = None
    if gram_matrix is not None:
        K_keep = gram_matrix[np.ix_(keep, keep)] * np.outer(root, root)
    fit = min_norm_reference(X_keep, root * y[keep], a, gram_matrix=K_keep, tol=tol)
    dual_coef = np.zeros((X.shape[0], a.shape[0]))
    dual_coef[keep] = root[:, None] * fit.dual_coef
    active = pre_activations(X, span(dual_coef, X)) > 0
    active[keep] = fit.active
    return fit._replace(dual_coef=dual_coef, active=active)


def active_least_squares_weights(X, W, *, gram_matrix=None):
    """Minimum-norm linear fit of each neuron's own values on its active examples.

    For neuron ``j`` with active set ``A = {i : <w_j, x_i> > 0}`` this is
    ``argmin ||v||`` s.t. ``<v, x_i> = <w_j, x_i>`` for ``i`` in ``A``, i.e.
    ``v = X_A^T K_AA^+ X_A w_j``: the reference that ignores the sign
    constraints on the inactive examples. ``W`` minus this reference is what
    gradient descent kept from the examples it stopped fitting.

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


def training_loss(X, y, W, a):
    """``1/(2n) sum_i (f(x_i) - y_i)^2``."""
    return 0.5 * float(np.mean((forward(X, W, a) - y) ** 2))


def stranded_examples(y, a, active):
    """Return the indices of examples no neuron that could fit them is active on.

    An example with ``y_i > 0`` (``< 0``) can only be fitted by a neuron with a
    positive (negative) output weight; if none of those is active on it, its
    gradient is zero for good, and a gradient-descent run that converged sits
    at a stationary point above the global minimum of the loss.
    """
    can_fit = np.where((y > 0)[:, None], a > 0, a < 0) & (y != 0)[:, None]
    return np.flatnonzero(can_fit.any(axis=1) & ~(can_fit & active).any(axis=1))
