"""Case 7: the default fit on tall data (n >> d), with and without the min-norm gap.

A standard ML workflow calls ``ShallowReLURegressor().fit(X, y)`` with many
samples and few features. The default also computes the minimum-norm
reference (``compute_min_norm_gap=True``); this case measures what that costs
against ``compute_min_norm_gap=False``, each fit in a fresh child process
under an address-space limit.
"""

import subprocess

import numpy as np

from ._common import ChildFailed, Section, Target, run_child

GIB = 2**30
MB = 2**20
VARIANTS = {"default": 1, "compute_min_norm_gap=False": 0}
RESULT_KEYS = ("fit_s", "peak_rss", "n_iter")
GOAL = 1.5


def _one_fit(n, d, gap, cfg):
    """The child's result; ``{"error": reason}`` if it failed (e.g. MemoryError) or timed out."""
    try:
        return run_child(
            ["default_fit", n, d, gap],
            timeout=cfg["timeout_s"],
            memory_limit=int(cfg["memory_limit_gib"] * GIB),
        )
    except ChildFailed as exc:
        return {"error": exc.reason}
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {cfg['timeout_s']} s"}


def _summary(results):
    """Medians over one variant's runs, or ``{"error": reason}`` of its first failure."""
    errors = [r["error"] for r in results if "error" in r]
    if errors:
        return {"error": errors[0]}
    return {key: float(np.median([r[key] for r in results])) for key in RESULT_KEYS}


def _target(n, d, summary):
    """The target of one size: both ratios within ``GOAL``; MISSED if a fit failed."""
    failed = {label: s["error"] for label, s in summary.items() if "error" in s}
    if failed:
        measured = "; ".join(f"{label} failed: {error}" for label, error in failed.items())
        met = False
    else:
        default, base = summary["default"], summary["compute_min_norm_gap=False"]
        time_ratio = default["fit_s"] / base["fit_s"]
        memory_ratio = default["peak_rss"] / base["peak_rss"]
        measured = f"{time_ratio:.3f}x time, {memory_ratio:.3f}x peak RSS"
        met = time_ratio <= GOAL and memory_ratio <= GOAL
    return Target(
        f"default fit vs compute_min_norm_gap=False, n={n}, d={d}",
        f"<= {GOAL:g}x time and <= {GOAL:g}x peak RSS",
        measured,
        met,
    )


def run(cfg):
    sec = Section(
        key="7_tall",
        title="7. Default fit on tall data (n >> d): ShallowReLURegressor().fit(X, y) vs "
        "compute_min_norm_gap=False",
        headers=[
            "n",
            "d",
            "fit",
            "runs",
            "fit median [s]",
            "peak RSS median [MB]",
            "n_iter_",
            "time / no-gap",
            "peak RSS / no-gap",
        ],
    )
    for n, d, repeats in cfg["sizes"]:
        results = {label: [] for label in VARIANTS}
        for _ in range(repeats):  # the two variants alternate, one fresh process per fit
            for label, gap in VARIANTS.items():
                if not any("error" in r for r in results[label]):  # a failure would repeat
                    results[label].append(_one_fit(n, d, gap, cfg))
        summary = {label: _summary(runs) for label, runs in results.items()}
        base = summary["compute_min_norm_gap=False"]
        for label, s in summary.items():
            row = [n, d, label, len(results[label])]
            if "error" in s:
                sec.rows.append(row + [f"failed: {s['error']}"] + [None] * 4)
                continue
            row += [s["fit_s"], s["peak_rss"] / MB, int(s["n_iter"])]
            if "error" in base:
                row += [None, None]
            else:
                row += [s["fit_s"] / base["fit_s"], s["peak_rss"] / base["peak_rss"]]
            sec.rows.append(row)
        sec.targets.append(_target(n, d, summary))
    sec.notes += [
        "X = rng.standard_normal((n, d)), y = rng.standard_normal(n). Each fit runs in a fresh "
        "`python -m benchmarks._child default_fit` process: a small fit of the same kind "
        "loads the kernels first (compile time excluded, see case 5), then the RSS "
        "high-water mark is reset, the data generated and the fit timed. The two variants "
        "alternate, 'runs' processes each; medians shown.",
        "peak RSS is the whole child process's high-water mark (interpreter, libraries and X "
        "included): what a memory limit sees. Ratios divide by the compute_min_norm_gap=False "
        "row of the same size.",
        f"Each child runs under RLIMIT_AS = {cfg['memory_limit_gib']:g} GiB and a "
        f"{cfg['timeout_s']} s timeout, so that an n x n allocation fails fast with "
        "MemoryError instead of swapping; a failed fit is reported as such and its target "
        "as MISSED.",
    ]
    return [sec]
