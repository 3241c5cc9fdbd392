"""Numba backend: a kernel for the Gram operator and one for X, sharing the per-step update.

Every kernel runs the same recursion on the pre-activations ``P = X W^T``
(shape ``(n_samples, n_neurons)``) for at most ``len(losses) - 1`` steps::

    D = (w * r)[:, None] * a[None, :] * (P >= 0)     # gradient coefficients
    S = X X^T D                                      # change of P per unit step
    P <- P - eta S,   C <- C - eta D                 # (primal: W <- W - eta D^T X)

with ``r`` the residuals and ``w`` the example weights (summing to one), so
that ``grad_j = X^T D[:, j]`` and ``||grad||_F^2 = <D, S>``. Only ``S``
depends on how X is held: the Gram matrix ``K`` (``gram_descent``), or dense
``X`` or its CSR arrays (``primal_descent``, compiled once per form).

Kernels only compute: they take float64 C-contiguous arrays, tuples and
scalars, update the state arrays in place, never raise, and say how they
stopped with one of the status codes below. A call can resume where the last
one stopped (the driver runs long fits in chunks): the gradient is recomputed
from ``P`` at the start, which reproduces the previous call's values exactly.

Arguments shared by the kernels:

model : tuple of ndarray
    ``(a, y, w)``: output weights (n_neurons,), targets (n_samples,) and
    example weights (n_samples,), summing to one (``1/n`` unweighted).
P, C : ndarray of shape (n_samples, n_neurons)
    In/out: pre-activations and data-span coefficients of the current iterate.
losses : ndarray of shape (budget + 1,)
    Out: ``losses[t]`` is the loss after ``t`` steps of this call.
events : ndarray of shape (capacity, 3), dtype int64
    Out: rows ``(t, i, j)`` for the first ``capacity`` changes of the
    activation pattern ``P > 0`` (step ``t`` of this call). ``(0, 3)`` records
    none.
settings : tuple of float
    ``(eta, tol, g_ref)``: step size; stop when ``||grad||_F <= tol * g_ref``
    (``g_ref < 0``: the gradient norm at the start of this call).

Each kernel returns ``(n_steps, status, last_change, n_events, g_start)``:
steps taken, a status code, the last step of this call at which the pattern
changed (0 if none), the number of pattern changes (recorded or not) and the
gradient norm at the start.
"""

import numpy as np
from scipy import sparse

from .._jit import inline, jit
from ._problem import GramOperator

CONVERGED = 0  # ||grad|| <= tol * g_ref
BUDGET = 1  # took every step this call allowed
NON_FINITE = 2  # the next iterate was not finite; the state holds the last finite one


@inline
def _evaluate(P, model, D, active, events, n_events, t):
    """Loss at ``P``; writes ``D`` and the pattern ``active = P > 0``, records its changes.

    Returns ``(loss, changed, n_events)``; the loss is ``nan`` when ``P`` is
    not finite.
    """
    a, y, w = model
    n, m = P.shape
    total = 0.0
    changed = False
    finite = True
    for i in range(n):
        f = 0.0
        for j in range(m):
            p = P[i, j]
            finite &= np.isfinite(p)
            if p > 0.0:
                f += a[j] * p
        r = f - y[i]
        total += w[i] * r * r
        for j in range(m):
            p = P[i, j]
            D[i, j] = w[i] * r * a[j] if p >= 0.0 else 0.0
            now = p > 0.0
            if now != active[i, j]:
                changed = True
                if n_events < events.shape[0]:
                    events[n_events, 0] = t
                    events[n_events, 1] = i
                    events[n_events, 2] = j
                n_events += 1
            active[i, j] = now
    if not finite:
        return np.nan, changed, n_events
    return 0.5 * total, changed, n_events


@inline
def _norm(D, S):
    """``sqrt(<D, S>)``: the Frobenius norm of the gradient."""
    n, m = D.shape
    sq = 0.0
    for i in range(n):
        for j in range(m):
            sq += D[i, j] * S[i, j]
    return np.sqrt(max(sq, 0.0))


@inline
def _move_weights(W, G, eta):
    """``W -= eta * G`` in place (primal paths)."""
    m, d = W.shape
    for j in range(m):
        for k in range(d):
            W[j, k] -= eta * G[j, k]


@inline
def _start(P, model, losses, events):
    """Buffers of a call and the loss at its first iterate.

    Returns ``(D, S, P_new, D_new, active, loss)``.
    """
    n, m = P.shape
    D, S = np.empty((n, m)), np.empty((n, m))
    P_new, D_new = np.empty((n, m)), np.empty((n, m))
    active = np.zeros((n, m), dtype=np.bool_)
    # n_events = capacity: nothing is recorded for the starting pattern
    loss, _, _ = _evaluate(P, model, D, active, events, events.shape[0], 0)
    losses[0] = loss
    return D, S, P_new, D_new, active, loss


@inline
def _try_step(P, S, C, D, P_new, D_new, model, eta, active, events, n_events, t):
    """Candidate ``P_new = P - eta S``, its loss and ``D_new``; ``C -= eta D`` if finite.

    Returns ``(loss, changed, n_events)``.
    """
    n, m = P.shape
    for i in range(n):
        for j in range(m):
            P_new[i, j] = P[i, j] - eta * S[i, j]
    loss, changed, n_new = _evaluate(P_new, model, D_new, active, events, n_events, t)
    if np.isfinite(loss):
        for i in range(n):
            for j in range(m):
                C[i, j] -= eta * D[i, j]
    return loss, changed, n_new


@inline
def _finish(P_out, P, t, status, last_change, n_events, g0):
    """Copy the final iterate into the caller's buffer when the last swap left it elsewhere.

    The loops swap the current and candidate buffers once per step, so the
    final iterate is in ``P_out`` exactly when ``t`` is even.
    """
    if t % 2 == 1:
        n, m = P.shape
        for i in range(n):
            for j in range(m):
                P_out[i, j] = P[i, j]
    return t, status, last_change, n_events, g0


@inline
def _csr_direction(data, indices, indptr, D, G, S):
    """``G = D^T X`` and ``S = X G^T`` for X given by CSR arrays."""
    n, m = D.shape
    G[:] = 0.0
    for i in range(n):
        for p in range(indptr[i], indptr[i + 1]):
            col, v = indices[p], data[p]
            for j in range(m):
                G[j, col] += D[i, j] * v
    for i in range(n):
        for j in range(m):
            acc = 0.0
            for p in range(indptr[i], indptr[i + 1]):
                acc += data[p] * G[j, indices[p]]
            S[i, j] = acc


@jit
def gram_descent(K, model, P, C, losses, events, settings):
    """Gradient descent in the data span, ``S = K D`` (``O(n^2 m)`` per step).

    K : ndarray of shape (n_samples, n_samples), the Gram matrix ``X X^T``.
    Other arguments and the return value: see the module docstring.
    """
    eta, tol, g_ref = settings
    P_out = P  # the loops swap buffers; the result goes back here
    D, S, P_new, D_new, active, loss = _start(P, model, losses, events)
    if not np.isfinite(loss):
        return 0, NON_FINITE, 0, 0, np.nan
    np.dot(K, D, S)
    g0 = g = _norm(D, S)
    gtol = tol * (g0 if g_ref < 0.0 else g_ref)
    t, status, last_change, n_events = 0, BUDGET, 0, 0
    while True:
        if g <= gtol:
            status = CONVERGED
            break
        if t == losses.shape[0] - 1:
            break
        loss, changed, n_events = _try_step(
            P, S, C, D, P_new, D_new, model, eta, active, events, n_events, t + 1
        )
        if not np.isfinite(loss):
            status = NON_FINITE
            break
        P, P_new, D, D_new = P_new, P, D_new, D
        t += 1
        losses[t] = loss
        last_change = t if changed else last_change
        np.dot(K, D, S)
        g = _norm(D, S)
    return _finish(P_out, P, t, status, last_change, n_events, g0)


@jit
def _primal_direction(X_parts, D, G, S):
    """``G = D^T X`` and ``S = X G^T``, for X given as ``(X,)`` (dense) or CSR arrays.

    Numba compiles one version per form: ``len(X_parts)`` is known when it
    types the call, and the branch of the other form is pruned.
    """
    if len(X_parts) == 1:
        X = X_parts[0]
        np.dot(D.T, X, G)
        np.dot(X, G.T, S)
    else:
        data, indices, indptr = X_parts
        _csr_direction(data, indices, indptr, D, G, S)


@jit
def primal_descent(X_parts, W, model, P, C, losses, events, settings):
    """Gradient descent on the weights: ``O(n d m)`` per step for dense X, ``O(nnz m)`` for CSR.

    X_parts : tuple ``(X,)`` with X of shape (n_samples, n_features), or the
        CSR arrays ``(data, indices, indptr)`` (float64, int64, int64).
    W : ndarray of shape (n_neurons, n_features), in/out hidden weights.
    Other arguments and the return value: see the module docstring.
    """
    eta, tol, g_ref = settings
    P_out = P  # the loops swap buffers; the result goes back here
    D, S, P_new, D_new, active, loss = _start(P, model, losses, events)
    if not np.isfinite(loss):
        return 0, NON_FINITE, 0, 0, np.nan
    G = np.empty_like(W)
    _primal_direction(X_parts, D, G, S)
    g0 = g = _norm(D, S)
    gtol = tol * (g0 if g_ref < 0.0 else g_ref)
    t, status, last_change, n_events = 0, BUDGET, 0, 0
    while True:
        if g <= gtol:
            status = CONVERGED
            break
        if t == losses.shape[0] - 1:
            break
        loss, changed, n_events = _try_step(
            P, S, C, D, P_new, D_new, model, eta, active, events, n_events, t + 1
        )
        if not np.isfinite(loss):
            status = NON_FINITE
            break
        _move_weights(W, G, eta)
        P, P_new, D, D_new = P_new, P, D_new, D
        t += 1
        losses[t] = loss
        last_change = t if changed else last_change
        _primal_direction(X_parts, D, G, S)
        g = _norm(D, S)
    return _finish(P_out, P, t, status, last_change, n_events, g0)


def descend(operator, W, model, P, C, losses, events, settings):
    """Run the kernel for ``operator`` (the backend's entry point for the driver).

    ``W`` is the hidden weights (in/out) for the primal operators and None
    for the Gram operator, which only updates the coefficients ``C``.
    """
    if isinstance(operator, GramOperator):
        return gram_descent(operator.gram, model, P, C, losses, events, settings)
    X = operator.X
    X_parts = (X.data, X.indices, X.indptr) if sparse.issparse(X) else (X,)
    return primal_descent(X_parts, W, model, P, C, losses, events, settings)
