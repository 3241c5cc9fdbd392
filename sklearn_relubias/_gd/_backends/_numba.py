"""Numba backend: gradient descent on the Gram matrix, and on X in one pass per step.

Both kernels run full-batch gradient descent on ``f(x) = sum_j a_j
sigma(<w_j, x>)`` with ``sigma(p) = p`` for ``p >= 0`` and ``slope * p``
below (0 for ReLU, 1 for the linear model), for at most ``len(losses) - 1``
steps. With ``r`` the residuals and ``w`` the example weights (summing to
one), the gradient coefficients are ``D_ij = w_i r_i a_j sigma'(p_ij)``
(``sigma'(p) = 1`` for ``p >= 0``), ``grad_j = X^T D[:, j]``, and every step
adds ``-eta D`` to the data-span coefficients ``C``.

:func:`gram_descent` (the Gram form) evolves the pre-activations
``P = X W0^T + K C`` by ``P <- P - eta K D``: ``O(n^2 m)`` per step, with
``K D`` computed row by row (no BLAS call, so no second thread pool; rows
are independent and the result does not depend on the thread count).

:func:`primal_descent` (dense or CSR X) streams X once per step: for each
block of rows it forms the block's pre-activations ``X_b W^T`` (BLAS on the
block while it is in cache, upcast from float32 block by block when X is
float32), its residuals, pattern and gradient coefficients, and its part of
the next gradient ``D_b^T X_b``, then the parts are added in block order
(so the result does not depend on how blocks are scheduled). The
coefficients ``C`` are updated inside the same pass, one step behind, so
that a step found non-finite leaves them at the last finite iterate
exactly. :func:`primal_descent_parallel` is the same kernel with its blocks
on Numba's threads (BLAS inside is kept to one thread by the driver).

Kernels only compute: they take float64 (X also float32) C-contiguous arrays,
tuples and scalars, update the state arrays in place, never raise, and say
how they stopped with one of the status codes of
:mod:`sklearn_relubias._gd._backends`. A call resumes exactly where the last
one stopped (the driver runs long fits in chunks).

Arguments:

K, X_parts
    ``K`` (n, n) for :func:`gram_descent`; for the primal kernels ``(X,
    indices, indptr)``: dense X (n, d) with empty index arrays, or the CSR
    data (nnz,) with its int64 ``indices`` and ``indptr``.
W
    (primal) In/out hidden weights (m, d).
model
    ``(a, y, w)``: output weights (m,), targets (n,), example weights (n,).
state
    ``(P, C)``, each (n, m), in/out: pre-activations and data-span
    coefficients of the current iterate (the primal kernels recompute ``P``
    from ``W`` and write it back at the end).
out
    ``(losses, events)``: ``losses[t]`` the loss after ``t`` steps of this
    call; ``events`` (capacity, 3), int64 rows ``(t, i, j)`` for the first
    ``capacity`` changes of the activation pattern ``P > 0``.
settings
    ``(eta, tol, g_ref, slope, k_fro, rows)``: step size; stop when
    ``||grad||_F <= tol * g_ref`` (``g_ref < 0``: the gradient norm at the
    start of this call); the activation's negative slope; ``||K||_F`` (Gram
    form: ``||grad||^2 = <D, K D>`` has a rounding floor of about ``n eps
    ||K||_F ||D||_F^2``; within 100 times it, while ``tol * g_ref`` lies
    below, the kernel stops with ``FLOOR`` and the driver goes on with X);
    rows per block (primal).

Each returns ``(n_steps, status, last_change, n_events, g_start)``: steps
taken, a status code, the last step of this call at which the pattern
changed (0 if none), the number of pattern changes (recorded or not) and the
gradient norm at the start.
"""

import numba
import numpy as np
from numba import types
from numba.extending import overload

from ..._jit import inline, jit, jit_parallel
from ..._linalg import span
from . import BUDGET, CONVERGED, FLOOR, NON_FINITE

EPS = np.finfo(np.float64).eps

FORMS = ("gram", "dense", "csr")

# Rows per block of the primal pass: about 256 KB of float64 X per block (in L2),
# and at most GRADIENT_PARTS_BYTES of per-block gradient parts (wide X: fewer, larger
# blocks).
BLOCK_BYTES = 1 << 18
GRADIENT_PARTS_BYTES = 1 << 26
# Work per step (n d m) above which the primal pass runs its blocks on threads.
PARALLEL_WORK = 2_000_000


def supports(form, negative_slope, optimizer):
    """Every operator form and piecewise-linear activation, with plain gradient descent."""
    return form in FORMS and 0.0 <= negative_slope <= 1.0 and optimizer == "gd"


# ---------------------------------------------------------------------------
# Shared pieces


@inline
def _row(p, a, y_i, w_i, slope):
    """Output residual and ``w_i r_i`` of one example from its pre-activations ``p``."""
    f = 0.0
    for j in range(p.shape[0]):
        pj = p[j]
        f += a[j] * (pj if pj > 0.0 else slope * pj)
    r = f - y_i
    return r, w_i * r


@inline
def _stop(g, gtol, floor2, t, budget):
    """Return the status the loop stops with at this iterate, or -1 to go on."""
    if g <= gtol:
        return CONVERGED
    if g * g <= floor2 and gtol * gtol < floor2:
        return FLOOR
    if t == budget:
        return BUDGET
    return -1


# ---------------------------------------------------------------------------
# The Gram form


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
        r, wr = _row(P[i], a, y[i], w[i], slope)
        total += wr * r
        for j in range(m):
            p = P[i, j]
            finite &= np.isfinite(p)
            D[i, j] = wr * a[j] * (1.0 if p >= 0.0 else slope)
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
def _gram_product(K, D, DT, S):
    """``S = K D`` row by row, four neurons at a time (``DT`` is scratch for ``D^T``)."""
    n, m = D.shape
    for k in range(n):
        for j in range(m):
            DT[j, k] = D[k, j]
    for i in range(n):
        j = 0
        while j + 4 <= m:
            a0 = a1 = a2 = a3 = 0.0
            for k in range(n):
                kik = K[i, k]
                a0 += kik * DT[j, k]
                a1 += kik * DT[j + 1, k]
                a2 += kik * DT[j + 2, k]
                a3 += kik * DT[j + 3, k]
            S[i, j], S[i, j + 1], S[i, j + 2], S[i, j + 3] = a0, a1, a2, a3
            j += 4
        while j < m:
            acc = 0.0
            for k in range(n):
                acc += K[i, k] * DT[j, k]
            S[i, j] = acc
            j += 1


@inline
def _inner(D, S):
    """``(sqrt(<D, S>), ||D||_F^2)``: the gradient's norm on the Gram form, and D's size."""
    n, m = D.shape
    sq, dsq = 0.0, 0.0
    for i in range(n):
        for j in range(m):
            sq += D[i, j] * S[i, j]
            dsq += D[i, j] * D[i, j]
    return np.sqrt(max(sq, 0.0)), dsq


@jit
def gram_descent(K, model, state, out, settings):
    """Gradient descent in the data span, ``P <- P - eta K D`` (module docstring)."""
    eta, tol, g_ref, slope, k_fro, _ = settings
    P, C = state
    losses, events = out
    n, m = P.shape
    P_out = P  # the loop swaps the current and candidate buffers; the result goes back here
    D, S, DT = np.empty((n, m)), np.empty((n, m)), np.empty((m, n))
    P_new, D_new = np.empty((n, m)), np.empty((n, m))
    active = np.zeros((n, m), dtype=np.bool_)
    # n_events = capacity: nothing is recorded for the starting pattern
    loss, _, _ = _evaluate(P, model, slope, D, active, events, events.shape[0], 0)
    losses[0] = loss
    if not np.isfinite(loss):
        return 0, NON_FINITE, 0, 0, np.nan
    t, last_change, n_events = 0, 0, 0
    g0 = gtol = 0.0
    while True:
        _gram_product(K, D, DT, S)
        g, dsq = _inner(D, S)
        if t == 0:
            g0 = g
            gtol = tol * (g0 if g_ref < 0.0 else g_ref)
        status = _stop(g, gtol, 100.0 * n * EPS * k_fro * dsq, t, losses.shape[0] - 1)
        if status >= 0:
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
        for i in range(n):
            for j in range(m):
                C[i, j] -= eta * D[i, j]
        P, P_new, D, D_new = P_new, P, D_new, D
        t += 1
        losses[t] = loss
        last_change = t if changed else last_change
    if t % 2 == 1:  # the final iterate is in the other buffer (a loop: slice copies
        for i in range(n):  # compile slowly)
            for j in range(m):
                P_out[i, j] = P[i, j]
    return t, status, last_change, n_events, g0


# ---------------------------------------------------------------------------
# The primal forms: one pass over X per step


def _float64(block):
    """``block`` as float64: itself, or an upcast copy of a float32 block."""
    return np.asarray(block, dtype=np.float64)


@overload(_float64, inline="always")
def _float64_typed(block):
    """Chosen by type when a kernel compiles: no copy for float64, an upcast for float32."""
    if block.dtype == types.float64:
        return lambda block: block
    return lambda block: block.astype(np.float64)


def _block_pre_activations(X_parts, i0, i1, Wt, Pb):
    """``Pb = X[i0:i1] W^T`` (``Wt = W^T``, d x m) for dense (BLAS) or CSR X.

    (Plain Python, used with ``NUMBA_DISABLE_JIT=1``; compiled kernels use
    the typed versions below.)
    """
    data, indices, indptr = X_parts
    if data.ndim == 2:
        Pb[:] = np.asarray(data[i0:i1], dtype=np.float64) @ Wt
    else:
        for ii in range(i1 - i0):
            lo, hi = indptr[i0 + ii], indptr[i0 + ii + 1]
            Pb[ii] = data[lo:hi] @ Wt[indices[lo:hi]]


def _block_gradient(X_parts, i0, i1, Db, Gb):
    """``Gb = X[i0:i1]^T Db`` (d x m): the block's part of the gradient, transposed.

    (Plain Python, used with ``NUMBA_DISABLE_JIT=1``.)
    """
    data, indices, indptr = X_parts
    if data.ndim == 2:
        Gb[:] = np.asarray(data[i0:i1], dtype=np.float64).T @ Db
    else:
        Gb[:] = 0.0
        for ii in range(i1 - i0):
            lo, hi = indptr[i0 + ii], indptr[i0 + ii + 1]
            Gb[indices[lo:hi]] += np.outer(data[lo:hi], Db[ii])


@overload(_block_pre_activations, inline="always")
def _block_pre_activations_typed(X_parts, i0, i1, Wt, Pb):
    """Return the dense or the CSR version, chosen by the type of X at compile time."""
    if X_parts[0].ndim == 2:

        def dense(X_parts, i0, i1, Wt, Pb):
            np.dot(_float64(X_parts[0][i0:i1]), Wt, Pb)  # float32 X: upcast by block

        return dense

    def csr(X_parts, i0, i1, Wt, Pb):
        data, indices, indptr = X_parts
        m = Wt.shape[1]
        for ii in range(i1 - i0):
            for j in range(m):
                Pb[ii, j] = 0.0
            for q in range(indptr[i0 + ii], indptr[i0 + ii + 1]):
                k, v = indices[q], data[q]
                for j in range(m):
                    Pb[ii, j] += v * Wt[k, j]

    return csr


@overload(_block_gradient, inline="always")
def _block_gradient_typed(X_parts, i0, i1, Db, Gb):
    """Return the dense or the CSR version, chosen by the type of X at compile time."""
    if X_parts[0].ndim == 2:

        def dense(X_parts, i0, i1, Db, Gb):
            np.dot(_float64(X_parts[0][i0:i1]).T, Db, Gb)

        return dense

    def csr(X_parts, i0, i1, Db, Gb):
        data, indices, indptr = X_parts
        m = Db.shape[1]
        Gb[:, :] = 0.0
        for ii in range(i1 - i0):
            for q in range(indptr[i0 + ii], indptr[i0 + ii + 1]):
                k, v = indices[q], data[q]
                for j in range(m):
                    Gb[k, j] += v * Db[ii, j]

    return csr


@inline
def _pass(X_parts, Wt, model, slope, codes, rs, now, lag, eta, C, Gparts, sums, rows):
    """One pass over X at the weights ``Wt``: loss, pattern, coefficients and gradient parts.

    Writes the residuals ``rs[now]`` and codes ``codes[now]`` (bit 0:
    ``p > 0``, bit 1: ``p >= 0``), each block's gradient part into
    ``Gparts[b]`` and its loss into ``sums[b, 0]``, its count of pattern
    changes against ``codes[now - 1]`` into ``sums[b, 1]`` and whether a
    pre-activation was not finite into ``sums[b, 2]``. When ``lag >= 0``,
    ``C -= eta D`` with the coefficients ``D`` of ``codes[lag]``, ``rs[lag]``.
    Returns ``(loss, changes)``: nan when a pre-activation was not finite, and
    the number of pattern entries that changed.
    """
    a, y, w = model
    n, m = C.shape
    previous = (now + 2) % 3
    for b in numba.prange(Gparts.shape[0]):
        i0 = b * rows
        i1 = min(i0 + rows, n)
        Pb = np.empty((i1 - i0, m))
        Db = np.empty((i1 - i0, m))
        _block_pre_activations(X_parts, i0, i1, Wt, Pb)
        block_loss, block_changes, block_bad = 0.0, 0.0, 0.0
        for ii in range(i1 - i0):
            i = i0 + ii
            if lag >= 0:
                wr_lag = w[i] * rs[lag, i]
                for j in range(m):
                    g = 1.0 if codes[lag, i, j] & 2 else slope
                    C[i, j] -= eta * (wr_lag * a[j] * g)
            r, wr = _row(Pb[ii], a, y[i], w[i], slope)
            block_loss += wr * r
            rs[now, i] = r
            for j in range(m):
                p = Pb[ii, j]
                if not np.isfinite(p):
                    block_bad = 1.0
                code = (1 if p > 0.0 else 0) | (2 if p >= 0.0 else 0)
                if (code & 1) != (codes[previous, i, j] & 1):
                    block_changes += 1.0
                codes[now, i, j] = code
                Db[ii, j] = wr * a[j] * (1.0 if p >= 0.0 else slope)
        _block_gradient(X_parts, i0, i1, Db, Gparts[b])
        sums[b, 0], sums[b, 1], sums[b, 2] = 0.5 * block_loss, block_changes, block_bad
    total, changes, bad = 0.0, 0.0, 0.0
    for b in range(Gparts.shape[0]):  # in block order: the result does not depend on threads
        total += sums[b, 0]
        changes += sums[b, 1]
        bad += sums[b, 2]
    return (np.nan if bad > 0.0 else total), int(changes)


@inline
def _gather(Gparts, Gt):
    """``Gt = sum_b Gparts[b]`` in block order; returns ``||Gt||_F`` (free of overflow)."""
    d, m = Gt.shape
    Gt[:, :] = 0.0
    for b in range(Gparts.shape[0]):
        for k in range(d):
            for j in range(m):
                Gt[k, j] += Gparts[b, k, j]
    scale = 0.0
    for k in range(d):
        for j in range(m):
            scale = max(scale, abs(Gt[k, j]))
    if scale == 0.0 or not np.isfinite(scale):
        return scale
    sq = 0.0
    for k in range(d):
        for j in range(m):
            sq += (Gt[k, j] / scale) ** 2
    return scale * np.sqrt(sq)


@inline
def _record(codes, now, events, n_events, t):
    """Write the rows ``(t, i, j)`` of the pattern changes into ``codes[now]``, in order."""
    n, m = codes.shape[1], codes.shape[2]
    previous = (now + 2) % 3
    for i in range(n):
        for j in range(m):
            if (codes[now, i, j] & 1) != (codes[previous, i, j] & 1):
                if n_events < events.shape[0]:
                    events[n_events, 0] = t
                    events[n_events, 1] = i
                    events[n_events, 2] = j
                n_events += 1
    return n_events


@inline
def _primal_body(X_parts, W, model, state, out, settings):
    """Run the loop of :func:`primal_descent` (inlined in the serial and parallel kernels)."""
    eta, tol, g_ref, slope, _, rows_f = settings
    P, C = state
    losses, events = out
    n, m = C.shape
    d = W.shape[1]
    rows = max(int(rows_f), 1)
    nb = (n + rows - 1) // rows
    Wt, Wt_new = W.T.copy(), np.empty((d, m))
    Gt, Gparts, sums = np.empty((d, m)), np.empty((nb, d, m)), np.empty((nb, 3))
    codes, rs = np.zeros((3, n, m), dtype=np.uint8), np.empty((3, n))
    recording = events.shape[0] > 0
    loss, _ = _pass(X_parts, Wt, model, slope, codes, rs, 0, -1, eta, C, Gparts, sums, rows)
    losses[0] = loss
    t, last_change, n_events = 0, 0, 0
    if not np.isfinite(loss):
        return 0, NON_FINITE, 0, 0, np.nan
    g0 = g = _gather(Gparts, Gt)
    gtol = tol * (g0 if g_ref < 0.0 else g_ref)
    caught_up = False
    while True:
        status = _stop(g, gtol, 0.0, t, losses.shape[0] - 1)
        if status >= 0:
            break
        for k in range(d):
            for j in range(m):
                Wt_new[k, j] = Wt[k, j] - eta * Gt[k, j]
        now, lag = (t + 1) % 3, ((t - 1) % 3 if t >= 1 else -1)
        loss, changes = _pass(
            X_parts, Wt_new, model, slope, codes, rs, now, lag, eta, C, Gparts, sums, rows
        )
        if not np.isfinite(loss):  # C holds the iterate t's coefficients: D_{t-1} applied
            status = NON_FINITE
            caught_up = True
            break
        if changes:
            last_change = t + 1
            if recording:
                n_events = _record(codes, now, events, n_events, t + 1)
            else:
                n_events += changes
        Wt, Wt_new = Wt_new, Wt
        g = _gather(Gparts, Gt)
        t += 1
        losses[t] = loss
    if t >= 1 and not caught_up:  # catch up: the coefficients of the last accepted step
        lag = (t - 1) % 3
        a, _, w = model
        for i in range(n):
            wr = w[i] * rs[lag, i]
            for j in range(m):
                C[i, j] -= eta * (wr * a[j] * (1.0 if codes[lag, i, j] & 2 else slope))
    for k in range(d):
        for j in range(m):
            W[j, k] = Wt[k, j]
    for b in range(nb):  # the final pre-activations, for the pattern and a hand-over
        i0 = b * rows
        i1 = min(i0 + rows, n)
        _block_pre_activations(X_parts, i0, i1, Wt, P[i0:i1])
    return t, status, last_change, n_events, g0


@jit
def primal_descent(X_parts, W, model, state, out, settings):
    """Gradient descent on the weights, one pass over X per step (module docstring)."""
    return _primal_body(X_parts, W, model, state, out, settings)


@jit_parallel
def primal_descent_parallel(X_parts, W, model, state, out, settings):
    """:func:`primal_descent` with its blocks of rows on Numba's threads."""
    return _primal_body(X_parts, W, model, state, out, settings)


# ---------------------------------------------------------------------------
# The state the driver holds


class State:
    """One run's arrays: the operator's parts, ``P``, ``C`` and ``W`` (updated in place).

    ``start = (P, C, W)`` resumes a run handed over from another form.
    """

    def __init__(self, problem, start=None):
        op = problem.operator
        self.problem, self.form = problem, op.form
        W = problem.init_weights if start is None else start[2]
        self.k_fro = 0.0
        n, m = problem.init_pre_activations.shape
        if op.form == "gram":
            self.K, self.W = op.gram, np.empty(0)
            self.k_fro = float(np.linalg.norm(op.gram))
            self.rows, self.parallel = 0, False
        else:
            if op.form == "csr":
                self.X_parts = (op.X.data, op.X.indices, op.X.indptr)
                d = op.X.shape[1]
            else:
                no_index = np.empty(0, dtype=np.int64)
                self.X_parts = (op.X, no_index, no_index)
                d = op.X.shape[1]
            self.W = np.array(W, dtype=np.float64, order="C")
            rows = max(BLOCK_BYTES // (8 * max(d, 1)), 16)
            max_blocks = max(GRADIENT_PARTS_BYTES // (8 * max(d, 1) * max(m, 1)), 1)
            self.rows = max(rows, -(-n // max_blocks))
            self.parallel = n * d * m >= PARALLEL_WORK and numba.get_num_threads() > 1
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
    """At most ``len(losses) - 1`` steps of ``state``'s run (module docstring)."""
    eta, tol, g_ref = settings
    full = (eta, tol, g_ref, state.problem.negative_slope, state.k_fro, float(state.rows))
    out = (losses, events)
    if state.form == "gram":
        return gram_descent(state.K, state.model, (state.P, state.C), out, full)
    kernel = primal_descent_parallel if state.parallel else primal_descent
    return kernel(state.X_parts, state.W, state.model, (state.P, state.C), out, full)
