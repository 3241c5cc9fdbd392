"""The fit plan and Precomputed: what one fit, and one data set, compute once.

Counts come from the plan's ``decisions`` (``decisions_`` on the estimators)
and from a shared ``Precomputed``, never from monkeypatching.
"""

import numpy as np
import pytest
from _reference import gaussian_problem, paper_estimator

from sklearn_relubias import MinNormReLURegressor, Precomputed
from sklearn_relubias.datasets import make_high_dim_regression
from sklearn_relubias.experiments import (
    critical_learning_rate,
    gap_sweep,
    gradient_flow_limit,
    predict_gap,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def test_a_default_dual_fit_plans_memory_once_and_decomposes_the_gram_matrix_once():
    """One memory check and one eigendecomposition of K serve the step size and the program."""
    X, y = gaussian_problem(40, 400, seed=1)
    est = paper_estimator(max_iter=50, tol=0.0).fit(X, y)
    decisions = est.decisions_
    assert decisions["path"] == "dual" and decisions["reference_route"] == "gram"
    assert decisions["gram_products"] == 1
    assert decisions["gram_eigendecompositions"] == 1 and decisions["gram_lanczos"] == 0
    assert decisions["memory_checks"] == 1 and decisions["references_solved"] == 1
    stages = dict(decisions["memory_stages"])
    assert decisions["planned_peak_bytes"] == max(stages.values()) == 3 * 8 * 40**2


def test_fits_sharing_a_precomputed_form_decompose_and_solve_once():
    X, y = gaussian_problem(20, 500, seed=2)
    data = Precomputed(X)
    fits = [
        paper_estimator(learning_rate=lr, max_iter=2000).fit(X, y, gram=data)
        for lr in (1.0, 0.5, 0.1)
    ]
    assert data.n_gram_products == 1 and data.n_eigendecompositions == 1
    assert data.n_references == 1
    for est in fits:  # the same gap as a fit on its own
        alone = paper_estimator(learning_rate=est.learning_rate, max_iter=2000).fit(X, y)
        np.testing.assert_array_equal(est.hidden_weights_, alone.hidden_weights_)
        assert est.min_norm_gap_ == alone.min_norm_gap_
    paper_estimator(max_iter=50).fit(X, -y, gram=data)
    assert data.n_references == 2 and data.n_eigendecompositions == 1


def test_precomputed_of_other_data_is_refused():
    X, y = gaussian_problem(10, 60, seed=3)
    other = Precomputed(X + 1.0)
    with pytest.raises(ValueError, match="gram does not match X"):
        paper_estimator().fit(X, y, gram=other)
    with pytest.raises(ValueError, match=r"10 samples and 60 features; X has shape \(9, 60\)"):
        paper_estimator().fit(X[:9], y[:9], gram=Precomputed(X))
    with pytest.raises(ValueError, match="without X"):
        paper_estimator().fit(X, y, gram=Precomputed(gram=X @ X.T))


def test_gradient_flow_limit_solves_the_reference_once_for_all_learning_rates():
    X, y = make_high_dim_regression(10, 400, labels="rademacher", random_state=0)
    data = Precomputed(X)
    res = gradient_flow_limit(X, y, learning_rates=(0.2, 0.1, 0.05, 0.025), gram=data)
    assert res.gaps.shape == (4,)
    assert data.n_references == 1 and data.n_eigendecompositions == 1
    assert data.n_gram_products == 1


def test_theory_helpers_share_one_precomputed():
    X, y = make_high_dim_regression(20, 2000, labels="rademacher", random_state=1)
    data = Precomputed(X)
    pred = predict_gap(X, y, learning_rate=0.3, gram_matrix=data)
    critical_learning_rate(X, gram_matrix=data)
    est = paper_estimator(learning_rate=0.3).fit(X, y, gram=data)
    assert data.n_references == 1 and data.n_eigendecompositions == 1
    assert abs(pred.distance / est.min_norm_distance_ - 1) < 0.01


@pytest.mark.filterwarnings("ignore::sklearn_relubias.exceptions.StrandedExampleWarning")
def test_gap_sweep_records_the_estimators_own_gap_with_an_intercept():
    """The sweep used to compare the centred fit with W* of the uncentred targets."""
    res = gap_sweep(
        12,
        300,
        n_repeats=2,
        estimator_params={"fit_intercept": True, "n_neurons": 2},
        dataset_params={"labels": "gaussian"},
        random_state=5,
    )
    for rec, seed in zip(res.records, range(2), strict=True):
        assert rec["repeat"] == seed
    # refit the first record's data by hand: the seeds are the sweep's
    child = np.random.SeedSequence(5).spawn(2)[0].generate_state(2)
    X, y = make_high_dim_regression(12, 300, labels="gaussian", random_state=int(child[0]))
    est = paper_estimator(fit_intercept=True, random_state=int(child[1])).fit(X, y)
    assert res.records[0]["min_norm_gap"] == est.min_norm_gap_
    assert res.records[0]["min_norm_distance"] == est.min_norm_distance_
    W_star = MinNormReLURegressor(fit_intercept=True).fit(X, y).hidden_weights_
    assert res.records[0]["min_norm_norm"] == pytest.approx(np.linalg.norm(W_star), rel=1e-12)
