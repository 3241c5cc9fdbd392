import warnings

import numpy as np
import pytest
from _reference import gd, paper_estimator, step_size

from sklearn_relubias.datasets import make_high_dim_regression, make_orthogonal_regression
from sklearn_relubias.experiments._theory import (
    CATEGORIES,
    critical_learning_rate,
    gap_decomposition,
    gradient_flow_limit,
    predict_gap,
    richardson_extrapolation,
)


def fit(X, y, **params):
    params = {"max_iter": 200_000, "record_pattern": True, **params}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate neurons, stranded examples
        return paper_estimator(**params).fit(X, y)


@pytest.fixture(scope="module")
def wide():
    return make_high_dim_regression(20, 2000, labels="rademacher", random_state=1)


# --- gap_decomposition ---------------------------------------------------------


def test_decomposition_adds_up_with_random_init(wide):
    X, y = wide
    est = fit(X, y, init="random", init_scale=0.5, random_state=0, learning_rate=0.1)
    dec = gap_decomposition(est, X, y)
    total = sum(dec.parts.values())
    W_star = dec.min_norm_weights
    np.testing.assert_allclose(total, est.hidden_weights_ - W_star, atol=1e-10 * dec.distance)
    assert dec.residual < 1e-10 * dec.distance
    assert dec.norms["init"] > 0.1 * dec.distance  # the init part is exercised
    assert dec.distance == pytest.approx(est.min_norm_distance_, rel=1e-9)
    assert dec.relative_gap == pytest.approx(est.min_norm_gap_, rel=1e-9)
    assert sum(dec.shares.values()) == pytest.approx(1.0, abs=1e-12)
    assert set(np.unique(dec.categories)) <= set(CATEGORIES)


def test_decomposition_orthogonal_is_all_frozen():
    # No cross-talk: after step one neuron j is active exactly on the labels it
    # can fit, the others keep the first-step coefficient lr y a / (||a||^2 d).
    X, y = make_orthogonal_regression(12, 60, random_state=0)
    lr = 0.5
    est = fit(X, y, learning_rate=lr)
    dec = gap_decomposition(est, X, y)
    can = np.outer(y, est.output_weights_) > 0
    np.testing.assert_array_equal(dec.can_fit, can)
    np.testing.assert_array_equal(dec.first_step_pattern, can)
    np.testing.assert_array_equal(dec.ever_active, can)
    np.testing.assert_array_equal(dec.categories, np.where(can, "active", "frozen"))
    frozen = np.outer(y, est.output_weights_) * lr / (2 * 60)
    np.testing.assert_allclose(est.dual_coef_[~can], frozen[~can], rtol=1e-12)
    assert dec.shares["frozen"] == pytest.approx(1.0, abs=1e-9)  # active part is exact


def test_categories_mean_what_they_say(wide):
    X, y = wide
    lr = 0.1
    est = fit(X, y, learning_rate=lr)
    dec = gap_decomposition(est, X, y)
    cats = dec.categories
    assert {"frozen", "sliding", "left_kink", "active"} <= set(np.unique(cats))
    a = est.output_weights_
    step_one = lr * np.outer(y, a) / (2 * np.linalg.eigvalsh(X @ X.T)[-1])
    C = est.dual_coef_
    frozen = cats == "frozen"
    np.testing.assert_allclose(C[frozen], step_one[frozen], rtol=1e-12)
    moved = (cats == "sliding") | (cats == "left_kink")
    assert np.all(np.abs(C[moved] - step_one[moved]) > 1e-6 * np.abs(step_one[moved]))
    P = X @ est.hidden_weights_.T
    scale = np.abs(X @ dec.min_norm_weights.T).max(axis=0)
    rel = P / scale
    assert np.all(rel[cats == "sliding"] >= -1e-6)  # on the kink (or above it)
    assert np.all(rel[cats == "left_kink"] < -1e-6)
    assert np.all(rel[cats == "active"] > 0) and np.all(dec.can_fit[cats == "active"])


def test_pattern_history_matches_reference_iterates():
    X, y = make_high_dim_regression(10, 60, labels="rademacher", random_state=3)
    lr, n_steps = 0.3, 40
    est = fit(X, y, learning_rate=lr, max_iter=n_steps, tol=0.0)
    a = est.output_weights_
    Ws, _ = gd(X, y, a, np.zeros((2, 60)), step_size(X, a, lr), n_steps)
    P = np.array([X @ W.T for W in Ws]) > 0  # pattern of iterates 0..n_steps
    dec = gap_decomposition(est, X, y)
    np.testing.assert_array_equal(dec.first_step_pattern, P[1])
    np.testing.assert_array_equal(dec.ever_active, P[1:].any(axis=0))
    assert (dec.ever_active != dec.first_step_pattern).any()  # history beyond step one matters


def test_decomposition_refits_without_record(wide):
    X, y = wide
    est = fit(X, y, learning_rate=0.1, record_pattern=False)
    dec = gap_decomposition(est, X, y)
    ref = gap_decomposition(fit(X, y, learning_rate=0.1), X, y)
    assert not hasattr(est, "pattern_changes_")
    np.testing.assert_array_equal(dec.categories, ref.categories)
    np.testing.assert_array_equal(dec.ever_active, ref.ever_active)


def test_decomposition_rejects_intercept(wide):
    X, y = wide
    est = fit(X, y + 1.0, fit_intercept=True, max_iter=50)
    with pytest.raises(ValueError, match="fit_intercept=False"):
        gap_decomposition(est, X, y + 1.0)


# --- predict_gap ----------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_prediction_matches_fits(seed):
    X, y = make_high_dim_regression(20, 2000, labels="rademacher", random_state=seed)
    for lr in (1.0, 0.3, 0.1):
        est = fit(X, y, learning_rate=lr, record_pattern=False)
        pred = predict_gap(X, y, learning_rate=lr)
        assert pred.distance == pytest.approx(est.min_norm_distance_, rel=0.01)
        assert pred.relative_gap == pytest.approx(est.min_norm_gap_, rel=0.01)


def test_prediction_orthogonal_exact():
    # Orthogonal inputs (derivation): group sigma keeps the coefficients
    # lr z / (||a||^2 d) on the labels it cannot fit, so
    # gap^2 = lr^2 / ||a||^4 (s+ ||y_-||^2 + s- ||y_+||^2) / (||y_+||^2 / s+ + ||y_-||^2 / s-),
    # lr / 2 for the balanced pair.
    X, y = make_orthogonal_regression(10, 50, random_state=1)
    yp, ym = np.sum(y[y > 0] ** 2), np.sum(y[y < 0] ** 2)
    for a, lr in (([1.0, -1.0], 0.3), ([2.0, -1.0, 0.5], 0.7)):
        a = np.array(a)
        sp, sm, a2 = np.sum(a[a > 0] ** 2), np.sum(a[a < 0] ** 2), a @ a
        expected = lr / a2 * np.sqrt((sp * ym + sm * yp) / (yp / sp + ym / sm))
        est = fit(X, y, learning_rate=lr, n_neurons=a.size, output_weights=a, record_pattern=False)
        assert est.min_norm_gap_ == pytest.approx(expected, rel=1e-8)
        for method in ("projection", "linear"):
            pred = predict_gap(
                X, y, learning_rate=lr, n_neurons=a.size, output_weights=a, method=method
            )
            assert pred.relative_gap == pytest.approx(expected, rel=1e-10)
    assert predict_gap(X, y, learning_rate=0.3).relative_gap == pytest.approx(0.15, rel=1e-10)


def test_linear_prediction_is_schur_formula(wide):
    # Frozen-only first order: against the active least-squares reference
    # v_LS = X_A^T K_AA^-1 z_A (s = 1), ||W - W_LS||^2 =
    # sum_sigma c_F^T (K_FF - K_FA K_AA^-1 K_AF) c_F with c_F = lr z_F / (2 lambda).
    X, y = wide
    lr = 0.3
    K = X @ X.T
    lam = np.linalg.eigvalsh(K)[-1]
    pred = predict_gap(X, y, learning_rate=lr, method="linear")
    expected = observed = 0.0
    for j, z in enumerate((y, -y)):
        A = (z > 0) & (K @ z > 0)
        F = ~A
        c_F = lr * z[F] / (2 * lam)
        S = K[np.ix_(F, F)] - K[np.ix_(F, A)] @ np.linalg.solve(K[np.ix_(A, A)], K[np.ix_(A, F)])
        expected += c_F @ S @ c_F
        v_ls = X[A].T @ np.linalg.solve(K[np.ix_(A, A)], z[A])
        observed += np.sum((pred.hidden_weights[j] - v_ls) ** 2)
    assert np.sqrt(observed) == pytest.approx(np.sqrt(expected), rel=1e-8)


def test_prediction_weights_and_validation(wide):
    X, y = wide
    pred = predict_gap(X, y, learning_rate=0.1)
    np.testing.assert_allclose(pred.hidden_weights, pred.dual_coef.T @ X, atol=1e-12)
    assert not (pred.fitted & ~pred.first_step_pattern).any()
    with pytest.raises(ValueError, match="n_samples < n_features"):
        predict_gap(X[:, :10], y)
    with pytest.raises(ValueError, match="method"):
        predict_gap(X, y, method="exact")


# --- critical_learning_rate ---------------------------------------------------


def test_critical_learning_rate_formula():
    # Orthogonal rows: no cross-talk, R = inf, lr_c = 0.
    X, _ = make_orthogonal_regression(8, 40, random_state=0)
    assert critical_learning_rate(X) == pytest.approx(0.0, abs=1e-6)
    # Isotropic: lambda_max(K)/d ~ (1 + sqrt(n/d))^2, R ~ d.
    n, d = 20, 4000
    X, _ = make_high_dim_regression(n, d, random_state=0)
    iso = 2 * (1 + np.sqrt(n / d)) ** 2 * np.sqrt(n / (2 * d))
    assert critical_learning_rate(X) == pytest.approx(iso, rel=0.1)
    assert critical_learning_rate(X, output_weights="positive", n_neurons=1) == pytest.approx(
        iso / 2, rel=0.1
    )


def test_critical_learning_rate_is_the_crossover():
    # Fraction of cannot-fit pairs the projection puts on the kink: about
    # P(N(0,1) > 3) = 0.001 at 3 lr_c, P(N > 1) = 0.16 at lr_c and tends to
    # the half with q_k > 0 well below.
    fractions = {3.0: [], 1.0: [], 0.05: []}
    for seed in range(4):
        X, y = make_high_dim_regression(20, 1000, labels="rademacher", random_state=seed)
        lr_c = critical_learning_rate(X)
        for factor in fractions:
            pred = predict_gap(X, y, learning_rate=factor * lr_c)
            P = X @ pred.hidden_weights.T
            cannot = np.outer(y, [1.0, -1.0]) < 0
            on_kink = np.abs(P[cannot]) < 1e-9 * np.abs(P).max()
            fractions[factor].append(on_kink.mean())
    mean = {k: np.mean(v) for k, v in fractions.items()}
    assert mean[3.0] < 0.05
    assert 0.05 < mean[1.0] < 0.3
    assert mean[0.05] > 0.35


# --- extrapolation --------------------------------------------------------------


def test_richardson_recovers_planted_polynomial():
    h = 0.2 / 2.0 ** np.arange(4)
    g = 0.07 + 1.3 * h - 2.1 * h**2
    res = richardson_extrapolation(h, g, order=2)
    assert res.limit == pytest.approx(0.07, abs=1e-12)
    assert res.uncertainty == pytest.approx(2.1 * h[-2] * h[-1], rel=1e-9)  # order-1 error
    full = richardson_extrapolation(h, g + 0.5 * h**3)
    assert full.limit == pytest.approx(0.07, abs=1e-12)
    assert full.uncertainty > 0
    # ratio 3 as well
    h3 = 0.9 / 3.0 ** np.arange(3)
    assert richardson_extrapolation(h3, 1 + h3 + h3**2).limit == pytest.approx(1.0, abs=1e-12)


def test_richardson_validation():
    with pytest.raises(ValueError, match="geometric"):
        richardson_extrapolation([0.2, 0.1, 0.04], [1, 2, 3])
    with pytest.raises(ValueError, match="order"):
        richardson_extrapolation([0.2, 0.1], [1, 2], order=2)


def test_gradient_flow_limit_orthogonal():
    X, y = make_orthogonal_regression(10, 80, labels="rademacher", random_state=2)
    res = gradient_flow_limit(X, y, learning_rates=[0.4, 0.2, 0.1])
    np.testing.assert_allclose(res.gaps, [0.2, 0.1, 0.05], rtol=1e-8)
    assert res.limit == pytest.approx(0.0, abs=1e-8)
    dist = gradient_flow_limit(X, y, learning_rates=[0.4, 0.2], metric="min_norm_distance")
    # ||W*||^2 = ||y||^2 / d for the balanced pair on orthogonal rows of norm^2 d
    np.testing.assert_allclose(
        dist.gaps, np.array([0.2, 0.1]) * np.linalg.norm(y) / np.sqrt(80), rtol=1e-8
    )
