"""
=======================================
How fast the activation pattern settles
=======================================

The analysis of Lai, Wang, Tao and Muthukumar (COLT 2026) rests on one
observation: on high-dimensional random data the ReLU activation pattern (which
training examples each neuron is active on) stops changing after a few
gradient steps, after which gradient descent is a linear recursion on each
neuron's active examples. This example records the pattern at every step
(``record_pattern=True``) and draws it with
:class:`~sklearn_relubias.plotting.PatternTimelineDisplay`, for two problems
that differ only in their labels: +/-1 (Rademacher) labels and Gaussian
labels.
"""

# %%
# Two fits on the same inputs
# ---------------------------
# ``n = 20`` Gaussian inputs in ``d = 20000`` dimensions (``d/n = 1000``). With
# the same ``random_state``,
# :func:`~sklearn_relubias.datasets.make_high_dim_regression` draws the same
# ``X`` for both kinds of labels, so the two fits below see identical inputs.
# The network is the paper's model (:data:`~sklearn_relubias.PAPER_MODEL`):
# two neurons with output weights +1 and -1 (the first neuron can only produce
# positive outputs, the second only negative ones), zero initialisation, no
# intercept, ``learning_rate=0.1``, run to ``tol``.
import matplotlib.pyplot as plt
import numpy as np

from sklearn_relubias import PAPER_MODEL, MinNormReLURegressor, ShallowReLURegressor
from sklearn_relubias.datasets import make_high_dim_regression
from sklearn_relubias.plotting import PatternTimelineDisplay

n_samples, n_features, seed = 20, 20_000, 2
params = {**PAPER_MODEL, "max_iter": 20_000, "record_pattern": True}  # 2 neurons, lr 0.1

fits = {}
for labels in ("rademacher", "gaussian"):
    X, y = make_high_dim_regression(n_samples, n_features, labels=labels, random_state=seed)
    fits[labels] = (X, y, ShallowReLURegressor(**params).fit(X, y))

X_r, y_r, gd_r = fits["rademacher"]
X_g, y_g, gd_g = fits["gaussian"]
print("same inputs for both fits:", np.array_equal(X_r, X_g))
for labels, (_, y, gd) in fits.items():
    label_sign = np.array_equal(gd.activation_pattern_, np.c_[y > 0, y < 0])
    print(
        f"{labels:>10s}: {gd.n_iter_} steps, pattern stable from step "
        f"{gd.pattern_stable_iter_}, {len(gd.pattern_changes_)} pattern changes, "
        f"final loss {gd.loss_curve_[-1]:.1e}, final pattern == label signs: {label_sign}, "
        f"min_norm_gap {gd.min_norm_gap_:.3f}"
    )

# %%
# Rademacher labels: the pattern is fixed after one step
# ------------------------------------------------------
# Rows are (neuron ``j``, example ``i``), examples sorted by label within each
# neuron's block; a black bar marks the iterations where example ``i`` is
# active for neuron ``j`` (``<w_j, x_i> > 0``). The zero initialisation has
# no active example, and the red line marks ``pattern_stable_iter_``.
fig, ax = plt.subplots(figsize=(7, 6.5), layout="constrained")
PatternTimelineDisplay.from_estimator(gd_r, order=np.argsort(y_r), ax=ax)
ax.set_title("Rademacher labels, d = 20000")
plt.show()

# %%
# All 20 recorded changes happen at step 1: the first step makes every
# positive example active for the positive neuron and every negative example
# active for the negative neuron, and nothing changes afterwards. From then on
# each neuron fits its own examples by a linear recursion, and the
# coefficients the first step gave to the other examples stay frozen. (This
# data set is one of the five in eight, below, where that happens.)
#
# Gaussian labels: a few examples keep flipping
# ---------------------------------------------
fig, ax = plt.subplots(figsize=(7, 6.5), layout="constrained")
PatternTimelineDisplay.from_estimator(gd_g, order=np.argsort(y_g), ax=ax)
ax.set_title("Gaussian labels, d = 20000")
plt.show()

# %%
# Here the pattern settles only at step 468, four steps before the end. Step 1
# again sets the pattern to the label signs, but from around step 6 on a few
# entries switch on for a step or two and off again, over and over. Which
# ones? Count the flips of each (example, neuron) entry, and compare with the
# minimum-norm solution ``W*`` (:class:`~sklearn_relubias.MinNormReLURegressor`):
# call an entry *tight* in ``W*`` when the neuron's output sign disagrees with
# the label, ``<w*_j, x_i> = 0`` and the sign constraint has a nonzero
# multiplier.
mn = MinNormReLURegressor(n_neurons=2).fit(X_g, y_g)
pre_gd = X_g @ gd_g.hidden_weights_.T
pre_star = X_g @ mn.hidden_weights_.T
wrong_sign = np.outer(y_g, mn.output_weights_) < 0
tight = wrong_sign & (np.abs(pre_star) < 1e-9) & (mn.dual_coef_ < 0)

changes = gd_g.pattern_changes_
entries, counts = np.unique(changes[:, 1:], axis=0, return_counts=True)
print(" i  j   y_i    flips  last flip  <w_j, x_i> (GD)  tight in W*")
for (i, j), count in zip(entries, counts, strict=True):
    if count > 1:
        last = changes[(changes[:, 1] == i) & (changes[:, 2] == j), 0].max()
        print(
            f"{i:2d} {j:2d} {y_g[i]:+6.3f} {count:6d} {last:10d} {pre_gd[i, j]:+16.1e}"
            f"  {bool(tight[i, j])}"
        )
print(f"tight entries in W*: {int(tight.sum())}")
print("|y_i| sorted:", np.round(np.sort(np.abs(y_g)), 2))

# %%
# All four entries that flipped more than once (12 to 162 flips) are
# wrong-sign entries on which ``W*`` is tight: the minimum-norm solution puts
# the example exactly on the kink of the ReLU, and gradient descent approaches
# that boundary from both sides. The updates of the examples still being
# fitted push the pre-activation above zero, the example then joins the
# neuron's fit, which pushes it back below, and so on; the final
# pre-activations of these entries are between 1e-13 and 1e-5 in size, tiny
# next to the labels. Not every tight entry flips (4 of the 8 do): on the
# others GD stays on the inactive side.
#
# The first step gives a wrong-sign entry a pre-activation of about
# ``-learning_rate * |y_i|``, so one might expect the examples with the
# smallest ``|y_i|`` to be the ones that flip. That is only partly what
# happens here: two of the four have small labels (0.08 and 0.12), but the
# others have 0.43 and 0.67, and the smallest label (0.03) never flips.
# Tightness in ``W*`` is the better predictor in this fit.
#
# Loss curves
# -----------
fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
for labels, (_, _, gd) in fits.items():
    ax.semilogy(gd.loss_curve_, label=f"{labels} labels")
ax.set_xlabel("iteration")
ax.set_ylabel("training loss")
ax.legend()
plt.show()

# %%
# Both losses fall geometrically to rounding level (about 1e-20) in under 500
# steps, and the two curves nearly coincide: the flipping entries of the
# Gaussian fit sit at pre-activations near zero and do not visibly slow the
# descent.
#
# How typical are these two fits?
# -------------------------------
# The same comparison over eight data sets (seeds 0 to 7); the fits above use
# seed 2. The last line counts the examples that end inactive for both
# neurons, which the network then predicts as 0.
for labels in ("rademacher", "gaussian"):
    stable, iters, losses, dead = [], [], [], []
    for s in range(8):
        X, y = make_high_dim_regression(n_samples, n_features, labels=labels, random_state=s)
        gd = ShallowReLURegressor(**{**params, "record_pattern": False}).fit(X, y)
        stable.append(gd.pattern_stable_iter_)
        iters.append(gd.n_iter_)
        losses.append(gd.loss_curve_[-1])
        dead.append(int(np.sum(~gd.activation_pattern_.any(axis=1) & (y != 0))))
    print(f"{labels:>10s}: pattern_stable_iter_ {stable}")
    print(f"{'':>10s}  n_iter_              {iters}")
    print(f"{'':>10s}  final loss {', '.join(f'{v:.0e}' for v in losses)}")
    print(f"{'':>10s}  examples inactive for both neurons {dead}")

# %%
# With +/-1 labels the pattern is fixed from step 1 in five of the eight data
# sets; in the other three it still changes until step 146, 420 or 426. With
# Gaussian labels it never settles at step 1: two data sets settle at step 2
# and 6, the other six between step 132 and 478, four of them within 15 steps
# of the end of the fit (two at the very last step). So "the pattern settles
# at the first step" describes most, not all, of the +/-1 fits at
# ``d/n = 1000`` and ``learning_rate=0.1``, and few of the Gaussian ones.
# In the Gaussian fit examined above, the late flips concern four of the 40
# entries, all of them entries on which ``W*`` itself sits on the kink.
#
# All eight +/-1 fits and six of the Gaussian ones end at a global minimum
# (loss about 1e-20). In two Gaussian data sets (seeds 1 and 6) one example
# ends inactive for both neurons: the network predicts 0 for it, and the loss
# stays at 2e-4 and 3e-6. Gradient descent stopped at a stationary point that
# is not a global minimum, since a dead example gets no gradient. See
# :ref:`sphx_glr_auto_examples_plot_data_regimes.py` for a data set where
# this happens to every example.
