"""What ``relubias reproduce`` runs: the headline sweep, its table, figure and files."""

import os
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._cli import STORE
from ._shallow import PAPER_MODEL, ShallowReLURegressor
from .datasets import make_high_dim_regression
from .exceptions import StrandedExampleWarning, quiet
from .experiments import activation_sweep, gap_sweep
from .experiments._activations import SLOPES
from .experiments._files import StagedFiles
from .experiments._store import remove_store

# The headline sweep: single neuron, Gaussian data and labels, zero init.
FULL = {
    "n_samples": [10, 20, 40],
    "n_features": [500, 2000, 8000, 32000],
    "learning_rate": [1.0, 0.1, 0.01, 0.001],
    "n_repeats": 20,
}
QUICK = {  # d / n >= 12.5 as in FULL: fewer fits stuck above the global minimum
    "n_samples": [10, 20, 40],
    "n_features": [500, 2000, 8000],
    "learning_rate": [1.0, 0.1, 0.01],
    "n_repeats": 5,
}
ESTIMATOR_PARAMS = {"n_neurons": 1, "max_iter": 500_000, "tol": 1e-9}


def _table(result):
    head = (
        f"{'n':>4} {'d':>6} {'lr':>6} {'rel. gap |W-W*|/|W*| [q10, q90]':>31} "
        f"{'abs. |W-W*| [q10, q90]':>28} {'|W*|':>8} {'|W_ls-W*|':>9} {'sqrt(n/d)':>9} "
        f"{'stable':>7} {'steps':>7} {'stuck':>6}"
    )
    lines = [head, "-" * len(head)]
    for row in result.summary():
        lines.append(
            f"{row['n_samples']:>4} {row['n_features']:>6} {row['learning_rate']:>6g} "
            f"{row['min_norm_gap_q50']:>9.2e} [{row['min_norm_gap_q10']:.2e}, "
            f"{row['min_norm_gap_q90']:.2e}] "
            f"{row['min_norm_distance_q50']:>8.2e} [{row['min_norm_distance_q10']:.2e}, "
            f"{row['min_norm_distance_q90']:.2e}] {row['min_norm_norm_q50']:>8.2e} "
            f"{row['min_norm_to_active_ls_distance_q50']:>9.2e} "
            f"{np.sqrt(row['n_samples'] / row['n_features']):>9.3f} "
            f"{row['pattern_stable_iter_q50']:>7g} {row['n_iter_q50']:>7g} "
            f"{row['n_stuck']:>3}/{row['n_fits']:<2}"
        )
    lines.append(
        "|W_ls - W*|: distance from the minimum-norm solution to the label-sign least-squares "
        "fit (independent of the run).\n"
        "stuck: fits that stopped above the global minimum (an example inactive for the "
        "neuron that could fit it)."
    )
    return "\n".join(lines)


# What reproduce reports slopes of, and what the slopes should be.
# (|W_ls - W*| is left out: it is exactly 0 on every data set where W* meets the sign
# constraints it drops, and a log-log fit of a quantity with an atom at 0 means nothing.)
SLOPE_METRICS = (
    ("min_norm_distance", "abs. |W - W*|"),
    ("min_norm_gap", "rel. |W - W*|/|W*|"),
    ("min_norm_norm", "control W=0: |W*|"),
)


def _fmt(row):
    if row is None:
        return f"{'-':^21}"
    return f"{row['slope']:+.2f} [{row['ci_low']:+.2f}, {row['ci_high']:+.2f}]"


def _slopes(result, stuck=None):
    """One line per (quantity, learning_rate): slopes against d and n with 95% CIs."""
    head = f"{'quantity':<20} {'lr':>6}  {'vs d':^21}  {'vs n':^21}  {'fits':>5}"
    lines = [head, "-" * len(head)]
    for metric, name in SLOPE_METRICS:
        rows = {}
        for s in result.slopes(metric, stuck=stuck):
            rows.setdefault(s["learning_rate"], {})[s["variable"]] = s
        for lr, by_var in rows.items():
            n_fits = next(iter(by_var.values()))["n_fits"]
            lines.append(
                f"{name:<20} {lr:>6g}  {_fmt(by_var.get('n_features'))}  "
                f"{_fmt(by_var.get('n_samples'))}  {n_fits:>5}"
            )
    return "\n".join(lines)


def _gap_over_lr(result):
    """Median of the relative gap divided by learning_rate, per learning rate."""
    parts = []
    for lr in sorted({r["learning_rate"] for r in result.records}, reverse=True):
        gaps = [r["min_norm_gap"] / lr for r in result.records if r["learning_rate"] == lr]
        ok = [
            r["min_norm_gap"] / lr
            for r in result.records
            if r["learning_rate"] == lr and not r["stuck"]
        ]
        parts.append(
            f"  lr={lr:<6g} median gap/lr {np.median(gaps):.2f} (all fits)"
            + (f", {np.median(ok):.2f} (fits not stuck)" if ok else "")
        )
    return "\n".join(parts)


_LABELS_SHORT = {"min_norm_gap": "relative gap", "min_norm_distance": "absolute distance"}


def _figures(result, out, target):
    """Draw the figures; ``target(final_path)`` gives the file each is saved to.

    Returns the final paths.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plotting import GapDisplay, PatternTimelineDisplay

    paths = []
    # The figures show the fits that reached a global minimum: a stuck fit keeps a gap
    # that does not shrink with the learning rate, a different failure that the table counts.
    ok = result.select(stuck=False)
    kept = f"{len(ok.records)} of {len(result.records)} fits, those not stuck"
    ns = sorted({r["n_samples"] for r in ok.records})
    metrics = (
        ("min_norm_distance", "absolute distance ||W - W*||"),
        ("min_norm_gap", "relative gap ||W - W*|| / ||W*||"),
    )
    fig, axes = plt.subplots(
        len(metrics),
        len(ns),
        figsize=(4.6 * len(ns), 10),
        sharey="row",
        squeeze=False,
        layout="constrained",
    )
    for (metric, title), row_axes in zip(metrics, axes, strict=True):
        for n, ax in zip(ns, row_axes, strict=True):
            GapDisplay.from_result(ok.select(n_samples=n), metric=metric, ax=ax, legend="below")
            ax.set_title(f"n = {n}: {title}", fontsize="medium")
            ax.yaxis.set_tick_params(labelleft=True)
    fig.suptitle(
        "Gradient descent W vs the minimum-norm solution W* (one neuron, Gaussian data; "
        f"{kept}; medians, log-log slope [95% CI]).\nTop: the absolute distance, of order "
        "sqrt(n/d) at each learning rate. Bottom: the relative gap, of order learning_rate, "
        "about flat in d."
    )
    paths.append(out / "gap_vs_dimension.png")
    fig.savefig(target(paths[-1]), dpi=100, bbox_inches="tight")

    fig, axes = plt.subplots(1, 2, figsize=(12, 5.6), layout="constrained")
    d_max = max(r["n_features"] for r in ok.records)
    for ax, (metric, _) in zip(axes, metrics[::-1], strict=True):
        GapDisplay.from_result(
            ok.select(n_features=d_max), x="learning_rate", metric=metric, ax=ax, legend="below"
        )
        ax.set_title(f"d = {d_max}: {_LABELS_SHORT[metric]}", fontsize="medium")
    fig.suptitle(f"{kept}")
    paths.append(out / "gap_vs_learning_rate.png")
    fig.savefig(target(paths[-1]), dpi=100, bbox_inches="tight")

    X, y = make_high_dim_regression(20, 2000, random_state=3)
    with quiet(StrandedExampleWarning):  # counted in the table's "stuck" column instead
        est = ShallowReLURegressor(**PAPER_MODEL, record_pattern=True).fit(X, y)
    fig, ax = plt.subplots(figsize=(8, 7))
    PatternTimelineDisplay.from_estimator(est, order=np.argsort(y), ax=ax)
    ax.set_title("n=20, d=2000, Gaussian labels, learning_rate=0.1 (examples sorted by y)")
    paths.append(out / "pattern_timeline.png")
    fig.savefig(target(paths[-1]), dpi=100, bbox_inches="tight")
    plt.close("all")
    return paths


def _compile_kernel():
    """Compile (or load from Numba's cache) the kernel before the timed, progress-barred sweep.

    Otherwise the first cell carries the compile time and the progress bar
    projects it over the whole sweep.
    """
    print("Compiling the gradient-descent kernel (once; cached for later runs)...", flush=True)
    start = time.perf_counter()
    X, y = make_high_dim_regression(4, 8, random_state=0)  # n < d: the sweep's (dual) kernel
    with quiet(ConvergenceWarning):
        paper = ShallowReLURegressor(**PAPER_MODEL)
        # solver='dual' by name: with 2 steps 'auto' would take (and compile) the primal path
        paper.set_params(n_neurons=1, max_iter=2, compute_min_norm_gap=False, solver="dual")
        paper.fit(X, y)
    print(f"ready in {time.perf_counter() - start:.1f} s.", flush=True)


class OutputError(Exception):
    """``--out`` cannot hold the results, or the results could not be written there.

    ``code`` is the command's exit status: 2 for an unusable ``--out``
    (found before any work), 1 after the sweep.
    """

    def __init__(self, message, code=1):
        super().__init__(message)
        self.code = code


def _output_dir(out):
    """Create ``out`` and check that a file can be created in it; return it as a Path.

    Run before any work, so that an unwritable folder is found in a second,
    not after the sweep. Raises :class:`OutputError`.
    """
    if not str(out).strip():
        raise OutputError(
            "--out is empty; name the folder for the results, e.g. --out relubias_results "
            "(--out . for the current folder).",
            code=2,
        )
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=out, prefix=".relubias-write-check-")
        os.close(fd)
        os.remove(probe)
    except OSError as exc:
        raise OutputError(f"cannot write the results to --out {out}: {exc}", code=2) from None
    return out


def reproduce(quick=False, out="relubias_results", n_jobs=None, random_state=0, fresh=False):
    """Run the headline sweep, print the table and slopes, write CSV and PNG figures.

    The finished cells are kept in ``out/sweep.sqlite`` as they finish: a
    rerun with the same arguments resumes (``fresh=True`` discards them and
    starts over). The CSV and figures are written only once the sweep is
    complete, each to a temporary file in ``out``, and renamed into place
    together at the end: an interrupt or a full disk leaves the previous
    run's files, all of them, and a symlink at an output's name is replaced,
    never written through.

    Raises
    ------
    OutputError
        If ``out`` is not a writable folder (before any work), cells of the
        sweep failed (no output is written), or writing the outputs failed
        (nothing was replaced).
    """
    grid = QUICK if quick else FULL
    out = _output_dir(out)
    store = out / STORE
    if fresh:
        remove_store(store)
    start = time.perf_counter()
    _compile_kernel()
    result = gap_sweep(  # records convergence and stranded examples instead of warning
        grid["n_samples"],
        grid["n_features"],
        n_repeats=grid["n_repeats"],
        estimator_params=ESTIMATOR_PARAMS,
        param_grid={"learning_rate": grid["learning_rate"]},
        n_jobs=n_jobs,
        random_state=random_state,
        verbose=1,
        store=store,
    )
    if result.failed:
        cells = ", ".join(
            f"(n={c['n_samples']}, d={c['n_features']}, repeat={c['repeat']})"
            for c in result.failed
        )
        raise OutputError(
            f"{len(result.failed)} cells failed, their worker process died twice: {cells}. "
            f"Nothing was written; the other cells are kept in {store}: run the same command "
            "again to retry the failed ones."
        )
    elapsed = time.perf_counter() - start
    print(
        f"\nShallowReLURegressor (one neuron, zero init) vs MinNormReLURegressor, Gaussian "
        f"inputs and labels, {grid['n_repeats']} repeats per cell, {len(result.records)} fits "
        f"in {elapsed:.1f} s (random_state={random_state}). Medians:\n"
    )
    print(_table(result))
    print(
        "\nLog-log slopes, all fits, with 95% confidence intervals. The paper's rate "
        "sqrt(n/||lambda||_1) (= sqrt(n/d) here) means -0.5 against d and +0.5 against n:"
    )
    print(_slopes(result))
    if any(r["stuck"] for r in result.records):
        print("\nThe same on the fits that did not get stuck:")
        print(_slopes(result, stuck=False))
    print(
        "\nTwo readings of one measurement, on the fits that reached a global minimum:\n"
        "- the ABSOLUTE distance ||W - W*||_F is Theta(sqrt(n/||lambda||_1)), the paper's "
        "rate, at every fixed learning rate, as d/n grows; at this grid's d/n the measured "
        "slopes are shallower (about -0.4 against d at learning rates 1 and 0.1, and the "
        "quick grid's intervals may exclude -0.5): the step is normalised by "
        "lambda_max(X X^T) ~ d (1 + sqrt(n/d))^2, and the frozen first-step coefficients "
        "carry the factor (1 + sqrt(n/d))^-2;\n"
        "- the RELATIVE gap ||W - W*||/||W*|| is Theta(learning_rate), about flat in d and n, "
        "because with O(1) labels ||W*|| is itself Theta(sqrt(n/||lambda||_1)) (its slopes "
        "above).\n"
        "The control row is the trivial guess W = 0, at distance ||W*|| from the reference: it "
        "has the same slopes as the fitted absolute distance, so those slopes alone are no "
        "evidence for the rate; the relative gap is what separates gradient descent from "
        "the control (the control's relative gap is 1).\n"
        "A stuck fit keeps a gap that does not shrink with the learning rate; with Gaussian "
        "labels an example "
        "whose |y_i| is of order sqrt(n/d) or smaller can be switched off for good early on, "
        "which is why the all-fits slopes steepen at small learning rates.\n"
        "Relative gap divided by learning_rate:"
    )
    print(_gap_over_lr(result))
    written = [out / "gap_sweep.csv"]
    try:
        with StagedFiles() as staged:  # all renamed into place at the end, or none
            result.to_csv(staged.temp(written[0]))
            try:
                written += _figures(result, out, staged.temp)
            except ImportError:
                print(
                    "\nmatplotlib is not installed: figures skipped "
                    "(pip install 'sklearn-relubias[plot]')."
                )
    except OSError as exc:
        raise OutputError(
            f"could not write the results to {out} ({exc}); no file there was replaced. The "
            f"sweep is kept in {store}: run the same command again to write them."
        ) from exc
    print("\nWrote " + ", ".join(str(p) for p in written))
    return result


# relubias activations: the gap against the negative slope (the title question)
ACTIVATIONS_FULL = {
    "n_seeds": 20,
    "negative_slopes": SLOPES,
    "learning_rates": (0.5, 0.1, 0.01, 0.0),  # 0.0: exact gradient flow
}
ACTIVATIONS_QUICK = {
    "n_seeds": 3,
    "negative_slopes": (1.0, 0.5, 0.1, 0.02, 0.0),
    "learning_rates": (0.5, 0.1, 0.0),  # 0.0: exact gradient flow
}


def _activation_table(result):
    head = (
        f"{'m':>2} {'alpha':>6} {'lr':>6} {'rel. gap median [q10, q90]':>30} "
        f"{'|W*| median':>11} {'converged':>9} {'same region':>11}"
    )
    lines = [head, "-" * len(head)]
    for r in result.summary():
        lines.append(
            f"{r['n_neurons']:>2} {r['negative_slope']:>6g} "
            f"{(format(r['learning_rate'], 'g') if r['learning_rate'] else 'flow'):>6} "
            f"{r['gap_median']:>10.2e} [{r['gap_q10']:.2e}, {r['gap_q90']:.2e}] "
            f"{r['reference_norm_median']:>11.3g} {r['converged']:>8.0%} "
            f"{r['same_region']:>10.0%}"
        )
    return "\n".join(lines)


def _activation_figure(result, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plotting import ActivationDisplay

    ms = sorted({r["n_neurons"] for r in result.records})
    fig, axes = plt.subplots(
        2, len(ms), figsize=(6 * len(ms), 9), squeeze=False, layout="constrained"
    )
    for col, m in enumerate(ms):
        ActivationDisplay.from_result(result, n_neurons=m, metric="relative_gap", ax=axes[0, col])
        ActivationDisplay.from_result(result, n_neurons=m, metric="reference_norm", ax=axes[1, col])
    fig.suptitle(
        "Leaky ReLU from linear (alpha = 1) to ReLU (alpha = 0): gradient descent from zero vs "
        "the minimum-norm interpolant within the label-sign region.\nTop: relative gap "
        "(median, 10-90% band; hollow markers: some fits stopped at max_iter). Bottom: the "
        "reference's norm ||W*||.",
        fontsize="medium",
    )
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)


def activations(quick=False, out="relubias_results", random_state=0):
    """Run the activation sweep, print its table, write ``activations.csv`` and the figure."""
    import csv

    grid = ACTIVATIONS_QUICK if quick else ACTIVATIONS_FULL
    out = _output_dir(out)
    start = time.perf_counter()
    _compile_kernel()
    result = activation_sweep(**grid, random_state=random_state)
    print(
        f"\nLeaky ReLU, zero start, n={result.n_samples}, d={result.n_features}, Gaussian "
        f"data and labels, {grid['n_seeds']} seeds per cell, {len(result.records)} fits in "
        f"{time.perf_counter() - start:.1f} s (random_state={random_state}); reference: the "
        "minimum-norm interpolant within the label-sign region (one neuron, alpha > 0: the "
        "minimum-norm solution of X w = sigma^-1(y / a)).\n"
    )
    print(_activation_table(result))
    print(
        "\nalpha = 1 is the linear model: from zero, gradient descent stays in the row space "
        "and lands on the minimum-norm interpolant (gap at the stopping tolerance). One "
        "neuron with alpha > 0 does the same: its region is the labels' from the first step "
        "on, and within a fixed region the model is linear. ReLU (alpha = 0) keeps a gap of "
        "order learning_rate. The +/- pair keeps a gap at every alpha < 1 (the first steps "
        "cross regions, and their coefficients stay): it falls with the learning rate at "
        "large rates and levels off at small ones, where more runs end outside the "
        "label-sign region ('same region'). One neuron's "
        "||W*|| grows like 1/alpha as alpha -> 0 (the negative targets are fitted on the "
        "slope-alpha side) and drops at alpha = 0, where ReLU cannot fit them: the limit "
        "alpha -> 0 is not ReLU's reference; the pair's ||W*|| stays bounded (the other "
        "neuron fits them). Small alpha at small learning rates needs about "
        "1/(alpha^2 learning_rate) steps ('converged' below 100%: fits stopped at max_iter)."
    )
    written = [out / "activations.csv"]
    try:
        with StagedFiles() as staged:
            with open(staged.temp(written[0]), "w", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=list(result.records[0]))
                writer.writeheader()
                writer.writerows(result.records)
            try:
                written.append(out / "activations.png")
                _activation_figure(result, staged.temp(written[-1]))
            except ImportError:
                written.pop()
                print("\nmatplotlib is not installed: figure skipped.")
    except OSError as exc:
        raise OutputError(f"could not write the results to {out} ({exc}).") from exc
    print("\nWrote " + ", ".join(str(p) for p in written))
    return result
