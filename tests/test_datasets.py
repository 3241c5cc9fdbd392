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
    # <v, x> has unit variance
    assert 0.7 < np.std(X @ V.T) < 1.3


def test_noise_and_rademacher():
    _, y = make_high_dim_regression(1000, 2, labels="rademacher", random_state=4)
    assert set(np.unique(y)) == {-1.0, 1.0}
    _, y0 = make_high_dim_regression(500, 5, labels="teacher", random_state=5)
    _, y1 = make_high_dim_regression(500, 5, labels="teacher", noise=0.5, random_state=5)
    np.testing.assert_allclose(np.std(y1 - y0), 0.5, rtol=0.1)


def test_orthogonal_inputs():
    X, y = make_orthogonal_regression(10, 64, labels="rademacher", random_state=6)
    np.testing.assert_allclose(X @ X.T, 64 * np.eye(10), atol=1e-10)
    with pytest.raises(ValueError, match="n_samples <= n_features"):
        make_orthogonal_regression(5, 4)


def test_orthogonal_gap_vanishes_with_the_step():
    """Orthogonal data: the GD limit tends to the minimum-norm solution as learning_rate -> 0."""
    X, y = make_orthogonal_regression(12, 100, random_state=7)
    gaps = [
        ShallowReLURegressor(n_neurons=2, learning_rate=lr, max_iter=200000).fit(X, y).min_norm_gap_
        for lr in (0.1, 0.01, 0.001)
    ]
    assert gaps[0] > gaps[1] > gaps[2]
    assert gaps[2] < 2e-3
    np.testing.assert_allclose(gaps[1] / gaps[2], 10, rtol=0.2)  # gap proportional to the step


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
    assert gd.min_norm_gap_ > 0.9
    assert gd.loss_curve_[-1] > 0.5 * np.mean((ref.predict(X) - y) ** 2) + 0.1


def test_adversarial_needs_enough_pull():
    with pytest.raises(ValueError, match="outweigh"):
        make_adversarial_regression(n_samples=3, angle=70)
