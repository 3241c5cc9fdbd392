"""MinNormReLURegressor against cvxpy/Clarabel, exact rational oracles and its KKT conditions."""

from fractions import Fraction
from itertools import combinations

import cvxpy as cp
import numpy as np
import pytest
from _reference import gaussian_problem, paper_estimator
from scipy import sparse

from sklearn_relubias import MinNormReLURegressor
from sklearn_relubias._reference import _dual_qp as dual_qp
from sklearn_relubias._reference._dual_qp import (
    DualFactor,
    _FactorSystem,
    _lawson_hanson,
    kkt_residual,
    solve_min_norm,
    surrogate_stationarity,
)

EPS = np.finfo(float).eps


def factored_route(X):
    """The route X's factorisation takes (the Gram route tried first is not counted)."""
    factor = DualFactor(X @ X.T, X)
    if factor.route == "guarded":
        factor.factorise()
    return factor.route


TIGHT = dict(tol_gap_abs=1e-13, tol_gap_rel=1e-13, tol_feas=1e-13, tol_ktratio=1e-10)
FIRM = dict(tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)


def cvxpy_min_norm(X, y):
    """min ||w||^2 s.t. <w,x_i> = y_i (y_i > 0), <w,x_i> <= 0 (y_i <= 0)."""
    w = cp.Variable(X.shape[1])
    pos = y > 0
    cons = [X[pos] @ w == y[pos], X[~pos] @ w <= 0]
    cp.Problem(cp.Minimize(cp.sum_squares(w)), cons).solve(solver="CLARABEL", **TIGHT)
    return w.value


def cvxpy_surrogate(X, y, ridge=0.0):
    """Minimiser of sum_{y>0} (<w,x>-y)^2 + sum_{y<=0} max(<w,x>,0)^2 + ridge ||w||^2."""
    pos = y > 0
    w = cp.Variable(X.shape[1])
    obj = cp.sum_squares(X[pos] @ w - y[pos]) + cp.sum_squares(cp.pos(X[~pos] @ w))
    cp.Problem(cp.Minimize(obj + ridge * cp.sum_squares(w))).solve(solver="CLARABEL", **FIRM)
    return w.value


def surrogate_value(X, y, w):
    pos = y > 0
    f = X @ w
    return np.sum((f[pos] - y[pos]) ** 2) + np.sum(np.maximum(f[~pos], 0) ** 2)


def surrogate_grad(X, y, w):
    """||X^T r|| / (||X||_F ||r||), r the surrogate's residual at w, written out."""
    f, pos = X @ w, y > 0
    r = np.where(pos, f - y, np.maximum(f, 0.0))
    return np.linalg.norm(X.T @ r) / (np.linalg.norm(X) * np.linalg.norm(r))


def rel(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


# --- exact rational oracles ---------------------------------------------------------------


def _exact_ints(A):
    """Float array as Python integers times a common power of two: A = ints / 2^shift."""
    ratios = [v.as_integer_ratio() for v in np.asarray(A, dtype=float).ravel()]
    shift = max(den.bit_length() for _, den in ratios) - 1
    ints = [num << (shift - den.bit_length() + 1) for num, den in ratios]
    return np.array(ints, dtype=object).reshape(np.shape(A)), shift


def _solve_exact(M, rhs):
    """Gauss-Jordan elimination in rationals (M nonsingular)."""
    k = len(rhs)
    M = [[Fraction(int(v)) for v in row] for row in M]
    rhs = [Fraction(v) for v in rhs]
    for c in range(k):
        p = next(r for r in range(c, k) if M[r][c] != 0)
        M[c], M[p], rhs[c], rhs[p] = M[p], M[c], rhs[p], rhs[c]
        for r in range(k):
            if r != c and M[r][c] != 0:
                f = M[r][c] / M[c][c]
                M[r] = [a - f * q for a, q in zip(M[r], M[c], strict=True)]
                rhs[r] -= f * rhs[c]
    return [rhs[i] / M[i][i] for i in range(k)]


def exact_min_norm(X, y):
    r"""The minimum-norm solution of the program, exact up to one rounding (X of full row rank).

    Tries every set S of rows of I held at <w, x_i> = 0: w = X_A^T c_A with
    X_A X_A^T c_A = b_A (A = E u S) in exact rational arithmetic, and returns
    the first w whose KKT conditions hold exactly (c_S <= 0, <w, x_i> <= 0 on
    I \ S): the program is convex, so KKT certifies the unique minimiser.
    Independent of the package; for at most a dozen rows of I.
    """
    Xi, k = _exact_ints(X)
    K = Xi @ Xi.T  # 4^k X X^T, exact
    E = [i for i in range(len(y)) if y[i] > 0]
    ineq = [i for i in range(len(y)) if not y[i] > 0]
    assert len(ineq) <= 12
    for size in range(len(ineq) + 1):
        for S in combinations(ineq, size):
            A = E + list(S)
            rhs = [Fraction(float(y[i])) if y[i] > 0 else Fraction(0) for i in A]
            g = _solve_exact(K[np.ix_(A, A)], rhs)  # c_A / 4^k
            if any(g[len(E) + j] > 0 for j in range(size)):
                continue
            rest = [i for i in ineq if i not in S]
            if any(sum(K[i, a] * g[t] for t, a in enumerate(A)) > 0 for i in rest):
                continue
            w = [2**k * sum(Xi[a, j] * g[t] for t, a in enumerate(A)) for j in range(X.shape[1])]
            return np.array([float(v) for v in w])
    raise AssertionError("no active set satisfies the KKT conditions exactly")


def exact_lstsq(X, b):
    """Least squares with full column rank, exact up to one rounding (normal equations)."""
    Xi, k = _exact_ints(X)  # X = Xi / 2^k: w = 2^k (Xi^T Xi)^{-1} Xi^T b
    bf = [Fraction(float(v)) for v in b]
    g = [sum(Xi[r, i] * bf[r] for r in range(X.shape[0])) for i in range(X.shape[1])]
    return np.array([float(2**k * v) for v in _solve_exact(Xi.T @ Xi, g)])


def certified_surrogate_minimiser(X, y, Q, margin=1e-8):
    """The surrogate's unique minimiser, given the rows Q it fits (X_Q of full column rank).

    w is the exact least-squares solution on Q with targets max(y, 0); it is
    certified (grad F = 0) when its fitted values are positive on the rows of
    I in Q and negative on the other rows of I, with a margin rounding cannot
    cross.
    """
    pos = y > 0
    assert np.linalg.matrix_rank(X[Q]) == X.shape[1]
    w = exact_lstsq(X[Q], np.where(pos, y, 0.0)[Q])
    z, tau = X @ w, margin * np.max(np.abs(y))
    assert np.all(z[~pos & Q] > tau) and np.all(z[~pos & ~Q] < -tau), "not certified"
    return w


def backward_bound(X, w, y):
    """Residual a row-wise backward-stable solution may leave: d eps max_i (|X| |w|)_i / max|y|.

    Householder QR with the columns of X taken by decreasing norm is stable row by row of
    X^T (Cox and Higham, 1998): the computed w solves (X + dX) w = y with
    |dX_ij| <= O(d eps) |X_ij| column by column, so each residual is at most d eps (|X||w|)_i
    (up to a small constant, taken as 4).
    """
    return 4 * X.shape[1] * EPS * np.max(np.abs(X) @ np.abs(w)) / np.max(np.abs(y))


def kkt(X, y, w, c):
    """Relative KKT residual, written out from the math (independent of the package)."""
    f = X @ w
    pos = y > 0
    ys, cs = np.max(np.abs(y)), np.max(np.abs(c))
    return max(
        np.max(np.abs(X.T @ c - w)) / np.max(np.abs(w)),
        np.max(np.abs(f[pos] - y[pos])) / ys,
        np.max(np.maximum(f[~pos], 0)) / ys,
        np.max(np.maximum(c[~pos], 0)) / cs,
        np.max(np.abs(c[~pos] * f[~pos])) / (cs * ys),
    )


@pytest.mark.parametrize(
    "n, d, seed", [(5, 20, 0), (20, 200, 1), (30, 31, 2), (40, 400, 3), (25, 25, 4)]
)
def test_single_neuron_matches_cvxpy_and_kkt(n, d, seed):
    X, y = gaussian_problem(n, d, seed)
    est = MinNormReLURegressor(n_neurons=1).fit(X, y)
    w = est.hidden_weights_[0]
    w_ref = cvxpy_min_norm(X, y)
    assert est.interpolates_
    assert np.linalg.norm(w - w_ref) <= 1e-6 * np.linalg.norm(w_ref)
    assert kkt(X, y, w, est.dual_coef_[:, 0]) <= 1e-9
    assert est.kkt_residual_ <= 1e-9
    assert np.linalg.norm(w) <= np.linalg.norm(w_ref) * (1 + 1e-9)


@pytest.mark.parametrize("output_weights", ["balanced", "positive", [2.0, -1.0, 0.5, -3.0]])
def test_groups_share_single_neuron_solutions(output_weights):
    X, y = gaussian_problem(15, 120, seed=5)
    m = 4
    est = MinNormReLURegressor(n_neurons=m, output_weights=output_weights).fit(X, y)
    a = est.output_weights_
    for sign, target in ((1, y), (-1, -y)):
        group = sign * a > 0
        if not group.any():
            continue
        u = cvxpy_min_norm(X, target)
        for j in np.flatnonzero(group):
            expected = abs(a[j]) * u / np.sum(a[group] ** 2)
            assert np.linalg.norm(est.hidden_weights_[j] - expected) <= 1e-6 * np.linalg.norm(
                expected
            )
    np.testing.assert_allclose(est.hidden_weights_, est.dual_coef_.T @ X, atol=1e-12)
    reachable = y if (a < 0).any() else np.maximum(y, 0)
    np.testing.assert_allclose(est.predict(X), reachable, atol=1e-9)
    # rows on the kink (pre-activation 0 up to rounding) count as inactive
    P = X @ est.hidden_weights_.T
    np.testing.assert_array_equal(est.activation_pattern_, P > 1e-9 * np.abs(P).max())
    assert np.any(np.abs(P[~est.activation_pattern_]) < 1e-12)  # such rows exist here


def test_balanced_pair_within_label_sign_region_is_min_norm_on_random_splits():
    """No other member of the label-sign region's minimisers has a smaller norm."""
    X, y = gaussian_problem(12, 60, seed=6)
    est = MinNormReLURegressor(n_neurons=2).fit(X, y)
    norm = np.linalg.norm(est.hidden_weights_)
    W = cp.Variable((2, 60))
    pos, neg = y > 0, y < 0
    cons = [
        X[pos] @ W[0] == y[pos],
        X[~pos] @ W[0] <= 0,
        X[neg] @ W[1] == -y[neg],
        X[~neg] @ W[1] <= 0,
    ]
    cp.Problem(cp.Minimize(cp.sum_squares(W)), cons).solve(solver="CLARABEL", **TIGHT)
    np.testing.assert_allclose(norm, np.linalg.norm(W.value), rtol=1e-7)


@pytest.mark.parametrize("n, d, seed", [(40, 10, 7), (60, 5, 8), (30, 12, 9)])
def test_surrogate_when_not_interpolating(n, d, seed):
    X, y = gaussian_problem(n, d, seed)
    est = MinNormReLURegressor(n_neurons=1).fit(X, y)
    w = est.hidden_weights_[0]
    best = surrogate_value(X, y, cvxpy_surrogate(X, y))
    assert not est.interpolates_
    np.testing.assert_allclose(surrogate_value(X, y, w), best, rtol=1e-7)
    np.testing.assert_allclose(X.T @ est.dual_coef_[:, 0], w, atol=1e-12)


@pytest.mark.filterwarnings("ignore:Solution may be inaccurate")  # cvxpy oracle, not us
def test_surrogate_min_norm_among_minimisers():
    """Rank-deficient X: duplicated rows with conflicting targets, many minimisers."""
    rng = np.random.default_rng(10)
    B = rng.standard_normal((6, 30))
    X = np.vstack([B, B[:3]])
    y = np.r_[rng.standard_normal(6), -1.0, 2.0, 0.5]
    est = MinNormReLURegressor(n_neurons=1).fit(X, y)
    w = est.hidden_weights_[0]
    best = surrogate_value(X, y, cvxpy_surrogate(X, y))
    np.testing.assert_allclose(surrogate_value(X, y, w), best, rtol=1e-7, atol=1e-10)
    # The minimisers, worked out by hand: rows i and i + 6 (i < 3) share x_i, and each pair
    # has a positive label, so its two terms (f - y)^2 or max(f, 0)^2 are minimised at f > 0,
    # where both are (f - max(y, 0))^2: f_i is the mean of max(y, 0) over the pair. Rows 3..5
    # have y <= 0 and need f <= 0. So the minimum-norm minimiser is the minimum-norm
    # interpolant of B with those targets, a well-posed program (B has full row rank) that
    # exact_min_norm solves exactly.
    pair = np.c_[y[:3], y[6:]]
    assert np.all(pair.max(axis=1) > 0) and np.all(y[3:6] <= 0)
    targets = np.r_[np.maximum(pair, 0).mean(axis=1), y[3:6]]
    w_exact = exact_min_norm(B, targets)
    # X is rank deficient: solved exactly on its row space (no ridge), so the error is that
    # of a backward-stable solve on B, n cond(B) eps
    assert rel(w, w_exact) <= len(y) * np.linalg.cond(B) * EPS
    assert not est.interpolates_
    # kkt_residual_ is the surrogate's stationarity at w, from y (not from w's own fitted values)
    assert est.kkt_residual_ == pytest.approx(surrogate_grad(X, y, w), rel=1e-3, abs=1e-15)
    assert est.kkt_residual_ <= 10 * X.shape[1] * EPS


def test_interpolates_on_rank_deficient_but_consistent_data():
    rng = np.random.default_rng(11)
    B = rng.standard_normal((5, 40))
    X = np.vstack([B, B[:2]])
    y0 = rng.standard_normal(5)
    y = np.r_[y0, y0[:2]]
    est = MinNormReLURegressor(n_neurons=1).fit(X, y)
    assert est.interpolates_
    np.testing.assert_allclose(est.hidden_weights_[0], cvxpy_min_norm(B, y0), rtol=1e-6, atol=1e-9)
    # exactly: the rank-deficient route is exact, errors n cond(B) eps
    assert rel(est.hidden_weights_[0], exact_min_norm(B, y0)) <= len(y) * np.linalg.cond(B) * EPS
    assert est.kkt_residual_ <= 10 * X.shape[1] * EPS


def test_all_nonpositive_targets_give_zero_single_neuron():
    X, y = gaussian_problem(8, 30, seed=12)
    est = MinNormReLURegressor(n_neurons=1).fit(X, -np.abs(y))
    np.testing.assert_array_equal(est.hidden_weights_, 0.0)
    assert est.interpolates_


def test_lawson_hanson_fallback_agrees_with_active_set():
    X, y = gaussian_problem(25, 100, seed=13)
    K = X @ X.T
    pdas = solve_min_norm(y, K)
    c, n_iter = _lawson_hanson(K, np.maximum(y, 0), y <= 0, 1e-12, 1000)
    assert n_iter >= 1
    np.testing.assert_allclose(X.T @ c, X.T @ pdas.coef, rtol=1e-9, atol=1e-12)


# --- conditioning: the dual through a factor of X, never K = X X^T -------------------------


def issue_problem(k, col=0, mixed=False):
    """The issue's example: X[:, col] *= 10^k (cond(X) about 4.5 * 10^(k-1))."""
    r = np.random.default_rng(0)
    X, y = r.standard_normal((10, 50)), r.uniform(0.5, 1.5, 10)
    if mixed:
        y = np.random.default_rng(1).standard_normal(10)
    X[:, col] *= 10.0**k
    return X, y


@pytest.mark.parametrize("k", range(3, 11))
@pytest.mark.parametrize("col, mixed", [(0, False), (37, True)])
def test_scaled_column_interpolates_the_exact_solution(k, col, mixed):
    X, y = issue_problem(k, col, mixed)
    w_exact = exact_min_norm(X, y)
    est = MinNormReLURegressor(n_neurons=1).fit(X, y)
    w = est.hidden_weights_[0]
    cond = np.linalg.cond(X)
    assert cond > 10.0 ** (k - 1)
    assert est.interpolates_
    # forward error of a backward-stable solve: n cond(X) eps (through K: cond(X)^2 eps)
    assert rel(w, w_exact) <= len(y) * cond * EPS
    # residual of the returned w on the original program, row-wise backward stable
    bound = backward_bound(X, w_exact, y)
    assert est.kkt_residual_ <= bound
    pos = y > 0
    assert np.max(np.abs(X[pos] @ w - y[pos]), initial=0.0) <= bound * np.max(np.abs(y))
    assert np.max(X[~pos] @ w, initial=0.0) <= bound * np.max(np.abs(y))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_min_norm_gap_uses_the_exact_reference_on_the_issue_example():

    X, y = issue_problem(8)
    est = paper_estimator(n_neurons=2, max_iter=200).fit(X, y)
    # balanced pair, y > 0: W* = (u(y), u(-y)) = (exact_min_norm(X, y), 0)
    W_star = np.vstack([exact_min_norm(X, y), np.zeros(X.shape[1])])
    # 200 steps barely move the weights (the step is set by the huge column), so the
    # relative gap is about 1 whatever W*; the absolute distance is about ||W*||
    assert est.min_norm_gap_ == pytest.approx(rel(est.hidden_weights_, W_star), rel=1e-9)
    expected = np.linalg.norm(est.hidden_weights_ - W_star)
    assert est.min_norm_distance_ == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("cond", [1e4, 1e7, 1e10])
def test_accuracy_follows_cond_not_cond_squared(cond):
    # X = U diag(1 .. 1/cond) V^T (10 x 50): ill-conditioned in every basis, mixed signs
    rng = np.random.default_rng(14)
    U = np.linalg.qr(rng.standard_normal((10, 10)))[0]
    V = np.linalg.qr(rng.standard_normal((50, 10)))[0]
    X = U @ np.diag(np.logspace(0, -np.log10(cond), 10)) @ V.T
    y = rng.standard_normal(10)
    est = MinNormReLURegressor(n_neurons=1).fit(X, y)
    assert est.interpolates_
    # n cond eps: 2e-5 at cond 1e10 where cond^2 eps is 2e4 (and 2e-2 at cond 1e7)
    assert rel(est.hidden_weights_[0], exact_min_norm(X, y)) <= len(y) * np.linalg.cond(X) * EPS


@pytest.mark.parametrize("delta", [1e-6, 1e-9])
def test_near_duplicate_rows(delta):
    # rows i and i + 5 differ by delta: full rank (far above the rank cut eps max(n, d)
    # sigma_max), cond(X) about 1/delta, an interpolant exists (with weights ~ 1/delta)
    rng = np.random.default_rng(15)
    B = rng.standard_normal((5, 50))
    X = np.vstack([B, B + delta * rng.standard_normal((5, 50))])
    y = rng.standard_normal(10)
    assert factored_route(X) == "factor"
    est = MinNormReLURegressor(n_neurons=1).fit(X, y)
    w, w_exact = est.hidden_weights_[0], exact_min_norm(X, y)
    assert est.interpolates_
    assert rel(w, w_exact) <= len(y) * np.linalg.cond(X) * EPS
    # normwise backward stability: residual <= d eps ||X|| ||w|| (rounding of X w itself)
    bound = X.shape[1] * EPS * np.linalg.norm(X, 2) * np.linalg.norm(w_exact) / np.max(np.abs(y))
    assert est.kkt_residual_ <= bound


def test_exact_duplicates_with_a_scaled_column():
    """Rank deficient and badly scaled: the surrogate's minimiser, exactly."""
    rng = np.random.default_rng(10)
    B = rng.standard_normal((6, 30))
    B[:, 4] *= 1e8
    X = np.vstack([B, B[:3]])
    y = np.r_[rng.standard_normal(6), -1.0, 2.0, 0.5]
    assert factored_route(X) == "deficient"
    pair = np.c_[y[:3], y[6:]]  # as in test_surrogate_min_norm_among_minimisers
    targets = np.r_[np.maximum(pair, 0).mean(axis=1), y[3:6]]
    w_exact = exact_min_norm(B, targets)
    est = MinNormReLURegressor(n_neurons=1).fit(X, y)
    w = est.hidden_weights_[0]
    assert not est.interpolates_
    assert rel(w, w_exact) <= len(y) * np.linalg.cond(B) * EPS
    assert est.kkt_residual_ <= 10 * X.shape[1] * EPS


@pytest.mark.parametrize("k", [0, 6, 9])
def test_tall_data_end_to_end(k):
    # n > d: the primal path; the surrogate's minimiser is unique (X_Q of full column rank),
    # so its fitted values do not change when a column is scaled: the rows Q it fits come
    # from cvxpy on the unscaled data, the minimiser from exact least squares, certified
    rng = np.random.default_rng(16)
    X0, y = rng.standard_normal((80, 8)), rng.standard_normal(80)
    Q = (y > 0) | (X0 @ cvxpy_surrogate(X0, y) > 0)
    X = X0.copy()
    X[:, 0] *= 10.0**k
    w_exact = certified_surrogate_minimiser(X, y, Q)
    # Householder QR is invariant to column scaling: the error is that of the unscaled problem
    bound = len(y) * np.linalg.cond(X0[Q]) * EPS
    est = MinNormReLURegressor(n_neurons=1).fit(X, y)
    w = est.hidden_weights_[0]
    assert not est.interpolates_
    assert rel(w, w_exact) <= bound
    assert est.kkt_residual_ == pytest.approx(surrogate_grad(X, y, w), rel=1e-3, abs=1e-15)
    assert est.kkt_residual_ <= 10 * len(y) * EPS
    np.testing.assert_array_equal(est.activation_pattern_[:, 0], Q & (X @ w_exact > 0))
    # the dual solver, given X, solves tall data on X's row space (rank-deficient route)
    sol = solve_min_norm(y, X @ X.T, X=X)
    assert sol.route == "deficient" and not sol.interpolates
    assert rel(sol.weights, w_exact) <= bound
    assert sol.violation > 0.1  # the program's own residual, reported apart from the surrogate's
    assert rel(X.T @ sol.coef, sol.weights) <= len(y) * np.linalg.cond(X) * EPS


def test_integer_weights_equal_repeated_rows_across_routes():
    # weighted: the factor route on 10 rows; repeated: the rank-deficient route on 20 rows
    X, y = issue_problem(7, col=37, mixed=True)
    s = np.random.default_rng(17).integers(1, 4, len(y))
    Xr, yr = np.repeat(X, s, axis=0), np.repeat(y, s)
    assert factored_route(X) == "factor"
    assert factored_route(Xr) == "deficient"
    weighted = MinNormReLURegressor(n_neurons=2).fit(X, y, sample_weight=s)
    repeated = MinNormReLURegressor(n_neurons=2).fit(Xr, yr)
    W_star = np.vstack([exact_min_norm(X, y), exact_min_norm(X, -y)])  # balanced pair
    for est in (weighted, repeated):
        assert est.interpolates_
        assert rel(est.hidden_weights_, W_star) <= len(y) * np.linalg.cond(X) * EPS
    # residuals: row-wise backward stable on the factor route; the rank-deficient route
    # (an SVD of X's factor and the primal solver) is backward stable normwise only
    assert weighted.kkt_residual_ <= max(backward_bound(X, w, y) for w in W_star)
    normwise = X.shape[1] * EPS * np.linalg.norm(X, 2) * np.linalg.norm(W_star[0])
    assert repeated.kkt_residual_ <= normwise / np.max(np.abs(y))


@pytest.mark.parametrize("n, d, seed", [(20, 200, 1), (30, 31, 2), (40, 400, 3)])
def test_factor_route_matches_cvxpy_and_the_gram_route(n, d, seed, monkeypatch):
    X, y = gaussian_problem(n, d, seed)
    K = X @ X.T
    by_gram = solve_min_norm(y, K, X=X) if np.linalg.cond(K) <= 1e4 else None
    monkeypatch.setattr(dual_qp, "GRAM_COND_LIMIT", 0.0)
    sol = solve_min_norm(y, K, X=X)
    assert sol.route == "factor" and sol.interpolates
    assert rel(sol.weights, cvxpy_min_norm(X, y)) <= 1e-6
    assert kkt(X, y, sol.weights, sol.coef) <= 1e-9
    assert sol.kkt <= 1e-12
    if by_gram is not None:  # both exact: the gram route's error is cond(K) eps
        assert rel(sol.weights, by_gram.weights) <= n * np.linalg.cond(K) * EPS
        np.testing.assert_array_equal(sol.coef < 0, by_gram.coef < 0)


def test_lawson_hanson_on_the_factor_agrees_with_active_set():
    X, y = gaussian_problem(25, 100, seed=13)
    R = np.linalg.qr(X.T, mode="r")  # X = R^T Q^T
    pdas = solve_min_norm(y, X @ X.T)
    c, n_iter = _lawson_hanson(_FactorSystem(R.T), np.maximum(y, 0), y <= 0, 1e-12, 1000)
    assert n_iter >= 1
    np.testing.assert_allclose(X.T @ c, X.T @ pdas.coef, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("fmt", ["csr", "csc", "float32"])
def test_factor_route_sparse_and_float32_equal_dense(fmt):
    X, y = issue_problem(8, col=37, mixed=True)
    X[np.abs(X) < 0.7] = 0.0
    X = X.astype(np.float32).astype(np.float64)  # values that float32 holds exactly
    other = {"csr": sparse.csr_matrix, "csc": sparse.csc_matrix}.get(
        fmt, lambda A: A.astype(np.float32)
    )(X)
    assert factored_route(X) == "factor"
    dense = MinNormReLURegressor(n_neurons=2).fit(X, y)
    est = MinNormReLURegressor(n_neurons=2).fit(other, y)
    assert rel(est.hidden_weights_, dense.hidden_weights_) <= 1e-13
    assert est.kkt_residual_ <= backward_bound(X, dense.hidden_weights_[0], y)


def test_factor_route_memory_is_bounded():
    import tracemalloc

    rng = np.random.default_rng(18)
    X, y = rng.standard_normal((20, 200_000)), rng.standard_normal(20)  # 32 MB
    X[:, 7] *= 1e6
    K = X @ X.T
    tracemalloc.start()
    factor = DualFactor(K, X)
    sols = [solve_min_norm(t, K, factor=factor) for t in (y, -y)]
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert factor.route == "factor" and all(s.interpolates for s in sols)
    # Q (d x n) is never formed: blocks of about 4 MB, running factors n^2 each
    assert peak < 0.75 * X.nbytes, f"peak {peak / 1e6:.1f} MB"


# --- the KKT residual measures the original program ----------------------------------------


def test_kkt_residual_detects_wrong_solutions():
    X, y = gaussian_problem(20, 200, seed=19)
    sol = solve_min_norm(y, X @ X.T, X=X)
    w, c = sol.weights, sol.coef
    assert kkt_residual(y, X @ w, c) <= 1e-13
    u = np.random.default_rng(19).standard_normal(200)
    delta = 1e-6 * np.linalg.norm(w) * u / np.linalg.norm(u)
    # w moved by 1e-6 relative: the fitted values move by |x_i . delta| on every row
    expected = max(
        np.max(np.abs(X @ delta)[y > 0]), np.max(np.maximum(X @ (w + delta), 0)[y <= 0])
    ) / np.max(np.abs(y))
    assert kkt_residual(y, X @ (w + delta), c) >= 0.99 * expected > 1e-8
    # a multiplier with the wrong sign
    i = np.flatnonzero(y <= 0)[np.argmin(c[y <= 0])]
    assert c[i] < 0
    flipped = c.copy()
    flipped[i] = -c[i]
    assert kkt_residual(y, X @ w, flipped) >= -c[i] / np.max(np.abs(c))


def test_surrogate_stationarity_detects_wrong_minimisers():
    X, y = gaussian_problem(60, 10, seed=20)
    sol = solve_min_norm(y, X @ X.T, X=X)
    assert not sol.interpolates
    w = sol.weights
    assert surrogate_stationarity(y, X @ w, X=X) <= 1e-14
    assert surrogate_stationarity(y, X @ w, X=X) == pytest.approx(surrogate_grad(X, y, w))
    wrong = w * (1 + 1e-6)
    assert surrogate_stationarity(y, X @ wrong, X=X) == pytest.approx(
        surrogate_grad(X, y, wrong), rel=1e-6
    )
    assert surrogate_grad(X, y, wrong) > 1e-8


def test_estimator_kkt_residual_is_not_the_solvers_own(monkeypatch):
    """A solver that returns a wrong answer is caught by kkt_residual_, on both branches."""
    X, y = gaussian_problem(12, 60, seed=21)
    bounded_dual = dual_qp._bounded_dual

    def off_dual(*args):
        c, n_iter = bounded_dual(*args)
        return c * (1 + 1e-6), n_iter

    right = MinNormReLURegressor(n_neurons=1).fit(X, y)
    monkeypatch.setattr(dual_qp, "_bounded_dual", off_dual)
    wrong = MinNormReLURegressor(n_neurons=1).fit(X, y)
    assert right.kkt_residual_ <= 1e-13 and wrong.kkt_residual_ >= 1e-7
    # no interpolant (duplicated rows, conflicting targets): the surrogate's stationarity
    B = np.random.default_rng(21).standard_normal((6, 30))
    Xd, yd = np.vstack([B, B[:3]]), np.r_[np.ones(6), -1.0, 2.0, 0.5]
    primal = dual_qp.solve_min_norm_primal

    def off_primal(*args, **kwargs):
        sol = primal(*args, **kwargs)
        sol.weights = sol.weights * (1 + 1e-6)
        return sol

    right = MinNormReLURegressor(n_neurons=1).fit(Xd, yd)
    monkeypatch.setattr(dual_qp, "solve_min_norm_primal", off_primal)
    wrong = MinNormReLURegressor(n_neurons=1).fit(Xd, yd)
    assert not right.interpolates_ and not wrong.interpolates_
    assert right.kkt_residual_ <= 1e-14 and wrong.kkt_residual_ >= 1e-9
