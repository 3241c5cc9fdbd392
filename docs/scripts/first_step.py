"""Check the first-step explanation of the gap (docs, user guide).

One neuron, Gaussian inputs, +/-1 labels, zero initialisation. For the
examples the neuron is inactive on at the end, compare the coefficient gradient
descent left them with ``learning_rate * y_i / lambda_max(X X^T)`` (what the
first step gives every example), and compare the gap to the minimum-norm
solution with the part of ``W`` carried by those frozen coefficients.
Run: python docs/scripts/first_step.py
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from sklearn_relubias import MinNormReLURegressor, ShallowReLURegressor

warnings.simplefilter("ignore", ConvergenceWarning)
n, d = 20, 20000
rng = np.random.default_rng(0)
X, y = rng.standard_normal((n, d)), np.sign(rng.standard_normal(n))
lam_max = np.linalg.eigvalsh(X @ X.T)[-1]
W_star = MinNormReLURegressor(n_neurons=1).fit(X, y).hidden_weights_[0]
print("| learning_rate | inactive examples | max rel. dev. of frozen c_i from lr*y_i/lambda_max "
      "| min_norm_gap_ | ||X_I^T c_I|| / ||W*|| |")
print("|---|---|---|---|---|")
for lr in (1.0, 0.1):
    gd = ShallowReLURegressor(n_neurons=1, learning_rate=lr, max_iter=20000).fit(X, y)
    c = gd.dual_coef_[:, 0]
    inactive = ~gd.activation_pattern_[:, 0]
    first = lr * y[inactive] / lam_max
    dev = np.max(np.abs(c[inactive] - first) / np.abs(first))
    frozen = np.linalg.norm(X[inactive].T @ c[inactive]) / np.linalg.norm(W_star)
    print(f"| {lr} | {inactive.sum()} of {n} | {dev:.1e} | {gd.min_norm_gap_:.3f} | {frozen:.3f} |")
