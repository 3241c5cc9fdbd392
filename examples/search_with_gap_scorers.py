"""A grid search that reports the implicit-bias diagnostics beside the test score.

Run: ``python examples/search_with_gap_scorers.py`` (a few seconds). Diabetes
(442 x 10), ``StandardScaler`` then ``ShallowReLURegressor`` (defaults, with
``compute_min_norm_gap=True``: at n >= d the default ``'auto'`` skips the
reference and the gap scorers would read NaN), a grid over the learning rate
and the start, 5 shuffled folds, refit on R^2. The gap scorers read each
fold's *training* fit (:data:`~sklearn_relubias.metrics.GAP_SCORERS`):
relative gap to the label-sign minimum-norm reference, stranded examples,
whether the run ended in the reference's activation region.
"""

import warnings

from sklearn.datasets import load_diabetes
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_relubias import ShallowReLURegressor
from sklearn_relubias.metrics import GAP_SCORERS

X, y = load_diabetes(return_X_y=True)
pipe = make_pipeline(
    StandardScaler(), ShallowReLURegressor(random_state=0, compute_min_norm_gap=True)
)
grid = {
    "shallowreluregressor__learning_rate": [0.5, 0.1],
    "shallowreluregressor__init": ["zero", "random"],
}
search = GridSearchCV(
    pipe,
    grid,
    scoring={"r2": "r2", **GAP_SCORERS},
    refit="r2",
    cv=KFold(5, shuffle=True, random_state=0),
)
with warnings.catch_warnings():  # the stranded examples are counted in the table
    warnings.simplefilter("ignore")
    search.fit(X, y)
res = search.cv_results_
print("| init | learning_rate | test R^2 | training gap | stranded | in W*'s region |")
print("|---|---|---|---|---|---|")
for i, p in enumerate(res["params"]):
    print(
        f"| {p['shallowreluregressor__init']} | {p['shallowreluregressor__learning_rate']} "
        f"| {res['mean_test_r2'][i]:.3f} | {-res['mean_test_neg_min_norm_gap'][i]:.3f} "
        f"| {-res['mean_test_neg_stranded_count'][i]:.1f} "
        f"| {res['mean_test_in_reference_region'][i]:.0%} |"
    )
print(f"\nbest by R^2: {search.best_params_}")
