"""ShallowReLURegressor against the NumPy transcription of the model."""

import warnings
from itertools import pairwise

import _reference as ref
import numpy as np
import pytest
from _reference import gaussian_problem
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning

from sklearn_relubias import MinNormReLURegressor, ShallowReLURegressor


def fit_steps(X, y, n_steps, **params):
    """Fit exactly ``n_steps`` steps (tol=0), silencing the expected warning."""
    est = ShallowReLURegressor(max_iter=n_steps, tol=0.0, compute_min_norm_gap=False, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def test_reference_gradient_matches_central_differences():
    X, y = gaussian_problem(6, 5, seed=1)
    a = np.array([1.0, -1.0, 0.5])
    W = np.random.default_rng(2).standard_normal((3, 5))
    h = 1e-6
    num = np.zeros_like(W)
    for idx in np.ndindex(W.shape):
        E = np.zeros_like(W)
        E[idx] = h
        num[idx] = (ref.loss(X, y, W + E, a) - ref.loss(X, y, W - E, a)) / (2 * h)
    np.testing.assert_allclose(ref.gradient(X, y, W, a), num, rtol=1e-6, atol=1e-9)


@pytest.mark.nojit
@pytest.mark.parametrize("solver", ["primal", "dual"])
@pytest.mark.parametrize("init", ["zero", "random"])
@pytest.mark.parametrize("n_neurons", [1, 2, 4])
@pytest.mark.parametrize("n, d", [(8, 30), (15, 6)])
def test_iterates_match_reference(solver, init, n_neurons, n, d):
    X, y = gaussian_problem(n, d, seed=n_neurons)
    est = fit_steps(
        X,
        y,
        40,
        n_neurons=n_neurons,
        init=init,
        init_scale=1.0,
        learning_rate=0.7,
        solver=solver,
        random_state=3,
    )
    a = ref.output_weights("balanced", n_neurons)
    eta = ref.step_size(X, a, 0.7)
    Ws, losses = ref.gd(X, y, a, est.init_hidden_weights_, eta, 40)
    assert est.n_iter_ == 40
    np.testing.assert_allclose(est.step_size_, eta, rtol=1e-12)
    np.testing.assert_allclose(est.hidden_weights_, Ws[-1], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(est.loss_curve_, losses, rtol=1e-9, atol=1e-15)
    np.testing.assert_array_equal(est.activation_pattern_, X @ Ws[-1].T > 0)
    changes = [t for t in range(1, 41) if not np.array_equal(*ref.patterns(X, Ws[t - 1 : t + 1]))]
    assert est.pattern_stable_iter_ == (changes[-1] if changes else 0)
    np.testing.assert_allclose(est.predict(X), ref.predict(X, Ws[-1], a), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("init", ["zero", "random"])
def test_dual_coef_spans_the_update(init):
    X, y = gaussian_problem(12, 40, seed=4)
    for solver in ("primal", "dual"):
        est = fit_steps(X, y, 200, n_neurons=3, init=init, solver=solver, random_state=0)
        np.testing.assert_allclose(
            est.hidden_weights_, est.init_hidden_weights_ + est.dual_coef_.T @ X, atol=1e-12
        )


@pytest.mark.parametrize("n, d", [(10, 200), (40, 8)])
def test_primal_and_dual_paths_agree(n, d):
    X, y = gaussian_problem(n, d, seed=5)
    kw = dict(n_neurons=4, init="random", init_scale=0.5, random_state=1, learning_rate=1.5)
    p = fit_steps(X, y, 400, solver="primal", **kw)
    q = fit_steps(X, y, 400, solver="dual", **kw)
    scale = np.linalg.norm(p.hidden_weights_)
    assert np.linalg.norm(p.hidden_weights_ - q.hidden_weights_) <= 1e-12 * scale
    np.testing.assert_allclose(p.dual_coef_, q.dual_coef_, rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(p.loss_curve_, q.loss_curve_, rtol=1e-9)


def test_random_init_distribution():
    d = 4000
    est = fit_steps(
        np.ones((2, d)), np.ones(2), 1, n_neurons=8, init="random", init_scale=2.0, random_state=0
    )
    W0 = est.init_hidden_weights_
    assert W0.shape == (8, d)
    np.testing.assert_allclose(W0.std(), 2.0 / np.sqrt(d), rtol=0.02)
    again = fit_steps(
        np.ones((2, d)), np.ones(2), 1, n_neurons=8, init="random", init_scale=2.0, random_state=0
    )
    np.testing.assert_array_equal(W0, again.init_hidden_weights_)


def test_stops_at_tol():
    X, y = gaussian_problem(10, 300, seed=6)
    est = ShallowReLURegressor(
        n_neurons=2, learning_rate=1.0, tol=1e-8, max_iter=100000, compute_min_norm_gap=False
    ).fit(X, y)
    a = est.output_weights_
    g0 = np.linalg.norm(ref.gradient(X, y, np.zeros_like(est.hidden_weights_), a))
    g = np.linalg.norm(ref.gradient(X, y, est.hidden_weights_, a))
    assert g <= 1e-8 * g0 * (1 + 1e-6)
    # one step earlier the criterion did not hold
    prev = fit_steps(X, y, est.n_iter_ - 1, n_neurons=2, learning_rate=1.0)
    assert np.linalg.norm(ref.gradient(X, y, prev.hidden_weights_, a)) > 1e-8 * g0


def test_max_iter_warns():
    X, y = gaussian_problem(10, 300, seed=7)
    with pytest.warns(ConvergenceWarning, match="max_iter=3"):
        ShallowReLURegressor(max_iter=3, compute_min_norm_gap=False).fit(X, y)


@pytest.mark.filterwarnings("error::UserWarning")  # no stranded example either
@pytest.mark.parametrize("seed", range(5))
def test_high_dimensional_pattern_settles_at_once(seed):
    """n=20, d=20000, labels +/-1: the single neuron is active exactly on y > 0 from step 1.

    With Gaussian labels, examples with |y_i| below about sqrt(n/d) / learning_rate
    can still flip later (seen on 9 of 20 seeds), so the claim is tested where
    labels are bounded away from zero.
    """
    X, y = gaussian_problem(20, 20000, seed=seed)
    y = np.sign(y)
    est = ShallowReLURegressor(n_neurons=1, learning_rate=0.1).fit(X, y)
    np.testing.assert_array_equal(est.activation_pattern_[:, 0], y > 0)
    assert est.pattern_stable_iter_ <= 2
    assert est.score(X, np.maximum(y, 0)) > 1 - 1e-8


def test_balanced_pair_patterns_follow_label_signs():
    X, y = gaussian_problem(20, 20000, seed=9)
    est = ShallowReLURegressor(n_neurons=2, learning_rate=0.1).fit(X, y)
    np.testing.assert_array_equal(est.activation_pattern_, np.c_[y > 0, y < 0])
    np.testing.assert_allclose(est.predict(X), y, atol=1e-6)


def test_min_norm_gap_shrinks_with_learning_rate():
    X, y = gaussian_problem(20, 4000, seed=10)
    gaps = [
        ShallowReLURegressor(n_neurons=1, learning_rate=lr, max_iter=100000).fit(X, y).min_norm_gap_
        for lr in (1.0, 0.3, 0.1, 0.03)
    ]
    assert all(g1 > g2 for g1, g2 in pairwise(gaps)), gaps


def test_min_norm_gap_definition():
    X, y = gaussian_problem(15, 500, seed=11)
    est = ShallowReLURegressor(n_neurons=2, learning_rate=0.5).fit(X, y)
    W_star = MinNormReLURegressor(n_neurons=2).fit(X, y).hidden_weights_
    expected = np.linalg.norm(est.hidden_weights_ - W_star) / np.linalg.norm(W_star)
    np.testing.assert_allclose(est.min_norm_gap_, expected, rtol=1e-10)
    primal = ShallowReLURegressor(n_neurons=2, learning_rate=0.5, solver="primal").fit(X, y)
    np.testing.assert_allclose(primal.min_norm_gap_, expected, rtol=1e-8)
    assert np.isnan(ShallowReLURegressor(compute_min_norm_gap=False).fit(X, y).min_norm_gap_)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_kernels_compile_only_float64_contiguous():
    """float32, int and Fortran-ordered inputs are normalised before any kernel call."""
    from sklearn_relubias import _kernels

    X, y = gaussian_problem(8, 20, seed=12)
    variants = (
        X,
        X.astype(np.float32),
        np.asfortranarray(X),
        np.rint(X).astype(int),
        sparse.csr_matrix(X),
        sparse.csc_matrix(X.astype(np.float32)),
    )
    for Xv in variants:
        for solver in ("primal", "dual"):
            ShallowReLURegressor(max_iter=5, solver=solver, compute_min_norm_gap=False).fit(Xv, y)
    (sig,) = _kernels.gradient_descent.signatures
    arrays = [t for t in sig if hasattr(t, "dtype")]
    assert all(t.layout == "C" for t in arrays), sig
    f, i = "float64", "int64"
    assert [str(t.dtype) for t in arrays] == [f, f, i, i, f, f, f, f, f, f, i], sig


@pytest.mark.nojit
@pytest.mark.parametrize("solver", ["primal", "dual"])
def test_recorded_pattern_changes_match_reference(solver):
    X, y = gaussian_problem(10, 40, seed=13)
    est = fit_steps(
        X,
        y,
        60,
        n_neurons=3,
        init="random",
        init_scale=1.0,
        random_state=2,
        learning_rate=1.2,
        solver=solver,
        record_pattern=True,
    )
    a = ref.output_weights("balanced", 3)
    Ws, _ = ref.gd(X, y, a, est.init_hidden_weights_, ref.step_size(X, a, 1.2), 60)
    pats = ref.patterns(X, Ws)
    expected = [(t, i, j) for t in range(1, 61) for i, j in np.argwhere(pats[t] != pats[t - 1])]
    assert len(expected) > 0
    assert [tuple(r) for r in est.pattern_changes_] == expected
    initial = est.activation_pattern_.copy()
    for _, i, j in est.pattern_changes_:
        initial[i, j] = ~initial[i, j]
    np.testing.assert_array_equal(initial, pats[0])
    assert not hasattr(fit_steps(X, y, 5), "pattern_changes_")


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("n_neurons, labels", [(1, "gaussian"), (1, "sign"), (2, "sign")])
def test_jump_to_limit_matches_plain_stepping(seed, n_neurons, labels):
    X, y = gaussian_problem(30, 3000, seed=seed)
    y = np.sign(y) if labels == "sign" else y
    kw = dict(n_neurons=n_neurons, learning_rate=0.05, tol=1e-13, max_iter=10**6)
    plain = ShallowReLURegressor(**kw).fit(X, y)
    fast = ShallowReLURegressor(jump_to_limit=True, **kw).fit(X, y)
    assert not plain.jumped_to_limit_
    if fast.jumped_to_limit_:
        assert fast.n_iter_ < plain.n_iter_
        g0 = np.linalg.norm(ref.gradient(X, y, fast.init_hidden_weights_, fast.output_weights_))
        g = np.linalg.norm(ref.gradient(X, y, fast.hidden_weights_, fast.output_weights_))
        assert g <= 1e-10 * g0
    scale = np.linalg.norm(plain.hidden_weights_)
    assert np.linalg.norm(fast.hidden_weights_ - plain.hidden_weights_) <= 1e-8 * scale
    np.testing.assert_array_equal(fast.activation_pattern_, plain.activation_pattern_)
    assert fast.pattern_stable_iter_ == plain.pattern_stable_iter_
    np.testing.assert_allclose(fast.min_norm_gap_, plain.min_norm_gap_, rtol=1e-6)


@pytest.mark.nojit
def test_jump_to_limit_is_taken_when_the_pattern_settles():
    X, y = gaussian_problem(20, 20000, seed=0)
    fast = ShallowReLURegressor(n_neurons=1, jump_to_limit=True, tol=1e-12).fit(X, np.sign(y))
    assert fast.jumped_to_limit_ and fast.n_iter_ <= 25
    assert fast.loss_curve_.shape == (fast.n_iter_ + 1,)


def test_jump_declined_while_entries_slide_on_the_kink():
    """+/- pair, n/d = 0.01: some entries chatter around 0, no certificate exists."""
    X, y = gaussian_problem(50, 5000, seed=0)
    y = np.sign(y)
    kw = dict(n_neurons=2, learning_rate=0.1, max_iter=3000, tol=0.0, compute_min_norm_gap=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = ShallowReLURegressor(**kw).fit(X, y)
        fast = ShallowReLURegressor(jump_to_limit=True, **kw).fit(X, y)
    assert plain.pattern_stable_iter_ > 2000  # still changing
    assert not fast.jumped_to_limit_
    np.testing.assert_array_equal(fast.hidden_weights_, plain.hidden_weights_)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_jump_to_limit_needs_the_dual_path():
    X, y = gaussian_problem(30, 10)
    with pytest.raises(ValueError, match="jump_to_limit.*solver='primal'"):
        ShallowReLURegressor(jump_to_limit=True, solver="primal").fit(X, y)
    with pytest.warns(UserWarning, match="needs the dual path"):
        est = ShallowReLURegressor(jump_to_limit=True, compute_min_norm_gap=False).fit(X, y)
    assert not est.jumped_to_limit_
