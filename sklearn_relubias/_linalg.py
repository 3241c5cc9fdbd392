"""Products with X shared by the estimators, in float64 without copying X.

X may be dense float64, dense float32 (upcast block by block, so no full
float64 copy is ever made) or a SciPy sparse matrix (never densified).
"""

import contextlib
import threading

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import LinearOperator, eigsh

# Columns per block when a float32 X is upcast to form a float64 Gram matrix:
# bounds the temporary copy to n_samples * _BLOCK * 8 bytes.
_BLOCK = 4096
# Entries of the sparse product per row block of a sparse Gram matrix.
_SPARSE_BLOCK = 2**22


def _blocks(X):
    """Column blocks of a dense float32 X, upcast to float64."""
    for start in range(0, X.shape[1], _BLOCK):
        yield slice(start, start + _BLOCK), X[:, start : start + _BLOCK].astype(np.float64)


# Problems whose largest dense product or factorisation, about n d min(n, d)
# flops (under a second on one core), is below this run their BLAS/LAPACK calls
# on one thread. Measured on 2 cores: a 1000 x 20 minimum-norm program took 1.4x
# longer with the default threads than with one, a default fit at 200 x 10000
# up to 6x longer when another process kept a core busy; above it (Gram
# products of large wide X) the threads pay.
SMALL_PROBLEM_FLOPS = 1e9


class _OneBlasThread:
    """Hold BLAS at one thread while any small fit runs (nested and threaded fits too).

    The limit is process-wide (threadpoolctl), so it is taken by the first
    small fit to enter and given back by the last to leave, under a lock:
    concurrent fits never restore each other's limits.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._depth = 0
        self._limiter = None
        self._controller = None

    def __enter__(self):
        with self._lock:
            if self._depth == 0:
                if self._controller is None:
                    from threadpoolctl import ThreadpoolController

                    self._controller = ThreadpoolController()
                self._limiter = self._controller.limit(limits=1, user_api="blas")
            self._depth += 1
        return self

    def __exit__(self, *exc):
        with self._lock:
            self._depth -= 1
            if self._depth == 0:
                self._limiter.restore_original_limits()
                self._limiter = None


_ONE_BLAS_THREAD = _OneBlasThread()


def blas_threads_for(n, d):
    """Return the context a fit on an ``n x d`` X runs in: one BLAS thread if it is small."""
    if float(n) * d * min(n, d) < SMALL_PROBLEM_FLOPS:
        return _ONE_BLAS_THREAD
    return contextlib.nullcontext()


# Floating-point operations above which a single BLAS/LAPACK call runs where
# Ctrl-C can reach the caller (about 0.1-1 s of work here).
INTERRUPTIBLE_FLOPS = 1e9


def interruptible(fn, *args, flops=np.inf):
    """``fn(*args)``, run so that Ctrl-C interrupts the caller within ~0.05 s.

    Python only raises ``KeyboardInterrupt`` between bytecodes, so a single
    long LAPACK call (an eigendecomposition of a 5000 x 5000 matrix, a Gram
    product) would hold it for its whole length. Calls of at least
    ``INTERRUPTIBLE_FLOPS`` run in a helper thread (NumPy releases the GIL in
    BLAS and LAPACK) while the main thread waits in short slices; on Ctrl-C
    the caller gets ``KeyboardInterrupt`` at once and the call in progress
    finishes in the background, its result discarded (the thread is not a
    daemon: an interpreter exiting meanwhile waits for it rather than tearing
    the library down under it, which crashes). Smaller calls, and
    calls from threads other than the main one (which never receive the
    signal), run directly.
    """
    if flops < INTERRUPTIBLE_FLOPS or threading.current_thread() is not threading.main_thread():
        return fn(*args)
    out, done = {}, threading.Event()

    def run():
        try:
            out["value"] = fn(*args)
        except BaseException as exc:  # handed to the caller
            out["error"] = exc
        finally:
            done.set()

    # waited on through an Event, not Thread.join: a KeyboardInterrupt inside join's
    # lock acquire marks a still-running thread as stopped (CPython 3.11), and the
    # interpreter then hangs at exit
    threading.Thread(target=run, name="sklearn_relubias-linalg").start()
    while not done.wait(0.05):
        pass
    if "error" in out:
        raise out["error"]
    return out["value"]


def gram(X):
    """Return ``K = X X^T`` as a dense float64 array (interruptible, see :func:`interruptible`)."""
    return interruptible(_gram, X, flops=2.0 * X.shape[0] ** 2 * X.shape[1])


def _gram(X):
    if sparse.issparse(X):
        # row blocks, so that the sparse product (12 bytes per stored entry,
        # up to n^2 of them) never holds more than about _SPARSE_BLOCK entries
        X = X.tocsr().astype(np.float64)
        XT = X.T.tocsc()
        K = np.empty((X.shape[0], X.shape[0]))
        rows = max(_SPARSE_BLOCK // max(X.shape[0], 1), 1)
        for start in range(0, X.shape[0], rows):
            (X[start : start + rows] @ XT).toarray(out=K[start : start + rows])
        return K
    if X.dtype == np.float64:
        return X @ X.T
    K = np.zeros((X.shape[0], X.shape[0]))
    for _, block in _blocks(X):
        K += block @ block.T
    return K


def row_norms_sq(X):
    """``||x_i||^2`` for every row of X (dense or sparse), in float64."""
    if sparse.issparse(X):
        return np.asarray(X.multiply(X).sum(axis=1), dtype=np.float64).ravel()
    return np.einsum("ij,ij->i", X, X, dtype=np.float64)


def scale_rows(X, factors):
    """Return ``diag(factors) X`` (a new array; CSR for sparse X, float64 for dense)."""
    if sparse.issparse(X):
        return X.multiply(factors[:, None]).tocsr()
    return X * factors[:, None]


def pre_activations(X, W):
    """Return ``X W^T`` (n_samples, n_neurons) in float64."""
    if sparse.issparse(X) or X.dtype == np.float64:
        return np.asarray(X @ W.T, dtype=np.float64)
    P = np.zeros((X.shape[0], W.shape[0]))
    for cols, block in _blocks(X):
        P += block @ W[:, cols].T
    return P


def span(C, X):
    """Return ``C^T X`` (n_neurons, n_features) in float64: weights from data-span coefficients."""
    if sparse.issparse(X):
        return np.asarray((X.T @ C).T, dtype=np.float64)
    if X.dtype == np.float64:
        return C.T @ X
    W = np.empty((C.shape[1], X.shape[1]))
    for cols, block in _blocks(X):
        W[:, cols] = C.T @ block
    return W


# Above this size the top eigenvalue comes from Lanczos iterations instead of a
# full eigendecomposition (O(k^2) per iteration instead of O(k^3), no copy).
_DENSE_EIG_MAX = 1000


def _lanczos_start(k):
    """Return a fixed pseudo-random start vector for Lanczos iterations.

    (A vector of ones is orthogonal to it for balanced designs, e.g. Hadamard
    columns or exact +/- pairs, and ARPACK then fails.)
    """
    return np.random.default_rng(0).uniform(0.5, 1.5, k) * np.where(np.arange(k) % 2, 1.0, -1.0)


def _lanczos(matvec, k):
    """Largest eigenvalue of the symmetric PSD operator ``matvec`` on R^k (ARPACK)."""
    op = LinearOperator((k, k), matvec=matvec, dtype=np.float64)
    return float(eigsh(op, k=1, which="LA", v0=_lanczos_start(k), return_eigenvectors=False)[0])


def top_eigenvalue(M):
    """Largest eigenvalue of the symmetric positive semi-definite matrix ``M``.

    Small matrices use NumPy's LAPACK (the same BLAS library as the Gram
    product, which avoids switching between NumPy's and SciPy's thread pools);
    large ones ARPACK's Lanczos method from a fixed start vector, so the
    result is reproducible.
    """
    k = M.shape[0]
    if k <= _DENSE_EIG_MAX:
        return float(np.linalg.eigvalsh(M)[-1])
    return _lanczos(lambda v: M @ v, k)


# Eigenvalue computations per registered Gram matrix, by the id of the array (full
# decompositions, Lanczos runs), so that a second Spectrum of the same K is counted
# too. Precomputed registers its K and forgets it when it is freed; arrays that
# were never registered are not counted (their ids could be reused).
_DECOMPOSITIONS = {}
_LANCZOS = {}


def count_decompositions(K):
    """Start counting the eigenvalue computations of the array ``K``; return its key."""
    key = id(K)
    _DECOMPOSITIONS[key] = _LANCZOS[key] = 0
    return key


def decompositions(K):
    """``(full eigendecompositions, Lanczos runs)`` of the registered array ``K`` so far."""
    return _DECOMPOSITIONS.get(id(K), 0), _LANCZOS.get(id(K), 0)


def forget_decompositions(key):
    """Stop counting for the array registered under ``key`` (when it is freed)."""
    _DECOMPOSITIONS.pop(key, None)
    _LANCZOS.pop(key, None)


def _count(counter, K):
    key = id(K)
    if key in counter:
        counter[key] += 1


class Spectrum:
    """The eigenvalues of a Gram matrix ``K``, each computed at most once.

    A fit needs ``lambda_max(K)`` for its step size and, for the minimum-norm
    program, ``cond(K)`` to choose its route; both come from one Spectrum
    (shared through :class:`~sklearn_relubias._plan.Precomputed`) so that
    ``K`` is decomposed once. Every computation is counted per ``K``
    (:func:`decompositions`).

    Parameters
    ----------
    K : ndarray of shape (n, n)
        Symmetric positive semi-definite.
    """

    def __init__(self, K):
        self.K = K
        self._values = None
        self._top = None

    def eigenvalues(self):
        """All eigenvalues of ``K``, ascending (``numpy.linalg.eigvalsh``, once)."""
        if self._values is None:
            n = self.K.shape[0]
            values = interruptible(np.linalg.eigvalsh, self.K, flops=4.0 * n**3) if n else None
            self._values = np.ones(1) if values is None else values
            _count(_DECOMPOSITIONS, self.K)
        return self._values

    def top(self):
        """``lambda_max(K)``: from the eigenvalues up to ``_DENSE_EIG_MAX``, Lanczos above."""
        if self._top is None:
            if self.K.shape[0] <= _DENSE_EIG_MAX:
                self._top = float(self.eigenvalues()[-1])
            else:
                self._top = _lanczos(lambda v: self.K @ v, self.K.shape[0])
                _count(_LANCZOS, self.K)
        return self._top


# Rows of X per block when a weighted X^T S X is accumulated (about 4 MB of float64).
_ROW_BLOCK_ENTRIES = 1 << 19


def _weighted_normal_matrix(X, weights):
    """``X^T diag(weights) X`` (d x d) without a scaled copy of X (blocks of rows)."""
    if sparse.issparse(X):
        X = X.tocsr()
        return np.asarray((X.T @ X.multiply(weights[:, None]).tocsr()).toarray(), dtype=float)
    n, d = X.shape
    M = np.zeros((d, d))
    rows = max(_ROW_BLOCK_ENTRIES // max(d, 1), 1)
    for start in range(0, n, rows):
        block = np.asarray(X[start : start + rows], dtype=np.float64)
        M += block.T @ (block * weights[start : start + rows, None])
    return M


def weighted_top_eigenvalue(weights, *, X=None, K=None, spectrum=None):
    """``lambda_max(X^T diag(weights) X)`` from X (dense or sparse) or from ``K = X X^T``.

    With equal weights and a :class:`Spectrum` of ``K``, its top eigenvalue is
    used (and shared). Never forms a matrix larger than ``min(n, d)`` squared, and none at all
    above ``_DENSE_EIG_MAX``, where Lanczos iterations use products with X
    (or K) only.
    """
    root = np.sqrt(weights)
    uniform = bool(np.all(weights == weights[0]))
    if spectrum is not None and uniform:  # K's own spectrum, shared with the program
        return spectrum.top() * weights[0]
    if K is not None:
        if K.shape[0] <= _DENSE_EIG_MAX:
            if uniform:  # no scaled copy of K
                return top_eigenvalue(K) * weights[0]
            return top_eigenvalue(K * np.outer(root, root))
        return _lanczos(lambda v: root * (K @ (root * v)), K.shape[0])
    n, d = X.shape
    if min(n, d) <= _DENSE_EIG_MAX:
        if n <= d:
            M = gram(X)
            return top_eigenvalue(M * weights[0] if uniform else M * np.outer(root, root))
        if uniform:
            return top_eigenvalue(gram(X.T) * weights[0])
        return top_eigenvalue(_weighted_normal_matrix(X, weights))

    def X_times(v):
        return pre_activations(X, v[None, :])[:, 0]

    def XT_times(c):
        return span(c[:, None], X)[0]

    if n <= d:
        return _lanczos(lambda v: root * X_times(XT_times(root * v)), n)
    return _lanczos(lambda v: XT_times(weights * X_times(v)), d)
