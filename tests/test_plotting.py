import warnings

import _reference as ref
import numpy as np
import pytest
from _reference import gaussian_problem
from sklearn.exceptions import ConvergenceWarning

from sklearn_relubias import ShallowReLURegressor
from sklearn_relubias.experiments import gap_sweep
from sklearn_relubias.plotting import GapDisplay, PatternTimelineDisplay


@pytest.fixture(scope="module")
def sweep():
    return gap_sweep(
        [8, 16],
        [100, 400, 1600],
        n_repeats=3,
        random_state=0,
        estimator_params={"n_neurons": 1, "max_iter": 5000},
        param_grid={"learning_rate": [0.5]},
    )


def test_gap_display_against_dimension(pyplot, sweep):
    disp = GapDisplay.from_result(sweep, x="n_features")
    assert disp.ax_.get_xscale() == "log" and disp.figure_ is disp.ax_.figure
    assert len(disp.lines_) == 2  # one per n
    for line in disp.lines_:
        n = int(line.get_label().split("n_samples=")[1].split(" ")[0])
        xs, ys = line.get_data()
        np.testing.assert_array_equal(xs, [100, 400, 1600])
        for d, med in zip(xs, ys, strict=True):
            gaps = [
                r["min_norm_gap"]
                for r in sweep.records
                if r["n_samples"] == n and r["n_features"] == d
            ]
            assert med == pytest.approx(np.median(gaps))
        assert "slope" in line.get_label()
    refs = sorted(tuple(r.get_ydata()) for r in disp.reference_lines_)
    expected = sorted(tuple(np.sqrt(n / np.array([100, 400, 1600]))) for n in (8, 16))
    np.testing.assert_allclose(refs, expected)


def test_gap_display_against_samples_and_other_metric(pyplot, sweep):
    disp = GapDisplay.from_result(sweep, x="n_samples", metric="min_norm_to_active_ls")
    assert len(disp.lines_) == 3  # one per d
    assert disp.ax_.get_ylabel() == "||W_ls - W*|| / ||W*||"


def test_gap_display_bad_axis(pyplot, sweep):
    with pytest.raises(ValueError, match="not a key"):
        GapDisplay.from_result(sweep, x="init_scale")


def test_gap_display_plot_on_given_axes(pyplot, sweep):
    fig, ax = pyplot.subplots()
    disp = GapDisplay.from_result(sweep, ax=ax)
    assert disp.ax_ is ax
    disp.plot(ax=ax, linewidth=3)
    assert disp.lines_[0].get_linewidth() == 3


def test_pattern_timeline_rebuilds_the_history(pyplot):
    X, y = gaussian_problem(12, 60, seed=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = ShallowReLURegressor(
            n_neurons=2,
            init="random",
            init_scale=1.0,
            random_state=0,
            learning_rate=1.0,
            max_iter=80,
            tol=0,
            record_pattern=True,
        ).fit(X, y)
    a = est.output_weights_
    Ws, _ = ref.gd(X, y, a, est.init_hidden_weights_, ref.step_size(X, a, 1.0), 80)
    pats = ref.patterns(X, Ws)  # (T+1, n, m)
    disp = PatternTimelineDisplay.from_estimator(est)
    assert len(disp.bars_) == 24
    for row, spans in enumerate(disp.intervals):
        j, i = divmod(row, 12)
        covered = np.zeros(81, dtype=bool)
        for start, length in spans:
            covered[start : start + length] = True
        np.testing.assert_array_equal(covered, pats[:, i, j])
    assert disp.stable_line_.get_xdata()[0] == est.pattern_stable_iter_


def test_pattern_timeline_needs_a_recorded_fit(pyplot):
    X, y = gaussian_problem(5, 20)
    with pytest.raises(ValueError, match="record_pattern=True"):
        PatternTimelineDisplay.from_estimator(ShallowReLURegressor().fit(X, y))
