"""Gap to the minimum-norm solution against learning_rate and d (docs, user guide).

Median over 8 seeds of Gaussian inputs with +/-1 labels, one neuron, n = 20.
"ref. gap" is the distance between the two references: the minimum-norm
solution W* and the active least-squares solution (minimum-norm linear
interpolant of the positive labels), relative to ||W*||.
Run: python docs/scripts/lr_sweep.py
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from sklearn_relubias import MinNormReLURegressor, ShallowReLURegressor

warnings.simplefilter("ignore", ConvergenceWarning)
n, rates = 20, (1.0, 0.1, 0.01, 0.001)
print("| d | sqrt(n/d) | ref. gap | " + " | ".join(f"gap, lr={lr:g}" for lr in rates) + " |")
print("|---" * (3 + len(rates)) + "|")
for d in (2000, 20000, 200000):
    gaps, ref = {lr: [] for lr in rates}, []
    for seed in range(8):
        rng = np.random.default_rng(seed)
        X, y = rng.standard_normal((n, d)), np.sign(rng.standard_normal(n))
        W_star = MinNormReLURegressor(n_neurons=1).fit(X, y).hidden_weights_[0]
        pos = y > 0
        w_ls = X[pos].T @ np.linalg.solve(X[pos] @ X[pos].T, y[pos])
        ref.append(np.linalg.norm(w_ls - W_star) / np.linalg.norm(W_star))
        for lr in rates:
            est = ShallowReLURegressor(n_neurons=1, learning_rate=lr, max_iter=200000)
            gaps[lr].append(est.fit(X, y).min_norm_gap_)
    print(
        f"| {d:,} | {np.sqrt(n / d):.3f} | {np.median(ref):.3f} | "
        + " | ".join(f"{np.median(gaps[lr]):.3f}" for lr in rates)
        + " |"
    )
