"""ShallowReLURegressor: the shallow ReLU model trained by full-batch gradient descent."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from . import _kernels
from ._gd import run_gd, use_dual
from ._linalg import span
from ._min_norm import min_norm_dual_coef
from ._model import (
    MODEL_PARAMETER_CONSTRAINTS,
    normalise,
    predict,
    sparse_tags,
    to_original_units,
    validate_training_data,
)
from .utils._sklearn_compat import Interval, StrOptions, _fit_context


class ShallowReLURegressor(RegressorMixin, BaseEstimator):
    """Shallow ReLU network trained by plain full-batch gradient descent.

    The model is ``f(x) = sum_j a_j relu(<w_j, x>)`` with fixed output weights
    ``a`` and trained hidden weights ``W`` (no biases), fitted by gradient
    descent on the squared loss. Besides predicting, the estimator exposes what
    gradient descent learned: the data-span coefficients, the activation
    pattern and when it settled, and the distance to the minimum-norm global
    minimiser (:class:`MinNormReLURegressor`).

    Parameters
    ----------
    n_neurons : int, default=2
        Number of hidden neurons ``m``. With ``init='zero'``, neurons with the
        same output weight receive the same updates and stay identical, so
        more neurons only cost time; ``init='random'`` breaks the symmetry.
    output_weights : {'balanced', 'positive'} or array-like of shape (n_neurons,), \
            default='balanced'
        Fixed output weights ``a``. 'balanced' gives +1, -1, +1, ... (so
        ``n_neurons=1`` is the single neuron and ``n_neurons=2`` the +/- pair
        that fits targets of both signs), 'positive' all +1; an array gives any
        nonzero values.
    init : {'zero', 'random'}, default='zero'
        Initial hidden weights: zero, or i.i.d. ``N(0, init_scale^2 /
        n_features)``.
    init_scale : float, default=1e-3
        Scale of the random initialisation.
    learning_rate : float, default=0.1
        Step size relative to the smoothness of the loss: the absolute step is
        ``eta = learning_rate * n_samples / (||a||^2 lambda_max(X^T X))``. On
        every fixed activation region the loss is a quadratic whose curvature
        is at most ``||a||^2 lambda_max(X^T X) / n_samples``, so a step within
        a region cannot increase the loss when ``learning_rate`` lies in the
        open interval (0, 2), the range accepted here.
    max_iter : int, default=10000
        Maximum number of gradient steps.
    tol : float, default=1e-10
        Stop when the gradient's Frobenius norm falls below ``tol`` times its
        value at the first iterate.
    solver : {'auto', 'primal', 'dual'}, default='auto'
        Where the iterations run. 'dual' iterates on the data-span
        coefficients with the Gram matrix ``K = X X^T`` (one ``O(n^2 d)``
        product, then ``O(n^2 m)`` per step); 'primal' on the weights
        (``O(n d m)`` per step). 'auto' picks 'dual' when
        ``n_samples < n_features``. Both give the same iterates up to rounding
        (the tests hold them within 1e-12 relative); the same
        ``random_state`` gives bitwise-identical results across processes and
        parallel backends.
    jump_to_limit : bool, default=False
        Once the activation pattern has been stable for 10 steps (then 20,
        40, ... after each failed attempt), try to jump straight to the limit
        of gradient descent. With the
        pattern fixed, GD is a linear recursion whose limit has a closed form;
        the jump is taken only when an eigen-decomposition envelope of the
        remaining path proves that no pre-activation changes sign again, so
        the result is the limit plain stepping converges to (to rounding).
        Otherwise stepping goes on. Needs the dual path (``n_samples <
        n_features`` or ``solver='dual'``).
    compute_min_norm_gap : bool, default=True
        Whether to solve the minimum-norm program on the training data and
        store ``min_norm_gap_``.
    record_pattern : bool, default=False
        Whether to record every change of the training activation pattern in
        ``pattern_changes_`` (for timelines such as
        :class:`~sklearn_relubias.plotting.PatternTimelineDisplay`).
    random_state : int, RandomState instance or None, default=None
        Seed of the random initialisation.
    verbose : int, default=0
        Print a one-line summary of the run when positive.

    Attributes
    ----------
    hidden_weights_ : ndarray of shape (n_neurons, n_features)
        Hidden weights ``W`` after the last step.
    output_weights_ : ndarray of shape (n_neurons,)
        The fixed output weights ``a``.
    init_hidden_weights_ : ndarray of shape (n_neurons, n_features)
        Initial hidden weights ``W0``.
    dual_coef_ : ndarray of shape (n_samples, n_neurons)
        Data-span coefficients accumulated by gradient descent itself:
        ``hidden_weights_ == init_hidden_weights_ + dual_coef_.T @ X``.
    activation_pattern_ : ndarray of shape (n_samples, n_neurons), dtype=bool
        ``activation_pattern_[i, j]`` is True when ``<w_j, x_i> > 0``
        (strictly) for the final weights, with the pre-activations the
        iteration computed: example ``i`` is *active* for neuron ``j``.
    pattern_stable_iter_ : int
        First iteration from which the training activation pattern (as
        defined above) never changed again.
    pattern_changes_ : ndarray of shape (n_changes, 3), dtype=int64
        Only when ``record_pattern=True``: one row ``(t, i, j)`` for each
        entry of the activation pattern that differs between iterates
        ``t - 1`` and ``t``, in order. The pattern of the initial weights is
        ``activation_pattern_`` with every recorded entry toggled once per
        row. At most one million rows are kept (a warning says when more
        changes happened).
    min_norm_gap_ : float
        ``||W - W*||_F / ||W*||_F`` with ``W*`` the hidden weights of
        :class:`MinNormReLURegressor` (same ``n_neurons`` and
        ``output_weights``) on the training data; ``||W - W*||_F`` when
        ``W* = 0``; NaN when ``compute_min_norm_gap=False``.
    loss_curve_ : ndarray of shape (`n_iter_` + 1,)
        ``loss_curve_[t]`` is the training loss after ``t`` steps (after a
        jump to the limit, the last entry is the limit's loss).
    n_iter_ : int
        Number of gradient steps taken (a jump to the limit counts as one).
    jumped_to_limit_ : bool
        Whether the run ended with a certified jump to the limit.
    step_size_ : float
        The absolute step size ``eta`` (``inf`` or 0 when the scale of X makes
        it unrepresentable in float64, e.g. ``max|X|`` near 1e-300).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string feature names.

    See Also
    --------
    MinNormReLURegressor : the minimum-norm global minimiser, solved exactly.

    Notes
    -----
    Loss and gradient, with ``r_i = f(x_i) - y_i`` and
    ``g_ij = 1[<w_j, x_i> >= 0]`` (``relu'(0) = 1`` so that a zero
    initialisation moves)::

        L(W) = 1/(2n) sum_i r_i^2,   dL/dw_j = 1/n sum_i r_i a_j g_ij x_i.

    Every step adds a combination of training inputs to each ``w_j``, so
    ``w_j = w_j(0) + sum_i c_ij x_i``; with ``P = X W^T`` and ``K = X X^T``
    the dual path runs ``C <- C - eta/n (r a^T) * G`` and
    ``P = X W0^T + K C``. Once the pattern is stable, the coefficients of the
    examples a neuron is inactive on stay frozen: that freezing is where
    gradient descent departs from the minimum-norm solution. The paper [1]_
    bounds the gap by order ``sqrt(n/d)`` on high-dimensional random data;
    measured with this estimator at a fixed ``learning_rate`` the gap is of
    order ``learning_rate`` (the first step's frozen coefficients) and tends
    to zero with it (see the user guide).

    References
    ----------
    .. [1] K.-W. Lai, G. Wang, M. Tao and V. Muthukumar, "How Does the ReLU
       Activation Affect the Implicit Bias of Gradient Descent on
       High-dimensional Neural Network Regression?", COLT 2026,
       arXiv:2603.04895.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_relubias import ShallowReLURegressor
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((10, 500)), rng.standard_normal(10)
    >>> reg = ShallowReLURegressor(n_neurons=2, learning_rate=0.5).fit(X, y)
    >>> bool(reg.score(X, y) > 0.999)
    True
    >>> bool(reg.min_norm_gap_ < 0.5)
    True
    """

    _parameter_constraints: dict = {
        **MODEL_PARAMETER_CONSTRAINTS,
        "init": [StrOptions({"zero", "random"})],
        "init_scale": [Interval(Real, 0, None, closed="left")],
        "learning_rate": [Interval(Real, 0, 2, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "solver": [StrOptions({"auto", "primal", "dual"})],
        "jump_to_limit": ["boolean"],
        "compute_min_norm_gap": ["boolean"],
        "record_pattern": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        n_neurons=2,
        output_weights="balanced",
        init="zero",
        init_scale=1e-3,
        learning_rate=0.1,
        max_iter=10000,
        tol=1e-10,
        solver="auto",
        jump_to_limit=False,
        compute_min_norm_gap=True,
        record_pattern=False,
        random_state=None,
        verbose=0,
    ):
        self.n_neurons = n_neurons
        self.output_weights = output_weights
        self.init = init
        self.init_scale = init_scale
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.tol = tol
        self.solver = solver
        self.jump_to_limit = jump_to_limit
        self.compute_min_norm_gap = compute_min_norm_gap
        self.record_pattern = record_pattern
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Train the hidden weights by full-batch gradient descent.

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
        n_samples, n_features = X.shape
        W0 = np.zeros((a.shape[0], n_features))
        if self.init == "random":
            rng = check_random_state(self.random_state)
            W0 = rng.normal(scale=self.init_scale / np.sqrt(n_features), size=W0.shape)
        dual = use_dual(self.solver, n_samples, n_features)
        if self.jump_to_limit and not dual:
            if self.solver == "primal":
                raise ValueError("jump_to_limit=True needs the dual path; got solver='primal'.")
            warnings.warn(
                f"jump_to_limit needs the dual path (n_samples < n_features or "
                f"solver='dual'); with n_samples={n_samples} >= n_features={n_features} "
                "gradient descent steps plainly.",
                UserWarning,
                stacklevel=3,
            )
        Xs, ys, kx, ky = normalise(X, y)
        res = run_gd(
            Xs,
            ys,
            a,
            np.ldexp(W0, kx - ky),
            learning_rate=self.learning_rate,
            max_iter=self.max_iter,
            tol=self.tol,
            dual=dual,
            record_pattern=self.record_pattern,
            jump=self.jump_to_limit,
        )
        self._warn_on_status(res.status, res.n_iter)
        if res.status in (_kernels.CONVERGED, _kernels.LIMIT):
            _warn_if_stranded(ys, a, res.activation_pattern)

        self.output_weights_ = a
        self.init_hidden_weights_ = W0
        self.hidden_weights_ = to_original_units(res.hidden_weights, ky - kx, "hidden weights")
        self.dual_coef_ = to_original_units(res.dual_coef, ky - 2 * kx, "dual coefficients")
        self.activation_pattern_ = res.activation_pattern
        self.pattern_stable_iter_ = res.stable_iter
        if self.record_pattern:
            self.pattern_changes_ = res.pattern_changes
            if res.n_pattern_changes > len(res.pattern_changes):
                warnings.warn(
                    f"The activation pattern changed {res.n_pattern_changes} times; "
                    f"pattern_changes_ keeps the first {len(res.pattern_changes)}.",
                    UserWarning,
                    stacklevel=3,
                )
        with np.errstate(over="ignore", under="ignore"):  # only for absurd data scales
            self.loss_curve_ = np.ldexp(res.loss_curve, 2 * ky)
            self.step_size_ = float(np.ldexp(res.step_size, -2 * kx))
        self.n_iter_ = res.n_iter
        self.jumped_to_limit_ = res.status == _kernels.LIMIT
        self.min_norm_gap_ = np.nan
        if self.compute_min_norm_gap:
            C_star = min_norm_dual_coef(Xs, ys, a, K=res.gram).dual_coef
            self.min_norm_gap_ = _relative_distance(res.hidden_weights, span(C_star, Xs))
        if self.verbose:
            print(
                f"[{type(self).__name__}] {self.n_iter_} steps, "
                f"loss {self.loss_curve_[-1]:.3e}, pattern stable from step "
                f"{self.pattern_stable_iter_}, min_norm_gap {self.min_norm_gap_:.3e}"
            )
        return self

    def _warn_on_status(self, status, n_iter):
        if status == _kernels.MAX_ITER:
            warnings.warn(
                f"Gradient descent did not reach tol={self.tol} within "
                f"max_iter={self.max_iter} steps; increase max_iter, increase "
                "learning_rate (below 2) or loosen tol.",
                ConvergenceWarning,
                stacklevel=4,
            )
        elif status == _kernels.NON_FINITE and n_iter == 0:
            warnings.warn(
                "The loss at the initial weights is not finite, so no step was taken; "
                "lower init_scale, or rescale X and y.",
                ConvergenceWarning,
                stacklevel=4,
            )
        elif status == _kernels.NON_FINITE:
            warnings.warn(
                f"Gradient descent produced a non-finite loss at step {n_iter + 1}; "
                f"the fit stopped at the last finite iterate (step {n_iter}). "
                "Rescale X and y, or lower learning_rate or init_scale.",
                ConvergenceWarning,
                stacklevel=4,
            )

    def __sklearn_tags__(self):
        return sparse_tags(super().__sklearn_tags__())

    def predict(self, X):
        """Predict with the trained network.

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


def _warn_if_stranded(y, a, active):
    """Warn when GD converged with examples no neuron that could fit them is active on.

    An example with ``y_i > 0`` (``< 0``) can only be fitted by a neuron with a
    positive (negative) output weight; if none of those is active on it, its
    gradient is zero for good and the loss stays above the global minimum.
    """
    can_fit = np.where((y > 0)[:, None], a > 0, a < 0) & (y != 0)[:, None]
    stranded = np.flatnonzero(can_fit.any(axis=1) & ~(can_fit & active).any(axis=1))
    if stranded.size:
        warnings.warn(
            f"Gradient descent converged with {stranded.size} example(s) (e.g. index "
            f"{stranded[0]}) inactive for every neuron that could fit them: they get no "
            "gradient, so the fit is a stationary point above the global minimum of the "
            "loss. Try init='random', more neurons or another learning_rate.",
            UserWarning,
            stacklevel=4,
        )


def _relative_distance(W, W_star):
    """``||W - W*||_F / ||W*||_F``, or the absolute distance when ``W* = 0``.

    Norms are taken of the arrays divided by their largest entry, so that
    huge weights (e.g. a huge random initialisation) do not overflow.
    """
    diff = W - W_star
    scale = max(np.max(np.abs(diff), initial=0.0), np.max(np.abs(W_star), initial=0.0))
    if scale == 0.0:
        return 0.0
    dist, ref = np.linalg.norm(diff / scale), np.linalg.norm(W_star / scale)
    return float(dist / ref) if ref > 0 else float(dist * scale)
