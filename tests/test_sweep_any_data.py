"""gap_sweep over optimizers and over a real data set given as arrays; refitting one record."""

import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn.datasets import load_diabetes
from sklearn.preprocessing import StandardScaler

from sklearn_relubias.experiments import gap_sweep

# refitting a record fits again, with the fit's own warnings: stranded examples are a column
pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn_relubias.exceptions.StrandedExampleWarning"),
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]


def _diabetes():
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), (y - y.mean()) / y.std()


def _sweep(**kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gap_sweep(**kw)


def test_sweep_over_optimizer_and_learning_rate_refits_exactly():
    res = _sweep(
        n_samples=10,
        n_features=[100, 300],
        n_repeats=2,
        random_state=3,
        estimator_params={"batch_size": 3, "max_iter": 3000},
        param_grid=[
            {"optimizer": ["gd", "sgd"], "learning_rate": [0.1, 0.5]},
            {"optimizer": ["adam"], "learning_rate": [1e-3]},
        ],
    )
    assert len(res.records) == 2 * 2 * 5 and res.swept == ["learning_rate", "optimizer"]
    assert {(r["optimizer"], r["learning_rate"]) for r in res.records} == {
        ("gd", 0.1),
        ("gd", 0.5),
        ("sgd", 0.1),
        ("sgd", 0.5),
        ("adam", 1e-3),
    }
    for i in range(len(res.records)):  # SGD records depend on init_seed (its shuffles)
        rec = res.records[i]
        est, X, y = res.refit(i)
        assert X.shape == (rec["n_samples"], rec["n_features"])
        assert est.optimizer == rec["optimizer"] and est.n_iter_ == rec["n_iter"]
        assert est.min_norm_gap_ == rec["min_norm_gap"]
        assert float(est.loss_curve_[-1]) == rec["final_loss"]
    assert res.select(optimizer="adam").refit(0)[0].dual_coef_ is None


def test_param_grid_lists_must_share_their_parameters():
    with pytest.raises(ValueError, match="must sweep the same parameters"):
        gap_sweep(10, 100, param_grid=[{"optimizer": ["gd"]}, {"learning_rate": [0.1]}])


@pytest.mark.parametrize("as_sparse", [False, True])
def test_sweep_over_a_real_data_set_by_subsampling(as_sparse):
    X, y = _diabetes()
    X_in = sparse.csr_matrix(X) if as_sparse else X
    res = _sweep(
        n_samples=[50, 200],
        n_features=[5, 10],
        n_repeats=2,
        random_state=0,
        dataset=(X_in, y),
        estimator_params={"max_iter": 2000, "compute_min_norm_gap": True},
    )
    assert len(res.records) == 8
    for i, rec in enumerate(res.records):
        est, X_fit, y_fit = res.refit(i)
        assert X_fit.shape == (rec["n_samples"], rec["n_features"])
        assert est.min_norm_gap_ == rec["min_norm_gap"]
        # independently of the sampler: the fitted X is X's rows and columns, without repeats
        dense = X_fit.toarray() if sparse.issparse(X_fit) else X_fit
        cols = []
        for k in range(dense.shape[1]):  # the column of X whose values these are
            match = [c for c in range(X.shape[1]) if np.isin(dense[:, k], X[:, c]).all()]
            assert len(match) == 1
            cols.append(match[0])
        assert len(set(cols)) == len(cols) == rec["n_features"]
        lookup = {tuple(row): i for i, row in enumerate(X[:, cols])}
        rows = [lookup[tuple(row)] for row in dense]
        assert len(set(rows)) == len(rows) == rec["n_samples"]
        np.testing.assert_array_equal(y_fit, y[rows])
        rest = sorted(set(range(X.shape[0])) - set(rows))
        held = est.score(X[np.ix_(rest, cols)], y[rest])
        assert rec["held_out_r2"] == pytest.approx(held, rel=1e-12)
    seeds = {r["data_seed"] for r in res.records}
    assert len(seeds) == 8  # a subsample per cell and repeat


def test_random_projection_and_errors():
    X, y = _diabetes()
    res = _sweep(
        n_samples=40,
        n_features=[20],
        n_repeats=1,
        random_state=1,
        dataset=(X, y),
        dataset_params={"features": "projection"},
        estimator_params={"max_iter": 500},
    )
    est, X_fit, _ = res.refit(0)
    assert X_fit.shape == (40, 20) and res.records[0]["n_features"] == 20
    with pytest.raises(ValueError, match="n_features=20 is more than the 10 columns.*projection"):
        gap_sweep(40, 20, n_repeats=1, dataset=(X, y))
    with pytest.raises(ValueError, match="n_samples=500 is more than the 442 rows"):
        gap_sweep(500, 10, n_repeats=1, dataset=(X, y))
    with pytest.raises(ValueError, match="a pair \\(X, y\\)"):
        gap_sweep(40, 10, n_repeats=1, dataset=(X, y, y))


def test_sweep_starts_from_any_estimator():
    """``estimator=``: its parameters (not the paper's model), each cell's seed as random_state."""
    from sklearn.base import clone

    from sklearn_relubias import ShallowReLURegressor

    X, y = _diabetes()
    base = ShallowReLURegressor(
        n_neurons=3,
        init="random",
        optimizer="momentum",
        learning_rate=0.05,
        max_iter=500,
        compute_min_norm_gap=True,
        random_state=123,
    )
    res = _sweep(
        n_samples=60,
        n_features=10,
        n_repeats=2,
        random_state=2,
        dataset=(X, y),
        estimator=base,
        param_grid={"init_scale": [0.1, 1.0]},
    )
    assert len(res.records) == 4
    for i, rec in enumerate(res.records):
        est, X_fit, y_fit = res.refit(i)
        direct = clone(base).set_params(init_scale=rec["init_scale"], random_state=rec["init_seed"])
        direct.fit(X_fit, y_fit)
        assert direct.n_neurons == 3 and direct.optimizer == "momentum"
        assert direct.min_norm_gap_ == rec["min_norm_gap"] and direct.n_iter_ == rec["n_iter"]
        np.testing.assert_array_equal(direct.hidden_weights_, est.hidden_weights_)


def test_a_stored_sweep_of_arrays_resumes_and_refuses_other_arrays(tmp_path):
    X, y = _diabetes()
    store = tmp_path / "diabetes.sqlite"
    kw = dict(
        n_samples=[40, 80],
        n_features=10,
        n_repeats=2,
        random_state=5,
        estimator_params={"max_iter": 300},
    )
    first = _sweep(**kw, dataset=(X, y), store=store)
    again = _sweep(**kw, dataset=(X, y), store=store)  # every cell read back from the store

    def strip(records):  # NaN (r0 of a sample spectrum) compared as a value
        return [
            {k: "nan" if v != v else v for k, v in r.items() if k != "fit_time"} for r in records
        ]

    assert strip(again.records) == strip(first.records)
    assert again.refit(3)[0].min_norm_gap_ == first.records[3]["min_norm_gap"]
    changed = X.copy()
    changed[0, 0] += 1.0
    with pytest.raises(ValueError, match="dataset"):
        _sweep(**kw, dataset=(changed, y), store=store)
