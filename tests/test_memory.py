"""Memory is checked before a square matrix is allocated (issues 10 and 16).

The budget is half the memory available (the least of MemAvailable, the
cgroup limits and the rlimits), or what the user set; tests shrink it by
replacing ``_memory.available_bytes`` (or the files it reads) and read what
the fit decided from ``decisions_`` and from a shared ``Precomputed``
(whether K was formed).
"""

import json
import os
import resource
import subprocess
import sys
import threading
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from _reference import gaussian_problem, paper_estimator
from scipy import sparse

from sklearn_relubias import (
    MinNormReLURegressor,
    Precomputed,
    _linalg,
    _memory,
)
from sklearn_relubias._memory import MemoryPlan
from sklearn_relubias.exceptions import InsufficientMemoryError

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn_relubias.exceptions.StrandedExampleWarning"),
    pytest.mark.filterwarnings("ignore::sklearn_relubias.exceptions.UnfittableRowsWarning"),
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]


def limit_memory(monkeypatch, nbytes):
    """Pretend the system has ``nbytes`` available (the budget is half of it)."""
    monkeypatch.setattr(_memory, "available_bytes", lambda: nbytes)


def test_auto_solver_takes_the_primal_path_when_the_gram_matrix_does_not_fit(monkeypatch):
    X, y = gaussian_problem(300, 1000, seed=0)  # K: 300^2 * 8 B = 703 KiB
    est = paper_estimator(n_neurons=1, compute_min_norm_gap=False, max_iter=50)  # K pays for itself
    assert est.fit(X, y).decisions_["path"] == "dual"
    limit_memory(monkeypatch, 1_000_000)  # budget 500 kB < K
    data = Precomputed(X)
    decisions = est.fit(X, y, gram=data).decisions_
    assert decisions["path"] == "primal" and decisions["operator_form"] == "dense"
    assert data.n_gram_products == 0  # K was never formed


def test_explicit_dual_solver_that_cannot_fit_raises_before_allocating(monkeypatch):
    X, y = gaussian_problem(300, 1000, seed=0)
    limit_memory(monkeypatch, 1_000_000)
    data = Precomputed(X)
    est = paper_estimator(solver="dual", compute_min_norm_gap=False)
    with pytest.raises(InsufficientMemoryError, match=r"solver=.dual.*300 x 300.*1\.4 MiB"):
        est.fit(X, y, gram=data)
    assert data.n_gram_products == 0


def test_a_gap_that_cannot_fit_is_refused_before_gradient_descent(monkeypatch):
    X, y = gaussian_problem(300, 1000, seed=0)
    limit_memory(monkeypatch, 4_000_000)  # budget 2 MB: K fits, the 3 K of the program do not
    data = Precomputed(X)
    with pytest.raises(InsufficientMemoryError, match="compute_min_norm_gap=False"):
        paper_estimator().fit(X, y, gram=data)
    assert data.n_gram_products == 0  # refused before K, hence before gradient descent
    with pytest.raises(InsufficientMemoryError, match=r"300 x 300"):
        MinNormReLURegressor().fit(X, y)


def test_the_factor_route_checks_its_blocks_before_allocating(monkeypatch):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((10, 50)), rng.uniform(0.5, 1.5, 10)
    X[:, 0] *= 1e6  # ill-conditioned: the dual program factors X^T
    limit_memory(monkeypatch, 20_000)  # 3 K (2.4 kB) fit the 10 kB budget, the blocks do not
    with pytest.raises(InsufficientMemoryError, match="ill-conditioned"):
        MinNormReLURegressor(n_neurons=1).fit(X, y)


def test_sparse_gram_matrix_by_row_blocks(monkeypatch):
    X = sparse.random(50, 80, density=0.1, random_state=0, format="csc")
    monkeypatch.setattr(_linalg, "_SPARSE_BLOCK", 7 * 50)  # 8 blocks of 7 rows
    np.testing.assert_allclose(_linalg.gram(X), (X @ X.T).toarray(), rtol=1e-14, atol=1e-14)


def test_huge_sparse_data_fits_without_a_square_matrix():
    """Sparse 70,000 x 60,000 with 4 MB of data: the issue's MemoryError (60000, 60000)."""
    rng = np.random.default_rng(0)
    n, d, nnz = 70_000, 60_000, 250_000
    X = sparse.csr_matrix(
        (rng.standard_normal(nnz), (rng.integers(0, n, nnz), rng.integers(0, d, nnz))),
        shape=(n, d),
    )
    y = rng.standard_normal(n)
    with pytest.raises(InsufficientMemoryError, match=r"60000 x 60000.*compute_min_norm_gap"):
        paper_estimator().fit(X, y)
    tracemalloc.start()
    try:
        est = paper_estimator(compute_min_norm_gap=False, max_iter=5).fit(X, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert est.n_iter_ == 5
    assert peak < 100 * 2**20  # the data is ~4 MB; a 60000^2 matrix would be 27 GiB


# -- where the budget comes from (issue 16) ---------------------------------------------

MiB = 2**20
ROOT = Path(__file__).resolve().parents[1]


def write_tree(root, files):
    """Create ``{relative path: text}`` below ``root``."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.fixture
def cgroup_v2(tmp_path):
    """A 300 MiB cgroup v2 ``/job`` inside an unlimited ``/user.slice``."""
    write_tree(
        tmp_path,
        {
            "proc/self/cgroup": "0::/user.slice/job\n",
            "sys/fs/cgroup/cgroup.controllers": "cpu memory\n",
            "sys/fs/cgroup/user.slice/memory.max": "max\n",
            "sys/fs/cgroup/user.slice/memory.current": f"{5 * 2**30}\n",
            "sys/fs/cgroup/user.slice/job/memory.max": f"{300 * MiB}\n",
            "sys/fs/cgroup/user.slice/job/memory.current": f"{100 * MiB}\n",
            "sys/fs/cgroup/user.slice/job/memory.stat": f"anon 1\ninactive_file {20 * MiB}\n",
        },
    )
    return tmp_path / "proc/self/cgroup", tmp_path / "sys/fs/cgroup"


def test_the_cgroup_v2_limit_is_read_from_the_process_own_cgroup(cgroup_v2):
    levels = _memory.cgroup_limits(*cgroup_v2)
    assert [(c["version"], Path(c["path"]).name, c["limit"]) for c in levels] == [
        (2, "job", 300 * MiB),
        (2, "user.slice", None),  # 'max': no limit
    ]
    # 300 MiB - (100 MiB used - 20 MiB of reclaimable page cache)
    assert _memory.cgroup_headroom(*cgroup_v2) == 220 * MiB


def test_a_parent_cgroup_limit_counts_and_hybrid_v2_is_found(tmp_path):
    write_tree(
        tmp_path,
        {
            "cgroup": "0::/a/b\n",
            "fs/unified/cgroup.controllers": "memory\n",  # hybrid: v2 below unified/
            "fs/unified/a/memory.max": f"{50 * MiB}\n",
            "fs/unified/a/memory.current": f"{45 * MiB}\n",  # siblings of b use it
            "fs/unified/a/b/memory.max": f"{200 * MiB}\n",
            "fs/unified/a/b/memory.current": f"{10 * MiB}\n",
        },
    )
    assert _memory.cgroup_headroom(tmp_path / "cgroup", tmp_path / "fs") == 5 * MiB


def test_the_cgroup_v1_limit_and_its_unlimited_value(tmp_path):
    unlimited = "9223372036854771712\n"  # v1's "no limit"
    write_tree(
        tmp_path,
        {
            "cgroup": "5:cpu,cpuacct:/x\n4:memory:/docker/abc\n0::/\n",
            "fs/memory/memory.limit_in_bytes": unlimited,
            "fs/memory/memory.usage_in_bytes": f"{2**30}\n",
            "fs/memory/docker/abc/memory.limit_in_bytes": f"{700 * MiB}\n",
            "fs/memory/docker/abc/memory.usage_in_bytes": f"{120 * MiB}\n",
            "fs/memory/docker/abc/memory.stat": f"total_inactive_file {20 * MiB}\n",
        },
    )
    levels = _memory.cgroup_limits(tmp_path / "cgroup", tmp_path / "fs")
    assert [(c["version"], c["limit"]) for c in levels] == [(1, 700 * MiB), (1, None)]
    assert _memory.cgroup_headroom(tmp_path / "cgroup", tmp_path / "fs") == 600 * MiB


def test_a_container_without_a_cgroup_namespace_reads_its_mount_root(tmp_path):
    """/proc/self/cgroup names the host's path; the container's own cgroup is the mount."""
    write_tree(
        tmp_path,
        {
            "cgroup": "0::/system.slice/docker-abc.scope\n",
            "fs/cgroup.controllers": "memory\n",
            "fs/memory.max": f"{64 * MiB}\n",
            "fs/memory.current": f"{4 * MiB}\n",
        },
    )
    assert _memory.cgroup_headroom(tmp_path / "cgroup", tmp_path / "fs") == 60 * MiB


def test_missing_or_garbled_cgroup_files_mean_no_limit(tmp_path):
    assert _memory.cgroup_limits(tmp_path / "none", tmp_path) == []
    write_tree(
        tmp_path,
        {
            "cgroup": "garbage\n0::/j\n",
            "fs/cgroup.controllers": "",
            "fs/j/memory.max": "lots\n",
            "fs/j/memory.current": "12\n",
        },
    )
    assert _memory.cgroup_headroom(tmp_path / "cgroup", tmp_path / "fs") is None


def point_at(monkeypatch, cgroup, root, meminfo_gib=22):
    """Read the cgroup files below ``root`` and a /proc/meminfo saying ``meminfo_gib`` free."""
    meminfo = Path(root).parent / "meminfo"
    meminfo.write_text(f"MemTotal: 1 kB\nMemAvailable: {meminfo_gib * 2**20} kB\n")
    monkeypatch.setattr(_memory, "MEMINFO", str(meminfo))
    monkeypatch.setattr(_memory, "PROC_CGROUP", str(cgroup))
    monkeypatch.setattr(_memory, "CGROUP_ROOT", str(root))


def test_a_fit_in_a_small_cgroup_is_refused_not_killed(monkeypatch, cgroup_v2):
    """The issue's 700 MiB container: MemAvailable said 22 GiB and the fit was OOM-killed."""
    point_at(monkeypatch, *cgroup_v2)
    assert _memory.meminfo("MemAvailable") == 22 * 2**30
    assert _memory.budget() == 110 * MiB  # half the cgroup's 220 MiB
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((2500, 2501)), rng.standard_normal(2500)  # 3 K: 143 MiB
    data = Precomputed(X)
    with pytest.raises(InsufficientMemoryError, match="available under the cgroup memory limit"):
        paper_estimator().fit(X, y, gram=data)
    assert data.n_gram_products == 0


def test_this_machines_cgroup_is_found_and_honoured():
    """The real /proc/self/cgroup and /sys/fs/cgroup, whichever version this machine has."""
    if not os.path.exists("/proc/self/cgroup"):
        pytest.skip("no /proc/self/cgroup (not Linux)")
    lines = Path("/proc/self/cgroup").read_text().splitlines()
    in_v1 = os.path.isdir("/sys/fs/cgroup/memory") and any(
        "memory" in line.split(":")[1].split(",") for line in lines if line.count(":") >= 2
    )
    in_v2 = "0::" in "".join(line[:3] for line in lines) and any(
        os.path.exists(f"/sys/fs/cgroup/{sub}cgroup.controllers") for sub in ("", "unified/")
    )
    levels = _memory.cgroup_limits()
    if in_v1 or in_v2:
        assert levels, lines  # the reader finds the cgroup this process is in
    room = _memory.cgroup_headroom()
    if room is not None:  # a limited cgroup (this workplace's machines set none)
        assert _memory.budget() <= _memory.BUDGET_FRACTION * room * 1.05 + 16 * MiB


def test_rlimits_left_under_the_soft_limits(monkeypatch, tmp_path):
    status = tmp_path / "status"
    status.write_text("Name:\tpython\nVmSize:\t  400000 kB\nVmData:\t  100000 kB\n")
    limits = {resource.RLIMIT_AS: 500_000 * 1024, resource.RLIMIT_DATA: resource.RLIM_INFINITY}
    monkeypatch.setattr(resource, "getrlimit", lambda kind: (limits.get(kind, -1), -1))
    assert _memory.rlimit_headroom(status) == {"RLIMIT_AS": 100_000 * 1024}
    limits[resource.RLIMIT_DATA] = 150_000 * 1024
    assert _memory.rlimit_headroom(status)["RLIMIT_DATA"] == 50_000 * 1024
    monkeypatch.setattr(_memory, "PROC_STATUS", str(status))
    monkeypatch.setattr(_memory, "_system_available", lambda: 10 * 2**30)
    monkeypatch.setattr(_memory, "cgroup_headroom", lambda: None)
    assert _memory.memory_sources()["RLIMIT_DATA"] == 50_000 * 1024
    assert _memory.available_bytes() == 50_000 * 1024


RLIMIT_CHILD = """
import json, resource
import numpy as np
from sklearn_relubias import Precomputed, ShallowReLURegressor, _memory
from sklearn_relubias.exceptions import InsufficientMemoryError
import sklearn_relubias._gd._backends._numba  # Numba: loaded by an earlier fit


def vm_size():
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmSize:"))


rng = np.random.default_rng(0)
X, y = rng.standard_normal((3000, 3500)), rng.standard_normal(3000)  # 80 MiB
# ulimit -v: what the process has, X twice more and 64 MiB; K alone is 69 MiB
limit = vm_size() + 2 * X.nbytes + 64 * 2**20
resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
out = {"vm_size": vm_size(), "limit": limit, "budget": _memory.budget()}
data = Precomputed(X)
try:
    ShallowReLURegressor(max_iter=5, compute_min_norm_gap=True).fit(X, y, gram=data)
except InsufficientMemoryError as exc:
    out.update(refused=str(exc), gram_products=data.n_gram_products)
print(json.dumps(out))
"""


def test_a_fit_under_rlimit_as_is_refused_before_allocating():
    """``ulimit -v``: a bare MemoryError in the reference, after gradient descent, before."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", RLIMIT_CHILD], capture_output=True, text=True, env=env, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    headroom = out["limit"] - out["vm_size"]
    assert out["budget"] <= _memory.BUDGET_FRACTION * headroom
    assert "refused" in out, out
    assert "3000 x 3000" in out["refused"] and "under RLIMIT_AS" in out["refused"]
    assert out["gram_products"] == 0  # refused before K


def test_the_budget_environment_variable(monkeypatch):
    limit_memory(monkeypatch, 2**40)
    for text, nbytes in [
        ("123", 123),
        ("2G", 2 * 2**30),
        (" 512m ", 512 * MiB),
        ("1.5GiB", 1.5 * 2**30),
        ("64 KB", 65536),
        ("0", 0),
        ("0.5t", 2**39),
    ]:
        monkeypatch.setenv(_memory.ENV_VAR, text)
        assert _memory.budget() == nbytes, text
    monkeypatch.setenv(_memory.ENV_VAR, "")  # empty: the automatic budget
    assert _memory.budget() == 2**39
    X, y = gaussian_problem(300, 1000, seed=0)
    monkeypatch.setenv(_memory.ENV_VAR, "1M")  # K (1.4 MiB planned) does not fit
    est = paper_estimator(n_neurons=1, compute_min_norm_gap=False, max_iter=5)
    assert est.fit(X, y).decisions_["path"] == "primal"
    with pytest.raises(
        InsufficientMemoryError, match=r"1\.0 MiB \(set by SKLEARN_RELUBIAS_MEMORY_BUDGET=1M\)"
    ):
        est.set_params(solver="dual").fit(X, y)
    limit_memory(monkeypatch, 600_000)  # more than is available: lowered to it
    assert _memory.budget() == 600_000


@pytest.mark.parametrize("text", ["lots", "-1G", "2e9", "1iB", "1.2.3M", "5 P"])
def test_an_invalid_budget_variable_names_the_variable(monkeypatch, text):
    monkeypatch.setenv(_memory.ENV_VAR, text)
    X, y = gaussian_problem(10, 20, seed=0)
    with pytest.raises(
        ValueError, match=f"SKLEARN_RELUBIAS_MEMORY_BUDGET={text!r} is not a memory"
    ):
        paper_estimator(compute_min_norm_gap=False, max_iter=5).fit(X, y)


def test_the_budget_context_manager(monkeypatch):
    limit_memory(monkeypatch, 2**40)
    monkeypatch.setenv(_memory.ENV_VAR, "2G")
    with _memory.memory_budget("1K"):  # before the variable
        assert _memory.budget() == 1024
        with _memory.memory_budget(None):  # automatic again, inside
            assert _memory.budget() == 2**39
        assert MemoryPlan().budget_text == "set by memory_budget()"
    assert _memory.budget() == 2 * 2**30
    with pytest.raises(ValueError, match="memory_budget='big' is not a memory size"):
        _memory.memory_budget("big").__enter__()


def test_the_budget_context_manager_is_per_thread(monkeypatch):
    """Two threads with their own budgets at the same time do not see each other's."""
    limit_memory(monkeypatch, 2**40)
    barrier, seen = threading.Barrier(2, timeout=30), {}

    def worker(name, nbytes):
        with _memory.memory_budget(nbytes):
            barrier.wait()  # both inside their blocks
            seen[name] = _memory.budget()
            barrier.wait()

    threads = [threading.Thread(target=worker, args=(n, b)) for n, b in (("a", "1K"), ("b", "3K"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {"a": 1024, "b": 3072}
    assert _memory.budget() == 2**39  # nor does this thread


def test_the_message_names_where_the_budget_comes_from(monkeypatch):
    monkeypatch.setattr(
        _memory, "memory_sources", lambda: {"MemAvailable": 8 * MiB, "RLIMIT_AS": 2 * MiB}
    )
    plan = MemoryPlan()
    assert plan.budget == MiB
    plan.add("K", 3 * MiB, "do less.")
    with pytest.raises(
        InsufficientMemoryError, match=r"1\.0 MiB \(50% of the 2\.0 MiB available under RLIMIT_AS\)"
    ):
        plan.check()
