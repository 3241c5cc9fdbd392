"""Every reported figure measures what its name says, on the user's original problem.

Regression tests for numbers that used to lie without an error or a warning;
each one failed on the code before the fix.
"""

import warnings

import _reference as ref
import cvxpy as cp
import numpy as np
import pytest
from _reference import gaussian_problem, paper_estimator
from scipy import sparse
from sklearn.preprocessing import StandardScaler

from sklearn_relubias import MinNormReLURegressor
from sklearn_relubias.datasets import make_high_dim_regression
from sklearn_relubias.exceptions import RegionMismatchWarning
from sklearn_relubias.experiments import gap_decomposition, gram_gap
from sklearn_relubias.plotting import PatternTimelineDisplay

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    pytest.mark.filterwarnings("ignore::sklearn_relubias.exceptions.StrandedExampleWarning"),
]


def cvxpy_min_norm(X, t):
    w = cp.Variable(X.shape[1])
    pos = t > 0
    cons = [X[pos] @ w == t[pos], X[~pos] @ w <= 0]
    cp.Problem(cp.Minimize(cp.sum_squares(w)), cons).solve(
        solver="CLARABEL", tol_gap_abs=1e-13, tol_gap_rel=1e-13, tol_feas=1e-13
    )
    return w.value


def worst_miss(est, X, y):
    """Largest violation of the original program, relative to max|y| (each neuron group)."""
    worst = 0.0
    for sign in (1.0, -1.0):
        group = np.sign(est.output_weights_) == sign
        if not group.any():
            continue
        u = np.abs(est.output_weights_[group]) @ est.hidden_weights_[group]
        t, z = sign * y, X @ u
        miss = np.where(t > 0, np.abs(z - t), np.maximum(z, 0.0))
        worst = max(worst, np.max(miss) / np.max(np.abs(y)))
    return worst


# -- sample weights ------------------------------------------------------------


def test_weights_spanning_24_orders_give_the_unweighted_interpolant():
    """Was: interpolates_ True, kkt_residual_ 4.8e-13, a training row missed by 1% of max|y|."""
    rng = np.random.default_rng(13)
    X, y = rng.standard_normal((30, 300)), rng.standard_normal(30)
    w = 10.0 ** rng.uniform(-12, 12, 30)
    weighted = MinNormReLURegressor(n_neurons=2).fit(X, y, sample_weight=w)
    plain = MinNormReLURegressor(n_neurons=2).fit(X, y)
    assert weighted.interpolates_ and worst_miss(weighted, X, y) <= 1e-13
    assert weighted.kkt_residual_ >= worst_miss(weighted, X, y)  # the residual is the true one
    np.testing.assert_allclose(weighted.hidden_weights_, plain.hidden_weights_, rtol=1e-12)


def test_uniform_subnormal_weights_change_nothing():
    """Was: MinNorm 22% off, and min_norm_gap_ 0.145 -> 0.210 with GD unchanged."""
    X, y = gaussian_problem(20, 200, seed=0)
    w = np.full(20, 1e-310)
    plain = MinNormReLURegressor().fit(X, y)
    tiny = MinNormReLURegressor().fit(X, y, sample_weight=w)
    np.testing.assert_array_equal(tiny.hidden_weights_, plain.hidden_weights_)
    gd_plain = paper_estimator(max_iter=3000).fit(X, y)
    gd_tiny = paper_estimator(max_iter=3000).fit(X, y, sample_weight=w)
    np.testing.assert_array_equal(gd_tiny.hidden_weights_, gd_plain.hidden_weights_)
    assert gd_tiny.min_norm_gap_ == gd_plain.min_norm_gap_


# -- rank-deficient and centred X ----------------------------------------------


@pytest.mark.parametrize("n, d", [(50, 500), (200, 2000)])
def test_centred_data_certificate_measures_the_original_program(n, d):
    """StandardScaler with d > n leaves X of rank n - 1: kkt_residual_ was 0.15-0.28."""
    rng = np.random.default_rng(n)
    X = StandardScaler().fit_transform(rng.standard_normal((n, d)))
    y = rng.standard_normal(n)
    est = MinNormReLURegressor().fit(X, y)
    assert est.interpolates_ and est.kkt_residual_ <= 1e-13
    assert est.decisions_["reference_route"] == "gram"  # on K's free blocks, not a factor of X
    if n <= 50:
        exact = cvxpy_min_norm(X, y)
        np.testing.assert_allclose(est.hidden_weights_[0], exact, rtol=1e-6, atol=1e-9)


def test_a_row_that_is_a_negative_multiple_of_another():
    """kkt_residual_ was 1.07 on an exact solution (coefficients where multipliers belong)."""
    rng = np.random.default_rng(4)
    X = rng.standard_normal((10, 50))
    X[1] = -2.0 * X[0]
    y = np.abs(rng.standard_normal(10))
    y[1] = -1.0
    est = MinNormReLURegressor(n_neurons=1).fit(X, y)
    assert est.interpolates_ and est.kkt_residual_ <= 1e-13
    np.testing.assert_allclose(est.hidden_weights_[0], cvxpy_min_norm(X, y), rtol=1e-6, atol=1e-9)


def test_the_deficient_route_certifies_with_valid_multipliers():
    """Duplicated rows with equal targets: a free block is singular, X is factored."""
    rng = np.random.default_rng(0)
    B = rng.standard_normal((20, 80))
    X = np.vstack([B, B[:4], B[5] + B[6]])
    y = rng.standard_normal(25)
    y[20:24] = y[:4]
    y[24] = -abs(y[24])
    est = MinNormReLURegressor(n_neurons=1).fit(X, y)
    assert est.decisions_["reference_route"] == "deficient"
    assert est.interpolates_ and est.kkt_residual_ <= 1e-12
    np.testing.assert_allclose(est.hidden_weights_[0], cvxpy_min_norm(X, y), rtol=1e-6, atol=1e-8)


def test_sparse_tall_coefficients_keep_their_identity_with_badly_scaled_columns():
    """hidden_weights_ == dual_coef_.T @ X was off by 62% (column scales 1e4 and 1e-4)."""
    X = sparse.random(400, 20, density=0.3, random_state=1, format="csr")
    X = X @ sparse.diags(np.r_[1e4 * np.ones(10), 1e-4 * np.ones(10)])
    y = np.random.default_rng(0).standard_normal(400)
    est = MinNormReLURegressor().fit(X, y)
    W = est.hidden_weights_
    err = np.linalg.norm((X.T @ est.dual_coef_).T - W) / np.linalg.norm(W)
    dense = MinNormReLURegressor().fit(X.toarray(), y)  # an SVD on X^T: cond(X) eps
    dense_err = np.linalg.norm(dense.dual_coef_.T @ X.toarray() - W) / np.linalg.norm(W)
    assert err <= max(10 * dense_err, 1e-12)


# -- the relative gap ----------------------------------------------------------


def test_a_tiny_reference_still_gives_the_relative_gap():
    """||W*|| near 1e-171 beside W near 1e-3: the gap was the absolute distance, 1.4e-3."""
    X, y = gaussian_problem(10, 200, seed=0)
    y = 1e-170 * y
    est = paper_estimator(init="random", random_state=0, max_iter=200).fit(X, y)
    W_star = MinNormReLURegressor().fit(X, y).hidden_weights_
    expected = ref.relative_gap(est.hidden_weights_, W_star)
    assert expected > 1e160
    np.testing.assert_allclose(est.min_norm_gap_, expected, rtol=1e-12)


def test_the_relative_gap_is_inf_when_the_reference_is_zero():
    X, y = gaussian_problem(8, 40, seed=1)
    y = -np.abs(y)  # one positive neuron: W* = 0 fits every target
    est = paper_estimator(n_neurons=1, max_iter=50).fit(X, y)
    assert np.abs(est.hidden_weights_).max() > 0
    assert est.min_norm_gap_ == np.inf
    np.testing.assert_allclose(est.min_norm_distance_, np.linalg.norm(est.hidden_weights_))


# -- gradient descent in another region ----------------------------------------


def test_a_fit_in_another_region_is_flagged_and_warned_once():
    X, y = make_high_dim_regression(20, 2000, random_state=0)
    with pytest.warns(RegionMismatchWarning, match="another activation region") as caught:
        est = paper_estimator(n_neurons=8, init="random", random_state=0).fit(X, y)
    assert len([w for w in caught if w.category is RegionMismatchWarning]) == 1
    assert est.pattern_matches_reference_ is False
    # d >> n from zero with +/-1 labels: the label-sign region itself, no warning
    X, y = make_high_dim_regression(20, 2000, labels="rademacher", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RegionMismatchWarning)
        est = paper_estimator(learning_rate=0.3).fit(X, y)
    assert est.pattern_matches_reference_ is True
    assert paper_estimator(compute_min_norm_gap=False).fit(X, y).pattern_matches_reference_ is None


# -- the gradient-norm stop ----------------------------------------------------


@pytest.mark.parametrize("case", ["duplicated rows", "centred, linear"])
def test_the_dual_path_stops_where_the_primal_path_does(case):
    """sqrt(<D, K D>) has a rounding floor on singular K; the dual used to stop elsewhere."""
    rng = np.random.default_rng(1)
    if case == "duplicated rows":
        rng = np.random.default_rng(3)
        B = rng.standard_normal((12, 40))
        X, y = np.vstack([B, B[rng.integers(0, 12, 3)]]), rng.standard_normal(15)
        kw = dict(n_neurons=1, init="random", random_state=0)
    else:  # rank n - 1, and a target mean the model cannot fit without an intercept
        X = StandardScaler().fit_transform(rng.standard_normal((40, 400)))
        y = rng.standard_normal(40) + 2.0
        kw = dict(n_neurons=1, activation="linear")
    dual = paper_estimator(solver="dual", max_iter=100_000, **kw).fit(X, y)
    primal = paper_estimator(solver="primal", max_iter=100_000, **kw).fit(X, y)
    assert dual.decisions_["status"] == primal.decisions_["status"] == "converged"
    assert dual.n_iter_ == primal.n_iter_
    assert dual.decisions_["handed_over_to_X_at"] is not None
    np.testing.assert_allclose(dual.hidden_weights_, primal.hidden_weights_, rtol=1e-9, atol=1e-12)


# -- validation of what the user passes ----------------------------------------


def test_gram_gap_validates_the_gram_matrix_and_the_targets():
    X, y = gaussian_problem(10, 100, seed=2)
    K = X @ X.T
    with pytest.raises(ValueError, match="finite targets"):
        gram_gap(K, np.r_[y[:-1], np.nan])
    with pytest.raises(ValueError, match="positive semi-definite"):
        gram_gap(-K, y)
    with pytest.raises(ValueError, match="symmetric"):
        gram_gap(K + np.triu(np.ones((10, 10)), 1), y)


# -- histories and auxiliary attributes ----------------------------------------


def test_a_truncated_pattern_history_is_never_rebuilt_as_complete(monkeypatch, pyplot):
    from sklearn_relubias._gd import _driver

    X, y = make_high_dim_regression(12, 60, random_state=1)
    est = paper_estimator(
        n_neurons=4,
        init="random",
        random_state=0,
        record_pattern=True,
        learning_rate=1.5,
        max_iter=300,
    )
    full = est.fit(X, y)
    assert len(full.pattern_changes_) == full.n_pattern_changes_ > 5
    PatternTimelineDisplay.from_estimator(full)  # complete: drawn
    monkeypatch.setattr(_driver, "MAX_RECORDED_CHANGES", 3)  # a setting: the recording cap
    with pytest.warns(UserWarning, match="history is incomplete"):
        cut = paper_estimator(**est.get_params()).fit(X, y)
    assert len(cut.pattern_changes_) == 3 < cut.n_pattern_changes_
    with pytest.raises(ValueError, match="first 3 of"):
        PatternTimelineDisplay.from_estimator(cut)
    with pytest.raises(ValueError, match="first 3 of"):
        gap_decomposition(cut, X, y)


def test_unrepresentable_coefficients_do_not_block_a_representable_fit():
    """X ~ 1e120 with y ~ 1e-120 was refused: only dual_coef_ (~y/X^2) underflows."""
    X, y = gaussian_problem(10, 50, seed=3)
    with pytest.warns(UserWarning, match="dual_coef_ is None"):
        big = paper_estimator().fit(1e120 * X, 1e-120 * y)
    plain = paper_estimator().fit(X, y)
    assert big.dual_coef_ is None
    np.testing.assert_allclose(big.hidden_weights_ * 1e240, plain.hidden_weights_, rtol=1e-9)
    np.testing.assert_allclose(big.predict(1e120 * X) * 1e120, plain.predict(X), rtol=1e-9)
    with pytest.warns(UserWarning, match="dual_coef_ is None"):
        mn = MinNormReLURegressor().fit(1e120 * X, 1e-120 * y)
    assert mn.dual_coef_ is None and mn.interpolates_
