"""The shallow ReLU model and the base class of both estimators.

``_BaseReLURegressor`` holds what the two estimators share: the model's
constructor constraints, validation of the training data, ``predict`` and the
tags. Subclasses add their own parameters and ``fit``.
"""

import functools
from numbers import Integral
from typing import NamedTuple

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from ._linalg import pre_activations
from .utils._sklearn_compat import Interval, StrOptions, _check_sample_weight, validate_data

# Accepted input dtypes: float32 is kept, everything else becomes float64.
FLOAT_DTYPES = (np.float64, np.float32)
# Accepted sparse formats (others are converted to CSR); sparse X is never densified.
SPARSE_FORMATS = ("csr", "csc")


# Largest ratio of output-weight magnitudes: both a_j^2 / max(a)^2 and sums of
# squares stay normal float64 numbers (2**-800 > 2**-1022).
_MAX_OUTPUT_WEIGHT_SPREAD = 2.0**400


def resolve_output_weights(output_weights, n_neurons):
    """Return the output weights ``a`` as a float64 array of shape (n_neurons,).

    'balanced' gives +1, -1, +1, ... (0-based even indices positive), 'positive'
    gives all +1; an array must have ``n_neurons`` finite nonzero entries within a factor
    ``2**400`` of each other.
    """
    if isinstance(output_weights, str):
        if output_weights == "positive":
            return np.ones(n_neurons)
        return np.where(np.arange(n_neurons) % 2 == 0, 1.0, -1.0)
    a = np.asarray(output_weights, dtype=np.float64)
    if a.shape != (n_neurons,):
        raise ValueError(
            f"output_weights has shape {a.shape} but n_neurons={n_neurons}; "
            f"pass an array of shape ({n_neurons},) or change n_neurons."
        )
    if not np.all(np.isfinite(a)) or np.any(a == 0):
        raise ValueError(f"output_weights must be finite and nonzero, got {a}.")
    spread = np.max(np.abs(a)) / np.min(np.abs(a))
    if spread > _MAX_OUTPUT_WEIGHT_SPREAD:
        raise ValueError(
            f"output_weights span a factor {spread:.1e} between their largest and smallest "
            f"magnitude; above 2**{int(np.log2(_MAX_OUTPUT_WEIGHT_SPREAD))} the squares the "
            "step size and the minimum-norm split need underflow or overflow in float64."
        )
    return a


def check_gram(gram, X):
    """Validate a precomputed Gram matrix ``X X^T`` cheaply: shape, finiteness, diagonal."""
    if gram is None:
        return None
    K = np.require(gram, dtype=np.float64, requirements=["C"])
    n = X.shape[0]
    if K.shape != (n, n) or not np.all(np.isfinite(K)):
        raise ValueError(
            f"gram must be the finite Gram matrix X @ X.T of shape ({n}, {n}); got shape {K.shape}."
        )
    norms = np.asarray(X.multiply(X).sum(axis=1)).ravel() if sparse.issparse(X) else None
    if norms is None:
        norms = np.einsum("ij,ij->i", X, X, dtype=np.float64)
    if not np.allclose(np.diag(K), norms, rtol=1e-6, atol=0.0):
        raise ValueError("gram does not match X: its diagonal differs from the squared row norms.")
    return K


def restore_on_error(fit):
    """Make ``fit`` atomic: if it raises (or is interrupted), the estimator is as before.

    Fitted attributes are replaced, never mutated in place, so a shallow copy
    of the instance's ``__dict__`` taken before the call is the whole
    previous state.
    """

    @functools.wraps(fit)
    def wrapper(self, *args, **kwargs):
        before = dict(self.__dict__)
        try:
            return fit(self, *args, **kwargs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    return wrapper


class TrainingData(NamedTuple):
    """What ``_BaseReLURegressor._validate_training_data`` returns."""

    X: object
    y: np.ndarray
    a: np.ndarray
    sample_weight: np.ndarray | None
    intercept: float


def forward(X, W, a):
    """Model output ``f(x) = sum_j a_j relu(<w_j, x>)`` for each row of X."""
    return np.maximum(pre_activations(X, W), 0.0) @ a


class _BaseReLURegressor(RegressorMixin, BaseEstimator):
    """Shared parts of the estimators of ``f(x) = sum_j a_j relu(<w_j, x>)``."""

    _parameter_constraints: dict = {
        "n_neurons": [Interval(Integral, 1, None, closed="left")],
        "output_weights": [StrOptions({"balanced", "positive"}), "array-like"],
        "fit_intercept": ["boolean"],
    }

    def _validate_training_data(self, X, y, sample_weight=None):
        """Validate the training data and centre the targets when ``fit_intercept``.

        Returns
        -------
        TrainingData
            X (float32/64, dense C-ordered or CSR/CSC), the float64 targets
            the model fits (``y - intercept``), the output weights ``a``, the
            float64 sample weights (None when not given) and the intercept
            (the weighted mean of y with ``fit_intercept=True``, else 0.0).
        """
        X, y = validate_data(
            self, X, y, dtype=FLOAT_DTYPES, accept_sparse=SPARSE_FORMATS, y_numeric=True, order="C"
        )
        y = np.asarray(y, dtype=np.float64)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
        a = resolve_output_weights(self.output_weights, self.n_neurons)
        intercept = float(np.average(y, weights=sample_weight)) if self.fit_intercept else 0.0
        return TrainingData(X, y - intercept, a, sample_weight, intercept)

    def predict(self, X):
        """Predict with the fitted network.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            ``sum_j a_j relu(<w_j, x>) + intercept_``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=FLOAT_DTYPES, accept_sparse=SPARSE_FORMATS)
        return forward(X, self.hidden_weights_, self.output_weights_) + self.intercept_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
