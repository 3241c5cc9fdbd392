"""
=============================================
From the linear model to ReLU: a leaky family
=============================================

The paper asks how the ReLU activation affects the implicit bias of gradient
descent. A leaky ReLU ``sigma(z) = z`` for ``z >= 0`` and ``alpha z`` below
runs from the linear model (``alpha = 1``, where gradient descent from zero
lands on the minimum-norm interpolant) to ReLU (``alpha = 0``).
:func:`~sklearn_relubias.experiments.activation_sweep` fits the paper's
model (zero start) at each slope and learning rate, for one neuron and for
the +/- pair, and measures the relative gap to the minimum-norm interpolant
within the label-sign region; :class:`~sklearn_relubias.plotting.ActivationDisplay`
draws it. ``relubias activations`` runs the same with 20 data sets per
cell (the README's table).
"""

# %%
# The sweep: n = 20, d = 2,000, Gaussian inputs and labels, 5 data sets per
# cell, learning rates 0.5 and 0.05.
import matplotlib.pyplot as plt

from sklearn_relubias.experiments import activation_sweep
from sklearn_relubias.plotting import ActivationDisplay

res = activation_sweep(
    20,
    2000,
    negative_slopes=(1.0, 0.5, 0.2, 0.1, 0.05, 0.0),
    learning_rates=(0.5, 0.05),
    n_seeds=5,
    random_state=0,
)

# %%
# One neuron (left) against the +/- pair (right). A single leaky neuron
# keeps the labels' region from its first step, and within a fixed region
# the model is linear: any ``alpha > 0`` lands on the reference (when the
# about ``1 / (alpha^2 learning_rate)`` steps it needs fit in ``max_iter``;
# hollow markers where they did not). The pair keeps a gap of ReLU's size
# at every ``alpha < 1``.
fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), layout="constrained")
for ax, m in zip(axes, (1, 2), strict=True):
    ActivationDisplay.from_result(res, n_neurons=m, ax=ax)

# %%
# The reference's norm: for one neuron it grows like ``1 / alpha`` (the
# negative targets are fitted on the slope-``alpha`` side) and drops at
# ``alpha = 0``, where ReLU does not fit them at all. The limit
# ``alpha -> 0`` is not ReLU's reference.
fig, axes = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
for ax, m in zip(axes, (1, 2), strict=True):
    ActivationDisplay.from_result(res, n_neurons=m, metric="reference_norm", ax=ax)
plt.show()
