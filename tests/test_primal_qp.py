"""solve_min_norm_primal against cvxpy/Clarabel, exact rational oracles and the dual solver.

Oracles never call the code under test: cvxpy (Clarabel) for the programs as
written in shared/design/model.md, exact integer/rational least squares on an
active set that cvxpy identified (with a margin, so rounding cannot flip it),
planted solutions, and the existing dual solver.
"""

import tracemalloc
from fractions import Fraction

import cvxpy as cp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse
from scipy.linalg import null_space

from sklearn_relubias._reference import _primal_qp
from sklearn_relubias._reference._dual_qp import solve_min_norm
from sklearn_relubias._reference._primal_qp import solve_min_norm_primal

pytestmark = pytest.mark.filterwarnings("ignore:Solution may be inaccurate:UserWarning")

TIGHT = dict(tol_gap_abs=1e-13, tol_gap_rel=1e-13, tol_feas=1e-13, tol_ktratio=1e-10)
FIRM = dict(tol_gap_abs=1e-11, tol_gap_rel=1e-11, tol_feas=1e-11, tol_ktratio=1e-8)


def clarabel(prob, accept=("optimal",)):
    """Solve with tight tolerances; if Clarabel stalls there, with firm ones."""
    try:
        prob.solve(solver="CLARABEL", **TIGHT)
    except cp.error.SolverError:
        prob.solve(solver="CLARABEL", **FIRM)
    if prob.status != "optimal":
        prob.solve(solver="CLARABEL", **FIRM)
    assert prob.status in accept, prob.status


def rel(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


def surrogate(X, y, w, s=None):
    s = np.ones(len(y)) if s is None else s
    f, pos = X @ w, y > 0
    return np.sum(s[pos] * (f[pos] - y[pos]) ** 2) + np.sum(s[~pos] * np.maximum(f[~pos], 0) ** 2)


def cvxpy_min_norm(X, y):
    """min ||w||^2 s.t. <w,x_i> = y_i (y_i > 0), <w,x_i> <= 0 (y_i <= 0)."""
    w, pos = cp.Variable(X.shape[1]), y > 0
    clarabel(cp.Problem(cp.Minimize(cp.sum_squares(w)), [X[pos] @ w == y[pos], X[~pos] @ w <= 0]))
    return w.value


def cvxpy_surrogate_minimiser(X, y, s):
    """Some minimiser of the weighted surrogate F (only its sign pattern is used)."""
    w, pos, r = cp.Variable(X.shape[1]), y > 0, np.sqrt(s)
    obj = cp.sum_squares(cp.multiply(r[pos], X[pos] @ w - y[pos])) + cp.sum_squares(
        cp.multiply(r[~pos], cp.pos(X[~pos] @ w))
    )
    clarabel(cp.Problem(cp.Minimize(obj)), accept=("optimal", "optimal_inaccurate"))
    return w.value


def fitted_rows(X, y, s, margin=1e-5):
    """Rows a surrogate minimiser fits: E and the rows of I with <w,x_i> > 0.

    max(<w,x_i>, 0) is the same at every minimiser; the margin assertion makes
    sure cvxpy's rounding cannot move a row across the kink.
    """
    pos = y > 0
    z = X @ cvxpy_surrogate_minimiser(X, y, s)
    assert np.min(np.abs(z[~pos])) > margin * np.max(np.abs(y)), "ambiguous oracle"
    return pos | (z > 0)


def oracle_surrogate_min_norm(X, y, s):
    """Minimum-norm minimiser of F from the math: {LS minimisers on Q} with X_R w <= 0.

    Q = E u P from cvxpy, then w = w_0 + N v (w_0 the least-squares solution
    on Q, N a basis of the null space of X_Q, both from NumPy/SciPy) and cvxpy
    for min ||w|| s.t. X_R w <= 0.
    """
    Q = fitted_rows(X, y, s)
    b = np.where(y > 0, y, 0.0)
    XQ, bQ = X[Q] * np.sqrt(s[Q])[:, None], b[Q] * np.sqrt(s[Q])
    w0 = np.linalg.lstsq(XQ, bQ, rcond=None)[0]
    N = null_space(XQ)
    if N.shape[1] == 0:
        return w0
    v = cp.Variable(N.shape[1])
    clarabel(cp.Problem(cp.Minimize(cp.sum_squares(w0 + N @ v)), [X[~Q] @ (w0 + N @ v) <= 0]))
    return w0 + N @ v.value


def _exact_ints(A):
    """Float array as Python integers times a common power of two (exact)."""
    ratios = [v.as_integer_ratio() for v in np.asarray(A, dtype=float).ravel()]
    shift = max(den.bit_length() for _, den in ratios) - 1
    ints = [num << (shift - den.bit_length() + 1) for num, den in ratios]
    return np.array(ints, dtype=object).reshape(np.shape(A)), shift


def exact_weighted_lstsq(X, b, s):
    """Least squares with full column rank, in exact rational arithmetic, rounded once."""
    Xi, kx = _exact_ints(X)
    bi, kb = _exact_ints(b)
    si, ks = _exact_ints(s)
    H = (Xi.T * si) @ Xi  # scale 2^(2 kx + ks)
    g = (Xi.T * si) @ bi  # scale 2^(kx + kb + ks)
    d = H.shape[0]
    M = [[Fraction(int(H[i, j])) for j in range(d)] for i in range(d)]
    shift = 2 ** abs(kx - kb)
    rhs = [Fraction(int(v)) * shift if kx >= kb else Fraction(int(v), shift) for v in g]
    for c in range(d):  # Gauss-Jordan, exact
        p = next(r for r in range(c, d) if M[r][c] != 0)
        M[c], M[p], rhs[c], rhs[p] = M[p], M[c], rhs[p], rhs[c]
        for r in range(d):
            if r != c and M[r][c] != 0:
                f = M[r][c] / M[c][c]
                M[r] = [a - f * q for a, q in zip(M[r], M[c], strict=True)]
                rhs[r] -= f * rhs[c]
    return np.array([float(rhs[i] / M[i][i]) for i in range(d)])


def exact_surrogate_minimiser(X, y, s):
    """Unique minimiser of F (X_Q of full column rank), exact up to one rounding.

    Q starts from cvxpy's sign pattern; rows whose exact fitted value has the
    wrong sign are moved (cvxpy is only accurate to ~1e-8). The result is
    certified: the exact least-squares solution on Q has positive fitted
    values on the rows of I in Q and negative ones on the others, so
    grad F = 0 there.
    """
    pos, neg = y > 0, y <= 0
    Q = pos | (X @ cvxpy_surrogate_minimiser(X, y, s) > 0)
    for _ in range(10):
        assert np.linalg.matrix_rank(X[Q]) == X.shape[1]
        w = exact_weighted_lstsq(X[Q], np.where(pos, y, 0.0)[Q], s[Q])
        z = X @ w
        wrong = neg & (Q != (z > 0))
        if not wrong.any():
            break
        Q = Q ^ wrong
    assert np.all(z[neg & Q] > 0) and np.all(z[neg & ~Q] < 0)
    return w


def planted_feasible(n_pos, n_neg, d, seed, density=1.0):
    """y = relu(X w_true) restricted to few positive rows; y_i <= 0 arbitrary on the rest."""
    rng = np.random.default_rng(seed)
    w_true = rng.standard_normal(d)
    pool = rng.standard_normal((3 * (n_pos + n_neg), d))
    pool[rng.random(pool.shape) >= density] = 0.0
    score = pool @ w_true
    X = np.vstack([pool[score > 0][:n_pos], pool[score < 0][:n_neg]])
    y = np.maximum(X @ w_true, 0.0)
    y[n_pos:] = -rng.random(n_neg) * (rng.random(n_neg) < 0.7)  # some exact zeros
    return X, y


def degenerate_infeasible(d, n_neg, seed):
    """Inconsistent duplicated positive rows plus many negative rows: the
    surrogate's minimisers form a polyhedron, not a point."""
    rng = np.random.default_rng(seed)
    B = rng.standard_normal((3, d))
    X = np.vstack([B[0], B[0], B[1], B[2], rng.standard_normal((n_neg, d))])
    y = np.r_[1.0, 3.0, 2.0, 1.0, -rng.random(n_neg)]
    return X, y


# --- against cvxpy -------------------------------------------------------------------------


@pytest.mark.parametrize("n, d, seed", [(5, 20, 0), (20, 60, 1), (30, 31, 2), (25, 25, 3)])
def test_feasible_matches_cvxpy(n, d, seed):
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((n, d)), rng.standard_normal(n)
    sol = solve_min_norm_primal(X, y)
    w_ref = cvxpy_min_norm(X, y)
    assert sol.interpolates
    assert rel(sol.weights, w_ref) <= 1e-7
    assert np.linalg.norm(sol.weights) <= np.linalg.norm(w_ref) * (1 + 1e-9)
    assert sol.kkt <= 1e-12


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_feasible_tall_few_positives_matches_cvxpy(seed):
    X, y = planted_feasible(5, 75, 20, seed)  # n = 80 > d = 20
    sol = solve_min_norm_primal(X, y)
    w_ref = cvxpy_min_norm(X, y)
    # the case exercises the inequality rows: some hold with equality at w*
    assert np.sum(np.abs(X[y <= 0] @ w_ref) < 1e-9) >= 1
    assert sol.interpolates
    assert rel(sol.weights, w_ref) <= 1e-7
    assert sol.kkt <= 1e-12


@pytest.mark.parametrize("n, d, seed", [(60, 10, 0), (200, 20, 1), (90, 40, 2)])
def test_infeasible_matches_cvxpy_surrogate(n, d, seed):
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((n, d)), rng.standard_normal(n)
    s = np.ones(n)
    sol = solve_min_norm_primal(X, y)
    w_ref = oracle_surrogate_min_norm(X, y, s)
    assert not sol.interpolates
    assert rel(sol.weights, w_ref) <= 1e-7
    assert surrogate(X, y, sol.weights) <= surrogate(X, y, w_ref) * (1 + 1e-12)
    assert sol.kkt <= 1e-12


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("weighted", [False, True])
def test_degenerate_surrogate_picks_minimum_norm(seed, weighted):
    X, y = degenerate_infeasible(30, 40, seed)  # n = 44 > d = 30
    s = np.random.default_rng(seed).uniform(0.2, 3.0, len(y)) if weighted else np.ones(len(y))
    sol = solve_min_norm_primal(X, y, sample_weight=s if weighted else None)
    w_ref = oracle_surrogate_min_norm(X, y, s)
    # the minimiser set is not a point, and the minimum-norm one sits on kinks
    assert null_space(X[fitted_rows(X, y, s)]).shape[1] > 0
    assert np.sum(np.abs(X[y <= 0] @ w_ref) < 1e-8) >= 5
    assert not sol.interpolates
    assert rel(sol.weights, w_ref) <= 1e-7
    assert np.linalg.norm(sol.weights) <= np.linalg.norm(w_ref) * (1 + 1e-9)
    assert surrogate(X, y, sol.weights, s) <= surrogate(X, y, w_ref, s) * (1 + 1e-10)


def test_duplicated_column_splits_the_weight():
    # columns a, a: the minimum-norm solution puts t/2 on each, and equals the
    # problem with the single column sqrt(2) a, mapped back
    rng = np.random.default_rng(4)
    X0, y = rng.standard_normal((50, 7)), rng.standard_normal(50)
    X = np.column_stack([X0[:, 0], X0])
    reduced = X0.copy()
    reduced[:, 0] *= np.sqrt(2.0)
    w_red = oracle_surrogate_min_norm(reduced, y, np.ones(50))
    expected = np.r_[w_red[0] / np.sqrt(2.0), w_red[0] / np.sqrt(2.0), w_red[1:]]
    sol = solve_min_norm_primal(X, y)
    assert rel(sol.weights, expected) <= 1e-7


def test_weighted_surrogate_matches_cvxpy():
    rng = np.random.default_rng(5)
    X, y = rng.standard_normal((80, 12)), rng.standard_normal(80)
    s = rng.uniform(0.1, 5.0, 80)
    sol = solve_min_norm_primal(X, y, sample_weight=s)
    assert rel(sol.weights, oracle_surrogate_min_norm(X, y, s)) <= 1e-7
    # and the weights matter: unweighted is a different point
    assert rel(solve_min_norm_primal(X, y).weights, sol.weights) > 1e-3


@pytest.mark.parametrize("case", ["infeasible", "feasible"])
def test_integer_weights_equal_repeated_rows(case):
    rng = np.random.default_rng(6)
    if case == "infeasible":
        X, y = rng.standard_normal((40, 8)), rng.standard_normal(40)
    else:
        X, y = planted_feasible(4, 36, 12, seed=6)
    counts = rng.integers(1, 4, len(y))
    sol = solve_min_norm_primal(X, y, sample_weight=counts.astype(float))
    rep = solve_min_norm_primal(np.repeat(X, counts, axis=0), np.repeat(y, counts))
    assert sol.interpolates == rep.interpolates == (case == "feasible")
    assert rel(sol.weights, rep.weights) <= 1e-12
    if case == "infeasible":  # the weights change the answer: the test is not vacuous
        assert rel(solve_min_norm_primal(X, y).weights, sol.weights) > 1e-3


@pytest.mark.parametrize("case", ["infeasible", "feasible"])
def test_zero_weights_equal_dropped_rows(case):
    rng = np.random.default_rng(7)
    if case == "infeasible":
        X, y = rng.standard_normal((40, 8)), rng.standard_normal(40)
    else:
        X, y = planted_feasible(4, 36, 12, seed=7)
    s = rng.uniform(0.5, 2.0, len(y))
    s[rng.random(len(y)) < 0.3] = 0.0
    # dropped rows would change the answer if kept: large targets on them
    y = np.where(s == 0, 5.0 * np.abs(y) + 1.0, y)
    sol = solve_min_norm_primal(X, y, sample_weight=s)
    kept = solve_min_norm_primal(X[s > 0], y[s > 0], sample_weight=s[s > 0])
    assert sol.interpolates == kept.interpolates == (case == "feasible")
    assert rel(sol.weights, kept.weights) <= 1e-12
    assert not sol.equality[s == 0].any()
    np.testing.assert_array_equal(sol.equality[s > 0], kept.equality)


def test_feasible_solution_depends_only_on_which_weights_are_positive():
    X, y = planted_feasible(5, 60, 15, seed=8)
    s = 10.0 ** np.random.default_rng(8).uniform(-13, 13, len(y))  # 26 decades
    s[:5] = [1e-13, 1e13, 1e-13, 1.0, 1e-13]  # on the equality rows too
    sol = solve_min_norm_primal(X, y, sample_weight=s)
    assert sol.interpolates
    assert rel(sol.weights, solve_min_norm_primal(X, y).weights) <= 1e-12


# --- against the dual solver ---------------------------------------------------------------


@pytest.mark.parametrize("n, d, seed", [(10, 40, 0), (30, 100, 1), (40, 41, 2)])
def test_matches_dual_solver_when_feasible(n, d, seed):
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((n, d)), rng.standard_normal(n)
    dual = solve_min_norm(y, X @ X.T)
    sol = solve_min_norm_primal(X, y)
    assert dual.interpolates and sol.interpolates
    assert rel(sol.weights, X.T @ dual.coef) <= 1e-10
    np.testing.assert_array_equal(sol.equality, dual.equality)


@pytest.mark.parametrize("n, d, seed", [(60, 10, 3), (150, 30, 4)])
def test_matches_dual_solver_with_vanishing_ridge(n, d, seed):
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((n, d)), rng.standard_normal(n)
    dual = solve_min_norm(y, X @ X.T)  # K singular: ridge 1e-10, accurate to ~1e-6
    sol = solve_min_norm_primal(X, y)
    assert not dual.interpolates and not sol.interpolates
    assert rel(sol.weights, X.T @ dual.coef) <= 2e-5
    np.testing.assert_array_equal(sol.equality, dual.equality)


# --- tall data, exact oracles ----------------------------------------------------------------


@pytest.mark.parametrize("block_entries", [None, 256])
def test_tall_surrogate_against_exact_rational_oracle(block_entries, monkeypatch):
    if block_entries is not None:  # many blocks of about 23 rows: the streaming QR path
        monkeypatch.setattr(_primal_qp, "_BLOCK_ENTRIES", block_entries)
    rng = np.random.default_rng(9)
    X, y = rng.standard_normal((5000, 10)), rng.standard_normal(5000)
    s = rng.uniform(0.5, 2.0, 5000)
    w_exact = exact_surrogate_minimiser(X, y, s)
    sol = solve_min_norm_primal(X, y, sample_weight=s)
    assert not sol.interpolates
    assert rel(sol.weights, w_exact) <= 1e-9
    assert sol.kkt <= 1e-12


def test_tall_feasible_recovers_planted_weights():
    # y = relu(X w) with 5000 x 10 Gaussian X: the program's only solution is w
    rng = np.random.default_rng(10)
    X, w_true = rng.standard_normal((5000, 10)), rng.standard_normal(10)
    sol = solve_min_norm_primal(X, np.maximum(X @ w_true, 0.0))
    assert sol.interpolates
    assert rel(sol.weights, w_true) <= 1e-12


# --- conditioning ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("factor", [1e6, 1e9])
def test_scaled_column_is_harmless(fmt, factor):
    # one column times 1e6 or 1e9 (cond(X) about the factor): the surrogate
    # minimiser is unique, so w_scaled = D^{-1} w exactly; QR (dense) is
    # invariant to column scaling and the sparse normal equations are
    # Jacobi-scaled, so the error stays at rounding level
    rng = np.random.default_rng(11)
    X, y = rng.standard_normal((400, 6)), rng.standard_normal(400)
    s = np.ones(400)
    expected = exact_surrogate_minimiser(X, y, s)
    expected[0] /= factor
    Xs = X.copy()
    Xs[:, 0] *= factor
    sol = solve_min_norm_primal(Xs if fmt == "dense" else sparse.csr_matrix(Xs), y)
    assert np.linalg.cond(Xs) > factor / 10
    np.testing.assert_allclose(sol.weights, expected, rtol=1e-10)


@pytest.mark.parametrize("cond", [1e4, 1e6, 1e8])
def test_accuracy_follows_cond_not_cond_squared(cond):
    # y = relu(X w_true) with X = U diag(1 .. 1/cond) V^T (400 x 6): the exact
    # answer is w_true (up to the rounding of y, a cond * eps effect). Dense
    # QR guarantees about cond * eps (1e-8 at cond 1e8 holds with a margin of
    # ~200); normal equations would give cond^2 * eps (2e-4 at cond 1e6).
    rng = np.random.default_rng(12)
    U = np.linalg.qr(rng.standard_normal((400, 6)))[0]
    V = np.linalg.qr(rng.standard_normal((6, 6)))[0]
    X = U @ np.diag(np.logspace(0, -np.log10(cond), 6)) @ V.T
    w_true = rng.standard_normal(6)
    sol = solve_min_norm_primal(X, np.maximum(X @ w_true, 0.0))
    assert sol.interpolates
    assert rel(sol.weights, w_true) <= 2e-8 * cond / 1e8 + 1e-13


def test_sparse_normal_equations_accuracy_bound():
    # the documented sparse guarantee: errors of order cond^2 * eps (after
    # Jacobi scaling); at cond 1e3 that is 1e-10
    rng = np.random.default_rng(13)
    U = np.linalg.qr(rng.standard_normal((400, 6)))[0]
    V = np.linalg.qr(rng.standard_normal((6, 6)))[0]
    X = U @ np.diag(np.logspace(0, -3, 6)) @ V.T
    w_true = rng.standard_normal(6)
    sol = solve_min_norm_primal(sparse.csr_matrix(X), np.maximum(X @ w_true, 0.0))
    assert rel(sol.weights, w_true) <= 100 * 1e6 * np.finfo(float).eps


# --- memory, sparse and dtype ----------------------------------------------------------------


@pytest.mark.parametrize("case", ["infeasible", "feasible"])
def test_memory_is_linear_in_n_samples(case):
    n, d = 100_000, 5
    rng = np.random.default_rng(14)
    if case == "infeasible":
        X, y = rng.standard_normal((n, d)), rng.standard_normal(n)
    else:
        X, y = planted_feasible(3, n - 3, d, seed=14)
    tracemalloc.start()
    try:
        sol = solve_min_norm_primal(X, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert sol.interpolates == (case == "feasible")
    # X itself is 4 MB; an n x n float64 array would be 80 GB
    assert peak < 50e6


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("case", ["infeasible", "feasible", "degenerate"])
def test_sparse_equals_dense(fmt, case):
    rng = np.random.default_rng(15)
    if case == "infeasible":
        X = sparse.random(300, 40, density=0.2, random_state=15, data_rvs=rng.standard_normal)
        X, y = X.toarray(), rng.standard_normal(300)
    elif case == "feasible":
        X, y = planted_feasible(6, 120, 30, seed=15, density=0.4)
    else:
        X, y = degenerate_infeasible(30, 40, seed=15)
    sol_sparse = solve_min_norm_primal(sparse.csr_matrix(X).asformat(fmt), y)
    sol_dense = solve_min_norm_primal(X, y)
    assert sol_sparse.interpolates == sol_dense.interpolates
    assert rel(sol_sparse.weights, sol_dense.weights) <= 1e-10
    np.testing.assert_array_equal(sol_sparse.equality, sol_dense.equality)


@pytest.mark.parametrize("block_entries", [None, 256])
def test_float32_equals_float64_of_the_same_values(block_entries, monkeypatch):
    if block_entries is not None:
        monkeypatch.setattr(_primal_qp, "_BLOCK_ENTRIES", block_entries)
    rng = np.random.default_rng(16)
    X32 = rng.standard_normal((3000, 8)).astype(np.float32)
    y = rng.standard_normal(3000)
    a = solve_min_norm_primal(X32, y)
    b = solve_min_norm_primal(X32.astype(np.float64), y)
    assert rel(a.weights, b.weights) <= 1e-13


# --- outputs and invariants ------------------------------------------------------------------


def test_outputs_interpolating():
    X, y = planted_feasible(5, 40, 12, seed=17)
    s = np.ones(len(y))
    s[[0, 7]] = 0.0
    sol = solve_min_norm_primal(X, y, sample_weight=s)
    assert sol.interpolates
    np.testing.assert_array_equal(sol.targets, y)
    np.testing.assert_array_equal(sol.equality, (y > 0) & (s > 0))
    f = X[s > 0] @ sol.weights
    viol = max(np.max(np.abs(f - y[s > 0])[y[s > 0] > 0]), np.max(f[y[s > 0] <= 0]), 0.0)
    assert sol.kkt == pytest.approx(viol / np.max(np.abs(y[s > 0])), abs=1e-15)


def test_outputs_surrogate():
    rng = np.random.default_rng(18)
    X, y = rng.standard_normal((70, 9)), rng.standard_normal(70)
    sol = solve_min_norm_primal(X, y)
    f = X @ sol.weights
    assert not sol.interpolates
    np.testing.assert_allclose(sol.targets, f, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(sol.equality, (y > 0) | (f > 0))
    # kkt is the relative stationarity of F; at a perturbed point it is large
    assert sol.kkt <= 1e-12
    r = np.where(y > 0, f - y, np.maximum(f, 0))
    assert np.linalg.norm(X.T @ r) / (np.linalg.norm(X) * np.linalg.norm(r)) <= 1e-12


def test_all_nonpositive_targets_give_zero():
    rng = np.random.default_rng(19)
    X = rng.standard_normal((50, 5))
    sol = solve_min_norm_primal(X, -np.abs(rng.standard_normal(50)))
    assert sol.interpolates
    np.testing.assert_array_equal(sol.weights, 0.0)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    n=st.integers(2, 40),
    d=st.integers(1, 12),
    scale=st.floats(1e-8, 1e8),
)
def test_permutation_and_target_scaling_invariance(seed, n, d, scale):
    # w*(P X, P y) = w*(X, y) and w*(X, c y) = c w*(X, y) for c > 0, both for
    # the interpolating program and the surrogate
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((n, d)), rng.standard_normal(n)
    base = solve_min_norm_primal(X, y)
    perm = rng.permutation(n)
    moved = solve_min_norm_primal(X[perm], y[perm])
    scaled = solve_min_norm_primal(X, scale * y)
    assert base.interpolates == moved.interpolates == scaled.interpolates
    ref = max(np.linalg.norm(base.weights), 1e-300)
    assert np.linalg.norm(moved.weights - base.weights) <= 1e-9 * ref
    assert np.linalg.norm(scaled.weights - scale * base.weights) <= 1e-9 * scale * ref
