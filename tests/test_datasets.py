import _reference
import numpy as np
import pytest

from sklearn_relubias import MinNormReLURegressor, ShallowReLURegressor
from sklearn_relubias.datasets import (
    make_adversarial_regression,
    make_high_dim_regression,
    make_orthogonal_regression,
)


def test_high_dim_shapes_seed_and_params():
    X, y, p = make_high_dim_regression(30, 400, random_state=0, return_params=True)
    assert X.shape == (30, 400) and y.shape == (30,)
    np.testing.assert_array_equal(p["spectrum"], np.ones(400))
    X2, y2 = make_high_dim_regression(30, 400, random_state=0)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)


def test_power_law_spectrum_is_the_covariance():
    X, _, p = make_high_dim_regression(
        20000, 5, spectrum="power_law", exponent=2.0, random_state=1, return_params=True
    )
    lam = p["spectrum"]
    expected = np.arange(1, 6, dtype=float) ** -2.0
    np.testing.assert_allclose(lam, expected * 5 / expected.sum())
    # An entry of the sample covariance of N Gaussian draws has standard deviation
    # sqrt(lam_i lam_j (1 + [i == j]) / N) <= sqrt(2 / 20000) lam_max = 0.01 lam_max:
    # 0.06 lam_max is 6 standard deviations.
    np.testing.assert_allclose(np.cov(X.T), np.diag(lam), atol=0.06 * lam.max())


def test_array_spectrum_and_validation():
    lam = np.array([4.0, 1.0, 0.0])
    X, _ = make_high_dim_regression(10, 3, spectrum=lam, random_state=2)
    np.testing.assert_array_equal(X[:, 2], 0.0)
    with pytest.raises(ValueError, match="spectrum"):
        make_high_dim_regression(10, 3, spectrum=[1.0, -1.0, 1.0])
    with pytest.raises(ValueError, match="labels"):
        make_high_dim_regression(10, 3, labels="uniform")


def test_teacher_labels_come_from_the_planted_network():
    X, y, p = make_high_dim_regression(
        50, 300, labels="teacher", n_teacher_neurons=3, random_state=3, return_params=True
    )
    V, a = p["teacher_hidden_weights"], p["teacher_output_weights"]
    np.testing.assert_array_equal(a, [1.0, -1.0, 1.0])
    np.testing.assert_allclose(y, np.maximum(X @ V.T, 0) @ a)
    # <v, x> has unit variance on average over V: given V it is N(0, ||v_j||^2) with
    # ||v_j||^2 ~ chi2(300) / 300 (sd 0.08, mean of 3: 0.047 on the variance, 0.024 on the
    # std); the sample std of 3 x 50 values adds sd 1 / sqrt(2 * 150) = 0.058. Both: about
    # 0.063, so +/- 0.3 is ~5 standard deviations.
    assert 0.7 < np.std(X @ V.T) < 1.3


def test_noise_and_rademacher():
    _, y = make_high_dim_regression(1000, 2, labels="rademacher", random_state=4)
    assert set(np.unique(y)) == {-1.0, 1.0}
    _, y0 = make_high_dim_regression(5000, 5, labels="teacher", random_state=5)
    _, y1 = make_high_dim_regression(5000, 5, labels="teacher", noise=0.5, random_state=5)
    # same seed, same X and teacher: y1 - y0 is the noise alone. The sample std of N
    # normal draws has relative standard deviation 1 / sqrt(2 (N - 1)) = 0.01: rtol=0.05
    # is 5 of them.
    np.testing.assert_allclose(np.std(y1 - y0), 0.5, rtol=0.05)


def test_orthogonal_inputs():
    X, y = make_orthogonal_regression(10, 64, labels="rademacher", random_state=6)
    np.testing.assert_allclose(X @ X.T, 64 * np.eye(10), atol=1e-10)
    with pytest.raises(ValueError, match="n_samples <= n_features"):
        make_orthogonal_regression(5, 4)


@pytest.mark.parametrize("learning_rate", [0.1, 0.01, 0.001])
def test_orthogonal_gap_is_half_the_step(learning_rate):
    """Orthogonal data, the +/- pair from zero: ``min_norm_gap_ == learning_rate / 2``.

    With ``X X^T = d I`` every example evolves on its own, and
    ``eta = learning_rate n / (2 d)`` (``||a||^2 = 2``, ``lambda_max = d``). The
    first step from ``W = 0`` (``g = 1`` everywhere, ``r = -y``) sets
    ``c_ij = eta a_j y_i / n = learning_rate a_j y_i / (2 d)``, so
    ``p_ij = learning_rate a_j y_i / 2``. The neuron with ``a_j y_i > 0`` stays
    active, its residual shrinks by ``1 - learning_rate / 2`` per step and
    ``c_ij -> a_j y_i / d``, the coefficient of ``W*`` (one neuron per sign group,
    ``w_j = u``); the other neuron is inactive from then on and keeps
    ``learning_rate a_j y_i / (2 d)`` where ``W*`` has 0. The inputs being
    orthogonal, ``||W - W*||^2 = sum_i (learning_rate y_i / (2 d))^2 d`` and
    ``||W*||^2 = sum_i (y_i / d)^2 d``: the gap is ``learning_rate / 2``. Stopping
    at ``tol=1e-10`` leaves an error of order ``1e-10 ||W*||`` on the active
    coefficients, orthogonal to the frozen ones, which moves the gap by about
    ``1e-20 / learning_rate^2`` relative: ``rel=1e-9`` is for rounding.
    """
    X, y = make_orthogonal_regression(12, 100, random_state=7)
    assert np.all(y != 0)
    est = ShallowReLURegressor(n_neurons=2, learning_rate=learning_rate, max_iter=200000)
    assert est.fit(X, y).min_norm_gap_ == pytest.approx(learning_rate / 2, rel=1e-9)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("learning_rate", [1.5, 0.1, 0.001])
def test_adversarial_instance_kills_the_neuron(seed, learning_rate):
    X, y = make_adversarial_regression(n_samples=4, n_features=3, random_state=seed)
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0)
    ref = MinNormReLURegressor(n_neurons=1).fit(X, y)
    assert ref.interpolates_
    with pytest.warns(UserWarning, match="inactive for every neuron that could fit them"):
        gd = ShallowReLURegressor(n_neurons=1, learning_rate=learning_rate).fit(X, y)
    assert not gd.activation_pattern_.any()
    assert gd.n_iter_ == 1
    # One step from W = 0 (g = 1 everywhere, r = -y): W_1 = eta / n X^T y, which the
    # generator makes negative on every example, so the gradient then vanishes.
    n = len(y)
    W1 = _reference.step_size(X, np.ones(1), learning_rate) / n * (y @ X)
    np.testing.assert_allclose(gd.hidden_weights_[0], W1, rtol=1e-12)
    W_star = ref.hidden_weights_
    expected_gap = np.linalg.norm(W1 - W_star) / np.linalg.norm(W_star)
    assert gd.min_norm_gap_ == pytest.approx(expected_gap, rel=1e-9)
    # Dead neuron: f = 0, loss mean(y^2) / 2 = 1/2. W* fits x_+ and leaves the n - 1
    # labels -1 at f = 0: loss (n - 1) / (2 n). GD stops 1 / (2 n) above the minimum.
    assert gd.loss_curve_[-1] == pytest.approx(0.5, rel=1e-12)
    assert 0.5 * np.mean((ref.predict(X) - y) ** 2) == pytest.approx((n - 1) / (2 * n), rel=1e-9)


def test_adversarial_needs_enough_pull():
    with pytest.raises(ValueError, match="outweigh"):
        make_adversarial_regression(n_samples=3, angle=70)
