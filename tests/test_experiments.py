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


def cell_data(rec):
    """Regenerate a record's data and init seed: one SeedSequence(7) child per cell, in order."""
    seq = np.random.SeedSequence(7).spawn(8)
    cell = [(n, d, r) for n in (8, 12) for d in (100, 400) for r in range(2)].index(
        (rec["n_samples"], rec["n_features"], rec["repeat"])
    )
    data_seed, init_seed = seq[cell].generate_state(2)
    X, y = make_high_dim_regression(
        rec["n_samples"], rec["n_features"], random_state=int(data_seed)
    )
    return X, y, int(init_seed)


def direct_fit(rec, X, y, init_seed):
    return ShallowReLURegressor(
        n_neurons=2,
        max_iter=3000,
        tol=1e-8,
        learning_rate=rec["learning_rate"],
        random_state=init_seed,
    ).fit(X, y)


def test_records_match_a_direct_fit(serial):
    assert len(serial.records) == 2 * 2 * 2 * 2
    rec = serial.records[5]
    X, y, init_seed = cell_data(rec)
    est = direct_fit(rec, X, y, init_seed)
    assert rec["min_norm_gap"] == pytest.approx(est.min_norm_gap_, rel=1e-12)
    assert rec["n_iter"] == est.n_iter_
    assert rec["pattern_stable_iter"] == est.pattern_stable_iter_
    W_star = MinNormReLURegressor(n_neurons=2).fit(X, y).hidden_weights_
    W_ls = active_least_squares_weights(X, est.hidden_weights_)
    assert rec["min_norm_to_active_ls"] == pytest.approx(
        np.linalg.norm(W_ls - W_star) / np.linalg.norm(W_star), rel=1e-9
    )


@pytest.mark.filterwarnings(
    "ignore::sklearn_relubias.exceptions.StrandedExampleWarning"
)  # the direct fits
def test_parameter_grid_shares_data(serial):
    """Both learning rates of every cell are fitted on that cell's own data.

    Each record must equal, bit for bit, a direct fit on the data regenerated
    from its cell's seed (fits are bitwise reproducible); a grid point fitted
    on any other data set would change ``final_loss`` in its leading digits.
    """
    cells = {}
    for rec in serial.records:
        cells.setdefault((rec["n_samples"], rec["n_features"], rec["repeat"]), []).append(rec)
    assert len(cells) == 8
    for recs in cells.values():
        assert [r["learning_rate"] for r in recs] == [1.0, 0.1]
        X, y, init_seed = cell_data(recs[0])
        for rec in recs:
            est = direct_fit(rec, X, y, init_seed)
            assert rec["final_loss"] == float(est.loss_curve_[-1]), rec
            assert rec["n_iter"] == est.n_iter_, rec


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
    """Records gap = 3 n^0.5 d^-0.5 e^noise, noise orthogonal to the design: exact answer.

    With noise ``e`` orthogonal to the columns (1, log d, log n), least squares
    returns the planted exponents exactly and the residual sum of squares is
    ``||e||^2``. The design is a full factorial with equal replication, so its
    centred columns are orthogonal: the standard error of a slope is
    ``sqrt(||e||^2 / dof / S)`` with ``S`` the sum of squared deviations of that
    log-size, and the 95% interval is the slope +/- ``t(0.975, dof)`` times it.
    """
    from scipy import stats

    from sklearn_relubias.experiments import GapSweepResult

    sizes = [(n, d) for n in (10, 20, 40) for d in (100, 1000, 10000) for _ in range(4)]
    design = np.array([[1.0, np.log(n), np.log(d)] for n, d in sizes])
    z = np.random.default_rng(0).standard_normal(len(sizes))
    noise = 0.05 * (z - design @ np.linalg.lstsq(design, z, rcond=None)[0])
    recs = [
        {
            "n_samples": n,
            "n_features": d,
            "learning_rate": 0.1,
            "min_norm_gap": 3 * np.sqrt(n / d) * np.exp(e),
        }
        for (n, d), e in zip(sizes, noise, strict=True)
    ]
    slopes = {s["variable"]: s for s in GapSweepResult(recs, ["learning_rate"], 0).slopes()}
    dof = len(sizes) - 3
    for var, col, true in (("n_samples", 1, 0.5), ("n_features", 2, -0.5)):
        s = slopes[var]
        S = np.sum((design[:, col] - design[:, col].mean()) ** 2)
        half = stats.t.ppf(0.975, dof) * np.sqrt(np.sum(noise**2) / dof / S)
        assert s["n_fits"] == len(sizes)
        assert s["slope"] == pytest.approx(true, abs=1e-12)
        assert s["ci_low"] == pytest.approx(true - half, rel=1e-9)
        assert s["ci_high"] == pytest.approx(true + half, rel=1e-9)


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
    # make_adversarial_regression: y = (1, -1, -1, -1), the first step kills the single
    # neuron (f = 0, loss 4 / 8) while W* fits y = 1 and leaves the three -1 at f = 0
    # (loss 3 / 8): the excess is exactly 1 / (2 n) = 1/8, up to the rounding of W*.
    assert [r["excess_loss"] for r in stuck.records] == pytest.approx([1 / 8] * 3, abs=1e-12)
    easy = gap_sweep(
        10,
        5000,
        n_repeats=3,
        random_state=0,
        dataset_params={"labels": "rademacher"},
        estimator_params={"n_neurons": 1, "tol": 1e-12},
    )
    # d = 5000 >> n = 10: the first step gives each example the sign of its own label
    # (cross terms are sqrt(n / d) ~ 0.05 of the diagonal), so the neuron fits the +1 labels
    # and is inactive on the -1, exactly like W*. With the pattern fixed,
    # excess = ||r_A||^2 / (2 n) <= n ||g||^2 / (2 lambda_min(K_AA)) and
    # ||g_0||^2 <= lambda_max(K) ||y||^2 / n^2 = lambda_max(K) / n, so stopping at
    # ||g|| <= tol ||g_0|| leaves excess <= tol^2 cond(K) / 2 ~ 1e-24 (cond(K) ~ 1.2).
    # What remains is the rounding of two losses of order 1/2: a few eps.
    assert max(abs(r["excess_loss"]) for r in easy.records) < 1e-14
