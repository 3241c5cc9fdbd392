"""
===================================================
Where the gap comes from: frozen first-step weights
===================================================

Gradient descent (GD) from zero gives every training example, in its first
step, a coefficient proportional to ``learning_rate`` times its label. A
neuron that cannot produce an example's label (its output weight has the
other sign) switches off on it after that step, and the coefficient stays
frozen unless the cross-talk of the other examples switches it on again.
The minimum-norm solution ``W*`` has no such coefficients, so the gap
``||W - W*|| / ||W*||`` is about ``kappa * learning_rate``.

This example checks that picture in three ways:

- :func:`~sklearn_relubias.experiments.gap_decomposition` splits ``W - W*``
  of one fit into exact parts, one per kind of (example, neuron) pair;
- :func:`~sklearn_relubias.experiments.predict_gap` predicts the gap from the
  first step alone, without running GD;
- over many ``(n, d, learning_rate)`` the gap divided by the effective
  learning rate collapses onto one curve of ``learning_rate / lr_c``, with
  ``lr_c`` from :func:`~sklearn_relubias.experiments.critical_learning_rate`
  (proportional to ``sqrt(n / R)``, ``R`` the effective rank of the inputs).
"""

# %%
# One fit, decomposed
# -------------------
# ``n = 20`` Gaussian inputs in ``d = 2000`` dimensions, +/-1 labels, the
# paper's model (:data:`~sklearn_relubias.PAPER_MODEL`: the +/- pair of
# neurons from zero, no intercept), ``learning_rate = 0.1``.
import warnings

import matplotlib.pyplot as plt
import numpy as np

from sklearn_relubias import PAPER_MODEL, ShallowReLURegressor
from sklearn_relubias.datasets import make_high_dim_regression
from sklearn_relubias.experiments import (
    critical_learning_rate,
    gap_decomposition,
    predict_gap,
)

X, y = make_high_dim_regression(20, 2000, labels="rademacher", random_state=1)
paper = {**PAPER_MODEL, "max_iter": 200_000}
est = ShallowReLURegressor(**paper, record_pattern=True).fit(X, y)
dec = gap_decomposition(est, X, y)
pred = predict_gap(X, y, learning_rate=0.1)
print(f"gap {dec.relative_gap:.4f}, predicted {pred.relative_gap:.4f}")
for name, share in dec.shares.items():
    count = int(np.sum(dec.categories == name)) if name != "init" else 0
    print(f"{name:>10s}: {count:2d} pairs, norm {dec.norms[name]:.2e}, share {share:+.3f}")

# %%
# Nearly all of the squared distance sits in the ``frozen`` part: the pairs
# that were never active after the first step. The ``sliding`` pairs (switched
# on again, pushed back to ``<w_j, x_i> = 0``) end where ``W*`` has them and
# contribute little. The prediction (the first-step iterate projected onto
# the weights that fit what the first step's pattern fits) matches the fit.
#
# A sweep over n, d and the learning rate
# ---------------------------------------
# Three sizes ``n``, three ratios ``d/n``, eight learning rates, two data
# sets each (144 fits of a few milliseconds).
rows = []
for n in (10, 20, 40):
    for ratio in (20, 100, 500):
        for seed in range(2):
            X, y = make_high_dim_regression(n, ratio * n, labels="rademacher", random_state=seed)
            K = X @ X.T
            lr_c = critical_learning_rate(X, gram_matrix=K)
            to_eff = np.mean(np.diag(K)) / np.linalg.eigvalsh(K)[-1]
            for lr in (1.5, 1.0, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    fit = ShallowReLURegressor(**{**paper, "learning_rate": lr})
                    fit.fit(X, y, gram=K)
                rows.append(
                    (
                        n,
                        ratio,
                        lr,
                        lr / lr_c,
                        fit.min_norm_gap_ / (lr * to_eff),
                        fit.pattern_stable_iter_,
                    )
                )
rows = np.array(rows)

# %%
# The gap collapses onto one curve
# --------------------------------
# ``lr_eff = learning_rate * mean ||x_i||^2 / lambda_max(X X^T)`` is the
# first step's move of an example's own pre-activation. Above ``lr_c`` the
# frozen coefficients dominate the cross-talk and ``gap / lr_eff`` reaches a
# plateau near ``1/2`` (the value on orthogonal inputs) and the points of
# all sizes fall on one curve; below, a fraction of the frozen examples is
# switched on again and slides to ``W*``'s kink, and the ratio drops. How far
# it drops depends on the data set (between about 0.2 and 0.45 here: the
# signs of each example's cross-talk decide whether it stays frozen), so the
# collapse is tight only above ``lr_c``. Colours mark ``d/n``, markers ``n``.
markers = {10: "o", 20: "s", 40: "^"}
colors = {20: "tab:blue", 100: "tab:orange", 500: "tab:green"}
fig, ax = plt.subplots(figsize=(7, 4.2), layout="constrained")
for n, marker in markers.items():
    for ratio, color in colors.items():
        sel = (rows[:, 0] == n) & (rows[:, 1] == ratio)
        ax.scatter(
            rows[sel, 3],
            rows[sel, 4],
            marker=marker,
            color=color,
            alpha=0.7,
            label=f"n={n}, d/n={ratio}",
        )
ax.axvline(1.0, color="grey", ls=":", lw=1)
ax.set_xscale("log")
ax.set_xlabel(r"learning_rate / $lr_c$   ($lr_c \propto \sqrt{n/R}$)")
ax.set_ylabel(r"relative gap / $lr_{eff}$")
ax.set_title("Gap per unit effective step against the step in units of lr_c")
ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
plt.show()

# %%
# The pattern settles at once for large steps only
# ------------------------------------------------
# ``pattern_stable_iter_`` is the last iteration at which the activation
# pattern changed. With a large step every frozen example stays off after
# the first step and the pattern is stable from step one; with small steps
# the examples sliding on the kink flip on and off until the end of the run,
# so the pattern "settles" only when GD stops (about ``50 / learning_rate``
# steps). The switch happens a few times ``lr_c`` (``lr_c`` is about 0.07,
# 0.15 and 0.35 for ``d/n`` = 500, 100 and 20), later for smaller ``d/n``.
fig, ax = plt.subplots(figsize=(7, 4.2), layout="constrained")
for ratio, color in colors.items():
    sel = rows[:, 1] == ratio
    lrs = np.unique(rows[sel, 2])
    med = [np.median(rows[sel & (rows[:, 2] == lr), 5]) for lr in lrs]
    ax.scatter(rows[sel, 2], np.maximum(rows[sel, 5], 0.8), color=color, alpha=0.4, s=15)
    ax.plot(lrs, np.maximum(med, 0.8), color=color, label=f"d/n={ratio} (median)")
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("learning_rate")
ax.set_ylabel("pattern_stable_iter_ (0 shown at 0.8)")
ax.set_title("Iteration after which the activation pattern never changes")
ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
plt.show()
