"""User-guide table: gap to the minimum-norm solution per data regime and learning rate.

One neuron (``n_neurons=1``), ``init='zero'``, learning rates {1, 0.1, 0.01}.
Regimes (n = 20 for the random ones, +/-1 labels):

- orthogonal: :func:`~sklearn_relubias.datasets.make_orthogonal_regression`, d = 2000;
- isotropic d/n = 100: Gaussian inputs, d = 2000;
- moderate d/n = 5: Gaussian inputs, d = 100;
- anisotropic R ~ n: power-law spectrum in d = 2000 with effective rank
  ``R = ||lambda||_1^2 / ||lambda||_2^2 = n = 20`` (``r0 = trace / lambda_1 = 5.4``);
- stalled: :func:`~sklearn_relubias.datasets.make_stalled_regression` (n = 4, d = 2);
- frozen: :func:`~sklearn_relubias.datasets.make_frozen_regression` (n = 3, d = 3,
  the Vardi-Shamir-type instance; only the rotation is random).

For each regime and learning rate: median absolute gap ``||W - W*||``, median
relative gap ``||W - W*|| / ||W*||``, median step after which the activation
pattern no longer changes (``pattern_stable_iter``), stuck fraction (fits
leaving an example that the neuron could fit inactive) and the fraction that
hit ``max_iter``. Then the gradient-flow limit ``g0`` of the relative gap
(:func:`~sklearn_relubias.experiments.gradient_flow_limit`: fits at
``learning_rate`` 0.2, 0.1, 0.05, 0.025 and Richardson extrapolation to 0)
per regime, and ``g0`` against ``d/n`` (n = 20, d/n in {2, 5, 10, 50, 200},
3 seeds) with the extrapolation's own uncertainty (change from the previous
order) and the spread over seeds.

Run: ``python docs/scripts/regime_table.py`` (well under a minute on one core;
markdown tables on stdout).
"""

import time
import warnings

import numpy as np
from scipy import stats
from scipy.optimize import brentq
from sklearn.exceptions import ConvergenceWarning

from sklearn_relubias.datasets import (
    make_frozen_regression,
    make_high_dim_regression,
    make_orthogonal_regression,
    make_spectrum,
    make_stalled_regression,
    spectrum_stats,
)
from sklearn_relubias.exceptions import StrandedExampleWarning
from sklearn_relubias.experiments import GapSweepResult, gap_sweep, gradient_flow_limit

N = 20
MAX_ITER = 1_000_000
LEARNING_RATES = (1.0, 0.1, 0.01)
FLOW_RATES = (0.2, 0.1, 0.05, 0.025)
N_SEEDS = 8


def _power_law_exponent(d, rank):
    """Exponent of the power-law spectrum in dimension ``d`` with effective rank ``rank``."""

    def f(e):
        return spectrum_stats(make_spectrum(d, "power_law", exponent=e))["effective_rank"] - rank

    return brentq(f, 0.0, 20.0, xtol=1e-12)


EXPONENT = _power_law_exponent(2000, N)


def frozen(n_samples, n_features, random_state=None):
    """``make_frozen_regression`` with the ``(n_samples, n_features)`` call of gap_sweep."""
    return make_frozen_regression(n_features, random_state=random_state)


def stalled(n_samples, n_features, random_state=None):
    """``make_stalled_regression`` without ``return_params`` (it has no spectrum)."""
    return make_stalled_regression(n_samples, n_features, random_state=random_state)


# name: (n, d, dataset, dataset_params, n_repeats)
RADEMACHER = {"labels": "rademacher"}
REGIMES = {
    "orthogonal (d/n=100)": (N, 2000, make_orthogonal_regression, RADEMACHER, N_SEEDS),
    "isotropic d/n=100": (N, 2000, make_high_dim_regression, RADEMACHER, N_SEEDS),
    "isotropic d/n=5": (N, 100, make_high_dim_regression, RADEMACHER, N_SEEDS),
    "power law R=n": (
        N,
        2000,
        make_high_dim_regression,
        {**RADEMACHER, "spectrum": "power_law", "exponent": EXPONENT},
        N_SEEDS,
    ),
    "stalled": (4, 2, stalled, {}, N_SEEDS),
    "frozen": (3, 3, frozen, {}, 3),
}


def fmt(x, digits=3):
    """Format ``x`` with ``digits`` significant digits."""
    return f"{x:.{digits}g}"


def mean_ci(values):
    """``mean +/- half-width`` of the 95% Student-t interval."""
    v = np.asarray(values, dtype=float)
    if v.size < 2:
        return f"{fmt(v.mean())}"
    half = stats.t.ppf(0.975, v.size - 1) * v.std(ddof=1) / np.sqrt(v.size)
    return f"{fmt(v.mean())} +/- {fmt(half, 2)}"


def draw(make, n, d, seed, params):
    """``X, y`` of one regime and seed."""
    return make(n, d, random_state=seed, **params)[:2]


def regime_table():
    """Regime x learning rate table and the slopes in learning_rate."""
    records = []
    for k, (name, (n, d, make, params, reps)) in enumerate(REGIMES.items()):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            res = gap_sweep(
                n,
                d,
                n_repeats=reps,
                estimator_params={"n_neurons": 1, "init": "zero", "max_iter": MAX_ITER},
                param_grid={"learning_rate": list(LEARNING_RATES)},
                dataset=make,
                dataset_params=params,
                random_state=100 + k,
                n_jobs=1,
            )
        for rec in res.records:
            rec["regime"] = name
        records += res.records
    result = GapSweepResult(records, swept=["regime", "learning_rate"], entropy=100)
    print("\n## Regime x learning rate (n_neurons=1, init='zero')\n")
    print(
        "Medians over the seeds (data sets); abs = ||W - W*||, rel = ||W - W*|| / ||W*||, "
        "stable = pattern_stable_iter, stuck = an example the neuron could fit left "
        "inactive, unconv = hit max_iter.\n"
    )
    print("| regime | n | d | lr | abs gap | rel gap [min, max] | stable step | stuck | unconv |")
    print("|---" * 9 + "|")
    groups = {}
    for r in result.records:
        groups.setdefault((r["regime"], r["learning_rate"]), []).append(r)
    for (name, lr), rs in groups.items():
        rel = [r["min_norm_gap"] for r in rs]
        print(
            f"| {name} | {rs[0]['n_samples']} | {rs[0]['n_features']} | {lr:g} | "
            f"{fmt(np.median([r['min_norm_distance'] for r in rs]))} | "
            f"{fmt(np.median(rel))} [{fmt(min(rel), 2)}, {fmt(max(rel), 2)}] | "
            f"{np.median([r['pattern_stable_iter'] for r in rs]):.0f} | "
            f"{sum(r['stuck'] for r in rs)}/{len(rs)} | "
            f"{sum(r['n_iter'] >= MAX_ITER for r in rs)}/{len(rs)} |"
        )
    slopes = result.slopes("min_norm_gap", variables=("learning_rate",))
    print("\nLog-log slope of the relative gap in learning_rate (1, 0.1, 0.01; 95% CI):\n")
    print("| regime | slope | fits |")
    print("|---|---|---|")
    for row in slopes:
        print(
            f"| {row['regime']} | {row['slope']:+.3f} [{row['ci_low']:+.3f}, "
            f"{row['ci_high']:+.3f}] | {row['n_fits']} |"
        )


def flow_limit(X, y):
    """``(ExtrapolationResult, stuck)``; stuck: some fit left an example stranded."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("always", StrandedExampleWarning)
        res = gradient_flow_limit(
            X,
            y,
            learning_rates=FLOW_RATES,
            estimator_params={"n_neurons": 1, "max_iter": MAX_ITER},
        )
    return res, any(issubclass(w.category, StrandedExampleWarning) for w in caught)


def flow_table():
    """Gradient-flow limit per regime."""
    print("\n## Gradient-flow limit g0 of the relative gap, per regime\n")
    print(
        f"Richardson extrapolation from learning_rate {FLOW_RATES} (order 3); "
        "'unc' is the change from order 2, per seed. Seeds as in the first table "
        "(the first 4 per regime, 3 for frozen).\n"
    )
    print(
        "| regime | g at lr=0.025 (median) | g0 per seed | median unc | mean g0 (95% CI) "
        "| stuck seeds |"
    )
    print("|---|---|---|---|---|---|")
    for k, (name, (n, d, make, params, reps)) in enumerate(REGIMES.items()):
        seeds = np.random.SeedSequence(100 + k).spawn(reps)[: min(reps, 4)]
        g0, unc, last, stuck = [], [], [], 0
        for s in seeds:
            X, y = draw(make, n, d, int(s.generate_state(2)[0]), params)
            res, is_stuck = flow_limit(X, y)
            stuck += is_stuck
            g0.append(res.limit)
            unc.append(res.uncertainty)
            last.append(res.gaps[-1])
        extra = ""
        if name == "frozen":
            _, _, p = make_frozen_regression(random_state=0, return_params=True)
            extra = f" (exact flow: {p['flow_gap']:.4f})"
        print(
            f"| {name} | {fmt(np.median(last))} | {', '.join(fmt(g, 2) for g in g0)} | "
            f"{fmt(np.median(unc), 2)} | {mean_ci(g0)}{extra} | {stuck}/{len(seeds)} |"
        )


def flow_vs_ratio(n_seeds=10, n_listed=3):
    """Gradient-flow limit against d/n on isotropic inputs."""
    print("\n## g0 against d/n (isotropic Gaussian inputs, n = 20, +/-1 labels)\n")
    print(
        f"Seeds 0-{n_listed - 1} listed as g0 (extrapolation uncertainty), '*' = stuck "
        f"(an example stranded at some step); the means use seeds 0-{n_listed - 1} and "
        f"0-{n_seeds - 1}, and the non-stuck ones among 0-{n_seeds - 1}.\n"
    )
    print(
        f"| d/n | d | g(lr=0.2) | g(lr=0.025) | g0, seeds 0-{n_listed - 1} (unc) | "
        f"mean g0, {n_listed} seeds | mean g0, {n_seeds} seeds | non-stuck mean g0 | stuck |"
    )
    print("|---" * 9 + "|")
    for ratio in (2, 5, 10, 50, 200):
        d = ratio * N
        rows, g0, first, last, stuck = [], [], [], [], []
        for seed in range(n_seeds):
            X, y = make_high_dim_regression(N, d, labels="rademacher", random_state=seed)
            res, is_stuck = flow_limit(X, y)
            g0.append(res.limit)
            stuck.append(is_stuck)
            first.append(res.gaps[0])
            last.append(res.gaps[-1])
            if seed < n_listed:
                star = "*" if is_stuck else ""
                rows.append(f"{fmt(res.limit, 2)}{star} ({fmt(res.uncertainty, 1)})")
        free = [g for g, s in zip(g0, stuck, strict=True) if not s]
        print(
            f"| {ratio} | {d} | {fmt(np.median(first))} | {fmt(np.median(last))} | "
            f"{', '.join(rows)} | {mean_ci(g0[:n_listed])} | {mean_ci(g0)} | "
            f"{mean_ci(free) if free else '-'} | {sum(stuck)}/{n_seeds} |"
        )


if __name__ == "__main__":
    t0 = time.perf_counter()
    regime_table()
    t1 = time.perf_counter()
    print(f"\n(regime table: {t1 - t0:.0f} s)")
    flow_table()
    t2 = time.perf_counter()
    print(f"\n(flow limits per regime: {t2 - t1:.0f} s)")
    flow_vs_ratio()
    print(f"\n(g0 vs d/n: {time.perf_counter() - t2:.0f} s)")
    print(f"\nTotal wall time: {time.perf_counter() - t0:.0f} s")
