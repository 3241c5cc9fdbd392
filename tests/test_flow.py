"""Exact gradient flow against closed forms and against gradient descent at small steps."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sklearn_relubias import PAPER_MODEL, MinNormReLURegressor, ShallowReLURegressor
from sklearn_relubias.datasets import make_frozen_regression, make_orthogonal_regression
from sklearn_relubias.exceptions import StrandedExampleWarning
from sklearn_relubias.experiments import gradient_flow


def paper(**params):
    return ShallowReLURegressor(**PAPER_MODEL).set_params(**params)


def relative(A, B):
    return np.linalg.norm(A - B) / np.linalg.norm(B)


@pytest.mark.parametrize("n_neurons", [1, 2])
def test_flow_on_the_frozen_instance_is_its_closed_form(n_neurons):
    """One example switched off at t*, its coefficient frozen: the closed form 0.1706."""
    X, y, params = make_frozen_regression(n_features=3, random_state=0, return_params=True)
    res = gradient_flow(X, y, estimator=paper(n_neurons=n_neurons))
    np.testing.assert_allclose(res.hidden_weights[0], params["flow_hidden_weights"], atol=1e-10)
    assert res.min_norm_gap == pytest.approx(params["flow_gap"], abs=1e-10)
    assert res.events[0][:3] == (pytest.approx(params["switch_time"], rel=1e-10), 1, 0)
    if n_neurons == 2:  # the negative neuron stays at zero, strictly below on every example
        np.testing.assert_array_equal(res.hidden_weights[1], 0.0)


def test_flow_on_orthogonal_inputs_lands_on_the_minimum_norm_solution():
    """Gradient descent's gap there is exactly learning_rate / 2: the flow's is 0."""
    X, y = make_orthogonal_regression(20, 200, random_state=3)
    res = gradient_flow(X, y)
    W_star = MinNormReLURegressor().fit(X, y).hidden_weights_
    assert relative(res.hidden_weights, W_star) < 1e-12
    assert res.loss < 1e-25


def test_flow_of_one_leaky_neuron_from_zero_is_the_minimum_norm_interpolant():
    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((8, 40)), rng.standard_normal(8)
    est = paper(n_neurons=1, activation="leaky_relu", negative_slope=0.3)
    res = gradient_flow(X, y, estimator=est)
    W_star = MinNormReLURegressor(n_neurons=1, activation="leaky_relu", negative_slope=0.3)
    assert relative(res.hidden_weights, W_star.fit(X, y).hidden_weights_) < 1e-12


@pytest.mark.parametrize(
    "params",
    [
        {},  # the +/- pair from zero
        {"activation": "leaky_relu", "negative_slope": 0.3},
        {"n_neurons": 4, "init": "random", "init_scale": 0.1, "random_state": 0},
    ],
)
def test_gradient_descent_tends_to_the_flow_at_first_order(params):
    """||W_gd(lr) - W_flow|| is proportional to lr: a tenth at lr 1e-4 of its value at 1e-3."""
    rng = np.random.default_rng(5)
    X, y = rng.standard_normal((10, 200)), rng.standard_normal(10)
    with warnings.catch_warnings():  # some of these runs strand an example: compared as they are
        warnings.simplefilter("ignore", StrandedExampleWarning)
        res = gradient_flow(X, y, estimator=paper(**params))
    assert len(res.events) >= 2  # the run has events, not a single linear phase
    dist = []
    for lr in (1e-3, 1e-4):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", (ConvergenceWarning, StrandedExampleWarning))
            gd = paper(**params, learning_rate=lr, max_iter=2_000_000, tol=1e-12).fit(X, y)
        dist.append(relative(gd.hidden_weights_, res.hidden_weights))
    assert dist[1] < 0.15 * dist[0] and dist[1] < 5e-4


def test_flow_refuses_singular_gram_and_bad_targets():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="n_samples <= n_features; got 10 > 5"):
        gradient_flow(rng.standard_normal((10, 5)), rng.standard_normal(10))
    with pytest.raises(ValueError, match="finite targets"):
        gradient_flow(rng.standard_normal((3, 5)), [1.0, np.nan, 0.0])


def test_flow_reports_a_stranded_example():
    """The +/- pair on this draw strands example 9, in the flow as in gradient descent."""
    rng = np.random.default_rng(5)
    X, y = rng.standard_normal((10, 200)), rng.standard_normal(10)
    with pytest.warns(StrandedExampleWarning, match="Gradient flow stopped with 1 example"):
        res = gradient_flow(X, y)
    assert res.loss > 1e-4
    assert not np.any(res.activation_pattern & res.sliding)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gd = paper(learning_rate=1e-3, max_iter=2_000_000, tol=1e-12).fit(X, y)
    np.testing.assert_array_equal(res.stranded_indices, gd.stranded_indices_)
    assert res.loss == pytest.approx(gd.loss_curve_[-1], rel=1e-2)


@pytest.mark.parametrize("n, d, seed", [(8, 30, 0), (10, 200, 3), (5, 8, 2)])
def test_flow_starts_where_gradient_descents_first_step_goes(n, d, seed):
    """Draws where sign(K y) differs from sign(y), and one where the + neuron dies in the
    first steps: gradient descent's first-step map, not the kink's QP alone, decides."""
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((n, d)), rng.standard_normal(n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (ConvergenceWarning, StrandedExampleWarning))
        res = gradient_flow(X, y)
        dist = [
            relative(
                paper(learning_rate=lr, max_iter=10**6, tol=1e-12).fit(X, y).hidden_weights_,
                res.hidden_weights,
            )
            for lr in (1e-2, 1e-3)
        ]
    assert dist[1] < 0.15 * dist[0]
    assert res.certificate < 1e-10  # its end point is a rest point of the flow


def test_flow_does_not_depend_on_the_scale_of_x():
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((8, 30)), rng.standard_normal(8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StrandedExampleWarning)
        W = gradient_flow(X, y).hidden_weights
        W_big = gradient_flow(X * 1e6, y).hidden_weights
    assert relative(W_big * 1e6, W) < 1e-10
    with pytest.raises(ValueError, match="non-singular X X"):
        gradient_flow(np.vstack([X, X[:1]]), np.append(y, 0.0))
