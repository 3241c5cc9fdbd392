"""References that follow gradient descent: its own region, the NTK linearisation, side by side."""

import warnings

import _reference as ref
import numpy as np
import pytest
from _reference import gaussian_problem, paper_estimator
from sklearn.exceptions import ConvergenceWarning

from sklearn_relubias import MinNormReLURegressor, ShallowReLURegressor
from sklearn_relubias.exceptions import StrandedExampleWarning
from sklearn_relubias.metrics import min_norm_reference, ntk_reference, reference_gaps


def random_start_fit(X, y, m=8, slope=None, **kw):
    params = dict(
        n_neurons=m,
        init="random",
        init_scale=1.0,
        random_state=0,
        learning_rate=0.5,
        max_iter=20_000,
        tol=1e-9,
        compute_min_norm_gap=False,
    )
    if slope is not None:
        params.update(activation="leaky_relu", negative_slope=slope)
    with warnings.catch_warnings():  # the tests read stranded_indices_ where it matters
        warnings.simplefilter("ignore", (ConvergenceWarning, StrandedExampleWarning))
        return paper_estimator(**{**params, **kw}).fit(X, y)


def relative(A, B):
    return np.linalg.norm(A - B) / np.linalg.norm(B)


def test_own_region_reference_follows_a_random_start_with_eight_neurons():
    """Eight ReLU neurons from a small random start end outside the label-sign region."""
    X, y = gaussian_problem(20, 400, seed=31)
    est = random_start_fit(X, y, init_scale=1e-3)
    assert est.stranded_indices_.size == 0
    gaps = reference_gaps(est, X, y)
    own, label = gaps["own_region"], gaps["label_sign"]
    assert own["interpolates"] and own["kkt"] < 1e-10 and own["same_region"]
    assert label["same_region"] is False  # the run is not in the label-sign region
    assert own["relative_gap"] < 0.5 * label["relative_gap"]
    # the own-region program is the convex program of that region (independent solver)
    region = X @ est.hidden_weights_.T > 0
    W_cvx = ref.cvxpy_region(X, y, est.output_weights_, region)
    assert abs(own["relative_gap"] - relative(est.hidden_weights_, W_cvx)) < 1e-5


def test_own_region_reference_of_a_leaky_fit_is_the_region_program():
    X, y = gaussian_problem(20, 400, seed=31)
    est = random_start_fit(X, y, slope=0.2, init_scale=1e-3)
    own = reference_gaps(est, X, y, references=("own_region",))["own_region"]
    assert own["interpolates"] and own["kkt"] < 1e-10
    region = X @ est.hidden_weights_.T > 0
    W_cvx = ref.cvxpy_region(X, y, est.output_weights_, region, 0.2)
    assert abs(own["relative_gap"] - relative(est.hidden_weights_, W_cvx)) < 1e-5


def test_min_norm_regressor_takes_gradient_descents_region():
    X, y = gaussian_problem(20, 400, seed=31)
    est = random_start_fit(X, y, init_scale=1e-3)
    min_norm = MinNormReLURegressor(n_neurons=8, region=est.activation_pattern_).fit(X, y)
    W_cvx = ref.cvxpy_region(X, y, est.output_weights_, est.activation_pattern_)
    assert relative(min_norm.hidden_weights_, W_cvx) < 1e-6
    assert min_norm.interpolates_ and min_norm.kkt_residual_ < 1e-10
    fit = min_norm_reference(X, y, est.output_weights_, region=est.activation_pattern_)
    np.testing.assert_allclose(fit.weights, min_norm.hidden_weights_, rtol=0, atol=1e-12)
    gap = reference_gaps(est, X, y, references=("own_region",))["own_region"]
    expected = relative(est.hidden_weights_, min_norm.hidden_weights_)
    assert gap["relative_gap"] == pytest.approx(expected)


def test_ntk_reference_is_the_minimum_norm_step_of_the_linearised_model():
    """Against an explicit Jacobian (n x m d) and its pseudo-inverse."""
    X, y = gaussian_problem(15, 60, seed=8)
    rng = np.random.default_rng(2)
    a = np.array([1.0, -1.0, 0.5])
    W0 = rng.standard_normal((3, 60)) / np.sqrt(60)
    for slope, activation in ((0.0, "relu"), (0.3, "leaky_relu")):
        P0 = X @ W0.T
        g = np.where(P0 >= 0, 1.0, slope)
        J = np.hstack([(a[j] * g[:, j])[:, None] * X for j in range(3)])
        f0 = np.where(P0 >= 0, P0, slope * P0) @ a
        step = np.linalg.pinv(J) @ (y - f0)
        expected = W0 + step.reshape(3, 60)
        W = ntk_reference(X, y, a, W0, activation=activation, negative_slope=slope)
        assert relative(W, expected) < 1e-10


def test_lazy_training_lands_near_the_ntk_reference():
    """Many neurons from a large start barely change their pattern: the NTK point is close."""
    X, y = gaussian_problem(10, 300, seed=9)
    est = random_start_fit(X, y, m=64, init_scale=30.0, learning_rate=0.5)
    gaps = reference_gaps(est, X, y)
    assert gaps["ntk"]["relative_gap"] < 0.1 * gaps["label_sign"]["relative_gap"]


def test_reference_gaps_label_sign_is_the_estimators_own_gap():
    X, y = gaussian_problem(20, 2000, seed=4)
    y = np.sign(y)  # +/-1 labels: no example is switched off early
    est = paper_estimator(max_iter=3000).fit(X, y)
    gaps = reference_gaps(est, X, y, references=("label_sign",))
    assert gaps["label_sign"]["relative_gap"] == pytest.approx(est.min_norm_gap_, rel=1e-9)
    assert gaps["label_sign"]["distance"] == pytest.approx(est.min_norm_distance_, rel=1e-9)


def test_reference_gaps_and_region_refuse_what_they_cannot_do():
    X, y = gaussian_problem(10, 40, seed=0)
    est = random_start_fit(X, y, m=4)
    with pytest.raises(ValueError, match="Unknown references.*'bogus'"):
        reference_gaps(est, X, y, references=("bogus",))
    with pytest.raises(ValueError, match="needs 61917364224 region programs for n_samples=10"):
        reference_gaps(est, X, y, references="global")  # (2^4 - 2^2)^10 regions
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        linear = paper_estimator(activation="linear", max_iter=500).fit(X, y)
    with pytest.raises(ValueError, match="'own_region' has no meaning"):
        reference_gaps(linear, X, y, references=("own_region",))
    with pytest.raises(ValueError, match=r"region must be a boolean array of shape.*\(10, 2\)"):
        MinNormReLURegressor(region=np.ones((9, 2), dtype=bool)).fit(X, y)
    with pytest.raises(ValueError, match="region and init have no meaning for activation='linear'"):
        MinNormReLURegressor(activation="linear", region=np.ones((10, 2), dtype=bool)).fit(X, y)
    with pytest.raises(ValueError, match="y has shape"):
        reference_gaps(est, X, y[:-1])
    assert isinstance(est, ShallowReLURegressor)


def test_gap_decomposition_says_when_the_run_ended_in_another_region():
    from sklearn_relubias.exceptions import RegionMismatchWarning
    from sklearn_relubias.experiments import gap_decomposition

    X, y = gaussian_problem(20, 400, seed=31)
    est = random_start_fit(X, y, init_scale=1e-3, record_pattern=True)
    with pytest.warns(RegionMismatchWarning, match="another activation region than W"):
        dec = gap_decomposition(est, X, y)
    assert not dec.same_region and dec.other_region.any()
    P, P_star = X @ est.hidden_weights_.T, X @ dec.min_norm_weights.T
    s = np.abs(P_star).max(axis=0)
    on = P_star > 1e-6 * s
    np.testing.assert_array_equal(dec.other_region, (P > 1e-2 * s) & ~on | (P < -1e-2 * s) & on)

    X, y = gaussian_problem(20, 2000, seed=1)  # the paper's regime: W*'s region
    y = np.sign(y)
    paper = paper_estimator(record_pattern=True, learning_rate=0.1).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RegionMismatchWarning)
        dec = gap_decomposition(paper, X, y)
    assert dec.same_region and not dec.other_region.any()


def test_reference_functions_validate_their_inputs():
    X, y = gaussian_problem(8, 30, seed=0)
    a = np.array([1.0, -1.0])
    for bad in (-1.0, 2.0, np.nan, True):
        with pytest.raises(ValueError, match="negative_slope must be a number in"):
            min_norm_reference(X, y, a, activation="leaky_relu", negative_slope=bad)
    with pytest.raises(ValueError, match="activation='leaky'"):
        min_norm_reference(X, y, a, activation="leaky")
    y_nan = y.copy()
    y_nan[0] = np.nan
    with pytest.raises(ValueError, match="y must hold 8 finite targets"):
        min_norm_reference(X, y_nan, a)
    with pytest.raises(ValueError, match="region must be a boolean array"):
        min_norm_reference(X, y, a, region=np.full((8, 2), 2))
    with pytest.raises(ValueError, match=r"W0 must be finite of shape .* \(2, 30\)"):
        ntk_reference(X, y, a, np.zeros((2, 29)))


def test_reference_gaps_follows_the_fit_weights_and_refuses_the_min_norm_estimator():
    X, y = gaussian_problem(20, 400, seed=31)
    w = np.ones(20)
    w[:3] = 0.0  # rows the fit does not see
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StrandedExampleWarning)
        est = paper_estimator(max_iter=5000).fit(X, y, sample_weight=w)
    gaps = reference_gaps(est, X, y, references="label_sign", sample_weight=w)
    assert gaps["label_sign"]["relative_gap"] == pytest.approx(est.min_norm_gap_, rel=1e-9)
    with pytest.raises(TypeError, match="needs a fitted ShallowReLURegressor"):
        reference_gaps(MinNormReLURegressor().fit(X, y), X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        linear = paper_estimator(activation="linear", max_iter=300).fit(X, y)
    assert set(reference_gaps(linear, X, y)) == {"label_sign", "ntk"}


def test_reference_gaps_takes_a_pipeline():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = gaussian_problem(20, 400, seed=31)
    pipe = make_pipeline(StandardScaler(), random_start_fit(X, y, init_scale=1e-3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (ConvergenceWarning, StrandedExampleWarning))
        pipe.fit(X, y)
    through = reference_gaps(pipe, X, y, references=("label_sign",))
    direct = reference_gaps(pipe[-1], pipe[0].transform(X), y, references=("label_sign",))
    assert through == direct


@pytest.mark.parametrize("slope", [None, 0.2])
def test_init_relative_reference_is_the_closest_interpolant_of_the_region_to_the_start(slope):
    """From init_scale=1 (eight neurons) against cvxpy's min ||W - W0|| over the region."""
    X, y = gaussian_problem(20, 400, seed=31)
    est = random_start_fit(X, y, slope=slope, random_state=1)  # no stranded example
    gaps = reference_gaps(est, X, y, references=("own_region", "init_relative"))
    init = gaps["init_relative"]
    assert init["interpolates"] and init["kkt"] < 1e-10 and init["same_region"]
    region = X @ est.hidden_weights_.T > 0
    W0 = est.init_hidden_weights_
    W_cvx = ref.cvxpy_region(X, y, est.output_weights_, region, slope or 0.0, W0=W0)
    assert abs(init["relative_gap"] - relative(est.hidden_weights_, W_cvx)) < 1e-6
    fit = min_norm_reference(
        X,
        y,
        est.output_weights_,
        region=region,
        init=W0,
        activation=est.activation,
        negative_slope=slope,
    )
    assert relative(fit.weights, W_cvx) < 1e-6
    # W - W0 lies in the data span, with the returned coefficients
    np.testing.assert_allclose(fit.weights - W0, fit.dual_coef.T @ X, rtol=0, atol=1e-12)
    # gradient descent from W0 follows this one, not the minimum-norm one of its region
    assert init["relative_gap"] < 0.2 * gaps["own_region"]["relative_gap"]


def test_init_relative_reference_from_zero_is_the_own_region_one():
    X, y = gaussian_problem(20, 400, seed=31)
    est = random_start_fit(X, y, init_scale=1e-3)
    region = X @ est.hidden_weights_.T > 0
    a = est.output_weights_
    zero = min_norm_reference(X, y, a, region=region, init=np.zeros_like(est.hidden_weights_))
    own = min_norm_reference(X, y, a, region=region)
    np.testing.assert_allclose(zero.weights, own.weights, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="W0 must be finite of shape"):
        min_norm_reference(X, y, a, init=np.zeros((3, 3)))


def test_predict_gap_says_when_the_first_step_leaves_the_reference_region():
    """Mean-shifted inputs: the prediction and the fit both end outside W*'s region."""
    from sklearn_relubias.exceptions import RegionMismatchWarning
    from sklearn_relubias.experiments import predict_gap

    rng = np.random.default_rng(3000)
    X, y = rng.standard_normal((20, 400)), rng.choice([-1.0, 1.0], 20)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RegionMismatchWarning)
        assert predict_gap(X, y, learning_rate=0.1).same_region  # centred: no warning
    with pytest.warns(RegionMismatchWarning, match="another activation region than W"):
        pred = predict_gap(X + 1.0, y, learning_rate=0.1)
    assert not pred.same_region
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = paper_estimator(max_iter=50_000).fit(X + 1.0, y)
    assert est.pattern_matches_reference_ is False
