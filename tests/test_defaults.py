"""Defaults for tabular data, the window rule, and warnings that change what to do (issue 17)."""

import subprocess
import sys
import warnings

import _reference as ref
import numpy as np
import pytest
from _reference import gaussian_problem, paper_estimator
from scipy import sparse
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_relubias import PAPER_MODEL, ShallowReLURegressor
from sklearn_relubias._gd import _driver
from sklearn_relubias.datasets import make_stalled_regression
from sklearn_relubias.exceptions import RegionMismatchWarning, StrandedExampleWarning


def package_warnings(caught):
    """The warnings of this package among ``caught`` (its ConvergenceWarnings included)."""
    return [
        w
        for w in caught
        if w.category.__module__.startswith("sklearn_relubias")
        or (issubclass(w.category, ConvergenceWarning) and "Gradient descent" in str(w.message))
    ]


def first_stall(losses, window, loss_tol):
    """The window rule on a loss curve, as written: the first T that interpolates or stalls."""
    for T in range(1, len(losses)):
        if losses[T] <= 1e-6 * losses[0]:
            return T, "interpolated"
        if T >= window and losses[T - window] - losses[T] <= loss_tol * losses[T - window]:
            return T, "stalled"
    return None, None


@pytest.mark.filterwarnings("ignore::sklearn_relubias.exceptions.StrandedExampleWarning")
@pytest.mark.parametrize(
    "shape, loss_tol, status",
    [
        ((60, 8, 4), 1e-3, "stalled"),  # tall: a late stall
        ((60, 8, 4), 0.999, "stalled"),  # a stall at T = window
        ((10, 200, 2), 1e-3, "interpolated"),  # wide, from zero: the loss shrinks geometrically
    ],
)
@pytest.mark.parametrize("solver", ["primal", "dual"])
@pytest.mark.parametrize("first_chunk", [1, 7, 10_000])
def test_the_window_rule_stops_where_the_loss_curve_says(
    solver, first_chunk, shape, loss_tol, status, monkeypatch
):
    """The rule stops at the first stalled window (tall data, which cannot be interpolated)
    or once the loss is 1e-6 of the initial one (wide data), whatever the chunking, with the
    weights of that step of the NumPy transcription."""
    n, d, m = shape
    X, y = gaussian_problem(n, d, seed=11)
    a = ref.output_weights("balanced", m)
    eta = ref.step_size(X, a, 1.0)
    W0 = np.random.default_rng(5).normal(scale=1 / np.sqrt(d), size=(m, d))
    W0 = W0 if status == "stalled" else 0 * W0
    Ws, losses = ref.gd(X, y, a, W0, eta, 3000)
    T, expected = first_stall(losses, 25, loss_tol)
    assert expected == status and (T == 25 if loss_tol > 0.5 else 5 < T < 3000)
    monkeypatch.setattr(_driver, "FIRST_CHUNK", first_chunk)
    est = paper_estimator(
        n_neurons=m, init="random", learning_rate=1.0, solver=solver, n_iter_no_change=25
    )
    est.set_params(loss_tol=loss_tol, compute_min_norm_gap=False, tol=0.0, max_iter=3000)
    est._initial_weights = lambda m, d, rng=None: W0  # the transcription's start
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # a stalled fit did not fail
        est.fit(X, y)
    assert est.n_iter_ == T
    assert est.decisions_["status"] == status
    np.testing.assert_allclose(est.hidden_weights_, Ws[T], rtol=1e-9, atol=1e-13)
    np.testing.assert_allclose(est.loss_curve_, losses[: T + 1], rtol=1e-9, atol=1e-15)


def test_max_iter_warns_only_while_the_loss_still_falls():
    X, y = gaussian_problem(2000, 5, seed=11)  # far from interpolable by 16 neurons
    est = ShallowReLURegressor(random_state=0, max_iter=60, compute_min_norm_gap=False)
    with pytest.warns(ConvergenceWarning, match="still fell by more than loss_tol"):
        est.fit(X, y)
    with pytest.warns(ConvergenceWarning) as record:  # fewer steps than the window: no claim
        est.set_params(max_iter=5).fit(X, y)
    assert "loss_tol" not in str(record[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est.set_params(max_iter=100_000).fit(X, y)
    assert est.decisions_["status"] == "stalled" and est.n_iter_ < 100_000


def test_defaults_score_like_ridge_on_diabetes_with_no_package_warning():
    """The issue: defaults scored -0.87 on diabetes and every fit of a search warned."""
    X, y = load_diabetes(return_X_y=True)
    cv = KFold(5, shuffle=True, random_state=0)
    ridge = cross_val_score(make_pipeline(StandardScaler(), Ridge()), X, y, cv=cv).mean()
    pipe = make_pipeline(StandardScaler(), ShallowReLURegressor(random_state=0))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours = cross_val_score(pipe, X, y, cv=cv).mean()
        grid = {"shallowreluregressor__learning_rate": [0.3, 1.0]}
        GridSearchCV(pipe, grid, cv=cv).fit(X, y)
    assert ours >= ridge - 0.05, (ours, ridge)
    assert package_warnings(caught) == []


def test_paper_model_is_the_previous_defaults():
    """Sweeps, the command line and the theory helpers fit this model: their numbers stay."""
    expected = dict(
        n_neurons=2, init="zero", init_scale=1e-3, learning_rate=0.1, max_iter=10000, tol=1e-10
    )
    assert {k: PAPER_MODEL[k] for k in expected} == expected
    assert PAPER_MODEL["n_iter_no_change"] is None and PAPER_MODEL["fit_intercept"] is False
    X, y = gaussian_problem(10, 200, seed=2)
    est = ShallowReLURegressor(**PAPER_MODEL).fit(X, y)
    a = ref.output_weights("balanced", 2)
    Ws, _ = ref.gd(X, y, a, np.zeros((2, 200)), ref.step_size(X, a, 0.1), est.n_iter_)
    np.testing.assert_allclose(est.hidden_weights_, Ws[-1], rtol=1e-9, atol=1e-13)
    assert est.decisions_["status"] == "converged"


@pytest.mark.parametrize(
    "shape, setting, decision",
    [
        ((20, 200), "auto", "computed"),
        ((200, 20), "auto", "skipped by 'auto': n_samples >= n_features"),
        ((1001, 1500), "auto", "skipped by 'auto': n_samples > 1000"),
        ((20, 200), False, "skipped: compute_min_norm_gap=False"),
        ((200, 20), True, "computed"),
    ],
)
def test_the_gap_is_computed_when_auto_says_so(shape, setting, decision):
    X, y = gaussian_problem(*shape, seed=1)
    est = ShallowReLURegressor(random_state=0, max_iter=20, compute_min_norm_gap=setting)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RegionMismatchWarning)
        est.fit(X, y)
    assert est.decisions_["min_norm_gap"].startswith(decision)
    assert np.isnan(est.min_norm_gap_) == (decision != "computed")
    assert (est.pattern_matches_reference_ is None) == (decision != "computed")


def test_region_mismatch_warns_only_when_the_gap_was_asked_for():
    """A random start with many neurons ends in another region; 'auto' does not warn."""
    X, y = gaussian_problem(20, 200, seed=3)
    params = dict(n_neurons=16, init="random", init_scale=1.0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        auto = ShallowReLURegressor(**params).fit(X, y)
    assert auto.pattern_matches_reference_ is False
    with pytest.warns(RegionMismatchWarning):
        ShallowReLURegressor(**params, compute_min_norm_gap=True).fit(X, y)


def test_stranded_examples_warn_only_when_they_hold_the_loss():
    # the stalled instance: the positive example holds the whole remaining loss
    X, y = make_stalled_regression(random_state=0)
    with pytest.warns(StrandedExampleWarning, match="of the final training loss"):
        est = paper_estimator(n_neurons=1).fit(X, y)
    assert est.stranded_indices_.tolist() == [0]
    # tall data: a few stranded rows whose share of a loss no model fits is small
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2000, 5))
    y = np.maximum(X @ rng.standard_normal(5), 0) + 0.3 * rng.standard_normal(2000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = ShallowReLURegressor(n_neurons=2, random_state=0).fit(X, y)
    r2 = (est.predict(X) - y) ** 2
    inside = np.isin(np.arange(2000), est.stranded_indices_)
    assert inside.any() and r2[inside].mean() < 10 * r2[~inside].mean()


def test_predictions_keep_the_float_dtype_of_x():
    X, y = gaussian_problem(30, 5, seed=4)
    est = ShallowReLURegressor(random_state=0).fit(X.astype(np.float32), y)
    assert est.predict(X.astype(np.float32)).dtype == np.float32
    assert est.predict(X).dtype == np.float64
    np.testing.assert_allclose(
        est.predict(X.astype(np.float32)), est.predict(X.astype(np.float32).astype(float)), 1e-6
    )


def _sparse(density):
    return sparse.random(300, 3000, density=density, format="csr", random_state=0)


@pytest.mark.parametrize(
    "make, n_neurons, max_iter, path",
    [
        # the Gram step is cheaper, but forming K costs more than 3 steps save
        (lambda r: r.standard_normal((300, 250)), 16, 3, "primal"),
        (lambda r: r.standard_normal((300, 250)), 16, 10_000, "dual"),
        (lambda r: r.standard_normal((300, 60)), 16, 10_000, "primal"),  # n = 5 d: X is smaller
        # sparse: the non-zeros are what a step on X reads
        (lambda r: _sparse(0.01), 2, 3, "primal"),
        (lambda r: _sparse(0.2), 2, 3, "dual"),
    ],
)
def test_auto_solver_weighs_forming_K_against_the_steps(make, n_neurons, max_iter, path):
    """The path is decided before any step, from the plan's cost model."""
    from sklearn_relubias._model import Model
    from sklearn_relubias._plan import FitPlan

    X = make(np.random.default_rng(0))
    y = np.random.default_rng(1).standard_normal(300)
    model = Model.from_params("relu", "balanced", n_neurons)
    plan = FitPlan(X, y, model, learning_rate=1.0, max_iter=max_iter)
    assert {"gram": "dual"}.get(plan.problem.operator.form, "primal") == path


def test_auto_solver_takes_a_known_gram_matrix_at_any_number_of_steps():
    from sklearn_relubias import Precomputed

    X = np.random.default_rng(0).standard_normal((300, 250))
    y = np.random.default_rng(1).standard_normal(300)
    est = ShallowReLURegressor(n_neurons=16, max_iter=3, random_state=0, compute_min_norm_gap=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y, gram=Precomputed(X, gram=X @ X.T))
    assert est.decisions_["path"] == "dual"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)  # forming K costs more than 3 steps save
    assert est.decisions_["path"] == "primal"


def test_help_and_version_do_not_import_the_numerics():
    code = (
        "import sys\n"
        "from sklearn_relubias import _cli\n"
        "try:\n"
        "    _cli.main(['--version'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in ('numpy', 'numba', 'scipy', 'sklearn') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[0].startswith("relubias ")
    assert out.stdout.strip().endswith("[]")


def blas_threads():
    from threadpoolctl import threadpool_info

    return {
        lib["filepath"]: lib["num_threads"]
        for lib in threadpool_info()
        if lib["user_api"] == "blas"
    }


def test_small_fits_hold_blas_at_one_thread_and_give_the_limit_back_once():
    """Interleaved small fits (threads) must not restore each other's limits."""
    from sklearn_relubias._linalg import blas_threads_for

    before = blas_threads()
    small_a, small_b = blas_threads_for(1000, 20), blas_threads_for(300, 300)
    assert blas_threads_for(3000, 30000) is not small_a  # large problems keep their threads
    small_a.__enter__()
    small_b.__enter__()
    assert set(blas_threads().values()) == {1}
    small_a.__exit__(None, None, None)  # the other fit still runs: still one thread
    assert set(blas_threads().values()) == {1}
    small_b.__exit__(None, None, None)
    assert blas_threads() == before


def test_the_paper_model_cannot_be_changed_by_accident():
    with pytest.raises(TypeError):
        PAPER_MODEL["n_neurons"] = 99


def test_a_window_longer_than_the_run_is_off_and_allocates_nothing():
    X, y = gaussian_problem(100, 5, seed=0)
    with pytest.warns(ConvergenceWarning):
        est = ShallowReLURegressor(random_state=0, n_iter_no_change=10**12, max_iter=100).fit(X, y)
    assert est.n_iter_ == 100


def test_the_memory_plan_counts_the_gradient_descent_arrays():
    """A tall fit used to run all its steps and then die allocating an n x m temporary."""
    from sklearn_relubias import memory_budget
    from sklearn_relubias.exceptions import InsufficientMemoryError

    X, y = gaussian_problem(20_000, 5, seed=0)
    with memory_budget(20_000 * 16 * 8 * 5):  # room for half the planned arrays
        with pytest.raises(InsufficientMemoryError, match="gradient descent's 20000 x 16"):
            ShallowReLURegressor(random_state=0).fit(X, y)
    est = ShallowReLURegressor(random_state=0, max_iter=5)
    with pytest.warns(ConvergenceWarning):
        est.fit(X, y)
    assert any("gradient descent's" in what for what, _ in est.decisions_["memory_stages"])


THREADED_FIT = """
import sys, warnings
import numpy as np, numba
sys.path.insert(0, {tests!r})
from _reference import gaussian_problem, paper_estimator
from sklearn_relubias._gd._backends import _numba

assert numba.get_num_threads() == 2, numba.get_num_threads()
X, y = gaussian_problem({n}, {d}, seed=2)
fits = []
warnings.simplefilter("ignore")
for work in (10**18, 0):  # serial, then threaded
    _numba.PARALLEL_WORK = work
    fits.append(paper_estimator(
        n_neurons=6, init="random", solver={solver!r}, max_iter=30, tol=0.0, random_state=0
    ).fit(X, y))
assert _numba.{kernel}.signatures, "the threaded kernel did not run"
serial, threaded = fits
np.testing.assert_array_equal(threaded.hidden_weights_, serial.hidden_weights_)
np.testing.assert_array_equal(threaded.loss_curve_, serial.loss_curve_)
np.testing.assert_array_equal(threaded.dual_coef_, serial.dual_coef_)
print("same")
"""


@pytest.mark.parametrize(
    "solver, n, d, kernel",
    [("primal", 3000, 40, "primal_descent_parallel"), ("dual", 300, 2000, "gram_descent_parallel")],
)
def test_the_threaded_kernels_give_the_serial_weights_bitwise(solver, n, d, kernel):
    """Blocks are summed in a fixed order, so threads change the time, not the result.

    Run with two Numba threads in a subprocess (the test session pins one).
    """
    import os

    code = THREADED_FIT.format(
        tests=os.path.dirname(__file__), n=n, d=d, solver=solver, kernel=kernel
    )
    env = {**os.environ, "NUMBA_NUM_THREADS": "2"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0 and out.stdout.strip() == "same", out.stderr[-2000:]
