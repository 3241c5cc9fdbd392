import distributed
import numpy as np
import pytest
from _reference import gaussian_problem, paper_estimator
from joblib import parallel_config
from joblib._parallel_backends import MultiprocessingBackend

from sklearn_relubias import MinNormReLURegressor
from sklearn_relubias._metrics import label_sign_least_squares_weights, min_norm_reference
from sklearn_relubias.datasets import (
    make_high_dim_regression,
    make_orthogonal_regression,
    make_stalled_regression,
)
from sklearn_relubias.experiments import GapSweepResult, active_least_squares_weights, gap_sweep

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
    return paper_estimator(
        n_neurons=2,
        max_iter=3000,
        tol=1e-8,
        learning_rate=rec["learning_rate"],
        random_state=init_seed,
    ).fit(X, y)


def label_sign_oracle(X, y, a):
    """W_ls from its definition, with numpy's pseudo-inverse: per sign group, u = X_F^+ (s y_F)."""
    W = np.zeros((a.size, X.shape[1]))
    for sign in (1.0, -1.0):
        group = sign * a > 0
        rows = sign * y > 0
        if group.any() and rows.any():
            u = np.linalg.pinv(X[rows]) @ (sign * y[rows])
            W[group] = np.outer(np.abs(a[group]) / np.sum(a[group] ** 2), u)
    return W


@pytest.mark.filterwarnings("ignore::sklearn_relubias.exceptions.StrandedExampleWarning")
@pytest.mark.parametrize("stuck", [False, True])
def test_records_match_a_direct_fit(serial, stuck):
    """A fit that reached the global minimum, and one that got stuck.

    On a stuck fit GD's final active set misses a stranded example, so the
    label-sign reference and the final-active-set one differ: the record must
    use the former for ``active_ls_*`` / ``min_norm_to_active_ls*``.
    """
    assert len(serial.records) == 2 * 2 * 2 * 2
    rec = next(r for r in serial.records if r["stuck"] == stuck)
    X, y, init_seed = cell_data(rec)
    est = direct_fit(rec, X, y, init_seed)
    assert rec["min_norm_gap"] == pytest.approx(est.min_norm_gap_, rel=1e-12)
    assert rec["n_iter"] == est.n_iter_
    assert rec["pattern_stable_iter"] == est.pattern_stable_iter_
    W = est.hidden_weights_
    W_star = MinNormReLURegressor(n_neurons=2).fit(X, y).hidden_weights_
    W_ls = label_sign_oracle(X, y, est.output_weights_)
    norm = np.linalg.norm
    assert rec["min_norm_distance"] == pytest.approx(norm(W - W_star), rel=1e-9)
    assert rec["min_norm_norm"] == pytest.approx(norm(W_star), rel=1e-9)
    assert rec["active_ls_gap"] == pytest.approx(norm(W - W_ls) / norm(W_ls), rel=1e-9)
    assert rec["active_ls_distance"] == pytest.approx(norm(W - W_ls), rel=1e-9)
    assert rec["min_norm_to_active_ls"] == pytest.approx(
        norm(W_ls - W_star) / norm(W_star), rel=1e-6
    )
    assert rec["min_norm_to_active_ls_distance"] == pytest.approx(norm(W_ls - W_star), rel=1e-6)
    W_gd_ls = active_least_squares_weights(X, W)
    if stuck:  # the two references really differ here
        assert norm(W_gd_ls - W_ls) > 1e-3 * norm(W_ls)
    assert rec["final_active_ls_gap"] == pytest.approx(norm(W - W_gd_ls) / norm(W_gd_ls), rel=1e-9)
    # isotropic N(0, I_d) inputs: lambda = (1, ..., 1), so trace = R = r0 = d
    d = rec["n_features"]
    assert (rec["trace"], rec["effective_rank"], rec["r0"]) == (d, d, d)
    assert rec["spectrum_source"] == "generator"


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # stalled fits
def test_stuck_flags_the_runs_with_a_stranded_example(serial):
    # make_stalled_regression: the first step leaves the only positive example inactive
    # for the single neuron, for good (see test_excess_loss_flags_...)
    stuck = gap_sweep(4, 2, n_repeats=2, random_state=0, dataset=make_stalled_regression)
    assert [(r["n_stranded"], r["stuck"]) for r in stuck.records] == [(1, True), (1, True)]
    flags = [(r["stuck"], r["n_stranded"] > 0) for r in serial.records]
    assert all(a == b for a, b in flags) and {a for a, _ in flags} == {True, False}


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
    from sklearn_relubias.datasets import make_stalled_regression

    stuck = gap_sweep(
        4,
        2,
        n_repeats=3,
        dataset=make_stalled_regression,
        random_state=0,
        estimator_params={"n_neurons": 1},
    )
    # make_stalled_regression: y = (1, -1, -1, -1), the first step kills the single
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


@pytest.mark.parametrize("sparse_input", [False, True])
@pytest.mark.parametrize(("n", "d"), [(12, 60), (40, 8)])  # dual path, primal path (n >= d)
def test_label_sign_least_squares_reference(n, d, sparse_input):
    from scipy import sparse

    X, y = gaussian_problem(n, d, seed=5)
    a = np.array([1.0, -2.0, 0.5, 3.0])  # groups {0, 2, 3} (sum a^2 = 10.25) and {1}
    expected = label_sign_oracle(X, y, a)
    Xin = sparse.csr_matrix(X) if sparse_input else X
    W_ls = label_sign_least_squares_weights(Xin, y, a)
    np.testing.assert_allclose(W_ls, expected, rtol=1e-8, atol=1e-10 * np.abs(expected).max())
    if n < d:  # a given Gram matrix gives the same; the group fits its labels exactly
        W_K = label_sign_least_squares_weights(X, y, a, gram_matrix=X @ X.T)
        np.testing.assert_allclose(W_K, expected, rtol=1e-8, atol=1e-12)
        pos = y > 0
        np.testing.assert_allclose(X[pos] @ (a[[0, 2, 3]] @ W_ls[[0, 2, 3]]), y[pos], atol=1e-10)
        np.testing.assert_allclose(X[~pos] @ (a[1] * W_ls[1]), y[~pos], atol=1e-10)


def test_label_sign_reference_is_the_min_norm_solution_on_orthogonal_inputs():
    """On orthogonal inputs u = sum_{i in F} y_i x_i / d has <u, x_k> = 0 off F: feasible, so W*."""
    X, y = make_orthogonal_regression(10, 40, random_state=0)
    a = np.array([1.0, -1.0, 2.0])
    W_star = min_norm_reference(X, y, a).weights
    W_ls = label_sign_least_squares_weights(X, y, a)
    np.testing.assert_allclose(W_ls, W_star, atol=1e-12)
    assert np.abs(W_star).max() > 0.01


def test_spectrum_columns_come_from_the_generator_or_the_sample():
    d = 300
    res = gap_sweep(
        6,
        d,
        n_repeats=1,
        random_state=0,
        dataset_params={"spectrum": "power_law", "exponent": 1.0},
        estimator_params={"n_neurons": 1},
    )
    (rec,) = res.records
    # lambda_k = c / k with c = d / H_d, H_d = sum_k 1/k: trace d, R = d^2 / sum lambda^2,
    # r0 = d / lambda_1 = H_d
    k = np.arange(1, d + 1)
    H = np.sum(1.0 / k)
    assert rec["spectrum_source"] == "generator"
    assert rec["trace"] == pytest.approx(d, rel=1e-12)
    assert rec["effective_rank"] == pytest.approx(H**2 / np.sum(1.0 / k**2), rel=1e-12)
    assert rec["r0"] == pytest.approx(H, rel=1e-12)

    rng = np.random.default_rng(0)
    X_fixed = rng.standard_normal((5, 50)) * np.linspace(0.5, 2.0, 50)
    y_fixed = rng.standard_normal(5)

    def fixed(n_samples, n_features, random_state=None):  # no return_params: no spectrum
        return X_fixed, y_fixed

    (rec,) = gap_sweep(5, 50, n_repeats=1, random_state=0, dataset=fixed).records
    sq = np.sum(X_fixed**2, axis=1)
    pairs = [(i, k) for i in range(5) for k in range(5) if i != k]
    trace_sq = sum(sq[i] * sq[k] for i, k in pairs)  # unbiased for (tr Sigma)^2 * n (n - 1)
    frob_sq = sum((X_fixed[i] @ X_fixed[k]) ** 2 for i, k in pairs)  # tr Sigma^2 * n (n - 1)
    assert rec["spectrum_source"] == "sample"
    assert rec["trace"] == pytest.approx(np.mean(sq), rel=1e-12)
    assert rec["effective_rank"] == pytest.approx(trace_sq / frob_sq, rel=1e-10)
    assert np.isnan(rec["r0"])


def planted_records(exponents, scale, stuck, seed):
    """metric = scale * trace^e_t * R^e_R * exp(noise), noise orthogonal to the log design."""
    cells = [
        (t, r) for t in (100.0, 1000.0, 10000.0) for r in (10.0, 50.0, 250.0) for _ in range(3)
    ]
    design = np.array([[1.0, np.log(t), np.log(r)] for t, r in cells])
    z = np.random.default_rng(seed).standard_normal(len(cells))
    noise = 0.1 * (z - design @ np.linalg.lstsq(design, z, rcond=None)[0])
    recs = [
        {
            "n_samples": 10,
            "n_features": 20000,
            "learning_rate": 0.1,
            "trace": t,
            "effective_rank": r,
            "stuck": stuck,
            "gap": scale * t ** exponents[0] * r ** exponents[1] * np.exp(e),
        }
        for (t, r), e in zip(cells, noise, strict=True)
    ]
    return recs, design, noise


def test_slopes_on_any_columns_and_the_stuck_split():
    """Two planted laws, one for the non-stuck and one for the stuck records.

    With noise orthogonal to the design, least squares returns the planted
    exponents exactly; the full factorial with equal replication makes the
    centred log columns orthogonal, so each slope's 95% half-width is
    ``t(0.975, dof) sqrt(||e||^2 / dof / S)``, ``S`` the column's sum of
    squared deviations (as in the test above).
    """
    from scipy import stats

    ok, design, noise = planted_records((-0.5, 0.25), 3.0, False, seed=1)
    bad, _, _ = planted_records((1.0, -1.0), 2.0, True, seed=2)
    res = GapSweepResult(ok + bad, ["learning_rate"], 0)
    dof = len(ok) - 3
    for stuck, truth in ((False, (-0.5, 0.25)), (True, (1.0, -1.0))):
        rows = res.slopes("gap", variables=("trace", "effective_rank"), stuck=stuck)
        assert [r["variable"] for r in rows] == ["trace", "effective_rank"]
        assert all(r["n_fits"] == len(ok) and r["learning_rate"] == 0.1 for r in rows)
        for row, true in zip(rows, truth, strict=True):
            assert row["slope"] == pytest.approx(true, abs=1e-12)
    rows = res.slopes("gap", variables=("trace", "effective_rank"), stuck=False)
    for row, col in zip(rows, (1, 2), strict=True):
        S = np.sum((design[:, col] - design[:, col].mean()) ** 2)
        half = stats.t.ppf(0.975, dof) * np.sqrt(np.sum(noise**2) / dof / S)
        assert row["ci_high"] - row["slope"] == pytest.approx(half, rel=1e-9)
        assert row["slope"] - row["ci_low"] == pytest.approx(half, rel=1e-9)
    mixed = res.slopes("gap", variables=("trace", "effective_rank"))
    assert all(r["n_fits"] == 2 * len(ok) for r in mixed)
    # n_samples and n_features take one value: the default call has nothing to fit
    assert res.slopes("gap") == []
    # a swept parameter as the variable: groups over the other swept parameters (none here)
    by_lr = GapSweepResult(
        [{**r, "learning_rate": lr, "gap": 0.7 * lr} for r in ok[:4] for lr in (1.0, 0.1, 0.01)],
        ["learning_rate"],
        0,
    ).slopes("gap", variables="learning_rate")
    assert len(by_lr) == 1 and "learning_rate" not in by_lr[0]
    assert by_lr[0]["slope"] == pytest.approx(1.0, abs=1e-12)
    with pytest.raises(ValueError, match="collinear"):
        GapSweepResult([{**r, "n_features": r["trace"]} for r in ok], ["learning_rate"], 0).slopes(
            "gap", variables=("trace", "n_features")
        )


def test_slopes_floor_drops_values_at_rounding_level():
    """A distance that is 0 up to rounding must not decide a log-log slope."""
    rng = np.random.default_rng(0)
    d = np.repeat([100.0, 400.0, 1600.0, 6400.0], 10)
    records = [
        {"n_samples": 10, "n_features": v, "stuck": False, "dist": 2 * v**-0.5 * m}
        for v, m in zip(d, np.exp(0.05 * rng.standard_normal(d.size)), strict=True)
    ]
    records[3]["dist"] = records[17]["dist"] = 1e-17  # W_ls == W* to rounding
    result = GapSweepResult(records, swept=[], entropy=0)
    (kept,) = result.slopes("dist", variables="n_features", floor=1e-12)
    assert kept["slope"] == pytest.approx(-0.5, abs=0.03) and kept["n_fits"] == 38
    (raw,) = result.slopes("dist", variables="n_features")
    assert abs(raw["slope"] + 0.5) > 0.1


def test_quiet_sweep_workers_do_not_silence_other_threads():
    """gap_sweep silences StrandedExampleWarning per thread (a context variable).

    warnings.catch_warnings is process-wide: with the threading backend one
    worker's exit restored the filters under another's fit, and a quiet
    worker silenced fits in other threads. Here a quiet thread holds its
    setting (and is silenced itself) while the main thread fits a problem
    that strands an example.
    """
    import threading
    import warnings

    from sklearn_relubias.datasets import make_stalled_regression
    from sklearn_relubias.exceptions import StrandedExampleWarning, quiet

    quiet_set, main_done = threading.Event(), threading.Event()
    X, y = make_stalled_regression(random_state=0)
    seen_in_worker = []

    def quiet_worker():
        with quiet(StrandedExampleWarning):
            quiet_set.set()
            main_done.wait(timeout=60)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                paper_estimator(n_neurons=1).fit(X, y)
            seen_in_worker.extend(w.category for w in caught)

    worker = threading.Thread(target=quiet_worker)
    worker.start()
    quiet_set.wait(timeout=60)
    try:
        with pytest.warns(StrandedExampleWarning):
            paper_estimator(n_neurons=1).fit(X, y)
    finally:
        main_done.set()
        worker.join()
    assert StrandedExampleWarning not in seen_in_worker


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_samples": [2.7]}, "n_samples must hold positive integers; got 2.7"),
        ({"n_samples": [10, 2.0]}, "n_samples must hold positive integers; got 2.0"),
        ({"n_features": [True]}, "n_features must hold positive integers"),
        ({"n_features": [0, 10]}, "n_features must hold positive integers; got 0"),
        ({"n_samples": []}, "n_samples is empty"),
        ({"n_features": [100, 100]}, "n_features holds a size twice"),
        ({"n_samples": [[5, 6]]}, "n_samples must be an integer or a 1-d sequence"),
        ({"n_repeats": -1}, "n_repeats"),
        ({"param_grid": {"n_samples": [5]}}, "cannot sweep 'n_samples'"),
        ({"param_grid": {"learning_rate": 0.1}}, r"param_grid\['learning_rate'\] must be a list"),
    ],
)
def test_sizes_and_grid_are_validated(kwargs, match):
    """Nothing is rounded or silently dropped: 2.7 examples was fitted as 2."""
    args = {"n_samples": 5, "n_features": 10, "n_repeats": 1, "random_state": 0, **kwargs}
    with pytest.raises(ValueError, match=match):
        gap_sweep(**args)


def test_records_hold_the_fitted_shape_and_the_requested_one():
    from _sweep_helpers import one_row_short

    res = gap_sweep([6, 8], 40, n_repeats=1, random_state=0, dataset=one_row_short)
    assert [(r["n_samples"], r["requested_n_samples"]) for r in res.records] == [(5, 6), (7, 8)]
    assert {(r["n_features"], r["requested_n_features"]) for r in res.records} == {(40, 40)}
    # a numpy array of sizes is a list of sizes; the values are Python ints
    (rec,) = gap_sweep(np.array([6]), np.array([40]), n_repeats=1, random_state=0).records
    assert type(rec["n_samples"]) is int and type(rec["requested_n_features"]) is int


def test_n_jobs_is_capped_to_the_cells_and_the_cpus(monkeypatch, capsys):
    from _sweep_helpers import spy_parallel
    from joblib import cpu_count

    from sklearn_relubias.experiments import _gap_sweep

    n_cpus = cpu_count()
    why = f"CPUs: {n_cpus}" if n_cpus < 45 else "cells to compute: 45"
    assert _gap_sweep._effective_n_jobs(1000, 45) == (
        min(n_cpus, 45),
        f"gap_sweep: n_jobs=1000 capped to {min(n_cpus, 45)} workers ({why}).",
    )
    assert _gap_sweep._effective_n_jobs(-1, 45)[0] == min(n_cpus, 45)
    assert _gap_sweep._effective_n_jobs(-1, 1) == (
        1,
        None if n_cpus == 1 else "gap_sweep: n_jobs=-1 capped to 1 workers (cells to compute: 1).",
    )
    assert _gap_sweep._effective_n_jobs(None, 10) == (1, None)
    assert _gap_sweep._effective_n_jobs(-n_cpus - 5, 10) == (1, None)  # joblib: at least one
    with parallel_config(n_jobs=-1):
        assert _gap_sweep._effective_n_jobs(None, 10)[0] == min(n_cpus, 10)
    with pytest.raises(ValueError, match="n_jobs == 0"):
        _gap_sweep._effective_n_jobs(0, 10)

    seen = spy_parallel(monkeypatch)
    gap_sweep(6, [40, 80], n_repeats=1, random_state=0, n_jobs=1000, verbose=1)
    assert seen == [min(2, n_cpus)]
    assert "n_jobs=1000 capped to" in capsys.readouterr().err


class FakeRayBackend(MultiprocessingBackend):
    """Ray's joblib backend derives from this one and, like it, cannot return generators."""


def test_a_backend_without_generators_runs_the_sweep(serial, tmp_path):
    """Ray's backend (as joblib's multiprocessing one) failed: "does not support return_as"."""
    from joblib import register_parallel_backend

    register_parallel_backend("fake_ray", FakeRayBackend)
    for backend in ("multiprocessing", "fake_ray"):
        with parallel_config(backend=backend):
            res = gap_sweep(**PARAMS, n_jobs=2, store=tmp_path / f"{backend}.sqlite")
        assert deterministic(res.records) == deterministic(serial.records)


def test_to_csv_never_leaves_a_truncated_file_or_writes_through_a_symlink(
    serial, tmp_path, monkeypatch
):
    import csv
    import errno

    path = tmp_path / "sweep.csv"
    precious = tmp_path / "precious.txt"
    precious.write_text("a user's file")
    path.symlink_to(precious)
    serial.to_csv(path)  # replaces the link, leaves its target alone
    assert precious.read_text() == "a user's file" and not path.is_symlink()
    written = path.read_bytes()
    assert len(list(csv.DictReader(open(path)))) == len(serial.records)

    def disk_full(self, rows):  # one row reaches the file, then the disk is full
        self.writerow(rows[0])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(csv.DictWriter, "writerows", disk_full)
    with pytest.raises(OSError, match="No space left"):
        serial.select(n_samples=8).to_csv(path)
    assert path.read_bytes() == written  # the previous file, whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["precious.txt", "sweep.csv"]
