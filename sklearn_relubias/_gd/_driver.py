"""The gradient-descent driver: picks a backend, runs it in chunks, reads status.

Estimators (through the fit plan) call :func:`run_gd` and read
:class:`Status`; only this module talks to a backend, which it selects from
the registry by what the problem needs (``_backends.select``). Long fits run
as a sequence of backend calls ("chunks") that resume exactly where the
previous one stopped, so results do not depend on the chunking. Between
chunks Python runs again: Ctrl-C raises ``KeyboardInterrupt`` there, and the
loss curve grows with the run instead of being sized by ``max_iter``.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import IntEnum
from typing import NamedTuple

import numpy as np

from . import _backends


class Status(IntEnum):
    """How a gradient-descent run ended."""

    CONVERGED = 0  # the gradient norm fell below tol times its initial value
    MAX_ITER = 1  # max_iter steps without converging
    NON_FINITE = 2  # the next iterate was not finite; the result is the last finite one
    STOPPED = 3  # on_chunk asked to stop
    FLOOR = 4  # the gradient reached the Gram matrix's rounding floor, with no X to go on with
    STALLED = 5  # the loss fell by at most loss_tol of itself over the last n_iter_no_change steps
    INTERPOLATED = 6  # (window rule on) the loss fell below 1e-6 of the initial loss


_ENDED = {
    _backends.CONVERGED: Status.CONVERGED,
    _backends.NON_FINITE: Status.NON_FINITE,
    _backends.FLOOR: Status.FLOOR,
    _backends.STALLED: Status.STALLED,
    _backends.INTERPOLATED: Status.INTERPOLATED,
}


@dataclass
class GDResult:
    """What one gradient-descent run produced (see :func:`run_gd`)."""

    hidden_weights: np.ndarray
    dual_coef: np.ndarray
    pre_activations: np.ndarray
    activation_pattern: np.ndarray
    loss_curve: np.ndarray
    n_iter: int
    status: Status
    stable_iter: int
    step_size: float
    pattern_changes: np.ndarray
    n_pattern_changes: int
    initial_grad_norm: float
    kernel_seconds: float
    backend: str
    handed_over_at: int | None
    optimizer_state: dict


class Progress(NamedTuple):
    """What ``on_chunk`` receives after each backend call (internal units)."""

    n_iter: int  # steps so far
    loss: float  # current training loss
    done: bool  # whether the run has ended
    weights: Callable[[], np.ndarray]  # current hidden weights, computed on demand


# Most pattern changes stored when they are recorded (24 MB of int64 rows).
MAX_RECORDED_CHANGES = 1_000_000
# Steps of the first chunk; later chunks grow (at most doubling) towards
# CHUNK_SECONDS of work each, so that Ctrl-C is honoured within about that long
# however slow a step is, and buffers are sized by time, not by max_iter.
FIRST_CHUNK = 1
CHUNK_SECONDS = 0.2


def _next_budget(previous, seconds, remaining):
    """Return the next chunk's steps: about ``CHUNK_SECONDS`` of work, at most twice the last."""
    per_step = seconds / max(previous, 1)
    target = int(CHUNK_SECONDS / per_step) if per_step > 0 else 2 * previous
    return int(min(max(target, 1), 2 * previous, remaining))


class _Log:
    """Losses, pattern changes and counters gathered over the chunks of one run."""

    def __init__(self, record_pattern, n_entries):
        self.record, self.n_entries = record_pattern, n_entries
        self.losses, self.events = [], []
        self.n_iter = self.n_events = self.stable_iter = 0
        self.seconds = 0.0

    def buffers(self, budget):
        """Output arrays of the next chunk: losses and room for its pattern changes."""
        capacity = MAX_RECORDED_CHANGES - min(self.n_events, MAX_RECORDED_CHANGES)
        rows = min(capacity, self.n_entries * budget) if self.record else 0
        return np.empty(budget + 1), np.empty((rows, 3), np.int64)

    def add(self, losses, events, steps, last_change, n_events):
        """Keep what a chunk of ``steps`` steps wrote."""
        if not self.losses:
            self.losses.append(losses[:1])
        self.losses.append(losses[1 : steps + 1])
        kept = events[: min(n_events, len(events))]
        kept[:, 0] += self.n_iter
        self.events.append(kept)
        if last_change:
            self.stable_iter = self.n_iter + last_change
        self.n_iter += steps
        self.n_events += n_events

    def loss_curve(self):
        # a NaN loss only comes from overflowing outputs of opposite signs: the sum of
        # squares is then beyond float64, which inf says
        curve = np.concatenate(self.losses)
        curve[np.isnan(curve)] = np.inf
        return curve


def run_gd(
    problem,
    *,
    max_iter,
    tol,
    n_iter_no_change=None,
    loss_tol=0.0,
    record_pattern=False,
    grad_ref=None,
    on_chunk=None,
    report_every=None,
    first_chunk=None,
):
    """Run gradient descent on ``problem`` for at most ``max_iter`` steps.

    Parameters
    ----------
    problem : GDProblem
        From the fit plan.
    max_iter : int
        Maximum number of steps.
    tol : float
        Stop when ``||grad||_F <= tol * ||grad_0||_F``.
    n_iter_no_change : int, default=None
        The window rule: stop (``Status.STALLED``) at the first step ``T >=
        n_iter_no_change`` where the loss fell by at most ``loss_tol`` times
        ``L[T - n_iter_no_change]`` over the last ``n_iter_no_change`` steps
        (or, ``Status.INTERPOLATED``, once the loss is below 1e-6 of the
        initial loss); None: off. Checked at every step inside the kernel, so where it stops
        does not depend on the chunking.
    loss_tol : float, default=0.0
        The relative decrease of the window rule.
    record_pattern : bool, default=False
        Record each change of the activation pattern as a row
        ``(iteration, sample, neuron)`` (at most ``MAX_RECORDED_CHANGES``).
    grad_ref : float, default=None
        The gradient norm ``tol`` is relative to; None for the one at the
        initial weights (a warm start passes the one of the cold start).
    on_chunk : callable, default=None
        Called as ``on_chunk(progress)`` with a :class:`Progress` after each
        backend call, or every ``report_every`` steps when that is given;
        returning True stops the run (``Status.STOPPED`` unless it had ended
        already).
    report_every : int, default=None
        Steps between two calls of ``on_chunk`` (and at the end); the backend
        calls in between stay sized by time (about ``CHUNK_SECONDS`` each).
    first_chunk : int, default=None
        Steps of the first backend call (``FIRST_CHUNK`` if None); the result
        does not depend on it.

    Returns
    -------
    GDResult
    """
    backend = _backends.select(problem)
    state = backend.allocate(problem)
    log = _Log(record_pattern, state.P.size)
    g_ref = -1.0 if grad_ref is None else grad_ref
    initial_grad_norm = None
    # a window longer than the run can never close: off (and no buffer of its length)
    window = n_iter_no_change if n_iter_no_change and n_iter_no_change <= max_iter else 0
    recent = np.empty(window + 1)  # the window rule's last losses and L[0], across chunks
    budget = min(first_chunk or FIRST_CHUNK, max_iter)
    next_report = report_every or 0
    status, handed_over_at = Status.MAX_ITER, None
    while True:
        if report_every:  # never step past the next report
            budget = min(budget, next_report - log.n_iter)
        losses, events = log.buffers(budget)
        start = time.perf_counter()
        settings = (problem.step_size, tol, g_ref, window, loss_tol, log.n_iter)
        steps, code, last_change, n_events, g0 = backend.run_chunk(
            state, losses, events, recent, settings
        )
        seconds = time.perf_counter() - start
        log.seconds += seconds
        if initial_grad_norm is None:
            initial_grad_norm = g0
            g_ref = g0 if g_ref < 0.0 else g_ref
        log.add(losses, events, steps, last_change, n_events)
        if code == _backends.FLOOR and problem.fallback is not None:
            # the Gram form cannot resolve the gradient below here: go on with X itself,
            # from the same iterate, so the stop is decided as on the primal path
            problem = replace(problem, operator=problem.fallback(), fallback=None)
            state.finish()
            start_at = (state.P, state.C, state.weights(), state.carry())
            backend = _backends.select(problem)
            state = backend.allocate(problem, start=start_at)
            handed_over_at, code = log.n_iter, _backends.BUDGET
        status = _ENDED.get(code, status)
        done = code != _backends.BUDGET or log.n_iter == max_iter
        if on_chunk is not None and (done or not report_every or log.n_iter == next_report):
            next_report += report_every or 0
            progress = Progress(log.n_iter, float(losses[steps]), done, state.weights)
            if on_chunk(progress) and not done:
                status, done = Status.STOPPED, True
        if done:
            break
        budget = _next_budget(budget, seconds, max_iter - log.n_iter)
    state.finish()
    return GDResult(
        hidden_weights=state.weights(),
        dual_coef=state.C,
        pre_activations=state.P,
        activation_pattern=state.P > 0,
        loss_curve=log.loss_curve(),
        n_iter=log.n_iter,
        status=status,
        stable_iter=log.stable_iter,
        step_size=problem.step_size,
        pattern_changes=np.concatenate(log.events),
        n_pattern_changes=log.n_events,
        initial_grad_norm=float(g_ref),
        kernel_seconds=log.seconds,
        backend=backend.__name__.rsplit(".", 1)[-1].lstrip("_"),
        handed_over_at=handed_over_at,
        optimizer_state=state.carry(),
    )
