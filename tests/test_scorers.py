"""Gap scorers: training-set diagnostics in searches, cross-validation and Pipelines."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_relubias import PAPER_MODEL, MinNormReLURegressor, ShallowReLURegressor
from sklearn_relubias.datasets import make_high_dim_regression
from sklearn_relubias.exceptions import StrandedExampleWarning
from sklearn_relubias.metrics import GAP_SCORERS, make_gap_scorer


def data():
    return make_high_dim_regression(30, 300, random_state=3)


def quiet_fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (ConvergenceWarning, StrandedExampleWarning))
        return est.fit(X, y)


def test_scorers_read_the_fit_on_a_bare_estimator_a_pipeline_and_the_reference():
    X, y = data()
    est = quiet_fit(ShallowReLURegressor(**PAPER_MODEL), X, y)
    X_other = np.zeros((3, X.shape[1]))  # the data passed are not used
    assert GAP_SCORERS["neg_min_norm_gap"](est, X_other, None) == -est.min_norm_gap_
    assert GAP_SCORERS["neg_min_norm_distance"](est, X, y) == -est.min_norm_distance_
    assert GAP_SCORERS["neg_stranded_count"](est, X, y) == -est.stranded_indices_.size
    assert GAP_SCORERS["in_reference_region"](est, X, y) == float(est.pattern_matches_reference_)
    pipe = quiet_fit(make_pipeline(StandardScaler(), ShallowReLURegressor(**PAPER_MODEL)), X, y)
    assert GAP_SCORERS["neg_min_norm_gap"](pipe, X, y) == -pipe[-1].min_norm_gap_
    ref = MinNormReLURegressor().fit(X, y)
    scores = {name: scorer(ref, X, y) for name, scorer in GAP_SCORERS.items()}
    assert scores == {
        "neg_min_norm_gap": 0.0,
        "neg_min_norm_distance": 0.0,
        "neg_stranded_count": 0.0,
        "in_reference_region": 1.0,
    }
    assert make_gap_scorer(greater_is_better=True)(est, X, y) == est.min_norm_gap_


def test_grid_search_fills_cv_results_with_each_training_folds_gap():
    """Against fits on each split's training rows, made here independently."""
    X, y = data()
    cv = KFold(3, shuffle=True, random_state=0)
    pipe = make_pipeline(StandardScaler(), ShallowReLURegressor(**PAPER_MODEL))
    grid = {"shallowreluregressor__learning_rate": [1.0, 0.1]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (ConvergenceWarning, StrandedExampleWarning))
        search = GridSearchCV(pipe, grid, scoring={"r2": "r2", **GAP_SCORERS}, refit="r2", cv=cv)
        search.fit(X, y)
        for c, params in enumerate(search.cv_results_["params"]):
            for k, (train, _) in enumerate(cv.split(X)):
                fit = clone(pipe).set_params(**params).fit(X[train], y[train])
                got = search.cv_results_[f"split{k}_test_neg_min_norm_gap"][c]
                assert got == pytest.approx(-fit[-1].min_norm_gap_, rel=1e-12)
    assert hasattr(search, "best_estimator_")  # refit on r2


def test_cross_validate_and_bad_names():
    X, y = data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (ConvergenceWarning, StrandedExampleWarning))
        res = cross_validate(ShallowReLURegressor(**PAPER_MODEL), X, y, cv=3, scoring=GAP_SCORERS)
    assert np.all(res["test_neg_min_norm_gap"] < 0)
    with pytest.raises(ValueError, match="attribute='bogus'; choose one of"):
        make_gap_scorer("bogus")
    with pytest.raises(Exception, match="not fitted"):
        GAP_SCORERS["neg_min_norm_gap"](ShallowReLURegressor(), X, y)


def test_scorers_refuse_other_estimators_and_other_regions():
    from sklearn.linear_model import Ridge

    X, y = data()
    with pytest.raises(TypeError, match="not a Ridge"):
        GAP_SCORERS["neg_min_norm_gap"](Ridge().fit(X, y), X, y)
    region = np.ones((X.shape[0], 2), dtype=bool)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        other = MinNormReLURegressor(region=region).fit(X, y)
    assert np.isnan(GAP_SCORERS["neg_min_norm_gap"](other, X, y))  # not the reference
    est = quiet_fit(ShallowReLURegressor(**PAPER_MODEL), X, y)
    assert str(GAP_SCORERS["neg_stranded_count"](est, X, y)) in (
        "0.0",
        str(-float(est.stranded_indices_.size)),
    )
