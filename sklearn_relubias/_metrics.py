"""Distances between solutions, and the public faces of the references and model rules.

:mod:`sklearn_relubias.metrics` re-exports these. The references themselves
are solved in :mod:`sklearn_relubias._reference`, the model's rules live in
:mod:`sklearn_relubias._model`; the functions here take plain arrays
(``X``, ``y``, output weights ``a``) for use outside the estimators.
"""

import numpy as np

from . import _reference
from ._model import Model
from ._reference import _least_squares


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


def _model(a, activation="relu"):
    return Model.from_params(activation, np.asarray(a, dtype=np.float64))


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
    activation : {'relu', 'linear'}, default='relu'
        The model's activation, which names the program.

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
    return _reference.solve(
        _model(a, activation),
        X,
        np.asarray(y, dtype=np.float64),
        sample_weight=sample_weight,
        gram=gram_matrix,
        tol=tol,
        dual_coef=dual_coef,
    )


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
