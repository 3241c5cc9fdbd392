"""ShallowReLURegressor: the shallow ReLU model trained by full-batch gradient descent."""

import contextvars
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from ._base import _BaseReLURegressor, check_gram, forward, restore_on_error
from ._callbacks import CallbackSupportMixin, ChunkReporter
from ._gd import Status, make_problem, run_gd
from ._memory import check_min_norm
from ._metrics import (
    distance,
    min_norm_reference,
    relative_distance,
    stranded_examples,
    unfittable_rows,
    warn_if_unfittable,
)
from ._rescale import Rescaling
from .exceptions import DuplicateNeuronsWarning, StrandedExampleWarning
from .utils._sklearn_compat import Interval, StrOptions, _fit_context


class ShallowReLURegressor(CallbackSupportMixin, _BaseReLURegressor):
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
        more neurons than distinct output weights only cost time (fit says so
        once with a :class:`~sklearn_relubias.exceptions.DuplicateNeuronsWarning`);
        ``init='random'`` breaks the symmetry.
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
    compute_min_norm_gap : bool, default=True
        Whether to solve the minimum-norm program on the training data and
        store ``min_norm_gap_``.
    record_pattern : bool, default=False
        Whether to record every change of the training activation pattern in
        ``pattern_changes_`` (for timelines such as
        :class:`~sklearn_relubias.plotting.PatternTimelineDisplay`).
    fit_intercept : bool, default=False
        Whether to fit a constant offset: ``intercept_`` is the (weighted)
        mean of y and gradient descent fits ``y - intercept_``;
        ``dual_coef_``, ``activation_pattern_`` and the gaps then refer to
        that centred problem. The paper's model has no intercept (False); on
        real data with uncentred targets, True (with scaled X) is usually what
        you want.
    warm_start : bool, default=False
        When True, a new ``fit`` continues from the previous
        ``hidden_weights_`` instead of the initialisation, for ``max_iter``
        more steps (``tol`` stays relative to the first fit's initial
        gradient). ``n_iter_`` and ``loss_curve_`` then cover all the fits.
        For the same X, ``dual_coef_`` accumulates, so
        ``hidden_weights_ == init_hidden_weights_ + dual_coef_.T @ X`` still
        holds; with a different X of the same length the coefficients of
        the two data sets are added and that identity no longer holds; with a
        different number of samples ``dual_coef_`` restarts from zero and
        ``init_hidden_weights_`` becomes the weights this fit started from.
    random_state : int, RandomState instance or None, default=None
        Seed of the random initialisation.
    verbose : int, default=0
        Print one line per chunk of gradient steps (about 0.2 s of work
        each) and a summary at the end when positive.

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
        ``W* = 0``; NaN when ``compute_min_norm_gap=False``. From a zero
        start on high-dimensional random data (``d >> n``) it is of order
        ``learning_rate`` (about 0.7-0.8 times it for one neuron), nearly
        flat in ``n`` and ``d``, because ``||W*||_F`` scales like
        ``sqrt(n / ||lambda||_1)`` itself.
    min_norm_distance_ : float
        ``||W - W*||_F``, the absolute distance in the units of the weights
        (the same ``W*``); NaN when ``compute_min_norm_gap=False``. This is
        the quantity the paper [1]_ bounds. At a fixed ``learning_rate`` it
        scales like ``sqrt(n / ||lambda||_1)`` (``sqrt(n / d)`` for
        isotropic inputs, ``lambda`` the input covariance spectrum) when no
        example is stranded.
    loss_curve_ : ndarray of shape (`n_iter_` + 1,)
        ``loss_curve_[t]`` is the training loss after ``t`` steps.
    n_iter_ : int
        Number of gradient steps taken (over all fits with ``warm_start``).
    stranded_indices_ : ndarray of shape (n_stranded,), dtype=int
        Examples that no neuron able to fit them (output weight of the
        target's sign) is active on at the end, when gradient descent
        converged: their gradient is zero for good, so the fit is a
        stationary point above the global minimum. Empty otherwise. Fit
        issues one :class:`~sklearn_relubias.exceptions.StrandedExampleWarning`
        when it is not empty.
    intercept_ : float
        The constant added to the network's output (0.0 unless
        ``fit_intercept=True``).
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
    bounds ``||W - W*||`` by order ``sqrt(n / ||lambda||_1)`` on
    high-dimensional random data. Measured with this estimator at a fixed
    ``learning_rate``, the absolute distance ``min_norm_distance_`` follows
    that rate, while the relative gap ``min_norm_gap_`` is of order
    ``learning_rate`` (the first step's frozen coefficients, relative to
    ``||W*||``). Both tend to zero with the step when ``d/n`` is large; at
    small ``d/n``, or with an example stranded, a floor remains (see the
    user guide).

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
        **_BaseReLURegressor._parameter_constraints,
        "init": [StrOptions({"zero", "random"})],
        "init_scale": [Interval(Real, 0, None, closed="left")],
        "learning_rate": [Interval(Real, 0, 2, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "solver": [StrOptions({"auto", "primal", "dual"})],
        "compute_min_norm_gap": ["boolean"],
        "record_pattern": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
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
        compute_min_norm_gap=True,
        record_pattern=False,
        fit_intercept=False,
        warm_start=False,
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
        self.compute_min_norm_gap = compute_min_norm_gap
        self.record_pattern = record_pattern
        self.random_state = random_state
        self.fit_intercept = fit_intercept
        self.warm_start = warm_start
        self.verbose = verbose

    @restore_on_error
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, gram=None):
        """Train the hidden weights by full-batch gradient descent.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training inputs.
        y : array-like of shape (n_samples,)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative example weights: gradient descent minimises
            ``sum_i s_i r_i^2 / (2 sum_i s_i)`` with the step size defined on
            the weighted curvature, so integer weights equal repeated rows and
            zero weights drop examples.
        gram : ndarray of shape (n_samples, n_samples), default=None
            The Gram matrix ``X @ X.T`` if already computed (e.g. shared by
            several fits on the same X); formed when needed otherwise. Only
            its shape and diagonal are checked.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        warm = self.warm_start and hasattr(self, "hidden_weights_")
        if not warm:
            for name in ("pattern_changes_",):  # not produced by every fit
                self.__dict__.pop(name, None)
        X, y, a, sample_weight, intercept = self._validate_training_data(X, y, sample_weight)
        n_samples, n_features = X.shape
        if warm:
            W_start, C_prev = self.hidden_weights_, self.dual_coef_
            if C_prev.shape[0] != n_samples:
                self.init_hidden_weights_, C_prev = W_start, np.zeros((n_samples, a.shape[0]))
        else:
            W_start = self._initial_weights(a.shape[0], n_features)
            C_prev = np.zeros((n_samples, a.shape[0]))
            self._warn_if_copies(a)
        if self.compute_min_norm_gap:  # before gradient descent spends any time
            check_min_norm(*X.shape, "set compute_min_norm_gap=False to fit without the gap.")
        with np.errstate(over="ignore", invalid="ignore"):  # non-finite outputs are ignored
            outputs = forward(X, W_start, a) if W_start.any() else None
        scaling = Rescaling(X, y, a, outputs)
        Xs, ys = scaling.data(X, y)
        a_s = scaling.output_weights(a)
        problem = make_problem(
            Xs,
            ys,
            a_s,
            scaling.weights_in(W_start),
            learning_rate=self.learning_rate,
            solver=self.solver,
            sample_weight=sample_weight,
            gram=scaling.gram_in(check_gram(gram, X)),
        )
        offset = self.n_iter_ if warm else 0

        def fitted_attributes(progress):  # the model after progress.n_iter steps of this fit
            W = scaling.weights_out(progress.weights())
            return {
                "hidden_weights_": W,
                "output_weights_": a,
                "intercept_": intercept,
                "n_iter_": offset + progress.n_iter,
            }

        metadata = None if sample_weight is None else {"sample_weight": sample_weight}
        reporter = ChunkReporter(self, X, y + intercept, metadata, self.max_iter, fitted_attributes)
        res = run_gd(
            problem,
            max_iter=self.max_iter,
            tol=self.tol,
            record_pattern=self.record_pattern,
            grad_ref=self._grad_ref if warm else None,
            on_chunk=reporter if reporter.active else None,
            chunk_steps=reporter.chunk_steps,
        )
        self._warn_on_status(res.status, res.n_iter)
        unfittable = unfittable_rows(X, y, a, sample_weight)
        warn_if_unfittable(unfittable)
        stranded = np.empty(0, dtype=np.intp)
        if res.status == Status.CONVERGED:  # examples GD could fit but will not
            stranded = np.setdiff1d(stranded_examples(ys, a, res.activation_pattern), unfittable)
            _warn_if_stranded(stranded)

        if not warm:
            self.init_hidden_weights_ = W_start
        self.output_weights_ = a
        self.intercept_ = intercept
        self.hidden_weights_ = scaling.weights_out(res.hidden_weights)
        self.dual_coef_ = C_prev + scaling.coef_out(res.dual_coef)
        self.activation_pattern_ = res.activation_pattern
        self.stranded_indices_ = stranded
        if res.stable_iter or not warm:
            self.pattern_stable_iter_ = offset + res.stable_iter
        if self.record_pattern:
            changes = res.pattern_changes + np.array([offset, 0, 0])
            if warm and hasattr(self, "pattern_changes_"):
                changes = np.concatenate([self.pattern_changes_, changes])
            self.pattern_changes_ = changes
            if res.n_pattern_changes > len(res.pattern_changes):
                warnings.warn(
                    f"The activation pattern changed {res.n_pattern_changes} times; "
                    f"pattern_changes_ keeps the first {len(res.pattern_changes)}.",
                    UserWarning,
                    stacklevel=4,
                )
        loss_curve = scaling.loss_out(res.loss_curve)
        self.loss_curve_ = (
            np.concatenate([self.loss_curve_, loss_curve[1:]]) if warm else loss_curve
        )
        self.step_size_ = scaling.step_out(res.step_size)
        self.n_iter_ = offset + res.n_iter
        self._grad_ref = res.initial_grad_norm
        self.min_norm_gap_ = self.min_norm_distance_ = np.nan
        if self.compute_min_norm_gap:
            reference = min_norm_reference(
                Xs,
                ys,
                a_s,
                sample_weight=sample_weight,
                gram_matrix=problem.operator.gram,
                dual_coef=False,
            )
            W_star = reference.weights
            self.min_norm_gap_ = relative_distance(res.hidden_weights, W_star)
            self.min_norm_distance_ = float(
                scaling.weights_out(distance(res.hidden_weights, W_star))
            )
        if self.verbose:
            print(
                f"[{type(self).__name__}] {self.n_iter_} steps, "
                f"loss {self.loss_curve_[-1]:.3e}, pattern stable from step "
                f"{self.pattern_stable_iter_}, min_norm_gap {self.min_norm_gap_:.3e}"
            )
        reporter.close()
        return self

    def _warn_if_copies(self, a):
        """Say once that zero-initialised neurons with equal output weights are copies."""
        distinct = np.unique(a).size
        if self.init == "zero" and a.size > distinct:
            warnings.warn(
                f"init='zero' with n_neurons={a.size} but {distinct} distinct output "
                f"weight(s): neurons with equal output weights get equal updates and stay "
                f"identical, so the fit has {distinct} distinct neuron(s). Use init='random' "
                "to break the symmetry.",
                DuplicateNeuronsWarning,
                stacklevel=5,
            )

    def _initial_weights(self, n_neurons, n_features):
        """``W0``: zeros, or i.i.d. ``N(0, init_scale^2 / n_features)``."""
        if self.init == "zero":
            return np.zeros((n_neurons, n_features))
        rng = check_random_state(self.random_state)
        return rng.normal(scale=self.init_scale / np.sqrt(n_features), size=(n_neurons, n_features))

    def _warn_on_status(self, status, n_iter):
        if status == Status.MAX_ITER:
            warnings.warn(
                f"Gradient descent did not reach tol={self.tol} within "
                f"max_iter={self.max_iter} steps; increase max_iter, increase "
                "learning_rate (below 2) or loosen tol.",
                ConvergenceWarning,
                stacklevel=5,
            )
        elif status == Status.NON_FINITE and n_iter == 0:
            warnings.warn(
                "The loss at the initial weights is not finite, so no step was taken; "
                "lower init_scale, or rescale X and y.",
                ConvergenceWarning,
                stacklevel=5,
            )
        elif status == Status.NON_FINITE:
            warnings.warn(
                f"Gradient descent produced a non-finite loss at step {n_iter + 1}; "
                f"the fit stopped at the last finite iterate (step {n_iter}). "
                "Rescale X and y, or lower learning_rate or init_scale.",
                ConvergenceWarning,
                stacklevel=5,
            )


# Whether fits in this context warn about stranded examples. A context variable,
# not a warnings filter: warnings.catch_warnings changes process-wide state and is
# not thread-safe, so gap_sweep's threaded workers could lose each other's filter.
WARN_STRANDED = contextvars.ContextVar("warn_stranded", default=True)


def _warn_if_stranded(stranded):
    """Warn once when gradient descent converged with examples it can no longer fit."""
    if stranded.size and WARN_STRANDED.get():
        warnings.warn(
            f"Gradient descent converged with {stranded.size} example(s) (e.g. index "
            f"{stranded[0]}; all in stranded_indices_) inactive for every neuron that could "
            "fit them: they get no gradient, so the fit is a stationary point above the "
            "global minimum of the loss.",
            StrandedExampleWarning,
            stacklevel=5,
        )
