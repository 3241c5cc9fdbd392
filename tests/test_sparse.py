"""Sparse input: same results as dense, and X is never densified."""

import tracemalloc

import numpy as np
import pytest
from _reference import paper_estimator
from scipy import sparse

from sklearn_relubias import MinNormReLURegressor

# Sparse-input tests on random data, where gradient descent may strand an example and
# some rows are empty.
pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn_relubias.exceptions.StrandedExampleWarning"),
    pytest.mark.filterwarnings("ignore::sklearn_relubias.exceptions.UnfittableRowsWarning"),
]


def sparse_problem(n, d, density, seed):
    rng = np.random.default_rng(seed)
    X = sparse.random(
        n, d, density=density, format="csr", random_state=seed, data_rvs=rng.standard_normal
    )
    return X, rng.standard_normal(n)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("solver", ["primal", "dual"])
@pytest.mark.parametrize("n, d", [(15, 400), (60, 30)])
def test_shallow_sparse_equals_dense(fmt, solver, n, d):
    X, y = sparse_problem(n, d, 0.2, seed=n)
    X = X.asformat(fmt)
    kw = dict(
        n_neurons=3,
        init="random",
        init_scale=0.5,
        random_state=0,
        solver=solver,
        max_iter=300,
        tol=1e-6,
    )
    s = paper_estimator(**kw).fit(X, y)
    dense = paper_estimator(**kw).fit(X.toarray(), y)
    np.testing.assert_allclose(s.hidden_weights_, dense.hidden_weights_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(s.dual_coef_, dense.dual_coef_, rtol=1e-9, atol=1e-12)
    assert s.n_iter_ == dense.n_iter_
    np.testing.assert_allclose(s.min_norm_gap_, dense.min_norm_gap_, rtol=1e-7)
    np.testing.assert_allclose(s.predict(X), dense.predict(X.toarray()), rtol=1e-9, atol=1e-12)


@pytest.mark.nojit
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_csr_kernel_branch_matches_dense_primal():
    X, y = sparse_problem(8, 30, 0.3, seed=5)
    kw = dict(n_neurons=2, init="random", random_state=1, solver="primal", max_iter=40, tol=0.0)
    s = paper_estimator(**kw).fit(X, y)
    dense = paper_estimator(**kw).fit(X.toarray(), y)
    np.testing.assert_allclose(s.hidden_weights_, dense.hidden_weights_, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("n, d", [(20, 300), (50, 12)])
def test_min_norm_sparse_equals_dense(n, d):
    X, y = sparse_problem(n, d, 0.3, seed=d)
    s = MinNormReLURegressor(n_neurons=2).fit(X, y)
    dense = MinNormReLURegressor(n_neurons=2).fit(X.toarray(), y)
    assert s.interpolates_ == dense.interpolates_
    # n > d: K is singular and the solver works on K + 1e-10 max(diag K) I, whose
    # conditioning turns Gram-matrix rounding into ~1e-6 relative differences
    rtol = 1e-7 if n < d else 1e-5
    diff = np.linalg.norm(s.hidden_weights_ - dense.hidden_weights_)
    assert diff <= rtol * np.linalg.norm(dense.hidden_weights_)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_sparse_fit_never_densifies():
    """A 50 x 200000 matrix with 0.1% non-zeros: dense it would take 80 MB."""
    X, y = sparse_problem(50, 200_000, 1e-3, seed=1)
    paper_estimator(max_iter=50, tol=1e-3).fit(X, y)  # compile outside the measurement
    tracemalloc.start()
    est = paper_estimator(max_iter=200, tol=1e-3).fit(X, y)
    MinNormReLURegressor().fit(X, y)
    est.predict(X)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 20e6, f"peak {peak / 1e6:.1f} MB"  # a few (n_neurons, d) float64 arrays
