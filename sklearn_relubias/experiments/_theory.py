"""Where the gap between gradient descent and the minimum-norm solution comes from.

- :func:`gap_decomposition` splits ``W - W*`` of a fitted
  :class:`~sklearn_relubias.ShallowReLURegressor` into exact parts, one per
  category of (example, neuron) pairs read from the activation-pattern history.
- :func:`predict_gap` predicts the gap without running gradient descent: the
  first step's iterate projected onto the set of weights that fit what the
  first step's pattern says each neuron will fit.
- :func:`critical_learning_rate` is the step at which the first step's frozen
  coefficients and the cross-talk between examples are of the same size.
- :func:`richardson_extrapolation` and :func:`gradient_flow_limit` extrapolate
  the gap to ``learning_rate -> 0`` (gradient flow).

Notation (see the user guide and :class:`~sklearn_relubias.ShallowReLURegressor`):
``K = X X^T``, ``lambda = lambda_max(K)``, output weights ``a`` and, for the
group of neurons with sign ``sigma``, ``s_sigma = sum_{sign(a_j) = sigma} a_j^2``
and labels ``z = sigma y``.
"""

from dataclasses import dataclass, field

import numpy as np
from scipy import linalg
from scipy.optimize import lsq_linear
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted

from .._base import check_complete_history
from .._linalg import pre_activations, span
from .._metrics import _within
from .._model import Model, clearly_outside
from .._plan import as_precomputed, step_size
from .._reference._region import label_sign_region
from .._shallow import PAPER_MODEL, ShallowReLURegressor
from ..exceptions import RegionMismatchWarning, warn

#: The categories of :func:`gap_decomposition`, in the order of ``parts``.
CATEGORIES = ("frozen", "sliding", "left_kink", "stranded", "active")

_CODES = {name: k for k, name in enumerate(CATEGORIES)}


def _sign_groups(model):
    """Yield ``(sigma, mask, s_sigma)`` per non-empty sign group, ``s_sigma = sum a_j^2``."""
    a = model.output_weights
    for sigma, group, _ in model.groups():
        yield sigma, group, float(np.sum(a[group] ** 2))


def _relu_model(n_neurons, output_weights):
    return Model.from_params("relu", output_weights, n_neurons)


# ---------------------------------------------------------------------------
# Decomposition of a fitted estimator's gap
# ---------------------------------------------------------------------------


@dataclass
class GapDecomposition:
    """Exact split of ``W - W*`` by category; see :func:`gap_decomposition`.

    Attributes
    ----------
    parts : dict of str to ndarray of shape (n_neurons, n_features)
        ``'init'`` (``W0``) and one part per category of :data:`CATEGORIES`;
        they add up to ``W - W*``.
    norms : dict of str to float
        Frobenius norm of each part.
    shares : dict of str to float
        ``<part, W - W*>_F / ||W - W*||_F^2``: scalar shares of the squared
        distance that add up to one (a part can have a negative share).
    categories : ndarray of shape (n_samples, n_neurons), dtype=str
        The category of each (example, neuron) pair.
    first_step_pattern : ndarray of shape (n_samples, n_neurons), dtype=bool
        Activation pattern (``<w_j, x_i> > 0``) after the first step.
    ever_active : ndarray of shape (n_samples, n_neurons), dtype=bool
        Active at some iterate ``t >= 1``.
    can_fit : ndarray of shape (n_samples, n_neurons), dtype=bool
        ``y_i a_j > 0``: neuron ``j`` can produce example ``i``'s label.
    distance : float
        ``||W - W*||_F``.
    relative_gap : float
        ``||W - W*||_F / ||W*||_F``.
    residual : float
        ``||W - W* - sum(parts)||_F``, rounding only.
    min_norm_weights : ndarray of shape (n_neurons, n_features)
        ``W*``.
    other_region : ndarray of shape (n_samples, n_neurons), dtype=bool
        Pairs clearly on the other side of the kink than in ``W*``
        (``<w_j, x_i>`` above ``DEEP_TOL = 1e-2`` times ``scale_j`` where
        ``W*`` has the pair inactive, or below ``-DEEP_TOL scale_j`` where it
        is active): gradient descent ended in another activation region, where
        the categories' story (frozen, sliding *to* ``W*``'s kink) does not
        hold; compare with the reference of its own region
        (:func:`~sklearn_relubias.metrics.reference_gaps`).
    same_region : bool
        No such pair.
    """

    parts: dict
    norms: dict
    shares: dict
    categories: np.ndarray
    first_step_pattern: np.ndarray
    ever_active: np.ndarray
    can_fit: np.ndarray
    distance: float
    relative_gap: float
    residual: float
    min_norm_weights: np.ndarray = field(repr=False)
    other_region: np.ndarray = field(repr=False, default=None)
    same_region: bool = True


def _pattern_history(est, n_samples):
    """``(first_step_pattern, ever_active)`` from ``pattern_changes_``.

    The initial pattern is the final one with every recorded entry toggled
    once per row; the pattern of iterate 1 is the initial one toggled by the
    rows with ``t == 1``. A row ``(t, i, j)`` with ``t >= 2`` means that entry
    was active at iterate ``t - 1`` or ``t``, both ``>= 1``.
    """
    final = est.activation_pattern_
    changes = est.pattern_changes_
    t, i, j = changes.T
    toggled = np.zeros(final.shape, dtype=np.int64)
    np.add.at(toggled, (i, j), 1)
    initial = final ^ (toggled % 2 == 1)
    first = initial.copy()
    at_one = t == 1
    np.logical_xor.at(first, (i[at_one], j[at_one]), True)
    ever = first | final
    later = t >= 2
    ever[i[later], j[later]] = True
    if est.n_iter_ == 0:  # no step taken: no iterate t >= 1
        first, ever = initial.copy(), np.zeros_like(final)
    return first, ever


def gap_decomposition(estimator, X, y, *, kink_tol=1e-6, gram=None):
    """Split the gap ``W - W*`` of a fitted estimator into parts that add up exactly.

    With ``W = W0 + C^T X`` (``C = dual_coef_``) and ``W* = C*^T X`` (the
    minimum-norm reference for the same output weights, with its
    multipliers ``C*``), each neuron's difference is
    ``w_j - w*_j = w0_j + sum_i (C - C*)_ij x_i``. Every pair (example ``i``,
    neuron ``j``) falls in exactly one category, and the part of a category
    is the sum of its pairs' terms, so the parts (with ``'init'`` = ``W0``)
    add up to ``W - W*`` to rounding. The categories, with "active" meaning
    ``<w_j, x_i> > 0`` and "ever active" active at some iterate ``t >= 1``:

    Pairs where neuron ``j`` cannot produce the label (``y_i a_j <= 0``):

    - ``'frozen'``: never active after the first step. From a zero
      initialisation the coefficient is the first step's,
      ``c_ij = learning_rate y_i a_j / (||a||^2 lambda_max(K))``, for good.
    - ``'sliding'``: ever active and ending on the kink or above it,
      ``<w_j, x_i> >= -kink_tol * scale_j``: re-activated by the cross-talk
      of the other examples, then pushed back to ``<w_j, x_i> = 0`` (the
      KKT condition of ``W*`` for an example on its constraint).
    - ``'left_kink'``: ever active but ending strictly below the kink
      (``< -kink_tol * scale_j``): re-activated, pushed down, then left the
      kink; gradient descent then depends on its path (the "second floor"
      of the gap at small ``d/n``).

    Pairs where neuron ``j`` can produce the label (``y_i a_j > 0``):

    - ``'stranded'``: inactive at the end (never fitted by this neuron).
    - ``'active'``: active at the end (fitted).

    ``scale_j`` is the largest ``|<w*_j, x_i>|`` over the examples (or of
    ``|<w_j, x_i>|`` when ``w*_j = 0``).

    Parameters
    ----------
    estimator : ShallowReLURegressor
        Fitted with ``fit_intercept=False`` and without sample weights, on
        ``(X, y)``. When it was not fitted with ``record_pattern=True`` it is
        refitted (a clone, the estimator itself is left alone) with that
        option to read the pattern's history.
    X : ndarray of shape (n_samples, n_features)
        The training inputs of the fit.
    y : ndarray of shape (n_samples,)
        The training targets of the fit.
    kink_tol : float, default=1e-6
        Relative distance below the kink that still counts as on it.
    gram : ndarray or Precomputed, default=None
        ``X X^T`` or a :class:`~sklearn_relubias.Precomputed` of X, shared
        with the refit and the minimum-norm program (formed once otherwise).

    Returns
    -------
    GapDecomposition

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_relubias import PAPER_MODEL, ShallowReLURegressor
    >>> from sklearn_relubias.datasets import make_high_dim_regression
    >>> from sklearn_relubias.experiments import gap_decomposition
    >>> X, y = make_high_dim_regression(20, 2000, labels="rademacher", random_state=0)
    >>> paper = ShallowReLURegressor(**PAPER_MODEL)
    >>> est = paper.set_params(learning_rate=0.3, record_pattern=True).fit(X, y)
    >>> dec = gap_decomposition(est, X, y)
    >>> sorted(dec.parts)
    ['active', 'frozen', 'init', 'left_kink', 'sliding', 'stranded']
    >>> bool(np.isclose(dec.distance, est.min_norm_distance_))
    True
    >>> bool(np.isclose(sum(dec.shares.values()), 1.0))
    True
    """
    check_is_fitted(estimator, "hidden_weights_")
    if estimator.fit_intercept or estimator.hidden_bias:
        raise ValueError(
            "gap_decomposition needs an estimator fitted with fit_intercept=False and "
            "hidden_bias=0 (reference_gaps handles biases)."
        )
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    data = as_precomputed(gram, X)
    if not hasattr(estimator, "pattern_changes_"):
        estimator = clone(estimator).set_params(record_pattern=True)
        estimator.fit(X, y, gram=data)
    model = estimator._fitted_model()
    W, W0, C = estimator.hidden_weights_, estimator.init_hidden_weights_, estimator.dual_coef_
    ref = data._reference(model, y)
    W_star = ref.weights
    dC = C - ref.dual_coef

    check_complete_history(estimator)
    first, ever = _pattern_history(estimator, X.shape[0])
    fittable = model.can_fit(y)
    P, P_star = pre_activations(X, W), pre_activations(X, W_star)
    scale = np.max(np.abs(P_star), axis=0, initial=0.0)
    scale = np.where(scale > 0, scale, np.max(np.abs(P), axis=0, initial=0.0))
    final_active = estimator.activation_pattern_
    on_kink = P >= -kink_tol * scale
    codes = np.select(
        [
            ~fittable & ~ever,
            ~fittable & ever & on_kink,
            ~fittable & ever,
            fittable & ~final_active,
        ],
        [_CODES["frozen"], _CODES["sliding"], _CODES["left_kink"], _CODES["stranded"]],
        default=_CODES["active"],
    )
    parts = {"init": W0.copy()}
    for name in CATEGORIES:
        parts[name] = span(np.where(codes == _CODES[name], dC, 0.0), X)
    D = W - W_star
    sq = float(np.sum(D * D))
    total = sum(parts.values())
    # clearly on the other side of W*'s pattern (a pair still sliding to the kink is not)
    other = clearly_outside(P, P_star > kink_tol * scale, scale)
    if other.any():
        warn(
            f"Gradient descent ended in another activation region than W* on {other.sum()} of "
            f"{other.size} (example, neuron) pairs: the categories describe a path to W*'s "
            "region, which this run did not take (GapDecomposition.other_region lists the "
            "pairs; metrics.reference_gaps(..., references=('own_region',)) measures the "
            "distance to the minimum-norm interpolant of the run's own region).",
            RegionMismatchWarning,
        )
    return GapDecomposition(
        parts=parts,
        norms={k: float(np.linalg.norm(v)) for k, v in parts.items()},
        shares={k: float(np.sum(v * D)) / sq if sq > 0 else 0.0 for k, v in parts.items()},
        categories=np.asarray(CATEGORIES)[codes],
        first_step_pattern=first,
        ever_active=ever,
        can_fit=fittable,
        distance=float(np.sqrt(sq)),
        relative_gap=float(np.sqrt(sq) / np.linalg.norm(W_star)),
        residual=float(np.linalg.norm(D - total)),
        min_norm_weights=W_star,
        other_region=other,
        same_region=not other.any(),
    )


# ---------------------------------------------------------------------------
# Predictor
# ---------------------------------------------------------------------------


@dataclass
class GapPrediction:
    """The predicted end point of gradient descent; see :func:`predict_gap`.

    Attributes
    ----------
    distance : float
        Predicted ``||W - W*||_F``.
    relative_gap : float
        Predicted ``||W - W*||_F / ||W*||_F``.
    hidden_weights : ndarray of shape (n_neurons, n_features)
        The predicted limit of gradient descent.
    dual_coef : ndarray of shape (n_samples, n_neurons)
        Its data-span coefficients (``hidden_weights == dual_coef.T @ X``).
    first_step_pattern : ndarray of shape (n_samples, n_neurons), dtype=bool
        Activation pattern after the first step.
    fitted : ndarray of shape (n_samples, n_neurons), dtype=bool
        Pairs the prediction fits (``can fit`` and active after step one).
    effective_learning_rate : float
        ``learning_rate * mean(diag K) / lambda_max(K)``: the first step's
        move of an example's own pre-activation relative to its label, times
        ``||a||^2``.
    min_norm_weights : ndarray of shape (n_neurons, n_features)
        ``W*``.
    same_region : bool
        Whether the predicted limit lies in ``W*``'s (label-sign) region: no
        pre-activation clearly (beyond 1% of its neuron's largest) on the
        other side of the kink. False (with a ``RegionMismatchWarning``)
        when the first step sends gradient descent elsewhere, as on
        uncentred inputs: the gap is then to another region's interpolant
        and does not shrink with the step.
    """

    distance: float
    relative_gap: float
    hidden_weights: np.ndarray = field(repr=False)
    dual_coef: np.ndarray = field(repr=False)
    first_step_pattern: np.ndarray = field(repr=False)
    fitted: np.ndarray = field(repr=False)
    effective_learning_rate: float
    min_norm_weights: np.ndarray = field(repr=False)
    same_region: bool = True


def _check_wide(X, y):
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"X must be 2-d and y of shape (n_samples,), got {X.shape}, {y.shape}.")
    if X.shape[0] >= X.shape[1]:
        raise ValueError(
            f"The first-step theory needs n_samples < n_features, got X of shape {X.shape}."
        )
    return X, y


def _project(K, b, upper):
    """``argmin_mu 1/2 mu^T K mu - mu^T b`` with ``mu <= upper`` (bounded least squares)."""
    L = linalg.cholesky(K, lower=True)
    target = linalg.solve_triangular(L, b, lower=True)
    lower = np.full(b.shape, -np.inf)
    if np.all(np.isinf(upper)):
        return linalg.cho_solve((L, True), b)
    return lsq_linear(L.T, target, bounds=(lower, upper), method="bvls", tol=1e-15).x


def predict_gap(
    X,
    y,
    *,
    learning_rate=0.1,
    n_neurons=2,
    output_weights="balanced",
    method="projection",
    gram_matrix=None,
):
    """Predict where gradient descent from zero ends, and its gap to ``W*``, without running it.

    Derivation (zero initialisation, ``relu'(0) = 1``). The first step gives
    every example the coefficient ``c_ij = eta/n * y_i a_j`` with
    ``eta/n = learning_rate / (||a||^2 lambda)``, ``lambda = lambda_max(K)``.
    Neurons of one sign ``sigma`` stay proportional: ``w_j = |a_j| v_sigma``,
    where ``v_sigma`` is a single neuron with output weight ``s_sigma`` fitting
    ``z = sigma y``, started from ``v_1 = X^T c``, ``c = learning_rate z /
    (||a||^2 lambda)``; ``W*`` has ``v*_sigma = u_sigma / s_sigma`` with
    ``u_sigma`` the single-neuron minimum-norm solution for ``z``. The first
    step's pattern decides the rest: examples with ``z_i > 0`` and
    ``<v_1, x_i> > 0`` (set ``A``) are fitted, those with ``z_i > 0`` and
    ``<v_1, x_i> <= 0`` stay unfitted (stranded, their coefficients frozen),
    and those with ``z_i <= 0`` (set ``N``) keep their first-step coefficients
    unless they are re-activated, in which case gradient descent pushes them
    back to the kink and they end with ``<v, x_i> = 0``.

    - ``method='projection'`` (default): ``v_pred`` is the Euclidean projection
      of ``v_1`` onto ``{v : <v, x_i> = z_i / s for i in A, <v, x_k> <= 0 for
      k in N}``, one bounded least-squares problem of size ``|A| + |N|``.
      Gradient descent's limit is exactly this projection (its KKT
      conditions) whenever every re-activated example ends on the kink, i.e.
      when the ``'left_kink'`` part of :func:`gap_decomposition` is empty.
    - ``method='linear'``: the frozen-only first-order formula: every example
      of ``N`` keeps its first-step coefficient ``c_N`` and the active block
      is refitted, ``v_pred = v_1 + X_A^T K_AA^{-1} (z_A / s - K_A. c)``. When
      ``W*``'s active set is ``A`` and nothing is re-activated this gives
      ``||v_pred - v*||^2 = c_F^T (K_FF - K_FA K_AA^{-1} K_AF) c_F`` with
      ``F`` the complement of ``A``.

    Then ``||W - W*||_F^2 = sum_sigma s_sigma ||v_pred,sigma - v*_sigma||^2``.

    Accuracy, measured against fits of the paper's model
    (``ShallowReLURegressor(**PAPER_MODEL)``) on Gaussian inputs with
    ``n = 20``, ``d = 2000`` and +/-1 labels, 20 data sets (seeds
    2000-2019): the projection matches the fitted ``min_norm_distance_``
    within 0.1% in 20 of 20 at ``learning_rate`` 1 and 0.1, 19 of 20 at
    0.03, 17 of 20 at 0.01 (worst -4.6%) and 14 of 20 at 0.003 (worst
    -28%): at small steps examples that left the kink add what the first
    step does not see. On seeds 0-4 the linear formula is within 0.2% at 1 and 0.3 but
    1.0-1.9 times the fitted distance at 0.1 and 5-32 times at 0.01 (it
    keeps the re-activated examples frozen while ``W*`` has them on the
    kink). With ``d = 200`` (``d/n = 10``) the projection is within 1% at
    ``learning_rate = 1``, 0.71-1.0 at 0.1 and 0.10-0.64 of the fitted
    distance at 0.01: examples that leave the kink add a floor to the gap
    that the first step does not see.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Inputs, ``n_samples < n_features``.
    y : ndarray of shape (n_samples,)
        Targets.
    learning_rate : float, default=0.1
        As in :class:`~sklearn_relubias.ShallowReLURegressor`.
    n_neurons : int, default=2
        Number of neurons (used with a string ``output_weights``).
    output_weights : {'balanced', 'positive'} or array-like, default='balanced'
        As in :class:`~sklearn_relubias.ShallowReLURegressor`.
    method : {'projection', 'linear'}, default='projection'
        See above.
    gram_matrix : ndarray of shape (n_samples, n_samples) or Precomputed, default=None
        ``X X^T`` if already computed, or a
        :class:`~sklearn_relubias.Precomputed` of X (whose reference is then
        reused).

    Returns
    -------
    GapPrediction

    Examples
    --------
    >>> from sklearn_relubias import PAPER_MODEL, ShallowReLURegressor
    >>> from sklearn_relubias.datasets import make_high_dim_regression
    >>> from sklearn_relubias.experiments import predict_gap
    >>> X, y = make_high_dim_regression(20, 2000, labels="rademacher", random_state=0)
    >>> pred = predict_gap(X, y, learning_rate=0.3)
    >>> est = ShallowReLURegressor(**PAPER_MODEL).set_params(learning_rate=0.3).fit(X, y)
    >>> bool(abs(pred.distance / est.min_norm_distance_ - 1) < 0.01)
    True
    """
    X, y = _check_wide(X, y)
    if method not in ("projection", "linear"):
        raise ValueError(f"method must be 'projection' or 'linear', got {method!r}.")
    model = _relu_model(n_neurons, output_weights)
    a = model.output_weights
    data = as_precomputed(gram_matrix, X)
    K = data.gram()
    lam = data._spectrum().top()
    n = X.shape[0]
    eta_n = step_size(model, learning_rate, lam)  # eta / n: the step on lambda_max(K / n)
    ref = data._reference(model, y)
    coef = np.zeros((n, a.shape[0]))
    first = np.zeros((n, a.shape[0]), dtype=bool)
    fitted = np.zeros_like(first)
    for sigma, group, s in _sign_groups(model):
        z = sigma * y
        c = eta_n * z
        p1 = K @ c
        A = (z > 0) & (p1 > 0)
        N = z <= 0
        M = A | N if method == "projection" else A
        b = np.where(A, z / s, 0.0)[M] - p1[M]
        upper = np.where(N, 0.0, np.inf)[M]
        mu = _project(K[np.ix_(M, M)], b, upper)
        v = c.copy()
        v[M] += mu
        coef[:, group] = np.outer(v, np.abs(a[group]))
        first[:, group] = (p1 > 0)[:, None]
        fitted[:, group] = A[:, None]
    W = span(coef, X)
    same = _within(K @ coef, label_sign_region(model, y))
    if not same:
        warn(
            "The predicted limit lies in another activation region than W* (the first step "
            "sends some examples to the other side of the kink, as on uncentred inputs): "
            "the predicted gap is to another region's interpolant and does not shrink with "
            "learning_rate; see reference_gaps for the reference of that region.",
            RegionMismatchWarning,
        )
    dC = coef - ref.dual_coef
    dist = float(np.sqrt(max(np.einsum("ij,ik,kj->", dC, K, dC), 0.0)))
    norm_star = float(np.linalg.norm(ref.weights))
    return GapPrediction(
        distance=dist,
        relative_gap=dist / norm_star if norm_star > 0 else dist,
        hidden_weights=W,
        dual_coef=coef,
        first_step_pattern=first,
        fitted=fitted,
        effective_learning_rate=float(learning_rate * np.mean(np.diag(K)) / lam),
        min_norm_weights=ref.weights,
        same_region=same,
    )


def critical_learning_rate(X, *, n_neurons=2, output_weights="balanced", gram_matrix=None):
    """Return the learning rate where the first step's frozen coefficients meet the cross-talk.

    After the first step an example ``k`` that neuron group ``sigma`` cannot
    fit keeps the pre-activation ``K_kk c_k = learning_rate K_kk z_k /
    (||a||^2 lambda)`` (negative) from its own frozen coefficient, while the
    fit of the other examples adds the cross-talk ``q_k = <v*, x_k>`` ~
    ``sum_i K_ki z_i / (s_sigma K_ii)``, of standard deviation
    ``||z_A|| sqrt(mean_{i != k} K_ik^2) / (s_sigma mean K_ii)``. Setting
    the two equal with ``|z_k|`` the labels' root mean square and ``|A| =
    n/2`` examples fitted gives::

        lr_c = (||a||^2 / s_sigma) (lambda_max(K) / mean K_ii) sqrt(n / (2 R)),
        R = (mean K_ii)^2 / mean_{i != k} K_ik^2,

    ``R`` the empirical effective rank (``||lambda||_1^2 / ||lambda||_2^2`` for
    inputs with covariance spectrum ``lambda``). Above ``lr_c`` nearly every
    such example stays frozen and the relative gap is about
    ``kappa * learning_rate``; well below, only the examples whose cross-talk
    is negative (about half) stay frozen and the rest slide to the kink as
    in ``W*``. At ``learning_rate = lr_c`` the relative gap is of order
    ``sqrt(n / R)``, the paper's rate. With several sign groups the largest
    ``lr_c`` is returned.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Inputs (at least two examples).
    n_neurons : int, default=2
        Number of neurons (used with a string ``output_weights``).
    output_weights : {'balanced', 'positive'} or array-like, default='balanced'
        As in :class:`~sklearn_relubias.ShallowReLURegressor`.
    gram_matrix : ndarray of shape (n_samples, n_samples) or Precomputed, default=None
        ``X X^T`` if already computed, or a :class:`~sklearn_relubias.Precomputed` of X.

    Returns
    -------
    float

    Examples
    --------
    >>> from sklearn_relubias.datasets import make_high_dim_regression
    >>> from sklearn_relubias.experiments import critical_learning_rate
    >>> n, d = 20, 2000
    >>> X, _ = make_high_dim_regression(n, d, random_state=0)
    >>> isotropic = 2 * (1 + (n / d) ** 0.5) ** 2 * (n / (2 * d)) ** 0.5  # lambda_max/d, R = d
    >>> bool(abs(critical_learning_rate(X) / isotropic - 1) < 0.1)
    True
    """
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    if n < 2:
        raise ValueError("critical_learning_rate needs at least two examples.")
    model = _relu_model(n_neurons, output_weights)
    data = as_precomputed(gram_matrix, X)
    K = data.gram()
    diag = np.mean(np.diag(K))
    off = K[~np.eye(n, dtype=bool)]
    R = diag**2 / np.mean(off**2)
    ratio = data._spectrum().top() / diag
    a2 = float(model.output_weights @ model.output_weights)
    return float(max(a2 / s * ratio * np.sqrt(n / (2 * R)) for _, _, s in _sign_groups(model)))


# ---------------------------------------------------------------------------
# Gradient-flow limit
# ---------------------------------------------------------------------------


@dataclass
class ExtrapolationResult:
    """Richardson extrapolation to step zero; see :func:`richardson_extrapolation`.

    Attributes
    ----------
    limit : float
        The extrapolated value at step zero (highest order used).
    uncertainty : float
        ``|limit - lower-order limit|``: the change from the last order.
    tableau : ndarray of shape (n_steps, n_steps)
        ``tableau[k, j]`` is the order-``j`` extrapolation from steps
        ``k - j .. k`` (NaN above the diagonal).
    learning_rates : ndarray of shape (n_steps,)
    gaps : ndarray of shape (n_steps,)
        The values extrapolated.
    order : int
        Order of ``limit`` (the number of power terms removed).
    """

    limit: float
    uncertainty: float
    tableau: np.ndarray = field(repr=False)
    learning_rates: np.ndarray
    gaps: np.ndarray
    order: int


def richardson_extrapolation(learning_rates, values, *, order=None):
    """Extrapolate ``g(h) = g0 + c1 h + c2 h^2 + ...`` to ``h = 0`` from a geometric sequence.

    With ``h_k = h_0 / r^k`` the Richardson tableau is
    ``T[k, 0] = g(h_k)``, ``T[k, j] = T[k, j-1] + (T[k, j-1] - T[k-1, j-1]) /
    (r^j - 1)``; ``T[k, j]`` cancels the terms ``h^1 .. h^j``, so ``p``
    values recover a polynomial of degree ``p - 1`` exactly. The estimate is
    ``T[-1, order]`` and its uncertainty ``|T[-1, order] - T[-1, order - 1]|``.

    Parameters
    ----------
    learning_rates : array-like of shape (n_steps,)
        Decreasing geometric sequence (e.g. 0.2, 0.1, 0.05, 0.025), at
        least two values.
    values : array-like of shape (n_steps,)
        ``g`` at those steps.
    order : int, default=None
        Extrapolation order, at most ``n_steps - 1`` (the default).

    Returns
    -------
    ExtrapolationResult

    Examples
    --------
    >>> from sklearn_relubias.experiments import richardson_extrapolation
    >>> h = [0.2, 0.1, 0.05]
    >>> res = richardson_extrapolation(h, [1 + 2 * x + 3 * x**2 for x in h])
    >>> round(res.limit, 12), round(res.uncertainty, 6)  # order 1 misses c2 h1 h2 = 0.015
    (1.0, 0.015)
    """
    h = np.asarray(learning_rates, dtype=np.float64)
    g = np.asarray(values, dtype=np.float64)
    if h.ndim != 1 or h.shape != g.shape or h.size < 2:
        raise ValueError("learning_rates and values need the same length, at least 2.")
    ratios = h[:-1] / h[1:]
    if np.any(h <= 0) or np.any(ratios <= 1) or not np.allclose(ratios, ratios[0], rtol=1e-9):
        raise ValueError(f"learning_rates must be a decreasing geometric sequence, got {h}.")
    order = h.size - 1 if order is None else int(order)
    if not 1 <= order <= h.size - 1:
        raise ValueError(f"order must be in [1, {h.size - 1}], got {order}.")
    r = ratios[0]
    T = np.full((h.size, h.size), np.nan)
    T[:, 0] = g
    for j in range(1, h.size):
        for k in range(j, h.size):
            T[k, j] = T[k, j - 1] + (T[k, j - 1] - T[k - 1, j - 1]) / (r**j - 1)
    limit = float(T[-1, order])
    return ExtrapolationResult(
        limit=limit,
        uncertainty=float(abs(limit - T[-1, order - 1])),
        tableau=T,
        learning_rates=h,
        gaps=g,
        order=order,
    )


def gradient_flow_limit(
    X,
    y,
    *,
    learning_rates=(0.2, 0.1, 0.05, 0.025),
    metric="min_norm_gap",
    order=None,
    estimator_params=None,
    gram=None,
):
    """Fit at a geometric sequence of learning rates and extrapolate the gap to zero.

    Gradient descent with a vanishing step follows gradient flow, so the
    extrapolated gap is the gap of gradient flow's limit to ``W*``. It is
    zero on orthogonal inputs (where the relative gap is exactly
    ``learning_rate / 2`` for the balanced pair) and, by :func:`predict_gap`, whenever the
    first-step picture holds; a positive limit measures what examples that
    left the kink leave behind (at small ``d/n``). The gap is only piecewise
    smooth in the step (the activation history changes at some steps), so
    read ``uncertainty`` before the limit, and read it as a lower bound on the
    error: on 20 data sets with ``n = 20``, ``d/n = 100`` (+/- pair, +/-1
    labels) the limits scatter over [-3e-4, 3e-4] around 0, 12 of them
    negative, while the reported uncertainty is about 4e-5, and the exact
    flow's floor there is positive on all 20 (median 4e-5, up to 7e-4).
    Extrapolation cannot see a floor below its resolution: for the limit
    itself use :func:`gradient_flow`, which integrates the flow exactly.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Inputs.
    y : ndarray of shape (n_samples,)
        Targets.
    learning_rates : array-like, default=(0.2, 0.1, 0.05, 0.025)
        Decreasing geometric sequence.
    metric : {'min_norm_gap', 'min_norm_distance'}, default='min_norm_gap'
        Relative or absolute gap.
    order : int, default=None
        Extrapolation order (default: all steps).
    estimator_params : dict, default=None
        Further parameters of :class:`~sklearn_relubias.ShallowReLURegressor`,
        on top of :data:`~sklearn_relubias.PAPER_MODEL` with
        ``max_iter=200000``.
    gram : ndarray or Precomputed, default=None
        ``X X^T`` or a :class:`~sklearn_relubias.Precomputed` of X. Every
        fit shares it, so ``K`` is formed and decomposed, and ``W*`` solved,
        once for all the learning rates.

    Returns
    -------
    ExtrapolationResult

    Examples
    --------
    >>> from sklearn_relubias.datasets import make_orthogonal_regression
    >>> from sklearn_relubias.experiments import gradient_flow_limit
    >>> X, y = make_orthogonal_regression(10, 100, random_state=0)
    >>> res = gradient_flow_limit(X, y, learning_rates=[0.2, 0.1])
    >>> res.gaps.round(6).tolist(), round(res.limit, 6) + 0.0
    ([0.1, 0.05], 0.0)
    """
    if metric not in ("min_norm_gap", "min_norm_distance"):
        raise ValueError(f"metric must be 'min_norm_gap' or 'min_norm_distance', got {metric!r}.")
    params = {**PAPER_MODEL, "max_iter": 200_000, **(estimator_params or {})}
    params.pop("learning_rate", None)
    X = np.asarray(X, dtype=np.float64)
    data = as_precomputed(gram, X)  # K, its spectrum and W* once for every learning rate
    gaps = [
        float(
            getattr(
                ShallowReLURegressor(**params, learning_rate=lr).fit(X, y, gram=data), metric + "_"
            )
        )
        for lr in learning_rates
    ]
    return richardson_extrapolation(learning_rates, gaps, order=order)
