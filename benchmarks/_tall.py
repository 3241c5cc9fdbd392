"""Case 7: the default fit on tall data (n >> d), and what asking for the min-norm gap costs.

A standard ML workflow calls ``ShallowReLURegressor().fit(X, y)`` with many
samples and few features. The default ``compute_min_norm_gap='auto'`` skips
the minimum-norm reference there (``n_samples >= n_features``: no
interpolating reference; ``decisions_['min_norm_gap']`` says so), and the
window rule (``n_iter_no_change=50``) ends the fit once the loss stalls. This
case measures the default fit, the same fit with ``compute_min_norm_gap=True``
(the reference asked for by name, the default before the defaults changed)
and with ``compute_min_norm_gap=False``, each in a fresh child process under an
address-space limit.
"""

import subprocess

import numpy as np

from ._common import ChildFailed, Section, Target, run_child

GIB = 2**30
MB = 2**20
BASE = "compute_min_norm_gap=False"
VARIANTS = {"default ('auto')": "auto", "compute_min_norm_gap=True": 1, BASE: 0}
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
    out = {key: float(np.median([r[key] for r in results])) for key in RESULT_KEYS}
    out["status"] = "/".join(sorted({r["status"] for r in results}))
    out["gap"] = "/".join(sorted({r["gap"] for r in results}))
    return out


def _target(n, d, summary, label):
    """The target of one size and variant: both ratios to the no-gap fit within ``GOAL``.

    MISSED if either fit failed.
    """
    failed = {k: summary[k]["error"] for k in (label, BASE) if "error" in summary[k]}
    if failed:
        measured = "; ".join(f"{k} failed: {error}" for k, error in failed.items())
        met = False
    else:
        this, base = summary[label], summary[BASE]
        time_ratio = this["fit_s"] / base["fit_s"]
        memory_ratio = this["peak_rss"] / base["peak_rss"]
        measured = f"{time_ratio:.3f}x time, {memory_ratio:.3f}x peak RSS"
        met = time_ratio <= GOAL and memory_ratio <= GOAL
    return Target(
        f"{label} fit vs {BASE}, n={n}, d={d}",
        f"<= {GOAL:g}x time and <= {GOAL:g}x peak RSS",
        measured,
        met,
    )


def run(cfg):
    sec = Section(
        key="7_tall",
        title="7. Default fit on tall data (n >> d): ShallowReLURegressor().fit(X, y) vs "
        "compute_min_norm_gap=True and =False",
        headers=[
            "n",
            "d",
            "fit",
            "runs",
            "fit median [s]",
            "peak RSS median [MB]",
            "n_iter_",
            "status",
            "decisions_['min_norm_gap']",
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
        base = summary[BASE]
        for label, s in summary.items():
            row = [n, d, label, len(results[label])]
            if "error" in s:
                sec.rows.append(row + [f"failed: {s['error']}"] + [None] * 6)
                continue
            row += [s["fit_s"], s["peak_rss"] / MB, int(s["n_iter"]), s["status"], s["gap"]]
            if "error" in base:
                row += [None, None]
            else:
                row += [s["fit_s"] / base["fit_s"], s["peak_rss"] / base["peak_rss"]]
            sec.rows.append(row)
        sec.targets += [_target(n, d, summary, label) for label in VARIANTS if label != BASE]
    sec.notes += [
        "X = rng.standard_normal((n, d)), y = rng.standard_normal(n). Each fit runs in a fresh "
        "`python -m benchmarks._child default_fit` process: a small fit of the same kind "
        "loads the kernels first (compile time excluded, see case 5), then the RSS "
        "high-water mark is reset, the data generated and the fit timed. The variants "
        "alternate, 'runs' processes each; medians shown.",
        "Every parameter but compute_min_norm_gap is the default (16 neurons, random start, "
        "learning_rate=1, an intercept, the window rule n_iter_no_change=50 / loss_tol=3e-3) "
        "except random_state=0, so that the variants run the same gradient descent: "
        "status 'stalled' means the window rule ended the fit. decisions_['min_norm_gap'] "
        "says whether the reference was solved; 'auto' skips it for n >= d, so the default "
        "row should cost what the no-gap row costs, and the compute_min_norm_gap=True row is "
        "the price of asking for the gap on tall data (the default before the defaults "
        "changed, when this case compared it with compute_min_norm_gap=False).",
        "peak RSS is the whole child process's high-water mark (interpreter, libraries and X "
        "included): what a memory limit sees. Ratios divide by the compute_min_norm_gap=False "
        "row of the same size.",
        f"Each child runs under RLIMIT_AS = {cfg['memory_limit_gib']:g} GiB and a "
        f"{cfg['timeout_s']} s timeout, so that an n x n allocation fails fast with "
        "MemoryError instead of swapping; a failed fit is reported as such and its target "
        "as MISSED.",
    ]
    return [sec]
