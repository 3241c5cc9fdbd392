"""Least-squares references: the linear model's reference and the experiments' comparators.

For the linear activation ``f(x) = sum_j a_j <w_j, x> = <beta, x>`` with
``beta = sum_j a_j w_j``; among the ``W`` giving one ``beta`` the smallest
has ``w_j = a_j beta / ||a||^2`` (Cauchy-Schwarz), so the minimum-norm
interpolant (or, when none exists, the minimum-norm least-squares solution)
is ``W* = a beta^T / ||a||^2`` with ``beta = X^+ y``: gradient descent from
zero stays in the row space of X and converges there. With sample weights
the least squares are weighted like the loss; an interpolant does not depend
on them.
"""

import numpy as np
from scipy import linalg, sparse
from scipy.sparse.linalg import lsqr

from .._linalg import gram as form_gram
from .._linalg import pre_activations, row_norms_sq, scale_rows, span
from ._common import MinNormFit
from ._dual_qp import GRAM_COND_LIMIT
from ._label_sign import span_coefficients


def min_norm_solution(X, t, *, gram=None):
    """Minimum-norm least-squares ``u`` of ``X u = t`` and its coefficients ``c`` (``u = X^T c``).

    On ``gram`` (``X X^T``, a pseudo-inverse solve) when given, else a dense
    SVD least squares or LSQR for sparse X. ``c`` is None off the Gram route.
    """
    if gram is not None:
        c = linalg.lstsq(gram, t)[0]
        return (None if X is None else span(c[:, None], X)[0]), c
    if sparse.issparse(X):
        X = X.tocsr().astype(np.float64)
        return lsqr(X, t, atol=1e-15, btol=1e-15, iter_lim=10 * sum(X.shape))[0], None
    return linalg.lstsq(np.asarray(X, dtype=np.float64), t)[0], None


def solve(
    model,
    X,
    y,
    *,
    sample_weight=None,
    gram=None,
    spectrum=None,
    tol=1e-12,
    dual_coef=True,
    memory,
):
    """Solve the linear model's reference ``W* = a beta^T / ||a||^2``, ``beta = X^+ y``.

    See :func:`sklearn_relubias._reference.solve` for the parameters. With
    fewer examples than features and a well-conditioned Gram matrix
    (``cond(K) <= 1e4``) ``beta = X^T K^{-1} y``; otherwise a least-squares
    solve on X (accuracy set by ``cond(X)``). ``interpolates`` when
    ``max|X beta - y| <= sqrt(tol) max|y|`` on the rows with positive
    weight; ``kkt`` is that residual relative to ``max|y|`` then, the
    relative normal-equations residual ``||X^T S r|| / (||S^{1/2} X||_F
    ||S^{1/2} r||)`` otherwise.
    """
    n = y.shape[0]
    d = np.inf if X is None else X.shape[1]
    keep = np.arange(n) if sample_weight is None else np.flatnonzero(sample_weight > 0)
    K = None
    if n < d:
        K = form_gram(X) if gram is None else gram
        cond_ok = spectrum is not None and keep.size == n
        if cond_ok:
            lam = spectrum.eigenvalues()
            cond_ok = lam[0] > 0 and lam[-1] / lam[0] <= GRAM_COND_LIMIT
        K = K[np.ix_(keep, keep)] if (cond_ok or X is None) else None
    X_keep = None if X is None else X[keep]
    beta, c = min_norm_solution(X_keep, y[keep], gram=K)  # an interpolant ignores the weights
    fitted = (K @ c) if X is None else pre_activations(X_keep, beta[None])[:, 0]
    s = None if sample_weight is None else sample_weight[keep]
    kkt, interpolates = _residual(fitted, y[keep], X_keep, s, tol)
    if not interpolates and s is not None and X is not None:  # weighted least squares
        root = np.sqrt(s)
        beta, c = min_norm_solution(scale_rows(X_keep, root), root * y[keep])
        fitted = pre_activations(X_keep, beta[None])[:, 0]
        kkt, interpolates = _residual(fitted, y[keep], X_keep, s, tol)
    a = model.output_weights
    share = a / float(np.dot(a, a))
    coef = None
    if c is not None:
        coef = np.zeros((n, a.shape[0]))
        coef[keep] = np.outer(c, share)
    if X is None:  # only K: coefficients, no weights
        active = np.zeros((n, a.shape[0]), dtype=bool)
        return MinNormFit(None, coef, active, 0, interpolates, kkt, "gram")
    weights = np.outer(share, beta)
    if coef is None and (dual_coef or n < d):
        coef = span_coefficients(X, weights)
    active = pre_activations(X, weights) > 0
    route = "gram" if c is not None else "lstsq"
    return MinNormFit(weights, coef, active, 0, interpolates, kkt, route)


def _residual(fitted, y, X, s, tol):
    """``(kkt, interpolates)`` measured on the original rows, from ``X beta`` and ``y``.

    Interpolation is decided to ``sqrt(tol)`` relative to ``max|y|``; ``kkt``
    is that residual when it holds (or without X), the relative
    normal-equations residual otherwise.
    """
    y_scale = max(np.max(np.abs(y), initial=0.0), np.finfo(float).tiny)
    r = fitted - y
    violation = float(np.max(np.abs(r), initial=0.0) / y_scale)
    interpolates = bool(violation <= np.sqrt(tol))
    if interpolates or X is None:
        return violation, interpolates
    s = np.ones(y.shape[0]) if s is None else s
    grad = np.linalg.norm(span((s * r)[:, None], X))
    denom = np.sqrt(float(np.dot(s, row_norms_sq(X))) * float(np.dot(s, r * r)))
    return (float(grad / denom) if denom > 0 else 0.0), interpolates


def label_sign_least_squares_weights(model, X, y, *, gram=None):
    """Minimum-norm linear interpolant of the examples each neuron group can fit, by label sign.

    For the group of sign ``s``, ``u = X_F^+ (s y_F)`` with ``F = {i : s y_i > 0}``,
    shared as in the label-sign program (``w_j = |a_j| u / sum_group a_k^2``):
    that program without its inequalities. ``gram`` (``X X^T``) is used when
    ``n_samples < n_features``; otherwise least squares on the rows of X
    (memory ``O(n d)``). Zero rows for a group with no such example.
    """
    n, d = X.shape
    y = np.asarray(y, dtype=np.float64)
    W_ls = np.zeros((model.n_neurons, d))
    for sign, group, share in model.groups():
        rows = np.flatnonzero(sign * y > 0)
        if not rows.size:
            continue
        K = None
        if n < d:
            K = form_gram(X[rows]) if gram is None else gram[np.ix_(rows, rows)]
        u, _ = min_norm_solution(X[rows], sign * y[rows], gram=K)
        W_ls[group] = np.outer(share, u)
    return W_ls


def active_least_squares_weights(X, W, *, gram=None):
    """Minimum-norm linear fit of each neuron's own values on its own active set.

    For neuron ``j`` with ``A = {i : <w_j, x_i> > 0}``: ``v = X_A^T K_AA^+ X_A w_j``.
    """
    K = form_gram(X) if gram is None else gram
    P = pre_activations(X, W)
    C = np.zeros(P.shape)
    for j in range(W.shape[0]):
        A = np.flatnonzero(P[:, j] > 0)
        if A.size:
            C[A, j] = linalg.lstsq(K[np.ix_(A, A)], P[A, j])[0]
    return span(C, X)
