"""compare_solutions and reference_estimator: several solutions side by side."""

from itertools import permutations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_relubias import PAPER_MODEL, MinNormReLURegressor, ShallowReLURegressor
from sklearn_relubias.datasets import make_high_dim_regression
from sklearn_relubias.exceptions import StrandedExampleWarning
from sklearn_relubias.experiments import compare_solutions, reference_estimator


def paper(**params):
    return ShallowReLURegressor(**PAPER_MODEL).set_params(**params)


def solutions():
    return {
        "gd lr 1": paper(learning_rate=1.0),
        "gd lr 0.1": paper(),
        "gd random": paper(init="random", random_state=0),
        "min norm": MinNormReLURegressor(),
    }


@pytest.mark.filterwarnings("ignore::sklearn_relubias.exceptions.StrandedExampleWarning")
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_four_solutions_side_by_side_are_consistent():
    X, y = make_high_dim_regression(20, 400, labels="rademacher", random_state=0)
    res = compare_solutions(solutions(), X, y, cv=3)  # cv folds of 13 examples may strand
    D = res.distances
    assert res.names == list(solutions())
    np.testing.assert_array_equal(np.diag(D), 0.0)
    np.testing.assert_allclose(D, D.T, rtol=0, atol=0)
    for i, j, k in permutations(range(4), 3):
        assert D[i, k] <= D[i, j] + D[j, k] + 1e-15
    rows = {r["name"]: r for r in res.records}
    for name, est in solutions().items():
        fit = est.fit(X, y)
        W = fit.hidden_weights_
        for other, est2 in res.estimators.items():  # the matrix is the weights' distances
            j = res.names.index(other)
            expected = np.linalg.norm(W - est2.hidden_weights_)
            assert D[res.names.index(name), j] == pytest.approx(expected, rel=1e-12, abs=1e-15)
        loss = np.mean((fit.predict(X) - y) ** 2) / 2
        assert rows[name]["training_loss"] == pytest.approx(loss, rel=1e-9, abs=1e-30)
        if name != "min norm":
            assert rows[name]["gap_label_sign"] == pytest.approx(fit.min_norm_gap_, rel=1e-9)
            assert rows[name]["stranded"] == fit.stranded_indices_.size
    assert rows["min norm"]["gap_label_sign"] == 0.0
    assert rows["min norm"]["pattern_agreement"] == 1.0
    assert np.isnan(rows["min norm"]["gap_own_region"])
    assert all(np.isfinite(r["test_r2"]) for r in res.records)
    # the gap column is the distance to the min-norm solution in the table, relative
    j = res.names.index("min norm")
    for name in ("gd lr 1", "gd lr 0.1", "gd random"):
        i = res.names.index(name)
        assert res.relative_distances[i, j] == pytest.approx(rows[name]["gap_label_sign"])


def test_fitted_solutions_are_taken_as_they_are_and_bad_input_is_refused():
    X, y = make_high_dim_regression(20, 400, labels="rademacher", random_state=1)
    est = paper().fit(X, y)
    res = compare_solutions({"gd": est}, X, y, references=("label_sign",))
    assert res.estimators["gd"] is est and np.isnan(res.records[0]["fit_time"])
    with pytest.raises(ValueError, match="solutions is empty"):
        compare_solutions({}, X, y)
    with pytest.raises(TypeError, match="is a LogisticRegression; compare_solutions compares"):
        compare_solutions({"clf": LogisticRegression()}, X, y)
    with pytest.raises(TypeError, match="is a Ridge"):
        compare_solutions({"ridge": Ridge()}, X, y)
    with pytest.raises(ValueError, match="Unknown references"):
        compare_solutions({"gd": est}, X, y, references=("bogus",))


def test_reference_estimator_predicts_with_the_reference():
    # Gaussian labels, lr 0.01: the run ends outside the label-sign region, no example stranded
    X, y = make_high_dim_regression(20, 2000, random_state=1)
    est = paper(learning_rate=0.01, max_iter=100_000).fit(X, y)
    assert est.pattern_matches_reference_ is False and est.stranded_indices_.size == 0
    ref = reference_estimator(est, X, y)
    direct = MinNormReLURegressor().fit(X, y)
    np.testing.assert_allclose(ref.predict(X[:5] * 2), direct.predict(X[:5] * 2), atol=1e-12)
    own = reference_estimator(est, X, y, reference="own_region")
    region = X @ est.hidden_weights_.T > 0
    direct = MinNormReLURegressor(region=region).fit(X, y)
    np.testing.assert_allclose(own.hidden_weights_, direct.hidden_weights_, atol=1e-12)
    # another region, another interpolant (1.6% away)
    assert np.linalg.norm(own.hidden_weights_ - ref.hidden_weights_) > 1e-3 * np.linalg.norm(
        ref.hidden_weights_
    )
    # the own-region reference as a solution: its gap to the label-sign one is not 0
    res = compare_solutions({"gd": est, "own region": own}, X, y, references=("label_sign",))
    gap = res.records[1]["gap_label_sign"]
    assert gap == pytest.approx(
        np.linalg.norm(own.hidden_weights_ - ref.hidden_weights_)
        / np.linalg.norm(ref.hidden_weights_)
    )
    with pytest.warns(StrandedExampleWarning):  # standardised, this draw strands: no matter
        pipe = make_pipeline(StandardScaler(), paper()).fit(X, y)
    ref = reference_estimator(pipe, X, y)
    direct = MinNormReLURegressor().fit(pipe[0].transform(X), y)
    np.testing.assert_allclose(ref.predict(X), direct.predict(pipe[0].transform(X)), atol=1e-12)
    with pytest.raises(ValueError, match="reference='ntk'; choose"):
        reference_estimator(est, X, y, reference="ntk")


def test_linear_solutions_and_loose_input():
    X, y = make_high_dim_regression(20, 400, labels="rademacher", random_state=1)
    res = compare_solutions({"linear": paper(activation="linear")}, X, y)
    row = res.records[0]
    assert np.isfinite(row["gap_label_sign"]) and np.isnan(row["gap_own_region"])
    res = compare_solutions({"gd": paper()}, X, y, references="label_sign")
    assert "gap_label_sign" in res.records[0] and "gap_l" not in res.records[0]
    with pytest.raises(TypeError, match="solutions must be a dict"):
        compare_solutions([paper()], X, y)
