"""Dense linear algebra shared by the estimators: Gram matrix and its top eigenvalue."""

import numpy as np
from scipy import linalg

# Columns per block when a float32 X is upcast to form a float64 Gram matrix:
# bounds the temporary copy to n_samples * _BLOCK * 8 bytes.
_BLOCK = 4096


def gram(X):
    """Return ``K = X X^T`` in float64 (X dense, float32 or float64).

    A float32 ``X`` is upcast block by block, so the Gram matrix is accurate in
    double precision without ever copying all of ``X``.
    """
    if X.dtype == np.float64:
        return X @ X.T
    K = np.zeros((X.shape[0], X.shape[0]))
    for start in range(0, X.shape[1], _BLOCK):
        block = X[:, start : start + _BLOCK].astype(np.float64)
        K += block @ block.T
    return K


def top_eigenvalue(M):
    """Largest eigenvalue of the symmetric positive semi-definite matrix ``M``."""
    k = M.shape[0]
    return float(linalg.eigvalsh(M, subset_by_index=[k - 1, k - 1])[0])
