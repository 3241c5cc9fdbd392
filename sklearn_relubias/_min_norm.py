"""MinNormReLURegressor: the minimum-norm global minimiser, solved exactly."""

from numbers import Real
from typing import NamedTuple

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin

from ._dual_qp import kkt_residual, solve_min_norm
from ._linalg import gram, span
from ._model import (
    MODEL_PARAMETER_CONSTRAINTS,
    normalise,
    predict,
    sparse_tags,
    to_original_units,
    validate_training_data,
)
from .utils._sklearn_compat import Interval, _fit_context


class MinNormFit(NamedTuple):
    """What :func:`min_norm_dual_coef` returns."""

    dual_coef: np.ndarray
    active: np.ndarray
    n_iter: int
    interpolates: bool
    kkt: float


def min_norm_dual_coef(X, y, a, *, K=None, tol=1e-12):
    """Data-span coefficients of the minimum-norm solution for output weights ``a``.

    Neurons with ``a_j > 0`` share the single-neuron solution ``u+`` for ``y``,
    neurons with ``a_j < 0`` the one for ``-y``, in proportion to ``|a_j|``:
    ``w_j = |a_j| u / sum_{k in group} a_k^2``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Inputs.
    y : ndarray of shape (n_samples,)
        Targets, float64.
    a : ndarray of shape (n_neurons,)
        Output weights.
    K : ndarray of shape (n_samples, n_samples), default=None
        Gram matrix ``X X^T`` if already computed (formed here otherwise).
    tol : float, default=1e-12
        Relative tolerance of the solver.

    Returns
    -------
    MinNormFit
        ``dual_coef`` (n_samples, n_neurons); ``active`` (n_samples,
        n_neurons), the rows each neuron fits with a positive value (the
        equality rows with a positive target: rows on the kink
        ``<w, x_i> = 0`` are inactive, whatever the sign rounding gives them);
        ``n_iter``, active-set iterations summed over the (at most two) groups;
        ``interpolates``, whether every group's program was feasible; ``kkt``,
        the largest relative KKT residual over the groups.
    """
    K = gram(X) if K is None else K
    dual_coef = np.zeros((X.shape[0], a.shape[0]))
    active = np.zeros(dual_coef.shape, dtype=bool)
    n_iter, interpolates, kkt = 0, True, 0.0
    for sign in (1.0, -1.0):
        group = sign * a > 0
        if not group.any():
            continue
        sol = solve_min_norm(sign * y, K, tol=tol)
        fitted = K @ sol.coef
        n_iter += sol.n_iter
        interpolates &= sol.interpolates
        kkt = max(kkt, kkt_residual(fitted, sol.coef, sol.targets, sol.equality))
        dual_coef[:, group] = np.outer(sol.coef, np.abs(a[group]) / np.sum(a[group] ** 2))
        active[:, group] = (sol.equality & (sol.targets > 0))[:, None]
    return MinNormFit(dual_coef, active, n_iter, bool(interpolates), kkt)


class MinNormReLURegressor(RegressorMixin, BaseEstimator):
    """Minimum-norm global minimiser of the shallow ReLU regression loss.

    The reference solution that gradient descent is compared with: the hidden
    weights of smallest Frobenius norm among the global minimisers of the
    squared loss of ``f(x) = sum_j a_j relu(<w_j, x>)``, within the label-sign
    activation region (positive-output neurons active exactly where ``y > 0``,
    negative-output ones exactly where ``y < 0``). Solved exactly in the dual,
    with ``n_samples`` variables, by a finite active-set method.

    Parameters
    ----------
    n_neurons : int, default=2
        Number of hidden neurons ``m``.
    output_weights : {'balanced', 'positive'} or array-like of shape (n_neurons,), \
            default='balanced'
        Fixed output weights ``a``. 'balanced' gives +1, -1, +1, ... (so
        ``n_neurons=1`` is the single neuron ``relu(<w, x>)``), 'positive' all
        +1; an array gives any nonzero values.
    tol : float, default=1e-12
        Relative tolerance for the solver's rank, feasibility and sign
        decisions.

    Attributes
    ----------
    hidden_weights_ : ndarray of shape (n_neurons, n_features)
        The minimum-norm hidden weights ``W*``.
    output_weights_ : ndarray of shape (n_neurons,)
        The output weights ``a`` used.
    dual_coef_ : ndarray of shape (n_samples, n_neurons)
        Data-span coefficients: ``hidden_weights_ == dual_coef_.T @ X``. When
        the program is feasible these are its Lagrange multipliers.
    activation_pattern_ : ndarray of shape (n_samples, n_neurons), dtype=bool
        ``<w_j, x_i> > 0`` (strict) on the training inputs, read from the
        program's structure rather than from rounded products: the rows a
        neuron fits with a positive value. Rows on the kink (an active
        inequality, ``<w_j, x_i> = 0`` exactly) are inactive even when
        ``X @ hidden_weights_.T`` rounds them to about +1e-17.
    interpolates_ : bool
        Whether the set of global minimisers described above is non-empty,
        i.e. every training target the model can produce is fitted exactly.
        It is False when that set is empty (typically ``n_samples >
        n_features``): the estimator then returns the minimum-norm minimiser of
        the convex surrogate ``sum_{y_i > 0} (<w, x_i> - y_i)^2 +
        sum_{y_i <= 0} max(<w, x_i>, 0)^2`` (per neuron group, with ``-y`` for
        the negative group). Whenever ``K = X X^T`` is singular the solver
        works on ``K + mu I`` with ``mu = 1e-10 max(diag K)`` (the vanishing
        ridge that selects that minimiser), accurate to about 1e-6 relative
        instead of to rounding.
    kkt_residual_ : float
        Largest relative violation of the KKT conditions of the program that
        was solved (primal feasibility, sign of the multipliers,
        complementarity); when ``interpolates_`` is False, of the program
        whose equality rows are fitted to the surrogate minimiser's values.
    n_iter_ : int
        Active-set iterations of the dual solver, summed over the neuron
        groups.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string feature names.

    See Also
    --------
    ShallowReLURegressor : the same model trained by gradient descent.

    Notes
    -----
    Single neuron with targets ``y``: ``W*`` solves
    ``min ||w||^2`` s.t. ``<w, x_i> = y_i`` for ``y_i > 0`` and
    ``<w, x_i> <= 0`` for ``y_i <= 0``. With ``w = X^T c`` and ``K = X X^T``,
    its dual is ``min_c 1/2 c^T K c - b^T c`` s.t. ``c_i <= 0`` for
    ``y_i <= 0``, ``b = max(y, 0)``, solved by a primal-dual active-set
    method with a Lawson-Hanson fallback. With ``n_neurons > 1``, neurons
    with ``a_j > 0`` share the solution ``u+`` for ``y`` and those with
    ``a_j < 0`` the solution ``u-`` for ``-y``:
    ``w_j = |a_j| u / sum_{k in group} a_k^2``. For one neuron this is the
    minimum-norm global minimiser; for several it is the minimum-norm one
    within the label-sign region.

    References
    ----------
    .. [1] K.-W. Lai, G. Wang, M. Tao and V. Muthukumar, "How Does the ReLU
       Activation Affect the Implicit Bias of Gradient Descent on
       High-dimensional Neural Network Regression?", COLT 2026,
       arXiv:2603.04895.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_relubias import MinNormReLURegressor
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((10, 200)), rng.standard_normal(10)
    >>> reg = MinNormReLURegressor(n_neurons=2).fit(X, y)
    >>> reg.interpolates_
    True
    >>> bool(np.allclose(reg.predict(X), y))
    True
    """

    _parameter_constraints: dict = {
        **MODEL_PARAMETER_CONSTRAINTS,
        "tol": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, n_neurons=2, output_weights="balanced", tol=1e-12):
        self.n_neurons = n_neurons
        self.output_weights = output_weights
        self.tol = tol

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Compute the minimum-norm hidden weights.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs.
        y : array-like of shape (n_samples,)
            Targets.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        X, y, a = validate_training_data(self, X, y)
        Xs, ys, kx, ky = normalise(X, y)
        sol = min_norm_dual_coef(Xs, ys, a, tol=self.tol)
        self.output_weights_ = a
        self.dual_coef_ = to_original_units(sol.dual_coef, ky - 2 * kx, "dual coefficients")
        self.hidden_weights_ = to_original_units(span(sol.dual_coef, Xs), ky - kx, "hidden weights")
        self.activation_pattern_ = sol.active
        self.interpolates_ = sol.interpolates
        self.kkt_residual_ = sol.kkt
        self.n_iter_ = int(sol.n_iter)
        return self

    def __sklearn_tags__(self):
        return sparse_tags(super().__sklearn_tags__())

    def predict(self, X):
        """Predict with the minimum-norm model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            ``sum_j a_j relu(<w_j, x>)``.
        """
        return predict(self, X)
