import distributed
import numpy as np
import pytest
from _reference import gaussian_problem
from joblib import parallel_config

from sklearn_relubias import MinNormReLURegressor, ShallowReLURegressor
from sklearn_relubias.datasets import make_high_dim_regression
from sklearn_relubias.experiments import active_least_squares_weights, gap_sweep

PARAMS = dict(
    n_samples=[8, 12],
    n_features=[100, 400],
    n_repeats=2,
    estimator_params={"n_neurons": 2, "max_iter": 3000, "tol": 1e-8},
    param_grid={"learning_rate": [1.0, 0.1]},
    random_state=7,
)


def deterministic(records):
    return [{k: v for k, v in r.items() if k != "fit_time"} for r in records]


@pytest.fixture(scope="module")
def serial():
    return gap_sweep(**PARAMS, n_jobs=1)


def test_records_match_a_direct_fit(serial):
    assert len(serial.records) == 2 * 2 * 2 * 2
    rec = serial.records[5]
    seq = np.random.SeedSequence(7).spawn(8)
    cell = [(n, d, r) for n in (8, 12) for d in (100, 400) for r in range(2)].index(
        (rec["n_samples"], rec["n_features"], rec["repeat"])
    )
    data_seed, init_seed = seq[cell].generate_state(2)
    X, y = make_high_dim_regression(
        rec["n_samples"], rec["n_features"], random_state=int(data_seed)
    )
    est = ShallowReLURegressor(
        n_neurons=2,
        max_iter=3000,
        tol=1e-8,
        learning_rate=rec["learning_rate"],
        random_state=int(init_seed),
    ).fit(X, y)
    assert rec["min_norm_gap"] == pytest.approx(est.min_norm_gap_, rel=1e-12)
    assert rec["n_iter"] == est.n_iter_
    assert rec["pattern_stable_iter"] == est.pattern_stable_iter_
    W_star = MinNormReLURegressor(n_neurons=2).fit(X, y).hidden_weights_
    W_ls = active_least_squares_weights(X, est.hidden_weights_)
    assert rec["min_norm_to_active_ls"] == pytest.approx(
        np.linalg.norm(W_ls - W_star) / np.linalg.norm(W_star), rel=1e-9
    )


def test_parameter_grid_shares_data(serial):
    """Both learning rates of one cell see the same data: same min-norm reference."""
    a, b = serial.records[0], serial.records[1]
    assert (a["learning_rate"], b["learning_rate"]) == (1.0, 0.1)
    assert a["repeat"] == b["repeat"] and a["n_features"] == b["n_features"]
    assert a["final_loss"] == pytest.approx(b["final_loss"], abs=1e-6)


def test_n_jobs_and_threading_do_not_change_results(serial):
    parallel = gap_sweep(**PARAMS, n_jobs=2)
    assert deterministic(parallel.records) == deterministic(serial.records)
    with parallel_config(backend="threading"):
        threaded = gap_sweep(**PARAMS, n_jobs=2)
    assert deterministic(threaded.records) == deterministic(serial.records)


def test_dask_cluster_matches_serial_bit_for_bit(serial):
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address=None,
            processes=True,
        ) as cluster,
        distributed.Client(cluster),
    ):
        with parallel_config(backend="dask"):
            res = gap_sweep(**PARAMS, n_jobs=2)
    assert deterministic(res.records) == deterministic(serial.records)


def test_summary_quantiles(serial):
    rows = serial.summary(quantiles=(0.5,))
    assert len(rows) == 8
    row = next(
        r for r in rows if (r["n_samples"], r["n_features"], r["learning_rate"]) == (8, 400, 0.1)
    )
    gaps = [
        r["min_norm_gap"]
        for r in serial.records
        if (r["n_samples"], r["n_features"], r["learning_rate"]) == (8, 400, 0.1)
    ]
    assert row["n_fits"] == 2
    assert row["min_norm_gap_q50"] == pytest.approx(np.median(gaps))


def test_slopes_recover_a_planted_power_law():
    """Synthetic records gap = 3 n^0.5 d^-0.5 e^noise: the fit finds both exponents."""
    from sklearn_relubias.experiments import GapSweepResult

    rng = np.random.default_rng(0)
    recs = [
        {
            "n_samples": n,
            "n_features": d,
            "learning_rate": 0.1,
            "min_norm_gap": 3 * np.sqrt(n / d) * np.exp(0.05 * rng.standard_normal()),
        }
        for n in (10, 20, 40)
        for d in (100, 1000, 10000)
        for _ in range(4)
    ]
    slopes = {s["variable"]: s for s in GapSweepResult(recs, ["learning_rate"], 0).slopes()}
    for var, true in (("n_features", -0.5), ("n_samples", 0.5)):
        s = slopes[var]
        assert s["ci_low"] < true < s["ci_high"]
        assert s["ci_high"] - s["ci_low"] < 0.1


def test_select(serial):
    sub = serial.select(n_samples=12, learning_rate=0.1)
    assert len(sub.records) == 4
    assert all(r["n_samples"] == 12 and r["learning_rate"] == 0.1 for r in sub.records)
    assert sub.swept == serial.swept and sub.entropy == serial.entropy


def test_to_frame_and_csv(serial, tmp_path):
    frame = serial.to_frame()
    assert list(frame.columns) == list(serial.records[0])
    assert len(frame) == len(serial.records)
    path = tmp_path / "sweep.csv"
    serial.to_csv(path)
    import pandas as pd

    back = pd.read_csv(path)
    np.testing.assert_allclose(back["min_norm_gap"], frame["min_norm_gap"], rtol=1e-15)


def test_active_least_squares_reference():
    X, y = gaussian_problem(10, 60, seed=3)
    W = np.random.default_rng(1).standard_normal((3, 60))
    W_ls = active_least_squares_weights(X, W)
    for j in range(3):
        A = X @ W[j] > 0
        np.testing.assert_allclose(X[A] @ W_ls[j], X[A] @ W[j], atol=1e-10)
        # minimum norm: W_ls lies in the span of the active examples
        coef, *_ = np.linalg.lstsq(X[A].T, W_ls[j], rcond=None)
        np.testing.assert_allclose(X[A].T @ coef, W_ls[j], atol=1e-10)


def test_verbose_progress_bar(capsys):
    gap_sweep(6, 50, n_repeats=2, random_state=0, verbose=1)
    assert "gap_sweep" in capsys.readouterr().err


def test_bad_arguments():
    with pytest.raises(ValueError, match="n_repeats"):
        gap_sweep(5, 10, n_repeats=0)
    with pytest.raises(ValueError, match="dataset"):
        gap_sweep(5, 10, dataset="mnist")


def test_excess_loss_flags_runs_that_stop_above_the_global_minimum():
    from sklearn_relubias.datasets import make_adversarial_regression

    stuck = gap_sweep(
        4,
        2,
        n_repeats=3,
        dataset=make_adversarial_regression,
        random_state=0,
        estimator_params={"n_neurons": 1},
    )
    assert all(r["excess_loss"] > 0.1 for r in stuck.records)
    easy = gap_sweep(
        10,
        5000,
        n_repeats=3,
        random_state=0,
        dataset_params={"labels": "rademacher"},
        estimator_params={"n_neurons": 1, "tol": 1e-12},
    )
    assert all(abs(r["excess_loss"]) < 1e-10 for r in easy.records)
