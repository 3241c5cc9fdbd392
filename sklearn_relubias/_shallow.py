"""ShallowReLURegressor: the shallow ReLU model trained by gradient descent and its kin."""

from numbers import Integral, Real
from types import MappingProxyType

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from ._base import (
    _BaseReLURegressor,
    restore_on_error,
    split_bias,
    store_dual_coef,
    warn_if_unfittable,
)
from ._callbacks import CallbackSupportMixin, ChunkReporter
from ._gd import OPTIMIZER_DEFAULTS, OPTIMIZERS, Status, run_gd
from ._linalg import blas_threads_for, pre_activations
from ._plan import FitPlan, _digest, as_precomputed
from .exceptions import (
    DuplicateNeuronsWarning,
    RegionMismatchWarning,
    StrandedExampleWarning,
    warn,
)
from .utils._sklearn_compat import Interval, InvalidParameterError, StrOptions, _fit_context

#: The model the paper studies, as ``ShallowReLURegressor`` parameters: two
#: neurons with output weights +1 and -1, a zero start (or a small random one,
#: ``init_scale=1e-3``, with ``init='random'``), no intercept, a small step and
#: the gradient rule alone (run to ``tol``), with the gap computed.
#: Sweeps, the command line and the theory helpers use it;
#: ``ShallowReLURegressor(**PAPER_MODEL)`` is the paper's estimator.
PAPER_MODEL = MappingProxyType(
    {
        "n_neurons": 2,
        "output_weights": "balanced",
        "activation": "relu",
        "init": "zero",
        "init_scale": 1e-3,
        "learning_rate": 0.1,
        "max_iter": 10000,
        "tol": 1e-10,
        "n_iter_no_change": None,
        "fit_intercept": False,
        "compute_min_norm_gap": True,
    }
)

# compute_min_norm_gap='auto' solves the reference up to this many training examples
AUTO_GAP_MAX_SAMPLES = 1000
# learning_rate='auto' for Adam (its own step, in the weights' units): the best test R^2 of
# the example's diabetes search (1e-3, 3e-3, 1e-2, 3e-2), and the usual value
ADAM_LEARNING_RATE = 1e-3
# A fit the window rule stops with its loss above (1 + RISING_LOSS) times its lowest is
# rising or oscillating (momentum or Adam at too large a step), not settling: warned
RISING_LOSS = 1e-3
# StrandedExampleWarning when stranded examples are fitted at least STRANDED_EXCESS
# times worse (mean squared residual) than the examples being fitted and hold
# STRANDED_MIN_SHARE of the loss: where gradient descent interpolates the rest
# (d > n) the excess is unbounded; on n >> d data it was 1-3 (diabetes, 5 folds)
STRANDED_EXCESS = 10.0
STRANDED_MIN_SHARE = 0.01
# ... and, when the minimum-norm reference was computed and does not interpolate
# (n > d: it minimises a convex surrogate), only when the reference's weights have
# a lower training loss than gradient descent by more than this relative margin:
# a point that fits better, so the fit is certainly above the global minimum. An
# audit found 39 of 68 warnings at n > d at fits as good as the reference.
REFERENCE_LOSS_RTOL = 1e-6


class ShallowReLURegressor(CallbackSupportMixin, _BaseReLURegressor):
    """Shallow ReLU network trained by full-batch gradient descent (or momentum, SGD, Adam).

    The model is ``f(x) = sum_j a_j relu(<w_j, x>)`` with fixed output weights
    ``a`` and trained hidden weights ``W`` (no biases, unless ``hidden_bias``
    is positive), fitted by gradient descent on the squared loss. Besides
    predicting, the estimator exposes what gradient descent learned: the
    data-span coefficients, the activation pattern and when it settled, and
    the distance to the minimum-norm global minimiser
    (:class:`MinNormReLURegressor`).

    Parameters
    ----------
    n_neurons : int, default=16
        Number of hidden neurons ``m`` (the paper's model has 2, see
        :data:`~sklearn_relubias.PAPER_MODEL`). With ``init='zero'``, neurons with the
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
    activation : {'relu', 'leaky_relu', 'linear'}, default='relu'
        The hidden activation ``sigma``: ReLU (the paper's model), the leaky
        ReLU ``sigma(z) = z`` for ``z >= 0`` and ``negative_slope * z``
        below, or the identity, the classical control. All are piecewise
        linear with ``sigma'(z) = 1`` for ``z >= 0``, the derivative at 0
        taken from the right for every activation (``relu'(0) = 1``, so a
        zero start moves). With
        ``'linear'`` the model ``sum_j a_j <w_j, x>`` is linear in X,
        gradient descent from a zero start stays in X's row space and lands
        on the minimum-norm least-squares solution, and the reference of the
        gap is that solution (see :class:`MinNormReLURegressor`). With
        ``'leaky_relu'`` the reference is the minimum-norm interpolant within
        the label-sign region (for one neuron: the minimum-norm solution of
        ``X w = sigma^{-1}(y / a)``).
    negative_slope : float in [0, 1], default=0.01
        The leaky ReLU's slope for ``z < 0`` (0 gives ReLU's function, 1 the
        identity). Unused by the other activations.
    init : {'zero', 'random'}, default='random'
        Initial hidden weights: zero (the paper's start), or i.i.d.
        ``N(0, init_scale^2 / n_features)``.
    init_scale : float, default=1.0
        Scale of the random initialisation. Unused when ``init='zero'`` (in a
        grid over both, the ``init='zero'`` candidates with different
        ``init_scale`` are the same fit).
    learning_rate : float or 'auto', default='auto'
        'auto' is 1.0, and 1e-3 for ``optimizer='adam'`` (Adam's own step,
        see below). A float is the step size relative to the smoothness of
        the loss: the absolute step is
        ``eta = learning_rate * n_samples / (||a||^2 lambda_max(X^T X))``. On
        every fixed activation region the loss is a quadratic whose curvature
        is at most ``||a||^2 lambda_max(X^T X) / n_samples``, so a step within
        a region cannot increase the loss when ``learning_rate`` lies in the
        open interval (0, 2), the range accepted here for ``optimizer='gd'``
        and ``'sgd'`` (the other optimizers' ranges are given below). For
        ``optimizer='adam'`` it is Adam's own step size instead, in the units
        of the hidden weights (any positive value; 1e-3 is the usual one).
    optimizer : {'gd', 'momentum', 'nesterov', 'sgd', 'adam'}, default='gd'
        How the hidden weights are trained, each with the step ``eta`` above
        and the gradient ``grad`` of the full training loss:

        - 'gd': full-batch gradient descent, ``W <- W - eta grad(W)``.
        - 'momentum': heavy ball, ``V <- momentum V - eta grad(W)``,
          ``W <- W + V`` (``V = 0`` at the start); stable within a region for
          ``learning_rate`` in (0, 2 (1 + momentum)).
        - 'nesterov': the same with the gradient at the look-ahead
          ``W + momentum V``; ``learning_rate`` in (0, 2 (1 + momentum) /
          (1 + 2 momentum)). Two gradient evaluations per step.
        - 'sgd': mini-batch gradient descent. Step ``t`` takes the next
          ``batch_size`` examples of the epoch's order (a permutation drawn
          per epoch from ``random_state`` when ``shuffle=True``, else
          ``0..n-1``; an epoch is ``ceil(n_samples / batch_size)`` steps,
          its last batch shorter) and applies gradient descent's step to
          their terms of the loss: ``W <- W - eta sum_{i in batch} (1/n) r_i
          a_j sigma'(<w_j, x_i>) x_i``, i.e. the batch-mean gradient with
          step ``eta * batch_size / n_samples``. ``learning_rate`` in (0,
          2); ``batch_size >= n_samples`` without shuffling is 'gd'.
          ``max_iter`` counts steps (batches), not epochs, and every step
          also evaluates the full training loss (the stop rules and
          ``loss_curve_`` are those of the full loss), so a step costs about
          what a full-batch step does.
        - 'adam': Adam on the full-batch gradient, ``M <- beta_1 M + (1 -
          beta_1) grad``, ``S <- beta_2 S + (1 - beta_2) grad^2``, ``W <- W
          - learning_rate M_hat / (sqrt(S_hat) + epsilon)`` with the bias
          corrections ``M_hat = M / (1 - beta_1^t)``, ``S_hat = S / (1 -
          beta_2^t)``. Its steps are per coordinate, so its iterates leave
          the span of the training inputs: ``dual_coef_`` is None and it
          runs on X only (``solver='dual'`` is refused).

        The names differ from :class:`~sklearn.neural_network.MLPRegressor`'s:
        its ``solver`` is ``optimizer`` here (``solver`` here chooses where
        gradient descent iterates), its ``learning_rate_init`` is
        ``learning_rate`` (its ``learning_rate`` is a schedule; steps are
        constant here), and its ``nesterovs_momentum=True`` is
        ``optimizer='nesterov'``.

        Momentum, Nesterov and SGD stay in the data span (``dual_coef_``
        exists, on both solvers). A warm start continues the optimizer's
        state (velocity, moments, step count and SGD's place in its epoch)
        when the optimizer and the training inputs are unchanged and both
        fits used the same internal units (they differ only when the
        magnitudes of X, y or the output weights change across ``2**40``);
        otherwise the state starts afresh.
    momentum : float, default=0.9
        The velocity's decay, in [0, 1), for 'momentum' and 'nesterov'.
    batch_size : int, default=32
        Examples per step of 'sgd' (clipped to ``n_samples``).
    shuffle : bool, default=True
        Whether 'sgd' draws a new order of the examples at every epoch.
    beta_1 : float, default=0.9
        Adam's first-moment decay, in [0, 1).
    beta_2 : float, default=0.999
        Adam's second-moment decay, in [0, 1).
    epsilon : float, default=1e-8
        Adam's denominator offset, in the gradient's units.
    max_iter : int, default=10000
        Maximum number of gradient steps.
    tol : float, default=1e-10
        Stop when the gradient's Frobenius norm falls below ``tol`` times its
        value at the first iterate (reachable when the model can interpolate,
        e.g. ``n_samples < n_features``).
    n_iter_no_change : int or None, default=50
        Also stop when the training loss fell by at most ``loss_tol`` times
        its value over the last ``n_iter_no_change`` steps: the rule that
        ends fits that cannot interpolate (``n_samples >> n_features``),
        where the gradient never vanishes; with it on, a fit also stops once
        its loss is below 1e-6 times the initial loss (it interpolates: the
        residuals are about 1e-3 of the targets' scale, and on ``n_samples <
        n_features`` data reaching ``tol`` can take many thousand steps
        more). None turns both off (the paper's model runs to ``tol``), and
        so does a window longer than ``max_iter``.
        ``decisions_['status']`` says which rule stopped the fit
        (``'converged'``, ``'stalled'``, ``'interpolated'``).
    loss_tol : float, default=3e-3
        The relative loss decrease of ``n_iter_no_change``.
    solver : {'auto', 'primal', 'dual'}, default='auto'
        Where the iterations run. 'dual' iterates on the data-span
        coefficients with the Gram matrix ``K = X X^T`` (one ``O(n^2 d)``
        product, then ``O(n^2 m)`` per step); 'primal' on the weights
        (``O(n d m)`` per step). 'auto' picks 'dual' when the Gram matrix
        fits the memory budget and a cost model, measured on this package's
        kernels, says the fit is faster there: forming K plus ``max_iter``
        steps that read its ``n_samples^2`` entries, against ``max_iter``
        steps that read X's ``n_samples n_features`` entries (dense) or its
        non-zeros (sparse), both growing with ``n_neurons``; the path taken
        is in ``decisions_['path']``. Both give the same iterates up
        to rounding (the tests hold them within 1e-12 relative); the same
        ``random_state`` gives bitwise-identical results across processes and
        parallel backends.
    compute_min_norm_gap : bool or 'auto', default='auto'
        Whether to solve the minimum-norm program on the training data and
        store ``min_norm_gap_``. 'auto' solves it when it is cheap next to
        the fit and meaningful: ``n_samples <= 1000`` and ``n_samples <
        n_features`` (where the minimum-norm interpolant exists for random
        data); otherwise the gap attributes are NaN and
        ``decisions_['min_norm_gap']`` says why. True always solves it.
    record_pattern : bool, default=False
        Whether to record every change of the training activation pattern in
        ``pattern_changes_`` (for timelines such as
        :class:`~sklearn_relubias.plotting.PatternTimelineDisplay`).
    fit_intercept : bool, default=True
        Whether to fit a constant offset: ``intercept_`` is the (weighted)
        mean of y and gradient descent fits ``y - intercept_``;
        ``dual_coef_``, ``activation_pattern_`` and the gaps then refer to
        that centred problem. The paper's model has no intercept (False).
    hidden_bias : float, default=0.0
        Scale ``c >= 0`` of a constant input feature appended to every
        input, ``x -> [x, c]``, whose trained weights give each neuron a
        bias: ``f(x) = sum_j a_j sigma(<w_j, x> + b_j)`` with ``b_j = c
        w_{j, d+1}`` (``hidden_biases_``). 0 is the paper's model: no
        biases, and X is used as it is (no copy). With ``c > 0`` the whole
        fit runs on ``[X, c 1]``: gradient descent, its step size (normalised
        by ``lambda_max`` of the augmented Gram matrix ``X X^T + c^2 1
        1^T``), the random initialisation (``n_features + 1`` columns of
        ``N(0, init_scale^2 / (n_features + 1))``, so a bias starts at ``c``
        times such a draw), the minimum-norm reference (its ``||W||^2``
        counts the bias weights ``b_j / c``), the gaps, the activation
        pattern and the ``n_samples < n_features`` rule of
        ``compute_min_norm_gap='auto'`` (with ``n_features + 1``). Gradient
        descent trains ``w_{j, d+1}``, so a bias moves ``c^2`` times as fast
        as the weight of a unit-valued input: its effective learning speed
        grows with ``c``, while the step size shrinks once ``c^2 n_samples``
        dominates ``lambda_max(X X^T)``. A larger ``c`` also makes a bias
        cheaper in the norm the reference minimises.
    warm_start : bool, default=False
        When True, a new ``fit`` continues from the previous
        ``hidden_weights_`` instead of the initialisation, for ``max_iter``
        more steps (``tol`` stays relative to the first fit's initial
        gradient; the window rule of ``n_iter_no_change`` starts afresh,
        its 1e-6 interpolation threshold relative to this call's first
        loss). ``n_iter_`` and ``loss_curve_`` then cover all the fits.
        For the same X, ``dual_coef_`` accumulates, so
        ``hidden_weights_ == init_hidden_weights_ + dual_coef_.T @ X`` still
        holds; with a different X of the same length the coefficients of
        the two data sets are added and that identity no longer holds; with a
        different number of samples ``dual_coef_`` restarts from zero and
        ``init_hidden_weights_`` becomes the weights this fit started from.
        The fitted ``hidden_biases_`` are continued too (with a changed
        ``hidden_bias`` the bias identity of ``dual_coef_`` no longer
        holds); ``hidden_bias=0`` cannot continue a fit with nonzero biases
        (ValueError).
    random_state : int, RandomState instance or None, default=None
        Seed of the random initialisation.
    verbose : int, default=0
        Print one line per chunk of gradient steps (about 0.2 s of work
        each) and a summary at the end when positive.

    Attributes
    ----------
    hidden_weights_ : ndarray of shape (n_neurons, n_features)
        Hidden weights ``W`` after the last step (the input weights only,
        also with ``hidden_bias > 0``).
    hidden_biases_ : ndarray of shape (n_neurons,)
        The neurons' biases ``b_j = hidden_bias * w_{j, d+1}`` after the
        last step; zeros when ``hidden_bias=0``.
    output_weights_ : ndarray of shape (n_neurons,)
        The fixed output weights ``a``.
    init_hidden_weights_ : ndarray of shape (n_neurons, n_features)
        Initial hidden weights ``W0``.
    init_hidden_biases_ : ndarray of shape (n_neurons,)
        Initial biases (zeros unless ``init='random'`` and ``hidden_bias >
        0``).
    dual_coef_ : ndarray of shape (n_samples, n_neurons) or None
        Data-span coefficients accumulated by the optimizer itself (None for
        ``optimizer='adam'``, whose iterates leave the span):
        ``hidden_weights_ == init_hidden_weights_ + dual_coef_.T @ X``, and
        with hidden biases (coefficients of the rows of ``[X, c 1]``)
        ``hidden_biases_ == init_hidden_biases_ + c**2 *
        dual_coef_.sum(axis=0)``, ``c = hidden_bias``. None,
        with a warning, when they are not representable in float64 at the
        scale of the data (they scale like ``y / X^2``, e.g. X near 1e120 with
        y near 1e-120); the fit itself is kept.
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
        changes happened, and the history is then incomplete).
    n_pattern_changes_ : int
        Only when ``record_pattern=True``: the number of changes that
        happened; ``pattern_changes_`` is the whole history exactly when it
        has that many rows.
    min_norm_gap_ : float
        ``||W - W*||_F / ||W*||_F`` with ``W*`` the hidden weights of
        :class:`MinNormReLURegressor` (same ``n_neurons``,
        ``output_weights`` and ``activation``) on the training data, within
        the label-sign region for ReLU; ``inf`` when ``W* = 0`` (no neuron
        of the reference is active) and ``W`` is not; NaN when the gap was
        not computed (``decisions_['min_norm_gap']`` says why). Each norm is
        taken at its own scale, so the ratio is right even when ``||W*||``
        alone would underflow. From a zero
        start on high-dimensional random data (``d >> n``) it is of order
        ``learning_rate`` (about 0.7-0.8 times it for one neuron), nearly
        flat in ``n`` and ``d``, because ``||W*||_F`` scales like
        ``sqrt(n / ||lambda||_1)`` itself.
    pattern_matches_reference_ : bool or None
        Whether gradient descent ended in the activation region of ``W*``:
        every (example, neuron) pair clearly active for gradient descent
        (pre-activation above ``1e-6`` times the neuron's largest) is one the
        reference fits with a positive value, and conversely. When False the
        fit issues one :class:`~sklearn_relubias.exceptions.RegionMismatchWarning`
        (when ``compute_min_norm_gap`` was set by name, not by 'auto'):
        ``min_norm_gap_`` then measures the distance to the minimum-norm
        interpolant of another region, a quantity that does not shrink with
        ``learning_rate``. The warning is issued when a pair is on the other
        side by more than 1% of the neuron's largest pre-activation (gradient
        descent inside another region, not at the boundary of ``W*``'s: e.g.
        a random start with many neurons, or uncentred inputs). None when
        the gap was not computed.
    min_norm_distance_ : float
        ``||W - W*||_F``, the absolute distance in the units of the weights
        (the same ``W*``); NaN when the gap was not computed. This is
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
        converged (or stalled, see ``n_iter_no_change``): their gradient is
        zero for good, so the fit is a stationary point above the global
        minimum. Empty otherwise. Fit issues one
        :class:`~sklearn_relubias.exceptions.StrandedExampleWarning` when
        they change the answer: their mean squared residual is at least ten
        times that of the other examples some neuron can fit, and they hold
        at least 1% of the training loss (where the others are interpolated
        it is unbounded; on ``n_samples >> n_features`` data every example is
        fitted about equally badly, and the warning stays silent). When the
        minimum-norm reference was computed but does not interpolate
        (typically ``n_samples > n_features``) it is issued only if the
        reference's weights reach a training loss more than a relative
        ``1e-6`` below the fit's: a point that fits better, so the fit is
        certainly above the global minimum. A fit at least as good as the
        reference (which minimises a convex surrogate, not the loss) may be
        at the global minimum or not; no warning is issued then.
    intercept_ : float
        The constant added to the network's output (0.0 unless
        ``fit_intercept=True``).
    step_size_ : float
        The absolute step size ``eta`` (``inf`` or 0 when the scale of X makes
        it unrepresentable in float64, e.g. ``max|X|`` near 1e-300); Adam's
        ``learning_rate`` for ``optimizer='adam'``.
    decisions_ : dict
        What the fit decided, as plain values: ``'path'`` (``'dual'`` or
        ``'primal'``), ``'operator_form'`` (``'gram'``, ``'dense'`` or
        ``'csr'``), the Gram products and eigendecompositions on this data
        set, the minimum-norm program's route, the memory plan
        (``'planned_peak_bytes'``, ``'memory_stages'``, ``'memory_checks'``),
        the backend and the seconds spent in it (``'kernel_seconds'``).
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
    >>> from sklearn_relubias import PAPER_MODEL, ShallowReLURegressor
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((10, 500)), rng.standard_normal(10)
    >>> reg = ShallowReLURegressor(random_state=0).fit(X, y)  # the defaults
    >>> bool(reg.score(X, y) > 0.999)
    True

    The paper's model (:data:`~sklearn_relubias.PAPER_MODEL`) and its gap to
    the minimum-norm solution:

    >>> paper = ShallowReLURegressor(**PAPER_MODEL).set_params(learning_rate=0.5)
    >>> bool(paper.fit(X, y).min_norm_gap_ < 0.5)
    True
    """

    _parameter_constraints: dict = {
        **_BaseReLURegressor._parameter_constraints,
        "init": [StrOptions({"zero", "random"})],
        "init_scale": [Interval(Real, 0, None, closed="left")],
        # positive; the optimizer's stable range is checked in fit (it depends on momentum)
        "learning_rate": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "optimizer": [StrOptions(set(OPTIMIZERS))],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), None],
        "loss_tol": [Interval(Real, 0, None, closed="left")],
        "solver": [StrOptions({"auto", "primal", "dual"})],
        "compute_min_norm_gap": ["boolean", StrOptions({"auto"})],
        "record_pattern": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
    }

    def __init__(
        self,
        n_neurons=16,
        output_weights="balanced",
        activation="relu",
        negative_slope=0.01,
        init="random",
        init_scale=1.0,
        learning_rate="auto",
        optimizer="gd",
        momentum=OPTIMIZER_DEFAULTS["momentum"],
        batch_size=OPTIMIZER_DEFAULTS["batch_size"],
        shuffle=OPTIMIZER_DEFAULTS["shuffle"],
        beta_1=OPTIMIZER_DEFAULTS["beta_1"],
        beta_2=OPTIMIZER_DEFAULTS["beta_2"],
        epsilon=OPTIMIZER_DEFAULTS["epsilon"],
        max_iter=10000,
        tol=1e-10,
        n_iter_no_change=50,
        loss_tol=3e-3,
        solver="auto",
        compute_min_norm_gap="auto",
        record_pattern=False,
        fit_intercept=True,
        hidden_bias=0.0,
        warm_start=False,
        random_state=None,
        verbose=0,
    ):
        self.n_neurons = n_neurons
        self.output_weights = output_weights
        self.activation = activation
        self.negative_slope = negative_slope
        self.init = init
        self.init_scale = init_scale
        self.learning_rate = learning_rate
        self.optimizer = optimizer
        self.momentum = momentum
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.loss_tol = loss_tol
        self.solver = solver
        self.compute_min_norm_gap = compute_min_norm_gap
        self.record_pattern = record_pattern
        self.random_state = random_state
        self.fit_intercept = fit_intercept
        self.hidden_bias = hidden_bias
        self.warm_start = warm_start
        self.verbose = verbose

    @restore_on_error
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, gram=None):
        """Train the hidden weights with the optimizer (full-batch gradient descent by default).

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
        gram : ndarray of shape (n_samples, n_samples) or Precomputed, default=None
            The Gram matrix ``X @ X.T`` if already computed, or a
            :class:`~sklearn_relubias.Precomputed` of X shared by several fits
            on the same data (its Gram matrix, spectrum and minimum-norm
            references are then computed once for all of them). Only the
            shape and the diagonal are checked against X. Always that of X
            itself: with ``hidden_bias=c > 0`` the fit adds ``c^2`` to it
            (a Precomputed keeps the augmented data set for its next fits).

        Returns
        -------
        self : object
            Fitted estimator.
        """
        warm = self.warm_start and hasattr(self, "hidden_weights_")
        if not warm:
            for name in ("pattern_changes_", "n_pattern_changes_"):  # not produced by every fit
                self.__dict__.pop(name, None)
        data = self._validate_training_data(X, y, sample_weight)
        params = self._check_optimizer(data.X.shape[0])
        with blas_threads_for(*data.X.shape):  # small problems: one BLAS thread
            W_start, C_prev = self._start(data, warm)
            params["seed"] = getattr(self, "_batch_seed", 0)
            gap_decision = self._gap_decision(*data.X.shape)
            plan = FitPlan(
                data.X,
                data.y,
                data.model,
                learning_rate=self._learning_rate(),
                solver=self.solver,
                optimizer=self.optimizer,
                optimizer_params=params,
                optimizer_state=self._warm_optimizer_state(warm, data.X),
                sample_weight=data.sample_weight,
                data=as_precomputed(gram, data.X_in, data.bias, data.X if data.bias else None),
                init_weights=W_start,
                reference=gap_decision == "computed",
                reference_advice="set compute_min_norm_gap=False to fit without the gap.",
                max_iter=self.max_iter,
            )
            offset = self.n_iter_ if warm else 0
            reporter = self._reporter(data, plan, offset)
            res = run_gd(
                plan.problem,
                max_iter=self.max_iter,
                tol=self.tol,
                n_iter_no_change=self.n_iter_no_change,
                loss_tol=self.loss_tol,
                record_pattern=self.record_pattern,
                grad_ref=self._grad_ref if warm else None,
                on_chunk=reporter if reporter.active else None,
                report_every=reporter.report_every,
            )
            self._warn_on_status(res.status, res.n_iter, res.loss_curve)
            stranded = self._stranded(data, plan, res)
            self._store(data, plan, res, (W_start, C_prev, warm, offset), stranded)
            self.decisions_["min_norm_gap"] = gap_decision
            if self.verbose:
                print(
                    f"[{type(self).__name__}] {self.n_iter_} steps, "
                    f"loss {self.loss_curve_[-1]:.3e}, pattern stable from step "
                    f"{self.pattern_stable_iter_}, min_norm_gap {self.min_norm_gap_:.3e}"
                )
            reporter.close()
        return self

    def _learning_rate(self):
        """``learning_rate``, with 'auto' resolved: 1.0 (relative to the curvature), Adam 1e-3."""
        if self.learning_rate != "auto":
            return self.learning_rate
        return 1.0 if OPTIMIZERS[self.optimizer].relative_step else ADAM_LEARNING_RATE

    def _validate_params(self):
        if self.solver in OPTIMIZERS:  # MLPRegressor's solver is the optimizer; here it is not
            raise InvalidParameterError(
                f"The 'solver' parameter of {type(self).__name__} chooses where gradient "
                f"descent iterates ('auto', 'primal' or 'dual'); got {self.solver!r}. The "
                f"optimizer is the 'optimizer' parameter: optimizer={self.solver!r}."
            )
        super()._validate_params()

    def _check_optimizer(self, n_samples):
        """Return the optimizer's parameters; a ValueError for a learning rate out of its range."""
        spec = OPTIMIZERS[self.optimizer]
        params = {name: getattr(self, name) for name in spec.parameters}
        spec.check_learning_rate(self._learning_rate(), params)
        if not spec.in_span and self.solver == "dual":
            raise ValueError(
                f"optimizer={self.optimizer!r} leaves the data span, so it cannot iterate on "
                "the Gram matrix: use solver='auto' or 'primal'."
            )
        if "batch_size" in params:  # a batch larger than the data is the whole data
            params["batch_size"] = min(params["batch_size"], n_samples)
        return params

    def _warm_optimizer_state(self, warm, X):
        """Return the optimizer's state a warm start goes on from (None: start it afresh).

        Kept for the same optimizer on the same training inputs (the fit
        plan also drops it when the units differ).
        """
        kept = getattr(self, "_optimizer_state", None) if warm else None
        if kept is None or kept["optimizer"] != self.optimizer:
            return None
        return kept["state"] if kept.get("data") == _digest(X) else None

    def _gap_decision(self, n_samples, n_features):
        """Whether this fit solves the minimum-norm reference: 'computed', or why not."""
        if not isinstance(self.compute_min_norm_gap, str):  # True or False, asked for by name
            return (
                "computed" if self.compute_min_norm_gap else "skipped: compute_min_norm_gap=False"
            )
        if n_samples >= n_features:
            return "skipped by 'auto': n_samples >= n_features (no interpolating reference)"
        if n_samples > AUTO_GAP_MAX_SAMPLES:
            return f"skipped by 'auto': n_samples > {AUTO_GAP_MAX_SAMPLES}"
        return "computed"

    def _start(self, data, warm):
        """``(W_start, C_prev)``: the weights this fit starts from and the coefficients so far."""
        n_samples, n_features = data.X.shape
        m = data.model.n_neurons
        if not warm:
            self._warn_if_copies(data.model.output_weights)
            rng = check_random_state(self.random_state)
            W0 = self._initial_weights(m, n_features, rng)
            self._batch_seed = int(rng.randint(np.iinfo(np.int32).max))  # SGD's shuffles
            return W0, np.zeros((n_samples, m))
        W = self._warm_weights(data.bias)
        if self.dual_coef_ is not None and self.dual_coef_.shape[0] != n_samples:
            self.init_hidden_weights_ = self.hidden_weights_
            self.init_hidden_biases_ = self._fitted_biases()
            return W, np.zeros((n_samples, m))
        return W, self.dual_coef_  # None: lost at an extreme scale

    def _fitted_biases(self):
        """``hidden_biases_`` (zeros for an estimator fitted before biases existed)."""
        return getattr(self, "hidden_biases_", np.zeros(self.hidden_weights_.shape[0]))

    def _warm_weights(self, bias):
        """Return the fitted weights on ``[X, bias 1]``, where a warm start continues from."""
        b = self._fitted_biases()
        if bias == 0:
            if b.any():
                raise ValueError(
                    "warm_start=True continues from the fitted hidden_biases_, which "
                    "hidden_bias=0 cannot represent; set hidden_bias > 0 or warm_start=False."
                )
            return self.hidden_weights_
        return np.column_stack([self.hidden_weights_, b / bias])

    def _reporter(self, data, plan, offset):
        """Return the driver's per-chunk hook: ``verbose`` lines and scikit-learn callbacks."""
        a, scaling = data.model.output_weights, plan.scaling

        def fitted_attributes(progress):  # the model after progress.n_iter steps of this fit
            W, b = split_bias(scaling.weights_out(progress.weights()), data.bias)
            return {
                "hidden_weights_": W,
                "hidden_biases_": b,
                "output_weights_": a,
                "intercept_": data.intercept,
                "n_iter_": offset + progress.n_iter,
            }

        sw = data.sample_weight
        metadata = None if sw is None else {"sample_weight": sw}
        y = data.y + data.intercept
        return ChunkReporter(self, data.X_in, y, metadata, self.max_iter, fitted_attributes)

    def _stranded(self, data, plan, res):
        """Warn about unfittable rows; return the stranded examples of a converged run."""
        unfittable = data.model.unfittable_rows(data.X, data.y, data.sample_weight)
        warn_if_unfittable(unfittable)
        if res.status not in (Status.CONVERGED, Status.FLOOR, Status.STALLED, Status.INTERPOLATED):
            return np.empty(0, dtype=np.intp)  # only (near-)stationary points strand
        stranded = data.model.stranded_examples(plan.y, res.activation_pattern)
        stranded = np.setdiff1d(stranded, unfittable)
        if stranded.size:  # warn when they matter: fitted worse than the other examples
            excess, share = _stranded_excess(plan, data.model, res.pre_activations, stranded)
            if (
                excess >= STRANDED_EXCESS
                and share >= STRANDED_MIN_SHARE
                and not _at_reference_loss(plan, res.pre_activations)
            ):
                _warn_if_stranded(stranded, share)
        return stranded

    def _store(self, data, plan, res, start, stranded):
        """Set the fitted attributes from the run (in the data's units)."""
        W_start, C_prev, warm, offset = start
        scaling = plan.scaling
        if not warm:
            self.init_hidden_weights_, self.init_hidden_biases_ = split_bias(W_start, data.bias)
        self.output_weights_ = data.model.output_weights
        self.intercept_ = data.intercept
        W = scaling.weights_out(res.hidden_weights)
        self.hidden_weights_, self.hidden_biases_ = split_bias(W, data.bias)
        if plan.problem.spec.in_span:  # W = W0 + C^T X: the coefficients mean something
            store_dual_coef(self, res.dual_coef, scaling, previous=C_prev)
        else:
            self.dual_coef_ = None
        self.activation_pattern_ = res.activation_pattern
        self.stranded_indices_ = stranded
        if res.stable_iter or not warm:
            self.pattern_stable_iter_ = offset + res.stable_iter
        if self.record_pattern:
            self._store_pattern_changes(res, warm, offset)
        loss_curve = scaling.loss_out(res.loss_curve)
        self.loss_curve_ = (
            np.concatenate([self.loss_curve_, loss_curve[1:]]) if warm else loss_curve
        )
        relative = plan.problem.spec.relative_step
        self.step_size_ = scaling.step_out(res.step_size) if relative else self._learning_rate()
        # the optimizer's state, in internal units: a warm start on the same inputs goes on
        # from it (in the same units; the plan checks). Plain GD carries none: X is not hashed
        self._optimizer_state = None
        if res.optimizer_state:
            units = (scaling.kx, scaling.ky, scaling.ka)
            self._optimizer_state = {
                "optimizer": self.optimizer,
                "data": _digest(data.X),
                "state": {**res.optimizer_state, "units": units},
            }
        self.n_iter_ = offset + res.n_iter
        self._grad_ref = res.initial_grad_norm
        self.min_norm_gap_ = self.min_norm_distance_ = np.nan
        self.pattern_matches_reference_ = None
        if plan.has_reference:
            self.min_norm_gap_, self.min_norm_distance_ = plan.gap(res.hidden_weights)
            differ, deep = plan.region_mismatches(res.pre_activations)
            self.pattern_matches_reference_ = differ == 0
            # asked for by name, and no stranded example (which has its own warning)
            if self.compute_min_norm_gap != "auto" and not stranded.size:
                _warn_if_other_region(deep, res.pre_activations.size)
        self.decisions_ = {
            **plan.decisions,
            "status": res.status.name.lower(),
            "handed_over_to_X_at": res.handed_over_at,
            "backend": res.backend,
            "kernel_seconds": res.kernel_seconds,
        }

    def _store_pattern_changes(self, res, warm, offset):
        changes = res.pattern_changes + np.array([offset, 0, 0])
        total = res.n_pattern_changes
        if warm and hasattr(self, "pattern_changes_"):
            changes = np.concatenate([self.pattern_changes_, changes])
            total += self.n_pattern_changes_
        self.pattern_changes_, self.n_pattern_changes_ = changes, total
        if res.n_pattern_changes > len(res.pattern_changes):
            warn(
                f"The activation pattern changed {res.n_pattern_changes} times; "
                f"pattern_changes_ keeps the first {len(res.pattern_changes)}, so the history "
                "is incomplete (timelines and gap_decomposition refuse it).",
                UserWarning,
            )

    def _warn_if_copies(self, a):
        """Say once that zero-initialised neurons with equal output weights are copies."""
        distinct = np.unique(a).size
        if self.init == "zero" and a.size > distinct:
            warn(
                f"init='zero' with n_neurons={a.size} but {distinct} distinct output "
                f"weight(s): neurons with equal output weights get equal updates and stay "
                f"identical, so the fit has {distinct} distinct neuron(s). Use init='random' "
                "to break the symmetry.",
                DuplicateNeuronsWarning,
            )

    def _initial_weights(self, n_neurons, n_features, rng=None):
        """``W0``: zeros, or i.i.d. ``N(0, init_scale^2 / n_features)`` drawn from ``rng``."""
        if self.init == "zero":
            return np.zeros((n_neurons, n_features))
        rng = check_random_state(self.random_state) if rng is None else rng
        return rng.normal(scale=self.init_scale / np.sqrt(n_features), size=(n_neurons, n_features))

    def _warn_on_status(self, status, n_iter, losses):
        if status == Status.STALLED and losses[-1] > (1 + RISING_LOSS) * np.min(losses):
            best = int(np.argmin(losses))
            warn(
                f"The window rule (n_iter_no_change={self.n_iter_no_change}) stopped the fit "
                f"at step {n_iter} with the loss {losses[-1] / losses[best]:.3g} times its "
                f"lowest (at step {best}): the loss is rising or oscillating, not settling. "
                "Lower learning_rate"
                + (" or momentum" if self.optimizer in ("momentum", "nesterov") else "")
                + ", or set n_iter_no_change=None to run to tol or max_iter.",
                ConvergenceWarning,
            )
        elif status == Status.MAX_ITER:
            window = (
                ""
                if self.n_iter_no_change is None or self.max_iter < self.n_iter_no_change
                else f", and the loss still fell by more than loss_tol={self.loss_tol} "
                f"of itself over the last n_iter_no_change={self.n_iter_no_change} steps"
            )
            warn(
                f"Gradient descent did not reach tol={self.tol} within "
                f"max_iter={self.max_iter} steps{window}; increase max_iter, increase "
                "learning_rate (below 2) or loosen tol.",
                ConvergenceWarning,
            )
        elif status == Status.NON_FINITE and n_iter == 0 and not np.isfinite(losses[0]):
            warn(
                "The loss at the initial weights is not finite, so no step was taken; "
                "lower init_scale, or rescale X and y.",
                ConvergenceWarning,
            )
        elif status == Status.NON_FINITE:
            warn(
                f"Gradient descent produced a non-finite loss at step {n_iter + 1}; "
                f"the fit stopped at the last finite iterate (step {n_iter}). "
                "Rescale X and y, or lower learning_rate or init_scale.",
                ConvergenceWarning,
            )


def _warn_if_other_region(deep, total):
    """Warn once when gradient descent ended clearly inside another region than ``W*``'s."""
    if deep:
        warn(
            f"Gradient descent ended in another activation region than the minimum-norm "
            f"reference ({deep} of {total} (example, neuron) pairs on the other side by more "
            "than 1% of the neuron's largest pre-activation; pattern_matches_reference_ is "
            "False): min_norm_gap_ is the distance to the minimum-norm interpolant of another "
            "region, which does not shrink with learning_rate.",
            RegionMismatchWarning,
        )


def _stranded_excess(plan, model, P, rows):
    """How much worse ``rows`` are fitted than the examples being fitted, and their loss share.

    Returns ``(excess, share)``: the ratio of the mean squared residual of
    ``rows`` to that of the other examples some neuron can fit (``inf`` when
    those are fitted exactly or there are none), weighted by the example
    weights, at pre-activations ``P`` (internal units), and the share of the
    training loss ``rows`` hold.
    """
    model = model.with_output_weights(plan.problem.output_weights)
    r = model.outputs(P) - plan.y
    r = r / max(np.max(np.abs(r)), np.finfo(float).tiny)  # no overflow in the squares
    s = plan.problem.weights
    inside = np.zeros(r.shape[0], dtype=bool)
    inside[rows] = True
    fitted = ~inside & model.can_fit(plan.y).any(axis=1)
    held = s[inside] @ r[inside] ** 2
    total = s @ r**2
    rest = s[fitted] @ r[fitted] ** 2
    mean_held = held / max(s[inside].sum(), np.finfo(float).tiny)
    mean_rest = rest / max(s[fitted].sum(), np.finfo(float).tiny)
    excess = mean_held / mean_rest if mean_rest > 0 else np.inf
    share = held / total if total > 0 else 0.0
    return float(excess), float(share)


def _at_reference_loss(plan, P):
    """Whether gradient descent's training loss is no worse than the reference weights'.

    Only where the fit computed the minimum-norm reference and it does not
    interpolate (typically ``n > d``: ``W*`` minimises the convex surrogate):
    True when the model's training loss at pre-activations ``P`` (internal
    units) is at most ``REFERENCE_LOSS_RTOL`` above the model's own loss at
    ``W*`` (the loss, not the surrogate), up to rounding of the targets'
    scale. ``W*`` minimises the surrogate, not the loss, so True does not
    certify a global minimum, while False from the comparison certifies a
    fit above it (``W*`` fits better). Also False where the reference
    interpolates (``d > n``: a stranded example holds loss no interpolant
    has) or was not computed.
    """
    if not plan.has_reference or plan.X is None:
        return False
    ref = plan.reference()
    if ref.interpolates or ref.weights is None:
        return False
    s, y, model = plan.problem.weights, plan.y, plan.model
    loss = 0.5 * float(s @ (model.outputs(P) - y) ** 2)
    loss_star = 0.5 * float(s @ (model.outputs(pre_activations(plan.X, ref.weights)) - y) ** 2)
    rounding = 16 * np.finfo(float).eps * 0.5 * float(s @ y**2)  # of the loss at W = 0
    return loss <= loss_star * (1 + REFERENCE_LOSS_RTOL) + rounding


def _warn_if_stranded(stranded, share):
    """Warn once when gradient descent stopped with examples it can no longer fit."""
    warn(
        f"Gradient descent stopped with {stranded.size} example(s) (e.g. index "
        f"{stranded[0]}; all in stranded_indices_) inactive for every neuron that could "
        f"fit them, holding {share:.0%} of the final training loss: they get no gradient, "
        "so the fit is a stationary point above the global minimum of the loss. "
        "init='random' with more neurons, or a smaller learning_rate, avoids it.",
        StrandedExampleWarning,
    )
