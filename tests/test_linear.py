"""The linear-activation control: gradient descent from zero lands on the minimum-norm solution.

With ``sigma(z) = z`` the model is ``<beta, x>``, ``beta = sum_j a_j w_j``,
and its reference is ``W* = a beta^T / ||a||^2`` with ``beta = X^+ y`` (the
minimum-norm least-squares solution, computed here by ``np.linalg.lstsq``).
"""

import numpy as np
import pytest
from _reference import gaussian_problem, paper_estimator
from scipy import sparse

from sklearn_relubias import MinNormReLURegressor
from sklearn_relubias.metrics import min_norm_reference


def lstsq_reference(X, y, a, sample_weight=None):
    """``a beta^T / ||a||^2`` with beta the minimum-norm (weighted) least-squares solution."""
    root = np.ones(len(y)) if sample_weight is None else np.sqrt(sample_weight)
    beta = np.linalg.lstsq(root[:, None] * X, root * y, rcond=None)[0]
    return np.outer(a, beta) / np.dot(a, a)


@pytest.mark.parametrize("n, d", [(12, 80), (30, 400), (60, 12), (20, 20)])
@pytest.mark.parametrize("output_weights", ["balanced", [1.0, 2.0, -0.5]])
def test_reference_is_the_minimum_norm_least_squares_solution(n, d, output_weights):
    X, y = gaussian_problem(n, d, seed=n + d)
    est = MinNormReLURegressor(
        n_neurons=3 if not isinstance(output_weights, str) else 2,
        output_weights=output_weights,
        activation="linear",
    ).fit(X, y)
    expected = lstsq_reference(X, y, est.output_weights_)
    np.testing.assert_allclose(est.hidden_weights_, expected, rtol=1e-10, atol=1e-13)
    assert est.interpolates_ == (n <= d)
    np.testing.assert_allclose(est.hidden_weights_, est.dual_coef_.T @ X, atol=1e-12)
    beta = est.output_weights_ @ est.hidden_weights_
    np.testing.assert_allclose(est.predict(X), X @ beta, rtol=1e-12, atol=1e-12)
    if n <= d:
        assert est.kkt_residual_ <= 1e-12  # max|X beta - y| / max|y|
    else:  # the normal equations X^T (X beta - y) = 0, relative
        assert est.kkt_residual_ <= 1e-12
        residual = X @ beta - y
        assert np.linalg.norm(X.T @ residual) <= 1e-10 * np.linalg.norm(X) * np.linalg.norm(y)


def test_reference_with_sample_weights_sparse_input_and_the_public_function():
    X, y = gaussian_problem(40, 10, seed=3)  # no interpolant: weights matter
    w = np.random.default_rng(0).uniform(0.2, 3.0, 40)
    a = np.array([1.0, -1.0])
    expected = lstsq_reference(X, y, a, sample_weight=w)
    est = MinNormReLURegressor(activation="linear").fit(X, y, sample_weight=w)
    np.testing.assert_allclose(est.hidden_weights_, expected, rtol=1e-10, atol=1e-13)
    sp = MinNormReLURegressor(activation="linear").fit(sparse.csr_matrix(X), y, sample_weight=w)
    np.testing.assert_allclose(sp.hidden_weights_, expected, rtol=1e-8, atol=1e-11)
    ref = min_norm_reference(X, y, a, sample_weight=w, activation="linear")
    np.testing.assert_allclose(ref.weights, expected, rtol=1e-10, atol=1e-13)
    # an interpolant does not depend on the weights
    Xw, yw = gaussian_problem(10, 50, seed=4)
    ww = np.random.default_rng(1).uniform(0.2, 3.0, 10)
    plain = MinNormReLURegressor(activation="linear").fit(Xw, yw).hidden_weights_
    weighted = MinNormReLURegressor(activation="linear").fit(Xw, yw, sample_weight=ww)
    np.testing.assert_allclose(weighted.hidden_weights_, plain, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("solver", ["dual", "primal"])
@pytest.mark.parametrize("as_sparse", [False, True])
@pytest.mark.parametrize(
    "n_neurons, output_weights", [(1, "balanced"), (2, "balanced"), (3, [1.0, 2.0, -0.5])]
)
def test_gradient_descent_from_zero_lands_on_the_reference(
    solver, as_sparse, n_neurons, output_weights
):
    X, y = gaussian_problem(15, 300, seed=11)
    Xv = sparse.csr_matrix(X) if as_sparse else X
    est = paper_estimator(
        n_neurons=n_neurons,
        output_weights=output_weights,
        activation="linear",
        learning_rate=1.0,
        max_iter=20_000,
        solver=solver,
    ).fit(Xv, y)
    assert est.decisions_["status"] == "converged"
    assert est.min_norm_gap_ < 1e-8
    expected = lstsq_reference(X, y, est.output_weights_)
    gap = np.linalg.norm(est.hidden_weights_ - expected) / np.linalg.norm(expected)
    assert gap < 1e-8
    assert est.stranded_indices_.size == 0


def test_relu_from_zero_does_not_land_on_its_reference_where_linear_does():
    """The control's point: the same data, the same step; only the activation differs."""
    X, y = gaussian_problem(20, 2000, seed=12)
    kw = dict(n_neurons=1, learning_rate=0.5, max_iter=50_000)
    linear = paper_estimator(activation="linear", **kw).fit(X, y)
    relu = paper_estimator(**kw).fit(X, y)
    assert linear.min_norm_gap_ < 1e-8
    assert relu.min_norm_gap_ > 1e-2  # frozen coefficients of the examples it stops fitting
