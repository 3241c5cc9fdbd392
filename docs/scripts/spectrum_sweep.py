"""How the gap to the minimum-norm solution depends on the trace and the effective rank.

The paper (Lai, Wang, Tao, Muthukumar, arXiv 2603.04895, v2) states
``||W_GD - W*|| = Theta(sqrt(n / ||lambda||_1))`` with ``lambda`` the input
covariance spectrum. On isotropic data the trace ``||lambda||_1 = d`` and the
effective rank ``R = ||lambda||_1^2 / ||lambda||_2^2 = d`` move together; here
they are varied independently, at a fixed dimension ``d = 4000``.

Setting: one neuron (``n_neurons=1``), ``init='zero'``, +/-1 labels
(``labels='rademacher'``), ``learning_rate`` in {0.1, 0.01}, Gaussian inputs
from :func:`~sklearn_relubias.datasets.make_high_dim_regression` with
``normalize='trace'`` (so ``scale`` is the trace). Spectrum families:

- ``two_level``: ``n_spikes = R`` eigenvalues equal, the rest 0 (``low=0``):
  ``R = r0 = n_spikes`` exactly; inputs of rank ``R``.
- ``power_law``: ``lambda_k ~ k**-e``, full rank, ``e`` solved for the target
  ``R``; ``r0 = trace / lambda_1`` is 5-10 times smaller than ``R``.
- ``spiked``: one spike on an isotropic bulk, full rank, the spike solved for
  the target ``R``; ``r0`` is smaller still (``r0 = 62`` at ``R = 2000``).

Part 1 fits joint log-log slopes (``GapSweepResult.slopes``) of the absolute
distance ``||W - W*||``, ``||W*||``, the reference distance ``||W_ls - W*||``
and the relative gap against ``n_samples``, ``trace`` and ``effective_rank``,
with 95% Student-t intervals, on ``n`` in {10, 20, 40}, trace in
{1e2, 1e3, 1e4} and ``R`` in {400, 1000, 2500} (``R >= 10 n``). Part 2 shows
where the law breaks: ``R / n`` in {1/4, 1/2, 1, 2, 10, 100} at ``n`` in
{20, 40}, trace 1000, with the median of ``||W - W*|| sqrt(trace / n)``
(constant where the law holds) and the stuck fraction.

Each spectrum setting is one :func:`~sklearn_relubias.experiments.gap_sweep`
call with its own seed; the records are merged into one
:class:`~sklearn_relubias.experiments.GapSweepResult`.

Run: ``python docs/scripts/spectrum_sweep.py`` (about 2-4 minutes on one core,
single process; tables in markdown on stdout).
"""

import time
import warnings
from functools import lru_cache

import numpy as np
from scipy.optimize import brentq
from sklearn.exceptions import ConvergenceWarning

from sklearn_relubias.datasets import make_spectrum, spectrum_stats
from sklearn_relubias.experiments import GapSweepResult, gap_sweep

D = 4000
MAX_ITER = 100_000
LEARNING_RATES = (0.1, 0.01)
SAME_REFERENCE = 1e-9  # ||W_ls - W*|| / ||W*|| below this: the two references coincide
ESTIMATOR = {"n_neurons": 1, "init": "zero", "max_iter": MAX_ITER}
METRICS = (
    "min_norm_distance",
    "min_norm_norm",
    "min_norm_to_active_ls_distance",
    "min_norm_gap",
    "min_norm_to_active_ls",
)


@lru_cache
def _solve(kind, target):
    """Shape parameter of ``kind`` (d = D) whose effective rank is ``target``."""
    key = "exponent" if kind == "power_law" else "spike"
    if target >= D:
        return 0.0

    def rank(value):
        return spectrum_stats(make_spectrum(D, kind, **{key: value}))["effective_rank"] - target

    return brentq(rank, 0.0, 20.0 if kind == "power_law" else 1e8, xtol=1e-12)


def spectrum_params(family, rank):
    """``make_high_dim_regression`` keywords giving effective rank ``rank``."""
    if family == "two_level":
        return {"spectrum": "two_level", "n_spikes": int(round(rank)), "low": 0.0}
    if family == "power_law":
        return {"spectrum": "power_law", "exponent": _solve("power_law", float(rank))}
    return {"spectrum": "spiked", "n_spikes": 1, "spike": _solve("spiked", float(rank))}


def sweep(settings, n_repeats, seed):
    """One gap_sweep per ``(family, R, n, trace)``; records merged into one result."""
    records = []
    for k, (family, rank, n, trace) in enumerate(settings):
        params = {
            **spectrum_params(family, rank),
            "labels": "rademacher",
            "normalize": "trace",
            "scale": float(trace),
        }
        with warnings.catch_warnings():  # non-convergence is recorded (converged column)
            warnings.simplefilter("ignore", ConvergenceWarning)
            res = gap_sweep(
                n,
                D,
                n_repeats=n_repeats,
                estimator_params=ESTIMATOR,
                param_grid={"learning_rate": list(LEARNING_RATES)},
                dataset_params=params,
                random_state=seed + k,
                n_jobs=1,
            )
        for rec in res.records:
            scale = np.sqrt(rec["trace"] / n)
            rec.update(
                family=family,
                target_rank=rank,
                converged=rec["n_iter"] < MAX_ITER,
                scaled_distance=rec["min_norm_distance"] * scale,
                scaled_norm=rec["min_norm_norm"] * scale,
                scaled_reference=rec["min_norm_to_active_ls_distance"] * scale,
            )
        records += res.records
    return GapSweepResult(records, swept=["family", "learning_rate"], entropy=seed)


def fmt(x, digits=3):
    """Format ``x`` with ``digits`` significant digits."""
    return f"{x:.{digits}g}"


def slope_table(result, variables, stuck=None):
    """Print the joint slopes of every metric against ``variables`` (markdown)."""
    # W_ls == W* exactly (to rounding) in a few fits: log(0) would dominate the
    # reference metrics' regressions, so those fits are left out of them only.
    distinct = GapSweepResult(
        [r for r in result.records if r["min_norm_to_active_ls"] > SAME_REFERENCE],
        result.swept,
        result.entropy,
    )
    rows = {}
    for metric in METRICS:
        source = distinct if "active_ls" in metric else result
        for row in source.slopes(metric, variables=variables, stuck=stuck):
            if "active_ls" in metric and row["learning_rate"] != LEARNING_RATES[0]:
                continue  # the references do not depend on the run: one row is enough
            key = (row["family"], row["learning_rate"], metric)
            cell = f"{row['slope']:+.3f} [{row['ci_low']:+.3f}, {row['ci_high']:+.3f}]"
            rows.setdefault(key, {"n_fits": row["n_fits"]})[row["variable"]] = cell
    head = " | ".join(variables)
    print(f"| family | lr | metric | {head} | fits |")
    print("|---" * (4 + len(variables)) + "|")
    for (family, lr, metric), cells in rows.items():
        vals = " | ".join(cells.get(v, "-") for v in variables)
        print(f"| {family} | {lr:g} | {metric} | {vals} | {cells['n_fits']} |")


def q(values, p):
    """Quantile ``p`` of ``values``."""
    return float(np.quantile(np.asarray(values, dtype=float), p))


def med_iqr(values):
    """``median [q25, q75]``."""
    return f"{fmt(q(values, 0.5))} [{fmt(q(values, 0.25), 2)}, {fmt(q(values, 0.75), 2)}]"


def part1():
    """Slopes in the law region; returns the sweep's wall time."""
    settings = [
        (family, rank, n, trace)
        for family in ("two_level", "power_law")
        for rank in (400, 1000, 2500)
        for n in (10, 20, 40)
        for trace in (1e2, 1e3, 1e4)
    ]
    start = time.perf_counter()
    res = sweep(settings, n_repeats=6, seed=1000)
    elapsed = time.perf_counter() - start
    recs = res.records
    n_stuck = sum(r["stuck"] for r in recs)
    n_unconv = sum(not r["converged"] for r in recs)
    n_same = sum(r["min_norm_to_active_ls"] <= SAME_REFERENCE for r in recs) // len(LEARNING_RATES)
    print("\n## Part 1: joint log-log slopes, R >= 10 n (law region)\n")
    print(
        f"{len(recs)} fits ({len(settings)} spectrum settings x 6 repeats x "
        f"{len(LEARNING_RATES)} learning rates), d = {D}, {elapsed:.0f} s; "
        f"stuck fits: {n_stuck}, not converged: {n_unconv}; data sets where W_ls = W* "
        f"(to rounding; left out of the two active_ls rows): {n_same} of "
        f"{len(recs) // len(LEARNING_RATES)}.\n"
    )
    print("r0 = trace / lambda_1 per setting (n-independent):")
    seen = {}
    for r in recs:
        seen.setdefault((r["family"], r["target_rank"]), (r["effective_rank"], r["r0"]))
    for (family, _), (R, r0) in seen.items():
        print(f"- {family}, R = {R:.0f}: r0 = {r0:.1f}")
    print(
        "\nSlopes of log(metric) on log n, log trace, log R (95% CI), all fits. Scaling X by c "
        "scales W, W*, W_ls by 1/c and leaves the relative gaps unchanged (the step is "
        "normalised by lambda_max), so the trace slopes at fixed shape are -1/2 and 0 by "
        "dimensional analysis: they check the code, not the theory.\n"
    )
    slope_table(res, ("n_samples", "trace", "effective_rank"))
    if n_stuck:
        print("\nSame, non-stuck fits only:\n")
        slope_table(res, ("n_samples", "trace", "effective_rank"), stuck=False)
    print("\nMedian ||W - W*|| sqrt(trace/n) [IQR] per (family, lr, n, R), pooled over traces:\n")
    print(
        "| family | lr | n | R | R/n | dist*sqrt(trace/n) | ||W*||*sqrt(trace/n) | relative gap |"
    )
    print("|---" * 8 + "|")
    groups = {}
    for r in recs:
        key = (r["family"], r["learning_rate"], r["n_samples"], r["target_rank"])
        groups.setdefault(key, []).append(r)
    for (family, lr, n, rank), rs in sorted(groups.items()):
        print(
            f"| {family} | {lr:g} | {n} | {rank} | {rank / n:.0f} | "
            f"{med_iqr([r['scaled_distance'] for r in rs])} | "
            f"{med_iqr([r['scaled_norm'] for r in rs])} | "
            f"{med_iqr([r['min_norm_gap'] for r in rs])} |"
        )
    return elapsed


def part2():
    """Where the law breaks; returns the sweep's wall time."""
    ratios = (0.25, 0.5, 1, 2, 10, 100)
    settings = [
        (family, n * ratio, n, 1e3)
        for family in ("two_level", "power_law", "spiked")
        for n in (20, 40)
        for ratio in ratios
    ]
    start = time.perf_counter()
    res = sweep(settings, n_repeats=10, seed=2000)
    elapsed = time.perf_counter() - start
    print("\n## Part 2: where the law breaks (trace = 1000, d = 4000)\n")
    print(
        f"{len(res.records)} fits, {elapsed:.0f} s. Per cell 10 data sets; "
        "dist = ||W - W*|| sqrt(trace/n), median [IQR]; ref = ||W_ls - W*|| sqrt(trace/n); "
        "stuck = fits leaving a positive example inactive; unconv = hit max_iter "
        f"= {MAX_ITER} (non-interpolating problems converge slowly).\n"
    )
    head = " | ".join(
        f"dist lr={lr:g} | rel gap lr={lr:g} | stuck lr={lr:g}" for lr in LEARNING_RATES
    )
    print(f"| family | n | R/n | R | r0 | r0/n | {head} | ref | unconv |")
    print("|---" * (8 + 3 * len(LEARNING_RATES)) + "|")
    groups = {}
    for r in res.records:
        groups.setdefault((r["family"], r["n_samples"], r["target_rank"]), []).append(r)
    for (family, n, rank), rs in groups.items():
        cells = []
        for lr in LEARNING_RATES:
            sub = [r for r in rs if r["learning_rate"] == lr]
            cells += [
                med_iqr([r["scaled_distance"] for r in sub]),
                fmt(q([r["min_norm_gap"] for r in sub], 0.5)),
                f"{sum(r['stuck'] for r in sub)}/{len(sub)}",
            ]
        sub = [r for r in rs if r["learning_rate"] == LEARNING_RATES[0]]
        print(
            f"| {family} | {n} | {rank / n:g} | {rs[0]['effective_rank']:.0f} | "
            f"{rs[0]['r0']:.1f} | {rs[0]['r0'] / n:.2g} | {' | '.join(cells)} | "
            f"{fmt(q([r['scaled_reference'] for r in sub], 0.5))} | "
            f"{sum(not r['converged'] for r in rs)}/{len(rs)} |"
        )
    return elapsed


if __name__ == "__main__":
    t0 = time.perf_counter()
    part1()
    part2()
    print(f"\nTotal wall time: {time.perf_counter() - t0:.0f} s")
