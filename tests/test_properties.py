"""Property-based tests (hypothesis) over shapes, dtypes, scales and label patterns."""

import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning

from sklearn_relubias import MinNormReLURegressor, ShallowReLURegressor

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def problems(draw):
    n = draw(st.integers(1, 12))
    d = draw(st.integers(1, 40))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    labels = draw(
        st.sampled_from(
            ["gaussian", "signs", "nonpositive", "zeros", "constant", "duplicated rows"]
        )
    )
    y = {
        "gaussian": rng.standard_normal(n),
        "signs": np.sign(rng.standard_normal(n)),
        "nonpositive": -np.abs(rng.standard_normal(n)),
        "zeros": np.zeros(n),
        "constant": np.full(n, 2.5),
        "duplicated rows": rng.standard_normal(n),
    }[labels]
    if labels == "duplicated rows":
        X[n // 2 :] = X[: n - n // 2]
    scale = 2.0 ** draw(st.integers(-120, 120))  # X and y together: representable results
    X, y = X * scale, y * scale
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    return X.astype(dtype), y


params = st.fixed_dictionaries(
    {
        "n_neurons": st.integers(1, 4),
        "output_weights": st.sampled_from(["balanced", "positive"]),
        "init": st.sampled_from(["zero", "random"]),
        "learning_rate": st.floats(0.01, 1.99),
        "solver": st.sampled_from(["auto", "primal", "dual"]),
    }
)


@SETTINGS
@given(problem=problems(), kw=params)
def test_gradient_descent_invariants(problem, kw):
    X, y = problem
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = ShallowReLURegressor(max_iter=200, random_state=0, **kw).fit(X, y)
    X64 = X.astype(np.float64)
    W = est.hidden_weights_
    assert np.all(np.isfinite(W)) and np.all(np.isfinite(est.dual_coef_))
    moved = est.dual_coef_.T @ X64
    span = est.init_hidden_weights_ + moved
    tol = 1e-6 if X.dtype == np.float32 else 1e-9
    ref = max(np.linalg.norm(W), np.linalg.norm(est.init_hidden_weights_), np.linalg.norm(moved))
    assert np.linalg.norm(W - span) <= tol * max(ref, 1e-300)
    pred = est.predict(X)
    assert pred.shape == y.shape and np.all(np.isfinite(pred))
    assert np.isfinite(est.min_norm_gap_)
    assert np.all(np.isfinite(est.loss_curve_))
    assert np.all(np.diff(est.loss_curve_) <= 1e-9 * est.loss_curve_[:-1] + 1e-300) or (
        est.pattern_stable_iter_ > 0  # the loss may rise only when the pattern changes
    )


@SETTINGS
@given(
    problem=problems(),
    n_neurons=st.integers(1, 4),
    output_weights=st.sampled_from(["balanced", "positive"]),
)
def test_min_norm_kkt_and_span(problem, n_neurons, output_weights):
    X, y = problem
    est = MinNormReLURegressor(n_neurons=n_neurons, output_weights=output_weights).fit(X, y)
    W = est.hidden_weights_
    assert np.all(np.isfinite(W)) and np.all(np.isfinite(est.dual_coef_))
    np.testing.assert_allclose(
        W,
        est.dual_coef_.T @ X.astype(np.float64),
        rtol=1e-6,
        atol=1e-9 * max(np.abs(W).max(), 1e-300),
    )
    if est.interpolates_:
        assert est.kkt_residual_ <= 1e-8
    assert np.all(np.isfinite(est.predict(X)))
