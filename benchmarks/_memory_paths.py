"""Case 9: the memory decisions of ``sklearn_relubias._memory``, checked against peak RSS.

For each shape, in fresh child processes: which gradient-descent path
``solver='auto'`` takes and which minimum-norm route (``n < d``: the dual on
``K = X X^T``, route ``gram``/``factor``/``deficient``; otherwise the primal
on the weights), read from what the package reports: a fit's ``decisions_``
(``path``, ``reference_route``, ``memory_stages``, ``memory_checks``) and
the ``route`` of what ``min_norm_reference`` returns. The package's own
estimates: ``min_norm_bytes(n, d)`` for the minimum-norm program, and for a
fit the stages of its memory plan (``decisions_['memory_stages']``: the dual
GD Gram matrix, the program) and the late stage the ``factor`` route adds
and checks. ``min_norm_reference`` does not expose its memory plan, so the
factor-route bytes of a ``min_norm`` row are those a ``fit`` of the same
shape reported (the stage depends on n and d only); every ill-conditioned
shape therefore also runs ``fit``. These are compared with the measured
peak RSS above the RSS after the data were made. One more shape runs under a
simulated small memory budget (``_memory.available_bytes`` replaced in the
child) to show the decisions change and refuse before allocating.
"""

import os
import re
import subprocess

import numpy as np

from ._common import ChildFailed, Section, Target, run_child
from ._rss import current_rss_bytes, peak_rss_bytes, reset_peak_rss

MB = 2**20
GIB = 2**30

# what each op runs in the child (see child_measure)
# (the fits are the paper's model, PAPER_MODEL, whose gap is computed: the default
# compute_min_norm_gap='auto' skips it above 1000 rows or for n >= d, and the plan of the
# reference is what this case checks)
OPS = {
    "min_norm": "min_norm_reference(X, y, a=[1, -1])",
    "fit": "ShallowReLURegressor(**PAPER_MODEL, max_iter=50).fit",
    "fit_nogap": "... (**PAPER_MODEL, max_iter=50, compute_min_norm_gap=False).fit",
    "fit_dual": "... (**PAPER_MODEL, max_iter=50, solver='dual', compute_min_norm_gap=False).fit",
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


def _decisions(op, result):
    """What the package decided for one op, from what the op returned (nothing patched)."""
    if op == "min_norm":  # a MinNormFit
        return {"route": result.route}
    return dict(result.decisions_)


def _run_op(op, X, y):
    from sklearn_relubias import PAPER_MODEL, ShallowReLURegressor
    from sklearn_relubias._metrics import min_norm_reference

    if op == "min_norm":
        return min_norm_reference(X, y, np.array([1.0, -1.0]))
    params = {**PAPER_MODEL, "max_iter": 50}
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

    from sklearn_relubias import _memory
    from sklearn_relubias.exceptions import InsufficientMemoryError

    warnings.simplefilter("ignore")  # convergence and the like: not what is measured
    if available_mb > 0:
        _memory.available_bytes = lambda: int(available_mb) * MB
    _warm_up(kind)
    X, y = make_data(kind, n, d)
    x_bytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes if kind == "sparse" else X.nbytes
    out = {}
    for op in ops.split(","):
        gc.collect()
        base = current_rss_bytes()
        was_reset = reset_peak_rss()
        start = time.perf_counter()
        error, decisions = None, {}
        try:
            decisions = _decisions(op, _run_op(op, X, y))  # the result is dropped at once
        except InsufficientMemoryError as exc:
            needs = re.search(r"needs about [0-9.]+ \w+", str(exc))
            error = "raised InsufficientMemoryError" + (f" ({needs.group()})" if needs else "")
        seconds = time.perf_counter() - start
        peak = peak_rss_bytes()
        out[op] = {
            "decisions": decisions,
            "base_rss": base,
            "peak_rss": peak,
            "peak_was_reset": was_reset,
            "x_bytes": int(x_bytes),
            "seconds": seconds,
            "error": error,
        }
    return {"ops": out, "budget": _memory.budget()}


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


def _plan_bytes(res):
    """``(planned, late)`` bytes of a fit's memory plan, from its ``decisions_``.

    ``planned`` is the largest stage planned and checked up front (0 when
    none: the primal GD path without the gap), ``late`` the largest stage
    added afterwards (None when none): ``MemoryPlan.require`` adds one stage
    and checks again, so the last ``memory_checks - 1`` stages are late (the
    ``factor`` route's blocks). ``(None, None)`` without decisions (the op
    raised, or it is ``min_norm``).
    """
    decisions = res["decisions"]
    if "memory_stages" not in decisions:
        return None, None
    stages = [nbytes for _, nbytes in decisions["memory_stages"]]
    cut = len(stages) - (decisions["memory_checks"] - 1)
    return max(stages[:cut], default=0), max(stages[cut:], default=None)


def _estimates(n, d, op, res, fit_res):
    """The package's planned bytes for this op: (up-front estimate, factor stage or None).

    ``min_norm``: ``min_norm_bytes(n, d)``, and the factor stage a ``fit`` of
    the same data (``fit_res``, None if not run) reported on the same route.
    """
    from sklearn_relubias._memory import min_norm_bytes

    if op != "min_norm":
        return _plan_bytes(res)
    factor = None
    if fit_res is not None and fit_res["decisions"].get("reference_route") == _route_of(res):
        factor = _plan_bytes(fit_res)[1]
    return min_norm_bytes(n, d), factor


def _route_of(res):
    """The min-norm route an op reported (None for fits without the gap, or if it raised)."""
    decisions = res["decisions"]
    return decisions.get("route", decisions.get("reference_route"))


def _path(res):
    path = res["decisions"].get("path")
    return {"dual": "dual (K)", "primal": "primal (X)"}.get(path, "-")


def _route(res):
    route = _route_of(res)
    if route is None:
        return "-"
    return "primal (weights)" if route == "primal" else f"dual/{route}"


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
            "memory checks",
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
    unobserved = []  # min_norm rows on the factor route without a fit to read its stage from
    for kind, n, d, ops, available_mb in cfg["shapes"]:
        results = _measure(kind, n, d, ops, available_mb, cfg)
        data = kind if not available_mb else f"{kind}, {available_mb} MB avail."
        if "failed" in results:
            sec.rows.append([data, n, d, ",".join(ops)] + [None] * 11 + [results["failed"]])
            worst.setdefault("failed", []).append((np.inf, f"{kind} {n}x{d}"))
            continue
        for op, res in results.items():
            est, factor = _estimates(n, d, op, res, results.get("fit"))
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
                    _path(res),
                    "-" if op in ("fit_nogap", "fit_dual") else _route(res),
                    res["x_bytes"] / MB,
                    None if est is None else est / MB,
                    None if factor is None else factor / MB,
                    res["decisions"].get("memory_checks"),
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
            route = _route_of(res)
            if op == "min_norm" and route in ("factor", "deficient") and factor is None:
                unobserved.append(label)
            elif op == "min_norm":
                program = "dual" if route != "primal" else "primal"
                key = f"min-norm program, {'factor' if factor is not None else program} route"
                worst.setdefault(key, []).append(
                    (factor_ratio if factor is not None else ratio, label)
                )
            elif op == "fit_nogap" and res["decisions"].get("path") == "dual":
                worst.setdefault("dual GD Gram (GRAM_SQUARES)", []).append((ratio, label))
            elif op == "fit" and n < d and factor is None:
                worst.setdefault("fit with the gap, dual (K shared)", []).append((ratio, label))
    goals = {
        "min-norm program, dual route": "extra peak <= min_norm_bytes(n, d)",
        "min-norm program, primal route": "extra peak <= min_norm_bytes(n, d)",
        "min-norm program, factor route": "extra peak <= DualFactor's require() bytes",
        "dual GD Gram (GRAM_SQUARES)": "extra peak <= square_bytes(n, GRAM_SQUARES)",
        "fit with the gap, dual (K shared)": "extra peak <= min_norm_bytes(n, d)",
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
        "PRIMAL_XS copies of X otherwise); a fit -> the largest stage of its memory plan "
        "checked up front, from decisions_['memory_stages']: gram_gd_bytes(n) = "
        "square_bytes(n, GRAM_SQUARES) on the dual GD path (none on the primal path, shown as "
        "0), and for fit also min_norm_bytes(n, d) (the GD Gram matrix is handed to the "
        "min-norm program). factor est.: the stage the 'factor' route adds and checks late, "
        "before its QR (8 n (4 (n + min(width, d)) + n (blocks + 2)): K, the kept factors "
        "and four stacked blocks): the last decisions_['memory_checks'] - 1 stages of a fit. "
        "min_norm_reference returns no memory plan, so a min_norm row shows the stage the "
        "fit of the same data reported on the same route (it depends on n and d only); "
        "without such a fit it is not observed and the row is left out of the targets. "
        "memory checks: decisions_['memory_checks'] (1 up front, +1 per late stage).",
        "GD path and route are what the package reports: decisions_['path'] and "
        "decisions_['reference_route'] of a fit, the route field of what min_norm_reference "
        "returned ('dual/gram' etc.: the route shared by both neuron groups). Nothing in the "
        "package is wrapped or patched to read them. An op that raised has no decisions_ "
        "('-'); the size it needed is in its outcome.",
        "'extra / X' shows the O(n d) working copies (the primal program's row copies) in "
        "units of X's size.",
        "The last shape runs with sklearn_relubias._memory.available_bytes replaced by a "
        "constant in the child (a simulated machine, not an instrument; budget = half of "
        "it): 'auto' must take the primal GD path, and solver='dual' and the fit with the gap "
        "(its min-norm check) must raise InsufficientMemoryError before allocating.",
        "The fits are the paper's model (sklearn_relubias.PAPER_MODEL: 2 neurons, zero start, "
        "no intercept, compute_min_norm_gap=True), max_iter=50: 'fit' plans and solves the "
        "reference (the default compute_min_norm_gap='auto' skips it above 1000 rows or for "
        "n >= d, so a default fit's plan is the fit_nogap row's, with 16 neurons' n x m "
        "arrays).",
    ]
    if unobserved:
        sec.notes.append(
            "factor-route stage not observed (no fit of the same data), left out of the "
            f"targets: {'; '.join(unobserved)}."
        )
    return [sec]


def _budget_target(rows, cfg):
    """'auto' chose primal under the simulated budget; the refusals allocated (almost) nothing."""
    parts, met = [], True
    if "fit_nogap" in rows:
        res, extra = rows["fit_nogap"]
        primal = res["decisions"].get("path") == "primal" and res["error"] is None
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
        f"auto -> primal GD; solver='dual' and the fit with the gap raise "
        f"InsufficientMemoryError with extra peak <= {cfg['refusal_max_mb']} MB",
        "; ".join(parts),
        bool(met),
    )
