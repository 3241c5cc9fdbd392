r"""The minimum-norm interpolant within a fixed activation region, for any slope.

A region fixes, for every example ``i`` and neuron ``j``, the side of the
kink the pre-activation ``p_ij = <w_j, x_i>`` lies on: ``s_ij = +1`` asks
``p_ij >= 0`` (slope 1), ``s_ij = -1`` asks ``p_ij <= 0`` (slope
``alpha``, the activation's negative slope). On it the network is linear in
``W`` and the program is convex::

    min sum_j ||w_j||^2  s.t.  sum_j a_j c_ij p_ij = y_i  (every i),
                               s_ij p_ij >= 0             (every i, j),

with ``c_ij = 1`` where ``s_ij = +1`` and ``alpha`` elsewhere. Stacking
``v = (w_1, ..., w_m)`` turns it into the single-neuron program of
:mod:`~sklearn_relubias._reference._dual_qp` on ``n (m + 1)`` lifted rows
``z`` (one equality row ``sum_j a_j c_ij e_j (x) x_i`` per example, flipped
when ``y_i < 0`` and written as two opposite inequalities when ``y_i = 0``,
and one inequality row ``-s_ij e_j (x) x_i`` per pair), whose Gram matrix
comes from ``K = X X^T``: the same exact active-set solver, KKT measured on
this program with fitted values recomputed from ``W`` by products with X.
The solution lies in the data span, ``w_j = sum_i beta_ij x_i``.

From a start ``W0`` (``init``), the init-relative program asks for
``min ||W - W0||`` instead, over the same region. Its constraints on
``V = W - W0`` are inhomogeneous (``s_ij (p0_ij + <v_j, x_i>) >= 0``, with
``p0 = X W0^T``): one more coordinate ``t`` with the equality row ``t = 1``
makes them homogeneous (each pair's row gains the entry ``-s_ij p0_ij`` in
``t``; ``t^2 = 1`` adds a constant to the objective), so the same solver
applies. ``W - W0`` lies in the data span; ``W`` keeps ``W0``'s part
outside it.

With one neuron and ``alpha > 0`` the label-sign region holds every
solution of ``X w = sigma_alpha^{-1}(y / a)``, so the reference is the
minimum-norm solution of that affine set (least squares); with ``alpha = 0``
the program is the ReLU label-sign program.
"""

from typing import NamedTuple

import numpy as np

from .._linalg import gram as form_gram
from .._linalg import pre_activations, span
from .._memory import MemoryPlan
from ._common import MinNormFit
from ._dual_qp import DualFactor, kkt_residual, solve_min_norm

# Copies of the lifted Gram matrix the program holds at its peak (the matrix, its
# blocks while it is built, the active-set solver's factor).
# Measured under ulimit -v: 1.9x four copies at the peak (LAPACK's SVD workspace on
# the rank-deficient route), so ten.
REGION_COPIES = 10
# Pre-activations within this fraction of their neuron's largest are on the kink.
KINK_RTOL = 1e-9


class _Lifted(NamedTuple):
    """The lifted program's rows: coefficients, targets and where each row comes from."""

    eq_coef: np.ndarray  # (n, m): equality row i is sum_j eq_coef[i, j] e_j (x) x_i
    flip: np.ndarray  # (n_eq_rows,): sign applied to equality row i (y_i < 0: -1)
    eq_rows: np.ndarray  # (n_eq_rows,): the example of each equality row (y_i = 0 twice)
    signs: np.ndarray  # (n, m): +1 / -1, the region


def check_region(region, n_samples, n_neurons):
    """Return ``region`` as an array, checked to be boolean of shape (n_samples, n_neurons)."""
    region = np.asarray(region)
    if region.dtype != bool or region.shape != (n_samples, n_neurons):
        raise ValueError(
            "region must be a boolean array of shape (n_samples, n_neurons) = "
            f"({n_samples}, {n_neurons}); got {region.dtype} of shape {region.shape}."
        )
    return region


def label_sign_region(model, y):
    """``(n, m)`` bool: the label-sign region, ``p_ij >= 0`` exactly where ``a_j y_i > 0``."""
    return np.outer(y, model.output_weights) > 0


def _lift(model, y, region):
    signs = np.where(region, 1.0, -1.0)
    c = np.where(region, 1.0, model.negative_slope)
    eq_coef = c * model.output_weights[None, :]
    zero = np.flatnonzero(y == 0)
    eq_rows = np.concatenate([np.arange(y.shape[0]), zero])
    flip = np.concatenate([np.where(y < 0, -1.0, 1.0), -np.ones(zero.size)])
    return _Lifted(eq_coef, flip, eq_rows, signs)


def _lifted_gram(K, lifted):
    """Gram matrix of the lifted rows (equality rows first, then the pairs ``(i, j)``)."""
    E, S, f, rows = lifted.eq_coef[lifted.eq_rows], lifted.signs, lifted.flip, lifted.eq_rows
    n, m = S.shape
    K_eq = K[np.ix_(rows, rows)]
    top_left = K_eq * (E @ E.T) * np.outer(f, f)
    # <eq_r, ineq_(k, l)> = -f_r E_rl s_kl K_rk
    cross = -(f[:, None, None] * E[:, None, :] * S[None, :, :]) * K[rows][:, :, None]
    N_eq = rows.size
    G = np.empty((N_eq + n * m, N_eq + n * m))
    G[:N_eq, :N_eq] = top_left
    G[:N_eq, N_eq:] = cross.reshape(N_eq, n * m)
    G[N_eq:, :N_eq] = G[:N_eq, N_eq:].T
    # <ineq_(i, j), ineq_(k, l)> = s_ij s_kl K_ik [j = l], written in place (a view)
    bottom = G[N_eq:, N_eq:].reshape(n, m, n, m)
    bottom[:] = 0.0
    for j in range(m):
        bottom[:, j, :, j] = np.outer(S[:, j], S[:, j]) * K
    return G


def _coefficients(coef, lifted):
    """``beta`` (n, m) with ``w_j = sum_i beta_ij x_i`` from the lifted multipliers."""
    S = lifted.signs
    n, m = S.shape
    N_eq = lifted.eq_rows.size
    beta = -coef[N_eq:].reshape(n, m) * S
    eq = (coef[:N_eq] * lifted.flip)[:, None] * lifted.eq_coef[lifted.eq_rows]
    np.add.at(beta, lifted.eq_rows, eq)
    return beta


def _lifted_fitted(P, lifted, P0=None):
    """Return the lifted rows' values at pre-activations ``P`` (from the start ``P0``).

    Equality rows take ``P - P0``, the pairs ``P`` itself (with ``t = 1``):
    the rows of the program as asked, whatever the solver's own ``t``.
    """
    moved = P if P0 is None else P - P0
    outputs = np.sum(lifted.eq_coef * moved, axis=1)[lifted.eq_rows] * lifted.flip
    return np.concatenate([outputs, (-lifted.signs * P).ravel()])


def _lifted_targets(y, lifted):
    """Equality rows: ``flip * y`` (positive, or 0 for the two rows of a zero target); pairs: 0."""
    t = np.zeros(lifted.eq_rows.size + lifted.signs.size)
    t[: lifted.eq_rows.size] = y[lifted.eq_rows] * lifted.flip
    return t


def _homogenised(G, targets, lifted, P0):
    """Add the coordinate ``t = 1`` of the init-relative program to the lifted rows.

    The pairs' rows gain ``-s_ij p0_ij`` in ``t``, one equality row ``t = 1``
    comes last: returns its Gram matrix and targets.
    """
    N = G.shape[0]
    e = np.zeros(N + 1)
    e[lifted.eq_rows.size : N] = (-lifted.signs * P0).ravel()
    e[N] = 1.0
    G_t = np.zeros((N + 1, N + 1))
    G_t[:N, :N] = G
    G_t += np.outer(e, e)
    return G_t, np.append(targets, 1.0)


def solve(
    model,
    X,
    y,
    *,
    region=None,
    sample_weight=None,
    gram=None,
    spectrum=None,
    tol=1e-12,
    dual_coef=True,
    memory=None,
    init=None,
):
    """Minimum-norm interpolant of ``model`` on ``(X, y)`` within ``region``.

    Parameters
    ----------
    region : ndarray of shape (n_samples, n_neurons), dtype bool, default=None
        True where ``p_ij >= 0`` is asked, False where ``p_ij <= 0``; None:
        the label-sign region (:func:`label_sign_region`).
    init : ndarray of shape (n_neurons, n_features), default=None
        A start ``W0``: minimise ``||W - W0||`` instead of ``||W||`` (needs
        X); ``dual_coef`` then holds the coefficients of ``W - W0``.

    See :func:`sklearn_relubias._reference.solve` for the others. Sample
    weights do not change the program (its constraints do not depend on
    them); rows with zero weight are not fitted.

    Returns
    -------
    MinNormFit
        ``active`` marks the pairs fitted with a positive value (in the
        region and above ``KINK_RTOL`` of the neuron's largest value);
        ``interpolates`` whether the program is feasible; ``kkt`` the
        largest violation of its optimality conditions, with the fitted
        values recomputed from the weights. When no interpolant exists in
        the region (``interpolates`` False, e.g. most ``n > d`` problems)
        the weights minimise the lifted surrogate, in which the region's
        signs are squared penalties like the targets: they may leave the
        region, ``active`` is then their own pattern (``> 0``) and ``kkt``
        is no certificate but at least the largest pre-activation on the
        wrong side of the region, relative to its neuron's largest.
    """
    y = np.asarray(y, dtype=np.float64)
    n, m = y.shape[0], model.n_neurons
    region = label_sign_region(model, y) if region is None else check_region(region, n, m)
    if sample_weight is not None and not np.all(sample_weight > 0):
        keep = np.flatnonzero(sample_weight > 0)
        K_keep = None if gram is None else gram[np.ix_(keep, keep)]
        X_keep = None if X is None else X[keep]
        fit = solve(
            model,
            X_keep,
            y[keep],
            region=region[keep],
            gram=K_keep,
            tol=tol,
            init=init,
            memory=memory,
        )
        beta, active = np.zeros((n, m)), np.zeros((n, m), dtype=bool)
        beta[keep], active[keep] = fit.dual_coef, fit.active
        return fit._replace(dual_coef=beta, active=active)
    K = form_gram(X) if gram is None else gram
    P0 = None
    if init is not None:
        if X is None:
            raise ValueError("The init-relative program needs X, not only its Gram matrix.")
        P0 = pre_activations(X, init)
        # the equality rows ask sum_j a_j c_ij <v_j, x_i> = y_i - (the region's model at W0)
        y = y - np.sum(np.where(region, 1.0, model.negative_slope) * model.output_weights * P0, 1)
    lifted = _lift(model, y, region)
    size = lifted.eq_rows.size + n * m + (init is not None)
    # checked against the caller's budget when it has one (read once, not per program)
    plan = MemoryPlan(None if memory is None else memory.budget)
    plan.add(
        f"The region program's {size} x {size} lifted Gram matrix and copies",
        REGION_COPIES * 8 * size * size,
        "use fewer n_neurons or fewer samples for this reference.",
    )
    plan.check()
    targets, G = _lifted_targets(y, lifted), _lifted_gram(K, lifted)
    if init is not None:
        G, targets = _homogenised(G, targets, lifted, P0)
    sol = solve_min_norm(targets, G, factor=DualFactor(G, memory=plan), tol=tol)
    coef = sol.coef if init is None else sol.coef[:-1]  # t's own row is no constraint of W
    targets = targets if init is None else targets[:-1]
    beta = _coefficients(coef, lifted)
    if X is None:
        P, weights = K @ beta, None
    else:
        weights = span(beta, X) if init is None else init + span(beta, X)
        P = pre_activations(X, weights)
    scale = np.max(np.abs(P), axis=0, initial=0.0)
    if sol.interpolates:  # measured on this program, from the weights
        kkt = kkt_residual(targets, _lifted_fitted(P, lifted, P0), coef)
        # fitted with a positive value: in the region and off the kink
        active = region & (P > KINK_RTOL * scale)
    else:
        # No interpolant in the region: the weights minimise the lifted surrogate, where
        # the region's signs are penalties like the targets, so they may leave the
        # region. kkt is then no certificate: it reports that departure (the largest
        # pre-activation on the wrong side, relative to its neuron's largest), at least
        # the surrogate's stationarity.
        wrong = np.maximum(-lifted.signs * P, 0.0) / np.where(scale > 0, scale, 1.0)
        kkt = max(sol.kkt, float(np.max(wrong, initial=0.0)))
        active = P > KINK_RTOL * scale  # the weights' own pattern
    return MinNormFit(weights, beta, active, sol.n_iter, bool(sol.interpolates), kkt, sol.route)
