"""Bad input, divergence and reproducibility: one row of the table per test case."""

import os
import pickle
import subprocess
import sys
import warnings

import _reference
import joblib
import numpy as np
import pandas as pd
import pytest
from _reference import gaussian_problem, paper_estimator
from joblib import parallel_config
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV

from sklearn_relubias import MinNormReLURegressor, ShallowReLURegressor
from sklearn_relubias.exceptions import StrandedExampleWarning, UnfittableRowsWarning

# Bad and extreme inputs: gradient descent may strand an example; not what is tested here.
pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn_relubias.exceptions.StrandedExampleWarning"
)

ESTIMATORS = [paper_estimator, MinNormReLURegressor]


def finite_fit(est):
    """Every float array attribute of a fitted estimator is finite."""
    for name, value in vars(est).items():
        if name.endswith("_") and isinstance(value, np.ndarray) and value.dtype.kind == "f":
            assert np.all(np.isfinite(value)), name
    return est


def fit_quietly(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


X0, Y0 = gaussian_problem(12, 40, seed=0)


def assert_gap_is_the_ratio(est, X, y):
    """``min_norm_gap_`` is ||W - W*|| / ||W*|| (inf when W* = 0), never another quantity."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnfittableRowsWarning)
        ref = MinNormReLURegressor(n_neurons=est.n_neurons, output_weights=est.output_weights).fit(
            X, y
        )
    expected = _reference.relative_gap(est.hidden_weights_, ref.hidden_weights_)
    np.testing.assert_allclose(est.min_norm_gap_, expected, rtol=1e-6)


# (X, y, expected error type, message pattern) -- None means a valid, finite fit.
BAD_INPUT = {
    "nan in X": (np.where(np.arange(480).reshape(12, 40) == 7, np.nan, X0), Y0, ValueError, "NaN"),
    "inf in X": (
        np.where(np.arange(480).reshape(12, 40) == 7, np.inf, X0),
        Y0,
        ValueError,
        "infinity",
    ),
    "nan in y": (X0, np.r_[np.nan, Y0[1:]], ValueError, "NaN"),
    "inf in y": (X0, np.r_[np.inf, Y0[1:]], ValueError, "infinity"),
    "empty X": (np.empty((0, 40)), np.empty(0), ValueError, "0 sample"),
    "no features": (np.empty((12, 0)), Y0, ValueError, "0 feature"),
    "lengths differ": (X0, Y0[:-1], ValueError, "inconsistent numbers of samples"),
    "2-D y": (X0, np.c_[Y0, Y0], ValueError, "1d array"),
    "complex X": (X0 + 1j, Y0, ValueError, "[Cc]omplex"),
    "strings in X": (np.full((12, 40), "a", dtype=object), Y0, ValueError, "convert"),
    "one sample": (X0[:1], Y0[:1], None, None),
    "one feature": (X0[:, :1], Y0, None, None),
    "constant y": (X0, np.full(12, 3.0), None, None),
    "y all <= 0": (X0, -np.abs(Y0), None, None),
    "y all zero": (X0, np.zeros(12), None, None),
    "tiny magnitudes": (1e-150 * X0, 1e-150 * Y0, None, None),
    "huge magnitudes": (1e150 * X0, 1e150 * Y0, None, None),
    "int dtype": (np.rint(3 * X0).astype(int), np.rint(Y0).astype(int), None, None),
    "bool dtype": (X0 > 0, Y0, None, None),
    "float32": (X0.astype(np.float32), Y0.astype(np.float32), None, None),
    "object numbers": (X0.astype(object), Y0.astype(object), None, None),
    "sparse csr": (sparse.csr_matrix(np.where(X0 > 1, X0, 0)), Y0, None, None),
    "sparse coo": (sparse.coo_matrix(np.where(X0 > 1, X0, 0)), Y0, None, None),
    "all-zero X": (np.zeros((12, 40)), Y0, None, None),
    "a zero row": (np.where(np.arange(12)[:, None] == 3, 0.0, X0), Y0, None, None),
    "sparse empty rows and columns": (
        sparse.csr_matrix(np.where((np.arange(40) % 3 == 0) & (X0 > 0.5), X0, 0)),
        Y0,
        None,
        None,
    ),
    "duplicated rows, different targets": (np.r_[X0, X0[:3]], np.r_[Y0, Y0[:3] + 1], None, None),
    "more samples than features": (np.tile(X0[:, :5], (4, 1)), np.tile(Y0, 4), None, None),
    "column scaled by 1e8": (X0 * np.where(np.arange(40) == 0, 1e8, 1.0), Y0, None, None),
}


@pytest.mark.parametrize("Est", ESTIMATORS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_table(Est, case):
    X, y, error, match = BAD_INPUT[case]
    est = Est()
    if error is None:
        with warnings.catch_warnings():  # no overflow or invalid-value warning may leak
            warnings.simplefilter("error", RuntimeWarning)
            warnings.simplefilter("ignore", UnfittableRowsWarning)  # tested below
            finite_fit(fit_quietly(est, X, y))
            pred = est.predict(X)
        assert pred.shape == (X.shape[0],) and np.all(np.isfinite(pred))
        if isinstance(est, ShallowReLURegressor):
            assert_gap_is_the_ratio(est, X, y)
    else:
        with pytest.raises(error, match=match):
            est.fit(X, y)


@pytest.mark.parametrize("Est", ESTIMATORS, ids=lambda c: c.__name__)
def test_zero_rows_that_must_be_fitted_are_named(Est):
    X = np.where(np.isin(np.arange(12), [3, 7])[:, None], 0.0, X0)
    y = np.abs(Y0)  # every row has a positive target, which neuron 0 (a = +1) must fit
    with pytest.warns(UnfittableRowsWarning, match=r"2 row\(s\).*indices 3, 7"):
        est = Est(n_neurons=1).fit(X, y)
    if isinstance(est, MinNormReLURegressor):
        assert not est.interpolates_
    else:  # not reported as stranded: no neuron could ever fit them
        assert not np.isin([3, 7], est.stranded_indices_).any()
    y[[3, 7]] = -1.0  # a single positive neuron only has to keep them inactive: no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnfittableRowsWarning)
        Est(n_neurons=1).fit(X, y)


@pytest.mark.parametrize("tol", [1e-30, 0.0, 1.0])
def test_min_norm_tol_outside_float64_precision_is_rejected(tol):
    with pytest.raises(ValueError, match=r"'tol' parameter of MinNormReLURegressor"):
        MinNormReLURegressor(tol=tol).fit(X0, Y0)


@pytest.mark.parametrize("Est", ESTIMATORS, ids=lambda c: c.__name__)
def test_scale_covariance(Est):
    """Rescaling X and y by extreme factors rescales the fit exactly as the math says."""
    base = fit_quietly(Est(), X0, Y0)
    for sx, sy in [(1e150, 1e150), (1e-150, 1e-150), (2.0**-300, 1.0)]:
        est = fit_quietly(Est(), sx * X0, sy * Y0)
        np.testing.assert_allclose(est.hidden_weights_, base.hidden_weights_ * sy / sx, rtol=1e-9)
        np.testing.assert_allclose(
            est.predict(sx * X0), sy * base.predict(X0), rtol=1e-9, atol=1e-12 * sy
        )


@pytest.mark.parametrize("Est", ESTIMATORS, ids=lambda c: c.__name__)
def test_unrepresentable_scale_is_an_error(Est):
    with pytest.raises(ValueError, match="not representable"):
        Est().fit(1e-300 * X0, 1e300 * Y0)


def test_y_column_vector_is_raveled_with_a_warning():
    from sklearn.exceptions import DataConversionWarning

    with pytest.warns(DataConversionWarning):
        paper_estimator(max_iter=5, compute_min_norm_gap=False).fit(X0, Y0[:, None])


@pytest.mark.parametrize("Est", ESTIMATORS, ids=lambda c: c.__name__)
def test_feature_count_mismatch_and_names(Est):
    est = fit_quietly(Est(), X0, Y0)
    with pytest.raises(ValueError, match="features"):
        est.predict(X0[:, :5])
    frame = pd.DataFrame(X0, columns=[f"f{i}" for i in range(40)])
    est = fit_quietly(Est(), frame, Y0)
    np.testing.assert_array_equal(est.feature_names_in_, frame.columns)
    with pytest.warns(UserWarning, match="feature names"):
        est.predict(X0)
    with pytest.raises(NotFittedError):
        Est().predict(X0)


def test_read_only_memmap_as_joblib_passes_it(tmp_path):
    path = tmp_path / "X.joblib"
    joblib.dump((X0, Y0), path)
    Xm, ym = joblib.load(path, mmap_mode="r")
    assert not Xm.flags.writeable
    for Est in ESTIMATORS:
        a, b = fit_quietly(Est(), Xm, ym), fit_quietly(Est(), X0, Y0)
        np.testing.assert_array_equal(a.hidden_weights_, b.hidden_weights_)


# -- divergence --------------------------------------------------------------


def test_huge_random_init_trains_in_internal_units():
    """init_scale=1e200: the outputs set the internal scale, so gradient descent runs.

    The loss itself (~1e400 at the start, and rounding at that scale at the
    end) is beyond float64 and recorded as inf, never NaN.
    """
    est = paper_estimator(init="random", init_scale=1e200, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", StrandedExampleWarning)
        est.fit(X0, Y0)
    assert est.n_iter_ > 0 and not np.any(np.isnan(est.loss_curve_))
    assert est.loss_curve_[0] == np.inf
    for name in ("hidden_weights_", "dual_coef_"):
        assert np.all(np.isfinite(getattr(est, name)))
    assert_gap_is_the_ratio(est, X0, Y0)
    assert np.all(np.isfinite(est.predict(X0)))


def test_overflowing_init_takes_no_step():
    """init_scale=1e308: the initial outputs overflow; no step, a warning, no NaN anywhere."""
    est = paper_estimator(init="random", init_scale=1e308, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.warns(ConvergenceWarning, match="initial weights is not finite"):
            est.fit(X0, Y0)
    assert est.n_iter_ == 0
    np.testing.assert_array_equal(est.hidden_weights_, est.init_hidden_weights_)
    np.testing.assert_array_equal(est.loss_curve_, [np.inf])
    for name in ("hidden_weights_", "dual_coef_"):
        assert np.all(np.isfinite(getattr(est, name)))
    # ||W0 - W*|| / ||W*|| is about 1e308 sqrt(m d) / ||W*||: beyond float64, so inf
    assert est.min_norm_gap_ == np.inf


@pytest.mark.parametrize("dual", [True, False])
def test_kernel_stops_at_the_last_finite_iterate(dual):
    """A step size far beyond the stable range, fed to the driver directly: the first step
    overflows. The kernel must keep the last finite iterate (here W0) instead of storing inf/NaN.
    """
    from sklearn_relubias._gd import GDProblem, Status, make_operator, run_gd
    from sklearn_relubias._linalg import gram

    X, y = gaussian_problem(6, 20, seed=1)
    W0 = np.random.default_rng(0).standard_normal((2, 20))
    a = np.array([1.0, -1.0])
    problem = GDProblem(  # no plan: the driver sees the raw step
        operator=make_operator(X, gram(X) if dual else None),
        output_weights=a,
        targets=y,
        weights=np.full(6, 1.0 / 6),
        init_weights=W0,
        init_pre_activations=X @ W0.T,
        step_size=1e306,
    )
    res = run_gd(problem, max_iter=100, tol=0.0)
    assert res.status == Status.NON_FINITE and res.n_iter == 0
    np.testing.assert_array_equal(res.hidden_weights, W0)
    np.testing.assert_array_equal(res.dual_coef, 0.0)
    assert np.all(np.isfinite(res.loss_curve))


# -- reproducibility -----------------------------------------------------------

SCRIPT = """
import numpy as np, sys
from sklearn_relubias import PAPER_MODEL, MinNormReLURegressor, ShallowReLURegressor
def paper_estimator(**params):
    return ShallowReLURegressor(**{**PAPER_MODEL, **params})
rng = np.random.default_rng(3)
out = []
for n, d in ((200, 2000), (2000, 200)):  # dual and primal paths, BLAS-sized products
    X, y = rng.standard_normal((n, d)), rng.standard_normal(n)
    est = paper_estimator(n_neurons=3, init="random", random_state=42, max_iter=100, tol=0)
    est.fit(X, y)
    ref = MinNormReLURegressor().fit(X, y)
    out += [est.hidden_weights_.ravel(), est.dual_coef_.ravel(), [est.min_norm_gap_],
            ref.hidden_weights_.ravel()]
sys.stdout.write(np.concatenate(out).tobytes().hex())
"""


def _run_with_blas_threads(threads):
    """Weights from a fresh process with BLAS on ``threads`` threads (not the conftest pin)."""
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    out = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", SCRIPT],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
        env=env,
    ).stdout
    return np.frombuffer(bytes.fromhex(out), dtype=np.float64)


def test_determinism_is_bitwise_per_thread_count_and_1e_12_across():
    """What the README promises: bitwise with the same BLAS thread count, 1e-12 across counts.

    (BLAS sums the Gram matrix and the products with X in a thread-dependent
    order; the Numba kernels are serial.)
    """
    one, one_again, two = (_run_with_blas_threads(t) for t in (1, 1, 2))
    assert one.size > 1000
    np.testing.assert_array_equal(one, one_again)
    np.testing.assert_allclose(two, one, rtol=0, atol=1e-12 * np.max(np.abs(one)))


@pytest.mark.parametrize("backend", ["loky", "threading"])
def test_grid_search_n_jobs_and_backend_do_not_change_results(backend):
    grid = {"learning_rate": [0.3, 1.0], "n_neurons": [1, 3]}
    est = paper_estimator(init="random", random_state=0, max_iter=3000, tol=1e-8)
    serial = GridSearchCV(est, grid, cv=3, n_jobs=1).fit(X0, Y0)
    with parallel_config(backend=backend):
        par = GridSearchCV(est, grid, cv=3, n_jobs=2).fit(X0, Y0)
    np.testing.assert_array_equal(
        serial.cv_results_["mean_test_score"], par.cv_results_["mean_test_score"]
    )
    np.testing.assert_array_equal(
        serial.best_estimator_.hidden_weights_, par.best_estimator_.hidden_weights_
    )


@pytest.mark.parametrize("Est", ESTIMATORS, ids=lambda c: c.__name__)
def test_pickle_and_joblib_round_trips(Est, tmp_path):
    est = fit_quietly(Est(), X0, Y0)
    again = pickle.loads(pickle.dumps(est))
    joblib.dump(est, tmp_path / "est.joblib")
    loaded = joblib.load(tmp_path / "est.joblib")
    for other in (again, loaded):
        np.testing.assert_array_equal(other.predict(X0), est.predict(X0))


@pytest.mark.parametrize("design", ["hadamard", "plus_minus_pairs"])
def test_step_size_on_balanced_designs(design):
    """K @ ones = 0 on these designs; the Lanczos start vector must not be orthogonal to the top
    eigenvector (a vector of ones was, and ARPACK failed with 'Starting vector is zero')."""
    from scipy.linalg import hadamard

    from sklearn_relubias._linalg import weighted_top_eigenvalue

    if design == "hadamard":
        X = hadamard(1024)[:, 1:].astype(float)  # columns sum to zero: X^T 1 = 0 exactly
        X = np.hstack([X, X])  # n = 1024 > 1000 and n <= d: Lanczos on the n x n side
    else:
        half = np.rint(4 * np.random.default_rng(0).standard_normal((600, 1300)))
        X = np.vstack([half, -half])  # integers: X^T 1 = 0 exactly
    w = np.full(X.shape[0], 1.0 / X.shape[0])
    expected = np.linalg.eigvalsh(X.T @ X)[-1] / X.shape[0]
    for kw in ({"X": X}, {"K": X @ X.T}):
        np.testing.assert_allclose(weighted_top_eigenvalue(w, **kw), expected, rtol=1e-10)


def _fitted_state(est):
    return {k: v for k, v in vars(est).items() if k.endswith("_") and not k.startswith("_")}


def _assert_same_state(before, after):
    assert before.keys() == after.keys()
    for key, value in before.items():
        np.testing.assert_array_equal(after[key], value, err_msg=key)


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=lambda c: c.__name__)
def test_a_refit_that_raises_leaves_the_previous_model(Estimator):
    X, y = gaussian_problem(10, 30, seed=3)
    est = Estimator().fit(X, y)
    before = _fitted_state(est)
    X_bad = np.random.default_rng(0).standard_normal((8, 12))
    with pytest.raises(ValueError, match="output_weights"):
        est.set_params(output_weights=[1.0, 0.0]).fit(X_bad, y[:8])
    _assert_same_state(before, _fitted_state(est))
    np.testing.assert_array_equal(est.predict(X), Estimator().fit(X, y).predict(X))


INTERRUPT = """
import os, signal, threading, time
import numpy as np
from sklearn_relubias import PAPER_MODEL, ShallowReLURegressor
def paper_estimator(**params):
    return ShallowReLURegressor(**{**PAPER_MODEL, **params})
r = np.random.default_rng(0)
X, y = r.standard_normal((10, 40)), r.standard_normal(10)
est = paper_estimator(max_iter=50).fit(X, y)
before = {k: v.copy() if hasattr(v, "copy") else v for k, v in vars(est).items()}
est.set_params(max_iter=10**9, tol=0.0)
sent = []
def interrupt():
    time.sleep(1.0)
    sent.append(time.perf_counter())
    os.kill(os.getpid(), signal.SIGINT)
threading.Thread(target=interrupt).start()
try:
    est.fit(r.standard_normal((12, 30)), r.standard_normal(12))  # other shapes
except KeyboardInterrupt:
    delay = time.perf_counter() - sent[0]
    same = before.keys() == vars(est).keys() and all(
        np.array_equal(before[k], v) if isinstance(v, np.ndarray) else before[k] == v
        for k, v in vars(est).items() if k != "max_iter" and k != "tol"
    )
    print("interrupted", round(delay, 3), same, est.predict(X).shape)
"""


def test_sigint_interrupts_a_long_fit_and_keeps_the_previous_model():
    """A real SIGINT: KeyboardInterrupt within about a second, the previous fit intact."""
    proc = subprocess.run(
        [sys.executable, "-c", INTERRUPT], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    word, delay, same, shape = proc.stdout.split(maxsplit=3)
    assert word == "interrupted" and float(delay) < 1.0 and same == "True", proc.stdout


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=lambda c: c.__name__)
def test_extreme_output_weights_are_rescaled_exactly(Estimator):
    """a -> a / c, W -> c W leaves the model and every step unchanged (c a power of two)."""
    X, y = gaussian_problem(10, 50, seed=4)
    big = 2.0**600  # ||a||^2 = 2**1201 overflows float64 unless a is rescaled
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        huge = Estimator(output_weights=[big, -big]).fit(X, y)
    plain = Estimator(output_weights=[1.0, -1.0]).fit(X, y)
    np.testing.assert_array_equal(huge.hidden_weights_ * big, plain.hidden_weights_)
    np.testing.assert_array_equal(huge.predict(X), plain.predict(X))
    if Estimator is paper_estimator:
        assert huge.min_norm_gap_ == plain.min_norm_gap_
        np.testing.assert_array_equal(huge.loss_curve_, plain.loss_curve_)


def test_random_start_far_above_tiny_targets_does_not_overflow():
    """Found by the fuzzer: the output scale is set by y and the initial outputs together.

    With y ~ 1e-152 alone setting the scale, the start's outputs (~500) became
    ~1e154 in internal units and the loss overflowed to inf.
    """
    X, y = np.array([[527350.7692529]]), np.array([-4.03571951e-152])
    est = paper_estimator(
        n_neurons=1,
        init="random",
        init_scale=1e-3,
        learning_rate=1e-3,
        max_iter=1,
        tol=0.0,
        random_state=0,  # a positive start: the output is ~500
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    finite_fit(est)
    W0 = est.init_hidden_weights_
    expected = 0.5 * (max(X[0, 0] * W0[0, 0], 0.0) - y[0]) ** 2
    assert est.loss_curve_[0] == pytest.approx(expected, rel=1e-12)
