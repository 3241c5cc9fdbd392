"""MinNormReLURegressor against cvxpy/Clarabel and its KKT conditions."""

import cvxpy as cp
import numpy as np
import pytest
from _reference import gaussian_problem

from sklearn_relubias import MinNormReLURegressor
from sklearn_relubias._dual_qp import _lawson_hanson, solve_min_norm

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
    # cvxpy solves to ~1e-9.
    pair = np.c_[y[:3], y[6:]]
    assert np.all(pair.max(axis=1) > 0) and np.all(y[3:6] <= 0)
    targets = np.r_[np.maximum(pair, 0).mean(axis=1), y[3:6]]
    w_exact = cvxpy_min_norm(B, targets)
    # K is singular, so the solver works with the vanishing ridge, documented as accurate to
    # about 1e-6 relative (MinNormReLURegressor, interpolates_)
    assert np.linalg.norm(w - w_exact) <= 2e-6 * np.linalg.norm(w_exact)
    assert not est.interpolates_


def test_interpolates_on_rank_deficient_but_consistent_data():
    rng = np.random.default_rng(11)
    B = rng.standard_normal((5, 40))
    X = np.vstack([B, B[:2]])
    y0 = rng.standard_normal(5)
    y = np.r_[y0, y0[:2]]
    est = MinNormReLURegressor(n_neurons=1).fit(X, y)
    assert est.interpolates_
    np.testing.assert_allclose(est.hidden_weights_[0], cvxpy_min_norm(B, y0), rtol=1e-6, atol=1e-9)


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
