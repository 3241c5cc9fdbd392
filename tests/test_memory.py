"""Memory is checked before a square matrix is allocated (issue 10).

The budget is half the memory the system reports as available; tests shrink
it by replacing ``_memory.available_bytes`` and read what the fit decided
from ``decisions_`` and from a shared ``Precomputed`` (whether K was formed).
"""

import tracemalloc

import numpy as np
import pytest
from _reference import gaussian_problem
from scipy import sparse

from sklearn_relubias import (
    MinNormReLURegressor,
    Precomputed,
    ShallowReLURegressor,
    _linalg,
    _memory,
)
from sklearn_relubias.exceptions import InsufficientMemoryError

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn_relubias.exceptions.StrandedExampleWarning"),
    pytest.mark.filterwarnings("ignore::sklearn_relubias.exceptions.UnfittableRowsWarning"),
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]


def limit_memory(monkeypatch, nbytes):
    """Pretend the system has ``nbytes`` available (the budget is half of it)."""
    monkeypatch.setattr(_memory, "available_bytes", lambda: nbytes)


def test_auto_solver_takes_the_primal_path_when_the_gram_matrix_does_not_fit(monkeypatch):
    X, y = gaussian_problem(300, 1000, seed=0)  # K: 300^2 * 8 B = 703 KiB
    est = ShallowReLURegressor(n_neurons=1, compute_min_norm_gap=False, max_iter=5)
    assert est.fit(X, y).decisions_["path"] == "dual"
    limit_memory(monkeypatch, 1_000_000)  # budget 500 kB < K
    data = Precomputed(X)
    decisions = est.fit(X, y, gram=data).decisions_
    assert decisions["path"] == "primal" and decisions["operator_form"] == "dense"
    assert data.n_gram_products == 0  # K was never formed


def test_explicit_dual_solver_that_cannot_fit_raises_before_allocating(monkeypatch):
    X, y = gaussian_problem(300, 1000, seed=0)
    limit_memory(monkeypatch, 1_000_000)
    data = Precomputed(X)
    est = ShallowReLURegressor(solver="dual", compute_min_norm_gap=False)
    with pytest.raises(InsufficientMemoryError, match=r"solver=.dual.*300 x 300.*1\.4 MiB"):
        est.fit(X, y, gram=data)
    assert data.n_gram_products == 0


def test_a_gap_that_cannot_fit_is_refused_before_gradient_descent(monkeypatch):
    X, y = gaussian_problem(300, 1000, seed=0)
    limit_memory(monkeypatch, 4_000_000)  # budget 2 MB: K fits, the 3 K of the program do not
    data = Precomputed(X)
    with pytest.raises(InsufficientMemoryError, match="compute_min_norm_gap=False"):
        ShallowReLURegressor().fit(X, y, gram=data)
    assert data.n_gram_products == 0  # refused before K, hence before gradient descent
    with pytest.raises(InsufficientMemoryError, match=r"300 x 300"):
        MinNormReLURegressor().fit(X, y)


def test_the_factor_route_checks_its_blocks_before_allocating(monkeypatch):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((10, 50)), rng.uniform(0.5, 1.5, 10)
    X[:, 0] *= 1e6  # ill-conditioned: the dual program factors X^T
    limit_memory(monkeypatch, 20_000)  # 3 K (2.4 kB) fit the 10 kB budget, the blocks do not
    with pytest.raises(InsufficientMemoryError, match="ill-conditioned"):
        MinNormReLURegressor(n_neurons=1).fit(X, y)


def test_sparse_gram_matrix_by_row_blocks(monkeypatch):
    X = sparse.random(50, 80, density=0.1, random_state=0, format="csc")
    monkeypatch.setattr(_linalg, "_SPARSE_BLOCK", 7 * 50)  # 8 blocks of 7 rows
    np.testing.assert_allclose(_linalg.gram(X), (X @ X.T).toarray(), rtol=1e-14, atol=1e-14)


def test_huge_sparse_data_fits_without_a_square_matrix():
    """Sparse 70,000 x 60,000 with 4 MB of data: the issue's MemoryError (60000, 60000)."""
    rng = np.random.default_rng(0)
    n, d, nnz = 70_000, 60_000, 250_000
    X = sparse.csr_matrix(
        (rng.standard_normal(nnz), (rng.integers(0, n, nnz), rng.integers(0, d, nnz))),
        shape=(n, d),
    )
    y = rng.standard_normal(n)
    with pytest.raises(InsufficientMemoryError, match=r"60000 x 60000.*compute_min_norm_gap"):
        ShallowReLURegressor().fit(X, y)
    tracemalloc.start()
    try:
        est = ShallowReLURegressor(compute_min_norm_gap=False, max_iter=5).fit(X, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert est.n_iter_ == 5
    assert peak < 100 * 2**20  # the data is ~4 MB; a 60000^2 matrix would be 27 GiB
