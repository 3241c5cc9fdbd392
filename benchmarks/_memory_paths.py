"""Case 9: the memory decisions of ``sklearn_relubias._memory``, checked against peak RSS.

For each shape, in fresh child processes: which gradient-descent path
``solver='auto'`` takes (``_memory.use_dual``), which minimum-norm route
(``n < d``: the dual on ``K = X X^T``, route ``gram``/``factor``/``deficient``
as ``DualFactor`` decides; otherwise the primal on the weights), the package's
own estimates (``min_norm_bytes(n, d)`` for the
minimum-norm program, ``square_bytes(n, GRAM_SQUARES)`` for the dual GD Gram
matrix, and the bytes ``DualFactor`` asks ``require`` for on the ``factor``
route), and the measured peak RSS above the RSS after the data were made.
One more shape runs under a simulated small memory budget
(``_memory.available_bytes`` patched in the child) to show the decisions
change and refuse before allocating.
"""

import os
import re
import subprocess

import numpy as np

from ._common import ChildFailed, Section, Target, run_child

MB = 2**20
GIB = 2**30

# what each op runs in the child (see child_measure)
OPS = {
    "min_norm": "min_norm_reference(X, y, a=[1, -1])",
    "fit": "ShallowReLURegressor(max_iter=50).fit",
    "fit_nogap": "ShallowReLURegressor(max_iter=50, compute_min_norm_gap=False).fit",
    "fit_dual": "ShallowReLURegressor(max_iter=50, solver='dual', compute_min_norm_gap=False).fit",
}

# glibc: a fixed mmap threshold and trim threshold, so that freed blocks go back
# to the system at once and the RSS after the data were made does not hold
# reusable free memory left over from the warm-up.
MALLOC_ENV = {
    "MALLOC_MMAP_THRESHOLD_": "131072",
    "MALLOC_TRIM_THRESHOLD_": "131072",
    "GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=131072:glibc.malloc.trim_threshold=131072",
}


# ---------------------------------------------------------------------------
# child side (python -m benchmarks._child memory_path KIND N D OP AVAILABLE_MB)


def make_data(kind, n, d, *, seed=0, density=0.001):
    """Inputs and targets of one shape.

    ``dense`` and ``tall``: standard normal X; ``sparse``: CSR with the given
    density, standard normal entries; ``illcond``: dense with column 0 scaled
    by 1e6 (``cond(X X^T)`` far above 1e4, the ``factor`` route). ``y`` is
    standard normal (mixed signs: both neuron groups of ``a = [1, -1]`` work).
    """
    from scipy import sparse

    rng = np.random.default_rng(seed)
    if kind == "sparse":
        X = sparse.random(
            n, d, density=density, format="csr", random_state=rng, data_rvs=rng.standard_normal
        )
    else:
        X = rng.standard_normal((n, d))
        if kind == "illcond":
            X[:, 0] *= 1e6
    return X, rng.standard_normal(n)


def _instrument():
    """Record what the package decides, without changing it (instrumentation only).

    ``require`` calls (the bytes each check plans for), ``use_dual`` results in
    the GD problem set-up, and the ``DualFactor`` routes of the minimum-norm
    program, into the dict returned (cleared by the caller per op).
    """
    from sklearn_relubias import _dual_qp, _memory, _metrics
    from sklearn_relubias._gd import _problem

    record = {"requires": [], "gd_dual": [], "routes": []}
    original_require = _memory.require

    def require(nbytes, what, advice):
        record["requires"].append([what.split(",")[0][:60], int(nbytes)])
        return original_require(nbytes, what, advice)

    _memory.require = require
    _dual_qp.require = require

    original_use_dual = _problem.use_dual

    def use_dual(*args, **kwargs):
        out = original_use_dual(*args, **kwargs)
        record["gd_dual"].append(bool(out))
        return out

    _problem.use_dual = use_dual

    class RecordingFactor(_metrics.DualFactor):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            record["routes"].append(self.route)

    _metrics.DualFactor = RecordingFactor
    return record


def _run_op(op, X, y):
    from sklearn_relubias import ShallowReLURegressor
    from sklearn_relubias._metrics import min_norm_reference

    if op == "min_norm":
        return min_norm_reference(X, y, np.array([1.0, -1.0]))
    params = {"max_iter": 50}
    if op == "fit_nogap":
        params["compute_min_norm_gap"] = False
    elif op == "fit_dual":
        params.update(solver="dual", compute_min_norm_gap=False)
    elif op == "fit_primal":  # warm-up only
        params.update(solver="primal", compute_min_norm_gap=False)
    return ShallowReLURegressor(**params).fit(X, y)


def _warm_up(kind):
    """Load kernels, touch BLAS/LAPACK buffers and code paths on small problems of the same kind."""
    rng = np.random.default_rng(1)
    A = rng.standard_normal((800, 800))
    K = A @ A.T
    np.linalg.eigvalsh(K)
    np.linalg.qr(A, mode="r")
    np.linalg.solve(K, A[0])
    B = rng.standard_normal((512, 16384))  # wide products: OpenBLAS packs up to its full panels
    A[:512, :512] @ B
    B @ B.T
    del A, B, K
    for n, d in ((80, 300), (400, 10)):
        X, y = make_data(kind, n, d, seed=1, density=0.05)
        for op in ("min_norm", "fit", "fit_primal", "fit_nogap"):
            _run_op(op, X, y)


def child_measure(kind, n, d, ops, available_mb):
    """Peak RSS of each op above the RSS just before it; the decisions taken.

    ``ops`` is a comma-separated list run one after the other on the same data,
    each after ``gc.collect()``, a fresh RSS baseline and a reset of the
    high-water mark. ``available_mb > 0`` replaces ``_memory.available_bytes``
    by a constant (the budget is half of it) before anything runs.
    """
    import gc
    import time
    import warnings

    from benchmarks._child import current_rss_bytes, peak_rss_bytes, reset_peak_rss
    from sklearn_relubias import _memory
    from sklearn_relubias.exceptions import InsufficientMemoryError

    warnings.simplefilter("ignore")  # convergence and the like: not what is measured
    if available_mb > 0:
        _memory.available_bytes = lambda: int(available_mb) * MB
    _warm_up(kind)
    X, y = make_data(kind, n, d)
    x_bytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes if kind == "sparse" else X.nbytes
    record = _instrument()
    out = {}
    for op in ops.split(","):
        for value in record.values():
            value.clear()
        gc.collect()
        base = current_rss_bytes()
        was_reset = reset_peak_rss()
        start = time.perf_counter()
        error = None
        try:
            _run_op(op, X, y)  # the result is dropped at once
        except InsufficientMemoryError as exc:
            needs = re.search(r"needs about [0-9.]+ \w+", str(exc))
            error = "raised InsufficientMemoryError" + (f" ({needs.group()})" if needs else "")
        seconds = time.perf_counter() - start
        peak = peak_rss_bytes()
        out[op] = {
            **{key: list(value) for key, value in record.items()},
            "base_rss": base,
            "peak_rss": peak,
            "peak_was_reset": was_reset,
            "x_bytes": int(x_bytes),
            "seconds": seconds,
            "error": error,
        }
    return {
        "ops": out,
        "auto_dual": bool(_memory.use_dual("auto", n, d)),
        "budget": _memory.budget(),
    }


# ---------------------------------------------------------------------------
# parent side


def _measure(kind, n, d, ops, available_mb, cfg):
    """``{op: result}`` from one child, or ``{"failed": reason}``."""
    env = dict(os.environ, **MALLOC_ENV)
    try:
        res = run_child(
            ["memory_path", kind, n, d, ",".join(ops), available_mb],
            env=env,
            timeout=cfg["timeout_s"],
            memory_limit=int(cfg["memory_limit_gib"] * GIB),
        )
    except ChildFailed as exc:
        return {"failed": exc.reason}
    except subprocess.TimeoutExpired:
        return {"failed": f"timeout after {cfg['timeout_s']} s"}
    if "ops" not in res:  # a MemoryError under the address-space limit
        return {"failed": res.get("error", "no result")}
    return res["ops"]


def _estimates(n, d, op, res):
    """The package's planned bytes for this op: (squares, factor route or None)."""
    from sklearn_relubias._memory import GRAM_SQUARES, min_norm_bytes, square_bytes

    min_norm = min_norm_bytes(n, d)
    dual = bool(res["gd_dual"] and res["gd_dual"][0])
    gd = square_bytes(n, GRAM_SQUARES) if dual else 0
    factor = [b for what, b in res["requires"] if what.startswith("X is ill-conditioned")]
    factor = factor[0] if factor else None
    if op == "min_norm":
        return min_norm, factor
    if op == "fit":  # GD's K is handed to the min-norm program: its squares include it
        return max(gd, min_norm), factor
    return gd, None


def _path(n, d, op, res):
    if op == "min_norm":
        return "-"
    if res["gd_dual"]:
        return "dual (K)" if res["gd_dual"][0] else "primal (X)"
    return "-"


def _route(n, d, op, res):
    if op in ("fit_nogap", "fit_dual"):
        return "-"
    if res["routes"]:
        return "dual/" + "+".join(sorted(set(res["routes"])))
    return "primal (weights)" if n >= d else "-"


def run(cfg):
    sec = Section(
        key="9_memory_paths",
        title="9. Memory decisions: the path and route taken, estimated vs measured extra peak RSS",
        headers=[
            "data",
            "n",
            "d",
            "op",
            "GD path",
            "min-norm route",
            "X [MB]",
            "est. [MB]",
            "factor est. [MB]",
            "extra peak [MB]",
            "extra / X",
            "extra / est.",
            "extra / (K + factor est.)",
            "time [s]",
            "outcome",
        ],
    )
    worst = {}  # target key -> list of (ratio, label)
    budget_rows = {}
    for kind, n, d, ops, available_mb in cfg["shapes"]:
        results = _measure(kind, n, d, ops, available_mb, cfg)
        data = kind if not available_mb else f"{kind}, {available_mb} MB avail."
        if "failed" in results:
            sec.rows.append([data, n, d, ",".join(ops)] + [None] * 10 + [results["failed"]])
            worst.setdefault("failed", []).append((np.inf, f"{kind} {n}x{d}"))
            continue
        for op, res in results.items():
            est, factor = _estimates(n, d, op, res)
            extra = res["peak_rss"] - res["base_rss"]
            ratio = extra / est if est and not res["error"] else None
            factor_ratio = None
            if factor is not None and not res["error"]:
                factor_ratio = extra / factor
            outcome = res["error"] or "ok"
            sec.rows.append(
                [
                    data,
                    n,
                    d,
                    op,
                    _path(n, d, op, res),
                    _route(n, d, op, res),
                    res["x_bytes"] / MB,
                    est / MB,
                    None if factor is None else factor / MB,
                    extra / MB,
                    extra / res["x_bytes"],
                    ratio,
                    factor_ratio,
                    res["seconds"],
                    outcome,
                ]
            )
            label = f"{kind} {n}x{d} {op}"
            if available_mb:
                budget_rows[op] = (res, extra)
                continue
            if res["error"]:
                continue
            if op == "min_norm":
                route = "factor" if factor is not None else ("dual" if n < d else "primal")
                key = f"min-norm program, {route} route"
                worst.setdefault(key, []).append(
                    (factor_ratio if factor is not None else ratio, label)
                )
            elif op == "fit_nogap" and res["gd_dual"] and res["gd_dual"][0]:
                worst.setdefault("dual GD Gram (GRAM_SQUARES)", []).append((ratio, label))
            elif op == "fit" and n < d and factor is None:
                worst.setdefault("default fit, dual (K shared)", []).append((ratio, label))
    goals = {
        "min-norm program, dual route": "extra peak <= min_norm_bytes(n, d)",
        "min-norm program, primal route": "extra peak <= min_norm_bytes(n, d)",
        "min-norm program, factor route": "extra peak <= DualFactor's require() bytes",
        "dual GD Gram (GRAM_SQUARES)": "extra peak <= square_bytes(n, GRAM_SQUARES)",
        "default fit, dual (K shared)": "extra peak <= min_norm_bytes(n, d)",
    }
    for key, goal in goals.items():
        if key not in worst:
            continue
        ratio, label = max(worst[key], key=lambda t: t[0])
        sec.targets.append(
            Target(
                f"{key}: estimate is an upper bound",
                goal,
                f"worst extra/estimate {ratio:.3g} ({label})",
                bool(ratio <= 1.0),
            )
        )
    if "failed" in worst:
        sec.targets.append(
            Target(
                "every child ran",
                "no failure",
                "; ".join(label for _, label in worst["failed"]),
                False,
            )
        )
    if budget_rows:
        sec.targets.append(_budget_target(budget_rows, cfg))
    sec.notes += [
        "Each row is one fresh `python -m benchmarks._child memory_path` process: small problems "
        "of the same kind first (kernels loaded, BLAS/LAPACK buffers touched), then the data "
        "are made, the RSS taken and the high-water mark reset (/proc/self/clear_refs), and "
        "the op runs. 'extra peak' = VmHWM - RSS after the data: the data are not counted. "
        "glibc's mmap and trim thresholds are fixed at 128 KiB so that freed memory goes back "
        "to the system at once (no warm-up leftovers counted in the baseline).",
        "est.: the package's own planned bytes (sklearn_relubias._memory): min_norm -> "
        "min_norm_bytes(n, d) (MIN_NORM_SQUARES n^2 when n < d; PRIMAL_SQUARES d^2 + "
        "PRIMAL_XS copies of X otherwise); fit_nogap/fit_dual -> "
        "square_bytes(n, GRAM_SQUARES) on the dual GD path, 0 on the primal path; fit -> the "
        "larger of the two (the GD Gram matrix is handed to the min-norm program). "
        "factor est.: the bytes DualFactor passes to require() on the 'factor' route "
        "(8 n (4 (n + min(width, d)) + n (blocks + 2)): K, the kept factors and four "
        "stacked blocks), recorded in the child.",
        "GD path and route are what the package decided in the child (use_dual and "
        "DualFactor wrapped to record, nothing changed); 'dual/gram' etc. is the route of "
        "each DualFactor built (both neuron groups share one).",
        "'extra / X' shows the O(n d) working copies (the primal program's row copies) in "
        "units of X's size.",
        "The last shape runs with sklearn_relubias._memory.available_bytes patched to return "
        "the stated amount (budget = half of it): 'auto' must take the primal GD path, and "
        "solver='dual' and the default fit (its min-norm check) must raise "
        "InsufficientMemoryError before allocating.",
    ]
    return [sec]


def _budget_target(rows, cfg):
    """'auto' chose primal under the simulated budget; the refusals allocated (almost) nothing."""
    parts, met = [], True
    if "fit_nogap" in rows:
        res, extra = rows["fit_nogap"]
        primal = bool(res["gd_dual"]) and not res["gd_dual"][0] and res["error"] is None
        parts.append(f"auto -> {'primal' if primal else 'NOT primal'} ({extra / MB:.1f} MB)")
        met &= primal
    for op in ("fit_dual", "fit"):
        if op in rows:
            res, extra = rows[op]
            raised = bool(res["error"]) and "InsufficientMemoryError" in res["error"]
            low = extra <= cfg["refusal_max_mb"] * MB
            parts.append(
                f"{op}: {'raised' if raised else 'did NOT raise'}, extra {extra / MB:.1f} MB"
            )
            met &= raised and low
    return Target(
        "simulated small memory budget",
        f"auto -> primal GD; solver='dual' and the default fit raise "
        f"InsufficientMemoryError with extra peak <= {cfg['refusal_max_mb']} MB",
        "; ".join(parts),
        bool(met),
    )
