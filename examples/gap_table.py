"""Gap to the minimum-norm solution against d and learning_rate (the user guide's table).

Median over 8 seeds of Gaussian inputs with +/-1 labels, one neuron of the
paper's model (``PAPER_MODEL``: zero start, no intercept, run to ``tol``).
Run: python examples/gap_table.py
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from sklearn_relubias import PAPER_MODEL, ShallowReLURegressor

warnings.simplefilter("ignore", ConvergenceWarning)
print("| n | d | sqrt(n/d) | learning_rate | median gap | median stable step | label-sign |")
print("|---|---|---|---|---|---|---|")
for n, d in [(20, 2000), (20, 20000), (50, 5000), (50, 50000)]:
    for lr in (1.0, 0.1):
        gaps, stable, match = [], [], []
        for seed in range(8):
            rng = np.random.default_rng(seed)
            X, y = rng.standard_normal((n, d)), np.sign(rng.standard_normal(n))
            est = ShallowReLURegressor(**PAPER_MODEL)
            est.set_params(n_neurons=1, learning_rate=lr, max_iter=20000).fit(X, y)
            gaps.append(est.min_norm_gap_)
            stable.append(est.pattern_stable_iter_)
            match.append(np.array_equal(est.activation_pattern_[:, 0], y > 0))
        print(
            f"| {n} | {d:,} | {np.sqrt(n / d):.3f} | {lr} | {np.median(gaps):.3f} "
            f"| {np.median(stable):g} | {sum(match)}/8 |"
        )
