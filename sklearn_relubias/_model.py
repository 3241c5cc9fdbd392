"""The shallow ReLU model shared by both estimators: output weights and forward pass."""

from numbers import Integral

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._linalg import pre_activations
from .utils._sklearn_compat import Interval, StrOptions, validate_data

# Constraints common to both estimators' constructors.
MODEL_PARAMETER_CONSTRAINTS = {
    "n_neurons": [Interval(Integral, 1, None, closed="left")],
    "output_weights": [StrOptions({"balanced", "positive"}), "array-like"],
}

# Accepted input dtypes: float32 is kept (no copy), everything else becomes float64.
FLOAT_DTYPES = (np.float64, np.float32)
# Accepted sparse formats (others are converted to CSR); sparse X is never densified.
SPARSE_FORMATS = ("csr", "csc")


def resolve_output_weights(output_weights, n_neurons):
    """Return the output weights ``a`` as a float64 array of shape (n_neurons,).

    'balanced' gives +1, -1, +1, ... (0-based even indices positive), 'positive'
    gives all +1; an array must have ``n_neurons`` finite nonzero entries.
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
    return a


def forward(X, W, a):
    """Model output ``f(x) = sum_j a_j relu(<w_j, x>)`` for each row of X."""
    return np.maximum(pre_activations(X, W), 0.0) @ a


def sparse_tags(tags):
    """Estimator tags of both estimators: they accept sparse X."""
    tags.input_tags.sparse = True
    return tags


def predict(estimator, X):
    """Shared ``predict``: validate X against the fit, then run the model."""
    check_is_fitted(estimator)
    X = validate_data(estimator, X, reset=False, dtype=FLOAT_DTYPES, accept_sparse=SPARSE_FORMATS)
    return forward(X, estimator.hidden_weights_, estimator.output_weights_)
