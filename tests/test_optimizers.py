"""The optimizers beside gradient descent, against NumPy transcriptions of their recursions."""

import re

import numpy as np
import pytest
from scipy import sparse

from sklearn_relubias import ShallowReLURegressor
from sklearn_relubias._gd import OPTIMIZERS, run_gd
from sklearn_relubias._gd._backends import _numba_optimizers
from sklearn_relubias._model import Model
from sklearn_relubias._plan import FitPlan

from ._reference import adam, gaussian_problem, momentum, park_miller_order, sgd, step_size

# tol=0 runs every step of max_iter, and says so with a ConvergenceWarning
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

N_STEPS = 300
PARAMS = {
    "gd": {},
    "momentum": {"momentum": 0.6},
    "nesterov": {"momentum": 0.6},
    "sgd": {"batch_size": 3, "shuffle": True},
    "adam": {"beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-6},
}
LEARNING_RATE = {"gd": 0.5, "momentum": 0.3, "nesterov": 0.3, "sgd": 0.5, "adam": 0.01}


def _estimator(optimizer, **kw):
    params = dict(
        n_neurons=3,
        init="random",
        init_scale=0.5,
        optimizer=optimizer,
        learning_rate=LEARNING_RATE[optimizer],
        max_iter=N_STEPS,
        tol=0.0,
        n_iter_no_change=None,
        fit_intercept=False,
        compute_min_norm_gap=False,
        random_state=0,
        **PARAMS[optimizer],
    )
    params.update(kw)
    return ShallowReLURegressor(**params)


def _oracle(est, X, y, optimizer, n_steps=N_STEPS):
    """The NumPy transcription of ``optimizer`` from the fit's own start (and SGD's seed)."""
    a, W0 = est.output_weights_, est.init_hidden_weights_
    p = {**PARAMS[optimizer], **{k: est.get_params()[k] for k in PARAMS[optimizer]}}
    eta = step_size(X, a, est.learning_rate)
    if optimizer == "adam":
        return adam(X, y, a, W0, est.learning_rate, p["beta_1"], p["beta_2"], p["epsilon"], n_steps)
    if optimizer == "sgd":
        batch = min(p["batch_size"], X.shape[0])
        return sgd(X, y, a, W0, eta, batch, n_steps, p["shuffle"], est._batch_seed)
    return momentum(
        X, y, a, W0, eta, p.get("momentum", 0.0), n_steps, nesterov=optimizer == "nesterov"
    )


def _paths(optimizer):
    paths = [("primal", False), ("primal", True)]
    return paths + ([("dual", False)] if OPTIMIZERS[optimizer].in_span else [])


@pytest.mark.nojit
@pytest.mark.parametrize(
    ("optimizer", "solver", "sparse_X"),
    [(o, s, sp) for o in ("momentum", "nesterov", "sgd", "adam") for s, sp in _paths(o)],
)
def test_optimizer_matches_numpy_oracle(optimizer, solver, sparse_X):
    """300 steps equal the transcription to 1e-12; in-span ones keep ``W = W0 + C^T X``."""
    X, y = gaussian_problem(10, 40, seed=21)
    est = _estimator(optimizer, solver=solver)
    est.fit(sparse.csr_matrix(X) if sparse_X else X, y)
    W, losses = _oracle(est, X, y, optimizer)
    assert est.n_iter_ == N_STEPS
    np.testing.assert_allclose(est.hidden_weights_, W, rtol=1e-12, atol=1e-12 * np.abs(W).max())
    np.testing.assert_allclose(est.loss_curve_, losses, rtol=1e-10, atol=1e-14)
    if OPTIMIZERS[optimizer].in_span:
        W_span = est.init_hidden_weights_ + est.dual_coef_.T @ X
        np.testing.assert_allclose(W_span, est.hidden_weights_, rtol=1e-12, atol=1e-12)
    else:
        assert est.dual_coef_ is None
        assert est.step_size_ == est.learning_rate  # Adam's own step, in the weights' units


@pytest.mark.parametrize("solver", ["primal", "dual"])
@pytest.mark.parametrize("batch_size", [10, 64])
def test_full_batch_sgd_without_shuffling_is_gd(solver, batch_size):
    """``batch_size >= n`` and no shuffling: every step is gradient descent's."""
    X, y = gaussian_problem(10, 40, seed=22)
    gd = _estimator("gd", solver=solver).fit(X, y)
    full = _estimator("sgd", solver=solver, batch_size=batch_size, shuffle=False).fit(X, y)
    np.testing.assert_allclose(full.hidden_weights_, gd.hidden_weights_, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(full.dual_coef_, gd.dual_coef_, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(full.loss_curve_, gd.loss_curve_, rtol=1e-12, atol=1e-16)


@pytest.mark.nojit
def test_epoch_order_is_the_seeded_shuffle():
    """The kernel's per-epoch order is the Park-Miller Fisher-Yates shuffle (a permutation)."""
    order = np.empty(13, dtype=np.int64)
    orders = []
    for epoch in range(4):
        _numba_optimizers.epoch_order(12345, epoch, order)
        assert order.tolist() == park_miller_order(12345, epoch, 13)
        assert sorted(order.tolist()) == list(range(13))
        orders.append(order.tolist())
    assert len({tuple(o) for o in orders}) == 4  # every epoch its own order


@pytest.mark.parametrize(
    ("optimizer", "solver"),
    [(o, s) for o in sorted(OPTIMIZERS) for s, sparse_X in _paths(o) if not sparse_X],
)
def test_warm_start_and_chunking_equal_one_run(optimizer, solver):
    """Three warm-started fits of 100 steps, or any chunking, are one fit of 300 steps."""
    X, y = gaussian_problem(10, 40, seed=23)
    whole = _estimator(optimizer, solver=solver).fit(X, y)
    warm = _estimator(optimizer, solver=solver, max_iter=N_STEPS // 3, warm_start=True)
    for _ in range(3):
        warm.fit(X, y)
    assert warm.n_iter_ == whole.n_iter_ == N_STEPS
    # on X the state is the weights: bitwise; on K each fit restarts from W = W0 + C^T X
    # formed at its end (P = X W^T afresh), which rounds differently from one run's P
    rtol = 0.0 if solver == "primal" else 1e-13
    np.testing.assert_allclose(warm.hidden_weights_, whole.hidden_weights_, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(warm.loss_curve_, whole.loss_curve_, rtol=rtol, atol=rtol)
    if whole.dual_coef_ is not None:
        np.testing.assert_allclose(warm.dual_coef_, whole.dual_coef_, rtol=1e-13, atol=1e-15)
    plan = _plan(whole, X, y, solver)
    one = run_gd(plan.problem, max_iter=N_STEPS, tol=0.0, first_chunk=N_STEPS)
    for first_chunk in (1, 7):
        chunked = run_gd(plan.problem, max_iter=N_STEPS, tol=0.0, first_chunk=first_chunk)
        np.testing.assert_array_equal(chunked.hidden_weights, one.hidden_weights)
        np.testing.assert_array_equal(chunked.dual_coef, one.dual_coef)
        np.testing.assert_array_equal(chunked.loss_curve, one.loss_curve)
    np.testing.assert_array_equal(one.hidden_weights, whole.hidden_weights_)


def _plan(est, X, y, solver, optimizer=None):
    optimizer = optimizer or est.optimizer
    params = {k: est.get_params()[k] for k in OPTIMIZERS[optimizer].parameters}
    params["seed"] = est._batch_seed
    return FitPlan(
        X,
        y,
        Model.from_params("relu", est.output_weights_),
        learning_rate=est.learning_rate,
        solver=solver,
        optimizer=optimizer,
        optimizer_params=params,
        init_weights=est.init_hidden_weights_,
    )


@pytest.mark.parametrize("optimizer", ["momentum", "nesterov", "sgd"])
def test_handover_from_the_gram_form_carries_the_optimizer(optimizer):
    """10 steps on K then 290 on X (velocity ``V = Vc^T X``) equal 300 steps on X."""
    from sklearn_relubias._gd._backends import _numba_optimizers as backend

    X, y = gaussian_problem(10, 40, seed=24)
    est = _estimator(optimizer).fit(X, y)
    primal = _plan(est, X, y, "primal").problem
    dual = _plan(est, X, y, "dual").problem
    first = run_gd(dual, max_iter=10, tol=0.0)  # the velocity is still large here
    start = (first.pre_activations, first.dual_coef, first.hidden_weights, first.optimizer_state)
    state = backend.allocate(primal, start=start)
    if optimizer != "sgd":  # (SGD carries its step count only)
        assert np.abs(state.V).max() > 1e-3 * np.abs(first.hidden_weights).max()
    losses, events, recent = np.empty(291), np.empty((0, 3), np.int64), np.empty(1)
    settings = (primal.step_size, 0.0, 1.0, 0, 0.0, 10)
    steps, *_ = backend.run_chunk(state, losses, events, recent, settings)
    assert steps == 290
    np.testing.assert_allclose(state.weights(), est.hidden_weights_, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(state.C, est.dual_coef_, rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize(
    ("optimizer", "params", "learning_rate", "high"),
    [
        ("gd", {}, 2.0, 2),
        ("sgd", {}, 2.5, 2),
        ("momentum", {"momentum": 0.9}, 3.9, 3.8),
        ("nesterov", {"momentum": 0.5}, 1.6, 1.5),
    ],
)
def test_learning_rate_outside_the_optimizers_range_is_refused(
    optimizer, params, learning_rate, high
):
    """The stable range of each spec: refused above it, a finite fit just below."""
    X, y = gaussian_problem(10, 40, seed=25)
    est = ShallowReLURegressor(optimizer=optimizer, learning_rate=learning_rate, **params)
    bound = re.escape(f"(0, {high})")
    message = rf"learning_rate={learning_rate} is outside the stable range {bound}"
    with pytest.raises(ValueError, match=message):
        est.fit(X, y)
    low = est.set_params(learning_rate=high * 0.99, max_iter=5).fit(X, y)
    assert np.isfinite(low.hidden_weights_).all()


def test_adam_refuses_the_gram_form():
    X, y = gaussian_problem(10, 40, seed=26)
    with pytest.raises(ValueError, match="leaves the data span.*solver='auto' or 'primal'"):
        ShallowReLURegressor(optimizer="adam", learning_rate=0.01, solver="dual").fit(X, y)
    auto = ShallowReLURegressor(optimizer="adam", learning_rate=0.01, max_iter=5).fit(X, y)
    assert auto.decisions_["path"] == "primal"


def test_adam_is_exact_under_the_power_of_two_rescaling():
    """``(2^50 X, 2^50 y)`` with ``epsilon * 2^100`` (the gradient's scale): the same weights."""
    X, y = gaussian_problem(10, 40, seed=27)
    small = _estimator("adam").fit(X, y)
    big = _estimator("adam", epsilon=PARAMS["adam"]["epsilon"] * 2.0**100)
    big.fit(np.ldexp(X, 50), np.ldexp(y, 50))
    assert min(big.decisions_["rescaled"][:2]) > 40  # internal units differ from the data's
    np.testing.assert_allclose(big.hidden_weights_, small.hidden_weights_, rtol=1e-12, atol=1e-14)


def test_decaying_velocity_never_settles_subnormal():
    """The velocities of pairs that stop moving reach 0, not a subnormal fixed point of rounding."""
    from sklearn.datasets import load_diabetes
    from sklearn.preprocessing import StandardScaler

    X, y = load_diabetes(return_X_y=True)
    X, y = StandardScaler().fit_transform(X), (y - y.mean()) / y.std()
    est = ShallowReLURegressor(
        n_neurons=2,
        init="zero",
        fit_intercept=False,
        n_iter_no_change=None,
        tol=0.0,
        optimizer="momentum",
        learning_rate=0.01,
        max_iter=20_000,
        compute_min_norm_gap=False,
    ).fit(X, y)
    state = est._optimizer_state["state"]
    for name in ("velocity_coef", "velocity"):
        values = np.abs(state[name])
        assert not np.any((values > 0) & (values < np.finfo(np.float64).tiny)), name
    assert np.count_nonzero(state["velocity_coef"] == 0) > 0  # inactive pairs reached 0


@pytest.mark.parametrize("solver", ["primal", "dual"])
def test_warm_start_on_other_inputs_restarts_the_optimizer_on_both_solvers(solver):
    """Other X of the same length: the state starts afresh, and both solvers agree."""
    X, y = gaussian_problem(10, 40, seed=28)
    X2, y2 = gaussian_problem(10, 40, seed=29)
    warm = _estimator("momentum", solver=solver, max_iter=50, warm_start=True).fit(X, y)
    W_mid = warm.hidden_weights_.copy()
    warm.fit(X2, y2)
    fresh = _estimator("momentum", max_iter=50, solver="primal")
    fresh._initial_weights = lambda m, d, rng=None: W_mid  # the same start, a fresh velocity
    fresh.fit(X2, y2)
    np.testing.assert_allclose(warm.hidden_weights_, fresh.hidden_weights_, rtol=1e-11, atol=1e-13)
    out = np.maximum(X2 @ warm.hidden_weights_.T, 0) @ warm.output_weights_
    assert warm.loss_curve_[-1] == pytest.approx(0.5 * np.mean((out - y2) ** 2), rel=1e-10)


def test_warm_start_into_other_units_restarts_the_optimizer():
    """A fit whose data cross 2**40 runs in other internal units: no stale velocity."""
    X, y = gaussian_problem(10, 40, seed=30)
    warm = _estimator("momentum", max_iter=20, warm_start=True, solver="primal").fit(X, y)
    W_mid = warm.hidden_weights_.copy()
    warm.set_params(max_iter=1).fit(X, y * 2.0**41)
    fresh = _estimator("momentum", max_iter=1, solver="primal")
    fresh._initial_weights = lambda m, d, rng=None: W_mid
    fresh.fit(X, y * 2.0**41)
    assert warm.decisions_["rescaled"][1] > 0
    np.testing.assert_allclose(warm.hidden_weights_, fresh.hidden_weights_, rtol=1e-12)


def test_a_window_stop_while_the_loss_rises_warns():
    """Momentum 0.99 at a large step oscillates; the window rule stops it, and says so."""
    from sklearn.exceptions import ConvergenceWarning

    X, y = gaussian_problem(20, 100, seed=0)
    est = ShallowReLURegressor(
        optimizer="momentum", momentum=0.99, learning_rate=0.1, random_state=0
    )
    with pytest.warns(
        ConvergenceWarning,
        match="times its lowest .*Lower learning_rate or momentum, or set n_iter_no_change=None",
    ):
        est.fit(X, y)
    assert est.decisions_["status"] == "stalled"
    assert est.loss_curve_[-1] > est.loss_curve_.min()


def test_a_non_finite_first_step_is_not_blamed_on_the_start():
    from sklearn.exceptions import ConvergenceWarning

    X, y = gaussian_problem(20, 100, seed=0)
    est = ShallowReLURegressor(optimizer="adam", learning_rate=1e300, random_state=0)
    with pytest.warns(ConvergenceWarning, match="non-finite loss at step 1") as record:
        est.fit(X, y)
    assert not any("initial weights is not finite" in str(w.message) for w in record)


def test_auto_learning_rate_is_adams_own_step_for_adam():
    """'auto' is 1.0 for the relative-step optimizers and 1e-3 (Adam's own step) for Adam."""
    X, y = gaussian_problem(10, 40, seed=34)
    adam = _estimator("adam", learning_rate="auto").fit(X, y)
    assert adam.step_size_ == 1e-3
    explicit = _estimator("adam", learning_rate=1e-3).fit(X, y)
    np.testing.assert_array_equal(adam.hidden_weights_, explicit.hidden_weights_)
    gd = _estimator("gd", learning_rate="auto").fit(X, y)
    np.testing.assert_array_equal(
        gd.hidden_weights_, _estimator("gd", learning_rate=1.0).fit(X, y).hidden_weights_
    )


def test_an_optimizer_passed_as_solver_points_at_optimizer():
    X, y = gaussian_problem(10, 40, seed=35)
    with pytest.raises(
        ValueError, match="The optimizer is the 'optimizer' parameter: optimizer='adam'"
    ):
        ShallowReLURegressor(solver="adam").fit(X, y)
