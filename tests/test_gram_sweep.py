import numpy as np
import pytest
from _reference import paper_estimator
from joblib import parallel_config

from sklearn_relubias.datasets import make_gram_regression, make_high_dim_regression
from sklearn_relubias.experiments._gram_sweep import gram_gap, gram_gap_sweep


@pytest.mark.filterwarnings("ignore::sklearn_relubias.exceptions.StrandedExampleWarning")
@pytest.mark.parametrize(
    "n_neurons, output_weights", [(1, (1.0,)), (2, (1.0, -1.0)), (3, (2.0, -1.0, 0.5))]
)
@pytest.mark.parametrize("learning_rate", [0.5, 0.05])
def test_gram_gap_matches_the_estimator(n_neurons, output_weights, learning_rate):
    """From K alone, the same iterates, reference and distances as the estimator on X.

    Both iterate in the data span on ``K = X X^T`` with the same step, and the
    reference comes from the same dual program; only the distance is computed
    differently (``sqrt(tr(D^T K D))`` against ``||D^T X||_F``), to rounding.
    With three neurons (2, -1, 0.5) the positive group shares ``u+`` in proportion to
    ``|a_j|``: ``w_j = |a_j| u+ / (2^2 + 0.5^2)``.
    """
    X, y = make_high_dim_regression(20, 400, random_state=1)
    est = paper_estimator(n_neurons=n_neurons, learning_rate=learning_rate, init="zero")
    if n_neurons == 3:
        est.set_params(output_weights=np.array(output_weights))
    est.fit(X, y)
    rec = gram_gap(X @ X.T, y, output_weights, learning_rate=learning_rate)
    assert rec["n_iter"] == est.n_iter_
    np.testing.assert_allclose(rec["dual_coef"], est.dual_coef_, rtol=1e-12, atol=1e-15)
    assert rec["min_norm_distance"] == pytest.approx(est.min_norm_distance_, rel=1e-9)
    assert rec["min_norm_gap"] == pytest.approx(est.min_norm_gap_, rel=1e-9)
    assert rec["min_norm_norm"] == pytest.approx(
        est.min_norm_distance_ / est.min_norm_gap_, rel=1e-9
    )


def test_gram_gap_on_orthogonal_gram_is_half_the_step():
    """``K = d I``, the +/- pair from zero: gap ``learning_rate / 2`` (see test_datasets)."""
    rng = np.random.default_rng(0)
    y = rng.standard_normal(8)
    rec = gram_gap(100.0 * np.eye(8), y, (1.0, -1.0), learning_rate=0.2, max_iter=100000)
    assert rec["converged"]
    assert rec["min_norm_gap"] == pytest.approx(0.1, rel=1e-9)
    # ||W*||^2 = sum_i y_i^2 / d (one neuron per sign group, c*_i = |y_i| / d)
    assert rec["min_norm_norm"] == pytest.approx(np.sqrt(np.sum(y**2) / 100.0), rel=1e-12)


def test_gram_gap_validation():
    with pytest.raises(ValueError, match="shape"):
        gram_gap(np.eye(3), np.ones(4))
    with pytest.raises(ValueError, match="non-zero"):
        gram_gap(np.eye(3), np.ones(3), (1.0, 0.0))


def test_gram_gap_sweep_records_and_seeds():
    kw = {"n_repeats": 2, "learning_rate": [0.5, 0.1], "random_state": 3}
    recs = gram_gap_sweep(8, [50, 10**6], **kw)
    assert len(recs) == 2 * 2 * 2
    assert [(r["n_features"], r["repeat"], r["learning_rate"]) for r in recs[:4]] == [
        (50, 0, 0.5),
        (50, 0, 0.1),
        (50, 1, 0.5),
        (50, 1, 0.1),
    ]
    assert all(r["converged"] and r["interpolates"] for r in recs)
    # a record is gram_gap on the cell's draw: seed from the spawned sequence
    seed = int(np.random.SeedSequence(3).spawn(4)[2].generate_state(1)[0])
    K, y = make_gram_regression(8, 10**6, random_state=seed)
    ref = gram_gap(K, y, learning_rate=0.5)
    assert recs[4]["min_norm_gap"] == ref["min_norm_gap"]
    assert recs[4]["trace"] == 10**6 and recs[4]["effective_rank"] == 10**6
    with parallel_config(backend="threading"):  # loky's start-up alone takes seconds
        again = gram_gap_sweep(8, [50, 10**6], n_jobs=2, **kw)
    assert again[4]["min_norm_gap"] == ref["min_norm_gap"]


def test_gram_gap_distance_shrinks_with_d():
    """The absolute distance is of order sqrt(n / d): 100x more features, ~10x smaller."""
    recs = gram_gap_sweep(10, [10**4, 10**6], n_repeats=3, learning_rate=0.5, random_state=0)
    small = np.median([r["min_norm_distance"] for r in recs if r["n_features"] == 10**4])
    large = np.median([r["min_norm_distance"] for r in recs if r["n_features"] == 10**6])
    assert 3 < small / large < 30
