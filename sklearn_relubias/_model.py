"""The shallow ReLU model shared by both estimators: output weights and forward pass."""

from numbers import Integral

import numpy as np
from scipy import sparse
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


# Magnitudes of X and y outside [2**-40, 2**40] are rescaled before fitting.
_SAFE_EXPONENT = 40


def _exponent(values):
    """Power-of-two exponent that brings ``max|values|`` near 1 (0 if already moderate)."""
    data = values.data if sparse.issparse(values) else values
    if data.size == 0:
        return 0
    largest = float(max(data.max(), -data.min()))
    if largest == 0.0 or abs(np.log2(largest)) <= _SAFE_EXPONENT:
        return 0
    return int(np.round(np.log2(largest)))


def normalise(X, y):
    """Rescale X and y by powers of two when their magnitudes are extreme.

    Gradient descent with the relative step size, and the minimum-norm
    program, are covariant under ``X -> X / 2**kx``, ``y -> y / 2**ky``:
    weights scale by ``2**(kx - ky)``, data-span coefficients by
    ``2**(2 kx - ky)``. Powers of two make the rescaling exact, and moderate
    data (the usual case) is returned as it is, without a copy.

    Returns
    -------
    X, y : rescaled inputs and targets
    kx, ky : int
        The exponents.
    """
    kx, ky = _exponent(X), _exponent(y)
    if kx:
        if sparse.issparse(X):
            X = X.copy()
            X.data = np.ldexp(X.data, -kx)
        else:
            X = np.ldexp(X, -kx)
    return X, np.ldexp(y, -ky), kx, ky


def to_original_units(values, exponent, name):
    """``values * 2**exponent``; a ValueError if the result is not representable."""
    with np.errstate(over="ignore", under="ignore"):
        out = np.ldexp(values, exponent)
    if not np.all(np.isfinite(out)) or (np.any(values != 0) and not np.any(out != 0)):
        raise ValueError(
            f"The fitted {name} are not representable in float64 at the scale of the data "
            f"(a factor 2**{exponent}); rescale X or y."
        )
    return out


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


def validate_training_data(estimator, X, y):
    """Shared start of ``fit``: validated X (kept float32/sparse), float64 y, output weights."""
    X, y = validate_data(
        estimator, X, y, dtype=FLOAT_DTYPES, accept_sparse=SPARSE_FORMATS, y_numeric=True, order="C"
    )
    a = resolve_output_weights(estimator.output_weights, estimator.n_neurons)
    return X, np.asarray(y, dtype=np.float64), a


def sparse_tags(tags):
    """Estimator tags of both estimators: they accept sparse X."""
    tags.input_tags.sparse = True
    return tags


def predict(estimator, X):
    """Shared ``predict``: validate X against the fit, then run the model."""
    check_is_fitted(estimator)
    X = validate_data(estimator, X, reset=False, dtype=FLOAT_DTYPES, accept_sparse=SPARSE_FORMATS)
    return forward(X, estimator.hidden_weights_, estimator.output_weights_)
