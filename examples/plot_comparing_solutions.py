"""
=====================================================
Comparing implicit-bias solutions in a workflow
=====================================================

Gradient descent is one of several optimizers that reach a global minimum of
an over-parameterised model, and each lands at its own one. This example
compares them the way a practitioner compares models: a grid search over
optimizer, learning rate and start on **diabetes** with the package's gap
scorers beside R^2, a search over the activation on a **TF-IDF** corpus
(synthetic, built here by
:func:`~sklearn_relubias.datasets.make_tfidf_regression`: the documentation
is built without network access), a comparison table of four optimizers' solutions and
the minimum-norm reference, and a sweep of the optimizers against the dimension on the
paper's data.

The gap scorers (:data:`~sklearn_relubias.metrics.GAP_SCORERS`) read each
fold's *training* fit: the relative distance ``||W - W*|| / ||W*||`` to the
minimum-norm network within the label-sign activation region, the stranded
examples and whether the fit ended in ``W*``'s region. At ``n >> d``
(diabetes) no network interpolates and ``W*`` minimises the convex surrogate
the package solves exactly; ``compute_min_norm_gap=True`` asks for it there.
"""

# %%
# A search over optimizer, learning rate and start on diabetes
# ------------------------------------------------------------
# Heavy ball (``momentum=0.9``) and SGD (``batch_size=32``) take
# ``learning_rate`` relative to the curvature as GD does; Adam's is its own
# step in the weights' units, so it gets its own grid (a list of grids, as
# in any :class:`~sklearn.model_selection.GridSearchCV`).
import warnings

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.datasets import load_diabetes
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_relubias import MinNormReLURegressor, ShallowReLURegressor
from sklearn_relubias.datasets import make_tfidf_regression
from sklearn_relubias.experiments import compare_solutions, gap_sweep
from sklearn_relubias.metrics import GAP_SCORERS
from sklearn_relubias.plotting import GapDisplay, SolutionComparisonDisplay

warnings.simplefilter("ignore")  # stranded examples and copies of neurons are columns here

X, y = load_diabetes(return_X_y=True)
y = (y - y.mean()) / y.std()
pipe = make_pipeline(
    StandardScaler(), ShallowReLURegressor(compute_min_norm_gap=True, random_state=0)
)
step = "shallowreluregressor__"
grid = [
    {
        f"{step}optimizer": ["gd", "momentum", "sgd"],
        f"{step}learning_rate": [0.03, 0.1, 0.3, 1.0],
        f"{step}init": ["zero", "random"],
    },
    {
        f"{step}optimizer": ["adam"],
        f"{step}learning_rate": [0.001, 0.003, 0.01, 0.03],
        f"{step}init": ["zero", "random"],
    },
]
cv = KFold(5, shuffle=True, random_state=0)
search = GridSearchCV(pipe, grid, scoring={"r2": "r2", **GAP_SCORERS}, refit="r2", cv=cv)
search.fit(X, y)

res = search.cv_results_
table = pd.DataFrame(
    {
        "optimizer": res[f"param_{step}optimizer"],
        "learning_rate": res[f"param_{step}learning_rate"],
        "init": res[f"param_{step}init"],
        "test R^2": res["mean_test_r2"],
        "training gap": -res["mean_test_neg_min_norm_gap"],
        "stranded": -res["mean_test_neg_stranded_count"],
    }
)
print(table.sort_values("test R^2", ascending=False).head(8).round(3).to_string(index=False))
print("best by R^2:", search.best_params_)

# %%
# The gap against the learning rate, one curve per optimizer and start
# (mean over the folds, one standard deviation as error bars; the curves are
# spread by a few percent along the axis so that none hides another).
fig, axes = plt.subplots(1, 2, figsize=(13, 4.8))
data = "diabetes (442 x 10, standardised)"
for ax, metric, legend in zip(axes, ["neg_min_norm_gap", "r2"], [None, "right"], strict=True):
    GapDisplay.from_cv_results(
        search,
        x="learning_rate",
        hue="optimizer",
        metric=metric,
        data=data,
        ax=ax,
        legend=legend,
    )
fig.tight_layout()

# %%
# A categorical axis: the activation on a TF-IDF corpus
# -----------------------------------------------------
# 600 documents over a 2,598-word vocabulary (``d > n``): the linear control
# and the ReLU, from a zero and a random start. (The leaky ReLU's reference
# with 16 neurons takes minutes per fold at this size, so it is left out.)
X_text, y_text = make_tfidf_regression(600, 2598, random_state=0)
text_search = GridSearchCV(
    ShallowReLURegressor(random_state=0),
    {"activation": ["linear", "relu"], "init": ["zero", "random"]},
    scoring={"r2": "r2", **GAP_SCORERS},
    refit="r2",
    cv=cv,
)
text_search.fit(X_text, y_text)
GapDisplay.from_cv_results(
    text_search,
    x="activation",
    hue="init",
    metric="neg_min_norm_gap",
    data="a synthetic TF-IDF corpus (600 x 2598)",
)

# %%
# Four optimizers and the reference side by side
# -----------------------------------------------
# :func:`~sklearn_relubias.experiments.compare_solutions` fits each solution
# on the standardised diabetes data and measures them against each other and
# against the references.
Xs = StandardScaler().fit_transform(X)
paper = dict(
    n_neurons=2,
    init="zero",
    fit_intercept=False,
    n_iter_no_change=None,
    max_iter=100_000,
    compute_min_norm_gap=True,
)
solutions = {
    "GD, lr 0.1": ShallowReLURegressor(**paper, learning_rate=0.1),
    "heavy ball 0.9, lr 0.01": ShallowReLURegressor(
        **paper, optimizer="momentum", learning_rate=0.01
    ),
    "SGD, batch 32, lr 0.1": ShallowReLURegressor(
        **paper, optimizer="sgd", learning_rate=0.1, random_state=0
    ),
    "Adam, lr 1e-3": ShallowReLURegressor(**paper, optimizer="adam", learning_rate=1e-3),
    "minimum-norm": MinNormReLURegressor(),
}
comparison = compare_solutions(solutions, Xs, y, references=("label_sign", "own_region"), cv=cv)
print(pd.DataFrame(comparison.records).drop(columns="estimator").round(3).to_string(index=False))
SolutionComparisonDisplay.from_comparison(comparison, data="diabetes, standardised")

# %%
# The optimizers against the dimension on the paper's data
# --------------------------------------------------------
# The paper's model (the +/- pair from a zero start, run to ``tol``) on
# Gaussian inputs with n = 20 and +/-1 labels, 5 data sets per dimension.
# Heavy ball at ``learning_rate=0.01`` takes GD's first step at 0.1 (``0.01 /
# (1 - 0.9)``); SGD takes batches of 4.
sweep = gap_sweep(
    20,
    [200, 800, 3200],
    n_repeats=5,
    random_state=0,
    estimator_params={"batch_size": 4},
    dataset_params={"labels": "rademacher"},
    param_grid=[
        {"optimizer": ["gd", "sgd"], "learning_rate": [0.1]},
        {"optimizer": ["momentum"], "learning_rate": [0.01]},
        {"optimizer": ["adam"], "learning_rate": [1e-4]},
    ],
)
fig, axes = plt.subplots(1, 2, figsize=(13, 4.8))
GapDisplay.from_result(sweep, x="n_features", metric="min_norm_gap", ax=axes[0], legend=None)
GapDisplay.from_result(
    sweep, x="n_features", metric="min_norm_distance", ax=axes[1], legend="right"
)
for ax in axes:
    ax.set_title("paper's data (n = 20, +/-1 labels), the +/- pair", fontsize="medium")
fig.tight_layout()
columns = [
    "optimizer",
    "learning_rate",
    "n_features",
    "min_norm_gap_q50",
    "min_norm_distance_q50",
    "n_stranded_q50",
]
print(pd.DataFrame(sweep.summary())[columns].round(4).to_string(index=False))
plt.show()
