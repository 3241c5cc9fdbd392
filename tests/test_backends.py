"""Every (operator form x activation x optimizer) the backends support, against the NumPy oracle."""

import warnings

import _reference as ref
import numpy as np
import pytest
from _reference import gaussian_problem, paper_estimator
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning

from sklearn_relubias._gd import OPTIMIZERS, _backends
from sklearn_relubias._model import ACTIVATIONS
from sklearn_relubias._plan import FitPlan

FORMS = {  # operator form: (solver, sparse input)
    "gram": ("dual", False),
    "dense": ("primal", False),
    "csr": ("primal", True),
}
COMBINATIONS = [
    (form, act, opt)
    for form in FORMS
    for act in ACTIVATIONS
    for opt in OPTIMIZERS
    if any(
        __import__(path, fromlist=["supports"]).supports(form, ACTIVATIONS[act].negative_slope, opt)
        for path in _backends.REGISTRY.values()
    )
]


def test_every_form_and_activation_is_supported():
    assert {(f, a) for f, a, _ in COMBINATIONS} == {(f, a) for f in FORMS for a in ACTIVATIONS}


@pytest.mark.nojit
@pytest.mark.parametrize("form, activation, optimizer", COMBINATIONS)
def test_iterates_match_the_numpy_oracle(form, activation, optimizer):
    solver, as_sparse = FORMS[form]
    X, y = gaussian_problem(9, 14, seed=7)
    est = paper_estimator(
        n_neurons=3,
        output_weights=[1.0, -0.5, 2.0],
        activation=activation,
        init="random",
        init_scale=1.0,
        random_state=4,
        learning_rate=1.3,
        max_iter=60,
        tol=0.0,
        solver=solver,
        compute_min_norm_gap=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(sparse.csr_matrix(X) if as_sparse else X, y)
    assert est.decisions_["operator_form"] == form
    slope = ACTIVATIONS[activation].negative_slope
    a = np.array([1.0, -0.5, 2.0])
    eta = ref.step_size(X, a, 1.3)
    Ws, losses = ref.gd(X, y, a, est.init_hidden_weights_, eta, 60, slope=slope)
    np.testing.assert_allclose(est.step_size_, eta, rtol=1e-12)
    np.testing.assert_allclose(est.hidden_weights_, Ws[-1], rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(est.loss_curve_, losses, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(est.activation_pattern_, X @ Ws[-1].T > 0)
    np.testing.assert_allclose(
        est.hidden_weights_, est.init_hidden_weights_ + est.dual_coef_.T @ X, atol=1e-12
    )


def test_reference_gradient_with_a_negative_slope_matches_central_differences():
    X, y = gaussian_problem(6, 5, seed=1)
    a = np.array([1.0, -1.0, 0.5])
    W = np.random.default_rng(2).standard_normal((3, 5))
    h = 1e-6
    for slope in (0.0, 0.3, 1.0):
        num = np.zeros_like(W)
        for idx in np.ndindex(W.shape):
            E = np.zeros_like(W)
            E[idx] = h
            diff = ref.loss(X, y, W + E, a, slope) - ref.loss(X, y, W - E, a, slope)
            num[idx] = diff / (2 * h)
        np.testing.assert_allclose(ref.gradient(X, y, W, a, slope), num, rtol=1e-6, atol=1e-9)


def test_the_driver_refuses_a_combination_no_backend_supports():
    from sklearn_relubias._model import Model

    X, y = gaussian_problem(5, 8, seed=0)
    problem = FitPlan(X, y, Model.from_params("relu", "balanced", 2), learning_rate=0.5).problem
    unsupported = problem.__class__(**{**problem.__dict__, "optimizer": "nonexistent"})
    with pytest.raises(ValueError, match="No gradient-descent backend supports.*nonexistent"):
        _backends.select(unsupported)
    assert _backends.select(problem).__name__.endswith("_numba")
