import warnings

import _reference as ref
import numpy as np
import pytest
from _reference import gaussian_problem, paper_estimator
from sklearn.exceptions import ConvergenceWarning

from sklearn_relubias.experiments import GapSweepResult, gap_sweep
from sklearn_relubias.experiments._gap_sweep import METRICS
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
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        by_init = gap_sweep(
            [8],
            [100, 400],
            n_repeats=1,
            random_state=0,
            estimator_params={"n_neurons": 2, "max_iter": 2000},
            param_grid={"init": ["zero", "random"]},
        )
    with pytest.raises(ValueError, match="x='init' is categorical.*numeric sweep key"):
        GapDisplay.from_result(by_init, x="init")
    assert len(GapDisplay.from_result(by_init, x="n_features").lines_) == 2  # one per init
    with pytest.raises(ValueError, match="metric='bogus' is not a record key; choose one of"):
        GapDisplay.from_result(sweep, metric="bogus")


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
        est = paper_estimator(
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
        PatternTimelineDisplay.from_estimator(paper_estimator().fit(X, y))


def records_for_display(same):
    """Two learning rates whose metric is identical (``same``) or differs by a factor 2."""
    recs = []
    for d in (100, 400, 1600):
        for r in range(3):
            base = (1 + 0.1 * r) * np.sqrt(8 / d)
            for lr in (1.0, 0.1):
                value = base if same or lr == 1.0 else 2 * base
                recs.append(
                    {
                        "n_samples": 8,
                        "n_features": d,
                        "repeat": r,
                        "learning_rate": lr,
                        **{m: value for m in METRICS},
                        "stuck": False,
                    }
                )
    return GapSweepResult(recs, ["learning_rate"], 0)


def test_gap_display_draws_identical_curves_once(pyplot):
    disp = GapDisplay.from_result(records_for_display(same=True), metric="min_norm_to_active_ls")
    assert len(disp.lines_) == len(disp.bands_) == 1
    assert disp.lines_[0].get_label().startswith("learning_rate=0.1, learning_rate=1.0 (identical)")
    disp = GapDisplay.from_result(records_for_display(same=False), metric="min_norm_to_active_ls")
    assert len(disp.lines_) == 2


def test_gap_display_legend_outside_names_band_and_reference(pyplot, sweep):
    disp = GapDisplay.from_result(sweep, legend="below")
    labels = [t.get_text() for t in disp.legend_.get_texts()]
    assert "sqrt(n/d) (slope -1/2)" in labels
    assert "10%-90% quantiles over repeats" in labels
    disp.figure_.canvas.draw()
    renderer = disp.figure_.canvas.get_renderer()
    legend_box = disp.legend_.get_window_extent(renderer)
    # entirely below the axes, their tick labels and the axis label
    assert legend_box.y1 < disp.ax_.xaxis.label.get_window_extent(renderer).y0
    assert legend_box.y1 < disp.ax_.get_window_extent(renderer).y0
    assert [t.get_text() for t in disp.ax_.get_xticklabels()] == ["100", "400", "1600"]
    # y labels in plain numbers at 1-2-5 / 1-3 steps, more than one in the visible range
    low, high = disp.ax_.get_ylim()
    shown = [t for t in disp.ax_.get_yticklabels() if low <= t.get_position()[1] <= high]
    assert len(shown) >= 2 and all(float(t.get_text()) > 0 for t in shown)
    with pytest.raises(ValueError, match="legend"):
        disp.plot(legend="top")


def test_gap_display_orders_curves_by_key_whatever_the_record_order(pyplot):
    res = records_for_display(same=False)  # learning_rate=1.0 comes first in the records
    for recs in (res.records, res.records[::-1]):
        shuffled = GapSweepResult(recs, res.swept, 0)
        labels = [ln.get_label() for ln in GapDisplay.from_result(shuffled).lines_]
        assert [lab.split(" ")[0] for lab in labels] == ["learning_rate=0.1", "learning_rate=1.0"]
