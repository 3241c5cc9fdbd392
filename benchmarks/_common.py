"""Shared pieces: result containers, timing, data, child processes."""

import json
import os
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

    first: float
    times: list
    result: object = None  # what the last call returned

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


def measure(funcs, repeats):
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

    Returns
    -------
    dict of str to Timing
    """
    timings = {name: Timing(clock(f)[0], []) for name, f in funcs.items()}
    for _ in range(repeats):
        for name, f in funcs.items():
            seconds, timings[name].result = clock(f)
            timings[name].times.append(seconds)
    return timings


def gaussian_data(n, d, seed=0):
    """Dense float64 Gaussian inputs and targets."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.standard_normal(n)


def mem_available_bytes():
    """``MemAvailable`` from /proc/meminfo (None where it does not exist)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def run_child(args, *, env=None, timeout=3600):
    """Run ``python -m benchmarks._child ARGS`` and return the JSON it prints last.

    The child sees the repository on ``PYTHONPATH`` so it imports this checkout.
    """
    child_env = dict(os.environ if env is None else env)
    path = child_env.get("PYTHONPATH", "")
    child_env["PYTHONPATH"] = str(REPO_ROOT) + (os.pathsep + path if path else "")
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks._child", *map(str, args)],
        cwd=REPO_ROOT,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"child {args} failed:\n{proc.stderr[-2000:]}")
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
