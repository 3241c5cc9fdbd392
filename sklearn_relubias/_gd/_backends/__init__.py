"""Backends run gradient descent in chunks; the driver picks one by what it supports.

A backend is a module with

- ``supports(form, negative_slope, optimizer) -> bool``: the operator form
  (``'gram'``, ``'dense'``, ``'csr'``), the activation (every activation is
  piecewise linear, given by its negative-side slope) and the optimizer name;
- ``step_seconds(form, size, m) -> float``: the estimated seconds of one
  step of that form reading ``size`` operator entries (``n^2`` for K, ``n d``
  or the non-zeros for X) with ``m`` neurons, for ``solver='auto'``;
- ``allocate(problem, start=None) -> state``: the per-run state
  (pre-activations ``P``, coefficients ``C``, weights ``W`` where the form
  updates them), from a :class:`~sklearn_relubias._gd._problem.GDProblem`,
  at its initial weights or at ``start = (P, C, W, carried)`` (a run handed
  over from another form; ``carried`` is the optimizer's state);
- ``run_chunk(state, losses, events, recent, settings) -> (n_steps, code,
  last_change, n_events, g_start)``: at most ``len(losses) - 1`` steps,
  resuming exactly where the previous call stopped, ``code`` one of the
  status codes below; ``recent`` holds the run's last losses for the window
  rule and ``settings = (eta, tol, g_ref, window, loss_tol, t_run)``;
- the state's ``weights()`` method returns the current hidden weights (a copy),
  its ``carry()`` method the optimizer's state as a dict of copies (empty for
  plain gradient descent; a later run started from it goes on exactly),
  its ``finish()`` method brings its ``P`` and ``C`` attributes (the
  pre-activations and coefficients) to the current iterate (the driver calls
  it before reading them).

The driver imports this registry, never a backend module: backends are
imported by name when first selected.
"""

import importlib

CONVERGED = 0  # ||grad|| <= tol * g_ref
BUDGET = 1  # took every step this call allowed
NON_FINITE = 2  # the next iterate was not finite; the state holds the last finite one
FLOOR = 3  # the Gram form's gradient norm is near its rounding floor and above tol * g_ref
STALLED = 4  # the loss fell by at most loss_tol of itself over the last `window` steps
INTERPOLATED = 5  # (window rule on) the loss fell below INTERPOLATED_LOSS of the initial loss

#: Backend modules by name, in order of preference.
REGISTRY = {
    "numba": "sklearn_relubias._gd._backends._numba",
    "numba_optimizers": "sklearn_relubias._gd._backends._numba_optimizers",
}


def select(problem):
    """Return the first backend module that supports ``problem``."""
    return select_for(problem.operator.form, problem.negative_slope, problem.optimizer)


def select_for(form, negative_slope, optimizer):
    """Return the first backend module that supports this form, activation and optimizer."""
    for path in REGISTRY.values():
        backend = importlib.import_module(path)
        if backend.supports(form, negative_slope, optimizer):
            return backend
    raise ValueError(
        f"No gradient-descent backend supports operator form {form!r}, "
        f"negative_slope={negative_slope} and optimizer {optimizer!r}."
    )
