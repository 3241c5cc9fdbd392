"""Count how often gradient descent stops short of a global minimum on small correlated data.

Random problems with d in {2, 3}, n in {2, ..., 5}, inputs pulled towards a common
direction (correlation strength rho ~ U(0, 1)) and +/-1 labels; one neuron,
learning_rate=0.1. A run counts as "not global" when it converged (no
ConvergenceWarning) and its final loss exceeds the global minimum of the loss,
which for one neuron is the loss of MinNormReLURegressor's solution, by more than
1e-8. Run: python docs/scripts/adversarial_search.py
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from sklearn_relubias import PAPER_MODEL, MinNormReLURegressor, ShallowReLURegressor

rng = np.random.default_rng(1)
counts = {"converged": 0, "not global": 0, "not converged": 0, "all dead after step 1": 0}
for _ in range(4000):
    d, n = int(rng.integers(2, 4)), int(rng.integers(2, 6))
    u = rng.standard_normal(d)
    u /= np.linalg.norm(u)
    rho = rng.uniform(0, 1)
    X = rho * u + (1 - rho) * rng.standard_normal((n, d)) / np.sqrt(d)
    y = rng.choice([-1.0, 1.0], n)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        try:
            gd = ShallowReLURegressor(**PAPER_MODEL)  # zero start, no intercept
            gd.set_params(n_neurons=1, learning_rate=0.1, max_iter=100_000).fit(X, y)
        except ConvergenceWarning:
            counts["not converged"] += 1
            continue
    counts["converged"] += 1
    best = 0.5 * np.mean((MinNormReLURegressor(n_neurons=1).fit(X, y).predict(X) - y) ** 2)
    if gd.loss_curve_[-1] > best + 1e-8:
        counts["not global"] += 1
        counts["all dead after step 1"] += int(gd.n_iter_ == 1 and not gd.activation_pattern_.any())
print(counts)
