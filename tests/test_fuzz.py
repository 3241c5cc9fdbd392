"""A fuzzer over constructor parameters x data (issue 10).

Every draw ends in one of two ways: the documented exception, whose message
names the parameter or the data problem, or a fit whose fitted arrays and
predictions are finite and whose ``kkt_residual_`` is true: recomputed here
from ``X @ w`` and ``y`` alone, the optimality conditions hold whenever the
estimator says they do.
"""

import warnings

import _reference as ref_oracle
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning

from sklearn_relubias import MinNormReLURegressor, ShallowReLURegressor
from sklearn_relubias.exceptions import (
    DuplicateNeuronsWarning,
    StrandedExampleWarning,
    UnfittableRowsWarning,
)

FUZZ = settings(
    max_examples=200, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
EPS = np.finfo(np.float64).eps
DATA_KINDS = [
    "wide",
    "tall",
    "one feature",
    "duplicated rows",
    "scaled columns",
    "sparse, empty rows and columns",
    "float32",
    "extreme scale",
    "zero rows",
]


@st.composite
def data(draw):
    """``(X, y, sample_weight)`` of one of ``DATA_KINDS``."""
    kind = draw(st.sampled_from(DATA_KINDS))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.integers(1, 12))
    d = {"tall": max(1, n // 3), "one feature": 1}.get(kind, draw(st.integers(n, 30)))
    X, y = rng.standard_normal((n, d)), rng.standard_normal(n)
    if kind == "duplicated rows":
        X[n // 2 :] = X[: n - n // 2]
    elif kind == "scaled columns":
        X *= 10.0 ** rng.integers(-8, 9, d)
    elif kind == "sparse, empty rows and columns":
        X[rng.random(n) < 0.3] = 0.0
        X[:, rng.random(d) < 0.3] = 0.0
        X = sparse.csr_matrix(np.where(rng.random((n, d)) < 0.5, X, 0.0))
    elif kind == "float32":
        X, y = X.astype(np.float32), y.astype(np.float32)
    elif kind == "extreme scale":
        X, y = X * 2.0 ** draw(st.integers(-500, 500)), y * 2.0 ** draw(st.integers(-500, 500))
    elif kind == "zero rows":
        X[rng.random(n) < 0.4] = 0.0
    weights = draw(st.sampled_from([None, "positive", "with zeros"]))
    if weights is not None:
        weights = rng.uniform(0.1, 3.0, n) * (rng.random(n) < 0.7 if weights == "with zeros" else 1)
        weights[0] = 1.0  # a positive total
    return X, y, weights


MAGNITUDES = [1.0, -1.0, 0.5, -3.0, 2.0**300, -(2.0**-300), 2.0**-120, 0.0]


@st.composite
def common_params(draw):
    """``n_neurons``, ``output_weights``, ``fit_intercept``: mostly valid, sometimes not."""
    n_neurons = draw(st.sampled_from([0, 1, 1, 2, 2, 3, 4]))
    kind = draw(st.sampled_from(["balanced", "positive", "array", "array", "wrong length"]))
    if kind in ("balanced", "positive"):
        output_weights = kind
    else:
        size = n_neurons if kind == "array" else n_neurons + 1
        output_weights = draw(st.lists(st.sampled_from(MAGNITUDES), min_size=size, max_size=size))
    return {
        "n_neurons": n_neurons,
        "output_weights": output_weights,
        "fit_intercept": draw(st.booleans()),
    }


@st.composite
def shallow_params(draw):
    return {
        **draw(common_params()),
        "learning_rate": draw(st.sampled_from([-0.5, 2.0, 1e-3, 0.3, 0.3, 1.0, 1.0, 1.99])),
        "init": draw(st.sampled_from(["zero", "random"])),
        "init_scale": draw(st.sampled_from([0.0, 1e-3, 1.0, 1e3])),
        "max_iter": draw(st.sampled_from([0, 1, 10, 150, 150])),
        "tol": draw(st.sampled_from([0.0, 1e-12, 1e-4])),
        "solver": draw(st.sampled_from(["auto", "primal", "dual"])),
    }


@st.composite
def min_norm_params(draw):
    tol = draw(st.sampled_from([1e-30, 0.0, 1.0, 1e-12, 1e-12, 1e-6, EPS]))
    return {**draw(common_params()), "tol": tol}


def invalid_parameters(params, Estimator):
    """The parameters a valid implementation must reject (the message names one of them)."""
    a = params["output_weights"]
    bad = []
    if params["n_neurons"] < 1:
        bad.append("n_neurons")
    if not isinstance(a, str):
        spread = np.ptp(np.log2(np.abs(a))) if len(a) and 0.0 not in a else 0.0
        if len(a) != params["n_neurons"] or 0.0 in a or spread > 400:
            bad.append("output_weights")
    if Estimator is MinNormReLURegressor:
        return bad + ([] if EPS <= params["tol"] < 1 else ["tol"])
    if not 0 < params["learning_rate"] < 2:
        bad.append("learning_rate")
    if params["max_iter"] < 1:
        bad.append("max_iter")
    return bad


def groups(est):
    """``(sign, u)`` per neuron group, ``u = sum_{j in group} |a_j| w_j`` (one neuron)."""
    a, W = est.output_weights_, est.hidden_weights_
    for sign in (1.0, -1.0):
        group = np.sign(a) == sign
        if group.any():
            yield sign, np.abs(a[group]) @ W[group]


def kkt_violation(est, X, y, sample_weight):
    """The original program's optimality violation, from ``X @ u`` and ``y`` only.

    Interpolating: per-row feasibility ``|<u, x_i> - t_i|`` on rows to fit,
    ``max(<u, x_i>, 0)`` on the others, each relative to ``max|t|`` plus the
    rounding of the product itself (``sum_k |x_ik u_k|``). Otherwise the
    surrogate's stationarity ``||X^T S r|| / (||S^1/2 X||_F ||S^1/2 t||)`` (relative
    to the targets: a residual at rounding level has a gradient in any direction).
    """
    X = X.toarray() if sparse.issparse(X) else np.asarray(X, dtype=np.float64)
    keep = slice(None) if sample_weight is None else sample_weight > 0
    s = np.ones(len(y)) if sample_weight is None else sample_weight
    worst = 0.0
    for sign, u in groups(est):
        t = sign * (y - est.intercept_)
        p = X @ u
        fit = t > 0
        r = np.where(fit, p - t, np.maximum(p, 0.0))
        if est.interpolates_:
            scale = np.max(np.abs(t[keep]), initial=0.0) + np.abs(X) @ np.abs(u)
            worst = max(worst, np.max((np.abs(r) / np.maximum(scale, 1e-300))[keep], initial=0.0))
        else:
            grad = X.T @ (s * r)
            norm = np.linalg.norm(np.sqrt(s)[:, None] * X) * np.linalg.norm(np.sqrt(s) * t)
            worst = max(worst, np.linalg.norm(grad) / norm if norm > 0 else 0.0)
    return worst


def fit(Estimator, params, X, y, sample_weight):
    est = Estimator(**params)
    with warnings.catch_warnings():
        for category in (
            ConvergenceWarning,
            StrandedExampleWarning,
            DuplicateNeuronsWarning,
            UnfittableRowsWarning,
        ):
            warnings.simplefilter("ignore", category)
        warnings.simplefilter("error", RuntimeWarning)  # no overflow may leak
        return est.fit(X, y, sample_weight=sample_weight)


def check(Estimator, params, problem):
    X, y, sample_weight = problem
    bad = invalid_parameters(params, Estimator)
    if bad:
        with pytest.raises(ValueError, match="|".join(bad)):
            fit(Estimator, params, X, y, sample_weight)
        return None
    try:
        est = fit(Estimator, params, X, y, sample_weight)
    except ValueError as exc:  # only an unrepresentable scale may be refused
        assert "not representable" in str(exc), exc
        return None
    for name, value in vars(est).items():
        if name.endswith("_") and isinstance(value, np.ndarray) and value.dtype.kind == "f":
            assert np.all(np.isfinite(value)), name
    assert np.all(np.isfinite(est.predict(X)))
    return est


@FUZZ
@given(params=shallow_params(), problem=data())
def test_fuzz_gradient_descent(params, problem):
    params = {**params, "random_state": 0, "compute_min_norm_gap": True}
    est = check(ShallowReLURegressor, params, problem)
    if est is not None:
        X, y, sample_weight = problem
        keys = ("n_neurons", "output_weights", "fit_intercept")
        ref = fit(MinNormReLURegressor, {k: params[k] for k in keys}, X, y, sample_weight)
        # the relative gap is never another quantity: inf exactly when W* = 0 (or the
        # ratio overflows), and the ratio of the norms, each at its own scale, otherwise
        expected = ref_oracle.relative_gap(est.hidden_weights_, ref.hidden_weights_)
        np.testing.assert_allclose(est.min_norm_gap_, expected, rtol=1e-6)
        assert np.isfinite(est.min_norm_distance_)
        assert len(est.loss_curve_) == est.n_iter_ + 1


@FUZZ
@given(params=min_norm_params(), problem=data())
def test_fuzz_min_norm_certificate_is_true(params, problem):
    est = check(MinNormReLURegressor, params, problem)
    if est is not None:
        assert np.isfinite(est.kkt_residual_)
        # a small reported residual is a true one (a wrong answer never looks right)
        assert kkt_violation(est, *problem) <= max(100 * est.kkt_residual_, 1e-7)


@st.composite
def small_programs(draw):
    """Small exact programs: integer X (wide, centred, duplicated or dependent rows), weights.

    Integer inputs and half-integer targets keep every least-squares solution
    rational and far from the feasibility tolerance.
    """
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.integers(2, 8))
    d = draw(st.integers(n, 12))
    X = rng.integers(-3, 4, (n, d)).astype(float)
    kind = draw(st.sampled_from(["wide", "centred", "duplicated rows", "dependent rows"]))
    if kind == "centred":  # rank n - 1, as StandardScaler leaves d > n data
        X = n * X - X.sum(axis=0)
    elif kind == "duplicated rows":
        X[n // 2 :] = X[: n - n // 2]
    elif kind == "dependent rows":
        X[-1] = X[0] - 2 * X[1]
    y = rng.integers(-4, 5, n) / 2.0
    weights = draw(st.sampled_from([None, "range", "with zeros"]))
    if weights == "range":
        weights = 10.0 ** rng.uniform(-12, 12, n)
    elif weights == "with zeros":
        weights = rng.uniform(0.5, 2.0, n) * (rng.random(n) < 0.7)
        weights[0] = 1.0
    return X, y, weights, draw(st.booleans())


def enumerated_min_norm(X, t):
    """min ||w|| s.t. X_E w = t_E (t > 0), X_I w <= 0 (t <= 0), by trying every active set.

    The minimiser is the minimum-norm solution of its own active equalities,
    so the smallest feasible one over all subsets B of I (equalities E u B,
    zero targets on B) is the optimum; None when no subset is feasible.
    """
    E, ineq = np.flatnonzero(t > 0), np.flatnonzero(t <= 0)
    scale = max(1.0, np.max(np.abs(t)))
    best = None
    for mask in range(2**ineq.size):
        B = ineq[[(mask >> k) & 1 == 1 for k in range(ineq.size)]]
        A = np.concatenate([E, B])
        target = np.concatenate([t[E], np.zeros(B.size)])
        w = np.linalg.lstsq(X[A], target, rcond=None)[0] if A.size else np.zeros(X.shape[1])
        z = X @ w
        ok = np.all(np.abs(z[A] - target) <= 1e-9 * scale) and np.all(z[ineq] <= 1e-9 * scale)
        if ok and (best is None or w @ w < best @ best - 1e-12 * scale):
            best = w
    return best


@FUZZ
@given(problem=small_programs(), n_neurons=st.sampled_from([1, 2]))
def test_fuzz_min_norm_equals_exact_enumeration(problem, n_neurons):
    """Weights of any range, zero weights, intercepts, centred and rank-deficient X."""
    X, y, sample_weight, intercept = problem
    est = fit(
        MinNormReLURegressor,
        {"n_neurons": n_neurons, "fit_intercept": intercept},
        X,
        y,
        sample_weight,
    )
    keep = slice(None) if sample_weight is None else sample_weight > 0
    feasible = True
    for sign, u in groups(est):
        t = sign * (y - est.intercept_)
        exact = enumerated_min_norm(X[keep], t[keep])
        if exact is None:
            feasible = False
            continue
        scale = max(np.linalg.norm(exact), 1.0)
        assert np.linalg.norm(u - exact) <= 1e-8 * scale, (sign, u, exact)
    assert est.interpolates_ == feasible
    if feasible:
        assert est.kkt_residual_ <= 1e-10
