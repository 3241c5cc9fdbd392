r"""Exact gradient flow of the shallow network, integrated from event to event.

Gradient flow ``dW/dt = -grad L(W)`` on ``L = 1/(2n) sum_i r_i^2`` (``r = f(X)
- y``) is what gradient descent follows as ``learning_rate -> 0``, in the
time ``t = eta * steps``. It stays in the data span, ``w_j = w0_j + sum_i
c_ij x_i``, and is piecewise linear: while each pair (example ``i``, neuron
``j``) keeps its side of the kink, ``dc_j/dt = -(1/n) a_j theta_j * r`` with
``theta_ij = sigma'(p_ij)`` (1 above the kink, ``alpha`` below), and the
residuals obey the linear system ``dr/dt = -H r`` with a symmetric positive
semi-definite ``H``, solved exactly by its eigen-decomposition.

On the kink (``p_ij = 0``) the one-sided fields may both push into it; the
Filippov solution then *slides*: ``theta_ij`` in ``[alpha, 1]`` is whatever
keeps ``p_ij = 0``. For one neuron with sliding set ``S`` and the others
``N``, ``g = theta * r`` on ``S`` solves ``K_SS g_S = -K_SN g_N``; the
residual dynamics stay linear, with the Schur complement of ``K_SS`` in
place of ``K`` (so ``H`` stays symmetric). At each event (a pre-activation
reaching the kink, a sliding multiplier reaching ``alpha`` or 1) the pairs on
the kink are re-assigned by a small complementarity problem per neuron: the
box-constrained quadratic program ``min 1/2 h^T (K_ZZ / n) h - q^T h`` over
``h_i = a_j g_ij`` between ``alpha a_j r_i`` and ``a_j r_i`` (for pairs whose
own term pulls into the kink, ``a_j r_i >= 0``), whose optimality conditions
are exactly Filippov's: at the upper end the field points up, at the lower
end down, inside it vanishes. Pairs whose own term pushes away from the
kink (``a_j r_i < 0``) leave it on the side their field points to (above
when both do, the ``sigma'(0) = 1`` convention).

Events are located on a geometric time grid (ratio :data:`GRID_RATIO`) and
then to rounding by Brent's method; two crossings of one pre-activation
within one grid interval would be missed (a sum of exponentials touching the
kink). The end point's certificate (its rest conditions, measured on the
weights) does not see that: the flow after a missed pair of crossings still
ends at a rest point (forced with a coarse grid, 3 of 6 such runs were not
flagged). Gradient descent at small steps is the check.
"""

from dataclasses import dataclass, field
from numbers import Integral

import numpy as np
from scipy.optimize import brentq, lsq_linear
from sklearn.utils import check_array, column_or_1d

from .._linalg import gram, pre_activations
from .._metrics import distance, min_norm_reference, relative_distance
from .._model import append_constant
from .._shallow import PAPER_MODEL, ShallowReLURegressor
from ..exceptions import StrandedExampleWarning, warn

#: Ratio of consecutive times of the event-search grid.
GRID_RATIO = 1.02
#: Steps of gradient descent's first-step map (in units of the step) that decide
#: which pairs leave a kink they start on (:meth:`_Flow.first_steps`).
TRANSIENT_STEPS = 400
#: gradient_flow warns when its end point's certificate exceeds this.
CERTIFICATE_TOL = 1e-6
#: Events a flow may have before it is declared non-terminating.
MAX_EVENTS = 20_000

_ABOVE, _KINK, _BELOW = 1, 0, -1


@dataclass
class GradientFlowResult:
    """The end point of exact gradient flow, with its history.

    Attributes
    ----------
    hidden_weights : ndarray of shape (n_neurons, n_features)
        The limit ``W(inf)``.
    dual_coef : ndarray of shape (n_samples, n_neurons)
        ``W(inf) = W0 + dual_coef.T @ X``.
    init_hidden_weights : ndarray of shape (n_neurons, n_features)
    activation_pattern : ndarray of shape (n_samples, n_neurons), dtype bool
        Pairs strictly above the kink at the end (not sliding).
    sliding : ndarray of shape (n_samples, n_neurons), dtype bool
        Pairs held on the kink at the end.
    stranded_indices : ndarray of int
        Examples no neuron that could fit them is active on at the end: the
        flow stopped above the global minimum of the loss (with a
        ``StrandedExampleWarning``), as gradient descent does on them.
    certificate : float
        Largest violation of the rest conditions at the end point, with the
        pre-activations recomputed from the weights: every pair on its
        side (on the kink when sliding), every sliding multiplier in
        ``[alpha, 1]``, and no velocity (``||dW/dt||`` relative to
        ``max|a| ||X^T r|| / n``, ``r`` the targets or the start's
        residual). Rounding level (about 1e-12) when the end point is a
        rest point of the flow; a warning above 1e-6. It
        cannot tell one rest point from another (a missed pair of crossings
        or another branch than gradient descent's ends at one too).
    events : list of tuple
        ``(time, example, neuron, kind)`` with kind ``'kink'`` (a
        pre-activation reached 0) or ``'leave'`` (a sliding pair left the
        kink), in order; the reassignment at ``t = 0`` is not listed.
    loss : float
        ``L(W(inf))``.
    final_time : float
        Time of the last event (0 when none).
    min_norm_gap, min_norm_distance : float
        Relative and absolute distance to the label-sign minimum-norm
        interpolant (the estimators' ``min_norm_gap_``).
    """

    hidden_weights: np.ndarray = field(repr=False)
    dual_coef: np.ndarray = field(repr=False)
    init_hidden_weights: np.ndarray = field(repr=False)
    activation_pattern: np.ndarray = field(repr=False)
    sliding: np.ndarray = field(repr=False)
    stranded_indices: np.ndarray = field(repr=False)
    certificate: float = np.nan
    events: list = field(default_factory=list, repr=False)
    loss: float = np.nan
    final_time: float = 0.0
    min_norm_gap: float = np.nan
    min_norm_distance: float = np.nan


def gradient_flow(X, y, *, estimator=None, max_events=MAX_EVENTS):
    """Integrate gradient flow exactly, from the estimator's start to its limit.

    The limit of gradient descent as ``learning_rate -> 0``, computed without
    steps (see the module notes: linear dynamics between activation events,
    Filippov sliding on the kink). For ``d >= n`` problems of research size:
    each event costs an ``n x n`` eigen-decomposition and an ``n x n`` solve
    per neuron (n = 20, d = 2000: milliseconds per event).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Inputs; ``X X^T`` must be non-singular (``n_samples <= n_features``,
        rows independent).
    y : ndarray of shape (n_samples,)
        Targets.
    estimator : ShallowReLURegressor, default=None
        Only its parameters are read (fitted or not); they give the model
        and the start (``n_neurons``,
        ``output_weights``, ``activation``, ``negative_slope``, ``init``,
        ``init_scale``, ``random_state``, ``fit_intercept``, ``hidden_bias``:
        with ``c > 0`` the flow runs on ``[X, c 1]`` and the weights' last
        column is ``b / c``). None:
        ``ShallowReLURegressor(**PAPER_MODEL)``, the +/- pair from zero.
    max_events : int, default=20000
        Raise a RuntimeError beyond this many events.

    Returns
    -------
    GradientFlowResult

    Examples
    --------
    >>> from sklearn_relubias.datasets import make_orthogonal_regression
    >>> from sklearn_relubias.experiments import gradient_flow
    >>> X, y = make_orthogonal_regression(10, 100, random_state=0)
    >>> res = gradient_flow(X, y)
    >>> bool(res.min_norm_gap < 1e-12)  # gradient descent's gap is learning_rate / 2
    True
    """
    est = ShallowReLURegressor(**PAPER_MODEL) if estimator is None else estimator
    if not isinstance(est, ShallowReLURegressor):
        raise TypeError(f"estimator must be a ShallowReLURegressor, got {type(est).__name__}.")
    est._validate_params()
    if not isinstance(max_events, Integral) or max_events < 1:
        raise ValueError(f"max_events must be a positive integer, got {max_events!r}.")
    X = check_array(X, dtype=np.float64)
    y = column_or_1d(y).astype(np.float64)
    if y.shape[0] != X.shape[0] or not np.all(np.isfinite(y)):
        raise ValueError(f"y must hold {X.shape[0]} finite targets, one per row of X.")
    if est.fit_intercept:
        y = y - y.mean()
    X = append_constant(X, float(est.hidden_bias))  # with biases: the flow on [X, c 1]
    n, d = X.shape
    if n > d:
        raise ValueError(
            f"gradient_flow needs a non-singular X X^T, so n_samples <= n_features; got {n} > {d}."
        )
    model = est._model()
    W0 = est._initial_weights(model.n_neurons, d)
    K = gram(X)
    lam = np.linalg.eigvalsh(K)
    if lam[0] <= n * np.finfo(float).eps * 100 * lam[-1]:
        raise ValueError(
            "gradient_flow needs a non-singular X X^T; its rows are (numerically) dependent "
            f"(eigenvalues {lam[0]:.3g} .. {lam[-1]:.3g}): drop duplicate or dependent rows."
        )
    flow = _Flow(K, y, model, pre_activations(X, W0))
    C, events = flow.run(max_events)
    W = W0 + C.T @ X
    certificate = flow.certificate(pre_activations(X, W))
    if certificate > CERTIFICATE_TOL:
        warn(
            f"gradient_flow's end point violates the flow's rest conditions by {certificate:.2g} "
            "(a pair off its side, a sliding multiplier outside [alpha, 1] or a velocity): "
            "an event was probably missed; check it against gradient descent at small "
            "learning rates.",
            UserWarning,
        )
    sliding = flow.mode == _KINK
    active = (pre_activations(X, W) > 0) & ~sliding
    stranded = model.stranded_examples(y, active | sliding)
    loss = float(model.training_loss(X, y, W))
    if stranded.size and loss > 1e-20 * max(float(np.mean(y**2)), 1e-300):
        warn(
            f"Gradient flow stopped with {stranded.size} example(s) (e.g. index {stranded[0]}) "
            "inactive for every neuron that could fit them, at training loss "
            f"{loss:.3g}: a stationary point above the global minimum (stranded_indices).",
            StrandedExampleWarning,
        )
    ref = min_norm_reference(
        X,
        y,
        model.output_weights,
        activation=est.activation,
        negative_slope=est.negative_slope,
        gram_matrix=K,  # formed once above
    )
    return GradientFlowResult(
        hidden_weights=W,
        dual_coef=C,
        init_hidden_weights=W0,
        activation_pattern=active,
        sliding=sliding,
        stranded_indices=stranded,
        certificate=certificate,
        events=events,
        loss=loss,
        final_time=events[-1][0] if events else 0.0,
        min_norm_gap=relative_distance(W, ref.weights),
        min_norm_distance=distance(W, ref.weights),
    )


class _Flow:
    """The state of the flow: coefficients, pre-activations, each pair's mode."""

    def __init__(self, K, y, model, P0):
        self.K, self.y, self.n = K, y, y.shape[0]
        self.a = model.output_weights
        self.alpha = model.negative_slope
        self.P = P0.copy()
        self.C = np.zeros_like(P0)
        self.scale = max(np.max(np.abs(y), initial=0.0), np.max(np.abs(P0), initial=0.0), 1e-300)
        self.tol = 1e-11 * self.scale
        self.ftol = self.tol * np.max(np.diag(K)) / self.n  # fields: rates of p
        self.mode = np.where(P0 > self.tol, _ABOVE, np.where(P0 < -self.tol, _BELOW, _KINK))
        self.P[self.mode == _KINK] = 0.0
        self.r0 = self.residual()

    # -- the field ---------------------------------------------------------
    def theta(self):
        return np.where(self.mode == _ABOVE, 1.0, self.alpha)

    def residual(self, P=None):
        P = self.P if P is None else P
        c = np.where(self.mode == _KINK, 0.0, self.theta())
        return np.sum(self.a * c * P, axis=1) - self.y

    def _maps(self):
        """Per neuron, ``T_j`` (``g_j = T_j r``) and ``B_j = K T_j``; and ``H``."""
        n, K = self.n, self.K
        T, B = [], []
        H = np.zeros((n, n))
        theta = self.theta()
        for j in range(self.a.shape[0]):
            S = np.flatnonzero(self.mode[:, j] == _KINK)
            N = np.flatnonzero(self.mode[:, j] != _KINK)
            Tj = np.zeros((n, n))
            Tj[N, N] = theta[N, j]  # off the kink g = theta r
            if S.size:  # on it, g_S keeps p_S = 0: K_SS g_S = -K_SN g_N (no r_S)
                Tj[np.ix_(S, N)] = -np.linalg.solve(K[np.ix_(S, S)], K[np.ix_(S, N)] * theta[N, j])
            Bj = K @ Tj
            Bj[S] = 0.0  # the sliding pre-activations stay on the kink (exactly)
            T.append(Tj)
            B.append(Bj)
            c = np.where(self.mode[:, j] == _KINK, 0.0, theta[:, j])
            H += (self.a[j] ** 2 / n) * (c[:, None] * Bj)
        return T, B, (H + H.T) / 2

    # -- the kink: Filippov's complementarity problem ---------------------
    def assign_kink(self):
        """Give each pair on the kink its mode (above, below, sliding) from the current field."""
        r = self.residual()
        theta = self.theta()
        for j in range(self.a.shape[0]):
            Z = np.flatnonzero(self.mode[:, j] == _KINK)
            if Z.size == 0:
                continue
            self.mode[Z, j] = self._assign_neuron(j, Z, r, theta[:, j])

    def _assign_neuron(self, j, Z, r, theta):
        n, K, a, alpha = self.n, self.K, self.a[j], self.alpha
        N = np.setdiff1d(np.arange(n), Z)
        q = -(a / n) * (K[np.ix_(Z, N)] @ (theta[N] * r[N]))
        ar = a * r[Z]
        push = ar < 0  # the pair's own term pushes away from the kink
        above = push.copy()  # pushing pairs: theta fixed, 1 (above) to start
        M = K[np.ix_(Z, Z)] / n
        L = np.linalg.cholesky(M)
        for _ in range(2 * Z.size + 2):
            h_fixed = np.where(above, ar, alpha * ar)
            lo, hi = alpha * ar, ar.copy()
            lo[push], hi[push] = h_fixed[push], h_fixed[push]
            lo, hi = np.minimum(lo, hi), np.maximum(lo, hi)
            h = _box_qp(L, q, lo, hi)
            f = q - M @ h  # dp/dt of each pair on the kink
            flip = push & ((above & (f < -self.ftol)) | (~above & (f > self.ftol)))
            if not flip.any():
                break
            above[flip] = ~above[flip]
        # Off the kink where the field says so. A multiplier at a bound of its box with a
        # vanishing field (a neuron resting at 0, say) takes that bound's side, as gradient
        # descent does (its iterates sit strictly on one side); only an interior multiplier
        # slides. Pairs pushed away leave on the side chosen above.
        width = hi - lo
        degenerate = width <= self.tol
        at_lo = ~degenerate & (h <= lo + 1e-9 * width)
        at_hi = ~degenerate & (h >= hi - 1e-9 * width)
        modes = np.full(Z.size, _KINK)
        modes[(f > self.ftol) | (at_hi & (f >= -self.ftol))] = _ABOVE
        modes[(f < -self.ftol) | (at_lo & (f <= self.ftol))] = _BELOW
        modes[push] = np.where(above[push], _ABOVE, _BELOW)
        # A pair with no multiplier to choose (r_i = 0) and no field: the side of the field
        # with sigma'(0) = 1 on the kink, where gradient descent's next step takes it.
        tie = degenerate & ~push & (np.abs(f) <= self.ftol)
        if tie.any():
            f_one = q - M @ ar
            modes[tie & (f_one > self.ftol)] = _ABOVE
            modes[tie & (f_one < -self.ftol)] = _BELOW
        return modes

    def certificate(self, P):
        """Largest violation of the flow's rest conditions at pre-activations ``P`` (from W).

        Each pair on its mode's side (on the kink when sliding), each sliding
        multiplier ``theta = g / r`` within ``[alpha, 1]``, and no velocity:
        ``||dW/dt||`` relative to the first velocity's scale ``max|a| ||X^T
        r|| / n`` with ``r`` the targets or the start's residual, the larger.
        """
        self.P = P
        T, _, _ = self._maps()
        r = self.residual()
        tiny = np.finfo(float).tiny
        scale = max(np.max(np.abs(P), initial=0.0), np.max(np.abs(self.y), initial=0.0), tiny)
        wrong = np.where(self.mode == _ABOVE, -P, np.where(self.mode == _BELOW, P, np.abs(P)))
        parts = [np.max(np.maximum(wrong, 0.0), initial=0.0) / scale]
        # the first velocity's scale: from the targets or from the start's residual
        r_scale = max(self.y @ self.K @ self.y, self.r0 @ self.K @ self.r0, tiny)
        y_scale = np.sqrt(r_scale) * np.max(np.abs(self.a)) / self.n
        velocity = 0.0
        for j in range(self.a.shape[0]):
            g = T[j] @ r
            velocity += (self.a[j] / self.n) ** 2 * max(g @ self.K @ g, 0.0)
            kink = self.mode[:, j] == _KINK
            h, ar = self.a[j] * g[kink], self.a[j] * r[kink]
            slack = np.minimum(h - self.alpha * ar, ar - h)
            parts.append(np.max(np.maximum(-slack, 0.0), initial=0.0) / scale)
        parts.append(np.sqrt(velocity) / y_scale)
        return float(max(parts))

    # -- one segment ---------------------------------------------------------
    def first_steps(self):
        """Send the pairs that start on the kink where gradient descent's first steps do.

        From the kink, gradient descent's first steps are of the size of the
        step ``eta`` and leave the residual ``r`` unchanged to first order:
        in units of ``eta``, ``u = P / eta`` follows the map
        ``u <- u - (1/n) a_j K (theta(u) * r)`` with ``theta = 1`` for
        ``u >= 0`` (``sigma'(0) = 1``), the same for every learning rate.
        :data:`TRANSIENT_STEPS` steps of it (``O(n^2 m)`` each) decide each
        pair's side: the one it keeps through the second half of them
        (moving away, or resting below, as a neuron that died does); the
        pairs that keep crossing slide, and are assigned with Filippov's
        rule (:meth:`assign_kink`).
        """
        Z = self.mode == _KINK
        if not Z.any():
            return
        r = self.residual()
        theta_off = self.theta()
        u = np.zeros_like(self.P)
        crossed = np.zeros(u.shape, dtype=bool)  # changed side in the second half
        for k in range(TRANSIENT_STEPS):
            theta = np.where(Z, np.where(u >= 0, 1.0, self.alpha), theta_off)
            u_new = np.where(Z, u - (self.a / self.n) * (self.K @ (theta * r[:, None])), 0.0)
            if k >= TRANSIENT_STEPS // 2:
                crossed |= (u_new >= 0) != (u >= 0)
            u = u_new
        # a side kept through the second half (moving away, or resting below: a dead
        # neuron) is that side; the pairs that kept crossing slide
        self.mode[Z & ~crossed & (u >= 0)] = _ABOVE
        self.mode[Z & ~crossed & (u < 0)] = _BELOW
        self.assign_kink()  # the pairs left on the kink: sliding, or off by Filippov's rule

    def run(self, max_events):
        events = []
        self.first_steps()
        for _ in range(max_events):
            T, B, H = self._maps()
            lam, V = np.linalg.eigh(H)
            r0 = self.residual()
            b = V.T @ r0
            positive = lam > 1e-12 * max(lam[-1], 1e-300)
            if not positive.any():  # nothing moves
                return self.C, events
            segment = _Segment(self, T, B, lam, V, b, positive)
            hit = segment.first_event()
            if hit is None:  # to the limit
                segment.advance(np.inf)
                return self.C, events
            t, i, j, kind = hit
            segment.advance(t)
            events.append((events[-1][0] + t if events else t, int(i), int(j), kind))
            self.P[i, j] = 0.0
            if kind == "leave":  # its multiplier reached a bound: it leaves on that side
                self.mode[i, j] = segment.leaving_side(i, j)
            else:  # it reached the kink: the neuron's kink pairs are reassigned
                self.mode[i, j] = _KINK
                self.assign_kink()
        raise RuntimeError(f"gradient_flow: more than max_events={max_events} events.")


class _Segment:
    """The closed-form flow while the modes stay, and the search for its first event."""

    def __init__(self, flow, T, B, lam, V, b, positive):
        self.flow, self.T, self.B = flow, T, B
        self.lam, self.V, self.b, self.positive = lam, V, b, positive

    def _r_phi(self, t):
        """``r(t)`` and ``phi(t) = int_0^t r`` for an array of times (rows)."""
        t = np.atleast_1d(t)[:, None]
        lam = self.lam[None, :]
        with np.errstate(invalid="ignore"):  # 0 * inf at the limit, replaced below
            decay = np.exp(-lam * t)
        with np.errstate(divide="ignore", invalid="ignore"):
            psi = np.where(self.positive, -np.expm1(-lam * t) / lam, t)
        psi = np.where(np.isinf(t) & ~self.positive, 0.0, psi)  # null directions do not move W
        decay = np.where(np.isinf(t), np.where(self.positive, 0.0, 1.0), decay)
        return (decay * self.b) @ self.V.T, (psi * self.b) @ self.V.T

    def _values(self, t):
        """Event functions at times ``t``: ``(len(t), n, m)``, all >= 0 while the modes hold."""
        flow = self.flow
        r, phi = self._r_phi(t)
        n, m = flow.P.shape
        out = np.empty((r.shape[0], n, m))
        for j in range(m):
            Pj = flow.P[:, j] - (flow.a[j] / flow.n) * (phi @ self.B[j].T)
            g = r @ self.T[j].T
            mode = flow.mode[:, j]
            side = np.where(mode == _BELOW, -Pj, Pj)
            # sliding: a_j g between alpha a_j r and a_j r
            h, ar = flow.a[j] * g, flow.a[j] * r
            slack = np.minimum(h - flow.alpha * ar, ar - h)
            out[:, :, j] = np.where(mode == _KINK, slack, side)
        return out

    def first_event(self):
        lam = self.lam[self.positive]
        t_lo, t_hi = 1e-9 / lam[-1], 60.0 / lam[0]
        steps = int(np.ceil(np.log(t_hi / t_lo) / np.log(GRID_RATIO)))
        grid = np.append(np.geomspace(t_lo, t_hi, max(steps, 2)), np.inf)
        tol = self.flow.tol
        start = self._values(np.array([0.0]))[0]
        vals = self._values(grid)
        # a pair that starts at 0 (just assigned) must move to its side first
        bad = vals < -tol
        if not bad.any():
            return None
        k = int(np.argmax(bad.any(axis=(1, 2))))
        lo = 0.0 if k == 0 else grid[k - 1]
        hi = grid[k]
        best = None
        for i, j in zip(*np.nonzero(bad[k]), strict=True):

            def fun(t, i=i, j=j):
                return self._values(np.array([t]))[0, i, j]

            if np.isinf(hi):
                hi_t = grid[-2] * 2
                while fun(hi_t) >= -tol:
                    hi_t *= 2
            else:
                hi_t = hi
            f_lo = fun(lo) if lo > 0 else max(start[i, j], 0.0)
            if f_lo <= 0:  # already on the kink side at the grid's left end: an immediate event
                t = lo
            else:
                t = brentq(fun, lo, hi_t, xtol=1e-15 * hi_t, rtol=4 * np.finfo(float).eps)
            kind = "leave" if self.flow.mode[i, j] == _KINK else "kink"
            if best is None or t < best[0]:
                best = (t, i, j, kind)
        return best

    def advance(self, t):
        """Move the state to time ``t`` (``inf``: the limit) of this segment."""
        flow = self.flow
        _, phi = self._r_phi(np.array([t]))
        phi = phi[0]
        for j in range(flow.a.shape[0]):
            flow.C[:, j] -= (flow.a[j] / flow.n) * (self.T[j] @ phi)
            flow.P[:, j] -= (flow.a[j] / flow.n) * (self.B[j] @ phi)
        flow.P[flow.mode == _KINK] = 0.0

    def leaving_side(self, i, j):
        """Return the side a sliding pair leaves to: below when ``theta`` reached ``alpha``."""
        flow = self.flow
        r = flow.residual()
        g = self.T[j][i] @ r
        h, ar = flow.a[j] * g, flow.a[j] * r[i]
        return _BELOW if h - flow.alpha * ar < ar - h else _ABOVE


def _box_qp(L, q, lo, hi):
    """``argmin 1/2 h^T M h - q^T h`` over ``lo <= h <= hi``, ``M = L L^T`` (bounded lstsq)."""
    free = hi > lo
    h = lo.copy()
    if not free.any():
        return h
    # 1/2 ||L^T h - L^{-1} q||^2 = 1/2 h^T M h - q^T h + const
    b = np.linalg.solve(L, q)
    A = L.T
    rhs = b - A[:, ~free] @ h[~free]
    res = lsq_linear(A[:, free], rhs, bounds=(lo[free], hi[free]), method="bvls", tol=1e-15)
    h[free] = res.x
    return h
