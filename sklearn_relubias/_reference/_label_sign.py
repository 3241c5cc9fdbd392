"""The ReLU model's reference: the minimum-norm interpolant within the label-sign region.

Neurons with ``a_j > 0`` share the single-neuron solution ``u+`` for ``y``,
neurons with ``a_j < 0`` the one for ``-y``, in proportion to ``|a_j|``:
``w_j = |a_j| u / sum_{k in group} a_k^2``. The program only depends on
which sample weights are positive (its constraints do not change when a row
is scaled): rows with zero weight are dropped and the weights only enter the
surrogate of an infeasible program, weighted like the loss. With fewer
examples than features each single-neuron program is solved in the dual, on the Gram
matrix (:func:`~sklearn_relubias._reference._dual_qp.solve_min_norm`);
otherwise on the weights
(:func:`~sklearn_relubias._reference._primal_qp.solve_min_norm_primal`,
memory ``O(n d + d^2)``, never an ``n x n`` object), both groups sharing one
row operator.
"""

import numpy as np
from scipy import linalg, sparse

from .._linalg import gram as form_gram
from .._linalg import pre_activations
from ._common import MinNormFit
from ._dual_qp import DualFactor, solve_min_norm
from ._primal_qp import RowOperator, solve_min_norm_primal


def solve(
    model,
    X,
    y,
    *,
    sample_weight=None,
    gram=None,
    spectrum=None,
    tol=1e-12,
    dual_coef=True,
    memory,
):
    """Minimum-norm weights, coefficients and pattern for ``model`` (ReLU) on ``(X, y)``.

    See :func:`sklearn_relubias._reference.solve` for the parameters.
    ``dual_coef`` on the dual path are the program's multipliers (the
    identity ``weights == dual_coef.T @ X`` holds to about ``cond(X) eps``
    relative when X is ill-conditioned); on the primal path the minimum-norm
    such coefficients. ``active`` marks the rows each neuron fits with a
    positive value, read from the program's structure (rows on the kink
    ``<w, x_i> = 0`` are inactive, whatever the sign rounding gives them).
    """
    n = y.shape[0]
    d = np.inf if X is None else X.shape[1]
    if n >= d:
        return _primal(model, X, y, sample_weight, tol, dual_coef)
    if sample_weight is not None and not np.all(sample_weight > 0):
        return _dropping_zero_weights(model, X, y, sample_weight, gram, tol, memory)
    K = form_gram(X) if gram is None else gram
    factor = DualFactor(K, X, spectrum=spectrum, memory=memory)
    a = model.output_weights
    coef = np.zeros((n, a.shape[0]))
    weights = None if X is None else np.zeros((a.shape[0], d))
    active = np.zeros(coef.shape, dtype=bool)
    n_iter, interpolates, kkt, routes = 0, True, 0.0, []
    for sign, group, share in model.groups():
        sol = solve_min_norm(sign * y, K, factor=factor, tol=tol, sample_weight=sample_weight)
        n_iter += sol.n_iter
        interpolates &= sol.interpolates
        kkt = max(kkt, sol.kkt)  # measured on the original program, with products by X
        routes.append(sol.route)
        coef[:, group] = np.outer(sol.coef, share)
        if weights is not None:
            # X^T c on the "gram" route; from X's orthogonal factor otherwise (X^T c is
            # then accurate to cond(X) eps normwise only, see _dual_qp)
            weights[group] = np.outer(share, sol.weights)
        active[:, group] = (sol.equality & (sol.targets > 0))[:, None]
    route = ",".join(dict.fromkeys(routes))  # one per group, in order, without repeats
    return MinNormFit(weights, coef, active, n_iter, bool(interpolates), kkt, route)


def _primal(model, X, y, sample_weight, tol, with_dual_coef):
    """Solve the program on the weights (``n_samples >= n_features``)."""
    a = model.output_weights
    op = RowOperator(X)  # shared by both groups
    weights = np.zeros((a.shape[0], X.shape[1]))
    active = np.zeros((X.shape[0], a.shape[0]), dtype=bool)
    n_iter, interpolates, kkt = 0, True, 0.0
    for sign, group, share in model.groups():
        sol = solve_min_norm_primal(op, sign * y, sample_weight=sample_weight, tol=tol)
        n_iter += sol.n_iter
        interpolates &= sol.interpolates
        kkt = max(kkt, sol.kkt)
        weights[group] = np.outer(share, sol.weights)
        active[:, group] = (sol.equality & (sol.targets > 0))[:, None]
    dual_coef = span_coefficients(X, weights) if with_dual_coef else None
    return MinNormFit(weights, dual_coef, active, n_iter, bool(interpolates), kkt, "primal")


def _dropping_zero_weights(model, X, y, sample_weight, gram, tol, memory):
    """Solve the program on the rows with positive weight (the others are not fitted).

    The interpolating program only depends on which weights are positive, so
    the rows are not rescaled: the weights only enter the surrogate of an
    infeasible program. Rows with zero weight get zero coefficients and the
    pattern of the solution.
    """
    keep = np.flatnonzero(sample_weight > 0)
    K_keep = None if gram is None else gram[np.ix_(keep, keep)]
    fit = solve(
        model,
        X[keep],
        y[keep],
        sample_weight=sample_weight[keep],
        gram=K_keep,
        tol=tol,
        memory=memory,
    )
    dual_coef = np.zeros((X.shape[0], model.n_neurons))
    dual_coef[keep] = fit.dual_coef
    active = pre_activations(X, fit.weights) > 0
    active[keep] = fit.active
    return fit._replace(dual_coef=dual_coef, active=active)


def span_coefficients(X, W):
    """Minimum-norm ``C`` (n_samples, n_neurons) with ``W == C.T @ X``, if W is in X's row space.

    Dense X: least squares on ``X^T`` (an SVD, memory ``O(n d)``). Sparse X
    (never densified): ``C = X Z`` with ``X^T X Z = W^T``, solved on the
    column-equilibrated normal equations (``d x d``, an eigendecomposition)
    and refined twice against the residual ``W^T - X^T C``, so that badly
    scaled columns (1e4 beside 1e-4) keep the identity to rounding.
    """
    if not sparse.issparse(X):
        return linalg.lstsq(np.asarray(X, dtype=np.float64).T, W.T)[0]
    X = X.tocsr().astype(np.float64)
    H = (X.T @ X).toarray()
    col = np.sqrt(np.diag(H))
    col[col == 0] = 1.0
    lam, V = np.linalg.eigh(H / np.outer(col, col))
    big = lam > np.finfo(float).eps * max(X.shape) * max(lam[-1], 0.0)
    Vb, inv = V[:, big], 1.0 / lam[big]

    def solve(R):  # Z with (X^T X) Z = R, pseudo-inverse on the equilibrated matrix
        return (Vb @ (inv[:, None] * (Vb.T @ (R / col[:, None])))) / col[:, None]

    C = np.asarray(X @ solve(W.T))
    for _ in range(2):
        C += np.asarray(X @ solve(W.T - np.asarray(X.T @ C)))
    return C
