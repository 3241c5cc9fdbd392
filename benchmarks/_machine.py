"""What the numbers were measured on."""

import os
import platform
import subprocess
import sys
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version

from ._common import REPO_ROOT

PACKAGES = ["numpy", "scipy", "scikit-learn", "numba", "llvmlite", "cvxpy", "clarabel"]


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def total_memory_gib():
    from sklearn_relubias._memory import meminfo  # the package's one reader of /proc/meminfo

    total = meminfo("MemTotal")
    return None if total is None else total / 2**30


def _git(*args):
    """Output of a read-only git query in the repository (None if git fails)."""
    try:
        out = subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10
        )
        return out.stdout.rstrip() if out.returncode == 0 else None  # keep leading blanks
    except (OSError, subprocess.SubprocessError):
        return None


DIRTY = "DIRTY TREE: numbers do not describe a commit"


def git_tree():
    """Return ``(commit, changes)``: the full HEAD hash and the paths that differ from it.

    ``changes`` lists modified, staged and untracked (not ignored) paths,
    except the benchmark's own output ``benchmarks/results/``. ``commit`` is
    None outside a git checkout.
    """
    commit = _git("rev-parse", "HEAD")
    status = _git("status", "--porcelain", "--", ".", ":(exclude)benchmarks/results")
    changes = [line[3:] for line in (status or "").splitlines()]
    return commit, changes


def tree_state(commit, changes):
    """One line: clean, or the loud dirty-tree mark and what differs from the commit."""
    if commit is None:
        return f"{DIRTY} (not a git checkout)"
    if changes:
        return f"{DIRTY} (uncommitted: {', '.join(changes)})"
    return "clean"


def blas_info():
    """One line per thread pool threadpoolctl finds (BLAS and OpenMP libraries)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return ["threadpoolctl not installed"]
    lines = []
    for pool in threadpool_info():
        lines.append(
            f"{pool.get('internal_api')} {pool.get('version')} "
            f"({pool.get('user_api')}, {pool.get('num_threads')} threads, "
            f"arch {pool.get('architecture', '-')}, "
            f"{os.path.basename(pool.get('filepath', ''))})"
        )
    return lines


def machine_info(commit, changes):
    """Ordered (label, value) pairs: git state first, then machine, versions and load."""
    import sklearn_relubias

    versions = []
    for name in PACKAGES:
        try:
            versions.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            versions.append(f"{name} (not installed)")
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count()
    mem = total_memory_gib()
    info = [
        ("git tree", tree_state(commit, changes)),
        ("commit", commit or "-"),
        ("date (UTC)", datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M")),
        ("CPU", cpu_model()),
        ("cores", f"{cores} usable ({os.cpu_count()} logical)"),
        ("RAM", f"{mem:.1f} GiB" if mem else "unknown"),
        ("OS", platform.platform()),
        ("Python", sys.version.split()[0]),
        ("versions", ", ".join(versions)),
        ("sklearn_relubias", sklearn_relubias.__version__),
        ("NUMBA_CACHE_DIR", os.environ.get("NUMBA_CACHE_DIR", "(default: __pycache__)")),
        ("thread env", thread_env()),
    ]
    info += [("BLAS/OpenMP", line) for line in blas_info()]
    return info


def thread_env():
    names = ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"]
    set_ = [f"{n}={os.environ[n]}" for n in names if n in os.environ]
    return ", ".join(set_) if set_ else "none set (library defaults)"


def load_average():
    try:
        return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except OSError:
        return "unknown"
