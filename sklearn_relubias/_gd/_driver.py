"""The gradient-descent driver: allocates the state, runs a backend in chunks, reads status.

Estimators call :func:`run_gd` and read :class:`Status`; only this module
talks to a backend. Long fits run as a sequence of kernel calls ("chunks")
that resume exactly where the previous one stopped, so results do not depend
on the chunking. Between chunks Python runs again: Ctrl-C raises
``KeyboardInterrupt`` there, and the loss curve grows with the run instead of
being sized by ``max_iter``.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import NamedTuple

import numpy as np

from .._linalg import span
from . import _numba
from ._problem import GramOperator


class Status(IntEnum):
    """How a gradient-descent run ended."""

    CONVERGED = 0  # the gradient norm fell below tol times its initial value
    MAX_ITER = 1  # max_iter steps without converging
    NON_FINITE = 2  # the next iterate was not finite; the result is the last finite one
    STOPPED = 3  # on_chunk asked to stop


@dataclass
class GDResult:
    """What one gradient-descent run produced (see :func:`run_gd`)."""

    hidden_weights: np.ndarray
    dual_coef: np.ndarray
    activation_pattern: np.ndarray
    loss_curve: np.ndarray
    n_iter: int
    status: Status
    stable_iter: int
    step_size: float
    pattern_changes: np.ndarray
    n_pattern_changes: int
    initial_grad_norm: float


class Progress(NamedTuple):
    """What ``on_chunk`` receives after each kernel call (internal units)."""

    n_iter: int  # steps so far
    loss: float  # current training loss
    done: bool  # whether the run has ended
    weights: Callable[[], np.ndarray]  # current hidden weights, computed on demand


def _weights_now(problem, W, C):
    """Return a function that computes the current hidden weights (a copy)."""
    if W is not None:
        return W.copy
    return lambda: problem.init_weights + span(C, problem.operator.X)


# Most pattern changes stored when they are recorded (24 MB of int64 rows).
MAX_RECORDED_CHANGES = 1_000_000
# Steps of the first chunk; later chunks grow towards CHUNK_SECONDS of work each.
FIRST_CHUNK = 1000
CHUNK_SECONDS = 0.2


def _next_budget(previous, seconds, remaining):
    """Return the next chunk's steps: about ``CHUNK_SECONDS`` of work, at most twice the last."""
    per_step = seconds / max(previous, 1)
    target = int(CHUNK_SECONDS / per_step) if per_step > 0 else 2 * previous
    return int(min(max(target, 1), 2 * previous, remaining))


def run_gd(
    problem,
    *,
    max_iter,
    tol,
    record_pattern=False,
    grad_ref=None,
    on_chunk=None,
    chunk_steps=None,
    first_chunk=None,
):
    """Run full-batch gradient descent on ``problem`` for at most ``max_iter`` steps.

    Parameters
    ----------
    problem : GDProblem
        From :func:`~sklearn_relubias._gd.make_problem`.
    max_iter : int
        Maximum number of steps.
    tol : float
        Stop when ``||grad||_F <= tol * ||grad_0||_F``.
    record_pattern : bool, default=False
        Record each change of the activation pattern as a row
        ``(iteration, sample, neuron)`` (at most ``MAX_RECORDED_CHANGES``).
    grad_ref : float, default=None
        The gradient norm ``tol`` is relative to; None for the one at the
        initial weights (a warm start passes the one of the cold start).
    on_chunk : callable, default=None
        Called as ``on_chunk(progress)`` after each kernel call, with a
        :class:`Progress`; returning True stops the run (``Status.STOPPED``
        unless it had ended already).
    chunk_steps : int, default=None
        Steps of every kernel call (the last may be shorter); None lets the
        driver size them (about ``CHUNK_SECONDS`` each).
    first_chunk : int, default=None
        Steps of the first kernel call (``FIRST_CHUNK`` if None); the result
        does not depend on it.

    Returns
    -------
    GDResult
    """
    op = problem.operator
    P = problem.init_pre_activations.copy()
    C = np.zeros_like(P)
    W = None if isinstance(op, GramOperator) else problem.init_weights.copy()
    model = (problem.output_weights, problem.targets, problem.weights)
    g_ref = -1.0 if grad_ref is None else grad_ref
    initial_grad_norm = None
    losses, events = [], []
    n_iter, n_events, stable_iter = 0, 0, 0
    budget = min(chunk_steps or first_chunk or FIRST_CHUNK, max_iter)
    status = Status.MAX_ITER
    while True:
        capacity = MAX_RECORDED_CHANGES - min(n_events, MAX_RECORDED_CHANGES)
        chunk_events = np.empty(
            (min(capacity, P.size * budget) if record_pattern else 0, 3), np.int64
        )
        chunk_losses = np.empty(budget + 1)
        start = time.perf_counter()
        steps, code, last_change, chunk_n_events, g0 = _numba.descend(
            op, W, model, P, C, chunk_losses, chunk_events, (problem.step_size, tol, g_ref)
        )
        seconds = time.perf_counter() - start
        if initial_grad_norm is None:
            initial_grad_norm = g0
            g_ref = g0 if g_ref < 0.0 else g_ref
            losses.append(chunk_losses[:1])
        losses.append(chunk_losses[1 : steps + 1])
        kept = chunk_events[: min(chunk_n_events, len(chunk_events))]
        kept[:, 0] += n_iter
        events.append(kept)
        if last_change:
            stable_iter = n_iter + last_change
        n_iter += steps
        n_events += chunk_n_events
        if code == _numba.CONVERGED:
            status = Status.CONVERGED
        elif code == _numba.NON_FINITE:
            status = Status.NON_FINITE
        done = code != _numba.BUDGET or n_iter == max_iter
        if on_chunk is not None:
            progress = Progress(
                n_iter, float(chunk_losses[steps]), done, _weights_now(problem, W, C)
            )
            if on_chunk(progress) and not done:
                status, done = Status.STOPPED, True
        if done:
            break
        remaining = max_iter - n_iter
        budget = (
            min(chunk_steps, remaining) if chunk_steps else _next_budget(budget, seconds, remaining)
        )
    if W is None:
        W = _weights_now(problem, W, C)()
    loss_curve = np.concatenate(losses)
    # a NaN loss only comes from overflowing outputs of opposite signs: the sum of
    # squares is then beyond float64, which inf says
    loss_curve[np.isnan(loss_curve)] = np.inf
    return GDResult(
        hidden_weights=W,
        dual_coef=C,
        activation_pattern=P > 0,
        loss_curve=loss_curve,
        n_iter=n_iter,
        status=status,
        stable_iter=stable_iter,
        step_size=problem.step_size,
        pattern_changes=np.concatenate(events),
        n_pattern_changes=n_events,
        initial_grad_norm=float(g_ref),
    )
