"""Numba's on-disk cache can neither break a fit nor run someone else's code (issue 16).

Every scenario runs in child processes with a cache directory of its own in
``tmp_path``: a first child fills the cache, the test damages or exposes it,
a fresh child uses it. The damage matrix uses a small kernel compiled by the
package's ``_jit.jit`` (one module per scenario, so that one child runs them
all, each with a fresh dispatcher and cache); the end-to-end tests fit
``ShallowReLURegressor`` with the package's own kernel.
"""

import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_children(jobs):
    """Run ``(code, env_extra)`` jobs as ``python -c``, two at a time; return their JSON."""
    results = []
    for start in range(0, len(jobs), 2):  # two cores: at most two children at once
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", code],
                env={**os.environ, "PYTHONPATH": str(ROOT), **env},
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for code, env in jobs[start : start + 2]
        ]
        for proc in procs:
            out, err = proc.communicate(timeout=600)
            assert proc.returncode == 0, err[-3000:]
            results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def cache_files(top):
    """``{path: bytes}`` of the cache files below ``top``."""
    return {str(p): p.read_bytes() for p in sorted(Path(top).rglob("*.nb[ic]"))}


def damage(path, how):
    data = path.read_bytes()
    path.write_bytes(
        {"truncated": data[: len(data) // 2], "empty": b"", "garbage": b"not a pickle\n" * 20}[how]
    )


class Trap:
    """Unpickling it creates the file ``marker``: stands for an attacker's code."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


# -- the damage matrix on a small kernel ------------------------------------------------

KERNEL = """
from sklearn_relubias._jit import jit


@jit
def add(a, b):
    return a + b
"""

# One child runs every scenario: NUMBA_CACHE_DIR is config.CACHE_DIR, read by each new
# cache; the write failures are patched around the calls only (after the cache exists).
CHILD = """
import contextlib, errno, importlib, json, os, sys, warnings
os.umask(0o022)
sys.path.insert(0, {src!r})
import numba.core.caching as caching
from numba.core import config
from sklearn_relubias.exceptions import NumbaCacheWarning

Files, Locator = caching.IndexDataCacheFile, caching._CacheLocator
original = Files._open_for_write, Locator.ensure_cache_path


class FullDisk:
    def write(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")


@contextlib.contextmanager
def full(self, path):
    with original[0](self, path):  # Numba's own temporary file, removed on the error
        yield FullDisk()


def read_only(self, *args):
    raise OSError(errno.EROFS, "Read-only file system")


@contextlib.contextmanager
def failing(kind):
    if kind == "full":
        Files._open_for_write = full
    elif kind == "read-only":
        Files._open_for_write = Locator.ensure_cache_path = read_only
    try:
        yield
    finally:
        Files._open_for_write, Locator.ensure_cache_path = original


out = {{}}
for case, (top, kind) in {cases!r}.items():
    config.CACHE_DIR = top
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        kernel = importlib.import_module("k_" + case.replace("-", "_"))
        with failing(kind):
            values = [kernel.add(1, 2), kernel.add(1.5, 2.0)]
    out[case] = {{
        "values": values,
        "hits": sum(kernel.add.stats.cache_hits.values()),
        "warnings": [str(w.message) for w in caught if w.category is NumbaCacheWarning],
        "other_warnings": [str(w.message) for w in caught if w.category is not NumbaCacheWarning],
        "warned_at": [os.path.basename(w.filename) for w in caught],
    }}
print(json.dumps(out))
"""

DAMAGED = [(kind, how) for kind in ("nbi", "nbc") for how in ("truncated", "empty", "garbage")]
UNTRUSTED = {
    "world-writable": lambda top, leaf: leaf.chmod(0o777),
    "world-writable-top": lambda top, leaf: top.chmod(0o777),
    "group-writable": lambda top, leaf: leaf.chmod(0o775),
    "foreign-owner": lambda top, leaf: os.chown(leaf, 4242, 4242),
    "foreign-top": lambda top, leaf: os.chown(top, 4242, 4242),
    "writable-index": lambda top, leaf: next(leaf.glob("*.nbi")).chmod(0o666),
}
AS_ROOT = {"foreign-owner", "foreign-top"}  # chown needs root
FILLED = [f"{k}-{h}" for k, h in DAMAGED] + ["read-only", "sticky-top", "clean", *UNTRUSTED]
EMPTY = ["read-only-empty", "full"]
FAILING = {"read-only": "read-only", "read-only-empty": "read-only", "full": "full"}


@pytest.fixture(scope="module")
def matrix(tmp_path_factory):
    """Fill a cache per scenario, damage or expose it, use it in a fresh process."""
    base = tmp_path_factory.mktemp("numba_cache_matrix")
    src = base / "src"
    src.mkdir()
    tops = {}
    for case in FILLED + EMPTY:
        (src / f"k_{case.replace('-', '_')}.py").write_text(KERNEL)
        tops[case] = base / "caches" / case
        tops[case].mkdir(parents=True, mode=0o700)
    fill = {c: (str(tops[c]), None) for c in FILLED}
    if os.geteuid() != 0:
        fill = {c: v for c, v in fill.items() if c not in AS_ROOT}
    run_children([(CHILD.format(src=str(src), cases=fill), {})])
    leaves = {c: next(tops[c].iterdir()) for c in fill}
    for kind, how in DAMAGED:
        for path in leaves[f"{kind}-{how}"].glob(f"*.{kind}"):
            damage(path, how)
    tops["sticky-top"].chmod(0o1777)
    for case, expose in UNTRUSTED.items():
        if case in fill:
            index = next(leaves[case].glob("*.nbi"))
            index.write_bytes(pickle.dumps(Trap(str(base / f"trap-{case}"))))  # an attacker's
            expose(tops[case], leaves[case])
    before = {c: cache_files(tops[c]) for c in tops}
    use = {c: (str(tops[c]), FAILING.get(c)) for c in [*fill, *EMPTY]}
    (result,) = run_children([(CHILD.format(src=str(src), cases=use), {})])
    for case in result:
        result[case]["changed"] = cache_files(tops[case]) != before[case]
        result[case]["files"] = sorted(Path(p).name for p in cache_files(tops[case]))
        result[case]["leftovers"] = [p.name for p in tops[case].rglob("*.tmp.*")]
        result[case]["trap ran"] = (base / f"trap-{case}").exists()
    return result


def check_fitted(res, hits):
    assert res["values"] == [3, 3.5]
    assert res["hits"] == hits, res
    assert res["other_warnings"] == []


def test_a_clean_cache_is_used_without_warnings(matrix):
    check_fitted(matrix["clean"], hits=2)
    assert matrix["clean"]["warnings"] == [] and not matrix["clean"]["changed"]


@pytest.mark.parametrize(("kind", "how"), DAMAGED)
def test_a_damaged_cache_file_compiles_in_memory_with_one_warning(matrix, kind, how):
    """Truncated, empty or garbage index or data files: both calls compile, one warning."""
    res = matrix[f"{kind}-{how}"]
    check_fitted(res, hits=0)
    assert len(res["warnings"]) == 1, res["warnings"]
    assert "Could not read Numba's cache" in res["warnings"][0]
    assert res["warned_at"] == ["<string>"]  # the user's call, not Numba's dispatcher
    assert res["changed"]  # the damaged entry was saved again


def test_a_read_only_cache_still_loads_and_fits(matrix):
    check_fitted(matrix["read-only"], hits=2)  # nothing to save: no warning
    assert matrix["read-only"]["warnings"] == []


@pytest.mark.parametrize("case", ["read-only-empty", "full"])
def test_a_cache_that_cannot_be_written_warns_once(matrix, case):
    """EROFS or ENOSPC on save: the kernels stay compiled in memory; no temporary files."""
    res = matrix[case]
    check_fitted(res, hits=0)
    assert len(res["warnings"]) == 1 and "Could not write" in res["warnings"][0]
    assert ("No space left" if case == "full" else "Read-only") in res["warnings"][0]
    assert res["files"] == [] and res["leftovers"] == []


@pytest.mark.parametrize("case", UNTRUSTED)
def test_a_cache_others_can_write_is_neither_read_nor_written(matrix, case):
    """A planted index would run code when unpickled: it is never opened."""
    if case not in matrix:
        pytest.skip("changing a directory's owner needs root")
    res = matrix[case]
    assert not res["trap ran"]
    assert len(res["warnings"]) == 1 and "not private to this user" in res["warnings"][0]
    assert ("owned by uid 4242" if "foreign" in case else "writable by") in res["warnings"][0]
    check_fitted(res, hits=0)
    assert not res["changed"]  # not written either


def test_a_sticky_world_writable_parent_is_accepted(matrix):
    """``NUMBA_CACHE_DIR=/tmp``-like: nobody else can replace the user's folder in it."""
    check_fitted(matrix["sticky-top"], hits=2)
    assert matrix["sticky-top"]["warnings"] == []


def test_the_trust_check_on_the_paths(tmp_path):
    from sklearn_relubias._jit import untrusted_reason

    top = tmp_path / "cache"
    leaf = top / "sub" / "leaf"
    leaf.mkdir(parents=True)
    for d in (top, top / "sub", leaf):
        d.chmod(0o755)
    assert untrusted_reason(leaf, top) is None
    (top / "sub").chmod(0o757)
    assert "sub is writable by other users (mode 757)" in untrusted_reason(leaf, top)
    (top / "sub").chmod(0o1777)  # a sticky parent is fine, a sticky cache folder is not
    assert untrusted_reason(leaf, top) is None
    leaf.chmod(0o1777)
    assert "leaf is writable by other users" in untrusted_reason(leaf, top)
    leaf.chmod(0o755)
    link = tmp_path / "link"
    link.symlink_to(leaf)  # links are resolved: the real folders are checked
    top.chmod(0o775)
    assert "cache is writable by its group" in untrusted_reason(link, top)
    # a cache outside NUMBA_CACHE_DIR: the folder and its parent
    assert untrusted_reason(leaf, tmp_path / "elsewhere") is None


# -- end to end: ShallowReLURegressor with the package's kernel -------------------------

FIT = """
import errno, json, os, warnings
os.umask(0o022)
if {full!r}:
    import numba.core.caching as caching

    def full(self, path):
        raise OSError(errno.ENOSPC, "No space left on device")

    caching.IndexDataCacheFile._open_for_write = full
import numpy as np
from sklearn_relubias import PAPER_MODEL, ShallowReLURegressor
def paper_estimator(**params):
    return ShallowReLURegressor(**{{**PAPER_MODEL, **params}})
from sklearn_relubias._gd._backends import _numba
from sklearn_relubias.exceptions import NumbaCacheWarning

X, y = np.random.default_rng(0).standard_normal((5, 30)), np.arange(5.0)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    est = paper_estimator(max_iter=50, tol=1e-3, compute_min_norm_gap=False).fit(X, y)
print(json.dumps({{
    "weights": est.hidden_weights_.tolist(),
    "hits": sum(_numba.gram_descent.stats.cache_hits.values()),
    "warnings": [str(w.message) for w in caught if w.category is NumbaCacheWarning],
}}))
"""


@pytest.fixture(scope="module")
def fits(tmp_path_factory):
    """Clean, damaged (index, data), healed and full-disk caches, one fit each."""
    base = tmp_path_factory.mktemp("numba_cache_fits")
    clean, full = base / "clean", base / "full"

    def job(top, full=False):
        return FIT.format(full=full), {"NUMBA_CACHE_DIR": str(top)}

    out = dict(
        zip(["clean", "full"], run_children([job(clean), job(full, full=True)]), strict=True)
    )
    full_files = cache_files(full)
    for kind, how in (("nbi", "garbage"), ("nbc", "truncated")):
        shutil.copytree(clean, base / kind)
        for path in (base / kind).rglob(f"*.{kind}"):
            damage(path, how)
    damaged = run_children([job(base / "nbi"), job(base / "nbc")])
    healed = run_children([job(base / "nbi"), job(base / "nbc")])
    out.update(zip(["nbi", "nbc", "nbi healed", "nbc healed"], damaged + healed, strict=True))
    out["full files"] = full_files
    return out


def test_a_clean_fit_fills_the_cache(fits):
    assert fits["clean"]["hits"] == 0 and fits["clean"]["warnings"] == []


@pytest.mark.parametrize("kind", ["nbi", "nbc"])
def test_a_fit_with_a_damaged_cache_gives_the_clean_weights_and_repairs_it(fits, kind):
    """A garbage index or a truncated data file: UnpicklingError before issue 16."""
    assert fits[kind]["weights"] == fits["clean"]["weights"]
    assert fits[kind]["hits"] == 0 and len(fits[kind]["warnings"]) == 1
    healed = fits[f"{kind} healed"]
    assert healed["weights"] == fits["clean"]["weights"]
    assert healed["hits"] == 1 and healed["warnings"] == []


def test_a_fit_on_a_full_disk_gives_the_clean_weights(fits):
    assert fits["full"]["weights"] == fits["clean"]["weights"]
    assert len(fits["full"]["warnings"]) == 1 and "No space left" in fits["full"]["warnings"][0]
    assert fits["full files"] == {}


def test_the_ci_script_keeps_its_numba_cache_in_its_own_directory():
    script = (ROOT / ".ci" / "run").read_text()
    (line,) = [s for s in script.splitlines() if s.startswith("export NUMBA_CACHE_DIR=")]
    assert "$HOME" not in line and ".cache" not in line and ":-" not in line, line
    assert '"$job/' in line, line  # below the folder the job made with mktemp -d


def test_unknown_numba_cache_internals_mean_no_cache(monkeypatch):
    """Where the internals SafeFunctionCache builds on change, kernels compile in memory."""
    from numba.core.caching import NullCache

    from sklearn_relubias import _jit
    from sklearn_relubias.exceptions import NumbaCacheWarning

    def changed(self, py_func):
        raise AttributeError("'FunctionCache' object has no attribute '_impl'")

    monkeypatch.setattr(_jit.SafeFunctionCache, "__init__", changed)
    monkeypatch.setattr(_jit, "_WARNED", set())
    with pytest.warns(NumbaCacheWarning, match="kernels compile in memory"):
        kernel = _jit.jit(lambda a: a + 1)
    assert isinstance(kernel._cache, NullCache) and kernel(1) == 2
