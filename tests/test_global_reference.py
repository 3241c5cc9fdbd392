"""The global minimum-norm interpolant by enumeration, against a brute-force cvxpy loop."""

import warnings
from itertools import product

import _reference as ref
import numpy as np
import pytest

from sklearn_relubias.metrics import global_min_norm_reference, min_norm_reference


def brute_force(X, y, a, slope):
    """cvxpy over every one of the 2^(n m) regions, feasible or not: the smallest interpolant."""
    import cvxpy as cp

    n, m = X.shape[0], a.shape[0]
    best, best_norm = None, np.inf
    for bits in product((True, False), repeat=n * m):
        region = np.array(bits).reshape(n, m)
        try:
            with warnings.catch_warnings():  # "may be inaccurate": checked below
                warnings.simplefilter("ignore", UserWarning)
                W = ref.cvxpy_region(X, y, a, region, slope)
        except cp.error.SolverError:
            continue
        if W is None:  # infeasible region
            continue
        P = X @ W.T
        s, c = np.where(region, 1.0, -1.0), np.where(region, 1.0, slope)
        if np.max(np.abs((c * a * P).sum(1) - y)) > 1e-6 or np.min(s * P) < -1e-6:
            continue  # not an interpolant of this region (an inaccurate solve)
        norm = np.sum(W**2)
        if norm < best_norm:
            best, best_norm = W, norm
    return best


@pytest.mark.parametrize(
    "n, d, a, slope, seed",
    [
        (4, 6, [1.0, -1.0], 0.0, 0),  # the +/- ReLU pair at d/n = 1.5
        (4, 4, [1.0, -1.0], 0.3, 1),  # a leaky pair at d = n
        (8, 10, [1.0], 0.0, 2),  # one ReLU neuron, n = 8 (zero and positive targets)
    ],
)
def test_global_reference_is_the_smallest_interpolant_over_all_regions(n, d, a, slope, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = rng.choice([-1.0, 1.0], n) if len(a) == 2 else rng.choice([0.0, 0.5, 1.0], n)
    a = np.array(a)
    act = "relu" if slope == 0 else "leaky_relu"
    fit, n_regions = global_min_norm_reference(X, y, a, activation=act, negative_slope=slope)
    W_bf = brute_force(X, y, a, slope)
    assert fit.interpolates and fit.kkt < 1e-10
    np.testing.assert_allclose(fit.weights, W_bf, rtol=0, atol=1e-6)
    assert n_regions <= 2 ** (n * a.size)
    # never larger than the label-sign reference
    label = min_norm_reference(X, y, a, activation=act, negative_slope=slope)
    assert np.sum(fit.weights**2) <= np.sum(label.weights**2) * (1 + 1e-12)


def test_global_reference_can_be_smaller_than_the_label_sign_one():
    """At d/n ~ 1 some draw has the global interpolant well below the label-sign one."""
    rng = np.random.default_rng(5)
    ratios = []
    for _ in range(10):
        X = rng.standard_normal((6, 6))
        y = rng.choice([-1.0, 1.0], 6)
        a = np.array([1.0, -1.0])
        fit, _ = global_min_norm_reference(X, y, a)
        label = min_norm_reference(X, y, a)
        ratios.append(np.sum(fit.weights**2) / np.sum(label.weights**2))
    assert max(ratios) <= 1 + 1e-12 and min(ratios) < 0.95


def test_global_reference_refuses_large_problems_and_the_linear_model():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((13, 30)), rng.choice([-1.0, 1.0], 13)
    with pytest.raises(ValueError, match=r"needs 8192 region programs for n_samples=13"):
        global_min_norm_reference(X, y, np.array([1.0, -1.0]))
    with pytest.raises(ValueError, match="activation='linear' has one region"):
        global_min_norm_reference(X, y, np.array([1.0, -1.0]), activation="linear")


@pytest.mark.parametrize("activation, slope", [("relu", 0.0), ("leaky_relu", 0.2)])
def test_region_count_is_the_number_of_candidate_regions(activation, slope):
    from sklearn_relubias._model import Model
    from sklearn_relubias._reference import _global

    y = np.array([1.0, -2.0, 0.0, 0.5, -1.0])
    for a in ([1.0], [1.0, -1.0], [1.0, 1.0, -1.0], [-1.0, 2.0, 3.0, -0.5]):
        model = Model.from_params(activation, np.array(a), None, slope)
        listed = np.prod([rows.shape[0] for rows in _global.candidate_rows(model, y)])
        assert _global.count_regions(model, y) == listed


def test_reference_gaps_reports_the_global_reference_for_small_problems():
    from sklearn_relubias import PAPER_MODEL, ShallowReLURegressor
    from sklearn_relubias.metrics import reference_gaps, relative_distance

    rng = np.random.default_rng(12)  # a draw without a stranded example
    X, y = rng.standard_normal((8, 12)), rng.choice([-1.0, 1.0], 8)
    est = ShallowReLURegressor(**PAPER_MODEL).set_params(max_iter=20_000).fit(X, y)
    gaps = reference_gaps(est, X, y)
    fit, _ = global_min_norm_reference(X, y, est.output_weights_)
    assert gaps["global"]["relative_gap"] == pytest.approx(
        relative_distance(est.hidden_weights_, fit.weights), rel=1e-12
    )
    assert gaps["global"]["interpolates"] and gaps["global"]["kkt"] < 1e-10


def test_min_norm_regressor_takes_the_global_region():
    from sklearn_relubias import MinNormReLURegressor

    rng = np.random.default_rng(5)
    X, y = rng.standard_normal((6, 6)), rng.choice([-1.0, 1.0], 6)
    est = MinNormReLURegressor(region="global").fit(X, y)
    fit, _ = global_min_norm_reference(X, y, np.array([1.0, -1.0]))
    np.testing.assert_allclose(est.hidden_weights_, fit.weights, rtol=0, atol=1e-10)
    np.testing.assert_allclose(est.predict(X), y, rtol=0, atol=1e-10)
    assert est.interpolates_ and est.kkt_residual_ < 1e-10
    # zero-weight rows are not fitted, by the global program either
    w = np.ones(6)
    w[0] = 0.0
    weighted = MinNormReLURegressor(region="global").fit(X, y, sample_weight=w)
    sub, _ = global_min_norm_reference(X[1:], y[1:], np.array([1.0, -1.0]))
    np.testing.assert_allclose(weighted.hidden_weights_, sub.weights, rtol=0, atol=1e-10)
