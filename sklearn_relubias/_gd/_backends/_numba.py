"""Numba backend: one kernel loop for every operator form.

The kernel runs the same recursion on the pre-activations ``P = X W^T``
(shape ``(n_samples, n_neurons)``) for at most ``len(losses) - 1`` steps::

    D = (w * r)[:, None] * a[None, :] * sigma'(P)     # gradient coefficients
    S = X X^T D                                       # change of P per unit step
    P <- P - eta S,   C <- C - eta D                  # (primal: W <- W - eta D^T X)

with ``r`` the residuals, ``w`` the example weights (summing to one) and
``sigma'(p) = 1`` for ``p >= 0``, ``negative_slope`` below, so that
``grad_j = X^T D[:, j]`` and ``||grad||_F^2 = <D, S>``. Only ``S`` depends on
how X is held, the operator *form*: the Gram matrix ``K``
(``S = K D``), dense ``X`` (``G = D^T X``, ``S = X G^T``) or its CSR arrays.
The activation enters as its negative-side slope (0 for ReLU, 1 for the
linear model), branch-free: ``sigma(p) = p`` or ``slope * p``.

Kernels only compute: they take float64 C-contiguous arrays, tuples and
scalars, update the state arrays in place, never raise, and say how they
stopped with one of the status codes of :mod:`sklearn_relubias._gd._backends`.
A call can resume where the last one stopped (the driver runs long fits in
chunks): the gradient is recomputed from ``P`` at the start, which
reproduces the previous call's values exactly.

Arguments of :func:`descend`:

M : ndarray
    The operator: ``K`` (n_samples, n_samples) for the Gram form, X
    (n_samples, n_features) for the dense form, or the CSR data (nnz,).
csr : tuple of ndarray
    ``(indices, indptr)`` (int64) of CSR X; empty for the other forms.
W : ndarray
    In/out hidden weights (n_neurons, n_features) on the primal forms; an
    empty 1-d array on the Gram form, which only updates ``C``.
model : tuple of ndarray
    ``(a, y, w)``: output weights (n_neurons,), targets (n_samples,) and
    example weights (n_samples,), summing to one (``1/n`` unweighted).
state : tuple of ndarray
    ``(P, C)``, each (n_samples, n_neurons), in/out: pre-activations and
    data-span coefficients of the current iterate.
out : tuple of ndarray
    ``(losses, events)``. ``losses`` (budget + 1,): ``losses[t]`` is the loss
    after ``t`` steps of this call. ``events`` (capacity, 3), int64: rows
    ``(t, i, j)`` for the first ``capacity`` changes of the activation
    pattern ``P > 0`` (step ``t`` of this call); ``(0, 3)`` records none.
settings : tuple of float
    ``(eta, tol, g_ref, negative_slope, k_fro)``: step size; stop when
    ``||grad||_F <= tol * g_ref`` (``g_ref < 0``: the gradient norm at the
    start of this call); the activation; ``||K||_F`` on the Gram form (0
    otherwise). On the Gram form ``||grad||^2 = <D, K D>`` is computed with
    an error up to about ``n eps ||K||_F ||D||_F^2`` (``D`` in the near-null
    space of a singular ``K``: duplicated rows, centred X): when the computed
    value falls within 100 times that floor while ``tol * g_ref`` lies below
    it, the kernel stops with ``FLOOR`` rather than decide what it cannot
    resolve (the driver goes on with X itself).

The form is read from the arguments' dimensions (``W.ndim``, ``M.ndim``),
which Numba knows when it compiles: each form compiles to its own
specialisation holding only its branch.

It returns ``(n_steps, status, last_change, n_events, g_start)``: steps
taken, a status code, the last step of this call at which the pattern
changed (0 if none), the number of pattern changes (recorded or not) and the
gradient norm at the start.
"""

import numpy as np

from ..._jit import inline, jit
from ..._linalg import span
from . import BUDGET, CONVERGED, FLOOR, NON_FINITE

EPS = np.finfo(np.float64).eps

FORMS = ("gram", "dense", "csr")


def supports(form, negative_slope, optimizer):
    """Every operator form and piecewise-linear activation, with plain gradient descent."""
    return form in FORMS and 0.0 <= negative_slope <= 1.0 and optimizer == "gd"


@inline
def _evaluate(P, model, slope, D, active, events, n_events, t):
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
            f += a[j] * (p if p > 0.0 else slope * p)
        r = f - y[i]
        total += w[i] * r * r
        for j in range(m):
            p = P[i, j]
            D[i, j] = w[i] * r * a[j] * (1.0 if p >= 0.0 else slope)
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
    """``(sqrt(<D, S>), ||D||_F^2)``: the Frobenius norm of the gradient, and D's size."""
    n, m = D.shape
    sq, dsq = 0.0, 0.0
    for i in range(n):
        for j in range(m):
            sq += D[i, j] * S[i, j]
            dsq += D[i, j] * D[i, j]
    return np.sqrt(max(sq, 0.0)), dsq


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


@inline
def _axpy(Y, X, alpha):
    """``Y += alpha X`` in place (2-d)."""
    r, c = Y.shape
    for i in range(r):
        for j in range(c):
            Y[i, j] += alpha * X[i, j]


@jit
def descend(M, csr, W, model, state, out, settings):
    """Gradient descent for at most ``len(losses) - 1`` steps (module docstring)."""
    eta, tol, g_ref, slope, k_fro = settings
    P, C = state
    losses, events = out
    n, m = P.shape
    P_out = P  # the loop swaps the current and candidate buffers; the result goes back here
    D, S = np.empty((n, m)), np.empty((n, m))
    P_new, D_new = np.empty((n, m)), np.empty((n, m))
    G = np.empty((m, W.shape[-1])) if W.ndim == 2 else np.empty((m, 0))
    active = np.zeros((n, m), dtype=np.bool_)
    # n_events = capacity: nothing is recorded for the starting pattern
    loss, _, _ = _evaluate(P, model, slope, D, active, events, events.shape[0], 0)
    losses[0] = loss
    if not np.isfinite(loss):
        return 0, NON_FINITE, 0, 0, np.nan
    t, status, last_change, n_events = 0, BUDGET, 0, 0
    g0 = gtol = 0.0
    while True:
        # the direction S = X X^T D at the current iterate (and G = D^T X)
        if W.ndim == 1:
            np.dot(M, D, S)
        elif M.ndim == 2:
            np.dot(D.T, M, G)
            np.dot(M, G.T, S)
        else:
            indices, indptr = csr
            _csr_direction(M, indices, indptr, D, G, S)
        g, dsq = _norm(D, S)
        if t == 0:
            g0 = g
            gtol = tol * (g0 if g_ref < 0.0 else g_ref)
        if g <= gtol:
            status = CONVERGED
            break
        floor2 = 100.0 * n * EPS * k_fro * dsq  # zero off the Gram form
        if g * g <= floor2 and gtol * gtol < floor2:
            status = FLOOR
            break
        if t == losses.shape[0] - 1:
            break
        for i in range(n):  # the candidate iterate, kept only if its loss is finite
            for j in range(m):
                P_new[i, j] = P[i, j] - eta * S[i, j]
        loss, changed, n_events = _evaluate(
            P_new, model, slope, D_new, active, events, n_events, t + 1
        )
        if not np.isfinite(loss):
            status = NON_FINITE
            break
        _axpy(C, D, -eta)
        if W.ndim == 2:
            _axpy(W, G, -eta)
        P, P_new, D, D_new = P_new, P, D_new, D
        t += 1
        losses[t] = loss
        last_change = t if changed else last_change
    if t % 2 == 1:  # the final iterate is in the other buffer (a loop: slice copies
        for i in range(n):  # compile slowly)
            for j in range(m):
                P_out[i, j] = P[i, j]
    return t, status, last_change, n_events, g0


class State:
    """One run's arrays: the operator's parts, ``P``, ``C`` and ``W`` (updated in place).

    ``start = (P, C, W)`` resumes a run handed over from another form.
    """

    def __init__(self, problem, start=None):
        op = problem.operator
        self.problem, self.form = problem, op.form
        no_csr = (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))
        W = problem.init_weights if start is None else start[2]
        self.k_fro = 0.0
        if op.form == "gram":
            self.M, self.csr, self.W = op.gram, no_csr, np.empty(0)
            self.k_fro = float(np.linalg.norm(op.gram))
        elif op.form == "csr":
            self.M, self.csr = op.X.data, (op.X.indices, op.X.indptr)
            self.W = np.array(W, dtype=np.float64, order="C")
        else:
            self.M, self.csr, self.W = op.X, no_csr, np.array(W, dtype=np.float64, order="C")
        if start is None:
            self.P = problem.init_pre_activations.copy()
            self.C = np.zeros_like(self.P)
        else:
            self.P, self.C = np.array(start[0], order="C"), np.array(start[1], order="C")
        self.model = (problem.output_weights, problem.targets, problem.weights)

    def weights(self):
        """Return the current hidden weights (a copy): ``W``, or ``W0 + C^T X`` on the Gram form."""
        if self.form != "gram":
            return self.W.copy()
        X = self.problem.operator.X
        if X is None:  # only K is known: weights have no columns
            return np.zeros((self.C.shape[1], 0))
        return self.problem.init_weights + span(self.C, X)


def allocate(problem, start=None):
    """Return the state of a run of ``problem``, at its initial weights or at ``start``."""
    return State(problem, start)


def run_chunk(state, losses, events, settings):
    """At most ``len(losses) - 1`` steps of ``state``'s run; see :func:`descend`."""
    eta, tol, g_ref = settings
    return descend(
        state.M,
        state.csr,
        state.W,
        state.model,
        (state.P, state.C),
        (losses, events),
        (eta, tol, g_ref, state.problem.negative_slope, state.k_fro),
    )
