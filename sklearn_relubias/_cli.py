"""The ``relubias`` command: ``relubias reproduce [--quick] [--out DIR] [--n-jobs N]``."""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._shallow import ShallowReLURegressor
from .datasets import make_high_dim_regression
from .exceptions import StrandedExampleWarning
from .experiments import gap_sweep

# The headline sweep: single neuron, Gaussian data and labels, zero init.
FULL = {
    "n_samples": [10, 20, 40],
    "n_features": [500, 2000, 8000, 32000],
    "learning_rate": [1.0, 0.1, 0.01, 0.001],
    "n_repeats": 20,
}
QUICK = {
    "n_samples": [10, 20, 40],
    "n_features": [250, 1000, 4000],
    "learning_rate": [1.0, 0.1, 0.01],
    "n_repeats": 5,
}
ESTIMATOR_PARAMS = {"n_neurons": 1, "max_iter": 500_000, "tol": 1e-9}


def _table(result):
    head = (
        f"{'n':>4} {'d':>6} {'lr':>6} {'gap to W* [q10, q90]':>29} "
        f"{'|W_ls - W*|':>11} {'sqrt(n/d)':>9} {'stable':>7} {'steps':>7} {'stuck':>6}"
    )
    lines = [head, "-" * len(head)]
    for row in result.summary():
        lines.append(
            f"{row['n_samples']:>4} {row['n_features']:>6} {row['learning_rate']:>6g} "
            f"{row['min_norm_gap_q50']:>9.2e} [{row['min_norm_gap_q10']:.2e}, "
            f"{row['min_norm_gap_q90']:.2e}] {row['min_norm_to_active_ls_q50']:>11.2e} "
            f"{np.sqrt(row['n_samples'] / row['n_features']):>9.3f} "
            f"{row['pattern_stable_iter_q50']:>7g} {row['n_iter_q50']:>7g} "
            f"{row['n_stuck']:>3}/{row['n_fits']:<2}"
        )
    lines.append(
        "stuck: fits that stopped above the global minimum (an example inactive for the "
        "neuron that could fit it)"
    )
    return "\n".join(lines)


def _slopes(result):
    lines = []
    for metric, name in (("min_norm_gap", "gap to W*"), ("min_norm_to_active_ls", "|W_ls - W*|")):
        for s in result.slopes(metric):
            lines.append(
                f"{name:>12} vs {s['variable']:<10} lr={s['learning_rate']:<6g} slope "
                f"{s['slope']:+.2f}  95% CI [{s['ci_low']:+.2f}, {s['ci_high']:+.2f}]"
            )
    return "\n".join(lines)


def _figures(result, out):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plotting import GapDisplay, PatternTimelineDisplay

    paths = []
    n_mid = sorted({r["n_samples"] for r in result.records})[-1]
    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    for ax, metric in zip(axes, ("min_norm_gap", "min_norm_to_active_ls"), strict=True):
        GapDisplay.from_result(result.select(n_samples=n_mid), metric=metric, ax=ax)
        ax.set_title(f"n = {n_mid}")
    paths.append(out / "gap_vs_dimension.png")
    fig.savefig(paths[-1], dpi=100, bbox_inches="tight")

    fig, ax = plt.subplots(figsize=(7, 5))
    d_max = max(r["n_features"] for r in result.records)
    GapDisplay.from_result(result.select(n_features=d_max), x="learning_rate", ax=ax)
    ax.set_title(f"d = {d_max}")
    paths.append(out / "gap_vs_learning_rate.png")
    fig.savefig(paths[-1], dpi=100, bbox_inches="tight")

    X, y = make_high_dim_regression(20, 2000, random_state=3)
    with warnings.catch_warnings():  # counted in the table's "stuck" column instead
        warnings.simplefilter("ignore", StrandedExampleWarning)
        est = ShallowReLURegressor(n_neurons=2, learning_rate=0.1, record_pattern=True).fit(X, y)
    fig, ax = plt.subplots(figsize=(8, 7))
    PatternTimelineDisplay.from_estimator(est, order=np.argsort(y), ax=ax)
    ax.set_title("n=20, d=2000, Gaussian labels, learning_rate=0.1 (examples sorted by y)")
    paths.append(out / "pattern_timeline.png")
    fig.savefig(paths[-1], dpi=100, bbox_inches="tight")
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
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ShallowReLURegressor(n_neurons=1, max_iter=2, compute_min_norm_gap=False).fit(X, y)
    print(f"ready in {time.perf_counter() - start:.1f} s.", flush=True)


def reproduce(quick=False, out="relubias_results", n_jobs=None, random_state=0):
    """Run the headline sweep, print the table and slopes, write CSV and PNG figures."""
    grid = QUICK if quick else FULL
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    _compile_kernel()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = gap_sweep(
            grid["n_samples"],
            grid["n_features"],
            n_repeats=grid["n_repeats"],
            estimator_params=ESTIMATOR_PARAMS,
            param_grid={"learning_rate": grid["learning_rate"]},
            n_jobs=n_jobs,
            random_state=random_state,
            verbose=1,
        )
    elapsed = time.perf_counter() - start
    print(
        f"\nShallowReLURegressor (one neuron, zero init) vs MinNormReLURegressor, Gaussian "
        f"inputs and labels, {grid['n_repeats']} repeats per cell, {len(result.records)} fits "
        f"in {elapsed:.1f} s (random_state={random_state}). Medians:\n"
    )
    print(_table(result))
    print("\nLog-log slopes (the paper's sqrt(n/d) means -0.5 against d, +0.5 against n):")
    print(_slopes(result))
    csv_path = out / "gap_sweep.csv"
    result.to_csv(csv_path)
    written = [csv_path]
    try:
        written += _figures(result, out)
    except ImportError:
        print(
            "\nmatplotlib is not installed: figures skipped (pip install 'sklearn-relubias[plot]')."
        )
    print("\nWrote " + ", ".join(str(p) for p in written))
    return result


def main(argv=None):
    """Entry point of the ``relubias`` console script."""
    parser = argparse.ArgumentParser(
        prog="relubias",
        description="Implicit bias of gradient descent on shallow ReLU regression.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser(
        "reproduce", help="run the headline sweep: gap to the minimum-norm solution vs d, n, lr"
    )
    rep.add_argument("--quick", action="store_true", help="small grid, under a minute on 2 cores")
    rep.add_argument("--out", default="relubias_results", help="output folder (CSV and PNG)")
    rep.add_argument("--n-jobs", type=int, default=None, help="parallel jobs (joblib)")
    rep.add_argument("--random-state", type=int, default=0, help="seed of the sweep")
    args = parser.parse_args(argv)
    reproduce(quick=args.quick, out=args.out, n_jobs=args.n_jobs, random_state=args.random_state)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
