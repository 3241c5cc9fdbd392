"""Leaky ReLU: the region program against least squares, cvxpy and the ReLU program; GD on it."""

import warnings

import _reference as ref
import numpy as np
import pytest
from _reference import gaussian_problem, paper_estimator
from sklearn.exceptions import ConvergenceWarning

from sklearn_relubias import MinNormReLURegressor, ShallowReLURegressor
from sklearn_relubias._model import Model
from sklearn_relubias._reference import _label_sign, _region


def relative(A, B):
    return np.linalg.norm(A - B) / np.linalg.norm(B)


@pytest.mark.parametrize("slope", [0.1, 0.5, 1.0])
@pytest.mark.parametrize("a", [1.0, -2.0])
def test_one_neuron_reference_is_the_least_squares_solution_of_the_inverted_targets(slope, a):
    X, y = gaussian_problem(15, 60, seed=11)
    y[[3, 7, 11]] = 0.0  # zero targets: the kink itself
    z = np.where(y / a >= 0, y / a, y / (a * slope))  # sigma^{-1}(y / a)
    w = np.linalg.lstsq(X, z, rcond=None)[0]
    est = MinNormReLURegressor(
        n_neurons=1, output_weights=[a], activation="leaky_relu", negative_slope=slope
    ).fit(X, y)
    assert relative(est.hidden_weights_[0], w) < 1e-10
    assert est.interpolates_ and est.kkt_residual_ < 1e-10
    np.testing.assert_allclose(est.predict(X), y, atol=1e-10 * np.abs(y).max())


@pytest.mark.parametrize("slope", [0.0, 0.2, 0.7])
@pytest.mark.parametrize("m", [2, 3])
def test_region_program_matches_cvxpy(slope, m):
    X, y = gaussian_problem(12, 40, seed=12 + m)
    a = ref.output_weights("balanced", m) * np.array([1.0, 0.5, 2.0])[:m]
    model = Model.from_params("leaky_relu", a, negative_slope=slope)
    region = _region.label_sign_region(model, y)
    fit = _region.solve(model, X, y)
    W_cvx = ref.cvxpy_region(X, y, a, region, slope)
    assert relative(fit.weights, W_cvx) < 1e-6  # Clarabel's accuracy
    assert fit.interpolates and fit.kkt < 1e-10
    # the weights are the data-span coefficients' X^T beta, and they fit y
    np.testing.assert_allclose(fit.dual_coef.T @ X, fit.weights, atol=1e-12)
    np.testing.assert_allclose(model.forward(X, fit.weights), y, atol=1e-10)
    # no better point: cvxpy's objective is not lower than ours beyond its tolerance
    assert np.sum(fit.weights**2) <= np.sum(W_cvx**2) * (1 + 1e-7)


def test_region_program_with_slope_zero_is_the_relu_label_sign_program():
    X, y = gaussian_problem(20, 80, seed=5)
    relu = Model.from_params("relu", "balanced", 4)
    leaky0 = Model.from_params("leaky_relu", "balanced", 4, negative_slope=0.0)
    ours = _region.solve(leaky0, X, y)
    label_sign = _label_sign.solve(relu, X, y, memory=None)
    assert relative(ours.weights, label_sign.weights) < 1e-12


def test_region_program_in_another_region_respects_its_signs():
    X, y = gaussian_problem(10, 50, seed=3)
    model = Model.from_params("leaky_relu", "balanced", 3, negative_slope=0.3)
    region = np.random.default_rng(0).random((10, 3)) < 0.5
    region[np.arange(10), np.where(y > 0, 0, 1)] = True  # a neuron of y_i's sign: feasible
    fit = _region.solve(model, X, y, region=region)
    W_cvx = ref.cvxpy_region(X, y, model.output_weights, region, 0.3)
    assert relative(fit.weights, W_cvx) < 1e-6 and fit.kkt < 1e-10
    P = X @ fit.weights.T
    scale = np.abs(P).max()
    assert np.all(P[region] >= -1e-10 * scale) and np.all(P[~region] <= 1e-10 * scale)


def test_region_program_says_when_its_region_cannot_interpolate():
    X, y = gaussian_problem(10, 50, seed=3)
    y[0] = abs(y[0]) + 0.1
    model = Model.from_params("leaky_relu", [1.0], negative_slope=0.3)
    region = _region.label_sign_region(model, y)
    region[0] = False  # the one neuron is asked to be negative where y > 0
    fit = _region.solve(model, X, y, region=region)
    assert not fit.interpolates


@pytest.mark.parametrize("slope", [0.3, 1.0])
def test_gd_from_zero_on_one_leaky_neuron_reaches_its_reference(slope):
    """One leaky neuron from zero: GD stays in the data span and the label-sign region."""
    X, y = gaussian_problem(10, 200, seed=21)
    params = dict(
        n_neurons=1, activation="leaky_relu", negative_slope=slope, learning_rate=0.9, tol=1e-13
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = paper_estimator(**params, max_iter=200_000).fit(X, y)
    ref_est = MinNormReLURegressor(n_neurons=1, activation="leaky_relu", negative_slope=slope).fit(
        X, y
    )
    assert relative(est.hidden_weights_, ref_est.hidden_weights_) < 1e-8
    assert est.min_norm_gap_ < 1e-8


def test_gd_with_leaky_activation_matches_the_numpy_transcription():
    X, y = gaussian_problem(30, 20, seed=4)
    a = ref.output_weights("balanced", 4)
    W0 = np.random.default_rng(1).standard_normal((4, 20)) / np.sqrt(20)
    est = ShallowReLURegressor(
        n_neurons=4,
        activation="leaky_relu",
        negative_slope=0.25,
        init="random",
        random_state=0,
        learning_rate=0.5,
        max_iter=40,
        tol=0.0,
        n_iter_no_change=None,
        fit_intercept=False,
        compute_min_norm_gap=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    W0 = est.init_hidden_weights_
    eta = ref.step_size(X, a, 0.5)
    W = ref.gd(X, y, a, W0, eta, 40, slope=0.25)[0][-1]
    assert relative(est.hidden_weights_, W) < 1e-12


def test_negative_slope_is_validated():
    X, y = gaussian_problem(5, 8, seed=0)
    with pytest.raises(ValueError, match="negative_slope"):
        ShallowReLURegressor(activation="leaky_relu", negative_slope=1.5).fit(X, y)
    with pytest.raises(ValueError, match="negative_slope"):
        MinNormReLURegressor(activation="leaky_relu", negative_slope=-0.1).fit(X, y)


def test_without_an_interpolant_the_certificate_reports_how_far_the_region_is_left():
    """n > d: no leaky interpolant; the surrogate's weights leave the region and say so."""
    from sklearn_relubias.exceptions import RegionMismatchWarning

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 10)), rng.standard_normal(40)
    with pytest.warns(RegionMismatchWarning, match="No interpolant exists within"):
        est = MinNormReLURegressor(activation="leaky_relu", negative_slope=0.1).fit(X, y)
    P = X @ est.hidden_weights_.T
    asked = np.outer(y, est.output_weights_) > 0
    left = max(np.max(P[~asked]), -np.min(P[asked])) / np.abs(P).max()
    assert not est.interpolates_
    assert est.kkt_residual_ >= left * (1 - 1e-12) > 1e-3  # never a small certificate
    np.testing.assert_array_equal(est.activation_pattern_, P > 1e-9 * np.abs(P).max(axis=0))
