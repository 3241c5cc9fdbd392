"""The activation sweep (gap against the negative slope), its display and `relubias activations`."""

import csv

import numpy as np
import pytest
from scipy import sparse

from sklearn_relubias import MinNormReLURegressor, _cli, _reproduce
from sklearn_relubias.datasets import make_tfidf_regression
from sklearn_relubias.experiments import activation_sweep
from sklearn_relubias.plotting import ActivationDisplay

TINY = {"n_seeds": 2, "negative_slopes": (1.0, 0.3, 0.0), "learning_rates": (0.5, 0.1)}


@pytest.fixture(scope="module")
def sweep():
    return activation_sweep(10, 300, **TINY, max_iter=50_000, random_state=3)


def test_activation_sweep_records_each_fit_against_its_own_reference(sweep):
    assert len(sweep.records) == 2 * 3 * 2 * 2  # seeds x slopes x rates x networks
    # linear from zero: the minimum-norm interpolant, to the stopping tolerance
    linear = [r for r in sweep.records if r["negative_slope"] == 1.0]
    assert all(r["relative_gap"] < 1e-8 and r["converged"] for r in linear)
    # ReLU keeps a gap of order learning_rate
    relu = [r for r in sweep.records if r["negative_slope"] == 0.0 and r["n_neurons"] == 2]
    assert all(r["relative_gap"] > 1e-4 for r in relu)
    # the reference norm is the minimum-norm program's, recomputed independently
    from sklearn_relubias.datasets import make_high_dim_regression

    r = next(r for r in sweep.records if r["negative_slope"] == 0.3 and r["n_neurons"] == 1)
    X, y = make_high_dim_regression(10, 300, random_state=r["seed"])
    ref = MinNormReLURegressor(n_neurons=1, activation="leaky_relu", negative_slope=0.3).fit(X, y)
    assert r["reference_norm"] == pytest.approx(np.linalg.norm(ref.hidden_weights_), rel=1e-10)


def test_activation_summary_and_display(pyplot, sweep):
    rows = sweep.summary()
    assert {(r["n_neurons"], r["negative_slope"], r["learning_rate"]) for r in rows} == {
        (m, s, lr) for m in (1, 2) for s in TINY["negative_slopes"] for lr in TINY["learning_rates"]
    }
    disp = ActivationDisplay.from_result(sweep, n_neurons=2)
    assert len(disp.lines_) == 2 and "2 neurons" in disp.ax_.get_title()
    np.testing.assert_array_equal(disp.lines_[0].get_xdata(), [0.0, 0.3, 1.0])
    norms = ActivationDisplay.from_result(sweep, n_neurons=1, metric="reference_norm")
    assert len(norms.lines_) == 1
    with pytest.raises(ValueError, match="n_neurons=3 is not in the sweep"):
        ActivationDisplay.from_result(sweep, n_neurons=3)
    with pytest.raises(ValueError, match="metric='bogus'"):
        ActivationDisplay.from_result(sweep, metric="bogus")


def test_relubias_activations_writes_its_table_and_figure(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(_reproduce, "ACTIVATIONS_QUICK", TINY)
    monkeypatch.setattr(
        _reproduce,
        "activation_sweep",
        lambda **kw: activation_sweep(10, 300, max_iter=50_000, **kw),
    )
    assert _cli.main(["activations", "--quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "rel. gap median" in out and "alpha = 1 is the linear model" in out
    assert "The +/- pair keeps a gap at every alpha < 1" in out
    with open(tmp_path / "activations.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 24 and (tmp_path / "activations.png").stat().st_size > 0


def test_make_tfidf_regression():
    X, y = make_tfidf_regression(50, 300, random_state=0)
    X2, y2 = make_tfidf_regression(50, 300, random_state=0)
    assert sparse.issparse(X) and X.shape == (50, 300) and X.min() >= 0
    np.testing.assert_allclose(sparse.linalg.norm(X, axis=1)[X.getnnz(axis=1) > 0], 1.0)
    assert abs(y.mean()) < 1e-12 and (X != X2).nnz == 0 and np.array_equal(y, y2)


def test_sigterm_while_writing_leaves_nothing_behind(tmp_path, capsys, monkeypatch):
    """SIGTERM is Ctrl-C for `relubias activations` too: exit 130, the staged files discarded."""
    import os
    import signal

    monkeypatch.setattr(_reproduce, "ACTIVATIONS_QUICK", {**TINY, "n_seeds": 1})
    monkeypatch.setattr(
        _reproduce, "activation_sweep", lambda **kw: activation_sweep(6, 60, max_iter=2000, **kw)
    )

    def killed(result, path):
        open(path, "w").close()  # a half-written figure
        os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(_reproduce, "_activation_figure", killed)
    assert _cli.main(["activations", "--quick", "--out", str(tmp_path)]) == 130
    assert "interrupted; nothing was written" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
