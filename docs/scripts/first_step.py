"""Check the first-step explanation of the gap (docs, user guide).

Gaussian inputs, +/-1 labels, zero initialisation, n = 20, d = 20000, one
seed. For every neuron j and every example i the neuron is inactive on at the
end, compare the coefficient gradient descent left, ``dual_coef_[i, j]``, with
what the first step gives every example,
``learning_rate * a_j * y_i / (||a||^2 lambda_max(X X^T))``. Then compare the
gap to the minimum-norm solution with the size of the part of ``W`` those
frozen coefficients carry, both relative to ``||W*||_F``.
Run: python docs/scripts/first_step.py
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from sklearn_relubias import PAPER_MODEL, MinNormReLURegressor, ShallowReLURegressor

warnings.simplefilter("error", ConvergenceWarning)  # every run must converge
n, d = 20, 20000
rng = np.random.default_rng(0)
X, y = rng.standard_normal((n, d)), np.sign(rng.standard_normal(n))
lam_max = np.linalg.eigvalsh(X @ X.T)[-1]
print(
    "| n_neurons | learning_rate | frozen coefficients | largest relative deviation "
    "from first step | min_norm_gap_ | frozen part / ||W*|| |"
)
print("|---|---|---|---|---|---|")
for m in (1, 2):
    W_star = MinNormReLURegressor(n_neurons=m).fit(X, y).hidden_weights_
    for lr in (1.0, 0.1):
        gd = ShallowReLURegressor(**PAPER_MODEL)  # the paper's model: zero start, no intercept
        gd.set_params(n_neurons=m, learning_rate=lr, max_iter=20000).fit(X, y)
        a, C, inactive = gd.output_weights_, gd.dual_coef_, ~gd.activation_pattern_
        first = lr * np.outer(y, a) / (a @ a * lam_max)
        dev = np.max(np.abs(C[inactive] - first[inactive]) / np.abs(first[inactive]))
        frozen = np.where(inactive, C, 0.0).T @ X
        ratio = np.linalg.norm(frozen) / np.linalg.norm(W_star)
        print(
            f"| {m} | {lr} | {inactive.sum()} of {C.size} | {dev:.1e} "
            f"| {gd.min_norm_gap_:.3f} | {ratio:.3f} |"
        )
