"""Data sets for the sweep tests that workers and subprocesses import by name."""

import os
import time
from pathlib import Path

from sklearn_relubias.datasets import make_high_dim_regression


def slow_high_dim(n_samples, n_features, random_state=None):
    """make_high_dim_regression, after sleeping ``$RELUBIAS_TEST_DELAY`` seconds (default 0).

    The delay comes from the environment, not from an argument, so that a
    slowed-down run and a fast one are the same sweep to a store. No
    ``return_params``: the records' spectrum columns are sample estimates
    (``r0`` is NaN), which the store must keep.
    """
    time.sleep(float(os.environ.get("RELUBIAS_TEST_DELAY", "0")))
    return make_high_dim_regression(n_samples, n_features, random_state=random_state)


def exit_once(n_samples, n_features, random_state=None, die_n=None, marker=None):
    """Kill the calling process (``os._exit``) when drawing ``n_samples == die_n``.

    With a ``marker`` path, only the first time (the file is created just
    before dying); without one, every time.
    """
    if n_samples == die_n and (marker is None or not Path(marker).exists()):
        if marker is not None:
            Path(marker).touch()
        os._exit(3)
    return make_high_dim_regression(n_samples, n_features, random_state=random_state)


def one_row_short(n_samples, n_features, random_state=None):
    """A data set with one example fewer than asked for."""
    X, y = make_high_dim_regression(n_samples, n_features, random_state=random_state)
    return X[:-1], y[:-1]


# The sweep that test_store.py kills midway, in a subprocess, and resumes.
KILLED_SWEEP = dict(
    n_samples=[6, 8],
    n_features=[40, 80],
    n_repeats=2,
    estimator_params={"n_neurons": 1, "max_iter": 3000},
    param_grid={"learning_rate": [1.0, 0.1]},
    dataset=slow_high_dim,
    random_state=11,
)


def spy_parallel(monkeypatch):
    """Record the n_jobs gap_sweep gives joblib, and run the cells in-process instead.

    (Never the 1000 workers a test asks for.) Returns the list of n_jobs seen.
    """
    from sklearn_relubias.experiments import _gap_sweep

    seen, real = [], _gap_sweep.Parallel

    def spy(n_jobs=None, **kwargs):
        seen.append(n_jobs)
        return real(n_jobs=1, **kwargs)

    monkeypatch.setattr(_gap_sweep, "Parallel", spy)
    return seen
