"""Standard ML workflows: sample weights, routing, intercept, warm start, warnings."""

import warnings

import _reference as ref
import numpy as np
import pytest
import sklearn
from _reference import gaussian_problem, paper_estimator
from scipy import sparse
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_relubias import MinNormReLURegressor
from sklearn_relubias.exceptions import DuplicateNeuronsWarning, StrandedExampleWarning
from sklearn_relubias.metrics import stranded_examples

STEPS = dict(max_iter=300, tol=0.0, learning_rate=0.7)


def quiet_fit(est, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kw)


def weights_and_repeats(n, seed=0):
    w = np.random.default_rng(seed).integers(0, 4, n).astype(float)
    w[0] = 0.0  # a dropped example
    return w, np.repeat(np.arange(n), w.astype(int))


@pytest.mark.parametrize("solver", ["primal", "dual"])
@pytest.mark.parametrize("n, d", [(12, 80), (30, 5)])
def test_integer_weights_equal_repeated_rows_gd(solver, n, d):
    X, y = gaussian_problem(n, d, seed=1)
    w, rep = weights_and_repeats(n)
    kw = dict(n_neurons=3, init="random", random_state=0, solver=solver, **STEPS)
    weighted = quiet_fit(paper_estimator(**kw), X, y, sample_weight=w)
    repeated = quiet_fit(paper_estimator(**kw), X[rep], y[rep])
    scale = np.abs(repeated.hidden_weights_).max()
    np.testing.assert_allclose(
        weighted.hidden_weights_, repeated.hidden_weights_, atol=1e-12 * scale
    )
    np.testing.assert_allclose(weighted.step_size_, repeated.step_size_, rtol=1e-12)
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-10)
    # n > d: the min-norm reference is the surrogate's minimiser, found on the weights
    rtol = 1e-8 if n < d else 1e-5
    np.testing.assert_allclose(weighted.min_norm_gap_, repeated.min_norm_gap_, rtol=rtol)
    assert np.all(weighted.dual_coef_[w == 0] == 0.0)


def test_weighted_gd_matches_the_weighted_oracle():
    """One step against the weighted loss of model.md, written out in NumPy."""
    X, y = gaussian_problem(9, 30, seed=2)
    s = np.random.default_rng(1).uniform(0.1, 3.0, 9)
    a = np.array([1.0, -1.0])
    W0 = np.random.default_rng(2).standard_normal((2, 30))
    est = quiet_fit(
        paper_estimator(
            init="random",
            init_scale=np.sqrt(30),
            max_iter=1,
            tol=0.0,
            learning_rate=0.9,
            random_state=np.random.RandomState(0),
        ),
        X,
        y,
        sample_weight=s,
    )
    W0 = est.init_hidden_weights_
    eta = 0.9 * s.sum() / (a @ a * np.linalg.eigvalsh(X.T @ (s[:, None] * X))[-1])
    r = ref.predict(X, W0, a) - y
    grad = np.array([(s * r * a[j] * (X @ W0[j] >= 0)) @ X for j in range(2)]) / s.sum()
    np.testing.assert_allclose(est.step_size_, eta, rtol=1e-12)
    np.testing.assert_allclose(est.hidden_weights_, W0 - eta * grad, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(est.loss_curve_[0], 0.5 * np.sum(s * r**2) / s.sum(), rtol=1e-12)


@pytest.mark.parametrize("n, d", [(12, 80), (30, 5)])
def test_integer_weights_equal_repeated_rows_min_norm(n, d):
    X, y = gaussian_problem(n, d, seed=3)
    w, rep = weights_and_repeats(n, seed=1)
    weighted = MinNormReLURegressor().fit(X, y, sample_weight=w)
    repeated = MinNormReLURegressor().fit(X[rep], y[rep])
    dropped = MinNormReLURegressor().fit(X[w > 0], y[w > 0])
    rtol = 1e-9 if n < d else 1e-5  # n > d: the surrogate's flat directions
    scale = np.linalg.norm(repeated.hidden_weights_)
    assert np.linalg.norm(weighted.hidden_weights_ - repeated.hidden_weights_) <= rtol * scale
    assert weighted.interpolates_ == repeated.interpolates_ == (n < d)
    if n < d:  # interpolation only sees which weights are positive
        np.testing.assert_allclose(weighted.hidden_weights_, dropped.hidden_weights_, rtol=1e-9)


def test_sample_weight_validation():
    X, y = gaussian_problem(5, 10)
    for est in (paper_estimator(), MinNormReLURegressor()):
        with pytest.raises(ValueError, match="(?i)negative"):
            est.fit(X, y, sample_weight=-np.ones(5))
        with pytest.raises(ValueError, match="non-zero"):
            est.fit(X, y, sample_weight=np.zeros(5))


def test_metadata_routing_in_pipeline_and_grid_search():
    X, y = gaussian_problem(40, 6, seed=4)
    w = np.random.default_rng(0).uniform(0.5, 2.0, 40)
    with sklearn.config_context(enable_metadata_routing=True):
        for est in (
            paper_estimator(max_iter=200, compute_min_norm_gap=False),
            MinNormReLURegressor(),
        ):
            est = est.set_fit_request(sample_weight=True).set_score_request(sample_weight=True)
            pipe = make_pipeline(StandardScaler().set_fit_request(sample_weight=False), est)
            search = GridSearchCV(
                pipe, {est.__class__.__name__.lower() + "__n_neurons": [1, 2]}, cv=KFold(3)
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                search.fit(X, y, sample_weight=w)
                weighted = clone(pipe).fit(X, y, sample_weight=w)[-1]
                unweighted = clone(pipe).fit(X, y)[-1]
                by_hand = clone(est).fit(StandardScaler().fit_transform(X), y, sample_weight=w)
            # the weights reached the estimator (and only it: the scaler did not ask for them)
            np.testing.assert_array_equal(weighted.hidden_weights_, by_hand.hidden_weights_)
            assert not np.allclose(weighted.hidden_weights_, unweighted.hidden_weights_)
            assert np.isfinite(search.best_score_)


@pytest.mark.parametrize("Estimator", [paper_estimator, MinNormReLURegressor])
def test_intercept_round_trip(Estimator):
    X, y = gaussian_problem(15, 200, seed=5)
    s = np.random.default_rng(2).uniform(0.5, 2.0, 15)
    shifted = y + 7.0
    kw = dict(max_iter=500) if Estimator is paper_estimator else {}
    with_icpt = Estimator(fit_intercept=True, **kw).fit(X, shifted, sample_weight=s)
    mean = np.sum(s * shifted) / np.sum(s)
    assert with_icpt.intercept_ == pytest.approx(mean, rel=1e-14)
    centred = Estimator(**kw).fit(X, shifted - mean, sample_weight=s)
    assert centred.intercept_ == 0.0
    np.testing.assert_allclose(with_icpt.hidden_weights_, centred.hidden_weights_, rtol=1e-12)
    np.testing.assert_allclose(with_icpt.predict(X), centred.predict(X) + mean, rtol=1e-12)


@pytest.mark.parametrize("solver", ["primal", "dual"])
def test_warm_start_continues_one_long_run(solver):
    X, y = gaussian_problem(12, 60, seed=6)
    kw = dict(
        n_neurons=3,
        init="random",
        random_state=0,
        solver=solver,
        learning_rate=0.7,
        record_pattern=True,
    )
    long = quiet_fit(paper_estimator(max_iter=300, tol=0.0, **kw), X, y)
    warm = paper_estimator(max_iter=100, tol=0.0, warm_start=True, **kw)
    for _ in range(3):
        quiet_fit(warm, X, y)
    assert warm.n_iter_ == long.n_iter_ == 300
    scale = np.abs(long.hidden_weights_).max()
    np.testing.assert_allclose(warm.hidden_weights_, long.hidden_weights_, atol=1e-12 * scale)
    np.testing.assert_allclose(
        warm.dual_coef_, long.dual_coef_, atol=1e-12 * np.abs(long.dual_coef_).max()
    )
    np.testing.assert_allclose(warm.loss_curve_, long.loss_curve_, atol=1e-12 * long.loss_curve_[0])
    np.testing.assert_array_equal(warm.init_hidden_weights_, long.init_hidden_weights_)
    np.testing.assert_array_equal(warm.pattern_changes_, long.pattern_changes_)
    assert warm.pattern_stable_iter_ == long.pattern_stable_iter_
    np.testing.assert_allclose(
        warm.hidden_weights_, warm.init_hidden_weights_ + warm.dual_coef_.T @ X, atol=1e-12 * scale
    )


def test_warm_start_tol_is_relative_to_the_first_fit():
    X, y = gaussian_problem(10, 300, seed=7)
    long = paper_estimator(learning_rate=1.0, tol=1e-8, max_iter=10**5).fit(X, y)
    warm = paper_estimator(learning_rate=1.0, tol=1e-8, max_iter=long.n_iter_ // 2, warm_start=True)
    quiet_fit(warm, X, y)
    warm.set_params(max_iter=long.n_iter_).fit(X, y)  # stops where the long run did
    assert warm.n_iter_ == long.n_iter_


def test_stranded_examples_attribute_and_warning_class():
    X, y = gaussian_problem(20, 500, seed=0)  # one example stranded at learning_rate=0.5
    with pytest.warns(StrandedExampleWarning) as record:
        est = paper_estimator(learning_rate=0.5).fit(X, y)
    assert len(record) == 1 and issubclass(StrandedExampleWarning, UserWarning)
    expected = stranded_examples(y, est.output_weights_, est.activation_pattern_)
    assert expected.size > 0
    np.testing.assert_array_equal(est.stranded_indices_, expected)
    # filterable by type
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", StrandedExampleWarning)
        paper_estimator(learning_rate=0.5).fit(X, y)


def test_zero_init_copies_are_announced():
    X, y = gaussian_problem(10, 100, seed=8)
    with pytest.warns(DuplicateNeuronsWarning, match="2 distinct neuron"):
        est = paper_estimator(n_neurons=6, max_iter=50, tol=1e-3).fit(X, y)
    np.testing.assert_array_equal(est.hidden_weights_[0], est.hidden_weights_[4])
    with warnings.catch_warnings():
        warnings.simplefilter("error", DuplicateNeuronsWarning)
        paper_estimator(n_neurons=6, init="random", max_iter=50, tol=1e-3).fit(X, y)
        paper_estimator(n_neurons=2, max_iter=50, tol=1e-3).fit(X, y)


def test_refit_clears_attributes_of_the_previous_fit():
    X, y = gaussian_problem(10, 40, seed=9)
    est = quiet_fit(paper_estimator(record_pattern=True, max_iter=20), X, y)
    assert hasattr(est, "pattern_changes_")
    quiet_fit(est.set_params(record_pattern=False), X, y)
    assert not hasattr(est, "pattern_changes_")


def test_verbose_reports_progress_per_chunk(capsys):
    from sklearn_relubias._gd import _driver

    X, y = gaussian_problem(10, 40, seed=10)
    old = _driver.FIRST_CHUNK
    _driver.FIRST_CHUNK = 10
    try:
        quiet_fit(paper_estimator(verbose=1, max_iter=40, tol=0.0), X, y)
    finally:
        _driver.FIRST_CHUNK = old
    lines = capsys.readouterr().out.splitlines()
    assert any("step 10, loss" in line for line in lines), lines
    assert "40 steps" in lines[-1]


def test_sparse_weighted_fit_matches_dense():
    X, y = gaussian_problem(15, 30, seed=11)
    w = np.random.default_rng(3).uniform(0.2, 2.0, 15)
    kw = dict(solver="primal", **STEPS)
    dense = quiet_fit(paper_estimator(**kw), X, y, sample_weight=w)
    sp = quiet_fit(paper_estimator(**kw), sparse.csr_matrix(X), y, sample_weight=w)
    np.testing.assert_allclose(sp.hidden_weights_, dense.hidden_weights_, rtol=1e-10, atol=1e-14)


def test_tall_data_never_builds_an_n_by_n_matrix():
    """n >> d: the min-norm reference is solved on the weights (an n x n float64 is 80 GB)."""
    import tracemalloc

    r = np.random.default_rng(0)
    X, y = r.standard_normal((100_000, 5)), r.standard_normal(100_000)
    tracemalloc.start()
    est = quiet_fit(paper_estimator(max_iter=20), X, y)
    ref = MinNormReLURegressor().fit(X, y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 150 * 2**20, peak  # X itself is 4 MB
    W_star = ref.hidden_weights_
    expected = np.linalg.norm(est.hidden_weights_ - W_star) / np.linalg.norm(W_star)
    np.testing.assert_allclose(est.min_norm_gap_, expected, rtol=1e-10)
    assert not ref.interpolates_ and ref.kkt_residual_ < 1e-10
    np.testing.assert_allclose(ref.dual_coef_.T @ X, W_star, atol=1e-10 * np.abs(W_star).max())
