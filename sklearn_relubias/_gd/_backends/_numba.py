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
``K D`` computed by blocks of K's rows (no BLAS call, so no second thread
pool; rows are independent and the result does not depend on the thread
count). :func:`gram_descent_parallel` runs those blocks on Numba's threads.

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
    ``(losses, events, recent)``: ``losses[t]`` the loss after ``t`` steps of
    this call; ``events`` (capacity, 3), int64 rows ``(t, i, j)`` for the
    first ``capacity`` changes of the activation pattern ``P > 0``;
    ``recent`` (window + 1,), in/out: the losses of the last ``window`` steps
    of the run, ``recent[T % window]`` the one after ``T`` steps, and the
    initial loss last (unused when the window rule is off).
settings
    ``(eta, tol, g_ref, slope, k_fro, rows, window, loss_tol, t_run)``: step
    size; stop when ``||grad||_F <= tol * g_ref`` (``g_ref < 0``: the
    gradient norm at the start of this call); the activation's negative
    slope; ``||K||_F`` (Gram form: ``||grad||^2 = <D, K D>`` has a rounding
    floor of about ``n eps ||K||_F ||D||_F^2``; within 100 times it, while
    ``tol * g_ref`` lies below, the kernel stops with ``FLOOR`` and the
    driver goes on with X); rows per block (primal); the window rule: stop
    with ``STALLED`` after ``T >= window`` steps of the run when
    ``L[T - window] - L[T] <= loss_tol * L[T - window]``, and with
    ``INTERPOLATED`` once ``L[T] <= INTERPOLATED_LOSS * L[0]`` (``window =
    0``: off; ``recent[window]`` holds ``L[0]``); the steps the run took
    before this call.

Each returns ``(n_steps, status, last_change, n_events, g_start)``: steps
taken, a status code, the last step of this call at which the pattern
changed (0 if none), the number of pattern changes (recorded or not) and the
gradient norm at the start.
"""

import numba
import numpy as np
from numba.extending import overload

from ..._jit import inline, jit, jit_parallel
from ..._linalg import span
from . import BUDGET, CONVERGED, FLOOR, INTERPOLATED, NON_FINITE, STALLED

EPS = np.finfo(np.float64).eps

FORMS = ("gram", "dense", "csr")

# Rows per block of the primal pass: about 256 KB of float64 X per block (in L2),
# and at most GRADIENT_PARTS_BYTES of per-block gradient parts (wide X: fewer, larger
# blocks).
BLOCK_BYTES = 1 << 18
GRADIENT_PARTS_BYTES = 1 << 26
# The window rule also stops a fit that interpolates (loss at most this fraction of
# the initial one: residuals about 1e-3 of the targets' scale), where the relative
# decrease stays large while the loss shrinks geometrically (n < d).
INTERPOLATED_LOSS = 1e-6
# Work per step (n d m, or nnz m) above which the primal pass runs its blocks on
# threads. The threaded kernel is a separate compilation (10-25 s once per
# machine, then cached): a 13,333 x 50 fit with 16 neurons (a fold of a 20,000-row
# data set) spent 24 s compiling it for 0.15 s of steps, so only steps of tens of
# milliseconds use it (200,000 x 50 x 8: 19 ms threaded, 37 ms serial, 2 cores).
PARALLEL_WORK = 50_000_000
# Rows of K per block of the Gram product (even: rows are paired in registers).
GRAM_BLOCK_ROWS = 64
# Seconds of one step on one thread, per entry of the operator it reads (K's n^2
# entries, X's n d, or X's non-zeros) and per entry and neuron: fitted to 200-step
# fits of 2,000 x 700..1,400 dense and 2,000 x 5,000 CSR (30-120 non-zeros per row)
# problems with 2 and 16 neurons (2-core AMD EPYC, within about 30% of each). The
# per-neuron part runs on the threads when the kernel does.
STEP_COST = {"gram": (4e-10, 9e-11), "dense": (9e-10, 2.1e-10), "csr": (6e-9, 1.3e-9)}


def supports(form, negative_slope, optimizer):
    """Every operator form and piecewise-linear activation, with plain gradient descent.

    The other optimizers run in :mod:`._numba_optimizers`.
    """
    return form in FORMS and 0.0 <= negative_slope <= 1.0 and optimizer == "gd"


def _threaded(size, m):
    """Whether a kernel reading ``size`` operator entries with ``m`` neurons uses threads."""
    return size * m >= PARALLEL_WORK and numba.get_num_threads() > 1


def step_seconds(form, size, m):
    """Estimated seconds of one step that reads ``size`` operator entries (``STEP_COST``)."""
    read, per_neuron = STEP_COST[form]
    threads = numba.get_num_threads() if _threaded(size, m) else 1
    return size * (read + per_neuron * m / threads)


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


@inline
def _stalled(recent, T, loss, window, loss_tol):
    """Keep the loss after ``T`` steps of the run; the window rule's status here, or -1."""
    if window == 0:
        return -1
    if T == 0:
        recent[window] = loss  # the initial loss, for the interpolation floor
    k = T % window
    before = recent[k]  # the loss after T - window steps
    recent[k] = loss
    if loss <= INTERPOLATED_LOSS * recent[window]:
        return INTERPOLATED
    if T >= window and before - loss <= loss_tol * before:
        return STALLED
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
    """``S = K D`` (``DT`` is scratch for ``D^T``): :func:`_products` on blocks of K's rows.

    Each row of ``S`` is computed the same way whatever the block or thread
    that holds it, so the result does not depend on the thread count.
    """
    n, m = D.shape
    for k in range(n):
        for j in range(m):
            DT[j, k] = D[k, j]
    nb = (n + GRAM_BLOCK_ROWS - 1) // GRAM_BLOCK_ROWS
    for b in numba.prange(nb):
        i0 = b * GRAM_BLOCK_ROWS
        _products(K, DT, S, i0, min(i0 + GRAM_BLOCK_ROWS, n), 0)


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


def _gram_loop(K, model, state, out, settings):
    """Gradient descent in the data span, ``P <- P - eta K D`` (module docstring)."""
    eta, tol, g_ref, slope, k_fro, _, window_f, loss_tol, t_run_f = settings
    window, t_run = int(window_f), int(t_run_f)
    P, C = state
    losses, events, recent = out
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
    if t_run == 0:
        _stalled(recent, 0, loss, window, loss_tol)
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
        status = _stalled(recent, t_run + t, loss, window, loss_tol)
        if status >= 0:
            break
    if t % 2 == 1:  # the final iterate is in the other buffer (a loop: slice copies
        for i in range(n):  # compile slowly)
            for j in range(m):
                P_out[i, j] = P[i, j]
    return t, status, last_change, n_events, g0


# The serial kernel is the loop itself (compiled on its own: its first compilation
# is the cold start of every small fit); the threaded one inlines it.
gram_descent = jit(_gram_loop)
_gram_body = inline(_gram_loop)


@jit_parallel
def gram_descent_parallel(K, model, state, out, settings):
    """:func:`gram_descent` with its blocks of K's rows on Numba's threads."""
    return _gram_body(K, model, state, out, settings)


# ---------------------------------------------------------------------------
# The primal forms: one pass over X per step


# ---------------------------------------------------------------------------
# Products with the rows of a matrix, blocked in registers: two rows by four
# neurons share their loads (the k loops vectorise with "reassoc"); float32 rows
# are upcast element by element.


@inline
def _products(A, W, P, i0, i1, offset):
    """``P[i - offset, j] = <A_i, W_j>`` for rows ``i0 <= i < i1`` of dense A (W is m x d)."""
    d = A.shape[1]
    m = W.shape[0]
    i = i0
    while i < i1:
        two = i + 1 < i1
        i1_ = i + 1 if two else i
        j = 0
        while j + 4 <= m:
            a00 = a01 = a02 = a03 = a10 = a11 = a12 = a13 = 0.0
            for k in range(d):
                x0, x1 = np.float64(A[i, k]), np.float64(A[i1_, k])
                w0, w1, w2, w3 = W[j, k], W[j + 1, k], W[j + 2, k], W[j + 3, k]
                a00 += x0 * w0
                a01 += x0 * w1
                a02 += x0 * w2
                a03 += x0 * w3
                a10 += x1 * w0
                a11 += x1 * w1
                a12 += x1 * w2
                a13 += x1 * w3
            r = i - offset
            P[r, j], P[r, j + 1], P[r, j + 2], P[r, j + 3] = a00, a01, a02, a03
            if two:
                P[r + 1, j], P[r + 1, j + 1], P[r + 1, j + 2], P[r + 1, j + 3] = a10, a11, a12, a13
            j += 4
        while j < m:
            a0 = a1 = 0.0
            for k in range(d):
                a0 += np.float64(A[i, k]) * W[j, k]
                a1 += np.float64(A[i1_, k]) * W[j, k]
            P[i - offset, j] = a0
            if two:
                P[i - offset + 1, j] = a1
            j += 1
        i += 2


@inline
def _accumulate(A, D, G, i0, i1, offset):
    """``G[j] += sum_i D[i - offset, j] A_i`` over rows ``i0 <= i < i1`` of dense A."""
    d = A.shape[1]
    m = G.shape[0]
    i = i0
    while i < i1:
        two = i + 1 < i1
        i1_ = i + 1 if two else i
        r = i - offset
        j = 0
        while j + 4 <= m:
            d00, d01, d02, d03 = D[r, j], D[r, j + 1], D[r, j + 2], D[r, j + 3]
            d10 = d11 = d12 = d13 = 0.0
            if two:
                d10, d11, d12, d13 = D[r + 1, j], D[r + 1, j + 1], D[r + 1, j + 2], D[r + 1, j + 3]
            for k in range(d):
                x0, x1 = np.float64(A[i, k]), np.float64(A[i1_, k])
                G[j, k] += x0 * d00 + x1 * d10
                G[j + 1, k] += x0 * d01 + x1 * d11
                G[j + 2, k] += x0 * d02 + x1 * d12
                G[j + 3, k] += x0 * d03 + x1 * d13
            j += 4
        while j < m:
            d0 = D[r, j]
            d1 = D[r + 1, j] if two else 0.0
            for k in range(d):
                G[j, k] += np.float64(A[i, k]) * d0 + np.float64(A[i1_, k]) * d1
            j += 1
        i += 2


def _block_pre_activations(X_parts, i0, i1, W, WT, Pb):
    """``Pb = X[i0:i1] W^T`` (W is m x d, ``WT`` its transpose) for dense or CSR X.

    (Plain Python, used with ``NUMBA_DISABLE_JIT=1``; compiled kernels use
    the typed versions below.)
    """
    data, indices, indptr = X_parts
    if data.ndim == 2:
        Pb[:] = np.asarray(data[i0:i1], dtype=np.float64) @ W.T
    else:
        for ii in range(i1 - i0):
            lo, hi = indptr[i0 + ii], indptr[i0 + ii + 1]
            Pb[ii] = W[:, indices[lo:hi]] @ data[lo:hi]


def _block_gradient(X_parts, i0, i1, Db, Gb):
    """``Gb = Db^T X[i0:i1]`` (m x d): the block's part of the gradient.

    (Plain Python, used with ``NUMBA_DISABLE_JIT=1``.)
    """
    data, indices, indptr = X_parts
    if data.ndim == 2:
        Gb[:] = Db.T @ np.asarray(data[i0:i1], dtype=np.float64)
    else:
        Gb[:] = 0.0
        for ii in range(i1 - i0):
            lo, hi = indptr[i0 + ii], indptr[i0 + ii + 1]
            Gb[:, indices[lo:hi]] += np.outer(Db[ii], data[lo:hi])


@overload(_block_pre_activations)
def _block_pre_activations_typed(X_parts, i0, i1, W, WT, Pb):
    """Return the dense or the CSR version, chosen by the type of X at compile time.

    The CSR version reads the rows of ``WT`` (one contiguous m-vector per
    non-zero) instead of m columns of ``W``.
    """
    if X_parts[0].ndim == 2:

        def dense(X_parts, i0, i1, W, WT, Pb):
            _products(X_parts[0], W, Pb, i0, i1, i0)

        return dense

    def csr(X_parts, i0, i1, W, WT, Pb):
        data, indices, indptr = X_parts
        m = WT.shape[1]
        for ii in range(i1 - i0):
            for j in range(m):
                Pb[ii, j] = 0.0
            for q in range(indptr[i0 + ii], indptr[i0 + ii + 1]):
                k, v = indices[q], data[q]
                for j in range(m):
                    Pb[ii, j] += v * WT[k, j]

    return csr


@overload(_block_gradient)
def _block_gradient_typed(X_parts, i0, i1, Db, Gb):
    """Return the dense or the CSR version, chosen by the type of X at compile time."""
    if X_parts[0].ndim == 2:

        def dense(X_parts, i0, i1, Db, Gb):
            Gb[:, :] = 0.0
            _accumulate(X_parts[0], Db, Gb, i0, i1, i0)

        return dense

    def csr(X_parts, i0, i1, Db, Gb):
        data, indices, indptr = X_parts
        m, d = Gb.shape
        GT = np.zeros((d, m))  # one contiguous m-vector per non-zero, then transposed
        for ii in range(i1 - i0):
            for q in range(indptr[i0 + ii], indptr[i0 + ii + 1]):
                k, v = indices[q], data[q]
                for j in range(m):
                    GT[k, j] += v * Db[ii, j]
        for j in range(m):
            for k in range(d):
                Gb[j, k] = GT[k, j]

    return csr


@inline
def _pass(X_parts, W, model, slope, codes, rs, now, lag, eta, C, Gparts, sums, rows):
    """One pass over X at the weights ``W``: loss, pattern, coefficients and gradient parts.

    Writes the residuals ``rs[now]`` and codes ``codes[now]`` (bit 0:
    ``p > 0``, bit 1: ``p >= 0``), each block's gradient part into
    ``Gparts[b]`` (m x d), its loss into ``sums[b, 0]`` and its count of
    pattern changes against ``codes[now - 1]`` into ``sums[b, 1]``. When
    ``lag >= 0``, ``C -= eta D`` with the coefficients ``D`` of
    ``codes[lag]``, ``rs[lag]``. Returns ``(loss, changes)``: the loss is not
    finite when a pre-activation is not, and ``changes`` counts the pattern
    entries that changed.
    """
    a, y, w = model
    n, m = C.shape
    WT = np.empty((W.shape[1], m))  # read by the CSR products
    for j in range(m):
        for k in range(W.shape[1]):
            WT[k, j] = W[j, k]
    code_now, code_before, rs_now = codes[now], codes[(now + 2) % 3], rs[now]
    for b in numba.prange(Gparts.shape[0]):
        i0 = b * rows
        i1 = min(i0 + rows, n)
        Pb = np.empty((i1 - i0, m))
        Db = np.empty((i1 - i0, m))
        _block_pre_activations(X_parts, i0, i1, W, WT, Pb)
        block_loss, block_changes = 0.0, 0
        for ii in range(i1 - i0):
            i = i0 + ii
            if lag >= 0:
                wr_lag = w[i] * rs[lag, i]
                for j in range(m):
                    C[i, j] -= eta * (wr_lag * a[j] * (1.0 if codes[lag, i, j] & 2 else slope))
            r, wr = _row(Pb[ii], a, y[i], w[i], slope)
            block_loss += wr * r
            rs_now[i] = r
            for j in range(m):
                p = Pb[ii, j]
                code = np.uint8(1 if p > 0.0 else 0) | np.uint8(2 if p >= 0.0 else 0)
                block_changes += (code ^ code_before[i, j]) & 1
                code_now[i, j] = code
                Db[ii, j] = wr * a[j] * (1.0 if p >= 0.0 else slope)
        _block_gradient(X_parts, i0, i1, Db, Gparts[b])
        sums[b, 0], sums[b, 1] = 0.5 * block_loss, block_changes
    total, changes = 0.0, 0.0
    for b in range(Gparts.shape[0]):  # in block order: the result does not depend on threads
        total += sums[b, 0]
        changes += sums[b, 1]
    return total, int(changes)


@inline
def _gather(Gparts, Gt):
    """``Gt = sum_b Gparts[b]`` in block order; returns ``||Gt||_F`` (free of overflow)."""
    d, m = Gt.shape  # (m, d) here: the names only index
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
    """Run the loop of :func:`primal_descent` (inlined in the serial and parallel kernels).

    ``state = (P, C, G, codes, rs, info)`` carries the current iterate across
    calls: its gradient ``G`` (m x d), the three rotating buffers of codes and
    residuals, and ``info = [fresh, now, pending, loss, g]``: whether the
    iterate still has to be evaluated, the buffer holding it, the buffer whose
    coefficients are still to be added to ``C`` (-1: none; see
    :func:`primal_finish`), its loss and gradient norm.
    """
    eta, tol, g_ref, slope, _, rows_f, window_f, loss_tol, t_run_f = settings
    window, t_run = int(window_f), int(t_run_f)
    P, C, G, codes, rs, info = state
    losses, events, recent = out
    n, m = C.shape
    d = W.shape[1]
    rows = max(int(rows_f), 1)
    nb = (n + rows - 1) // rows
    W_new, Gparts, sums = np.empty((m, d)), np.empty((nb, m, d)), np.empty((nb, 2))
    recording = events.shape[0] > 0
    if info[0] == 1.0:  # a fresh iterate: evaluate it (buffer 0, nothing pending)
        info[3], _ = _pass(X_parts, W, model, slope, codes, rs, 0, -1, eta, C, Gparts, sums, rows)
        info[4] = _gather(Gparts, G) if np.isfinite(info[3]) else np.nan
        info[0], info[1], info[2] = 0.0, 0.0, -1.0
    now, pending, loss, g = int(info[1]), int(info[2]), info[3], info[4]
    losses[0] = loss
    if not np.isfinite(loss):
        return 0, NON_FINITE, 0, 0, np.nan
    if t_run == 0:
        _stalled(recent, 0, loss, window, loss_tol)
    g0 = g
    gtol = tol * (g0 if g_ref < 0.0 else g_ref)
    t, last_change, n_events = 0, 0, 0
    while True:
        status = _stop(g, gtol, 0.0, t, losses.shape[0] - 1)
        if status >= 0:
            break
        for j in range(m):
            for k in range(d):
                W_new[j, k] = W[j, k] - eta * G[j, k]
        new = (now + 1) % 3
        loss, changes = _pass(
            X_parts, W_new, model, slope, codes, rs, new, pending, eta, C, Gparts, sums, rows
        )
        pending = -1  # applied by this pass: C is the current iterate's
        if not np.isfinite(loss):
            status = NON_FINITE
            break
        if changes:
            last_change = t + 1
            if recording:
                n_events = _record(codes, new, events, n_events, t + 1)
            else:
                n_events += changes
        for j in range(m):  # accept the step
            for k in range(d):
                W[j, k] = W_new[j, k]
        g = _gather(Gparts, G)
        pending, now = now, new  # the step's own coefficients are added with the next one
        t += 1
        losses[t] = loss
        status = _stalled(recent, t_run + t, loss, window, loss_tol)
        if status >= 0:
            break
    info[1], info[2], info[3], info[4] = now, pending, losses[t], g
    return t, status, last_change, n_events, g0


@jit
def primal_descent(X_parts, W, model, state, out, settings):
    """Gradient descent on the weights, one pass over X per step (module docstring)."""
    return _primal_body(X_parts, W, model, state, out, settings)


@jit_parallel
def primal_descent_parallel(X_parts, W, model, state, out, settings):
    """:func:`primal_descent` with its blocks of rows on Numba's threads."""
    return _primal_body(X_parts, W, model, state, out, settings)


@jit
def primal_finish(X_parts, W, model, state, settings):
    """Add the pending coefficients to ``C`` and write the pre-activations ``P = X W^T``."""
    eta, _, _, slope, _, rows_f = settings[:6]
    P, C, _, codes, rs, info = state
    a, _, w = model
    n, m = C.shape
    pending = int(info[2])
    if pending >= 0:
        for i in range(n):
            wr = w[i] * rs[pending, i]
            for j in range(m):
                C[i, j] -= eta * (wr * a[j] * (1.0 if codes[pending, i, j] & 2 else slope))
        info[2] = -1.0
    write_pre_activations(X_parts, W, P, rows_f)


@jit
def write_pre_activations(X_parts, W, P, rows_f):
    """``P = X W^T``, by blocks of ``rows_f`` rows (dense or CSR X)."""
    n, rows = P.shape[0], max(int(rows_f), 1)
    WT = W.T.copy()
    for i0 in range(0, n, rows):
        _block_pre_activations(X_parts, i0, min(i0 + rows, n), W, WT, P[i0:])


def block_rows(n, d, m, nnz):
    """Rows per block of the primal pass, from the shape alone (not the thread count).

    About ``BLOCK_BYTES`` of X per block (in L2), and enough rows that a
    block's gradient part (m x d, zeroed and summed every step) costs at most
    a quarter of its products (``4 d <= nnz`` per block: sparse rows hold few
    entries), within ``GRADIENT_PARTS_BYTES`` of parts in all.
    """
    per_row = max(nnz / max(n, 1), 1.0)
    rows = max(int(BLOCK_BYTES // (8 * per_row)), 16, int(np.ceil(4 * d / per_row)))
    max_blocks = max(GRADIENT_PARTS_BYTES // (8 * max(d, 1) * max(m, 1)), 1)
    return max(rows, -(-n // max_blocks))


# ---------------------------------------------------------------------------
# The state the driver holds


class State:
    """One run's arrays: the operator's parts, ``P``, ``C`` and ``W`` (updated in place).

    ``start = (P, C, W, carried)`` resumes a run handed over from another
    form (plain gradient descent carries nothing). The
    primal forms also carry their current gradient and pattern buffers
    across calls (:func:`_primal_body`); :meth:`finish` makes ``C`` and ``P``
    those of the current iterate.
    """

    def __init__(self, problem, start=None):
        op = problem.operator
        self.problem, self.form = problem, op.form
        W = problem.init_weights if start is None else start[2]
        self.k_fro = 0.0
        n, m = problem.init_pre_activations.shape
        if start is None:
            self.P = problem.init_pre_activations.copy()
            self.C = np.zeros_like(self.P)
        else:
            self.P, self.C = np.array(start[0], order="C"), np.array(start[1], order="C")
        if op.form == "gram":
            self.K, self.W = op.gram, np.empty(0)
            self.k_fro = float(np.linalg.norm(op.gram))
            self.rows = 0
            self.parallel = _threaded(n * n, m)
        else:
            if op.form == "csr":
                self.X_parts = (op.X.data, op.X.indices, op.X.indptr)
            else:
                no_index = np.empty(0, dtype=np.int64)
                self.X_parts = (op.X, no_index, no_index)
            d = op.X.shape[1]
            self.W = np.array(W, dtype=np.float64, order="C")
            work = op.X.nnz if op.form == "csr" else n * d
            self.rows = block_rows(n, d, m, work)
            self.parallel = _threaded(work, m)
        self.model = (problem.output_weights, problem.targets, problem.weights)
        self._carried(start)

    def _carried(self, start):
        """Allocate what the kernels carry across calls: the primal forms' buffers."""
        if self.form != "gram":
            (n, m), d = self.C.shape, self.W.shape[1]
            info = np.array([1.0, 0.0, -1.0, np.nan, np.nan])  # fresh: evaluated on the first call
            buffers = (np.empty((m, d)), np.zeros((3, n, m), dtype=np.uint8), np.zeros((3, n)))
            self.carried = (self.P, self.C, *buffers, info)

    def settings(self, eta, tol, g_ref, window=0, loss_tol=0.0, t_run=0):
        return (
            eta,
            tol,
            g_ref,
            self.problem.negative_slope,
            self.k_fro,
            float(self.rows),
            float(window),
            loss_tol,
            float(t_run),
        )

    def carry(self):
        """Plain gradient descent has no optimizer state."""
        return {}

    def finish(self):
        """Make ``C`` and ``P`` those of the current iterate (primal forms)."""
        if self.form != "gram":
            primal_finish(
                self.X_parts,
                self.W,
                self.model,
                self.carried,
                self.settings(self.problem.step_size, 0.0, -1.0),
            )

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


def run_chunk(state, losses, events, recent, settings):
    """At most ``len(losses) - 1`` steps of ``state``'s run (module docstring)."""
    full = state.settings(*settings)
    out = (losses, events, recent)
    if state.form == "gram":
        kernel = gram_descent_parallel if state.parallel else gram_descent
        return kernel(state.K, state.model, (state.P, state.C), out, full)
    kernel = primal_descent_parallel if state.parallel else primal_descent
    return kernel(state.X_parts, state.W, state.model, state.carried, out, full)
