"""
===============================================================
Which reference does gradient descent follow? Two measured tables
===============================================================

Gradient descent's end point against the references of
:func:`~sklearn_relubias.metrics.reference_gaps`: the minimum-norm
interpolant within the label-sign region (``min_norm_gap_``), the one within
the region gradient descent itself ended in (``'own_region'``), the point of
that region closest to the start (``'init_relative'``, ``argmin ||W - W0||``;
the same as ``'own_region'`` from a zero start), and the NTK linearisation at
the start (``'ntk'``), on three kinds of data: isotropic
Gaussian inputs, the same shifted by a mean of 1 per coordinate (uncentred),
and a sparse TF-IDF matrix (non-negative, uncentred). Two training set-ups:
the paper's model (two neurons +/-, zero start, ``learning_rate=0.1``) and a
random start with eight neurons (``learning_rate=0.5``) at ``init_scale``
1e-3 and 1. From a random start the weights keep the part of ``W0`` outside
the data span, which no minimum-norm interpolant has, so at
``init_scale=1`` every distance but the NTK one is large.

Each cell is the median [10%, 90%] of the relative gap ``||W - W_ref|| /
||W_ref||`` over 20 data sets (seeds 1000-1019, not the tests' seeds); the
control ``W = 0`` has relative gap 1 to every reference. "same region" is the
share of fits whose final activation region is the reference's.

The second table is small enough for the global minimum-norm interpolant
over all activation regions
(:func:`~sklearn_relubias.metrics.global_min_norm_reference`, exact
enumeration of the 2^n candidate regions of the +/- pair): n = 8, d/n in
{1.5, 5}, the paper's model on the same three kinds of data (same seeds). It
adds the ratio ``||W_global||^2 / ||W_label_sign||^2`` (median and minimum):
how much norm the label-sign region gives away.

The README's reference tables come from this script
(``python examples/reference_table.py``, about 3 minutes on 2 cores).
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from sklearn_relubias import PAPER_MODEL, ShallowReLURegressor
from sklearn_relubias.datasets import make_high_dim_regression, make_tfidf_regression
from sklearn_relubias.exceptions import RegionMismatchWarning, StrandedExampleWarning
from sklearn_relubias.metrics import (
    global_min_norm_reference,
    min_norm_reference,
    reference_gaps,
    relative_distance,
)

SEEDS = range(1000, 1020)
N, D = 20, 400
N_SMALL, RATIOS_SMALL = 8, (1.5, 5)


def gaussian(seed, n=N, d=D):
    return make_high_dim_regression(n, d, random_state=seed)


def mean_shifted(seed, n=N, d=D):
    X, y = make_high_dim_regression(n, d, random_state=seed)
    return X + 1.0, y  # each coordinate's mean is one standard deviation (entries have std 1)


def tfidf(seed, n=N, d=2598):
    X, y = make_tfidf_regression(n, d, n_informative=min(300, d), random_state=seed)
    return X, y / np.std(y)


DATA = {"Gaussian": gaussian, "mean-shifted": mean_shifted, "TF-IDF-like": tfidf}
SETUPS = {
    "paper (2 neurons, zero start, lr 0.1)": {**PAPER_MODEL, "max_iter": 100_000},
    **{
        f"random start, init_scale {scale:g} (8 neurons, lr 0.5)": {
            **PAPER_MODEL,
            "n_neurons": 8,
            "init": "random",
            "init_scale": scale,
            "learning_rate": 0.5,
            "max_iter": 100_000,
            "compute_min_norm_gap": False,
        }
        for scale in (1e-3, 1.0)
    },
}
REFERENCES = ("label_sign", "own_region", "init_relative", "ntk")
SMALL_REFERENCES = ("label_sign", "own_region", "init_relative")
IGNORED = (ConvergenceWarning, StrandedExampleWarning, RegionMismatchWarning)


def cell(values):
    v = np.asarray(values)
    return f"{np.median(v):.2e} [{np.quantile(v, 0.1):.1e}, {np.quantile(v, 0.9):.1e}]"


def fit(params, X, y, seed):
    est = ShallowReLURegressor(**{**params, "random_state": seed})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IGNORED)
        est.fit(X, y)
    return est


def large_table():
    print(f"n = {N}; d = {D} (Gaussian, mean-shifted) or 2598 (TF-IDF-like, sparse)\n")
    head = (
        f"| data | training | {' | '.join(REFERENCES)} | same region (label-sign / own) "
        "| converged | own region interpolates | stranded |"
    )
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for data_name, make in DATA.items():
        for setup_name, params in SETUPS.items():
            gaps = {r: [] for r in REFERENCES}
            same = {"label_sign": [], "own_region": []}
            converged, own_interpolates, stranded = [], [], []
            for seed in SEEDS:
                X, y = make(seed)
                est = fit(params, X, y, seed)
                res = reference_gaps(est, X, y, references=REFERENCES)
                converged.append(est.decisions_["status"] != "max_iter")
                own_interpolates.append(res["own_region"]["interpolates"])
                stranded.append(est.stranded_indices_.size > 0)
                for r in REFERENCES:
                    gaps[r].append(res[r]["relative_gap"])
                for r in same:
                    same[r].append(res[r]["same_region"])
            cells = " | ".join(cell(gaps[r]) for r in REFERENCES)
            shares = " / ".join(f"{np.mean(same[r]):.0%}" for r in same)
            k = len(SEEDS)
            print(
                f"| {data_name} | {setup_name} | {cells} | {shares} | {sum(converged)}/{k} "
                f"| {sum(own_interpolates)}/{k} | {sum(stranded)}/{k} |"
            )


def small_table():
    params = SETUPS["paper (2 neurons, zero start, lr 0.1)"]
    print(f"\nn = {N_SMALL}, paper model (+/- pair, zero start, lr 0.1); global reference by")
    print("enumeration (2^n candidate regions); relative gap of GD, median [10%, 90%]\n")
    columns = [
        "data",
        "d/n",
        *SMALL_REFERENCES,
        "global",
        "norm^2 global / label_sign, median (min)",
        "GD in label-sign / global region",
        "interpolates: label-sign / own region",
        "GD stranded",
    ]
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for data_name, make in DATA.items():
        for ratio in RATIOS_SMALL:
            d = int(round(ratio * N_SMALL))
            gaps = {r: [] for r in (*SMALL_REFERENCES, "global")}
            norm_ratio, in_ls, in_global, stranded = [], [], [], []
            interpolates = {"label_sign": [], "own_region": []}
            for seed in SEEDS:
                X, y = make(seed, N_SMALL, d)
                est = fit(params, X, y, seed)
                res = reference_gaps(est, X, y, references=SMALL_REFERENCES)
                for r in SMALL_REFERENCES:
                    gaps[r].append(res[r]["relative_gap"])
                a = est.output_weights_
                W_global = global_min_norm_reference(X, y, a)[0].weights
                W_ls = min_norm_reference(X, y, a).weights
                gaps["global"].append(relative_distance(est.hidden_weights_, W_global))
                norm_ratio.append(np.sum(W_global**2) / np.sum(W_ls**2))
                # GD in the global reference's region: no pre-activation beyond 1% of its
                # neuron's largest on the other side of the kink (reference_gaps' rule)
                P, region = X @ est.hidden_weights_.T, X @ W_global.T > 0
                tol = 1e-2 * np.max(np.abs(P), axis=0)
                in_global.append(not np.any(((P > tol) & ~region) | ((P < -tol) & region)))
                in_ls.append(res["label_sign"]["same_region"])
                for r in interpolates:
                    interpolates[r].append(res[r]["interpolates"])
                stranded.append(est.stranded_indices_.size > 0)
            cells = " | ".join(cell(gaps[r]) for r in (*SMALL_REFERENCES, "global"))
            k = len(SEEDS)
            print(
                f"| {data_name} | {ratio:g} | {cells} | {np.median(norm_ratio):.3f} "
                f"({np.min(norm_ratio):.3f}) | {np.mean(in_ls):.0%} / {np.mean(in_global):.0%} "
                f"| {sum(interpolates['label_sign'])}/{k} / {sum(interpolates['own_region'])}/{k} "
                f"| {sum(stranded)}/{k} |"
            )
    print("\ncontrol W = 0: relative gap 1 to every reference")


if __name__ == "__main__":
    large_table()
    small_table()
