"""Distances between solutions, and the public faces of the references and model rules.

:mod:`sklearn_relubias.metrics` re-exports these. The references themselves
are solved in :mod:`sklearn_relubias._reference`, the model's rules live in
:mod:`sklearn_relubias._model`; the functions here take plain arrays
(``X``, ``y``, output weights ``a``) for use outside the estimators.
"""

from numbers import Real

import numpy as np
from scipy import linalg
from sklearn.utils import check_array, column_or_1d
from sklearn.utils.validation import check_is_fitted

from . import _reference
from ._linalg import gram, pre_activations, span
from ._model import ACTIVATIONS, Model, clearly_outside
from ._reference import _global, _least_squares, _region
from ._rescale import normalise_weights
from .utils._sklearn_compat import _check_sample_weight, validate_data


def _norm(A):
    """``(||A||_F / s, s)`` with ``s = max|A|``: finite and free of underflow at any scale."""
    scale = float(np.max(np.abs(A), initial=0.0))
    if scale == 0.0 or not np.isfinite(scale):
        return (0.0 if scale == 0.0 else np.inf), 1.0
    return float(np.linalg.norm(A / scale)), scale


def distance(W, W_ref):
    """``||W - W_ref||_F``: the absolute distance, in the data's units."""
    unit, scale = _norm(W - W_ref)
    with np.errstate(over="ignore"):
        return unit * scale


def relative_distance(W, W_ref):
    """``||W - W_ref||_F / ||W_ref||_F``; ``inf`` when ``W_ref = 0`` and ``W`` is not.

    Each norm is taken at its own scale, so the ratio is exact to rounding
    even when one of them would underflow or overflow on its own (a
    reference near ``1e-170`` beside weights near ``1e-3``). The relative
    gap never falls back to another quantity: 0 when ``W = W_ref = 0``.
    """
    dist, dist_scale = _norm(W - W_ref)
    ref, ref_scale = _norm(W_ref)
    if dist == 0.0:
        return 0.0
    if ref == 0.0:
        return np.inf
    with np.errstate(over="ignore", under="ignore"):
        return float(dist / ref * (dist_scale / ref_scale))


def _model(a, activation="relu", negative_slope=None):
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation={activation!r}; choose one of {sorted(ACTIVATIONS)}.")
    if negative_slope is not None and not (
        isinstance(negative_slope, Real)
        and not isinstance(negative_slope, bool)
        and 0.0 <= negative_slope <= 1.0
    ):
        raise ValueError(f"negative_slope must be a number in [0, 1], got {negative_slope!r}.")
    return Model.from_params(activation, np.asarray(a, dtype=np.float64), None, negative_slope)


def _data(X, y, region=None, n_neurons=None):
    """Validate ``(X, y)`` (finite, matching lengths) and a boolean ``region``."""
    X = check_array(X, accept_sparse=("csr", "csc"), dtype=(np.float64, np.float32))
    y = column_or_1d(y).astype(np.float64)
    if y.shape[0] != X.shape[0] or not np.all(np.isfinite(y)):
        raise ValueError(f"y must hold {X.shape[0]} finite targets, one per row of X.")
    if region is not None:
        region = _region.check_region(region, X.shape[0], n_neurons)
    return X, y, region


def min_norm_reference(
    X,
    y,
    a,
    *,
    sample_weight=None,
    gram_matrix=None,
    tol=1e-12,
    dual_coef=True,
    activation="relu",
    negative_slope=None,
    region=None,
    init=None,
):
    """Solve the minimum-norm program for output weights ``a``: weights, coefficients, pattern.

    For ReLU, neurons with ``a_j > 0`` share the single-neuron solution ``u+``
    for ``y``, neurons with ``a_j < 0`` the one for ``-y``, in proportion to
    ``|a_j|``: ``w_j = |a_j| u / sum_{k in group} a_k^2``; this is the
    minimum-norm interpolant within the label-sign region. With fewer
    examples than features the program is solved in the dual, on the Gram
    matrix; otherwise on the weights (memory ``O(n d + d^2)``, never an
    ``n x n`` object). For the linear activation the reference is the
    minimum-norm least-squares solution ``W* = a beta^T / ||a||^2``,
    ``beta = X^+ y``.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Inputs.
    y : ndarray of shape (n_samples,)
        Targets, float64.
    a : ndarray of shape (n_neurons,)
        Output weights.
    sample_weight : ndarray of shape (n_samples,), default=None
        Non-negative example weights. The interpolating program only sees
        which are positive (its constraints do not change when a row is
        scaled); the surrogate of a non-interpolating problem is weighted
        like the loss.
    gram_matrix : ndarray of shape (n_samples, n_samples), default=None
        ``X X^T`` if already computed (used by the dual path only).
    tol : float, default=1e-12
        Relative tolerance of the solver.
    dual_coef : bool, default=True
        Whether to return the data-span coefficients (on the primal path they
        cost a least-squares solve on ``X^T``; None when False there).
    activation : {'relu', 'leaky_relu', 'linear'}, default='relu'
        The model's activation, which names the program (``'leaky_relu'``:
        the minimum-norm interpolant within the label-sign region, solved
        as one convex program over all neurons).
    negative_slope : float in [0, 1], default=None
        The leaky ReLU's slope (None: 0.01).
    region : ndarray of shape (n_samples, n_neurons), dtype bool, default=None
        Solve within this activation region instead (True: ``<w_j, x_i> >=
        0`` asked, False: ``<= 0``), e.g. a gradient-descent fit's final
        ``activation_pattern_`` for the reference that follows it; any
        activation but ``'linear'``.
    init : ndarray of shape (n_neurons, n_features), default=None
        A start ``W0``: the init-relative reference, ``argmin ||W - W0||``
        over the interpolants within ``region`` (the label-sign region when
        None), e.g. a fit's ``init_hidden_weights_``; ``W - W0`` lies in the
        data span, ``W`` keeps ``W0``'s part outside it, and ``dual_coef``
        holds the coefficients of ``W - W0``. Any activation but
        ``'linear'`` (from a start, its reference is :func:`ntk_reference`).

    Returns
    -------
    MinNormFit
        ``weights`` (n_neurons, n_features); ``dual_coef`` (n_samples,
        n_neurons) with ``weights == dual_coef.T @ X`` (the multipliers on the
        dual path, where the identity holds to about ``cond(X) eps`` relative
        when X is ill-conditioned; the minimum-norm such coefficients on the
        primal path);
        ``active`` (n_samples, n_neurons), the rows each neuron fits with a
        positive value, read from the program's structure (rows on the kink
        ``<w, x_i> = 0`` are inactive, whatever the sign rounding gives them);
        ``n_iter``, solver iterations summed over the (at most two) groups;
        ``interpolates``, whether every group's program was feasible; ``kkt``,
        the largest relative KKT residual over the groups; ``route``, how it
        was solved.
    """
    model = _model(a, activation, negative_slope)
    X, y, region = _data(X, y, region, model.n_neurons)
    init = None if init is None else _start(init, model, X)
    if sample_weight is not None:
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
    return _reference.solve(
        model,
        X,
        y,
        sample_weight=sample_weight,
        gram=gram_matrix,
        tol=tol,
        dual_coef=dual_coef,
        region=region,
        init=init,
    )


def global_min_norm_reference(
    X,
    y,
    a,
    *,
    activation="relu",
    negative_slope=None,
    gram_matrix=None,
    max_regions=_global.GLOBAL_MAX_REGIONS,
    tol=1e-12,
):
    """Return the global minimum-norm interpolant, by exact enumeration of activation regions.

    Every interpolant of ``f(x) = sum_j a_j sigma(<w_j, x>)`` lies in some
    closed activation region, and within each the minimum-norm interpolant
    is a convex program (see ``region`` in :func:`min_norm_reference`): the
    smallest of them is the global one. The regions in which an example
    cannot reach its target's sign are skipped; the others (``2^(n m)`` at
    most) are all solved, so the search is for small problems: about 12
    examples for one neuron or the +/- ReLU pair (20-60 s at ``n = 12``).
    At ``d >> n`` it is the label-sign reference; at ``d/n <= 2`` it can be
    much smaller.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    a : ndarray of shape (n_neurons,)
    activation : {'relu', 'leaky_relu'}, default='relu'
    negative_slope : float in [0, 1], default=None
    gram_matrix : ndarray of shape (n_samples, n_samples), default=None
    max_regions : int, default=4096
        Refuse (ValueError naming the count) when more candidate regions
        would have to be solved.
    tol : float, default=1e-12

    Returns
    -------
    fit : MinNormFit
        As for :func:`min_norm_reference`, from the winning region
        (``route='global'``; ``interpolates`` False and ``weights`` None when
        no region admits an interpolant).
    n_regions : int
        The number of regions solved.
    """
    model = _model(a, activation, negative_slope)
    if model.negative_slope == 1.0:
        raise ValueError("activation='linear' has one region; use min_norm_reference.")
    X, y, _ = _data(X, y)
    n = X.shape[0]
    if gram_matrix is not None:
        gram_matrix = np.asarray(gram_matrix, dtype=np.float64)
        if gram_matrix.shape != (n, n) or not np.all(np.isfinite(gram_matrix)):
            raise ValueError(f"gram_matrix must be the finite ({n}, {n}) matrix X X^T.")
    return _global.solve(model, X, y, gram=gram_matrix, max_regions=max_regions, tol=tol)


def _start(W0, model, X):
    """Validate a start ``W0``: finite, of shape (n_neurons, n_features)."""
    W0 = np.asarray(W0, dtype=np.float64)
    if W0.shape != (model.n_neurons, X.shape[1]):
        raise ValueError(
            f"W0 must be finite of shape (n_neurons, n_features) = "
            f"({model.n_neurons}, {X.shape[1]}); got {W0.shape}."
        )
    if not np.all(np.isfinite(W0)):
        raise ValueError("W0 must be finite; it holds NaN or infinite entries.")
    return W0


def ntk_reference(X, y, a, W0, *, activation="relu", negative_slope=None, gram_matrix=None):
    """Return the lazy-training (NTK) interpolant ``W0 + J^T (J J^T)^+ (y - f(W0))``.

    ``J`` is the Jacobian of the outputs with respect to the hidden weights
    at the start ``W0``: row ``i`` holds ``a_j sigma'(<w0_j, x_i>) x_i`` in
    neuron ``j``'s block (``sigma'(0) = 1``). Gradient descent on the model
    linearised at ``W0`` converges to this point from ``W0``: the reference
    of a fit whose activation pattern barely moves (large ``init_scale``,
    many neurons). ``J J^T = K * (D D^T)`` with ``D_ij = a_j sigma'(p0_ij)``
    is formed from ``K = X X^T``: an ``n x n`` matrix.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
        Targets (without the intercept).
    a : ndarray of shape (n_neurons,)
    W0 : ndarray of shape (n_neurons, n_features)
        The initial hidden weights.
    activation, negative_slope
        As for :func:`min_norm_reference`.
    gram_matrix : ndarray of shape (n_samples, n_samples), default=None

    Returns
    -------
    W_ntk : ndarray of shape (n_neurons, n_features)
    """
    model = _model(a, activation, negative_slope)
    X, y, _ = _data(X, y)
    W0 = _start(W0, model, X)
    K = gram(X) if gram_matrix is None else gram_matrix
    P0 = pre_activations(X, W0)
    D = model.activation.derivative(P0) * model.output_weights
    residual = np.asarray(y, dtype=np.float64) - model.outputs(P0)
    gamma = linalg.lstsq(K * (D @ D.T), residual, cond=None)[0]
    return W0 + span(gamma[:, None] * D, X)


#: The default list of :func:`reference_gaps` includes 'global' up to this many regions
#: (about a second); asked for by name, up to 4096.
DEFAULT_GLOBAL_REGIONS = 256

#: The references :func:`reference_gaps` knows, in its default order.
REFERENCES = ("label_sign", "own_region", "init_relative", "ntk", "global")


def reference_gaps(estimator, X, y, *, references=REFERENCES, sample_weight=None):
    """Distances of a fitted network to the references, side by side.

    - ``'label_sign'``: the estimator's own reference (``min_norm_gap_``),
      the minimum-norm interpolant within the label-sign region (for
      ``activation='linear'`` the minimum-norm least-squares solution);
    - ``'own_region'``: the minimum-norm interpolant within the activation
      region gradient descent ended in (its final pre-activations' signs on
      the training data), the reference that follows the run (not for the
      linear activation, which has no regions);
    - ``'init_relative'``: the point of that region closest to the start,
      ``argmin ||W - W0||`` over its interpolants with ``W0 =
      init_hidden_weights_`` (equal to ``'own_region'`` from
      ``init='zero'``; not for the linear activation);
    - ``'ntk'``: :func:`ntk_reference` from the estimator's start
      ``init_hidden_weights_``;
    - ``'global'``: :func:`global_min_norm_reference`, the minimum-norm
      interpolant over all regions (small problems only: the default list
      includes it up to 256 candidate regions, about a second, e.g. the +/-
      ReLU pair with 8 nonzero targets, and skips it for the linear
      activation; asked for by name it runs up to 4096 regions, 20-60 s at
      ``n = 12``, and raises above).

    Parameters
    ----------
    estimator : fitted ShallowReLURegressor, or a fitted Pipeline ending in one
        (X then goes through the Pipeline's other steps first).
    X, y : the training data it was fitted on
        (the targets are taken as ``y - intercept_``).
    sample_weight : array-like of shape (n_samples,), default=None
        The fit's sample weights: rows with zero weight are not fitted by the
        references either (as for ``min_norm_gap_``).
    references : str or tuple of str, default=REFERENCES
        Which to compute; :data:`REFERENCES` is ``('label_sign',
        'own_region', 'init_relative', 'ntk', 'global')`` (the default skips ``'own_region'`` and
        ``'init_relative'`` for the linear activation, which has no regions;
        asking for them raises). All but ``'label_sign'`` form ``K = X X^T``
        (``n_samples^2`` floats, at any shape) and the region programs hold
        about ``10 (n_samples (n_neurons + 1))^2`` floats: research-sized
        problems.

    Returns
    -------
    dict
        ``{name: {'relative_gap', 'distance', 'interpolates', 'kkt',
        'same_region'}}``: ``||W - W_ref|| / ||W_ref||``, ``||W - W_ref||``,
        whether the reference interpolates (for ``'ntk'``: whether the
        network at that point does, which fails when the linearisation's
        pattern is not the network's), its KKT residual (NaN for ``'ntk'``;
        without an interpolant, e.g. a run with a stranded example, the
        surrogate's stationarity and how far its weights leave the region,
        not a certificate of interpolation)
        and whether gradient descent's final pre-activations lie in the
        reference's region: none clearly positive (above ``1e-2`` of its
        neuron's largest) where the region asks ``<= 0``, none clearly
        negative where it asks ``>= 0`` (always True for ``'own_region'``,
        NaN for ``'ntk'`` and the linear activation).

    Notes
    -----
    From a random start ``W`` keeps the part of ``W0`` outside the data
    span, which the minimum-norm interpolants do not have: at a large
    ``init_scale`` only the init-relative and NTK references, which keep
    it too, are near.
    """
    if hasattr(estimator, "steps"):  # a Pipeline: its last step, on the transformed X
        check_is_fitted(estimator)
        X = estimator[:-1].transform(X)
        estimator = estimator[-1]
    check_is_fitted(estimator, "hidden_weights_")
    if not hasattr(estimator, "init_hidden_weights_"):
        raise TypeError(
            f"reference_gaps needs a fitted ShallowReLURegressor (gradient descent's end "
            f"point), got {type(estimator).__name__}."
        )
    explicit = references is not REFERENCES
    references = (references,) if isinstance(references, str) else tuple(references)
    unknown = set(references) - set(REFERENCES)
    if unknown:
        raise ValueError(f"Unknown references {sorted(unknown)}; choose from {list(REFERENCES)}.")
    X = validate_data(estimator, X, reset=False, accept_sparse=("csr", "csc"), dtype=np.float64)
    y = np.asarray(y, dtype=np.float64) - estimator.intercept_
    if y.shape != (X.shape[0],):
        raise ValueError(f"y has shape {y.shape}; expected ({X.shape[0]},).")
    sw = (
        None
        if sample_weight is None
        else normalise_weights(
            _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        )
    )
    model = estimator._fitted_model()
    a = estimator.output_weights_
    # with hidden biases, the programs on [X, c 1] and the weights [W, b / c]
    X, W, W0 = estimator._augmented(
        X,
        (estimator.hidden_weights_, estimator.hidden_biases_),
        (estimator.init_hidden_weights_, estimator.init_hidden_biases_),
    )
    slope = model.negative_slope
    P = pre_activations(X, W)
    needs_gram = X.shape[0] < X.shape[1] or set(references) - {"label_sign"}
    K = gram(X) if needs_gram else None  # n x n: the lifted and the NTK programs need it
    out = {}
    for name in references:
        if name == "ntk":
            W_ref = ntk_reference(
                X,
                y,
                a,
                W0,
                activation=estimator.activation,
                negative_slope=slope,
                gram_matrix=K,
            )
            fitted = model.forward(X, W_ref)
            ok = bool(np.allclose(fitted, y, rtol=0, atol=1e-8 * max(np.abs(y).max(), 1e-300)))
            out[name] = _row(W, W_ref, ok, np.nan, np.nan)
            continue
        if name == "global":
            fitted_y = y if sw is None else y[sw > 0]  # zero-weight rows are not fitted
            small = _global.count_regions(model, fitted_y) <= DEFAULT_GLOBAL_REGIONS
            if not explicit and (slope == 1.0 or not small):
                continue  # the default list: only where the enumeration is exact and small
            if slope == 1.0:
                raise ValueError("'global' has no meaning for activation='linear'.")
            fit, _ = _global.solve(model, X, y, gram=K, sample_weight=sw)
            found = fit.weights is not None  # some region interpolates
            same = _within(P, pre_activations(X, fit.weights) > 0) if found else np.nan
            out[name] = _row(W, fit.weights, fit.interpolates, fit.kkt, same)
            continue
        if name in ("own_region", "init_relative") and slope == 1.0:
            if explicit:
                raise ValueError(f"{name!r} has no meaning for activation='linear'.")
            continue  # the default list: the linear model has no regions
        region = None if name == "label_sign" else P > 0
        init = W0 if name == "init_relative" else None
        fit = _reference.solve(model, X, y, gram=K, region=region, sample_weight=sw, init=init)
        asked = region if region is not None else _region.label_sign_region(model, y)
        same = np.nan if slope == 1.0 else _within(P, asked)  # linear: no regions
        out[name] = _row(W, fit.weights, fit.interpolates, fit.kkt, same)
    return out


def _within(P, region):
    """Whether no pre-activation of ``P`` is clearly on the other side than ``region`` asks."""
    scale = np.max(np.abs(P), axis=0, initial=0.0)
    return not bool(np.any(clearly_outside(P, region, scale)))


def _row(W, W_ref, interpolates, kkt, same_region):
    none = W_ref is None  # no reference point (no region interpolates)
    return {
        "relative_gap": np.nan if none else relative_distance(W, W_ref),
        "distance": np.nan if none else distance(W, W_ref),
        "interpolates": interpolates,
        "kkt": kkt,
        "same_region": same_region,
    }


def active_least_squares_weights(X, W, *, gram_matrix=None):
    """Minimum-norm linear fit of each neuron's own values on GD's own final active set.

    For neuron ``j`` with active set ``A = {i : <w_j, x_i> > 0}`` this is
    ``argmin ||v||`` s.t. ``<v, x_i> = <w_j, x_i>`` for ``i`` in ``A``, i.e.
    ``v = X_A^T K_AA^+ X_A w_j``: the reference that ignores the sign
    constraints on the inactive examples. ``W`` minus this reference is what
    gradient descent kept from the examples it stopped fitting.

    The active set is the one gradient descent ended with, so a run that left
    an example stranded (inactive for every neuron that could fit it, see
    :func:`stranded_examples`) drags this reference with it. To compare the
    minimum-norm solution with a reference that does not depend on the run,
    use :func:`label_sign_least_squares_weights`.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Training inputs.
    W : ndarray of shape (n_neurons, n_features)
        Hidden weights.
    gram_matrix : ndarray of shape (n_samples, n_samples), default=None
        Gram matrix ``X X^T`` if already computed.

    Returns
    -------
    W_ls : ndarray of shape (n_neurons, n_features)
    """
    return _least_squares.active_least_squares_weights(X, W, gram=gram_matrix)


def label_sign_least_squares_weights(X, y, a, *, gram_matrix=None):
    """Minimum-norm linear interpolant of the examples each neuron can fit, by label sign.

    A neuron with output weight ``a_j > 0`` can only produce positive outputs,
    so the examples it can fit are ``F+ = {i : y_i > 0}``; one with ``a_j < 0``
    fits ``F- = {i : y_i < 0}`` (``y_i a_j > 0`` in both cases). As in
    :func:`min_norm_reference`, the neurons of a sign group share one vector:
    ``w_j = |a_j| u / sum_{k in group} a_k^2``, with ``u`` the minimum-norm
    solution of ``<u, x_i> = sign(a_j) y_i`` for ``i`` in the group's set,
    i.e. ``u = X_F^+ (sign(a_j) y_F)``. The sign constraints
    ``<u, x_i> <= 0`` on the other examples are dropped: this is the
    minimum-norm program of the label-sign region without its inequalities,
    so it equals ``W*`` whenever those happen to hold, and it does not depend
    on any gradient-descent run (unlike
    :func:`active_least_squares_weights`, which uses the run's final active
    set).

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Training inputs.
    y : ndarray of shape (n_samples,)
        Targets.
    a : ndarray of shape (n_neurons,)
        Output weights (nonzero).
    gram_matrix : ndarray of shape (n_samples, n_samples), default=None
        ``X X^T`` if already computed; used only when
        ``n_samples < n_features``. With ``n_samples >= n_features`` the fit
        is a least-squares solve on the rows of X (memory ``O(n d)``, never
        an ``n x n`` object).

    Returns
    -------
    W_ls : ndarray of shape (n_neurons, n_features)
        Zero rows for a group whose set of examples is empty.
    """
    return _least_squares.label_sign_least_squares_weights(_model(a), X, y, gram=gram_matrix)


def training_loss(X, y, W, a, *, activation="relu"):
    """``1/(2n) sum_i (f(x_i) - y_i)^2``."""
    return _model(a, activation).training_loss(X, y, W)


def unfittable_rows(X, y, a, sample_weight=None, *, activation="relu"):
    """Return the indices of all-zero rows of X that some neuron group must fit.

    ``<w, 0> = 0`` for every ``w``, so an example with ``x_i = 0`` and
    ``y_i > 0`` (``< 0``) is out of reach of the ReLU neurons with positive
    (negative) output weights, whose label-sign region must fit it (for the
    linear activation: any nonzero target); rows with zero sample weight do
    not count. Such rows are why no interpolant exists.
    """
    return _model(a, activation).unfittable_rows(X, y, sample_weight)


def stranded_examples(y, a, active, *, activation="relu"):
    """Return the indices of examples no neuron that could fit them is active on.

    An example with ``y_i > 0`` (``< 0``) can only be fitted by a ReLU neuron
    with a positive (negative) output weight; if none of those is active on
    it, its gradient is zero for good, and a gradient-descent run that
    converged sits at a stationary point above the global minimum of the
    loss. With the linear activation no example is ever stranded.
    """
    return _model(a, activation).stranded_examples(y, active)


def min_linf_interpolant(X, y, a, region, *, activation="relu", negative_slope=None):
    """Return the interpolant of a region with the least largest weight, ``min max|W_jk|``.

    Sign-like steps (Adam's, per coordinate) are tied to the l-infinity
    geometry rather than the l2 one, so this is the natural reference to
    measure Adam's solution against. Within ``region`` the network is linear
    in ``W``, so the program is a linear program: minimise ``t`` subject to
    ``sum_j a_j s_ij <w_j, x_i> = y_i`` (``s_ij`` is 1 on active pairs and
    the activation's negative slope elsewhere), ``<w_j, x_i> >= 0`` on the
    active pairs and ``<= 0`` on the others (no sign constraints for the
    linear activation), and ``|W_jk| <= t``. It is solved with HiGHS
    (:func:`scipy.optimize.linprog`). Its minimiser is in general not unique
    (a face of the polytope); its value is.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    a : array-like of shape (n_neurons,)
        Output weights.
    region : array-like of shape (n_samples, n_neurons), dtype bool
        The activation region, e.g. ``X @ W.T > 0`` of a fit.
    activation : {'relu', 'leaky_relu', 'linear'}, default='relu'
    negative_slope : float, default=None
        For ``'leaky_relu'`` (0.01 when None).

    Returns
    -------
    result : dict
        ``'weights'`` (n_neurons, n_features), one minimiser; ``'norm'``,
        the least ``max|W_jk|``; ``'residual'``, ``max_i |f(x_i) - y_i|``
        of those weights divided by ``max|y|`` and ``'sign_violation'``, the
        largest pre-activation on the wrong side divided by the largest
        ``|<w_j, x_i>|``: both measured on the weights returned, not taken
        from the solver.

    Raises
    ------
    ValueError
        When no interpolant lies in ``region`` (the linear program is
        infeasible).
    """
    from scipy import optimize, sparse

    model = _model(a, activation, negative_slope)
    a = model.output_weights
    X, y, region = _data(X, y, region, a.shape[0])
    Xd = X.toarray() if sparse.issparse(X) else np.asarray(X, dtype=np.float64)
    n, d = Xd.shape
    m = a.shape[0]
    slope = model.negative_slope
    s = np.where(region, 1.0, slope)  # (n, m)
    # variables: vec(W) row by row (neuron j's d weights at j*d), then t
    A_eq = sparse.hstack([sparse.csr_matrix(Xd * (a[j] * s[:, j])[:, None]) for j in range(m)])
    A_eq = sparse.hstack([A_eq, sparse.csr_matrix((n, 1))]).tocsr()
    blocks = []
    if slope != 1.0:  # the pattern: -x_i.w_j <= 0 on active pairs, x_i.w_j <= 0 elsewhere
        for j in range(m):
            sign = np.where(region[:, j], -1.0, 1.0)
            row = [sparse.csr_matrix((n, d))] * m + [sparse.csr_matrix((n, 1))]
            row[j] = sparse.csr_matrix(Xd * sign[:, None])
            blocks.append(sparse.hstack(row))
    eye = sparse.identity(m * d, format="csr")
    t_col = sparse.csr_matrix(-np.ones((m * d, 1)))
    blocks += [sparse.hstack([eye, t_col]), sparse.hstack([-eye, t_col])]
    A_ub = sparse.vstack(blocks).tocsr()
    cost = np.zeros(m * d + 1)
    cost[-1] = 1.0
    bounds = [(None, None)] * (m * d) + [(0, None)]
    res = optimize.linprog(
        cost,
        A_ub=A_ub,
        b_ub=np.zeros(A_ub.shape[0]),
        A_eq=A_eq,
        b_eq=y,
        bounds=bounds,
        method="highs",
    )
    if res.status == 2:
        raise ValueError("No interpolant lies in this region: the linear program is infeasible.")
    if res.status != 0:
        raise RuntimeError(f"The linear program did not solve: {res.message}")
    W = res.x[:-1].reshape(m, d)
    P = Xd @ W.T
    f = (np.where(P >= 0, P, slope * P)) @ a
    scale = float(np.max(np.abs(P), initial=0.0)) or 1.0
    wrong = np.where(region, -P, P) if slope != 1.0 else np.zeros_like(P)
    return {
        "weights": W,
        "norm": float(np.max(np.abs(W), initial=0.0)),
        "residual": float(np.max(np.abs(f - y)) / max(float(np.max(np.abs(y))), 1e-300)),
        "sign_violation": float(max(np.max(wrong, initial=0.0), 0.0) / scale),
    }
