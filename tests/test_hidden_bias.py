"""Hidden biases (``hidden_bias=c``): the same programs on ``[X, c 1]``; the n > d stranded rule."""

import itertools
import warnings

import cvxpy as cp
import numpy as np
import pytest
from _reference import cvxpy_region, gaussian_problem, paper_estimator, relative_gap
from _reference import gd as reference_gd
from _reference import step_size as reference_step_size
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

import sklearn_relubias._plan as plan_module
import sklearn_relubias._shallow as shallow_module
from sklearn_relubias import MinNormReLURegressor, Precomputed, ShallowReLURegressor
from sklearn_relubias._base import split_bias
from sklearn_relubias._model import append_constant
from sklearn_relubias.exceptions import RegionMismatchWarning, StrandedExampleWarning

# uncentred inputs and few steps: the tests compare fits, not their quality
pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    pytest.mark.filterwarnings("ignore::sklearn_relubias.exceptions.RegionMismatchWarning"),
    pytest.mark.filterwarnings("ignore::sklearn_relubias.exceptions.StrandedExampleWarning"),
]


def shifted_problem(n, d, seed, shift=1.0):
    """Mean-shifted Gaussian inputs (every coordinate N(shift, 1)) and +/-1 labels."""
    r = np.random.default_rng(seed)
    return r.standard_normal((n, d)) + shift, np.where(r.standard_normal(n) > 0, 1.0, -1.0)


def with_constant(X, c):
    """``[X, c 1]`` written out (the oracle's augmentation, dense or CSR)."""
    column = np.full((X.shape[0], 1), c)
    if sparse.issparse(X):
        return sparse.csr_matrix(np.hstack([X.toarray(), column]))
    return np.hstack([X, column])


def rel(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(b), np.finfo(float).tiny)


# -- (a) gradient descent with biases is gradient descent on [X, c 1] -----------------


@pytest.mark.parametrize("form", ["dense", "csr"])
@pytest.mark.parametrize("solver", ["primal", "dual"])
@pytest.mark.parametrize("init", ["zero", "random"])
def test_gd_with_hidden_bias_is_gd_on_the_augmented_inputs(form, solver, init):
    c = 2.5
    X, y = shifted_problem(12, 40, seed=1)
    if form == "csr":
        X[np.abs(X - 1) < 0.8] = 0.0  # sparse, no empty row
        X = sparse.csr_matrix(X)
    X_aug = with_constant(X, c)
    kw = dict(init=init, init_scale=0.5, random_state=0, solver=solver, max_iter=300)
    est = paper_estimator(**kw, hidden_bias=c).fit(X, y)
    aug = paper_estimator(**kw).fit(X_aug, y)
    W_aug = aug.hidden_weights_
    assert est.hidden_weights_.shape == (2, 40) and est.hidden_biases_.shape == (2,)
    assert est.n_features_in_ == 40 and aug.n_features_in_ == 41
    np.testing.assert_allclose(est.hidden_weights_, W_aug[:, :-1], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(est.hidden_biases_, c * W_aug[:, -1], rtol=1e-12, atol=1e-15)
    W0 = aug.init_hidden_weights_
    np.testing.assert_allclose(est.init_hidden_weights_, W0[:, :-1], rtol=1e-12, atol=0)
    np.testing.assert_allclose(est.init_hidden_biases_, c * W0[:, -1], rtol=1e-12, atol=0)
    assert (init == "random") == bool(est.init_hidden_biases_.any())
    np.testing.assert_allclose(est.dual_coef_, aug.dual_coef_, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(est.loss_curve_, aug.loss_curve_, rtol=1e-12, atol=0)
    np.testing.assert_array_equal(est.activation_pattern_, aug.activation_pattern_)
    assert est.n_iter_ == aug.n_iter_
    assert est.step_size_ == pytest.approx(aug.step_size_, rel=1e-12)
    assert est.min_norm_gap_ == pytest.approx(aug.min_norm_gap_, rel=1e-10)
    # the data-span identities, with the bias column of [X, c 1]
    X_dense = X.toarray() if sparse.issparse(X) else X
    C = est.dual_coef_
    np.testing.assert_allclose(
        est.hidden_weights_, est.init_hidden_weights_ + C.T @ X_dense, rtol=1e-10, atol=1e-13
    )
    np.testing.assert_allclose(
        est.hidden_biases_, est.init_hidden_biases_ + c**2 * C.sum(axis=0), rtol=1e-10
    )


@pytest.mark.parametrize("solver", ["primal", "dual"])
def test_gd_with_hidden_bias_follows_the_numpy_transcription_on_the_augmented_inputs(solver):
    # independent of the estimator's own augmentation: the step is normalised by
    # lambda_max([X, c1]^T [X, c1]) and every iterate is that of GD on [X, c 1]
    c, n_steps = 10.0, 25
    X, y = shifted_problem(10, 30, seed=2)
    X_aug = with_constant(X, c)
    a = np.array([1.0, -1.0])
    est = paper_estimator(hidden_bias=c, max_iter=n_steps, solver=solver, learning_rate=0.5)
    est.fit(X, y)
    eta = reference_step_size(X_aug, a, 0.5)
    assert est.step_size_ == pytest.approx(eta, rel=1e-12)
    assert eta < reference_step_size(X, a, 0.5) / 2  # c matters: c^2 n dominates here
    Ws, losses = reference_gd(X_aug, y, a, np.zeros((2, 31)), eta, n_steps)
    np.testing.assert_allclose(est.hidden_weights_, Ws[-1][:, :-1], rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(est.hidden_biases_, c * Ws[-1][:, -1], rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(est.loss_curve_, losses, rtol=1e-10)


def test_gram_and_precomputed_with_hidden_bias():
    c = 1.5
    X, y = shifted_problem(12, 60, seed=3)
    kw = dict(solver="dual", max_iter=200, hidden_bias=c)
    plain = paper_estimator(**kw).fit(X, y)
    given = paper_estimator(**kw).fit(X, y, gram=X @ X.T)  # the Gram matrix of X itself
    np.testing.assert_allclose(given.hidden_weights_, plain.hidden_weights_, rtol=1e-12)
    np.testing.assert_allclose(given.hidden_biases_, plain.hidden_biases_, rtol=1e-12)
    assert given.decisions_["gram_products"] == 0
    data = Precomputed(X)
    first = paper_estimator(**kw).fit(X, y, gram=data)
    second = paper_estimator(**kw, learning_rate=0.3).fit(X, y, gram=data)
    np.testing.assert_allclose(first.hidden_weights_, plain.hidden_weights_, rtol=1e-12)
    assert first.min_norm_gap_ == pytest.approx(plain.min_norm_gap_, rel=1e-12)
    assert second.decisions_["gram_products"] == 1  # K + c^2 formed once for both fits
    assert second.decisions_["references_solved"] == 1
    # a Precomputed with K known: K + c^2 1 1^T without a product
    known = Precomputed(X, gram=X @ X.T)
    third = paper_estimator(**kw).fit(X, y, gram=known)
    np.testing.assert_allclose(third.hidden_weights_, plain.hidden_weights_, rtol=1e-12)
    assert third.decisions_["gram_products"] == 0
    with pytest.raises(ValueError, match="diagonal"):
        paper_estimator(**kw).fit(X, y, gram=with_constant(X, c) @ with_constant(X, c).T)


# -- (b) predict is the forward pass with biases ----------------------------------------


@pytest.mark.parametrize("form", ["dense", "csr", "float32"])
def test_predict_is_the_forward_pass_with_biases(form):
    c = 2.0
    X, y = shifted_problem(15, 30, seed=4)
    X_test = np.random.default_rng(5).standard_normal((7, 30)) + 1.0
    est = ShallowReLURegressor(
        n_neurons=4, hidden_bias=c, fit_intercept=True, random_state=0, max_iter=300
    )
    if form == "csr":
        fit_X, test_X = sparse.csr_matrix(X), sparse.csr_matrix(X_test)
    elif form == "float32":
        fit_X, test_X = X.astype(np.float32), X_test.astype(np.float32)
    else:
        fit_X, test_X = X, X_test
    est.fit(fit_X, y)
    W, b, a = est.hidden_weights_, est.hidden_biases_, est.output_weights_
    assert np.abs(b).max() > 1e-3 * np.abs(W).max()  # the biases matter
    dense = test_X.toarray() if sparse.issparse(test_X) else test_X.astype(np.float64)
    expected = sum(a[j] * np.maximum(dense @ W[j] + b[j], 0.0) for j in range(4))
    expected = expected + est.intercept_
    rtol = 1e-6 if form == "float32" else 1e-12
    np.testing.assert_allclose(est.predict(test_X), expected, rtol=rtol, atol=rtol * 1e-3)
    assert est.predict(test_X).dtype == (np.float32 if form == "float32" else np.float64)


def test_feature_names_stay_the_users():
    pd = pytest.importorskip("pandas")
    X, y = shifted_problem(10, 6, seed=6)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(6)])
    for est in (
        ShallowReLURegressor(hidden_bias=1.0, max_iter=50),
        MinNormReLURegressor(hidden_bias=1.0),
    ):
        est.fit(frame, y)
        assert est.n_features_in_ == 6
        assert est.feature_names_in_.tolist() == list(frame.columns)
        assert est.hidden_weights_.shape == (est.n_neurons, 6)
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)  # no feature-name warning
            est.predict(frame)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # X without names
            with pytest.raises(ValueError, match="features"):
                est.predict(X[:, :5])


# -- (c) the minimum-norm reference with biases -----------------------------------------


@pytest.mark.parametrize("n_neurons", [1, 2])
def test_min_norm_with_hidden_bias_is_the_program_on_the_augmented_inputs(n_neurons):
    c = 1.5
    X, y = shifted_problem(8, 20, seed=7)
    y = y * np.linspace(0.5, 2.0, 8)
    X_aug = with_constant(X, c)
    est = MinNormReLURegressor(n_neurons=n_neurons, hidden_bias=c).fit(X, y)
    aug = MinNormReLURegressor(n_neurons=n_neurons).fit(X_aug, y)
    assert est.interpolates_ and aug.interpolates_
    np.testing.assert_allclose(est.hidden_weights_, aug.hidden_weights_[:, :-1], rtol=1e-12)
    np.testing.assert_allclose(est.hidden_biases_, c * aug.hidden_weights_[:, -1], rtol=1e-12)
    np.testing.assert_allclose(est.dual_coef_, aug.dual_coef_, rtol=1e-12)
    np.testing.assert_array_equal(est.activation_pattern_, aug.activation_pattern_)
    # cvxpy/Clarabel on [X, c 1]: min ||W||^2 (bias weights included) in the label-sign region
    a = est.output_weights_
    region = np.outer(y, a) > 0
    reachable = np.where(region.any(axis=1), y, 0.0)  # one neuron: 0 where y <= 0
    W_cvx = cvxpy_region(X_aug, reachable, a, region)
    W_est = np.column_stack([est.hidden_weights_, est.hidden_biases_ / c])
    assert rel(W_est, W_cvx) <= 1e-6
    assert np.abs(est.hidden_biases_).max() > 1e-2 * np.abs(est.hidden_weights_).max()
    np.testing.assert_allclose(est.predict(X), reachable, atol=1e-9)
    np.testing.assert_allclose(est.hidden_biases_, c**2 * est.dual_coef_.sum(axis=0), atol=1e-9)


def test_the_gap_of_a_biased_fit_counts_the_bias_weights():
    c = 2.0
    X, y = shifted_problem(10, 40, seed=8)
    est = paper_estimator(hidden_bias=c, max_iter=400).fit(X, y)
    ref = MinNormReLURegressor(hidden_bias=c).fit(X, y)
    W = np.column_stack([est.hidden_weights_, est.hidden_biases_ / c])
    W_star = np.column_stack([ref.hidden_weights_, ref.hidden_biases_ / c])
    assert est.min_norm_gap_ == pytest.approx(relative_gap(W, W_star), rel=1e-9)
    assert est.min_norm_distance_ == pytest.approx(np.linalg.norm(W - W_star), rel=1e-9)


# -- (d) hidden_bias=0 is the paper's model, untouched ----------------------------------


def test_zero_hidden_bias_is_the_unbiased_code_path(monkeypatch):
    X, y = shifted_problem(10, 40, seed=9)
    assert append_constant(X, 0.0) is X  # no copy of X
    W = np.ones((2, 40))
    assert split_bias(W, 0.0)[0] is W
    seen = []
    original = plan_module.FitPlan.__init__

    def spy(self, X_plan, *args, **kwargs):
        seen.append(X_plan)
        original(self, X_plan, *args, **kwargs)

    monkeypatch.setattr(plan_module.FitPlan, "__init__", spy)
    est = paper_estimator(max_iter=300).fit(X, y)
    assert seen[0] is X  # float64 C-ordered: gradient descent runs on the user's array
    assert MinNormReLURegressor().fit(X, y).hidden_biases_.tolist() == [0.0, 0.0]
    assert est.hidden_biases_.tolist() == [0.0, 0.0] == est.init_hidden_biases_.tolist()
    # predict is the unbiased forward pass, bitwise
    expected = est._fitted_model().forward(X, est.hidden_weights_) + est.intercept_
    np.testing.assert_array_equal(est.predict(X), expected)
    # and the default is 0: bitwise the same fit
    explicit = paper_estimator(max_iter=300, hidden_bias=0.0).fit(X, y)
    for name in ("hidden_weights_", "dual_coef_", "loss_curve_", "activation_pattern_"):
        np.testing.assert_array_equal(getattr(explicit, name), getattr(est, name))


def test_hidden_bias_parameter_and_warm_start():
    X, y = shifted_problem(10, 40, seed=10)
    with pytest.raises(ValueError, match="hidden_bias"):
        ShallowReLURegressor(hidden_bias=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="hidden_bias"):
        MinNormReLURegressor(hidden_bias=-0.5).fit(X, y)
    with pytest.raises(ValueError, match="hidden_bias"):
        ShallowReLURegressor(hidden_bias=np.inf).fit(X, y)
    with pytest.raises(ValueError, match="not finite"):
        MinNormReLURegressor(hidden_bias=1e39).fit(X.astype(np.float32), y)
    long = paper_estimator(hidden_bias=2.0, max_iter=200).fit(X, y)
    warm = paper_estimator(hidden_bias=2.0, max_iter=100, warm_start=True).fit(X, y)
    warm.fit(X, y)
    assert warm.n_iter_ == 200
    np.testing.assert_allclose(warm.hidden_weights_, long.hidden_weights_, rtol=1e-10)
    np.testing.assert_allclose(warm.hidden_biases_, long.hidden_biases_, rtol=1e-10)
    before = warm.hidden_biases_.copy()
    with pytest.raises(ValueError, match="hidden_bias=0 cannot represent"):
        warm.set_params(hidden_bias=0.0).fit(X, y)
    np.testing.assert_array_equal(warm.hidden_biases_, before)  # the fit was atomic


def test_callbacks_score_the_biased_iterates():
    callback = pytest.importorskip("sklearn.callback", reason="scikit-learn < 1.9")
    from sklearn_relubias._callbacks import MIN_CHUNK_STEPS

    X, y = shifted_problem(10, 40, seed=11)
    kw = dict(hidden_bias=3.0, learning_rate=0.05, max_iter=2 * MIN_CHUNK_STEPS, tol=0.0)
    monitor = callback.ScoringMonitor(scoring=["r2"])
    paper_estimator(**kw).set_callbacks(monitor).fit(X, y)
    row = [r for r in monitor.get_logs().data if r["task_name"] == "gradient steps"][0]
    partial = paper_estimator(**{**kw, "max_iter": MIN_CHUNK_STEPS}).fit(X, y)
    assert row["r2"] == pytest.approx(partial.score(X, y), rel=1e-12)


@parametrize_with_checks(
    [
        ShallowReLURegressor(hidden_bias=1.0, max_iter=300, tol=1e-6),
        MinNormReLURegressor(n_neurons=2, hidden_bias=2.0),
    ]
)
def test_sklearn_checks_with_hidden_bias(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RegionMismatchWarning)
        check(estimator)


# -- StrandedExampleWarning when n > d ----------------------------------------------------


def global_min_loss(X, y):
    """The global minimum of one ReLU neuron's loss, by enumerating activation patterns.

    Per pattern S (active rows): min sum_{i in S} (<w,x_i> - y_i)^2 + sum_{i not in S} y_i^2
    under <w,x_i> >= 0 on S, <= 0 off it (a convex QP, cvxpy/Clarabel); 2^n programs.
    """
    n, d = X.shape
    best = np.inf
    for bits in itertools.product([False, True], repeat=n):
        S = np.array(bits)
        w = cp.Variable(d)
        z = X @ w
        cons = ([z[S] >= 0] if S.any() else []) + ([z[~S] <= 0] if (~S).any() else [])
        fit = cp.sum_squares(z[S] - y[S]) if S.any() else cp.Constant(0.0)
        problem = cp.Problem(cp.Minimize(fit), cons)
        problem.solve(solver="CLARABEL")
        if problem.status == "optimal":
            best = min(best, (problem.value + np.sum(y[~S] ** 2)) / (2 * n))
    return best


def one_neuron_fit(X, y):
    est = paper_estimator(n_neurons=1, learning_rate=1.0, compute_min_norm_gap=True)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        est.fit(X, y)
    stranded_warnings = [w for w in record if issubclass(w.category, StrandedExampleWarning)]
    return est, len(stranded_warnings)


def loss(est, X, y):
    return 0.5 * np.mean((est.predict(X) - y) ** 2)


def test_no_stranded_warning_at_the_global_minimum_when_n_exceeds_d(monkeypatch):
    X, y = gaussian_problem(8, 5, seed=14)  # n > d: the reference does not interpolate
    ref = MinNormReLURegressor(n_neurons=1).fit(X, y)
    assert not ref.interpolates_
    est, n_warnings = one_neuron_fit(X, y)
    assert est.decisions_["status"] == "converged" and est.stranded_indices_.size > 0
    # gradient descent is at the global minimum of the loss (oracle: enumeration),
    # below the surrogate's minimiser
    assert loss(est, X, y) == pytest.approx(global_min_loss(X, y), rel=1e-9)
    assert loss(est, X, y) < loss(ref, X, y)
    assert n_warnings == 0
    # the rule before: it warned here
    monkeypatch.setattr(shallow_module, "_at_reference_loss", lambda plan, P: False)
    assert one_neuron_fit(X, y)[1] == 1


def test_stranded_warning_on_a_stuck_fit_when_n_exceeds_d():
    X, y = gaussian_problem(8, 5, seed=23)
    ref = MinNormReLURegressor(n_neurons=1).fit(X, y)
    assert not ref.interpolates_
    est, n_warnings = one_neuron_fit(X, y)
    assert est.stranded_indices_.size > 0
    # the reference's weights fit better: gradient descent is above the global minimum
    assert loss(est, X, y) > 1.5 * loss(ref, X, y)
    assert n_warnings == 1


def test_reference_gaps_and_flow_of_a_biased_fit_are_those_of_the_augmented_problem():
    """reference_gaps and gradient_flow with hidden_bias=c equal their runs on [X, c 1]."""
    from sklearn_relubias import PAPER_MODEL
    from sklearn_relubias.experiments import gradient_flow
    from sklearn_relubias.metrics import reference_gaps

    rng = np.random.default_rng(11)
    X, y = rng.standard_normal((10, 60)) + 1.0, rng.standard_normal(10)
    c = 2.0
    X_aug = np.column_stack([X, np.full(10, c)])
    params = {**PAPER_MODEL, "n_neurons": 4, "init": "random", "init_scale": 0.1, "random_state": 0}
    params["max_iter"] = 50_000
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        biased = ShallowReLURegressor(**params, hidden_bias=c).fit(X, y)
        plain = ShallowReLURegressor(**params).fit(X_aug, y)
    refs = ("label_sign", "own_region", "init_relative", "ntk")
    g_b, g_p = (
        reference_gaps(biased, X, y, references=refs),
        reference_gaps(plain, X_aug, y, references=refs),
    )
    for name in refs:
        assert g_b[name]["relative_gap"] == pytest.approx(g_p[name]["relative_gap"], rel=1e-8)
    f_b = gradient_flow(X, y, estimator=ShallowReLURegressor(**PAPER_MODEL, hidden_bias=c))
    f_p = gradient_flow(X_aug, y, estimator=ShallowReLURegressor(**PAPER_MODEL))
    np.testing.assert_allclose(f_b.hidden_weights, f_p.hidden_weights, rtol=0, atol=1e-12)


def test_hidden_bias_refuses_bools_and_overflowing_scales():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((6, 10)), rng.standard_normal(6)
    with pytest.raises(ValueError, match="hidden_bias must be a number, not the bool True"):
        ShallowReLURegressor(hidden_bias=True).fit(X, y)
    with pytest.raises(ValueError, match="negative_slope must be a number, not the bool"):
        MinNormReLURegressor(activation="leaky_relu", negative_slope=True).fit(X, y)
    with pytest.raises(ValueError, match="c\\^2 n term overflows"):
        ShallowReLURegressor(hidden_bias=1e300, max_iter=10).fit(X, y)
