"""The estimators inside ordinary scikit-learn workflows."""

import pickle

import numpy as np
import pytest
from _reference import gaussian_problem
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_relubias import MinNormReLURegressor, ShallowReLURegressor

# Workflow tests on small random data, where gradient descent may strand an example.
pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn_relubias.exceptions.StrandedExampleWarning"
)

ESTIMATORS = [
    ShallowReLURegressor(learning_rate=0.5, init="random", random_state=0),
    MinNormReLURegressor(n_neurons=2),
]


@pytest.mark.parametrize("est", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_pipeline_and_score_is_r2(est):
    X, y = gaussian_problem(30, 200, seed=0)
    pipe = make_pipeline(StandardScaler(), clone(est)).fit(X[:20], y[:20])
    pred = pipe.predict(X[20:])
    assert pred.shape == (10,)
    np.testing.assert_allclose(pipe.score(X[20:], y[20:]), r2_score(y[20:], pred))


@pytest.mark.filterwarnings("ignore::sklearn_relubias.exceptions.DuplicateNeuronsWarning")
@pytest.mark.filterwarnings("ignore::sklearn_relubias.exceptions.StrandedExampleWarning")
def test_grid_search_parallel_matches_serial():
    X, y = gaussian_problem(40, 300, seed=1)
    grid = {"reg__learning_rate": [0.1, 1.0], "reg__n_neurons": [1, 2, 4]}
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("reg", ShallowReLURegressor(max_iter=2000, tol=1e-6, random_state=0)),
        ]
    )
    serial = GridSearchCV(pipe, grid, cv=3, n_jobs=1).fit(X, y)
    parallel = GridSearchCV(pipe, grid, cv=3, n_jobs=2).fit(X, y)
    np.testing.assert_array_equal(
        serial.cv_results_["mean_test_score"], parallel.cv_results_["mean_test_score"]
    )
    assert np.all(np.isfinite(serial.cv_results_["mean_test_score"]))  # every candidate fitted
    assert parallel.best_params_ == serial.best_params_
    np.testing.assert_array_equal(serial.predict(X), parallel.predict(X))


@pytest.mark.parametrize("est", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_clone_params_and_pickle_round_trip(est):
    X, y = gaussian_problem(15, 80, seed=2)
    params = est.get_params()
    twin = clone(est).set_params(**params)
    assert twin.get_params() == params
    fitted = clone(est).fit(X, y)
    np.testing.assert_array_equal(twin.fit(X, y).predict(X), fitted.predict(X))
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict(X), fitted.predict(X))
    with pytest.raises(NotFittedError):
        clone(est).predict(X)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"learning_rate": 2.0}, "learning_rate"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"learning_rate": -1}, "learning_rate"),
        ({"n_neurons": 0}, "n_neurons"),
        ({"init": "ones"}, "init"),
        ({"max_iter": 0}, "max_iter"),
        ({"tol": -1.0}, "tol"),
        ({"solver": "sgd"}, "solver"),
        ({"output_weights": "negative"}, "output_weights"),
        ({"output_weights": [1.0, 0.0], "n_neurons": 2}, "nonzero"),
        ({"output_weights": [1.0, -1.0, 1.0]}, "n_neurons"),
        ({"init_scale": -0.1}, "init_scale"),
    ],
)
def test_bad_parameters_name_the_problem(params, match):
    X, y = gaussian_problem(5, 10)
    with pytest.raises(ValueError, match=match):
        ShallowReLURegressor(**params).fit(X, y)


@pytest.mark.parametrize("Est", [ShallowReLURegressor, MinNormReLURegressor])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_input_rejected(Est, bad):
    X, y = gaussian_problem(6, 10)
    Xb = X.copy()
    Xb[2, 3] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        Est().fit(Xb, y)
    yb = y.copy()
    yb[1] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        Est().fit(X, yb)


def test_min_norm_tol_validated():
    with pytest.raises(ValueError, match="tol"):
        MinNormReLURegressor(tol=0).fit(*gaussian_problem(5, 10))


def test_float32_input_is_upcast_exactly():
    """float32 X is read as the float64 numbers it holds: the fit equals that float64 fit.

    Every product with X runs in float64 on exactly upcast values, so the only
    possible difference is the order of float64 sums (column blocks), a few eps
    relative; any float32 arithmetic would show at 1e-7.
    """
    X, y = gaussian_problem(12, 300, seed=3)
    X32 = X.astype(np.float32)
    for Est in (ShallowReLURegressor, MinNormReLURegressor):
        est32 = Est(learning_rate=0.5, random_state=0) if Est is ShallowReLURegressor else Est()
        est64 = clone(est32).fit(X32.astype(np.float64), y)
        est32.fit(X32, y)
        assert est32.hidden_weights_.dtype == np.float64
        np.testing.assert_allclose(
            est32.hidden_weights_,
            est64.hidden_weights_,
            rtol=1e-12,
            atol=1e-12 * np.abs(est64.hidden_weights_).max(),
        )
        np.testing.assert_allclose(est32.predict(X32), est64.predict(X32), rtol=1e-12, atol=1e-12)
