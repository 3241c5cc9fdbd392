"""Numba kernels: every compiled function of the package lives here.

Kernels only compute. They take float64 C-contiguous arrays and scalars, write
their results into buffers the caller allocated, never raise, and report how
they stopped through a status code (the module-level constants below) that the
Python driver turns into warnings.
"""

import numpy as np

from ._jit import jit

CONVERGED = 0
MAX_ITER = 1
NON_FINITE = 2
LIMIT = 3  # jumped to the certified limit of the stable-pattern recursion

# Stable iterations before the first attempt to jump to the limit (then doubled).
FIRST_LIMIT_CHECK = 10

# Where the iteration runs (argument ``path`` of gradient_descent).
DUAL = 0  # A = K, the Gram matrix
PRIMAL_DENSE = 1  # A = X
PRIMAL_CSR = 2  # X given by CSR arrays (data, indices, indptr)


@jit
def _forward(P, a, y, inv_n, D, active, t, events, n_events):
    """Loss, gradient coefficients and activation pattern at pre-activations P.

    Parameters
    ----------
    P : ndarray of shape (n_samples, n_neurons)
        Pre-activations ``<w_j, x_i>``.
    a : ndarray of shape (n_neurons,)
        Output weights.
    y : ndarray of shape (n_samples,)
        Targets.
    inv_n : float
        ``1 / n_samples``.
    D : ndarray of shape (n_samples, n_neurons)
        Output, overwritten: ``D[i, j] = r_i a_j g_ij / n`` with
        ``g_ij = 1[P[i, j] >= 0]``, so that ``grad_j = X.T @ D[:, j]``.
    active : ndarray of shape (n_samples, n_neurons), dtype bool
        Input: the previous pattern; output: ``P > 0``.
    t : int
        Iteration number recorded with each pattern change.
    events : ndarray of shape (capacity, 3), dtype int64
        Output: rows ``(t, i, j)`` appended for each entry of the pattern that
        changed, while there is room.
    n_events : int
        Rows of ``events`` already used.

    Returns
    -------
    loss : float
        ``1/(2n) sum_i (f(x_i) - y_i)^2``; ``nan`` if any ``P`` is not finite.
    changed : bool
        Whether the activation pattern differs from the one passed in.
    n_events : int
        Number of change events recorded so far (may exceed the capacity: only
        the first ``capacity`` are stored).
    """
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
        total += r * r
        for j in range(m):
            p = P[i, j]
            D[i, j] = inv_n * r * a[j] if p >= 0.0 else 0.0
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
    return 0.5 * inv_n * total, changed, n_events


@jit
def _search_direction(path, A, data, indices, indptr, D, G, S):
    """Change of the pre-activations per unit step, and the gradient norm.

    Writes, in place, ``S = K D`` (``DUAL``: ``A = K``) or ``G = D^T X`` and
    ``S = X G^T`` (``PRIMAL_DENSE``: ``A = X``; ``PRIMAL_CSR``: X as CSR
    arrays), and returns ``||grad||_F = sqrt(<D, S>)``.
    """
    n, m = D.shape
    if path == DUAL:
        np.dot(A, D, S)
    elif path == PRIMAL_DENSE:
        np.dot(D.T, A, G)
        np.dot(A, G.T, S)
    else:
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
    sq = 0.0
    for i in range(n):
        for j in range(m):
            sq += D[i, j] * S[i, j]
    return np.sqrt(max(sq, 0.0))


@jit
def _limit_basis(K, P, a):
    """Eigenbasis of the stable-pattern recursion, for ``_limit_jump``.

    With the pattern ``G = (P >= 0)`` fixed, the residual follows
    ``r <- (I - eta/n Q) r`` with ``Q = K * (G diag(a^2) G^T)`` (positive
    semi-definite, ``eta/n lambda_max(Q) <= learning_rate < 2``). Returns ``G``,
    the eigenvectors ``U`` and eigenvalues ``lam`` of ``Q`` kept above
    ``1e-13 n lambda_max``, and ``|K (G[:, j] * U)|`` per neuron. All of it
    depends only on the pattern, so it is reused while the pattern holds.
    """
    n, m = P.shape
    G = np.empty((n, m))
    for i in range(n):
        for j in range(m):
            G[i, j] = 1.0 if P[i, j] >= 0.0 else 0.0
    lam, U = np.linalg.eigh(K * np.dot(G * (a * a), G.T))
    keep = lam > max(lam[-1], 0.0) * n * 1e-13
    if lam[-1] <= 0.0:
        keep[:] = False
    Uk = np.ascontiguousarray(U[:, keep])
    M = np.empty((m, n, Uk.shape[1]))
    for j in range(m):
        M[j] = np.abs(np.dot(K, G[:, j : j + 1] * Uk))
    return G, Uk, np.ascontiguousarray(lam[keep]), M


@jit
def _limit_jump(K, P, C, a, y, G, U, lam, M):
    """Jump to the limit of gradient descent if the activation pattern provably stays fixed.

    With ``beta = U^T r / lam`` (``U``, ``lam``, ``M`` from ``_limit_basis``
    for the current pattern ``G``) the coefficients tend to ``C + dC``,
    ``dC[:, j] = -a_j G[:, j] * (U beta)``, and every pre-activation stays
    within ``env[i, j] = |a_j| sum_e M[j, i, e] |beta_e|`` of its limit along
    the whole remaining path (each mode decays as ``(1 - eta lam_e / n)^k``,
    of modulus at most 1). The jump is taken only if that envelope keeps
    every entry of ``P`` on its current side of zero (a certificate that plain
    stepping never changes the pattern again) and the residual has no
    component GD cannot remove on the fitted rows. ``P`` and ``C`` are
    updated in place.

    Returns
    -------
    jumped : bool
    """
    n, m = P.shape
    # cheap filter: an entry on the kink can never be certified
    if U.shape[1] == 0 or np.min(np.abs(P)) <= 1e-9 * np.max(np.abs(P)):
        return False
    r = np.empty(n)
    for i in range(n):
        f = 0.0
        for j in range(m):
            if P[i, j] > 0.0:
                f += a[j] * P[i, j]
        r[i] = f - y[i]
    coef = np.dot(U.T, r)
    # the part of r that GD cannot reduce must not feed any fitted row
    rest = r - np.dot(U, coef)
    scale = np.max(np.abs(r)) + 1e-300
    for i in range(n):
        for j in range(m):
            if G[i, j] > 0.0 and abs(rest[i]) > 1e-12 * scale:
                return False
    beta = coef / lam
    step = np.dot(U, beta)
    dC = np.empty((n, m))
    for j in range(m):
        dC[:, j] = -a[j] * G[:, j] * step
    P_lim = P + np.dot(K, dC)
    margin = 1e-12 * (np.max(np.abs(P_lim)) + 1e-300)
    abs_beta = np.abs(beta)
    for j in range(m):
        env = abs(a[j]) * np.dot(M[j], abs_beta)
        for i in range(n):
            if G[i, j] > 0.0:
                if P_lim[i, j] - env[i] <= margin:
                    return False
            elif P_lim[i, j] + env[i] >= -margin:
                return False
    for i in range(n):
        for j in range(m):
            C[i, j] += dC[i, j]
            P[i, j] = P_lim[i, j]
    return True


@jit
def gradient_descent(
    path, A, data, indices, indptr, P_out, C, W, a, y, eta, max_iter, tol, jump, loss_curve, events
):
    """Full-batch gradient descent on the shallow ReLU model, in place.

    Every path runs the same recursion on the pre-activations
    ``P = X W^T``: ``P <- P - eta * S`` with ``S = K D`` (dual path) or
    ``S = X (D^T X)^T`` (primal paths), and accumulates the data-span
    coefficients ``C <- C - eta * D``. The squared gradient norm is
    ``<D, S>`` on every path.

    Parameters
    ----------
    path : int
        ``DUAL``, ``PRIMAL_DENSE`` or ``PRIMAL_CSR``.
    A : ndarray of shape (n_samples, n_samples) or (n_samples, n_features)
        Gram matrix ``X X^T`` (``DUAL``), ``X`` (``PRIMAL_DENSE``), or an
        empty ``(0, 0)`` array (``PRIMAL_CSR``).
    data, indices, indptr : ndarray
        CSR arrays of ``X`` (float64, int64, int64) for ``PRIMAL_CSR``;
        empty arrays otherwise.
    P_out : ndarray of shape (n_samples, n_neurons)
        Input ``X W0^T``; output ``X W^T`` at the returned iterate.
    C : ndarray of shape (n_samples, n_neurons)
        Input zeros; output the data-span coefficients.
    W : ndarray of shape (n_neurons, n_features)
        Primal paths: input ``W0``, output the final weights. Dual path:
        unused (pass an empty ``(n_neurons, 0)`` array).
    a : ndarray of shape (n_neurons,)
        Output weights.
    y : ndarray of shape (n_samples,)
        Targets.
    eta : float
        Absolute step size.
    max_iter : int
        Maximum number of steps.
    tol : float
        Stop when ``||grad||_F <= tol * ||grad_0||_F``.
    jump : bool
        On the dual path, try to jump to the limit (``_limit_jump``). The
        pattern's eigenbasis (``_limit_basis``, ``O(n^3 m)``) is computed when
        the pattern has been stable for ``FIRST_LIMIT_CHECK`` steps, and again
        only after twice as long a streak once the pattern has changed (so at
        most ``log2(max_iter)`` times); with a basis for the current pattern,
        attempts cost ``O(n^2 m)`` and repeat every ``max(10, streak / 8)``
        steps. The jump counts as one step and ends the run with status
        ``LIMIT``.
    loss_curve : ndarray of shape (max_iter + 1,)
        Output: ``loss_curve[t]`` is the loss after ``t`` steps.
    events : ndarray of shape (capacity, 3), dtype int64
        Output: the first ``capacity`` changes of the activation pattern, as
        rows ``(t, i, j)``: entry ``(i, j)`` of ``P > 0`` differs between
        iterates ``t - 1`` and ``t``. Pass a ``(0, 3)`` array to record none.

    Returns
    -------
    n_iter : int
        Number of steps taken.
    status : int
        ``CONVERGED``, ``MAX_ITER``, ``NON_FINITE`` (the next iterate was not
        finite; the buffers hold the last finite one) or ``LIMIT``.
    stable_iter : int
        First iteration from which the pattern ``P > 0`` never changed.
    n_events : int
        Number of pattern changes (recorded or not).
    """
    n, m = P_out.shape
    inv_n = 1.0 / n
    # the current and candidate iterates swap buffers instead of being copied
    P, P_new = P_out, np.empty((n, m))
    D, D_new = np.empty((n, m)), np.empty((n, m))
    flipped = False
    S = np.empty((n, m))
    G = np.empty((m, W.shape[1]))
    active = np.zeros((n, m), dtype=np.bool_)

    loss, _, _ = _forward(P, a, y, inv_n, D, active, 0, events[:0], 0)
    loss_curve[0] = loss
    if not np.isfinite(loss):
        return 0, NON_FINITE, 0, 0
    g0 = _search_direction(path, A, data, indices, indptr, D, G, S)
    gnorm = g0
    stable_iter = 0
    n_events = 0
    status = MAX_ITER
    # jump_to_limit: eigenbasis cached per pattern (recomputed at streaks of 10,
    # 20, 40, ... when the pattern changed); attempts with a fresh basis are cheap
    next_basis = FIRST_LIMIT_CHECK
    next_try = FIRST_LIMIT_CHECK
    basis_iter = -1
    Gb, Ub, lamb, Mb = np.empty((n, m)), np.empty((n, 0)), np.empty(0), np.empty((m, n, 0))
    t = 0
    while True:
        if gnorm <= tol * g0:
            status = CONVERGED
            break
        if t == max_iter:
            break
        for i in range(n):
            for j in range(m):
                P_new[i, j] = P[i, j] - eta * S[i, j]
        loss, changed, n_new = _forward(P_new, a, y, inv_n, D_new, active, t + 1, events, n_events)
        if not np.isfinite(loss):
            status = NON_FINITE
            break
        for i in range(n):
            for j in range(m):
                C[i, j] -= eta * D[i, j]
        P, P_new = P_new, P
        D, D_new = D_new, D
        flipped = not flipped
        if path != DUAL:
            for j in range(m):
                for k in range(G.shape[1]):
                    W[j, k] -= eta * G[j, k]
        n_events = n_new
        t += 1
        loss_curve[t] = loss
        if changed:
            stable_iter = t
        elif jump and path == DUAL and t < max_iter:
            streak = t - stable_iter
            if basis_iter != stable_iter and streak >= next_basis:
                Gb, Ub, lamb, Mb = _limit_basis(A, P, a)
                basis_iter = stable_iter
                next_basis *= 2
                next_try = streak
            if basis_iter == stable_iter and streak >= next_try:
                if _limit_jump(A, P, C, a, y, Gb, Ub, lamb, Mb):
                    t += 1
                    loss_curve[t], _, _ = _forward(P, a, y, inv_n, D, active, t, events[:0], 0)
                    status = LIMIT
                    break
                next_try = streak + max(FIRST_LIMIT_CHECK, streak // 8)
        gnorm = _search_direction(path, A, data, indices, indptr, D, G, S)
    if flipped:
        P_out[:] = P
    return t, status, stable_iter, n_events
