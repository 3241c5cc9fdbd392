r"""Exact single-neuron minimum-norm solver in the dual, for ``n_samples < n_features``.

The program, for targets ``y`` with ``E = {i : y_i > 0}`` and ``I = {i : y_i <= 0}``::

    min ||w||^2  s.t.  <w, x_i> = y_i (i in E),  <w, x_i> <= 0 (i in I).       (P)

With ``w = X^T c`` its dual is the bound-constrained quadratic program::

    min_c 1/2 c^T K c - b^T c  s.t.  c_i <= 0 (i in I),   b = max(y, 0),  K = X X^T,

solved by a primal-dual active-set method (Hintermueller, Ito and Kunisch,
2002), each iteration an exact linear solve on the free block. It stops when
its active set repeats itself unchanged, and the KKT conditions then hold
exactly up to rounding; if it cycles, the classical Lawson-Hanson active-set
method, finite by construction, takes over.

Accuracy: a factor of X, not K
------------------------------
Rounding ``K`` costs ``eps ||X||^2``, so a solve on ``K`` has errors of order
``cond(K) eps = cond(X)^2 eps``. :class:`DualFactor` picks, once per X (the
targets ``y`` and ``-y`` share it), one of three routes:

``"gram"``
    ``cond(K) <= GRAM_COND_LIMIT = 1e4`` (``cond(X) <= 100``), read off
    ``numpy.linalg.eigvalsh(K)`` (exact to ``n eps cond(K)`` there): the
    free-block solves use ``K`` itself and ``w = X^T c``, with relative
    errors of order ``cond(K) eps <= 100 cond(X) eps`` (principal blocks of
    ``K`` are no worse conditioned than ``K``). This is the route of the
    paper's regime (``d >> n``, ``cond(K)`` close to 1) and costs nothing
    beyond ``K``, which gradient descent shares.
Singular or ill-conditioned ``K`` (``cond(K) > 1e4``, e.g. X centred by
``StandardScaler`` with ``d > n``, which has rank ``n - 1``, or a row that is a
multiple of another) is first tried on the ``"gram"`` route all the same: the
active-set method only solves on the free block ``K_FF`` (``F`` the rows held
with equality or a nonzero multiplier), which is often well conditioned when
``K`` is not (the null vector of a centred X involves every row). The
attempt is kept when ``cond(K_FF) <= 1e4`` and its KKT residual, measured on
the original program, is at the level of the ``"gram"`` route
(``100 GRAM_COND_LIMIT eps``); otherwise X is factored once (below, shared by
both neuron groups) and the program solved on the factor.

``"factor"``
    Otherwise, a Householder QR ``X^T = Q R`` (:class:`_RowSpaceQR`: columns
    of X sorted by decreasing norm, accumulated over blocks of columns,
    ``Q`` never stored). ``L = R^T`` (``n x n``) satisfies ``X = L Q^T``, so
    (P) in the coordinates ``v = Q^T w`` is (P) with X replaced by ``L``; each
    free-block solve is a QR of ``L_F^T = Q_F R_F``: ``v = Q_F R_F^{-T}
    b_F``, ``c_F = R_F^{-1} R_F^{-T} b_F``, fitted values ``L v``; finally
    ``w = Q v``. Backward stable in X: errors of order ``cond(X) eps``, and
    small residuals ``X w - y`` even when a few columns of X are huge.
    ``X^T c`` reproduces ``w`` only to ``cond(X) eps ||w||`` normwise: in
    floating point, ``X^T c`` cannot represent a tiny weight on a huge column,
    whose product with that column then misses ``y`` by ``cond(X)^2 eps``.
``"deficient"``
    X is numerically rank deficient: a singular value of ``R`` is at most
    ``RANK_RTOL * max(n, d) * sigma_max`` with ``RANK_RTOL = eps`` (the cut
    of :func:`numpy.linalg.matrix_rank`; below it a perturbation of X is
    indistinguishable from the rounding of its factor). Dependent rows
    (duplicates, ``n > d``) can make (P) infeasible. With the SVD
    ``R^T = U S V^T`` truncated to rank ``r``, ``F = U_r S_r`` (``n x r``)
    represents X in the orthonormal basis ``Q V_r`` of its row space, and
    :func:`~sklearn_relubias._primal_qp.solve_min_norm_primal` solves (P) or,
    if infeasible, finds the minimum-norm minimiser of the surrogate
    ``sum_{i in E} (<w,x_i> - y_i)^2 + sum_{i in I} max(<w,x_i>, 0)^2``,
    exactly, on those ``r <= n`` weights ``v`` (``O(n r^2)`` per step); then
    ``w = Q V_r v``. With sample weights, the surrogate is weighted (the
    program itself does not depend on them). No ridge, no bias. The SVD
    mixes the rows of ``R``, so this route is backward stable normwise only
    (residuals up to ``d eps ||X|| ||w||``), not row by row. The multipliers
    of a rank-deficient X are not unique; valid ones (``c_i <= 0`` on the
    inequality rows, zero off the kink) are found by non-negative least
    squares on ``F^T c = v`` (:func:`_multipliers`), so that the KKT residual
    checks a real certificate.

Given only ``K`` (no X), nothing better than ``K`` is available: the
``"gram"`` route is taken whenever ``K`` has full numerical rank (eigenvalues
above ``10 n eps lambda_max``, the level of ``K``'s own rounding), and the
``"deficient"`` one with ``F`` from ``numpy.linalg.eigh(K)`` otherwise; no
weights are returned.

Residuals
---------
Every solution is measured on the original program at the returned ``w``,
from its fitted values ``X w`` (a product with X, never the solver's own
targets): :func:`kkt_residual` (feasibility ``|<w,x_i> - y_i|`` on E and
``max(<w,x_i>, 0)`` on I, multiplier signs, complementarity, stationarity
``w = X^T c`` as a backward error) and, when (P) is infeasible,
:func:`surrogate_stationarity` (``||X^T r|| / (||X||_F ||r||)``, the
surrogate's optimality) and the constraint violation of (P), reported
separately.

Cost: ``"gram"``, one ``eigvalsh(K)`` (``O(n^3)``) and ``O(n^3)`` per
active-set iteration; ``"factor"`` and ``"deficient"`` add two Householder
passes over X (``O(n^2 d)`` flops, dense even for sparse X, whose non-zero
columns are densified one block at a time) plus one pass per weight vector,
and ``O(n^3)`` per iteration. NumPy's LAPACK is used throughout, the library
that also forms the Gram matrix: alternating between NumPy's and SciPy's BLAS
thread pools costs milliseconds per switch on a small machine.
"""

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import nnls

from .._linalg import Spectrum, interruptible, pre_activations, row_norms_sq, span
from .._memory import MemoryPlan
from ._primal_qp import _BLOCK_ENTRIES, solve_min_norm_primal

_EPS = np.finfo(np.float64).eps
GRAM_COND_LIMIT = 1e4
RANK_RTOL = _EPS


@dataclass
class MinNormSolution:
    """Result of :func:`solve_min_norm` for one neuron group.

    Attributes
    ----------
    coef : ndarray of shape (n_samples,)
        Dual coefficients ``c`` with ``w = X^T c`` (to ``cond(X) eps``
        relative, see the module notes).
    weights : ndarray of shape (n_features,) or None
        The solution ``w``; None when X was not given.
    targets : ndarray of shape (n_samples,)
        Values the equality rows are fitted to (``y`` when the program is
        feasible, the surrogate minimiser's fitted values ``X w`` otherwise).
    equality : ndarray of shape (n_samples,), dtype bool
        Rows held with equality; the others satisfy ``<w, x_i> <= 0``.
    n_iter : int
        Active-set iterations.
    interpolates : bool
        Whether the original program is feasible: always when X has full
        numerical row rank; otherwise decided to ``sqrt(tol)`` relative to
        ``max|y|``.
    kkt : float
        When ``interpolates``: :func:`kkt_residual` of the program at
        ``(w, c)``. Otherwise: :func:`surrogate_stationarity`, the optimality
        of the surrogate (the program has no solution).
    violation : float
        Largest violation of the program's constraints by ``X w``, relative
        to ``max|y|`` (part of ``kkt`` when ``interpolates``; the distance
        from interpolation otherwise).
    route : str
        ``"gram"``, ``"factor"`` or ``"deficient"`` (see the module notes).
    """

    coef: np.ndarray
    weights: np.ndarray | None
    targets: np.ndarray
    equality: np.ndarray
    n_iter: int
    interpolates: bool
    kkt: float
    violation: float
    route: str


class DualFactor:
    """How the dual is solved for one X: the route and its factor (module notes).

    Parameters
    ----------
    K : ndarray of shape (n_samples, n_samples)
        Gram matrix ``X X^T`` (shared with gradient descent when available).
    X : {ndarray, sparse matrix} of shape (n_samples, n_features), default=None
        Inputs. Without them only ``K`` is used, with its ``cond(X)^2``
        accuracy.
    spectrum : Spectrum, default=None
        ``K``'s eigenvalues, shared with the step size of gradient descent
        (computed here when None).
    memory : MemoryPlan, default=None
        The fit's memory plan; the factor route adds its blocks to it and
        checks them before its QR (a fresh plan when None).

    Attributes
    ----------
    route : str
        ``"gram"``, ``"factor"`` or ``"deficient"``; ``"guarded"`` until a
        program on a singular or ill-conditioned ``K`` has tried the Gram
        route (:meth:`factorise` then picks one of the other two).
    cond : float
        ``cond(K)`` from its eigenvalues (``inf`` when not positive).
    rank : int
        Numerical rank of X (``n_samples`` unless ``"deficient"``).
    """

    def __init__(self, K, X=None, *, spectrum=None, memory=None):
        self.K, self.X = K, X
        self.memory = MemoryPlan() if memory is None else memory
        n = K.shape[0]
        lam = (Spectrum(K) if spectrum is None else spectrum).eigenvalues()
        self.cond = float(lam[-1] / lam[0]) if lam[0] > 0 else np.inf
        self.rank = n
        self.system = self.qr = None
        if self.cond <= GRAM_COND_LIMIT:
            self.route = "gram"
            return
        if X is None:
            if lam[0] > 10 * n * _EPS * lam[-1]:
                self.route = "gram"
                return
            lam, V = np.linalg.eigh(K)
            s = np.sqrt(np.maximum(lam[::-1], 0.0))
            self._deficient(V[:, ::-1], s, None, s * s > 10 * n * _EPS * lam[-1])
            return
        self.route = "guarded"  # the Gram route first, X factored only if it fails

    def factorise(self):
        """Factor X (``"factor"`` or ``"deficient"`` route), once, after its memory is checked."""
        if self.route in ("factor", "deficient"):
            return
        X, n = self.X, self.K.shape[0]
        n_features = X.shape[1]
        width = _RowSpaceQR.block_width(n)
        blocks = -(-n_features // width)
        self.memory.require(  # K, the kept factors and 4 stacked blocks (QR's two copies; case 9)
            8 * n * (4 * (n + min(width, n_features)) + n * (blocks + 2)),
            f"The minimum-norm program's factorisation of X^T ({n_features} x {n}, by blocks; "
            f"X is ill-conditioned, cond(X X^T) = {self.cond:.1e})",
            "subsample the rows, or standardise X so that cond(X X^T) <= 1e4.",
        )
        self.qr = _RowSpaceQR(X)
        R = self.qr.R  # X = R^T Q^T
        s = interruptible(np.linalg.svd, R, False, False, flops=4.0 * n**3)
        keep = s > RANK_RTOL * max(X.shape) * (s[0] if s.size else 0.0)
        if np.count_nonzero(keep) == n:
            self.route = "factor"
            self.system = _FactorSystem(R.T)
            return
        if keep.any():
            U, s, Vt = interruptible(np.linalg.svd, R.T, False, flops=12.0 * n**3)
        else:
            U, Vt = np.zeros((n, s.size)), np.zeros((s.size, s.size))
        self._deficient(U, s, Vt, keep)

    def _deficient(self, U, s, Vt, keep):
        r = int(np.count_nonzero(keep))
        self.route = "deficient"
        self.rank = r
        self.U, self.s = U[:, :r], s[:r]
        self.V = None if Vt is None else Vt[:r].T
        self.F = self.U * self.s  # F F^T = K to rounding, F of full column rank

    def solver(self):
        """Return the free-block solver of the active-set method (not for ``"deficient"``)."""
        return _GramSystem(self.K) if self.system is None else self.system


def solve_min_norm(y, K, *, X=None, factor=None, tol=1e-12, max_iter=None, sample_weight=None):
    """Minimum-norm single-neuron solution for targets ``y``.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Targets.
    K : ndarray of shape (n_samples, n_samples)
        Gram matrix ``X X^T``.
    X : {ndarray, sparse matrix} of shape (n_samples, n_features), default=None
        Inputs. When given, ill-conditioned problems are solved through a
        factor of X (accuracy ``cond(X) eps``), the weights are returned and
        the residuals are measured with products by X; without them,
        everything comes from ``K`` (accuracy ``cond(X)^2 eps``).
    factor : DualFactor, default=None
        ``DualFactor(K, X)``, to share between calls on the same X (then
        ``X`` is taken from it).
    tol : float, default=1e-12
        Relative tolerance for the sign decisions; feasibility of a
        rank-deficient program is decided to ``sqrt(tol)``.
    max_iter : int, default=None
        Active-set iteration cap (default ``10 * n_samples + 10``).
    sample_weight : ndarray of shape (n_samples,), default=None
        Positive weights of the surrogate of an infeasible program (the
        program itself does not depend on them).

    Returns
    -------
    MinNormSolution
    """
    y = np.asarray(y, dtype=np.float64)
    if factor is None:
        factor = DualFactor(K, X)
    n = y.shape[0]
    max_iter = 10 * n + 10 if max_iter is None else max_iter
    if factor.route == "guarded":
        sol = _guarded_gram(factor, y, tol, max_iter)
        if sol is not None:
            return sol
        factor.factorise()
    K, X = factor.K, factor.X
    pos = y > 0
    b = np.where(pos, y, 0.0)
    if factor.route == "deficient":
        coef, coords, equality, n_iter, interpolates = _solve_deficient(
            factor, y, tol, max_iter, sample_weight
        )
    else:
        system = factor.solver()
        coef, n_iter = _bounded_dual(system, b, ~pos, tol, max_iter)
        equality, interpolates = pos, True  # full row rank: (P) is feasible
        # the weights' coordinates from the final free block's triangular
        # solves, accurate even where X^T c is not (module notes)
        coords = system.coords(b, pos | (coef < 0)) if factor.route == "factor" else None
    if X is None:
        weights, fitted = None, K @ coef
    else:
        if factor.route == "gram":
            weights = span(coef[:, None], X)[0]
        else:
            weights = factor.qr.apply_q(coords)
        fitted = pre_activations(X, weights[None])[:, 0]
    return _solution(
        factor, y, coef, weights, fitted, equality, n_iter, interpolates, tol, coords, sample_weight
    )


def _solution(
    factor, y, coef, weights, fitted, equality, n_iter, interpolates, tol, coords, sample_weight
):
    """Build the :class:`MinNormSolution`, its residuals measured on the original program."""
    K, X = factor.K, factor.X
    violation = _violation(y, fitted)
    if not interpolates:
        kkt = surrogate_stationarity(y, fitted, K=K, X=X, sample_weight=sample_weight)
        sol = (coef, weights, fitted, equality, n_iter, False, kkt, violation, factor.route)
        return MinNormSolution(*sol)
    stationarity = None
    if factor.route == "deficient":  # valid multipliers of the rank-deficient program
        coef, stationarity = _multipliers(factor, y, fitted, coords, tol)
    elif X is not None and factor.route != "gram":  # w = X^T c only to rounding
        stationarity = _stationarity(weights, coef, X, K)
    kkt = kkt_residual(y, fitted, coef, stationarity=stationarity)
    sol = (coef, weights, y.copy(), y > 0, n_iter, True, kkt, violation, factor.route)
    return MinNormSolution(*sol)


# KKT residual up to which a Gram-route attempt on a singular or ill-conditioned
# K is kept: the accuracy of the Gram route itself, cond(K_FF) eps <= 1e4 eps,
# with a margin of 100.
GUARDED_KKT = 100 * GRAM_COND_LIMIT * _EPS


def _guarded_gram(factor, y, tol, max_iter):
    """Try the Gram route on a singular or ill-conditioned K; None where it cannot be trusted.

    Kept when the final free block ``K_FF`` is well conditioned
    (``cond <= GRAM_COND_LIMIT``) and the KKT residual, measured on the
    original program with products by X, is at most :data:`GUARDED_KKT`.
    """
    K, X = factor.K, factor.X
    pos = y > 0
    b = np.where(pos, y, 0.0)
    with np.errstate(all="ignore"):
        try:
            coef, n_iter = _bounded_dual(_GramSystem(K), b, ~pos, tol, max_iter)
        except np.linalg.LinAlgError:  # a singular free block
            return None
        if not np.all(np.isfinite(coef)):
            return None
        free = np.flatnonzero(pos | (coef < 0))
        block = K[np.ix_(free, free)]
        lam = interruptible(np.linalg.eigvalsh, block, flops=4.0 * free.size**3)
        lam = lam if free.size else np.ones(1)
    if not (lam[0] > 0 and lam[-1] <= GRAM_COND_LIMIT * lam[0]):
        return None
    weights = span(coef[:, None], X)[0]
    fitted = pre_activations(X, weights[None])[:, 0]
    kkt = kkt_residual(y, fitted, coef)
    if not kkt <= GUARDED_KKT:
        return None
    violation = _violation(y, fitted)
    return MinNormSolution(coef, weights, y.copy(), pos, n_iter, True, kkt, violation, "gram")


def _solve_deficient(factor, y, tol, max_iter, sample_weight=None):
    """(P), or the surrogate's minimum-norm minimiser, on the weights of ``F = U_r S_r``.

    Returns ``(c, coordinates of w in Q V_r, equality rows, n_iter,
    interpolates)``; ``c`` are the minimum-norm coefficients (``X^T c = w``),
    replaced by valid multipliers when (P) is feasible (:func:`_solution`).
    """
    n = y.shape[0]
    if factor.rank == 0:  # X = 0: w = 0, feasible iff no positive target
        coords = None if factor.V is None else np.zeros(factor.V.shape[0])
        return np.zeros(n), coords, y > 0, 0, not np.any(y > 0)
    sol = solve_min_norm_primal(
        factor.F, y, sample_weight=sample_weight, tol=tol, max_iter=max_iter
    )
    coef = factor.U @ (sol.weights / factor.s)  # X^T c = w: c in the row space
    coords = sol.weights if factor.V is None else factor.V @ sol.weights
    factor.last_weights = sol.weights  # in F's coordinates, for the multipliers
    equality = y > 0 if sol.interpolates else sol.equality
    return coef, coords, equality, sol.n_iter, sol.interpolates


def _multipliers(factor, y, fitted, coords, tol):
    """Find valid KKT multipliers of (P) on the rank-deficient route, and their residual.

    In the coordinates of ``F = U_r S_r`` (rows of X in an orthonormal basis
    of its row space) the solution is ``v`` and stationarity reads
    ``F^T c = v`` with ``c_i`` free on ``E = {y_i > 0}``, ``c_i <= 0`` on the
    inequality rows on the kink (``|<w, x_i>| <= sqrt(tol) max|y|``) and
    ``c_i = 0`` on the others. ``c_E`` is eliminated by projecting off the
    span of ``F_E^T``, and ``-c`` on the kink rows is the non-negative least
    squares solution (:func:`scipy.optimize.nnls`). Returns ``(c,
    stationarity)`` with the backward error ``||F^T c - v|| / (||v|| +
    ||F||_F ||c||)``, which is ~eps exactly when such multipliers exist.
    """
    F, v = factor.F, factor.last_weights
    n = y.shape[0]
    pos = y > 0
    y_scale = max(np.max(np.abs(y), initial=0.0), np.finfo(float).tiny)
    kink = np.flatnonzero(~pos & (np.abs(fitted) <= np.sqrt(tol) * y_scale))
    E = np.flatnonzero(pos)
    basis = np.zeros((F.shape[1], 0))
    if E.size:
        U, sig, _ = np.linalg.svd(F[E].T, full_matrices=False)
        basis = U[:, sig > _EPS * max(F.shape) * (sig[0] if sig.size else 0.0)]

    def project(M):  # off the span of F_E^T
        return M - basis @ (basis.T @ M)

    c = np.zeros(n)
    if kink.size:
        u, _ = nnls(project(-F[kink].T), project(v), maxiter=50 * (kink.size + 10))
        c[kink] = -u
    if E.size:
        c[E] = np.linalg.lstsq(F[E].T, v - F[kink].T @ c[kink], rcond=None)[0]
    residual = np.linalg.norm(F.T @ c - v)
    denom = np.linalg.norm(v) + np.linalg.norm(F) * np.linalg.norm(c)
    return c, float(residual / denom) if denom > 0 else 0.0


class _RowSpaceQR:
    """Householder QR ``X^T = Q R`` over blocks of columns of X, ``Q`` applied, never stored.

    Columns of X (rows of ``X^T``) are taken by decreasing norm, which makes
    Householder QR accurate row by row of ``X^T`` (Cox and Higham, 1998):
    a few huge columns do not swamp the others. Each block, transposed, is
    stacked under the running factor and re-factored (sequential TSQR). The
    running factors are kept (``p x n`` each, ``p <= n``), so that ``Q t``
    re-factors the blocks from the last to the first. Blocks hold at least
    ``8 n`` columns, so the kept factors take at most an eighth of X's float64
    size; a block takes ``max(4 MB, 9 n^2 * 8 B)``. All-zero columns are
    skipped (their weight is 0). Sparse X is densified one block at a time.

    Attributes
    ----------
    R : ndarray of shape (min(n_samples, n_features), n_samples)
        Upper-triangular factor.
    """

    def __init__(self, X):
        n, d = X.shape
        if sparse.issparse(X):
            X = X.tocsc()
            norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=0)).ravel())
        else:
            norms = np.zeros(d)
            rows = max(_BLOCK_ENTRIES // max(d, 1), 1)
            for start in range(0, n, rows):
                block = np.asarray(X[start : start + rows], dtype=np.float64)
                norms += np.einsum("ij,ij->j", block, block)
            norms = np.sqrt(norms)
        order = np.argsort(-norms, kind="stable")
        order = order[norms[order] > 0]
        width = self.block_width(n)
        self.X, self.n, self.d = X, n, d
        self.blocks = [order[i : i + width] for i in range(0, order.size, width)]
        self.factors = []  # running factor before each block
        R = np.zeros((0, n))
        for cols in self.blocks:
            self.factors.append(R)
            block = self._stacked(R, cols)
            R = interruptible(np.linalg.qr, block, "r", flops=4.0 * block.shape[0] * n**2)
        self.R = R

    @staticmethod
    def block_width(n):
        """Columns of X per block: at least ``8 n`` and about 4 MB."""
        return max(_BLOCK_ENTRIES // max(n, 1), 8 * n, 1)

    def _stacked(self, R, cols):
        """``[R; X[:, cols]^T]`` in float64."""
        out = np.empty((R.shape[0] + cols.size, self.n))
        out[: R.shape[0]] = R
        block = self.X[:, cols]
        out[R.shape[0] :] = (block.toarray() if sparse.issparse(block) else block).T
        return out

    def apply_q(self, t):
        """``w = Q t``, shape (n_features,), for ``t`` of shape (R.shape[0],).

        Re-factors each block (the same Householder reflectors as in the
        forward pass) and applies its reflectors, from the last block to the
        first; ``Q`` is never formed.
        """
        w = np.zeros(self.d)
        t = np.asarray(t, dtype=np.float64)
        for cols, R in zip(reversed(self.blocks), reversed(self.factors), strict=True):
            block = self._stacked(R, cols)
            h, tau = interruptible(
                np.linalg.qr, block, "raw", flops=4.0 * block.shape[0] * self.n**2
            )
            x = np.zeros(h.shape[1])
            x[: t.size] = t
            for j in range(tau.size - 1, -1, -1):  # Q = H_0 H_1 ... H_{k-1}
                v = h[j, j:].copy()
                v[0] = 1.0
                x[j:] -= (tau[j] * (v @ x[j:])) * v
            w[cols] = x[R.shape[0] :]
            t = x[: R.shape[0]]
        return w


def _solve_upper(R, b):
    """``R^{-1} b`` for upper-triangular R (LU without row exchanges: back substitution)."""
    return np.linalg.solve(R, b)


def _solve_lower(L, b):
    """``L^{-1} b`` for lower-triangular L, through the upper-triangular ``J L J``."""
    return np.linalg.solve(L[::-1, ::-1], b[::-1])[::-1]


class _GramSystem:
    """Free-block solves on ``K`` itself (``"gram"`` route)."""

    def __init__(self, K):
        self.K = K

    def solve(self, b, free):
        """``(c, K c)``: minimiser of ``1/2 c^T K c - b^T c`` with ``c`` zero outside ``free``."""
        c = np.zeros_like(b)
        idx = np.flatnonzero(free)
        if idx.size:
            block = self.K[np.ix_(idx, idx)]
            c[idx] = interruptible(np.linalg.solve, block, b[idx], flops=idx.size**3)
        return c, self.K @ c

    def fitted(self, c):
        """``K c``."""
        return self.K @ c


class _FactorSystem:
    """Free-block solves on a factor ``L`` of full row rank, ``K = L L^T`` never formed."""

    def __init__(self, L):
        self.L = L

    def _parts(self, b, free):
        c = np.zeros_like(b)
        v = np.zeros(self.L.shape[1])
        idx = np.flatnonzero(free)
        if idx.size:
            Q, R = interruptible(
                np.linalg.qr, self.L[idx].T, flops=4.0 * idx.size**2 * self.L.shape[1]
            )
            u = _solve_lower(R.T, b[idx])
            c[idx] = _solve_upper(R, u)
            v = Q @ u
        return c, v

    def solve(self, b, free):
        """``(c, K c)`` as in :meth:`_GramSystem.solve`, by a QR of ``L_F^T``.

        ``L_F^T = Q_F R_F``; ``v = Q_F R_F^{-T} b_F`` is the minimum-norm
        solution of ``L_F v = b_F`` (the weights, in ``L``'s coordinates),
        ``c_F = R_F^{-1} R_F^{-T} b_F`` and the fitted values are ``L v``.
        """
        c, v = self._parts(b, free)
        return c, self.L @ v

    def coords(self, b, free):
        """``v`` of :meth:`solve`: the weights in ``L``'s coordinates."""
        return self._parts(b, free)[1]

    def fitted(self, c):
        """``L (L^T c)``."""
        return self.L @ (self.L.T @ c)


def _bounded_dual(system, b, upper, tol, max_iter):
    """``min 1/2 c^T K c - b^T c`` s.t. ``c[upper] <= 0``, for positive definite K.

    ``system`` is a free-block solver (or ``K`` itself). Returns the solution
    and the number of active-set iterations.
    """
    if isinstance(system, np.ndarray):
        system = _GramSystem(system)
    g_tol = tol * max(np.max(np.abs(b), initial=0.0), np.finfo(float).tiny)
    at_bound = upper.copy()
    seen = set()
    n_iter = 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007 (n_iter is used after the loop)
        c, fitted = system.solve(b, ~at_bound)
        g = fitted - b  # on bound rows: <w, x_i>, must be <= 0
        new = upper & np.where(at_bound, g <= g_tol, c >= 0.0)
        if np.array_equal(new, at_bound):
            return c, n_iter
        key = new.tobytes()
        if key in seen:
            break
        seen.add(key)
        at_bound = new
    c, more = _lawson_hanson(system, b, upper, g_tol, max_iter)
    return c, n_iter + more


def _lawson_hanson(system, b, upper, g_tol, max_iter):
    """Classical primal active-set method (Lawson-Hanson) for the bounded dual.

    ``system`` is a free-block solver (or ``K`` itself).
    """
    if isinstance(system, np.ndarray):
        system = _GramSystem(system)
    free = ~upper
    c = system.solve(b, free)[0]
    n_iter = 0
    while n_iter < max_iter:
        g = np.where(upper & ~free, system.fitted(c) - b, -np.inf)
        j = int(np.argmax(g))
        if g[j] <= g_tol:
            break
        free[j] = True
        n_iter += 1
        s = system.solve(b, free)[0]
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
            s = system.solve(b, free)[0]
        c = s
    return c, n_iter


def _violation(y, fitted):
    """Largest violation of (P) by the fitted values, relative to ``max|y|``."""
    pos = y > 0
    scale = max(np.max(np.abs(y), initial=0.0), np.finfo(float).tiny)
    return float(
        max(
            np.max(np.abs(fitted - y)[pos], initial=0.0),
            np.max(np.maximum(fitted[~pos], 0.0), initial=0.0),
        )
        / scale
    )


def _stationarity(weights, coef, X, K):
    """``||w - X^T c|| / (||w|| + ||X||_F ||c||)``: stationarity as a backward error.

    The denominator is the size of the terms of ``X^T c``, so rounding alone
    gives about ``eps``, whatever the conditioning.
    """
    diff = np.linalg.norm(weights - span(coef[:, None], X)[0])
    denom = np.linalg.norm(weights) + np.sqrt(max(np.trace(K), 0.0)) * np.linalg.norm(coef)
    return float(diff / denom) if denom > 0 else 0.0


def kkt_residual(y, fitted, coef, *, stationarity=None):
    """Largest relative violation of the KKT conditions of (P) at ``(w, c)``.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Targets of the program (never a solver's own fitted values).
    fitted : ndarray of shape (n_samples,)
        ``X w``.
    coef : ndarray of shape (n_samples,)
        Multipliers ``c``.
    stationarity : float, default=None
        Residual of ``w = X^T c``, included when given (it holds by
        construction when ``w`` is computed as ``X^T c``).

    Returns
    -------
    float
        The maximum of: ``|<w,x_i> - y_i|`` on ``y_i > 0`` and
        ``max(<w,x_i>, 0)`` on the others, relative to ``max|y|``;
        ``max(c_i, 0)`` on ``y_i <= 0`` relative to ``max|c|``;
        complementarity ``|c_i <w,x_i>|`` on ``y_i <= 0`` relative to
        ``max|c| max|y|``; ``stationarity``.
    """
    ineq = ~(y > 0)
    tiny = np.finfo(float).tiny
    y_scale = max(np.max(np.abs(y), initial=0.0), tiny)
    c_scale = max(np.max(np.abs(coef), initial=0.0), tiny)
    parts = [
        _violation(y, fitted),
        np.max(np.maximum(coef[ineq], 0.0), initial=0.0) / c_scale,
        np.max(np.abs(coef[ineq] * fitted[ineq]), initial=0.0) / c_scale / y_scale,
        0.0 if stationarity is None else stationarity,
    ]
    return float(max(parts))


def surrogate_stationarity(y, fitted, *, K=None, X=None, sample_weight=None):
    """Relative gradient of the surrogate at ``w``: ``||X^T S r|| / (||S^1/2 X||_F ||S^1/2 r||)``.

    ``r_i = <w,x_i> - y_i`` for ``y_i > 0`` and ``max(<w,x_i>, 0)`` otherwise
    (``grad = 2 X^T S r``, ``S`` the sample weights, identity without them),
    in ``[0, 1]``; 0 when ``r = 0``. With X, products by X; with only ``K``,
    ``||X^T S r||^2 = (S r)^T K (S r)`` (accurate to about ``sqrt(eps)``).
    """
    pos = y > 0
    r = np.where(pos, fitted - y, np.maximum(fitted, 0.0))
    s = np.ones(y.shape[0]) if sample_weight is None else sample_weight
    norms = np.diag(K) if K is not None else row_norms_sq(X)
    frob2 = float(np.sum(norms) if sample_weight is None else np.dot(s, norms))
    if X is not None:
        grad = np.linalg.norm(span((s * r)[:, None], X))
    else:
        grad = np.sqrt(max(float((s * r) @ (K @ (s * r))), 0.0))
    denom = np.sqrt(frob2) * np.sqrt(float(np.dot(s, r * r)))
    return float(grad / denom) if denom > 0 else 0.0
