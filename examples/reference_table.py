"""
==============================================================
Which reference does gradient descent follow? A measured table
==============================================================

Gradient descent's end point against three references
(:func:`~sklearn_relubias.metrics.reference_gaps`): the minimum-norm
interpolant within the label-sign region (``min_norm_gap_``), the one within
the region gradient descent itself ended in (``'own_region'``), and the NTK
linearisation at the start (``'ntk'``), on three kinds of data: isotropic
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
share of fits whose final activation region is the reference's. The README's
reference table comes from this script (``python examples/reference_table.py``).
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from sklearn_relubias import PAPER_MODEL, ShallowReLURegressor
from sklearn_relubias.datasets import make_high_dim_regression, make_tfidf_regression
from sklearn_relubias.exceptions import RegionMismatchWarning, StrandedExampleWarning
from sklearn_relubias.metrics import reference_gaps

SEEDS = range(1000, 1020)
N, D = 20, 400


def gaussian(seed):
    return make_high_dim_regression(N, D, random_state=seed)


def mean_shifted(seed):
    X, y = make_high_dim_regression(N, D, random_state=seed)
    return X + 1.0, y  # each coordinate's mean is one standard deviation (entries have std 1)


def tfidf(seed):
    X, y = make_tfidf_regression(N, 2598, random_state=seed)
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
REFERENCES = ("label_sign", "own_region", "ntk")


def cell(values):
    v = np.asarray(values)
    return f"{np.median(v):.2e} [{np.quantile(v, 0.1):.1e}, {np.quantile(v, 0.9):.1e}]"


def main():
    print(f"n = {N}; d = {D} (Gaussian, mean-shifted) or 2598 (TF-IDF-like, sparse)\n")
    head = f"| data | training | {' | '.join(REFERENCES)} | same region (label-sign / own) |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for data_name, make in DATA.items():
        for setup_name, params in SETUPS.items():
            gaps = {r: [] for r in REFERENCES}
            same = {"label_sign": [], "own_region": []}
            for seed in SEEDS:
                X, y = make(seed)
                est = ShallowReLURegressor(**{**params, "random_state": seed})
                with warnings.catch_warnings():
                    warnings.simplefilter(
                        "ignore",
                        (ConvergenceWarning, StrandedExampleWarning, RegionMismatchWarning),
                    )
                    est.fit(X, y)
                res = reference_gaps(est, X, y, references=REFERENCES)
                for r in REFERENCES:
                    gaps[r].append(res[r]["relative_gap"])
                for r in same:
                    same[r].append(res[r]["same_region"])
            cells = " | ".join(cell(gaps[r]) for r in REFERENCES)
            shares = " / ".join(f"{np.mean(same[r]):.0%}" for r in same)
            print(f"| {data_name} | {setup_name} | {cells} | {shares} |")


if __name__ == "__main__":
    main()
