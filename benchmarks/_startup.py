"""Case 5: cold start. The first default fit and ``relubias reproduce --quick``, empty Numba cache.

Every process gets ``NUMBA_CACHE_DIR`` pointing at a new temporary directory:
the first process compiles every kernel it needs and fills the cache, the
following ones load it.
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from ._common import REPO_ROOT, Section, Target, clock, run_child

FIRST_FIT_GOAL_S = 4.0
WARM_OVERHEAD_GOAL_S = 1.0
REPRODUCE_GOAL_S = 25.0


def _first_fits(n, d, warm_runs):
    """Rows ``(label, process wall, child result)``: one empty-cache process, then warm ones."""
    runs = []
    with tempfile.TemporaryDirectory(prefix="relubias_numba_cache_") as cache_dir:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir}
        for i in range(1 + warm_runs):
            wall, res = clock(lambda: run_child(["cold_start", n, d], env=env))
            runs.append(("empty cache" if i == 0 else f"warm cache #{i}", wall, res))
    return runs


def _reproduce():
    """Seconds of ``relubias reproduce --quick``: with an empty Numba cache, then with it filled."""
    command = [str(Path(sys.executable).with_name("relubias")), "reproduce", "--quick", "--out"]
    seconds = {}
    with tempfile.TemporaryDirectory(prefix="relubias_reproduce_") as tmp:
        env = {**os.environ, "NUMBA_CACHE_DIR": str(Path(tmp) / "numba_cache")}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
        for label in ("empty cache", "warm cache"):
            out = Path(tmp) / label.replace(" ", "_")
            seconds[label], proc = clock(
                lambda out=out: subprocess.run(
                    [*command, str(out)], env=env, capture_output=True, text=True
                )
            )
            if proc.returncode != 0:
                raise RuntimeError(f"relubias reproduce failed:\n{proc.stderr[-2000:]}")
    return seconds


def run(cfg):
    n, d, warm_runs = cfg["n"], cfg["d"], cfg["warm_runs"]
    runs = _first_fits(n, d, warm_runs)
    fits = Section(
        key="5_first_fit",
        title=f"5. Cold start: ShallowReLURegressor().fit(X, y) in a fresh process "
        f"(dense, n={n}, d={d}: dual path)",
        headers=[
            "process",
            "process wall [s]",
            "import [s]",
            "first fit [s]",
            "second fit [s]",
            "first - second [s]",
        ],
    )
    for label, wall, res in runs:
        first, second = res["first_fit_s"], res["second_fit_s"]
        fits.rows.append([label, wall, res["import_s"], first, second, first - second])
    cold_first = runs[0][2]["first_fit_s"]
    warm_overhead = float(np.median([r[3] - r[4] for r in fits.rows[1:]]))
    fits.notes += [
        "Each row is a separate `python -m benchmarks._child cold_start` process with "
        "NUMBA_CACHE_DIR pointing at the same new temporary directory: the first process "
        "compiles the kernels the default fit needs (gradient descent, min-norm reference) and "
        "fills the cache, the following ones load it. first - second = compile (or cache "
        "load) time.",
        "import = `import numpy` + `from sklearn_relubias import ShallowReLURegressor` (pulls "
        "in SciPy, scikit-learn, Numba); process wall also includes interpreter start-up and "
        "data generation. Python bytecode caches are not emptied.",
    ]
    fits.targets += [
        Target(
            "first default fit, fresh process, empty Numba cache",
            f"<= {FIRST_FIT_GOAL_S:g} s",
            f"{cold_first:.2f} s",
            bool(cold_first <= FIRST_FIT_GOAL_S),
        ),
        Target(
            "first fit, fresh process, warm Numba cache",
            f"adds < {WARM_OVERHEAD_GOAL_S:g} s",
            f"+{warm_overhead:.3f} s (median of {warm_runs})",
            bool(warm_overhead < WARM_OVERHEAD_GOAL_S),
        ),
    ]

    seconds = _reproduce()
    reproduce = Section(
        key="5_reproduce",
        title="5 (reproduce). `relubias reproduce --quick --out <tmpdir>` as a subprocess",
        headers=["Numba cache", "wall [s]"],
        rows=[[label, s] for label, s in seconds.items()],
        notes=[
            "Both runs share one new NUMBA_CACHE_DIR: empty for the first, filled by it for "
            "the second. Wall time of the whole command (interpreter start-up, imports, "
            "compile, the quick sweep, figures); the installed package, not a fresh venv.",
        ],
        targets=[
            Target(
                "relubias reproduce --quick, empty Numba cache",
                f"< {REPRODUCE_GOAL_S:g} s",
                f"{seconds['empty cache']:.1f} s",
                bool(seconds["empty cache"] < REPRODUCE_GOAL_S),
            )
        ],
    )
    return [fits, reproduce]
