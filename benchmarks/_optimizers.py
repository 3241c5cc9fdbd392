"""Case 14: the optimizers side by side, on the paper's data and on diabetes.

Each optimizer fits the paper's model (the +/- pair from a zero start, run to
``tol``) with the gap to the label-sign minimum-norm reference computed. On
the paper's data (Gaussian inputs, +/-1 labels, n = 20, d = 2000) every seed
draws a new data set; on diabetes (442 x 10, standardised X and y) every seed
draws a new 80% training subsample (and SGD's shuffles). The table gives the
mean over the seeds with a 95% t-interval of the relative gap, the absolute
distance, the stranded examples, the steps and the final training loss,
beside the control ``W = 0`` (gap 1 by definition, distance ``||W*||``), and
the median seconds of one fit on the first seed's data (after a warm-up
call, repeats interleaved). The seeds are not the tests'.
"""

import functools
import warnings

import numpy as np
from scipy import stats
from sklearn.datasets import load_diabetes
from sklearn.preprocessing import StandardScaler

from sklearn_relubias import PAPER_MODEL, ShallowReLURegressor
from sklearn_relubias.datasets import make_high_dim_regression

from ._common import Section, fmt, measure

#: (label, parameters beside PAPER_MODEL); momentum at lr 0.1 and at lr 0.1 (1 - beta),
#: the same first step as GD at 0.1
SOLUTIONS = [
    ("GD, lr 0.1", {}),
    ("heavy ball 0.9, lr 0.1", {"optimizer": "momentum", "learning_rate": 0.1}),
    ("heavy ball 0.9, lr 0.01", {"optimizer": "momentum", "learning_rate": 0.01}),
    ("Nesterov 0.9, lr 0.01", {"optimizer": "nesterov", "learning_rate": 0.01}),
    ("SGD, batch 4, lr 0.1", {"optimizer": "sgd", "batch_size": 4}),
    ("Adam, lr 1e-4", {"optimizer": "adam", "learning_rate": 1e-4}),
    ("Adam, lr 1e-3", {"optimizer": "adam", "learning_rate": 1e-3}),
]


def _paper_data(seed):
    return make_high_dim_regression(20, 2000, labels="rademacher", random_state=seed)


def _diabetes(seed):
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    y = (y - y.mean()) / y.std()
    keep = np.random.default_rng(seed).permutation(len(y))[: int(0.8 * len(y))]
    return X[keep], y[keep]


DATA = {
    "paper's (20 x 2000, +/-1)": (_paper_data, {}),
    "diabetes (80% of 442 x 10)": (_diabetes, {"max_iter": 100_000}),
}


def _fit(params, X, y, seed):
    est = ShallowReLURegressor(**{**PAPER_MODEL, **params, "random_state": seed})
    with warnings.catch_warnings():  # stranded examples and max_iter are columns here
        warnings.simplefilter("ignore")
        return est.fit(X, y)


def _interval(values):
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    half = float(stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values)))
    return f"{fmt(mean, 3)} [{fmt(mean - half, 3)}, {fmt(mean + half, 3)}]"


def run(cfg):
    seeds = list(range(cfg["first_seed"], cfg["first_seed"] + cfg["seeds"]))
    sec = Section(
        key="14_optimizers",
        title=f"14. Optimizers beside GD (the +/- pair, zero start, to tol; "
        f"{len(seeds)} seeds, mean [95% interval])",
        headers=[
            "data",
            "solution",
            "relative gap",
            "distance ||W - W*||",
            "stranded",
            "steps",
            "final loss",
            "fit median [s]",
        ],
    )
    for data_name, (make, extra) in DATA.items():
        fits = {
            label: [_fit({**extra, **params}, *make(s), s) for s in seeds]
            for label, params in SOLUTIONS
        }
        X0, y0 = make(seeds[0])
        funcs = {
            label: functools.partial(_fit, {**extra, **params}, X0, y0, seeds[0])
            for label, params in SOLUTIONS
        }
        timings = measure(funcs, cfg["repeats"])
        # ||W*|| = distance / gap, the distance of the control W = 0
        norms = [e.min_norm_distance_ / e.min_norm_gap_ for e in fits[SOLUTIONS[0][0]]]
        sec.rows.append([data_name, "control W = 0", "1", _interval(norms), "-", 0, "-", "-"])
        for label, _ in SOLUTIONS:
            ests = fits[label]
            sec.rows.append(
                [
                    data_name,
                    label,
                    _interval([e.min_norm_gap_ for e in ests]),
                    _interval([e.min_norm_distance_ for e in ests]),
                    _interval([e.stranded_indices_.size for e in ests]),
                    _interval([e.n_iter_ for e in ests]),
                    _interval([e.loss_curve_[-1] for e in ests]),
                    fmt(timings[label].median, 3),
                ]
            )
    sec.notes.append(
        "Heavy ball at lr 0.1 takes a first step 1 / (1 - beta) = 10 times GD's; at lr "
        "0.01 the same first step as GD at 0.1. SGD's first batch moves only 4 examples' "
        "coefficients from the zero start, and examples the first steps leave on the wrong "
        "side of their neuron are stranded. Adam's steps are per coordinate, in the weights' "
        "units: its bias is not the l2 one, and its gap grows with its step."
    )
    return [sec, _norm_ratios(cfg, seeds)]


def _norm_ratios(cfg, seeds):
    """Which norm each solution nearly minimises, within its own activation region.

    ``||W||_2 / min ||W||_2`` (the minimum-norm interpolant of the fit's own
    region) and ``max|W| / min max|W|`` (the minimum-l-infinity interpolant,
    a linear program): 1 means the solution minimises that norm.
    """
    from sklearn_relubias.metrics import min_linf_interpolant, min_norm_reference

    sec = Section(
        key="14_norms",
        title=f"14b. Norm ratios within the fit's own region, paper's data ({len(seeds)} seeds)",
        headers=["solution", "||W||_2 / min l2", "max|W| / min l-inf", "LP residual max"],
    )
    for label, params in SOLUTIONS:
        if label not in cfg["norm_solutions"]:
            continue
        l2, linf, residual = [], [], []
        for s in seeds:
            X, y = _paper_data(s)
            est = _fit(params, X, y, s)
            W, a = est.hidden_weights_, est.output_weights_
            region = X @ W.T > 0
            ref = min_norm_reference(X, y, a, region=region)
            lp = min_linf_interpolant(X, y, a, region)
            l2.append(np.linalg.norm(W) / np.linalg.norm(ref.weights))
            linf.append(np.max(np.abs(W)) / lp["norm"])
            residual.append(max(lp["residual"], lp["sign_violation"]))
        sec.rows.append([label, _interval(l2), _interval(linf), fmt(max(residual), 3)])
    sec.notes.append(
        "The minimum-l-infinity interpolant is not unique (a face of the polytope); its value "
        "is, so the ratios compare norms, not distances. The LP's residual and sign violation "
        "are measured on the weights it returned."
    )
    return sec
