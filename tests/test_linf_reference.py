"""metrics.min_linf_interpolant against cvxpy, and its certificate."""

import cvxpy as cp
import numpy as np
import pytest

from sklearn_relubias.metrics import min_linf_interpolant, min_norm_reference

from ._reference import gaussian_problem


def _cvxpy_value(X, y, a, region, slope):
    m, d = a.shape[0], X.shape[1]
    W = cp.Variable((m, d))
    P = X @ W.T
    s = np.where(region, 1.0, slope)
    cons = [cp.sum(cp.multiply(P, s * a), axis=1) == y]
    if slope != 1.0:
        sign = np.where(region, 1.0, -1.0)
        cons.append(cp.multiply(P, sign) >= 0)
    prob = cp.Problem(cp.Minimize(cp.max(cp.abs(W))), cons)
    prob.solve(solver=cp.CLARABEL)
    return prob.value


@pytest.mark.parametrize(
    ("activation", "slope"), [("relu", 0.0), ("leaky_relu", 0.2), ("linear", 1.0)]
)
def test_value_matches_cvxpy_and_the_weights_certify_themselves(activation, slope):
    X, y = gaussian_problem(6, 15, seed=41)
    a = np.array([1.0, -1.0])
    region = np.outer(y, a) > 0  # the label-sign region: W* lies in it
    kw = {"activation": activation} | (
        {"negative_slope": slope} if activation == "leaky_relu" else {}
    )
    res = min_linf_interpolant(X, y, a, region, **kw)
    assert res["norm"] == pytest.approx(_cvxpy_value(X, y, a, region, slope), rel=1e-6)
    assert res["residual"] < 1e-9 and res["sign_violation"] < 1e-9
    assert res["norm"] == pytest.approx(np.max(np.abs(res["weights"])))
    # the minimum-l2 interpolant of the region is feasible: its largest weight is not smaller
    W2 = min_norm_reference(X, y, a, region=None if slope == 1.0 else region, **kw).weights
    assert res["norm"] <= np.max(np.abs(W2)) * (1 + 1e-9)


def test_an_empty_region_is_infeasible():
    X, y = gaussian_problem(6, 15, seed=42)
    a = np.array([1.0, -1.0])
    with pytest.raises(ValueError, match="No interpolant lies in this region"):
        min_linf_interpolant(X, y, a, np.zeros((6, 2), dtype=bool))
