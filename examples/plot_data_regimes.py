"""
============================================================
Orthogonal, Gaussian, stalled and frozen data side by side
============================================================

The paper of Lai, Wang, Tao and Muthukumar (COLT 2026) sits between two
earlier results. On exactly orthogonal inputs, gradient descent (GD) on a ReLU
neuron finds the minimum-norm global minimiser in the small-step limit
(Boursier, Pillaud-Vivien and Flammarion, 2022). In the worst case, no such
implicit bias exists (Vardi and Shamir, 2021). High-dimensional Gaussian
inputs are the case in between. Four generators of
:mod:`sklearn_relubias.datasets` produce one problem of each kind:

* :func:`~sklearn_relubias.datasets.make_orthogonal_regression`: the gap to
  the minimum-norm solution ``W*`` is exactly proportional to the step and
  vanishes with it;
* :func:`~sklearn_relubias.datasets.make_high_dim_regression`: the paper's
  regime, where GD ends close to ``W*`` with a gap set by the frozen first
  step;
* :func:`~sklearn_relubias.datasets.make_stalled_regression`: GD stops after
  one step, at a point that is not a global minimum;
* :func:`~sklearn_relubias.datasets.make_frozen_regression`: GD reaches a
  global minimum that is not ``W*``, and stays away from ``W*`` however small
  the step.

This example fits a single ReLU neuron to each problem and compares GD with
``W*``: the gap, whether GD reached a global minimum, and which examples end
up active.
"""

# %%
# Four problems, one neuron
# -------------------------
# * orthogonal: :func:`~sklearn_relubias.datasets.make_orthogonal_regression`,
#   ``n = 20`` exactly orthogonal inputs in ``d = 2000`` dimensions;
# * Gaussian: :func:`~sklearn_relubias.datasets.make_high_dim_regression`,
#   ``n = 20`` i.i.d. Gaussian inputs in ``d = 2000`` dimensions;
# * stalled: :func:`~sklearn_relubias.datasets.make_stalled_regression`,
#   four unit vectors in ``d = 2`` dimensions, one labelled +1 and three
#   labelled -1 inside a narrow cone around it;
# * frozen: :func:`~sklearn_relubias.datasets.make_frozen_regression`, three
#   examples in ``d = 3`` dimensions with labels 1, 0 and 1.
#
# The model is the paper's (:data:`~sklearn_relubias.PAPER_MODEL`: zero
# start, no intercept, run to ``tol``) with one neuron of output weight +1
# (``n_neurons=1``), so it can only produce non-negative outputs: its global
# minima fit the positive labels exactly and output 0 on the others, and the
# smallest possible loss is
# ``sum_{y_i <= 0} y_i^2 / (2n)``, the training loss of
# :class:`~sklearn_relubias.MinNormReLURegressor` when ``interpolates_`` is
# True.
import matplotlib.pyplot as plt
import numpy as np

from sklearn_relubias import PAPER_MODEL, MinNormReLURegressor, ShallowReLURegressor
from sklearn_relubias.datasets import (
    make_frozen_regression,
    make_high_dim_regression,
    make_orthogonal_regression,
    make_stalled_regression,
)
from sklearn_relubias.plotting import PatternTimelineDisplay

problems = {
    "orthogonal": make_orthogonal_regression(20, 2000, labels="gaussian", random_state=0),
    "Gaussian": make_high_dim_regression(20, 2000, labels="gaussian", random_state=0),
    "stalled": make_stalled_regression(n_samples=4, n_features=2, random_state=0),
    "frozen": make_frozen_regression(n_features=3, random_state=0),
}


def paper_model(**params):
    """The paper's estimator, one neuron, with ``params`` on top."""
    return ShallowReLURegressor(**PAPER_MODEL).set_params(n_neurons=1, **params)


def training_loss(estimator, X, y):
    return 0.5 * np.mean((estimator.predict(X) - y) ** 2)


fits = {}
print(f"{'':12s} {'GD loss':>9s} {'W* loss':>9s} {'gap':>7s} {'steps':>6s} {'stable':>6s}")
for name, (X, y) in problems.items():
    gd = paper_model(learning_rate=0.1, record_pattern=True).fit(X, y)
    mn = MinNormReLURegressor(n_neurons=1).fit(X, y)
    fits[name] = (X, y, gd, mn)
    print(
        f"{name:12s} {gd.loss_curve_[-1]:9.4f} {training_loss(mn, X, y):9.4f} "
        f"{gd.min_norm_gap_:7.4f} {gd.n_iter_:6d} {gd.pattern_stable_iter_:6d}"
        f"   W* interpolates: {mn.interpolates_}"
    )

# %%
# Which examples are active at the end? For ``W*`` we threshold the
# pre-activations at 1e-9 rather than at 0: ``W*`` puts some non-positive
# examples exactly on the kink of the ReLU (pre-activation 0 in exact
# arithmetic), and rounding alone would decide their sign.
for name, (X, y, gd, mn) in fits.items():
    active_star = X @ mn.hidden_weights_[0] > 1e-9
    print(f"{name}:")
    print(f"  y > 0      {(y > 0).astype(int)}")
    print(f"  GD active  {gd.activation_pattern_[:, 0].astype(int)}")
    print(f"  W* active  {active_star.astype(int)}")

# %%
# Activation timelines
# --------------------
# One row per example (sorted by label), black where the example is active.
fig, axes = plt.subplots(1, 4, figsize=(18, 5), layout="constrained")
for ax, (name, (_, y, gd, _)) in zip(axes, fits.items(), strict=True):
    PatternTimelineDisplay.from_estimator(gd, order=np.argsort(y), ax=ax)
    ax.set_title(name)
    ax.set_ylabel("")
plt.show()

# %%
# On the two high-dimensional problems GD reaches a global minimum: its final
# loss equals the training loss of ``W*`` (0.2930), and it ends active on
# exactly the positive examples. On the orthogonal inputs the pattern is
# fixed after one step; on the Gaussian ones one negative example is briefly
# active around step 12, and the pattern is fixed from step 13. ``W*`` is
# active on the same examples. The stalled timeline is empty: no example
# is ever active. On the frozen problem GD also reaches a global minimum
# (final loss at rounding level, like ``W*``), and it ends active on the same
# examples as ``W*``. Still, its gap is 0.1711. The middle example (label 0)
# is active from step 1 to step 201 and then switches off for good; the last
# section explains why that matters.
#
# The gaps differ for a reason that has nothing to do with the dimension. On
# orthogonal inputs every example's coefficient evolves on its own: the
# positive ones converge to ``y_i / d``, as in ``W*``, while the first step
# gives each non-positive example the coefficient
# ``-learning_rate * |y_i| / d``, which freezes because the example is
# inactive from then on and no other example interacts with it. ``W*`` gives
# these examples coefficient 0, so the gap is exactly
# ``learning_rate * sqrt(sum_{y_i <= 0} y_i^2 / sum_{y_i > 0} y_i^2)``:
X, y, gd, _ = fits["orthogonal"]
predicted = 0.1 * np.sqrt(np.sum(y[y <= 0] ** 2) / np.sum(y[y > 0] ** 2))
print(f"orthogonal: predicted gap {predicted:.4f}, measured {gd.min_norm_gap_:.4f}")
X_gauss, y_gauss = problems["Gaussian"]
print("same labels in the two high-dimensional problems:", np.array_equal(y, y_gauss))
for name in ("orthogonal", "Gaussian"):
    X_p, y_p, _, mn_p = fits[name]
    coef = mn_p.dual_coef_[y_p <= 0, 0]
    print(
        f"{name}: lambda_max(X^T X) / d = {np.linalg.eigvalsh(X_p @ X_p.T)[-1] / 2000:.3f}; "
        f"W* coefficients of the non-positive examples, times d: {np.round(2000 * coef, 3)}"
    )

# %%
# This is the finite-step version of the orthogonal-data result: the gap
# vanishes as ``learning_rate -> 0``. The Gaussian problem has the same
# labels, the same first-step freezing, and cross-talk between examples; its
# gap, 0.0997, is smaller than the orthogonal one (0.1575). Part of the
# difference is the step normalisation: the first step is divided by
# ``lambda_max(X^T X)``, which is ``1.16 d`` for these Gaussian inputs and
# exactly ``d`` for the orthogonal ones, so the frozen coefficients are
# smaller. The other part comes from ``W*`` itself: on the Gaussian inputs it
# gives 5 of the 12 non-positive examples negative coefficients (between
# -0.10 and -0.025 in units of ``1/d``), the same sign as the frozen GD
# coefficients, where on orthogonal inputs all of them are 0.
#
# The stalled instance: GD dies after one step
# ------------------------------------------------
# On the stalled instance GD stops after a single step with every example
# inactive: it predicts 0 everywhere, its loss is 0.5 (all four labels
# missed), while ``W*`` fits the positive example and reaches 0.375, the
# smallest possible loss. The gap is close to 1, the gap of the zero weight
# vector.
#
# The generator's docstring explains why. From the zero initialisation every
# example counts as active (``relu'(0) = 1``), so the first step moves the
# neuron along ``sum_i y_i x_i``. The three negative examples lie within
# about 30 to 33 degrees of the positive one and outnumber it, so that
# direction has a negative inner product with *every* example:
X, y, gd, mn = fits["stalled"]
direction = y @ X
print("<sum_i y_i x_i, x_j> for each example j:", np.round(X @ direction, 3))
print("angles to x_+ (degrees):", np.round(np.degrees(np.arccos(X @ X[0])), 1))

# %%
# After that step all pre-activations are negative, the gradient (with
# ``relu'(z) = 0`` for ``z < 0``) is exactly zero, and GD has reached a
# stationary point that is not a global minimum. The learning rate only
# scales the first step, so the outcome is the same for every value:
for rate in (1.5, 1.0, 0.1, 0.01, 0.001):
    gd_rate = paper_model(learning_rate=rate).fit(X, y)
    print(
        f"learning_rate={rate:<6g} steps {gd_rate.n_iter_}, active examples "
        f"{int(gd_rate.activation_pattern_.sum())}, loss {gd_rate.loss_curve_[-1]:.3f}, "
        f"gap {gd_rate.min_norm_gap_:.4f}"
    )

# %%
# The instance is two-dimensional, so we can draw it: the four inputs, the
# direction of the first step (the GD weight after one step, scaled up to
# be visible) and ``W*``, which has ``<w*, x_+> = 1`` and points away from
# the cone of negative examples.
w_gd = gd.hidden_weights_[0]
w_star = mn.hidden_weights_[0]
w_gd_unit = w_gd / np.linalg.norm(w_gd)
fig, ax = plt.subplots(figsize=(5.5, 5.5), layout="constrained")
for i, (x, label) in enumerate(zip(X, y, strict=True)):
    style = {"color": "tab:blue"} if label > 0 else {"color": "tab:red"}
    if i <= 1:
        style["label"] = "x_+ (y = +1)" if label > 0 else "negative examples (y = -1)"
    ax.plot([0, x[0]], [0, x[1]], "-o", markevery=[1], **style)
ax.plot(
    [0, w_gd_unit[0]],
    [0, w_gd_unit[1]],
    "-o",
    markevery=[1],
    color="black",
    label="GD weight after step 1 (rescaled to norm 1)",
)
ax.plot(
    [0, w_star[0]],
    [0, w_star[1]],
    "-o",
    markevery=[1],
    color="tab:green",
    label="minimum-norm solution w*",
)
lim = 1.15 * max(1.0, np.abs(w_star).max())
ax.set_xlim(-lim, lim)
ax.set_ylim(-lim, lim)
ax.set_aspect("equal")
ax.axhline(0, color="0.85", zorder=0)
ax.axvline(0, color="0.85", zorder=0)
ax.legend(loc="upper right", fontsize="small")
ax.set_title("stalled instance (d = 2)")
print(f"||w*|| = {np.linalg.norm(w_star):.3f}, <w*, x_j> = {np.round(X @ w_star, 3)}")
plt.show()

# %%
# The GD weight points away from all four inputs; ``W*`` has inner product 1
# with ``x_+``, 0 (to rounding: exactly on the kink) with the first negative
# example and negative inner products with the other two. In high
# dimension this cannot happen with random inputs: cross inner products are
# of order ``sqrt(d)`` against squared norms of order ``d``, so the sign of
# the first step on each example follows that example's own label, as the
# timelines of the two high-dimensional problems above show.

# %%
# The frozen instance: a global minimum that is not ``W*``
# ---------------------------------------------------------
# GD's data-span coefficients ``dual_coef_`` and the pre-activations
# ``<w, x_i>`` of its final weights, next to those of ``W*``:
X, y, gd, mn = fits["frozen"]
print("y                 ", y)
print("GD coefficients   ", np.round(gd.dual_coef_[:, 0], 4))
print("W* coefficients   ", np.round(mn.dual_coef_[:, 0], 4) + 0.0)
print("GD <w, x_i>       ", np.round(X @ gd.hidden_weights_[0], 4))
print("W* <w*, x_i>      ", np.round(X @ mn.hidden_weights_[0], 4))

# %%
# Both interpolate: ``<w, x_i> = 1`` on the two positive examples, and a
# negative pre-activation, hence output 0, on the middle one. But GD's middle
# coefficient is negative while its pre-activation is strictly below the
# kink. The minimum-norm program allows a nonzero multiplier only on the
# kink (complementarity, see the user guide), and ``W*`` gives the middle
# example the coefficient 0. The coefficient was acquired while the example
# was active, in the first 201 steps: its output ``<w, x_2> > 0 = y_2`` was
# pushed down. The pull towards the short third example, at an obtuse angle
# to the middle one, then switched it off, so the coefficient could never be
# undone.
#
# Everything here happens in gradient flow, over a time of order one, so a
# smaller step does not help. The generator integrates the flow exactly
# (``return_params=True``). Fits at smaller steps approach that flow limit,
# not ``W*``:
_, _, params = make_frozen_regression(n_features=3, random_state=0, return_params=True)
print(f"gradient-flow limit: relative gap {params['flow_gap']:.4f}")
for rate in (0.1, 0.01):
    gd_rate = paper_model(learning_rate=rate, max_iter=100_000).fit(X, y)
    print(
        f"learning_rate={rate:<5g} steps {gd_rate.n_iter_:>6d}, "
        f"loss {gd_rate.loss_curve_[-1]:.1e}, gap {gd_rate.min_norm_gap_:.4f}"
    )

# %%
# The gap goes from 0.1711 to 0.1707 when the step is divided by ten. The
# flow limit is 0.1706. The orthogonal problem is the opposite case: there the
# gap is proportional to the step and vanishes with it. The frozen instance
# needs an example that is active for a while and then switches off below
# the kink. In high dimension with random data this is rare (the
# first step's sign on each example follows its own label), but it is the
# mechanism behind the small floor that gradient flow leaves at small ``d/n``
# (user guide, "Step size and the gradient-flow limit").
