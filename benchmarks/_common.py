"""Shared pieces: result containers, timing, data, child processes."""

import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Target:
    """One of the issue's performance targets and whether this run met it."""

    name: str
    goal: str
    measured: str
    met: bool | None  # None: not evaluated (case skipped or failed)


def all_pass_target(name, goal, total, failed, *, unit, failed_as):
    """A target met when none of ``total`` checks failed: ``"k/total unit; failed_as: ..."``.

    ``failed`` lists the name of each failed check (repeats named once).
    """
    names = ", ".join(dict.fromkeys(failed))
    measured = f"{total - len(failed)}/{total} {unit}" + (
        f"; {failed_as}: {names}" if failed else ""
    )
    return Target(name, goal, measured, not failed)


@dataclass
class Section:
    """One printed table: a title, column headers, rows, notes and targets."""

    key: str
    title: str
    headers: list
    rows: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    targets: list = field(default_factory=list)


@dataclass
class Timing:
    """Wall-clock times of one callable: the warm-up call and the timed repeats."""

    first: float | None
    times: list
    results: list = field(default_factory=list)  # what each timed call returned

    @property
    def result(self):
        return self.results[-1]

    @property
    def median(self):
        return float(np.median(self.times))

    @property
    def min(self):
        return float(np.min(self.times))


def clock(func):
    """Seconds one call of ``func()`` takes, and its return value."""
    start = time.perf_counter()
    out = func()
    return time.perf_counter() - start, out


def single_thread():
    """Context manager limiting every BLAS/OpenMP pool in this process to one thread."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def measure(funcs, repeats, *, warmup=True):
    """Time several callables side by side.

    Each callable is called once as a warm-up (timed separately), then the
    callables are called in turn, ``repeats`` rounds, so that load from other
    processes hits all of them alike.

    Parameters
    ----------
    funcs : dict of str to callable
        The alternatives, called without arguments.
    repeats : int
        Timed rounds.
    warmup : bool, default=True
        Whether to make the warm-up call (``Timing.first`` is None without it).

    Returns
    -------
    dict of str to Timing
    """
    timings = {name: Timing(clock(f)[0] if warmup else None, []) for name, f in funcs.items()}
    for _ in range(repeats):
        for name, f in funcs.items():
            seconds, result = clock(f)
            timings[name].times.append(seconds)
            timings[name].results.append(result)
    return timings


THREAD_SETTINGS = {"": "default BLAS threads", "@1": "BLAS 1 thread"}


def measure_threads(funcs, repeats):
    """``measure`` twice: with the default BLAS threads, then with one thread.

    The two blocks run one after the other rather than interleaved, because
    changing an OpenBLAS pool's size between calls perturbs the next call.
    Returns a dict with keys ``name`` (default) and ``name + "@1"``.
    """
    timings = measure(funcs, repeats)
    with single_thread():
        timings.update({k + "@1": t for k, t in measure(funcs, repeats).items()})
    return timings


def kernel_seconds(estimator):
    """Seconds a fitted ShallowReLURegressor spent in its gradient-descent backend.

    The driver times every backend call and the estimator records the sum in
    ``decisions_['kernel_seconds']``; nothing is wrapped or patched.
    """
    return float(estimator.decisions_["kernel_seconds"])


def gaussian_data(n, d, seed=0):
    """Dense float64 Gaussian inputs and targets."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.standard_normal(n)


class ChildFailed(RuntimeError):
    """A child process exited with an error; ``reason`` is the last line of its stderr."""

    def __init__(self, args, stderr, returncode=None):
        lines = stderr.strip().splitlines()
        self.reason = lines[-1] if lines else "no error message"
        self.returncode = returncode
        super().__init__(f"child {args} failed:\n{stderr[-2000:]}")


def run_child(args, *, env=None, timeout=3600, memory_limit=None):
    """Run ``python -m benchmarks._child ARGS`` and return the JSON it prints last.

    The child sees the repository on ``PYTHONPATH`` so it imports this checkout.
    ``memory_limit`` (bytes) caps its address space (``RLIMIT_AS``), so that an
    oversized allocation raises MemoryError at once instead of swapping.
    Raises ChildFailed if the child exits with an error.
    """
    child_env = dict(os.environ if env is None else env)
    path = child_env.get("PYTHONPATH", "")
    child_env["PYTHONPATH"] = str(REPO_ROOT) + (os.pathsep + path if path else "")

    def limit_memory():
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))

    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks._child", *map(str, args)],
        cwd=REPO_ROOT,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=None if memory_limit is None else limit_memory,
    )
    if proc.returncode != 0:
        raise ChildFailed(args, proc.stderr, proc.returncode)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def fmt(value, digits=4):
    """Compact text for a table cell."""
    if value is None:
        return "-"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        if not np.isfinite(value):
            return str(value)
        if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
            return f"{value:.{digits - 1}e}"
        return f"{value:.{digits}g}"
    return str(value)


def ms(seconds):
    return 1e3 * seconds


def us(seconds):
    return 1e6 * seconds
