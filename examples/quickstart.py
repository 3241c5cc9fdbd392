"""Quickstart: gradient descent vs the minimum-norm solution on d >> n Gaussian data.

The estimator is the paper's model (``PAPER_MODEL``: the +/- pair of neurons,
zero start, no intercept, ``learning_rate=0.1``, run to ``tol``), not the
defaults, which suit tabular data.
"""

import numpy as np

from sklearn_relubias import PAPER_MODEL, MinNormReLURegressor, ShallowReLURegressor

rng = np.random.default_rng(0)
X = rng.standard_normal((20, 20000))  # n = 20 examples, d = 20000 features
y = np.sign(rng.standard_normal(20))  # labels +/-1

gd = ShallowReLURegressor(**PAPER_MODEL).fit(X, y)  # 2 neurons, learning_rate=0.1
mn = MinNormReLURegressor(n_neurons=2).fit(X, y)
print(f"R^2 {gd.score(X, y):.6f} after {gd.n_iter_} steps", end="; ")
print(f"pattern stable from step {gd.pattern_stable_iter_}")
print("pattern == label signs:", np.array_equal(gd.activation_pattern_, np.c_[y > 0, y < 0]))
print(f"min-norm: interpolates {mn.interpolates_}, KKT residual {mn.kkt_residual_:.1e}")
print(f"||W_gd - W*|| / ||W*|| = {gd.min_norm_gap_:.4f}")
