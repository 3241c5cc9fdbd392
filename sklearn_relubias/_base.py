"""The base class of both estimators.

``_BaseReLURegressor`` holds what the two estimators share: the model's
constructor constraints, validation of the training data (into a
:class:`~sklearn_relubias._model.Model` and targets), ``predict`` and the
tags. Subclasses add their own parameters and ``fit``.
"""

import functools
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from ._linalg import pre_activations
from ._model import ACTIVATIONS, Model, append_constant, constant_value
from ._rescale import normalise_weights
from .exceptions import UnfittableRowsWarning, warn
from .utils._sklearn_compat import Interval, StrOptions, _check_sample_weight, validate_data

# Accepted input dtypes: float32 is kept, everything else becomes float64.
FLOAT_DTYPES = (np.float64, np.float32)
# Accepted sparse formats (others are converted to CSR); sparse X is never densified.
SPARSE_FORMATS = ("csr", "csc")


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
    """What ``_BaseReLURegressor._validate_training_data`` returns.

    ``X`` is what gradient descent and the minimum-norm programs run on:
    ``[X_in, bias 1]`` with hidden biases (``bias > 0``), ``X_in`` itself
    otherwise; ``X_in`` is the validated input as given (``n_features_in_``
    columns).
    """

    X: object
    y: np.ndarray
    model: Model
    sample_weight: np.ndarray | None
    intercept: float
    bias: float
    X_in: object


def split_bias(W, bias):
    """Return ``(input weights, biases)`` from weights on ``[X, bias 1]``.

    ``W`` (n_neurons, n_features + 1) when ``bias > 0``: the biases are
    ``bias * W[:, -1]``. With ``bias == 0``, ``W`` has no constant column:
    it is returned as it is, with zero biases.
    """
    if bias == 0:
        return W, np.zeros(W.shape[0])
    return np.ascontiguousarray(W[:, :-1]), bias * W[:, -1]


def store_dual_coef(estimator, C, scaling, previous=0.0):
    """Set ``dual_coef_ = previous + C`` in the data's units; None if float64 cannot hold it.

    The coefficients scale like ``y / X^2``: at extreme scales they can under-
    or overflow while the weights and predictions are exact. The fit is kept,
    ``dual_coef_`` is None and one warning says why (also when ``previous``,
    a warm start's coefficients, is None).
    """
    coef = scaling.coef_out(C)
    if coef is None:
        warn(
            "dual_coef_ is None: the data-span coefficients scale like y / X^2 and are not "
            f"representable in float64 at the scale of this data (a factor "
            f"2**{scaling.ky - 2 * scaling.kx - scaling.ka}); hidden_weights_ and predictions "
            "are exact. Bring X and y to moderate magnitudes to get them.",
            UserWarning,
        )
    estimator.dual_coef_ = None if coef is None or previous is None else previous + coef


def check_complete_history(estimator):
    """Raise a ValueError unless the estimator holds its whole pattern history."""
    if not hasattr(estimator, "pattern_changes_"):
        raise ValueError("The estimator has no pattern history; fit it with record_pattern=True.")
    kept, total = len(estimator.pattern_changes_), estimator.n_pattern_changes_
    if kept != total:
        raise ValueError(
            f"pattern_changes_ holds the first {kept} of {total} changes of the activation "
            "pattern (the recording cap), so the history cannot be rebuilt; fit fewer steps "
            "(max_iter) or on fewer examples and neurons."
        )


def warn_if_unfittable(rows):
    """Warn once, naming the all-zero rows that make interpolation impossible."""
    if rows.size:
        shown = ", ".join(map(str, rows[:10])) + (", ..." if rows.size > 10 else "")
        warn(
            f"{rows.size} row(s) of X are all zero but have a target the network must fit "
            f"(indices {shown}): every neuron outputs 0 on them, so no network interpolates "
            "the data (MinNormReLURegressor: interpolates_ is False). Drop these rows.",
            UnfittableRowsWarning,
        )


class _BaseReLURegressor(RegressorMixin, BaseEstimator):
    """Shared parts of the estimators of ``f(x) = sum_j a_j sigma(<w_j, x>)``."""

    _parameter_constraints: dict = {
        "n_neurons": [Interval(Integral, 1, None, closed="left")],
        "output_weights": [StrOptions({"balanced", "positive"}), "array-like"],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "negative_slope": [Interval(Real, 0, 1, closed="both")],
        "fit_intercept": ["boolean"],
        "hidden_bias": [Interval(Real, 0, None, closed="left")],
    }

    def _validate_training_data(self, X, y, sample_weight=None):
        """Validate the training data and centre the targets when ``fit_intercept``.

        Returns
        -------
        TrainingData
            X (float32/64, dense C-ordered or CSR/CSC), the float64 targets
            the model fits (``y - intercept``), the model (activation and
            output weights ``a``), the float64 sample weights (None when not
            given), the intercept (the weighted mean of y with
            ``fit_intercept=True``, else 0.0), the constant feature ``c`` of
            the hidden biases (``hidden_bias`` in X's dtype) and X as given.
            With ``c > 0`` the returned X is ``[X, c 1]`` (one more
            column; ``n_features_in_`` stays the user's); with ``c = 0`` it is
            X itself (no copy).
        """
        X_in, y = validate_data(
            self, X, y, dtype=FLOAT_DTYPES, accept_sparse=SPARSE_FORMATS, y_numeric=True, order="C"
        )
        for name in ("hidden_bias", "negative_slope"):
            if isinstance(getattr(self, name), bool | np.bool_):
                raise ValueError(f"{name} must be a number, not the bool {getattr(self, name)}.")
        bias = constant_value(self.hidden_bias, X_in.dtype)
        if not np.isfinite(bias * bias * max(X_in.shape[0], 1)):  # K = X X^T + c^2 finite
            raise ValueError(
                f"hidden_bias={self.hidden_bias} is not finite in X's dtype {X_in.dtype}, or so "
                "large that the Gram matrix's c^2 n term overflows; use a hidden_bias of the "
                "scale of X's entries."
            )
        X = append_constant(X_in, bias)
        y = np.asarray(y, dtype=np.float64)
        if sample_weight is not None:
            sample_weight = normalise_weights(
                _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
            )
        model = self._model()
        intercept = float(np.average(y, weights=sample_weight)) if self.fit_intercept else 0.0
        return TrainingData(X, y - intercept, model, sample_weight, intercept, bias, X_in)

    def predict(self, X):
        """Predict with the fitted network.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            ``sum_j a_j sigma(<w_j, x> + b_j) + intercept_`` (``b`` the
            ``hidden_biases_``, zero unless ``hidden_bias > 0``), computed in
            float64 and returned in X's floating dtype (float32 for float32 X).
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=FLOAT_DTYPES, accept_sparse=SPARSE_FORMATS)
        model, b = self._fitted_model(), getattr(self, "hidden_biases_", None)
        if b is not None and b.any():
            y_pred = model.outputs(pre_activations(X, self.hidden_weights_) + b)
        else:  # no biases: the paper's model
            y_pred = model.forward(X, self.hidden_weights_)
        y_pred = y_pred + self.intercept_
        return y_pred.astype(X.dtype, copy=False)

    def _model(self):
        """Return the network the parameters describe (before any fit)."""
        return Model.from_params(
            self.activation, self.output_weights, self.n_neurons, self.negative_slope
        )

    def _fitted_model(self):
        """Return the fitted network (a :class:`~sklearn_relubias._model.Model`)."""
        return Model.from_params(self.activation, self.output_weights_, None, self.negative_slope)

    def _augmented(self, X, *weights):
        """Return ``[X, c 1]`` and each ``(W, b)`` pair as ``[W, b / c]``: the biased program.

        With ``hidden_bias = 0`` X and the weights ``W`` come back unchanged.
        """
        c = constant_value(self.hidden_bias, X.dtype)
        if c == 0:
            return X, *(W for W, _ in weights)
        return append_constant(X, c), *(np.column_stack([W, b / c]) for W, b in weights)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
