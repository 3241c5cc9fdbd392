"""Several implicit-bias solutions side by side, with ``compare_solutions``.

Run: ``python examples/compare_solutions.py`` (10-40 s). The
paper's data (Gaussian inputs, n = 20, d = 2000, +/-1 labels) and diabetes
(standardised, 442 x 10; ``compute_min_norm_gap=True``): gradient descent at
two learning rates from zero, from a random start (scale 1e-3), all the +/-
pair, and the minimum-norm reference, with the training loss, 5-fold test R^2, the gap to
the label-sign and own-region references, pattern agreement, stranded
examples, and the matrix of distances between the solutions' weights (only
between networks of one shape).
"""

import warnings

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.model_selection import KFold
from sklearn.preprocessing import StandardScaler

from sklearn_relubias import PAPER_MODEL, MinNormReLURegressor, ShallowReLURegressor
from sklearn_relubias.datasets import make_high_dim_regression
from sklearn_relubias.experiments import compare_solutions


def table(title, X, y, solutions):
    with warnings.catch_warnings():  # stranded examples are a column
        warnings.simplefilter("ignore")
        res = compare_solutions(
            solutions,
            X,
            y,
            references=("label_sign", "own_region"),
            cv=KFold(5, shuffle=True, random_state=0),
        )
    print(f"\n{title}\n")
    print(
        "| solution | training loss | test R^2 | gap label-sign | gap own region "
        "| pattern agreement | stranded | fit s |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in res.records:
        print(
            f"| {r['name']} | {r['training_loss']:.3g} | {r['test_r2']:.3f} "
            f"| {r['gap_label_sign']:.3g} | {r['gap_own_region']:.3g} "
            f"| {r['pattern_agreement']:.2f} | {r['stranded']} | {r['fit_time']:.2f} |"
        )
    print("\ndistances ||W_a - W_b|| (rows and columns in the order above):")
    print(np.array2string(res.distances, precision=3))


def solutions(**extra):
    return {
        "GD lr 1, zero start": ShallowReLURegressor(
            **{**PAPER_MODEL, **extra, "learning_rate": 1.0}
        ),
        "GD lr 0.1, zero start": ShallowReLURegressor(**{**PAPER_MODEL, **extra}),
        "GD lr 0.1, random start": ShallowReLURegressor(
            **{**PAPER_MODEL, **extra, "init": "random", "random_state": 0}
        ),
        "minimum-norm reference": MinNormReLURegressor(),
    }


X, y = make_high_dim_regression(20, 2000, labels="rademacher", random_state=0)
table("Paper's data (n = 20, d = 2000, +/-1 labels, the +/- pair)", X, y, solutions())
X, y = load_diabetes(return_X_y=True)
X = StandardScaler().fit_transform(X)
y = (y - y.mean()) / y.std()
table("Diabetes (442 x 10, standardised X and y, the +/- pair)", X, y, solutions(max_iter=100_000))
