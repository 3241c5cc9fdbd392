"""Case 5: Numba compile time (cold cache) and first-fit overhead with a warm cache."""

import os
import shutil
import tempfile

import numpy as np

from ._common import Section, Target, clock, run_child


def run(cfg):
    n, d, iters, warm_runs = cfg["n"], cfg["d"], cfg["iters"], cfg["warm_runs"]
    cache_dir = tempfile.mkdtemp(prefix="relubias_numba_cache_")
    env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir}
    try:
        runs = []
        for i in range(1 + warm_runs):
            wall, res = clock(lambda: run_child(["startup", n, d, iters], env=env))
            runs.append(("cold (empty cache)" if i == 0 else f"warm cache #{i}", wall, res))
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)

    sec = Section(
        key="5_startup",
        title=f"5. Fresh process: first fit vs later fits (n={n}, d={d}, {iters} iterations)",
        headers=[
            "process",
            "process wall [s]",
            "import [s]",
            "first fit [s]",
            "later fits, median [s]",
            "first - later [s]",
        ],
    )
    overheads = []
    for label, wall, res in runs:
        later = float(np.median(res["later_fit_s"]))
        overhead = res["first_fit_s"] - later
        if not label.startswith("cold"):
            overheads.append(overhead)
        sec.rows.append([label, wall, res["import_s"], res["first_fit_s"], later, overhead])
    cold = runs[0][2]["first_fit_s"] - float(np.median(runs[0][2]["later_fit_s"]))
    warm = float(np.median(overheads))
    sec.notes += [
        "Each row is a separate `python -m benchmarks._child startup` process with "
        "NUMBA_CACHE_DIR pointing at the same new temporary directory: the first process "
        f"compiles the kernels and writes the cache (cold compile ~ {cold:.2f} s), the "
        "following ones load it.",
        "import = `import numpy, sklearn_relubias` (pulls in SciPy, scikit-learn, Numba); "
        "process wall also includes interpreter start-up and data generation.",
    ]
    sec.targets.append(
        Target(
            "first fit, fresh process, warm cache",
            "adds < 1 s",
            f"+{warm:.3f} s (median of {len(overheads)})",
            bool(warm < 1.0),
        )
    )
    return [sec]
