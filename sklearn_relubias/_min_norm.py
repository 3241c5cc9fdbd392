"""MinNormReLURegressor: the minimum-norm global minimiser, solved exactly."""

from numbers import Real

import numpy as np

from ._base import (
    _BaseReLURegressor,
    restore_on_error,
    split_bias,
    store_dual_coef,
    warn_if_unfittable,
)
from ._linalg import blas_threads_for
from ._plan import FitPlan
from ._reference._region import check_region
from .exceptions import RegionMismatchWarning, warn
from .utils._sklearn_compat import Interval, StrOptions, _fit_context


class MinNormReLURegressor(_BaseReLURegressor):
    """Minimum-norm global minimiser of the shallow ReLU regression loss.

    The reference solution that gradient descent is compared with: the hidden
    weights of smallest Frobenius norm among the global minimisers of the
    squared loss of ``f(x) = sum_j a_j relu(<w_j, x>)`` (``+ b_j`` inside the
    ReLU with ``hidden_bias > 0``), within the label-sign
    activation region (positive-output neurons active exactly where ``y > 0``,
    negative-output ones exactly where ``y < 0``). Solved exactly: in the
    dual, with ``n_samples`` variables, when ``n_samples < n_features``;
    otherwise on the ``n_features`` weights (memory ``O(n d + d^2)``, never an
    ``n_samples x n_samples`` object).

    Parameters
    ----------
    n_neurons : int, default=2
        Number of hidden neurons ``m``.
    output_weights : {'balanced', 'positive'} or array-like of shape (n_neurons,), \
            default='balanced'
        Fixed output weights ``a``. 'balanced' gives +1, -1, +1, ... (so
        ``n_neurons=1`` is the single neuron ``relu(<w, x>)``), 'positive' all
        +1; an array gives any nonzero values.
    activation : {'relu', 'leaky_relu', 'linear'}, default='relu'
        The hidden activation ``sigma`` (``sigma'(0) = 1`` for every one).
        For ``'linear'`` the model is
        ``<beta, x>`` with ``beta = sum_j a_j w_j``, and the reference is the
        minimum-norm least-squares solution ``W* = a beta^T / ||a||^2``,
        ``beta = X^+ y`` (the interpolant of smallest norm when one exists),
        where gradient descent from zero lands. For ``'leaky_relu'``
        (``sigma(z) = z`` for ``z >= 0``, ``negative_slope * z`` below) the
        minimum-norm interpolant within the label-sign region (pre-activation
        ``>= 0`` exactly where ``a_j y_i > 0``), a convex program solved
        exactly in the dual on ``n_samples (n_neurons + 1)`` lifted rows
        (memory about ``4 (n_samples (n_neurons + 1))^2`` floats); with one
        neuron it is the minimum-norm solution of
        ``X w = sigma^{-1}(y / a)``.
    negative_slope : float in [0, 1], default=0.01
        The leaky ReLU's slope for ``z < 0``. Unused by the other activations.
    region : 'global' or array-like of shape (n_samples, n_neurons), dtype bool, \
            default=None
        The activation region the interpolant is sought in: True where
        ``<w_j, x_i> >= 0`` is asked, False where ``<= 0``. None: the
        label-sign region (``>= 0`` exactly where ``a_j y_i > 0``).
        ``'global'``: the minimum-norm interpolant over all regions, by
        exact enumeration (small problems: refused above 4096 candidate
        regions, about 12 examples for the +/- ReLU pair; at ``d >> n`` it
        is the label-sign one, at ``d/n <= 2`` it can be much smaller; see
        :func:`~sklearn_relubias.metrics.global_min_norm_reference`). Pass
        e.g. ``ShallowReLURegressor(...).fit(X, y).activation_pattern_`` for
        the minimum-norm interpolant of gradient descent's own final region
        (see :func:`~sklearn_relubias.metrics.reference_gaps`). Tied to the
        training rows, so not for cross-validation. Not for
        ``activation='linear'``, which has no regions.
    fit_intercept : bool, default=False
        Whether to fit a constant offset: ``intercept_`` is the (weighted)
        mean of y and the network fits ``y - intercept_``. The paper's model
        has no intercept (False); on real data with uncentred targets, True
        (with scaled X) is usually what you want.
    hidden_bias : float, default=0.0
        Scale ``c >= 0`` of a constant input feature appended to every
        input, ``x -> [x, c]``, whose weights give each neuron a bias:
        ``f(x) = sum_j a_j sigma(<w_j, x> + b_j)`` with ``b_j = c
        w_{j, d+1}`` (``hidden_biases_``). 0 is the paper's model (no
        biases; X is used as it is, not copied). With ``c > 0`` the program
        is the same one on ``[X, c 1]``: it minimises ``||W||^2`` including
        the bias weights ``b_j / c``, so a larger ``c`` makes biases cheaper
        (in gradient descent, :class:`ShallowReLURegressor` with the same
        ``hidden_bias``, a bias moves ``c^2`` times as fast as the weight of
        a unit-valued input: its effective learning speed grows with ``c``).
        The choice of route counts ``n_features + 1`` features.
    tol : float, default=1e-12
        Relative tolerance for the solver's rank, feasibility and sign
        decisions, in ``[eps, 1)`` with ``eps = 2.2e-16``: below float64's
        rounding a tolerance cannot be met, and its decisions would flip on
        rounding errors.

    Attributes
    ----------
    hidden_weights_ : ndarray of shape (n_neurons, n_features)
        The minimum-norm hidden weights ``W*`` (the input weights only, also
        with ``hidden_bias > 0``).
    hidden_biases_ : ndarray of shape (n_neurons,)
        The biases ``b_j = hidden_bias * w_{j, d+1}`` of the minimum-norm
        solution on ``[X, hidden_bias 1]``; zeros when ``hidden_bias=0``.
    output_weights_ : ndarray of shape (n_neurons,)
        The output weights ``a`` used.
    dual_coef_ : ndarray of shape (n_samples, n_neurons) or None
        Data-span coefficients: ``hidden_weights_ == dual_coef_.T @ X`` (to
        about ``cond(X) eps`` relative), and with hidden biases (coefficients
        of the rows of ``[X, c 1]``) ``hidden_biases_ == c**2 *
        dual_coef_.sum(axis=0)``, ``c = hidden_bias``. On the dual path
        (``n_samples < n_features``), when the program is feasible, these are
        Lagrange multipliers; on the primal path, the minimum-norm such
        coefficients. None, with a warning, when they are not representable in
        float64 at the scale of the data (they scale like ``y / X^2``).
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
        the negative group), solved exactly on the weights. This is also the
        route when ``n_samples < n_features`` but X is rank deficient
        (duplicated or dependent rows; a singular value of X below
        ``eps max(n, d) sigma_max``).
    kkt_residual_ : float
        Largest relative violation of the optimality conditions of the
        original program, computed from ``X @ w`` and ``y`` (never from the
        solver's own targets). When ``interpolates_``: feasibility on the
        fitted and the other rows (relative to ``max|y|``), and on the dual
        path the multipliers' signs, complementarity and stationarity.
        Otherwise: the relative stationarity of the surrogate,
        ``||X^T S r|| / (||S^{1/2} X||_F ||S^{1/2} r||)``. For
        ``'leaky_relu'`` or a given ``region`` without an interpolant the
        surrogate penalises the region's signs like the targets, so the
        weights may leave the region (``activation_pattern_`` is then their
        own pattern and a warning says so): ``kkt_residual_`` is then at
        least the largest pre-activation on the wrong side of the region,
        relative to its neuron's largest, and no certificate.
    intercept_ : float
        The constant added to the network's output (0.0 unless
        ``fit_intercept=True``).
    n_iter_ : int
        Active-set iterations of the dual solver, summed over the neuron
        groups.
    decisions_ : dict
        What the fit decided: the program's ``'reference_route'``
        (``'gram'``, ``'factor'``, ``'deficient'``, ``'primal'`` or
        ``'lstsq'``), the memory plan and the Gram products and
        eigendecompositions (see ``ShallowReLURegressor.decisions_``).
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
    method with a Lawson-Hanson fallback. With ``n_samples >= n_features``
    the minimum-norm minimiser of the surrogate (``W*`` itself when the
    program is feasible) is found on the weights: a semismooth Newton method
    identifies the rows the surrogate fits, then Lawson and Hanson's
    least-distance method the minimum-norm point, with QR factors of X
    (accuracy set by ``cond(X)``, not its square). With ``n_neurons > 1``, neurons
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
        **_BaseReLURegressor._parameter_constraints,
        "tol": [Interval(Real, np.finfo(np.float64).eps, 1, closed="left")],
        "region": [None, StrOptions({"global"}), "array-like"],
    }

    def __init__(
        self,
        n_neurons=2,
        output_weights="balanced",
        activation="relu",
        negative_slope=0.01,
        region=None,
        fit_intercept=False,
        hidden_bias=0.0,
        tol=1e-12,
    ):
        self.n_neurons = n_neurons
        self.output_weights = output_weights
        self.activation = activation
        self.negative_slope = negative_slope
        self.region = region
        self.fit_intercept = fit_intercept
        self.hidden_bias = hidden_bias
        self.tol = tol

    def _checked_region(self, data):
        if self.region is None or (isinstance(self.region, str) and self.region == "global"):
            return self.region
        return check_region(self.region, data.X.shape[0], data.model.n_neurons)

    @restore_on_error
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Compute the minimum-norm hidden weights.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs.
        y : array-like of shape (n_samples,)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative example weights. The interpolating program depends
            only on which weights are positive (rows with zero weight are
            dropped); the surrogate of a non-interpolating problem is
            weighted like the loss, so integer weights equal repeated rows.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        data = self._validate_training_data(X, y, sample_weight)
        with blas_threads_for(*data.X.shape):  # small problems: one BLAS thread
            plan = FitPlan(
                data.X,
                data.y,
                data.model,
                sample_weight=data.sample_weight,
                reference=True,
                tol=self.tol,
                region=self._checked_region(data),
            )
            sol = plan.reference(dual_coef=True)
            if not sol.interpolates:
                warn_if_unfittable(data.model.unfittable_rows(data.X, data.y, data.sample_weight))
                if data.model.activation.reference == "region" or self.region is not None:
                    warn(
                        "No interpolant exists within the activation region (label-sign "
                        "unless region was given): the weights minimise a surrogate in "
                        "which the region's signs are penalties, and leave the region by up "
                        f"to {sol.kkt:.2g} of a neuron's largest pre-activation "
                        "(kkt_residual_); activation_pattern_ is their own pattern.",
                        RegionMismatchWarning,
                    )
            self.output_weights_ = data.model.output_weights
            self.intercept_ = data.intercept
            store_dual_coef(self, sol.dual_coef, plan.scaling)
            W = plan.scaling.weights_out(sol.weights)
            self.hidden_weights_, self.hidden_biases_ = split_bias(W, data.bias)
            self.activation_pattern_ = sol.active
            self.interpolates_ = sol.interpolates
            self.kkt_residual_ = sol.kkt
            self.n_iter_ = int(sol.n_iter)
            self.decisions_ = plan.decisions
        return self
