"""Exact solver for the single-neuron minimum-norm program and its dual.

The program, for targets ``y`` with ``E = {i : y_i > 0}`` and ``I = {i : y_i <= 0}``::

    min ||w||^2  s.t.  <w, x_i> = y_i (i in E),  <w, x_i> <= 0 (i in I).

With ``w = X^T c`` its dual is the bound-constrained quadratic program::

    min_c 1/2 c^T K c - b^T c  s.t.  c_i <= 0 (i in I),   b = max(y, 0),  K = X X^T.

When ``K`` is positive definite (``n <= d`` and X of full row rank, the regime
of the paper) the dual is solved by a primal-dual active-set method
(Hintermueller, Ito and Kunisch, 2002) on Cholesky factors of the free block,
which stops when its active set repeats itself unchanged: the KKT conditions
then hold exactly up to rounding. If it cycles, the classical Lawson-Hanson
active-set method, finite by construction, takes over.

When ``K`` is singular the feasible set may be empty. Then the solver first
finds the fitted values of the convex surrogate
``sum_{i in E} (<w,x_i> - y_i)^2 + sum_{i in I} max(<w,x_i>, 0)^2``
(a non-negative least-squares problem in the residual space), and then the
minimum-norm ``w`` reaching them, a least-distance program solved through
non-negative least squares (Lawson and Hanson, 1974, ch. 23). Both are bounded
variable least-squares problems solved with SciPy's finite BVLS active-set
method.
"""

from dataclasses import dataclass

import numpy as np
from scipy import linalg
from scipy.optimize import lsq_linear

from ._linalg import gram, pre_activations


@dataclass
class MinNormSolution:
    """Result of :func:`solve_min_norm` for one neuron group.

    Attributes
    ----------
    coef : ndarray of shape (n_samples,)
        Dual coefficients ``c`` with ``w = X^T c``.
    targets : ndarray of shape (n_samples,)
        Values the equality rows are fitted to (``y`` when the program is
        feasible, the surrogate's fitted values otherwise).
    equality : ndarray of shape (n_samples,), dtype bool
        Rows held with equality; the others satisfy ``<w, x_i> <= 0``.
    n_iter : int
        Active-set iterations.
    interpolates : bool
        Whether the original program was feasible.
    """

    coef: np.ndarray
    targets: np.ndarray
    equality: np.ndarray
    n_iter: int
    interpolates: bool


def solve_min_norm(y, *, K=None, X=None, tol=1e-12, max_iter=None):
    """Minimum-norm single-neuron solution for targets ``y``.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Targets.
    K : ndarray of shape (n_samples, n_samples), default=None
        Gram matrix ``X X^T``. Give ``K`` when ``n_samples <= n_features``.
    X : {ndarray, sparse matrix} of shape (n_samples, n_features), default=None
        Inputs; used (through ``X^T X``) when ``K`` is not given.
    tol : float, default=1e-12
        Relative tolerance for rank, feasibility and sign decisions.
    max_iter : int, default=None
        Active-set iteration cap (default ``10 * n_samples + 10``).

    Returns
    -------
    MinNormSolution
    """
    n = y.shape[0]
    max_iter = 10 * n + 10 if max_iter is None else max_iter
    equality = y > 0
    b = np.where(equality, y, 0.0)
    if K is not None:
        try:
            factor = linalg.cholesky(K, lower=True)
        except linalg.LinAlgError:
            factor = None
        if factor is not None and np.min(np.diag(factor)) ** 2 > tol * np.max(np.diag(K)):
            coef, n_iter = _bounded_dual(K, b, ~equality, tol, max_iter)
            fitted = K @ coef
            scale = max(np.max(np.abs(b)), np.finfo(float).tiny)
            if np.max(np.abs(fitted - b)[equality], initial=0.0) <= np.sqrt(tol) * scale:
                return MinNormSolution(coef, y, equality, n_iter, True)
        Z, lam = _coordinates_from_gram(K)
    else:
        Z, lam = _coordinates_from_inputs(X)
    return _surrogate(y, Z, lam, tol)


def _solve_free(K, b, free):
    """Minimiser of ``1/2 c^T K c - b^T c`` with ``c`` zero outside ``free``."""
    c = np.zeros_like(b)
    idx = np.flatnonzero(free)
    if idx.size:
        c[idx] = linalg.cho_solve(linalg.cho_factor(K[np.ix_(idx, idx)]), b[idx])
    return c


def _bounded_dual(K, b, upper, tol, max_iter):
    """``min 1/2 c^T K c - b^T c`` s.t. ``c[upper] <= 0``, for positive definite K.

    Returns the solution and the number of active-set iterations.
    """
    g_tol = tol * max(np.max(np.abs(b)), np.finfo(float).tiny)
    at_bound = upper.copy()
    seen = set()
    for n_iter in range(1, max_iter + 1):
        c = _solve_free(K, b, ~at_bound)
        g = K @ c - b  # on bound rows: <w, x_i>, must be <= 0
        new = upper & np.where(at_bound, g <= g_tol, c >= 0.0)
        if np.array_equal(new, at_bound):
            return c, n_iter
        key = new.tobytes()
        if key in seen:
            break
        seen.add(key)
        at_bound = new
    c, more = _lawson_hanson(K, b, upper, g_tol, max_iter)
    return c, n_iter + more


def _lawson_hanson(K, b, upper, g_tol, max_iter):
    """Classical primal active-set method (Lawson-Hanson) for the bounded dual."""
    free = ~upper
    c = _solve_free(K, b, free)
    n_iter = 0
    while n_iter < max_iter:
        g = np.where(upper & ~free, K @ c - b, -np.inf)
        j = int(np.argmax(g))
        if g[j] <= g_tol:
            break
        free[j] = True
        n_iter += 1
        s = _solve_free(K, b, free)
        if s[j] >= 0.0:  # no descent along j in floating point: optimal to rounding
            free[j] = False
            break
        while True:
            bad = free & upper & (s >= 0.0)
            if not bad.any():
                break
            n_iter += 1
            step = c[bad] - s[bad]
            alpha = np.min(np.divide(c[bad], step, out=np.zeros_like(step), where=step != 0))
            c = c + alpha * (s - c)
            free &= ~(upper & (c >= 0.0))
            c[~free] = 0.0
            s = _solve_free(K, b, free)
        c = s
    return c, n_iter


def _coordinates_from_gram(K):
    """Examples' coordinates ``Z`` (``Z Z^T = K``, ``Z^T Z = diag(lam)``) from ``eigh(K)``."""
    lam, U = linalg.eigh(K)
    keep = lam > lam[-1] * K.shape[0] * np.finfo(float).eps
    return U[:, keep] * np.sqrt(lam[keep]), lam[keep]


def _coordinates_from_inputs(X):
    """Examples' coordinates ``Z = X V`` in the eigenbasis ``V`` of ``X^T X = V diag(lam) V^T``.

    Works for sparse X (never densified). Squaring X halves the precision of
    the rank decision, which only matters for nearly rank-deficient inputs.
    """
    lam, V = linalg.eigh(gram(X.T))
    keep = lam > lam[-1] * max(X.shape) * np.finfo(float).eps
    return pre_activations(X, V[:, keep].T), lam[keep]


def _surrogate(y, Z, lam, tol):
    """Min-norm solution when K is singular, in the row space's coordinates.

    ``Z`` (n x r, ``Z^T Z = diag(lam)``) holds the examples' coordinates in an
    orthonormal basis of the row space of X, so ``X w = Z theta``,
    ``||w|| = ||theta||`` and ``w = X^T c`` with ``c = Z (theta / lam)``.
    """
    n = y.shape[0]
    U = Z / np.sqrt(lam)  # orthonormal basis of the fitted values X w
    pos = y > 0
    n_iter = 0
    targets = y.astype(np.float64, copy=True)
    interpolates = True
    if U.shape[1] < n and (~pos).any():
        # fitted values closest to {t : t_E = y_E, t_I <= 0}: t_I = -v, v >= 0
        Q = np.eye(n) - U @ U.T
        res = lsq_linear(Q[:, ~pos], Q[:, pos] @ y[pos], bounds=(0, np.inf), method="bvls")
        n_iter += res.nit
        t = np.where(pos, y, 0.0)
        t[~pos] = -res.x
        fitted = U @ (U.T @ t)
        resid = np.linalg.norm(t - fitted)
        interpolates = resid <= np.sqrt(tol) * max(np.linalg.norm(y), np.finfo(float).tiny)
        if not interpolates:
            targets = fitted
    elif U.shape[1] < n:
        fitted = U @ (U.T @ y)
        interpolates = np.linalg.norm(y - fitted) <= np.sqrt(tol) * np.linalg.norm(y)
        targets = fitted
    scale = max(np.max(np.abs(y)), np.finfo(float).tiny)
    equality = pos if interpolates else (targets > np.sqrt(tol) * scale)
    theta, nit = _least_distance(Z[equality], targets[equality], Z[~equality])
    return MinNormSolution(Z @ (theta / lam), targets, equality, n_iter + nit, bool(interpolates))


def _least_distance(A_eq, b_eq, A_in):
    """``min ||theta||`` s.t. ``A_eq theta = b_eq`` (consistent), ``A_in theta <= 0``."""
    r = A_in.shape[1]
    if A_eq.shape[0]:
        U, sv, Vt = linalg.svd(A_eq, full_matrices=True)
        rank = int(np.sum(sv > sv[0] * max(A_eq.shape) * np.finfo(float).eps))
        theta0 = Vt[:rank].T @ ((U[:, :rank].T @ b_eq) / sv[:rank])
        null = Vt[rank:].T
    else:
        theta0, null = np.zeros(r), np.eye(r)
    h = A_in @ theta0  # need A_in (theta0 + null @ gamma) <= 0, i.e. G gamma >= h
    if null.shape[1] == 0 or not np.any(h > 0):
        return theta0, 0
    G = -A_in @ null
    k = G.shape[1]
    E = np.vstack([G.T, h[None, :]])
    f = np.zeros(k + 1)
    f[-1] = 1.0
    res = lsq_linear(E, f, bounds=(0, np.inf), method="bvls")
    resid = E @ res.x - f
    gamma = -resid[:k] / resid[k]
    return theta0 + null @ gamma, res.nit


def kkt_residual(fitted, coef, targets, equality):
    """Largest relative violation of the program's KKT conditions.

    Checks ``<w,x_i> = targets_i`` on equality rows, ``<w,x_i> <= 0`` and
    ``c_i <= 0`` on the others, and complementarity ``c_i <w,x_i> = 0``, each
    relative to ``max|targets|`` and ``max|c|``.
    """
    t_scale = max(np.max(np.abs(targets), initial=0.0), np.finfo(float).tiny)
    c_scale = max(np.max(np.abs(coef), initial=0.0), np.finfo(float).tiny)
    ineq = ~equality
    complementarity = np.max(np.abs(coef[ineq] * fitted[ineq]), initial=0.0)
    return float(
        max(
            np.max(np.abs(fitted - targets)[equality], initial=0.0) / t_scale,
            np.max(np.maximum(fitted[ineq], 0.0), initial=0.0) / t_scale,
            np.max(np.maximum(coef[ineq], 0.0), initial=0.0) / c_scale,
            complementarity / c_scale / t_scale if complementarity > 0 else 0.0,
        )
    )
