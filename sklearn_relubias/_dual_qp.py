"""Exact solver for the single-neuron minimum-norm program and its dual.

The program, for targets ``y`` with ``E = {i : y_i > 0}`` and ``I = {i : y_i <= 0}``::

    min ||w||^2  s.t.  <w, x_i> = y_i (i in E),  <w, x_i> <= 0 (i in I).

With ``w = X^T c`` its dual is the bound-constrained quadratic program::

    min_c 1/2 c^T K c - b^T c  s.t.  c_i <= 0 (i in I),   b = max(y, 0),  K = X X^T,

solved by a primal-dual active-set method (Hintermueller, Ito and Kunisch,
2002), each iteration an exact linear solve on the free block. It stops when
its active set repeats itself unchanged, and the KKT conditions then hold exactly up to
rounding; if it cycles, the classical Lawson-Hanson active-set method, finite
by construction, takes over.

When ``K`` is positive definite (``n <= d`` and X of full row rank, the regime
of the paper) this is exact. When ``K`` is singular (``n > d``, duplicated or
dependent rows) the program may be infeasible, and the same dual is solved
with ``K + mu I``, ``mu = 1e-10 max_i K_ii``: the dual of
``min 1/2 ||w||^2 + 1/(2 mu) * surrogate(w)`` with the convex surrogate
``sum_{i in E} (<w,x_i> - y_i)^2 + sum_{i in I} max(<w,x_i>, 0)^2``. As
``mu -> 0`` its solution tends to the minimum-norm minimiser of the surrogate
(the minimum-norm solution itself when the program is feasible). The
result is then accurate to about 1e-6 relative: the O(mu) bias plus
rounding amplified by the 1e10 conditioning of ``K + mu I``.

NumPy's LAPACK is used throughout, the library that also forms the Gram
matrix: alternating between NumPy's and SciPy's BLAS thread pools costs
milliseconds per switch on a small machine.
"""

from dataclasses import dataclass

import numpy as np


@dataclass
class MinNormSolution:
    """Result of :func:`solve_min_norm` for one neuron group.

    Attributes
    ----------
    coef : ndarray of shape (n_samples,)
        Dual coefficients ``c`` with ``w = X^T c``.
    targets : ndarray of shape (n_samples,)
        Values the equality rows are fitted to (``y`` when the program is
        feasible, the surrogate minimiser's fitted values otherwise).
    equality : ndarray of shape (n_samples,), dtype bool
        Rows held with equality; the others satisfy ``<w, x_i> <= 0``.
    n_iter : int
        Active-set iterations.
    interpolates : bool
        Whether the original program was feasible (to ``sqrt(tol)``).
    """

    coef: np.ndarray
    targets: np.ndarray
    equality: np.ndarray
    n_iter: int
    interpolates: bool


def solve_min_norm(y, K, *, tol=1e-12, max_iter=None):
    """Minimum-norm single-neuron solution for targets ``y``.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Targets.
    K : ndarray of shape (n_samples, n_samples)
        Gram matrix ``X X^T``.
    tol : float, default=1e-12
        Relative tolerance for the positive-definiteness, sign and
        feasibility decisions.
    max_iter : int, default=None
        Active-set iteration cap (default ``10 * n_samples + 10``).

    Returns
    -------
    MinNormSolution
    """
    n = y.shape[0]
    max_iter = 10 * n + 10 if max_iter is None else max_iter
    pos = y > 0
    b = np.where(pos, y, 0.0)
    diag_max = max(np.max(np.diag(K), initial=0.0), np.finfo(float).tiny)
    mu = 0.0 if _positive_definite(K, tol * diag_max) else 1e-10 * diag_max
    coef, n_iter = _bounded_dual(K + mu * np.eye(n), b, ~pos, tol, max_iter)
    fitted = K @ coef
    scale = max(np.max(np.abs(y), initial=0.0), np.finfo(float).tiny)
    miss = np.max(np.abs(fitted - b)[pos], initial=0.0)
    excess = np.max(fitted[~pos], initial=0.0)
    if max(miss, excess) <= np.sqrt(tol) * scale:
        if mu > 0:
            coef = _polish(K, b, pos, coef)
        return MinNormSolution(coef, y.astype(np.float64), pos, n_iter, True)
    # no interpolating solution: the rows fitted with a positive value are
    # the equality rows of the surrogate's minimum-norm minimiser
    return MinNormSolution(coef, fitted, pos | (fitted > 0), n_iter, False)


def _polish(K, b, pos, coef):
    """Exact solve on the active set found with ``K + mu I`` (feasible, singular K).

    With ``A`` the equality rows and the inequality rows whose multiplier is
    negative, ``c_A = K_AA^+ b_A`` is the minimum-norm solution of the
    program restricted to that active set; it replaces ``coef`` when its KKT
    residual is smaller (it removes the O(mu) bias).
    """
    active = pos | (coef < 0)
    polished = np.zeros_like(coef)
    idx = np.flatnonzero(active)
    polished[idx] = np.linalg.lstsq(K[np.ix_(idx, idx)], b[idx], rcond=None)[0]
    targets = np.where(pos, b, 0.0)
    if kkt_residual(K @ polished, polished, targets, pos) < kkt_residual(
        K @ coef, coef, targets, pos
    ):
        return polished
    return coef


def _positive_definite(K, pivot_tol):
    """Whether the Cholesky factorisation of K succeeds with every pivot above ``pivot_tol``."""
    try:
        factor = np.linalg.cholesky(K)
    except np.linalg.LinAlgError:
        return False
    return bool(np.min(np.diag(factor)) ** 2 > pivot_tol)


def _solve_free(K, b, free):
    """Minimiser of ``1/2 c^T K c - b^T c`` with ``c`` zero outside ``free``."""
    c = np.zeros_like(b)
    idx = np.flatnonzero(free)
    if idx.size:
        c[idx] = np.linalg.solve(K[np.ix_(idx, idx)], b[idx])
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
