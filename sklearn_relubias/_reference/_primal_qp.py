r"""Exact minimum-norm single-neuron solver in the primal, for ``n_samples >= n_features``.

The program of :mod:`._dual_qp`, for targets ``y`` with ``E = {i : y_i > 0}``
and ``I = {i : y_i <= 0}``::

    min ||w||^2  s.t.  <w, x_i> = y_i (i in E),  <w, x_i> <= 0 (i in I),       (P)

and, when (P) is infeasible, the minimum-norm minimiser of the convex surrogate::

    F(w) = sum_{i in E} s_i (<w, x_i> - y_i)^2 + sum_{i in I} s_i max(<w, x_i>, 0)^2

with sample weights ``s_i >= 0`` (rows with ``s_i = 0`` are dropped; (P) only
depends on which ``s_i`` are positive). Everything is solved on the
``n_features = d`` weights with memory ``O(n d + d^2)``: no
``n_samples x n_samples`` object is ever formed.

Structure of the solution set
-----------------------------
F is a sum of convex functions of the fitted values ``z_i = <w, x_i>``,
strictly convex in ``z_i`` for ``i in E`` and in ``max(z_i, 0)`` for
``i in I``. Hence ``z*_E`` and ``max(z*_I, 0)`` are the same at every
minimiser of F. With ``P = {i in I : z*_i > 0}``, ``Q = E u P`` and
``R = I \ P`` the set of minimisers is::

    M = {w : X_Q w = z*_Q,  X_R w <= 0},

a program of the same form as (P): when (P) is feasible, M is its feasible
set (``P`` empty, ``z*_E = y_E``), so one method serves both cases. By the
KKT conditions of ``min ||w||^2`` over M, its minimiser is
``w* = X_Q^T lam + X_B^T mu`` with ``B`` the rows of ``R`` with a positive
multiplier (``<w*, x_i> = 0`` there). The gradient of the weighted least
squares on ``A = Q u B`` with targets ``b = y`` on ``E``, ``0`` on ``I``::

    min_w sum_{i in A} s_i (<w, x_i> - b_i)^2                                  (LS_A)

is ``grad F(w*) = 0`` at ``w*``, and ``w*`` lies in the row space of ``X_A``:
``w*`` is the minimum-norm solution of (LS_A). Finding ``A`` is the whole
difficulty; ``w*`` is then one least-squares solve.

Algorithm
---------
1. Interpolation attempt (``Q = E`` fitted to ``y_E`` without weights,
   ``R = I``). The minimum-norm least-squares solution ``w_0`` on ``Q`` and an
   orthonormal basis ``N`` of the null space of ``X_Q`` reduce the program to
   the least-distance program ``min ||v||^2`` s.t. ``X_R N v <= -X_R w_0``
   (``w = w_0 + N v``), which Lawson and Hanson's reduction to non-negative
   least squares (LDP -> NNLS, [1]_ ch. 23) solves exactly, finite by
   construction (``N`` enters only through the projector ``N N^T = I - V V^T``,
   ``V`` a basis of the row space of ``X_Q``); its passive set is ``B``. Then
   (LS_A).
   If the result satisfies (P) to ``sqrt(tol)`` (relative to ``max|y|``), done.
2. Otherwise a semismooth Newton method on F finds ``P``: with the active rows
   ``A_k = E u {i in I : z_i > 0}`` the step goes to the minimiser of the
   quadratic piece (LS_A_k) nearest to ``w_k`` (the pseudo-inverse Newton
   step), followed by an exact line search on F (F restricted to a line is a
   convex piecewise quadratic: sort its breakpoints). It stops, exactly
   optimal, when the Newton point's active set is ``A_k`` (then
   ``grad F = grad LS_A_k = 0`` there); F decreases monotonically.
3. Step 1 again on ``Q = E u P`` fitted, with weights, to ``b_Q``, and
   ``R = I \ P``: the minimum-norm point of M.

Guarantees: steps 1 and 3 are finite (Lawson-Hanson). The Newton directions
are gradient related (``-H^+ grad F`` with ``H`` from finitely many
matrices ``X_A^T S X_A``) and the line search is exact, so ``grad F -> 0``;
every Newton iteration that reaches its own piece terminates. In
non-degenerate problems (no row of ``I`` with ``z*_i = 0``) this happens
after a few iterations; in degenerate ones the Newton loop ends when F stops
decreasing, and step 3 (which only needs ``P``) still returns the minimum-norm
point. Rows of ``I`` with ``0 < z_i <= tol * max(|y|, |z|)`` at the end of
Newton are treated as ``R``.

Least squares
-------------
Dense X: the R factor of the weighted, augmented rows ``[S^{1/2} X_A,
S^{1/2} b_A]`` is accumulated over blocks of rows (each block stacked under
the running factor and re-factored by Householder QR, a sequential TSQR:
memory ``O(block d + d^2)``), then an SVD of the ``d x d`` factor gives rank
(cut-off ``eps max(|A|, d) sigma_max``, as :func:`numpy.linalg.lstsq`),
minimum-norm solution and null space. This is backward stable: errors of
order ``cond(X_A) eps`` (plus ``cond(X_A)^2 eps`` times the relative
residual, as for any stable least-squares solver), and invariant to column
scaling. Sparse X: the normal equations ``X_A^T S X_A`` (``d x d``, formed
by a sparse product) and an eigendecomposition, errors of order
``cond(X_A)^2 eps``; X is never densified beyond blocks of rows.

References
----------
.. [1] C. L. Lawson and R. J. Hanson, "Solving Least Squares Problems",
   Prentice-Hall, 1974 (SIAM reprint 1995), chapters 23 (NNLS, LDP).
"""

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from .._linalg import interruptible

_EPS = np.finfo(np.float64).eps
# Entries per dense block of rows (float64): bounds every temporary copy of X
# to about 4 MB, whatever n_samples.
_BLOCK_ENTRIES = 1 << 19


@dataclass
class PrimalMinNormSolution:
    """Result of :func:`solve_min_norm_primal`.

    Attributes
    ----------
    weights : ndarray of shape (n_features,)
        The minimum-norm solution ``w``.
    targets : ndarray of shape (n_samples,)
        ``y`` when ``interpolates``; otherwise the fitted values ``X w`` of the
        surrogate's minimum-norm minimiser (the values the equality rows are
        fitted to).
    equality : ndarray of shape (n_samples,), dtype bool
        Rows held with equality: ``y_i > 0`` when ``interpolates``, otherwise
        also the rows with ``y_i <= 0`` that the surrogate fits with a positive
        value. Rows with zero weight are never equality rows.
    n_iter : int
        Newton iterations plus Lawson-Hanson iterations (additions and
        removals), summed over the phases.
    interpolates : bool
        Whether the program is feasible (to ``sqrt(tol)``).
    kkt : float
        When ``interpolates``: the largest violation of the program's
        constraints, ``max(max_E |<w,x_i> - y_i|, max_I max(<w,x_i>, 0)) /
        max|y|`` over rows with positive weight. Otherwise: the relative
        stationarity of the surrogate, ``||X^T S r|| / (||S^{1/2} X||_F
        ||S^{1/2} r||)`` in ``[0, 1]``, with ``r_i = <w,x_i> - y_i`` on ``E``
        and ``max(<w,x_i>, 0)`` on ``I`` (``grad F = 2 X^T S r``). Neither
        measures minimality of the norm, which holds by construction.
    """

    weights: np.ndarray
    targets: np.ndarray
    equality: np.ndarray
    n_iter: int
    interpolates: bool
    kkt: float


def solve_min_norm_primal(X, y, *, sample_weight=None, tol=1e-12, max_iter=None):
    """Minimum-norm single-neuron solution on the weights (memory ``O(nd + d^2)``).

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features) or RowOperator
        Inputs: dense float64 or float32 (upcast block by block), or SciPy
        sparse (CSR or CSC; never densified beyond blocks of rows); or a
        :class:`RowOperator` of them, shared between calls on the same X
        (the two neuron groups).
    y : ndarray of shape (n_samples,)
        Targets.
    sample_weight : ndarray of shape (n_samples,), default=None
        Non-negative weights ``s`` of the surrogate; rows with zero weight are
        dropped. The interpolating program only depends on which are positive.
    tol : float, default=1e-12
        Relative tolerance of the sign decisions; feasibility is decided to
        ``sqrt(tol)`` relative to ``max|y|``.
    max_iter : int, default=None
        Cap on the iterations of each loop (Newton, Lawson-Hanson); default
        ``3 * (n_samples + n_features) + 100``.

    Returns
    -------
    PrimalMinNormSolution

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_relubias._reference._primal_qp import solve_min_norm_primal
    >>> rng = np.random.default_rng(0)
    >>> X, w = rng.standard_normal((1000, 5)), rng.standard_normal(5)
    >>> sol = solve_min_norm_primal(X, np.maximum(X @ w, 0.0))  # y = relu(X w)
    >>> sol.interpolates, bool(np.allclose(sol.weights, w))
    (True, True)
    """
    op = X if isinstance(X, RowOperator) else RowOperator(X)
    n, d = op.n, op.d
    y = np.asarray(y, dtype=np.float64).ravel()
    if y.shape[0] != n:
        raise ValueError(f"y has {y.shape[0]} entries, X has {n} rows.")
    if sample_weight is None:
        s = np.ones(n)
    else:
        s = np.asarray(sample_weight, dtype=np.float64).ravel()
        if s.shape[0] != n or not np.all(np.isfinite(s)) or np.any(s < 0):
            raise ValueError("sample_weight must be finite, non-negative, one per row of X.")
    keep = s > 0
    max_iter = 3 * (int(keep.sum()) + d) + 100 if max_iter is None else int(max_iter)
    pos = keep & (y > 0)
    E, Ineq = np.flatnonzero(pos), np.flatnonzero(keep & ~pos)
    b = np.where(pos, y, 0.0)
    sw = np.sqrt(s)
    ones = np.ones(n)
    y_scale = max(np.max(np.abs(y[keep]), initial=0.0), np.finfo(float).tiny)
    feas_tol = np.sqrt(tol) * y_scale

    # 1. interpolation attempt: unweighted, (P) only depends on which s_i > 0
    w, n_iter, _ = _face_min_norm(
        op, E, b[E], ones, Ineq, np.full(Ineq.size, tol * y_scale), tol, max_iter, feas_tol
    )
    z = op.dot(w)
    if _violation(z, y, E, Ineq) <= feas_tol:
        return _interpolating(w, z, y, pos, E, Ineq, y_scale, n_iter)

    # 2. semismooth Newton on the surrogate: which rows of I it fits (P)
    w_newton, z_newton, it = _newton(op, E, Ineq, b, s, sw, max_iter)
    n_iter += it
    tau = tol * max(y_scale, np.max(np.abs(z_newton[keep]), initial=0.0))
    above = z_newton[Ineq] > tau
    P, R = Ineq[above], Ineq[~above]
    Q = np.concatenate([E, P])

    # 3. minimum-norm point of the minimiser set {X_Q w = z*_Q, X_R w <= 0}
    delta = np.maximum(z_newton[R], 0.0) + tau
    w, it, ok = _face_min_norm(op, Q, b[Q], sw, R, delta, tol, max_iter, None)
    n_iter += it
    z = op.dot(w)
    if not ok or _surrogate(z, b, s, E, Ineq) > _surrogate(z_newton, b, s, E, Ineq) * (
        1 + np.sqrt(tol)
    ) + _EPS * np.sum(s * b * b):
        w, z = w_newton, z_newton  # safeguard against a failed identification
    if _violation(z, y, E, Ineq) <= feas_tol:
        return _interpolating(w, z, y, pos, E, Ineq, y_scale, n_iter)
    equality = np.zeros(n, dtype=bool)
    equality[Q] = True
    r = np.zeros(n)
    r[E] = z[E] - y[E]
    r[Ineq] = np.maximum(z[Ineq], 0.0)
    grad = op.rdot(s * r)
    denom = np.sqrt(np.dot(s, op.row_sq_norms()) * np.dot(s, r * r))
    kkt = float(np.linalg.norm(grad) / denom) if denom > 0 else 0.0
    return PrimalMinNormSolution(w, z, equality, int(n_iter), False, kkt)


def _interpolating(w, z, y, pos, E, Ineq, y_scale, n_iter):
    """Solution record of a feasible program."""
    kkt = float(_violation(z, y, E, Ineq) / y_scale)
    return PrimalMinNormSolution(w, y.copy(), pos.copy(), int(n_iter), True, kkt)


def _violation(z, y, E, Ineq):
    """Largest absolute violation of (P) by the fitted values ``z``."""
    return max(
        np.max(np.abs(z[E] - y[E]), initial=0.0), np.max(np.maximum(z[Ineq], 0.0), initial=0.0)
    )


def _surrogate(z, b, s, E, Ineq):
    """F as a function of the fitted values ``z``."""
    return float(np.dot(s[E], (z[E] - b[E]) ** 2) + np.dot(s[Ineq], np.maximum(z[Ineq], 0.0) ** 2))


class RowOperator:
    """Products with X and dense blocks of its rows, in float64 with bounded temporaries.

    Built once per X and shared by the programs solved on it (its row norms
    are cached).
    """

    def __init__(self, X):
        if sparse.issparse(X):
            self.X = X.tocsr().astype(np.float64, copy=False)
            self.sparse = True
        else:
            X = np.asarray(X)
            if X.dtype not in (np.float64, np.float32):
                X = X.astype(np.float64)
            self.X = X
            self.sparse = False
        if self.X.ndim != 2:
            raise ValueError("X must be two-dimensional.")
        self.n, self.d = self.X.shape
        self.block = max(_BLOCK_ENTRIES // (self.d + 1), 2 * (self.d + 1))
        self._sq_norms = None

    def _row_blocks(self, n_rows):
        for start in range(0, n_rows, self.block):
            yield slice(start, min(start + self.block, n_rows))

    def rows(self, idx):
        """Dense float64 copy of ``X[idx]``."""
        if self.sparse:
            return self.X[idx].toarray()
        return self.X[idx].astype(np.float64, copy=False)

    def dot(self, w):
        """``X @ w``, shape (n_samples,)."""
        if self.sparse or self.X.dtype == np.float64:
            return np.asarray(self.X @ w, dtype=np.float64)
        out = np.empty(self.n)
        for sl in self._row_blocks(self.n):
            out[sl] = self.X[sl].astype(np.float64) @ w
        return out

    def rdot(self, v):
        """``X^T @ v``, shape (n_features,)."""
        if self.sparse or self.X.dtype == np.float64:
            return np.asarray(self.X.T @ v, dtype=np.float64)
        out = np.zeros(self.d)
        for sl in self._row_blocks(self.n):
            out += v[sl] @ self.X[sl].astype(np.float64)
        return out

    def row_sq_norms(self):
        """``||x_i||^2`` for every row (cached)."""
        if self._sq_norms is None:
            if self.sparse:
                self._sq_norms = np.asarray(self.X.multiply(self.X).sum(axis=1)).ravel()
            else:
                out = np.empty(self.n)
                for sl in self._row_blocks(self.n):
                    block = self.X[sl].astype(np.float64)
                    out[sl] = np.einsum("ij,ij->i", block, block)
                self._sq_norms = out
        return self._sq_norms

    def projected_rows(self, idx, V):
        """Rows ``X[idx]`` projected off the span of ``V``, block by block.

        Yields (slice into idx, block of ``x_i - V V^T x_i``); ``V`` has
        orthonormal columns.
        """
        for sl in self._row_blocks(idx.size):
            block = self.rows(idx[sl])
            yield sl, block - (block @ V) @ V.T

    def reduce(self, idx, sw, b):
        """Small ``(Rd, q)`` with ``||diag(sw)(X[idx] w - b)||^2 = ||Rd w - q||^2 + const``.

        Dense: Householder R factor of ``[diag(sw) X[idx], sw * b]`` accumulated over
        blocks of rows. Sparse: from the eigendecomposition of the normal equations.
        """
        d = self.d
        if self.sparse:
            Xa = sparse.diags(sw) @ self.X[idx]
            H = (Xa.T @ Xa).toarray()
            g = np.asarray(Xa.T @ (sw * b)).ravel()
            # Jacobi scaling H = D H' D: errors then grow with the condition
            # number of the column-equilibrated X, not with column scales
            col = np.sqrt(np.diag(H))
            col[col == 0] = 1.0
            lam, V = interruptible(np.linalg.eigh, H / np.outer(col, col), flops=10.0 * d**3)
            cut = _EPS * max(idx.size, d) * max(lam[-1], 0.0)
            big = lam > cut
            root = np.sqrt(lam[big])
            Vb = V[:, big]
            return (root[:, None] * Vb.T) * col, (Vb.T @ (g / col)) / root
        R = np.zeros((0, d + 1))
        for sl in self._row_blocks(idx.size):
            block = np.empty((sl.stop - sl.start, d + 1))
            block[:, :d] = self.X[idx[sl]]
            block[:, d] = b[sl]
            block *= sw[sl, None]
            stacked = np.vstack([R, block])
            R = interruptible(np.linalg.qr, stacked, "r", flops=4.0 * stacked.shape[0] * d**2)
        return R[:, :d], R[:, d]


def _min_norm_lstsq(op, idx, sw, b):
    """Minimum-norm minimiser of ``||diag(sw)(X[idx] w - b)||`` and a row-space basis.

    Returns ``(w, V)`` with ``V`` of shape (n_features, rank), orthonormal
    columns spanning the row space of ``X[idx]`` (the numerical rank, cut at
    ``eps max(len(idx), n_features) sigma_max``).
    """
    d = op.d
    if idx.size == 0:
        return np.zeros(d), np.zeros((d, 0))
    Rd, q = op.reduce(idx, sw, b)
    if Rd.shape[0] == 0:
        return np.zeros(d), np.zeros((d, 0))
    U, sig, Vt = interruptible(np.linalg.svd, Rd, False, flops=12.0 * Rd.shape[0] * d**2)
    rank = int(np.count_nonzero(sig > _EPS * max(idx.size, d) * sig[0]))
    w = Vt[:rank].T @ ((U[:, :rank].T @ q) / sig[:rank])
    return w, Vt[:rank].T


def _face_min_norm(op, Q, bQ, sw, R, delta, tol, max_iter, consistency_tol):
    """Minimum-norm ``w`` among the least-squares minimisers on ``Q`` with ``X_R w <= delta``.

    ``sw`` holds square roots of weights indexed by row. With ``w_0`` the
    minimum-norm least-squares solution on ``Q`` and ``Pi = I - V V^T`` the
    projector onto the null space of ``X_Q``, ``w = w_0 + Pi v`` and ``v``
    solves the least-distance program ``min ||v||`` s.t.
    ``-X_R Pi v >= X_R w_0 - delta`` (its solution lies in the range of
    ``Pi``), solved by Lawson and Hanson's NNLS on ``n_features + 1`` rows;
    the constraints with a positive multiplier ``B`` then give ``w`` as the
    minimum-norm least-squares solution on ``Q u B`` (targets 0 on ``B``).

    Returns ``(w, n_iter, ok)``; ``ok`` is False when the rows of ``Q`` are
    inconsistent beyond ``consistency_tol`` (when given) or the
    least-distance program is infeasible.
    """
    w0, V = _min_norm_lstsq(op, Q, sw[Q], bQ)
    if consistency_tol is not None and Q.size:
        if np.max(np.abs(op.dot(w0)[Q] - bQ)) > consistency_tol:
            return w0, 0, False
    d = op.d
    if V.shape[1] == d or R.size == 0:
        return w0, 0, True
    # constraint j: g_j^T v >= h_j with g_j = -Pi x_j, h_j = x_j^T w0 - delta_j,
    # normalised by nu_j = ||Pi x_j||; rows with nu_j ~ 0 are fixed by Q (w0 decides them)
    nu = np.empty(R.size)
    for sl, G in op.projected_rows(R, V):
        nu[sl] = np.linalg.norm(G, axis=1)
    movable = nu > np.sqrt(_EPS) * np.sqrt(op.row_sq_norms()[R])
    J, nu = R[movable], nu[movable]
    h = (op.dot(w0)[J] - delta[movable]) / nu
    if J.size == 0 or np.max(h) <= 0:
        return w0, 0, True
    h /= np.max(h)  # least distance is homogeneous in h: the most violated has h = 1
    passive, u, n_iter = _nnls_ldp(op, J, V, nu, h, tol, max_iter)
    C = _ldp_columns(op, J[passive], V, nu[passive], h[passive])
    residual = np.concatenate([np.zeros(d), [1.0]]) - C @ u
    if np.linalg.norm(residual) <= np.sqrt(_EPS):  # f in the cone of the columns: infeasible
        return w0, n_iter, False
    B = J[passive]
    A = np.concatenate([Q, B])
    w, _ = _min_norm_lstsq(op, A, sw[A], np.concatenate([bQ, np.zeros(B.size)]))
    return w, n_iter, True


def _ldp_columns(op, rows, V, nu, h):
    """Columns ``(-Pi x_j / nu_j, h_j)`` of the NNLS matrix, shape (n_features + 1, len(rows))."""
    if rows.size == 0:
        return np.zeros((op.d + 1, 0))
    _, G = next(op.projected_rows(rows, V))
    return np.vstack([-G.T / nu, h[None, :]])


def _nnls_ldp(op, J, V, nu, h, tol, max_iter):
    """Lawson-Hanson NNLS ``min_{u >= 0} ||C u - f||``, ``f = e_{d+1}``, columns of C implicit.

    Column ``j`` is ``(-Pi x_j / nu_j, h_j)`` with ``Pi = I - V V^T``;
    ``C^T r`` costs one product with X. Returns the passive set (indices into
    ``J``), the positive coefficients on it and the number of iterations.
    """
    k = op.d
    f = np.zeros(k + 1)
    f[k] = 1.0
    passive = []
    u = np.zeros(0)
    C = np.zeros((k + 1, 0))
    in_passive = np.zeros(J.size, dtype=bool)
    r = f.copy()
    n_iter = 0
    while n_iter < max_iter:
        t = r[:k] - V @ (V.T @ r[:k])
        grad = -op.dot(t)[J] / nu + h * r[k]
        grad[in_passive] = -np.inf
        j = int(np.argmax(grad))
        if not grad[j] > tol:
            break
        n_iter += 1
        C_try = np.hstack([C, _ldp_columns(op, J[[j]], V, nu[[j]], h[[j]])])
        z = np.linalg.lstsq(C_try, f, rcond=None)[0]
        if z[-1] <= 0.0:  # no descent along j in floating point: optimal to rounding
            break
        passive.append(j)
        in_passive[j] = True
        C, u = C_try, np.append(u, 0.0)
        while np.min(z) <= 0.0 and n_iter < max_iter:
            n_iter += 1
            neg = z <= 0.0
            ratio = u[neg] / (u[neg] - z[neg])
            u = u + np.min(ratio) * (z - u)
            drop = u <= 0.0
            drop[np.flatnonzero(neg)[np.argmin(ratio)]] = True
            for i in np.flatnonzero(drop):
                in_passive[passive[i]] = False
            passive = [p for p, dropped in zip(passive, drop, strict=True) if not dropped]
            C, u = C[:, ~drop], u[~drop]
            z = np.linalg.lstsq(C, f, rcond=None)[0]
        u = z
        r = f - C @ u
    return np.asarray(passive, dtype=np.intp), u, n_iter


def _newton(op, E, Ineq, b, s, sw, max_iter):
    """Semismooth Newton with exact line search on F, from ``w = 0``.

    Returns ``(w, X w, n_iter)``.
    """
    w = np.zeros(op.d)
    z = np.zeros(op.n)
    value = _surrogate(z, b, s, E, Ineq)
    n_iter = 0
    while n_iter < max_iter and value > 0.0:
        n_iter += 1
        on = Ineq[z[Ineq] > 0.0]
        A = np.concatenate([E, on])
        w_ls, V = _min_norm_lstsq(op, A, sw[A], b[A])
        w_new = w_ls + (w - V @ (V.T @ w))  # minimiser of the piece nearest to w
        z_new = op.dot(w_new)
        if np.array_equal(Ineq[z_new[Ineq] > 0.0], on):  # the Newton point is in its own piece
            return w_new, z_new, n_iter
        alpha = _line_search(z, z_new - z, b, s, E, Ineq)
        if not alpha > 0.0:
            break
        w = w + alpha * (w_new - w)
        z = op.dot(w)
        new_value = _surrogate(z, b, s, E, Ineq)
        if not new_value < value:  # no progress left in floating point
            break
        value = new_value
    return w, z, n_iter


def _line_search(z, dz, b, s, E, Ineq):
    """Exact minimiser over ``alpha >= 0`` of ``F(z + alpha dz)`` (F of the fitted values).

    ``F'(alpha) / 2 = a alpha + c`` between consecutive kinks of the rows of I;
    sweep the sorted kinks to the first sign change of this non-decreasing
    piecewise linear function.
    """
    zE, dE, sE = z[E] - b[E], dz[E], s[E]
    zI, dI, sI = z[Ineq], dz[Ineq], s[Ineq]
    on = (zI > 0.0) | ((zI == 0.0) & (dI > 0.0))
    a = np.dot(sE, dE * dE) + np.dot(sI[on], dI[on] ** 2)
    c = np.dot(sE, zE * dE) + np.dot(sI[on], zI[on] * dI[on])
    if not c < 0.0:
        return 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        kink = -zI / dI
    cross = (dI != 0.0) & (kink > 0.0)  # rows switching on (dI > 0) or off (dI < 0)
    order = np.argsort(kink[cross], kind="stable")
    t = kink[cross][order]
    sign = np.where(dI[cross] > 0.0, 1.0, -1.0)[order]
    slope = a + np.concatenate([[0.0], np.cumsum(sign * (sI * dI * dI)[cross][order])])
    offset = c + np.concatenate([[0.0], np.cumsum(sign * (sI * zI * dI)[cross][order])])
    slope = np.maximum(slope, 0.0)
    start = np.concatenate([[0.0], t])
    end_value = slope[:-1] * t + offset[:-1]
    hit = np.flatnonzero(end_value >= 0.0)
    seg = int(hit[0]) if hit.size else t.size
    if slope[seg] <= 0.0:
        return float(start[seg])
    alpha = -offset[seg] / slope[seg]
    stop = t[seg] if seg < t.size else np.inf
    return float(min(max(alpha, start[seg]), stop))
