"""
=====================================================
Default estimators on ordinary tabular data, measured
=====================================================

``make_pipeline(StandardScaler(), ShallowReLURegressor())`` with every
parameter at its default, next to :class:`~sklearn.linear_model.Ridge` and
:class:`~sklearn.neural_network.MLPRegressor` with theirs: test R^2 from
5-fold cross-validation (shuffled folds, ``random_state=0``) on diabetes,
three Friedman problems and digits (the digit as a regression target), and
the warnings the package issued during the search. The README's table
"Using it on real data" comes from this script.

Run with ``python examples/default_fit_table.py``; pass estimator parameters
as ``name=value`` arguments to try other settings
(``python examples/default_fit_table.py n_iter_no_change=50``).
"""

import sys
import time
import warnings

from sklearn.datasets import (
    load_diabetes,
    load_digits,
    make_friedman1,
    make_friedman2,
    make_friedman3,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.model_selection import KFold, cross_val_score
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_relubias import ShallowReLURegressor


def ours(w):
    """Whether a caught warning came from this package."""
    if w.category.__module__.startswith("sklearn_relubias"):
        return True
    return issubclass(w.category, ConvergenceWarning) and "Gradient descent" in str(w.message)


def datasets():
    """The data sets of the table: (name, X, y)."""
    yield ("diabetes", *load_diabetes(return_X_y=True))
    yield ("friedman1", *make_friedman1(n_samples=1000, noise=1.0, random_state=0))
    yield ("friedman2", *make_friedman2(n_samples=1000, noise=10.0, random_state=0))
    yield ("friedman3", *make_friedman3(n_samples=1000, noise=0.1, random_state=0))
    yield ("digits", *load_digits(return_X_y=True))


def parse(args):
    """``name=value`` arguments as estimator parameters (Python literals)."""
    import ast

    params = {}
    for arg in args:
        name, value = arg.split("=", 1)
        try:
            params[name] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            params[name] = value
    return params


def main(params):
    cv = KFold(n_splits=5, shuffle=True, random_state=0)
    models = {
        "Ridge()": lambda: Ridge(),
        "MLPRegressor()": lambda: MLPRegressor(random_state=0),
        "ShallowReLURegressor()": lambda: ShallowReLURegressor(random_state=0, **params),
    }
    print(f"ShallowReLURegressor parameters: {params or 'defaults'} (random_state=0)")
    print("| data (n x d) | " + " | ".join(models) + " | package warnings | seconds |")
    print("|---" * (len(models) + 3) + "|")
    for name, X, y in datasets():
        scores, seconds = [], 0.0
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for label, make in models.items():
                start = time.perf_counter()
                r2 = cross_val_score(make_pipeline(StandardScaler(), make()), X, y, cv=cv)
                if label.startswith("Shallow"):
                    seconds = time.perf_counter() - start
                scores.append(f"{r2.mean():.3f} +/- {r2.std():.3f}")
        kinds = sorted({w.category.__name__ for w in caught if ours(w)})
        count = sum(ours(w) for w in caught)
        shape = f"{X.shape[0]} x {X.shape[1]}"
        print(
            f"| {name} ({shape}) | "
            + " | ".join(scores)
            + f" | {count} {' '.join(kinds)} | {seconds:.1f} |"
        )


if __name__ == "__main__":
    main(parse(sys.argv[1:]))
