"""gap_sweep(store=...): a killed sweep keeps its finished cells, and a rerun resumes."""

import math
import os
import signal
import sqlite3
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from _sweep_helpers import KILLED_SWEEP, exit_once, one_row_short, slow_high_dim

import sklearn_relubias
from sklearn_relubias.experiments import gap_sweep
from sklearn_relubias.experiments._store import dumps, loads

TESTS = Path(__file__).resolve().parent
SMALL = dict(
    n_samples=[6, 8],
    n_features=40,
    n_repeats=2,
    estimator_params={"n_neurons": 1, "max_iter": 2000},
    param_grid={"learning_rate": [1.0, 0.1]},
    dataset=slow_high_dim,
    random_state=3,
)


def same(a, b):
    """Whether two values are the same: same type, floats bit for bit (NaN included)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return struct.pack(">d", a) == struct.pack(">d", b)
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    return a == b


def assert_same_records(got, expected, skip=("fit_time",)):
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        g = {k: v for k, v in g.items() if k not in skip}
        e = {k: v for k, v in e.items() if k not in skip}
        assert same(g, e), (g, e)


def stored_cells(path):
    """``{cell: (run, records JSON)}`` read from the store's file."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return {
            c: (run, text) for c, run, text in conn.execute("SELECT cell, run, records FROM cells")
        }


def test_values_round_trip_exactly():
    negative_nan = struct.unpack(">d", bytes.fromhex("fff8000000000001"))[0]
    values = [
        None,
        True,
        False,
        0,
        -7,
        2**100,
        0.1,
        -0.0,
        5e-324,
        1.7976931348623157e308,
        math.inf,
        -math.inf,
        math.nan,
        negative_nan,
        "généralisation",
        (1, 2.5),
        [1, [2.0, None]],
        {"a": 1, "b": (True,)},
        np.array([[1.5, np.nan], [-0.0, np.inf]]),
        np.array([1, 2], dtype=np.int32),
    ]
    for value in values:
        assert same(loads(dumps(value)), value), value
    # NumPy scalars come back as the Python scalar of the same value
    for scalar, expected in ((np.float64(0.1), 0.1), (np.int64(3), 3), (np.bool_(True), True)):
        assert same(loads(dumps(scalar)), expected)
    with pytest.raises(TypeError, match="object"):
        dumps(object())
    with pytest.raises(TypeError, match="key"):
        dumps({1: 2})


def test_stored_records_are_the_records(tmp_path):
    """Through the store, every value keeps its type and bits (NaN r0 included)."""
    plain = gap_sweep(**SMALL, n_jobs=1)
    stored = gap_sweep(**SMALL, n_jobs=1, store=tmp_path / "s.sqlite")
    assert any(math.isnan(r["r0"]) for r in plain.records)  # sample spectrum: r0 is NaN
    assert_same_records(stored.records, plain.records)
    resumed = gap_sweep(**SMALL, n_jobs=1, store=tmp_path / "s.sqlite")  # all from the store
    assert_same_records(resumed.records, stored.records, skip=())
    assert stored.entropy == resumed.entropy == 3


def test_killed_sweep_resumes_with_the_records_of_an_uninterrupted_run(tmp_path):
    """SIGKILL a sweep midway (in a subprocess), rerun: only the missing cells are computed."""
    path = tmp_path / "sweep.sqlite"
    script = (
        "import sys\n"
        "from _sweep_helpers import KILLED_SWEEP\n"
        "from sklearn_relubias.experiments import gap_sweep\n"
        "gap_sweep(**KILLED_SWEEP, n_jobs=1, store=sys.argv[1])\n"
    )
    package_root = Path(sklearn_relubias.__file__).resolve().parents[1]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(TESTS), str(package_root)]),
        "RELUBIAS_TEST_DELAY": "0.5",  # per cell: time to see a partial store
    }
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(path)], env=env, start_new_session=True
    )
    n_cells = 2 * 2 * 2
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if stored_cells(path):
                    break
            except sqlite3.OperationalError:  # not created yet
                pass
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    before = stored_cells(path)
    assert 1 <= len(before) < n_cells
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)

    resumed = gap_sweep(**KILLED_SWEEP, n_jobs=1, store=path)
    after = stored_cells(path)
    assert {c: after[c] for c in before} == before  # the finished cells were not recomputed
    assert {run for c, (run, _) in after.items() if c not in before} == {2}
    with sqlite3.connect(path) as conn:
        runs = conn.execute("SELECT run, n_computed, status FROM runs").fetchall()
    assert runs == [(1, len(before), None), (2, n_cells - len(before), "complete")]

    uninterrupted = gap_sweep(**KILLED_SWEEP, n_jobs=1)
    assert_same_records(resumed.records, uninterrupted.records)
    # the resumed cells' records are the stored ones, fit_time included
    kept = [loads(text) for _, (_, text) in sorted(before.items())]
    assert_same_records(resumed.records[: 2 * len(kept)], [r for c in kept for r in c], skip=())


def test_other_arguments_with_an_existing_store_raise(tmp_path):
    path = tmp_path / "s.sqlite"
    base = {**SMALL, "n_samples": 6, "n_repeats": 1}
    gap_sweep(**base, store=path)
    with pytest.raises(ValueError, match=r"n_repeats \(stored 1, given 2\)"):
        gap_sweep(**{**base, "n_repeats": 2}, store=path)
    with pytest.raises(ValueError, match=r"arguments: dataset_params .*; param_grid "):
        gap_sweep(
            **{**base, "param_grid": {"learning_rate": [0.5]}},
            dataset_params={"unused": 1},
            store=path,
        )
    with pytest.raises(ValueError, match=r"arguments: dataset \(stored '_sweep_helpers"):
        gap_sweep(**{**base, "dataset": one_row_short}, store=path)
    with pytest.raises(ValueError, match=r"arguments: random_state \(stored 3, given 4\)"):
        gap_sweep(**{**base, "random_state": 4}, store=path)
    with pytest.raises(ValueError, match=r"arguments: estimator_params"):
        gap_sweep(**{**base, "estimator_params": {"n_neurons": 2}}, store=path)
    # n_jobs and verbose are not arguments of the sweep; the equivalent spelling 6 == [6] resumes
    again = gap_sweep(**{**base, "n_samples": [6]}, n_jobs=2, verbose=0, store=path)
    assert len(again.records) == 2
    (tmp_path / "other.sqlite").write_bytes(b"not a database at all" * 100)
    with pytest.raises(ValueError, match="not a gap_sweep store"):
        gap_sweep(**base, store=tmp_path / "other.sqlite")
    with pytest.raises(TypeError, match="cannot record estimator_params"):
        gap_sweep(**{**base, "estimator_params": {"callbacks": [object()]}}, store=path)


def test_random_state_none_is_drawn_once_and_kept_in_the_store(tmp_path):
    path = tmp_path / "s.sqlite"
    args = {**SMALL, "n_samples": 6, "n_repeats": 1, "random_state": None}
    first = gap_sweep(**args, store=path)
    again = gap_sweep(**args, store=path)
    assert again.entropy == first.entropy and isinstance(first.entropy, int)
    assert_same_records(again.records, first.records, skip=())
    explicit = gap_sweep(**{**args, "random_state": first.entropy}, n_jobs=1)
    assert_same_records(explicit.records, first.records)
    with pytest.raises(ValueError, match="random_state"):
        gap_sweep(**{**args, "random_state": 0}, store=path)


def dying_sweep(n_repeats, **dataset_params):
    """A sweep whose cells with n_samples=8 kill their worker process (see exit_once)."""
    return dict(
        n_samples=[6, 8],
        n_features=40,
        n_repeats=n_repeats,
        estimator_params={"n_neurons": 1, "max_iter": 2000},
        dataset=exit_once,
        dataset_params={"die_n": 8, **dataset_params},
        random_state=5,
    )


def test_a_dead_worker_is_retried_and_the_other_cells_kept(tmp_path):
    """A cell whose worker process dies once (os._exit) is run again; nothing is lost."""
    marker = tmp_path / "died"
    args = dying_sweep(2, marker=str(marker))
    res = gap_sweep(**args, n_jobs=2, store=tmp_path / "s.sqlite")
    assert marker.exists()  # a worker did die
    assert res.failed == []
    uninterrupted = gap_sweep(**args, n_jobs=1)  # the marker is there: nothing dies
    assert_same_records(res.records, uninterrupted.records)


def test_a_cell_that_always_kills_its_worker_is_reported_and_the_rest_kept(tmp_path):
    path = tmp_path / "s.sqlite"
    args = dying_sweep(1)  # no marker: the worker dies every time
    with pytest.warns(UserWarning, match="gave up 1 of 2 cells"):
        res = gap_sweep(**args, n_jobs=2, store=path)
    assert [(c["n_samples"], c["n_features"], c["repeat"]) for c in res.failed] == [(8, 40, 0)]
    assert "TerminatedWorkerError" in res.failed[0]["error"]
    assert [r["n_samples"] for r in res.records] == [6]
    assert list(stored_cells(path)) == [0]  # the lost cell is computed by the next call
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT status, n_failed FROM runs").fetchall() == [("incomplete", 1)]
    assert "1 cells failed" in repr(res)


@pytest.mark.parametrize("dies", ["once", "always"])
def test_run_cells_halves_the_lost_cells_until_the_culprit_runs_alone(monkeypatch, dies):
    """joblib does not say whose worker died: the unfinished cells are halved until the
    culprit runs alone; it is then retried once, and given up after a second death."""
    from concurrent.futures import BrokenExecutor

    from sklearn_relubias.experiments import _gap_sweep

    culprit, rounds = 5, []

    def parallel(calls, n_jobs):  # finishes the cells before the culprit, then its worker dies
        group = [args[0] for _, args, _ in calls]
        rounds.append(group)
        for cell in group:
            if cell == culprit and (dies == "always" or len(rounds) == 1):
                raise BrokenExecutor("a worker died")
            yield cell, [{"cell": cell}]

    monkeypatch.setattr(_gap_sweep, "_parallel", parallel)
    done = []
    calls = {c: _gap_sweep.delayed(_gap_sweep._cell_task)(c) for c in range(8)}
    failed = _gap_sweep._run_cells(calls, 2, lambda cell, recs: done.append(cell))
    if dies == "once":
        assert failed == {} and sorted(done) == list(range(8))
        assert rounds == [list(range(8)), [5], [6, 7]]  # halves of the unfinished 5, 6, 7
    else:
        assert list(failed) == [culprit] and "a worker died" in failed[culprit]
        assert sorted(done) == [c for c in range(8) if c != culprit]
        assert rounds == [list(range(8)), [5], [5], [6, 7]]  # alone twice, then given up


def test_sigterm_stops_the_command_cleanly(tmp_path):
    """SIGTERM used to kill the command on the spot; it now stops like Ctrl-C (exit 130)."""
    script = (
        "import os, signal, sys\n"
        "from sklearn_relubias import _cli, _reproduce\n"
        "def sweep(*args, **kwargs):\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    raise AssertionError('SIGTERM did not stop the sweep')\n"
        "_reproduce.gap_sweep = sweep\n"
        "_reproduce._compile_kernel = lambda: None\n"
        "sys.exit(_cli.main(['reproduce', '--quick', '--out', sys.argv[1]]))\n"
    )
    package_root = Path(sklearn_relubias.__file__).resolve().parents[1]
    proc = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        env={**os.environ, "PYTHONPATH": str(package_root)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 130, proc.stderr
    assert "interrupted" in proc.stderr and "run the same command again to resume" in proc.stderr
