"""
=====================================================================
Three claims of the first-step picture, checked on 20 fresh data sets
=====================================================================

The paper's model (the +/- pair from zero, ``PAPER_MODEL``) on n = 20
Gaussian inputs with +/-1 labels, 20 data sets per cell (seeds 2000-2019,
not the tests' seeds). Three claims earlier READMEs made from 5 data sets:

1. ``predict_gap`` matches the fitted ``min_norm_distance_`` within 0.1% at
   every learning rate from 1 to 0.01 (d = 2,000);
2. at d/n = 100 the frozen first-step coefficients carry the whole squared
   gap (``gap_decomposition``);
3. in the gradient-flow limit the pair ends at ``W*`` at d/n >= 50:
   ``gradient_flow_limit`` (Richardson extrapolation from learning rates 0.2
   to 0.025) against plain gradient descent at ``learning_rate=1e-3``.

Each line gives the median and the 10%-90% range over the data sets and
how many of the 20 break the claim; the control is ``W = 0`` (relative gap 1,
distance ``||W*||``). The README's corrected statements come from this
script (``python examples/claims_check.py``; under a minute).
"""

import warnings

import numpy as np

from sklearn_relubias import PAPER_MODEL, Precomputed, ShallowReLURegressor
from sklearn_relubias.datasets import make_high_dim_regression
from sklearn_relubias.exceptions import RegionMismatchWarning, StrandedExampleWarning
from sklearn_relubias.experiments import gap_decomposition, gradient_flow_limit, predict_gap

SEEDS = range(2000, 2020)
N = 20


def spread(values):
    v = np.asarray(values, dtype=float)
    return f"median {np.median(v):.2e} [{np.quantile(v, 0.1):.1e}, {np.quantile(v, 0.9):.1e}]"


def data(d, seed):
    return make_high_dim_regression(N, d, labels="rademacher", random_state=seed)


def fit(X, y, lr, gram=None, **kw):
    est = ShallowReLURegressor(**{**PAPER_MODEL, "learning_rate": lr, "max_iter": 2_000_000, **kw})
    return est.fit(X, y, gram=gram)


def claim_predict_gap():
    print("1. predict_gap vs the fitted distance, d = 2000 (relative error)")
    for lr in (1.0, 0.1, 0.03, 0.01, 0.003):
        errors = []
        for seed in SEEDS:
            X, y = data(2000, seed)
            pred = predict_gap(X, y, learning_rate=lr)
            est = fit(X, y, lr)
            errors.append(pred.distance / est.min_norm_distance_ - 1)
        bad = sum(abs(e) > 1e-3 for e in errors)
        worst = max(errors, key=abs)
        print(f"   lr={lr:<6g} {spread(errors)}, worst {worst:+.2%}, off by > 0.1%: {bad}/20")


def claim_frozen_share():
    print("2. share of the squared gap carried by the frozen pairs, d/n = 100")
    for lr in (1.0, 0.1, 0.01):
        frozen, others = [], []
        for seed in SEEDS:
            X, y = data(2000, seed)
            est = fit(X, y, lr, record_pattern=True)
            dec = gap_decomposition(est, X, y)
            frozen.append(dec.shares["frozen"])
            others.append(dec.shares["left_kink"] + dec.shares["sliding"])
        bad = sum(o > 0.01 for o in others)
        print(
            f"   lr={lr:<6g} frozen {spread(frozen)}; sliding + left_kink {spread(others)}, "
            f"above 1%: {bad}/20"
        )


def claim_flow_floor():
    print("3. gradient-flow limit of the relative gap (extrapolated) vs GD at lr 1e-3")
    for ratio in (10, 50, 100):
        d = N * ratio
        g0, small, unc = [], [], []
        for seed in SEEDS:
            X, y = data(d, seed)
            pre = Precomputed(X)
            res = gradient_flow_limit(X, y, gram=pre)
            g0.append(res.limit)  # signed: a negative limit shows the extrapolation's error
            unc.append(res.uncertainty)
            small.append(fit(X, y, 1e-3, gram=pre).min_norm_gap_)
        above = sum(s > 1e-3 for s in small)
        negative = sum(g < 0 for g in g0)
        print(
            f"   d/n={ratio:<4} g0 {spread(g0)}, negative (impossible for a gap): {negative}/20, "
            f"its reported uncertainty {spread(unc)}; "
            f"GD at lr 1e-3: {spread(small)}, above 0.001: {above}/20"
        )


def main():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (StrandedExampleWarning, RegionMismatchWarning))
        claim_predict_gap()
        claim_frozen_share()
        claim_flow_floor()
    print("Control W = 0: relative gap 1 to W* on every data set.")


if __name__ == "__main__":
    main()
