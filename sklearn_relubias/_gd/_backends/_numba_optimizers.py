"""Numba backend for the optimizers beside gradient descent: momentum, Nesterov, SGD, Adam.

The recursions are those of :mod:`sklearn_relubias._gd._optimizers`; the
loss, the gradient coefficients ``D``, the stop tests, the window rule and
the pattern records are those of plain gradient descent
(:mod:`sklearn_relubias._gd._backends._numba`, whose pieces these kernels
reuse). Two serial kernels:

- :func:`gram_optimizer_descent` runs the data-span optimizers (heavy ball,
  Nesterov, mini-batch SGD) on the Gram form: the pre-activations
  ``P = X W0^T + K C``, a velocity of the coefficients ``Vc`` and its image
  ``SV = K Vc``. Heavy ball costs one product ``K D`` per step (the one of
  the stop test), Nesterov two (at the look-ahead iterate and at the
  iterate), SGD the full ``K D`` of the stop test plus ``K[:, B] D[B]``.
- :func:`primal_optimizer_descent` runs every optimizer on dense or CSR X:
  one pass over X per step (two for Nesterov), plus, for SGD, the batch's
  rows (``O(b d m)``, or their non-zeros). Adam updates ``W`` only.

Every SGD step also evaluates the full loss and gradient norm (the stop
test, the loss curve and the window rule are those of the full objective),
so a step costs a full-batch evaluation: these kernels are for comparing the
solutions optimizers reach, not a fast SGD.

A call starts by evaluating the current iterate (so a chunked run equals one
run), and a candidate step is kept only if its loss is finite: a step found
non-finite leaves every state array (weights, coefficients, velocities,
moments, step count) at the last finite iterate. The optimizer's state is
carried across calls in arrays the driver holds (:class:`State`); the step
count lives in ``info[0]``, so SGD's batches and Adam's bias corrections go
on where the last call stopped, across chunks and warm starts.

``opt = (code, beta, batch_size, shuffle, seed, beta_1, beta_2, epsilon)``
(float64) says which optimizer runs (its code in
:data:`~sklearn_relubias._gd._optimizers.OPTIMIZERS`) and its parameters.
"""

import numpy as np
from numba.extending import overload

from ..._jit import inline, jit
from ..._linalg import span
from .._optimizers import OPTIMIZERS
from . import NON_FINITE, _numba
from ._numba import (
    EPS,
    FORMS,
    STEP_COST,
    _evaluate,
    _gather,
    _gram_product,
    _inner,
    _pass,
    _record,
    _stalled,
    _stop,
    write_pre_activations,
)

# The optimizers this backend runs, by the codes of their specs (globals of the kernels)
NAMES = {name: spec.code for name, spec in OPTIMIZERS.items() if name != "gd"}
MOMENTUM, NESTEROV, SGD, ADAM = (NAMES[k] for k in ("momentum", "nesterov", "sgd", "adam"))
TINY = np.finfo(np.float64).tiny
# Park-Miller generator (x <- 48271 x mod 2^31 - 1): exact in int64 and in Python,
# so the batches are the same with and without compilation.
_MODULUS = 2147483647
_MULTIPLIER = 48271


def supports(form, negative_slope, optimizer):
    """Return whether this backend runs it: :data:`NAMES`, on K only those in the span."""
    if form not in FORMS or not 0.0 <= negative_slope <= 1.0 or optimizer not in NAMES:
        return False
    return OPTIMIZERS[optimizer].in_span or form != "gram"  # the Gram form needs the span


def step_seconds(form, size, m):
    """Estimated seconds of one step (serial kernels: ``STEP_COST`` on one thread)."""
    read, per_neuron = STEP_COST[form]
    return size * (read + per_neuron * m)


@jit
def epoch_order(seed, epoch, order):
    """Write epoch ``epoch``'s order of the examples into ``order``: a seeded Fisher-Yates shuffle.

    The generator is seeded from ``(seed, epoch)`` alone, so any epoch's
    order is known without the ones before it (a chunked or resumed run
    draws the same batches).
    """
    n = order.shape[0]
    for i in range(n):
        order[i] = i
    x = (seed * 69069 + epoch * 40503 + 12345) % _MODULUS
    x = 1 if x == 0 else x
    for _ in range(4):  # decorrelate nearby seeds
        x = (_MULTIPLIER * x) % _MODULUS
    for i in range(n - 1, 0, -1):
        x = (_MULTIPLIER * x) % _MODULUS
        j = x % (i + 1)
        order[i], order[j] = order[j], order[i]


@inline
def _batch(step, n, opt, order, epoch_cached):
    """Rows ``order[lo:hi]`` of global step ``step``; returns ``(lo, hi, epoch)``.

    An epoch is ``ceil(n / batch_size)`` steps; ``order`` is recomputed
    when the step enters an epoch other than ``epoch_cached``.
    """
    b = int(opt[2])
    per_epoch = (n + b - 1) // b
    epoch, k = step // per_epoch, step % per_epoch
    if epoch != epoch_cached:
        if opt[3] != 0.0:
            epoch_order(int(opt[4]), epoch, order)
        else:
            for i in range(n):
                order[i] = i
    return k * b, min((k + 1) * b, n), epoch


@inline
def _flush(v):
    """``v``, or 0 when it is subnormal.

    A decaying state (the velocity of a pair whose gradient is zero, a moment
    of a coordinate that no longer moves) otherwise settles at a subnormal
    fixed point of rounding (``4 * 0.9`` rounds back to 4 units of the
    smallest subnormal) and slows every later step (2.3 times, measured on
    diabetes at 100,000 steps); below ``2**-1022`` it changes no iterate.
    """
    return 0.0 if abs(v) < TINY else v


@inline
def _coef(w_i, r_i, a_j, code, slope):
    """One gradient coefficient ``w_i r_i a_j sigma'(p_ij)`` from a pattern code (bit 1: p >= 0)."""
    return w_i * r_i * a_j * (1.0 if code & 2 else slope)


# ---------------------------------------------------------------------------
# The Gram form


def _gram_loop(K, model, state, out, settings, opt):
    """Run the data-span optimizers on ``P = X W0^T + K C`` (module docstring)."""
    eta, tol, g_ref, slope, k_fro, _, window_f, loss_tol, t_run_f = settings
    window, t_run = int(window_f), int(t_run_f)
    P, C, Vc, SV, info, order = state
    losses, events, recent = out
    code, beta = int(opt[0]), opt[1]
    n, m = P.shape
    D, S, DT = np.empty((n, m)), np.empty((n, m)), np.empty((m, n))
    D_look, S_look = np.empty((n, m)), np.empty((n, m))
    P_new, D_new = np.empty((n, m)), np.empty((n, m))
    active = np.zeros((n, m), dtype=np.bool_)
    active_look = np.zeros((n, m), dtype=np.bool_)
    no_record = events.shape[0]  # n_events = capacity: nothing is recorded
    loss, _, _ = _evaluate(P, model, slope, D, active, events, no_record, 0)
    losses[0] = loss
    if not np.isfinite(loss):
        return 0, NON_FINITE, 0, 0, np.nan
    if t_run == 0:
        _stalled(recent, 0, loss, window, loss_tol)
    t, last_change, n_events, step, epoch = 0, 0, 0, int(info[0]), -1
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
        Dg, Sg = D, S  # the gradient the step takes
        if code == NESTEROV:
            for i in range(n):
                for j in range(m):
                    P_new[i, j] = P[i, j] + beta * SV[i, j]
            look, _, _ = _evaluate(P_new, model, slope, D_look, active_look, events, no_record, 0)
            if not np.isfinite(look):
                status = NON_FINITE
                break
            _gram_product(K, D_look, DT, S_look)
            Dg, Sg = D_look, S_look
        lo = hi = 0
        if code == SGD:
            lo, hi, epoch = _batch(step, n, opt, order, epoch)
            for i in range(n):  # P - eta K[:, B] D[B]
                for j in range(m):
                    P_new[i, j] = P[i, j]
            for q in range(lo, hi):
                k = order[q]
                for i in range(n):
                    kik = eta * K[i, k]
                    for j in range(m):
                        P_new[i, j] -= kik * D[k, j]
        else:  # heavy ball or Nesterov: SV <- beta SV - eta K Dg, P <- P + SV
            for i in range(n):
                for j in range(m):
                    P_new[i, j] = P[i, j] + _flush(beta * SV[i, j] - eta * Sg[i, j])
        loss, changed, n_events = _evaluate(
            P_new, model, slope, D_new, active, events, n_events, t + 1
        )
        if not np.isfinite(loss):
            status = NON_FINITE
            break
        if code == SGD:  # accept the step
            for q in range(lo, hi):
                k = order[q]
                for j in range(m):
                    C[k, j] -= eta * D[k, j]
        else:
            for i in range(n):
                for j in range(m):
                    Vc[i, j] = _flush(beta * Vc[i, j] - eta * Dg[i, j])
                    C[i, j] += Vc[i, j]
                    SV[i, j] = _flush(beta * SV[i, j] - eta * Sg[i, j])
        for i in range(n):
            for j in range(m):
                P[i, j] = P_new[i, j]
                D[i, j] = D_new[i, j]
        step += 1
        t += 1
        losses[t] = loss
        last_change = t if changed else last_change
        status = _stalled(recent, t_run + t, loss, window, loss_tol)
        if status >= 0:
            break
    info[0] = step
    return t, status, last_change, n_events, g0


gram_optimizer_descent = jit(_gram_loop)


# ---------------------------------------------------------------------------
# The primal forms


def _rows_gradient(X_parts, order, lo, hi, D, G):
    """``G = sum_{q in [lo, hi)} D[i] x_i^T`` with ``i = order[q]`` (m x d), dense or CSR X.

    (Plain Python, used with ``NUMBA_DISABLE_JIT=1``.)
    """
    data, indices, indptr = X_parts
    rows = order[lo:hi]
    if data.ndim == 2:
        G[:] = D[rows].T @ np.asarray(data[rows], dtype=np.float64)
        return
    G[:] = 0.0
    for i in rows:
        a, b = indptr[i], indptr[i + 1]
        G[:, indices[a:b]] += np.outer(D[i], data[a:b])


@overload(_rows_gradient)
def _rows_gradient_typed(X_parts, order, lo, hi, D, G):
    """Return the dense or the CSR version, chosen by the type of X at compile time."""
    if X_parts[0].ndim == 2:

        def dense(X_parts, order, lo, hi, D, G):
            X = X_parts[0]
            G[:, :] = 0.0
            for q in range(lo, hi):
                i = order[q]
                for j in range(G.shape[0]):
                    dij = D[i, j]
                    for k in range(G.shape[1]):
                        G[j, k] += dij * np.float64(X[i, k])

        return dense

    def csr(X_parts, order, lo, hi, D, G):
        data, indices, indptr = X_parts
        G[:, :] = 0.0
        for q in range(lo, hi):
            i = order[q]
            for p in range(indptr[i], indptr[i + 1]):
                k, v = indices[p], data[p]
                for j in range(G.shape[0]):
                    G[j, k] += v * D[i, j]

    return csr


@inline
def _coefficients(model, codes, rs, slope, D):
    """``D`` (n x m) from a pass's residuals ``rs`` and pattern codes."""
    a, _, w = model
    n, m = D.shape
    for i in range(n):
        for j in range(m):
            D[i, j] = _coef(w[i], rs[i], a[j], codes[i, j], slope)


def _primal_loop(X_parts, W, model, state, out, settings, opt):
    """Every optimizer on the weights, one pass over X per evaluation (module docstring)."""
    eta, tol, g_ref, slope, _, rows_f, window_f, loss_tol, t_run_f = settings
    window, t_run = int(window_f), int(t_run_f)
    C, Vc, V, M1, M2, info, order = state
    losses, events, recent = out
    code, beta, beta_1, beta_2, epsilon = int(opt[0]), opt[1], opt[5], opt[6], opt[7]
    n, m = C.shape
    d = W.shape[1]
    rows = max(int(rows_f), 1)
    nb = (n + rows - 1) // rows
    Gparts, sums = np.empty((nb, m, d)), np.empty((nb, 2))
    G, G_look, G_batch = np.empty((m, d)), np.empty((m, d)), np.empty((m, d))
    W_new, V_new = np.empty((m, d)), np.empty((m, d))
    M1_new, M2_new = np.empty((m, d)), np.empty((m, d))
    D = np.empty((n, m))
    codes, rs = np.zeros((3, n, m), dtype=np.uint8), np.zeros((3, n))
    codes_look, rs_look = np.zeros((3, n, m), dtype=np.uint8), np.zeros((3, n))
    recording = events.shape[0] > 0
    now = 0
    loss, _ = _pass(X_parts, W, model, slope, codes, rs, now, -1, 0.0, C, Gparts, sums, rows)
    losses[0] = loss
    if not np.isfinite(loss):
        return 0, NON_FINITE, 0, 0, np.nan
    g = _gather(Gparts, G)
    if t_run == 0:
        _stalled(recent, 0, loss, window, loss_tol)
    g0 = g
    gtol = tol * (g0 if g_ref < 0.0 else g_ref)
    t, last_change, n_events, step, epoch = 0, 0, 0, int(info[0]), -1
    while True:
        status = _stop(g, gtol, 0.0, t, losses.shape[0] - 1)
        if status >= 0:
            break
        grad, grad_codes, grad_rs = G, codes[now], rs[now]
        if code == NESTEROV:  # the gradient at the look-ahead W + beta V
            for j in range(m):
                for k in range(d):
                    W_new[j, k] = W[j, k] + beta * V[j, k]
            look, _ = _pass(
                X_parts, W_new, model, slope, codes_look, rs_look, 0, -1, 0.0, C, Gparts, sums, rows
            )
            if not np.isfinite(look):
                status = NON_FINITE
                break
            _gather(Gparts, G_look)
            grad, grad_codes, grad_rs = G_look, codes_look[0], rs_look[0]
        lo = hi = 0
        if code == SGD:
            lo, hi, epoch = _batch(step, n, opt, order, epoch)
            _coefficients(model, grad_codes, grad_rs, slope, D)
            _rows_gradient(X_parts, order, lo, hi, D, G_batch)
            for j in range(m):
                for k in range(d):
                    W_new[j, k] = W[j, k] - eta * G_batch[j, k]
        elif code == ADAM:
            c1 = 1.0 - beta_1 ** (step + 1)
            c2 = 1.0 - beta_2 ** (step + 1)
            for j in range(m):
                for k in range(d):
                    gk = grad[j, k]
                    M1_new[j, k] = _flush(beta_1 * M1[j, k] + (1.0 - beta_1) * gk)
                    M2_new[j, k] = _flush(beta_2 * M2[j, k] + (1.0 - beta_2) * gk * gk)
                    W_new[j, k] = W[j, k] - eta * (M1_new[j, k] / c1) / (
                        np.sqrt(M2_new[j, k] / c2) + epsilon
                    )
        else:  # heavy ball or Nesterov
            for j in range(m):
                for k in range(d):
                    V_new[j, k] = _flush(beta * V[j, k] - eta * grad[j, k])
                    W_new[j, k] = W[j, k] + V_new[j, k]
        new = (now + 1) % 3
        loss, changes = _pass(
            X_parts, W_new, model, slope, codes, rs, new, -1, 0.0, C, Gparts, sums, rows
        )
        if not np.isfinite(loss):
            status = NON_FINITE
            break
        # accept the step: the coefficients, the optimizer's state, the weights
        if code == SGD:
            for q in range(lo, hi):
                i = order[q]
                for j in range(m):
                    C[i, j] -= eta * D[i, j]
        elif code != ADAM:
            _coefficients(model, grad_codes, grad_rs, slope, D)
            for i in range(n):
                for j in range(m):
                    Vc[i, j] = _flush(beta * Vc[i, j] - eta * D[i, j])
                    C[i, j] += Vc[i, j]
        for j in range(m):
            for k in range(d):
                W[j, k] = W_new[j, k]
                if code == ADAM:
                    M1[j, k], M2[j, k] = M1_new[j, k], M2_new[j, k]
                elif code != SGD:
                    V[j, k] = V_new[j, k]
        g = _gather(Gparts, G)
        if changes:
            last_change = t + 1
            if recording:
                n_events = _record(codes, new, events, n_events, t + 1)
            else:
                n_events += changes
        now = new
        step += 1
        t += 1
        losses[t] = loss
        status = _stalled(recent, t_run + t, loss, window, loss_tol)
        if status >= 0:
            break
    info[0] = step
    return t, status, last_change, n_events, g0


primal_optimizer_descent = jit(_primal_loop)


# ---------------------------------------------------------------------------
# The state the driver holds


class State(_numba.State):
    """Plain gradient descent's state (operator parts, ``P``, ``C``, ``W``) and the optimizer's.

    ``start = (P, C, W, carried)`` resumes a run (handed over from the Gram
    form); ``carried`` is what :meth:`carry` returned, as is
    ``problem.init_optimizer_state`` (a warm start). A velocity known only
    as coefficients (from the Gram form) becomes ``V = Vc^T X`` on X, and
    ``SV = K Vc`` on K.
    """

    def _carried(self, start):
        problem, (n, m) = self.problem, self.C.shape
        carried = (problem.init_optimizer_state if start is None else start[3]) or {}
        p = problem.optimizer_params
        self.opt = np.array(
            [
                problem.spec.code,
                p.get("momentum", 0.0),
                p.get("batch_size", n),
                float(p.get("shuffle", False)),
                p.get("seed", 0),
                p.get("beta_1", 0.0),
                p.get("beta_2", 0.0),
                p.get("epsilon", 0.0),
            ],
            dtype=np.float64,
        )
        self.info = np.array([float(carried.get("step", 0))])
        self.order = np.arange(n, dtype=np.int64)
        self.Vc = np.array(carried.get("velocity_coef", np.zeros((n, m))), dtype=np.float64)
        if self.form == "gram":
            SV = carried.get("gram_velocity")
            self.SV = self.K @ self.Vc if SV is None else np.array(SV, dtype=np.float64)
            self.carried = (self.P, self.C, self.Vc, self.SV, self.info, self.order)
            return
        X, d = problem.operator.X, self.W.shape[1]
        V = carried.get("velocity")
        if V is None:  # from the Gram form: V = Vc^T X
            V = span(self.Vc, X) if self.Vc.any() else np.zeros((m, d))
        self.V = np.array(V, dtype=np.float64, order="C")
        zeros = np.zeros((m, d))
        self.M1 = np.array(carried.get("first_moment", zeros), dtype=np.float64, order="C")
        self.M2 = np.array(carried.get("second_moment", zeros), dtype=np.float64, order="C")
        self.carried = (self.C, self.Vc, self.V, self.M1, self.M2, self.info, self.order)

    def carry(self):
        """Return the optimizer's state (copies): what a later run needs to go on exactly."""
        out = {"step": int(self.info[0]), "velocity_coef": self.Vc.copy()}
        if self.form == "gram":
            out["gram_velocity"] = self.SV.copy()
        else:
            out.update(velocity=self.V.copy(), first_moment=self.M1.copy())
            out["second_moment"] = self.M2.copy()
        return out

    def finish(self):
        """Make ``P`` the current iterate's pre-activations (primal forms)."""
        if self.form != "gram":
            write_pre_activations(self.X_parts, self.W, self.P, self.rows)


def allocate(problem, start=None):
    """Return the state of a run of ``problem``, at its initial weights or at ``start``."""
    return State(problem, start)


def run_chunk(state, losses, events, recent, settings):
    """At most ``len(losses) - 1`` steps of ``state``'s run (see the registry's docstring)."""
    full = state.settings(*settings)
    out = (losses, events, recent)
    if state.form == "gram":
        return gram_optimizer_descent(state.K, state.model, state.carried, out, full, state.opt)
    return primal_optimizer_descent(
        state.X_parts, state.W, state.model, state.carried, out, full, state.opt
    )
