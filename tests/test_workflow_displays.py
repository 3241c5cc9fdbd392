"""Displays of searches and comparisons: GapDisplay.from_cv_results, SolutionComparisonDisplay."""

import warnings

import numpy as np
import pytest
from matplotlib.colors import to_rgba
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_relubias import MinNormReLURegressor, ShallowReLURegressor
from sklearn_relubias.experiments import compare_solutions
from sklearn_relubias.metrics import GAP_SCORERS
from sklearn_relubias.plotting import GapDisplay, SolutionComparisonDisplay

from ._reference import gaussian_problem

STEP = "shallowreluregressor"


@pytest.fixture(scope="module")
def search():
    X, y = gaussian_problem(30, 60, seed=31)
    pipe = make_pipeline(
        StandardScaler(), ShallowReLURegressor(n_neurons=4, max_iter=2000, random_state=0)
    )
    grid = [
        {f"{STEP}__learning_rate": [0.1, 0.5], f"{STEP}__init": ["zero", "random"]},
        {STEP: [MinNormReLURegressor(n_neurons=4)]},
    ]
    search = GridSearchCV(pipe, grid, scoring={"r2": "r2", **GAP_SCORERS}, refit="r2", cv=KFold(3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return search.fit(X, y)


def _rows(search, **params):
    """Candidates whose parameters are ``params`` (full names)."""
    return [
        i
        for i, p in enumerate(search.cv_results_["params"])
        if all(p.get(k) == v for k, v in params.items())
    ]


def test_numeric_axis_one_curve_per_hue(pyplot, search):
    disp = GapDisplay.from_cv_results(
        search, x="learning_rate", hue="init", metric="neg_min_norm_gap", data="Gaussian 30 x 60"
    )
    res = search.cv_results_
    stepped = [line for line in disp.lines_ if line.get_linestyle() != ":"]
    assert len(stepped) == 2 and disp.ax_.get_xscale() == "log"
    shifts = []
    for line in stepped:
        init = line.get_label().split("init=")[1]
        rows = sorted(
            _rows(search, **{f"{STEP}__init": init}),
            key=lambda i: res["params"][i][f"{STEP}__learning_rate"],
        )
        lrs = np.array([res["params"][i][f"{STEP}__learning_rate"] for i in rows])
        xs, ys = line.get_data()
        np.testing.assert_allclose(ys, -res["mean_test_neg_min_norm_gap"][rows])  # the gap itself
        shifts.append(xs / lrs - 1.0)
        assert np.ptp(shifts[-1]) < 1e-12  # one relative shift per curve
    assert abs(shifts[0][0] - shifts[1][0]) == pytest.approx(0.03)  # spread apart
    # the MinNorm candidate has no learning_rate: a dotted line at its gap, 0
    flat = [line for line in disp.lines_ if line.get_linestyle() == ":"]
    assert len(flat) == 1 and flat[0].get_ydata()[0] == 0.0
    assert "no learning_rate" in flat[0].get_label()
    title = disp.ax_.get_title()
    assert "GridSearchCV (3 folds)" in title and "Gaussian 30 x 60" in title
    assert "ShallowReLURegressor in a Pipeline" in title
    assert disp.ax_.get_ylabel() == "training ||W - W*|| / ||W*||"


def test_categorical_axis(pyplot, search):
    disp = GapDisplay.from_cv_results(
        search, x="init", hue="learning_rate", metric="r2", offset=0.1
    )
    assert [t.get_text() for t in disp.ax_.get_xticklabels()] == ["zero", "random"]
    assert disp.ax_.get_xscale() == "linear"
    res = search.cv_results_
    stepped = [line for line in disp.lines_ if line.get_linestyle() != ":"]
    assert len(stepped) == 2
    for k, line in enumerate(stepped):
        lr = float(line.get_label().split("learning_rate=")[1])
        xs, ys = line.get_data()
        np.testing.assert_allclose(xs, np.array([0.0, 1.0]) + (k - 0.5) * 0.1)
        rows = [
            _rows(search, **{f"{STEP}__learning_rate": lr, f"{STEP}__init": i})[0]
            for i in ("zero", "random")
        ]
        np.testing.assert_allclose(ys, res["mean_test_r2"][rows])
    assert len({line.get_marker() for line in stepped}) == 2  # distinguishable where they meet


def test_cv_results_errors(pyplot, search):
    with pytest.raises(ValueError, match=r"x='lr' is not a searched parameter; choose one of"):
        GapDisplay.from_cv_results(search, x="lr", metric="r2")
    with pytest.raises(ValueError, match=r"metric='gap' is not a scorer.*'neg_min_norm_gap'"):
        GapDisplay.from_cv_results(search, x="learning_rate", metric="gap")
    with pytest.raises(ValueError, match="hue='init' is the horizontal axis"):
        GapDisplay.from_cv_results(search, x="init", hue="init", metric="r2")
    with pytest.raises(TypeError, match="fitted search .* or its cv_results_"):
        GapDisplay.from_cv_results(GridSearchCV(ShallowReLURegressor(), {}), x="a", metric="r2")
    as_dict = GapDisplay.from_cv_results(search.cv_results_, x="learning_rate", metric="r2")
    assert len(as_dict.lines_) == 3  # two inits, and the MinNorm line


@pytest.fixture(scope="module")
def comparison():
    X, y = gaussian_problem(12, 80, seed=32)
    solutions = {
        "GD 0.5": ShallowReLURegressor(n_neurons=2, init="zero", learning_rate=0.5),
        "GD 0.1": ShallowReLURegressor(n_neurons=2, init="zero", learning_rate=0.1),
        "linear": ShallowReLURegressor(n_neurons=2, init="zero", activation="linear"),
        "min-norm": MinNormReLURegressor(n_neurons=2),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return compare_solutions(solutions, X, y, references=("label_sign", "own_region"))


def test_solution_comparison_display(pyplot, comparison):
    disp = SolutionComparisonDisplay.from_comparison(
        comparison, reference="own_region", data="Gaussian 12 x 80"
    )
    shown = disp.image_.get_array()
    finite = np.isfinite(comparison.distances)
    np.testing.assert_array_equal(shown.mask, ~finite)
    np.testing.assert_allclose(shown.data[finite], comparison.distances[finite])
    cells = [t.get_text() for t in disp.ax_distances_.texts]
    assert len(cells) == 16 and cells.count("n/a") == np.count_nonzero(~finite)
    gaps = [r["gap_own_region"] for r in comparison.records]
    widths = [bar.get_width() for bar in disp.bars_]
    np.testing.assert_allclose(widths, np.nan_to_num(gaps))
    missing = [i for i, g in enumerate(gaps) if not np.isfinite(g)]  # linear, and min-norm
    gray = to_rgba("lightgray")
    assert missing and all(disp.bars_[i].get_facecolor() == gray for i in missing)
    assert all(disp.bars_[i].get_facecolor() != gray for i in set(range(4)) - set(missing))
    assert [t.get_text().strip() for t in disp.ax_gaps_.texts].count("n/a") == len(missing)
    assert "Gaussian 12 x 80" in disp.title_.get_text()
    assert [t.get_text() for t in disp.ax_gaps_.get_yticklabels()] == comparison.names


def test_solution_comparison_display_errors(pyplot, comparison):
    with pytest.raises(ValueError, match=r"reference='global' was not measured.*'label_sign'"):
        SolutionComparisonDisplay.from_comparison(comparison, reference="global")
    with pytest.raises(TypeError, match="what experiments.compare_solutions returns"):
        SolutionComparisonDisplay.from_comparison({"a": 1})


def test_cv_results_with_zero_none_and_estimator_values(pyplot):
    """x with 0 is evenly spaced (no log axis); None is a value; estimators stay apart."""
    X, y = gaussian_problem(20, 40, seed=33)
    est = ShallowReLURegressor(n_neurons=2, optimizer="momentum", max_iter=200, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search = GridSearchCV(
            est, {"momentum": [0.0, 0.5], "n_iter_no_change": [None, 10]}, cv=KFold(2)
        ).fit(X, y)
        by_estimator = GridSearchCV(
            make_pipeline(StandardScaler(), est),
            {
                "shallowreluregressor": [
                    clone(est).set_params(optimizer="gd"),
                    clone(est).set_params(optimizer="adam", learning_rate=1e-3),
                ]
            },
            cv=KFold(2),
        ).fit(X, y)
    disp = GapDisplay.from_cv_results(search, x="momentum", hue="n_iter_no_change", metric="score")
    assert [t.get_text() for t in disp.ax_.get_xticklabels()] == ["0", "0.5"]
    assert disp.ax_.get_xscale() == "linear"
    labels = sorted(line.get_label() for line in disp.lines_)
    assert labels == ["n_iter_no_change=10", "n_iter_no_change=None"]  # None is not "missing"
    disp = GapDisplay.from_cv_results(search, x="n_iter_no_change", metric="score")
    assert [t.get_text() for t in disp.ax_.get_xticklabels()] == ["None", "10"]
    assert not [line for line in disp.lines_ if line.get_linestyle() == ":"]
    disp = GapDisplay.from_cv_results(by_estimator, x="shallowreluregressor", metric="score")
    ticks = [t.get_text() for t in disp.ax_.get_xticklabels()]
    assert len(ticks) == 2 and "adam" in ticks[1] and "adam" not in ticks[0]
