"""The package without compiled kernels, and without a writable Numba cache."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(code_or_args, env_extra):
    env = {**os.environ, **env_extra}
    args = code_or_args if isinstance(code_or_args, list) else ["-c", code_or_args]
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=900
    )


def test_nojit_subset_passes_with_numba_disabled():
    """Tests marked ``nojit`` run the kernels as plain Python (NUMBA_DISABLE_JIT=1)."""
    args = [
        "-m",
        "pytest",
        "-m",
        "nojit",
        "-q",
        "-p",
        "no:cacheprovider",
        "-o",
        "addopts=--import-mode=importlib",
        "tests",
    ]
    collected = run([*args, "--collect-only"], {}).stdout.strip().splitlines()[-1]
    proc = run(args, {"NUMBA_DISABLE_JIT": "1"})
    tail = proc.stdout.strip().splitlines()[-1]
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert " passed" in tail and "failed" not in tail and "skipped" not in tail, tail
    # every nojit-marked test ran: "N/M tests collected" vs "N passed"
    assert int(tail.split()[0]) == int(collected.split("/")[0]) > 20, (tail, collected)


CODE = """
import numba.core.caching as caching

def read_only(self):
    raise OSError("read-only file system")

# what Numba sees on a read-only install with no writable user cache
caching._CacheLocator.ensure_cache_path = read_only
import numpy as np
from sklearn_relubias import PAPER_MODEL, ShallowReLURegressor
def paper_estimator(**params):
    return ShallowReLURegressor(**{**PAPER_MODEL, **params})
from sklearn_relubias._gd._backends import _numba
assert type(_numba.gram_descent._cache).__name__ == "NullCache"
assert type(_numba.primal_descent._cache).__name__ == "NullCache"
X, y = np.random.default_rng(0).standard_normal((5, 30)), np.arange(5.0)
est = paper_estimator(max_iter=50, tol=1e-3).fit(X, y)
print("ok", est.n_iter_)
"""


def test_works_without_a_writable_cache():
    proc = run(CODE, {})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.startswith("ok")
