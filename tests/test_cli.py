import csv

import numpy as np
import pytest

from sklearn_relubias import _cli
from sklearn_relubias.experiments import GapSweepResult

SMALL = {
    "n_samples": [6, 12],
    "n_features": [100, 400],
    "learning_rate": [1.0, 0.1],
    "n_repeats": 3,
}


def read_records(path):
    """The CSV back as records, numbers as numbers, ``stuck`` as bool."""
    recs = []
    for row in csv.DictReader(open(path)):
        rec = {}
        for k, v in row.items():
            if v in ("True", "False"):
                rec[k] = v == "True"
            else:
                try:
                    rec[k] = float(v)
                except ValueError:
                    rec[k] = v
        recs.append(rec)
    return recs


@pytest.fixture
def saved_figures(monkeypatch):
    """Every figure the command saves, kept open for inspection."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    saved, original = {}, Figure.savefig

    def savefig(self, fname, *args, **kwargs):
        saved[str(fname).rsplit("/", 1)[-1]] = self
        return original(self, fname, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", savefig)
    monkeypatch.setattr(plt, "close", lambda *args: None)  # _figures closes them at the end
    yield saved
    matplotlib.pyplot.close("all")


def test_reproduce_quick_writes_table_csv_and_figures(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(_cli, "QUICK", SMALL)
    assert _cli.main(["reproduce", "--quick", "--out", str(tmp_path), "--n-jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert "rel. gap" in out and "abs. |W-W*|" in out and "slope" not in out.split("Log-log")[0]
    rows = list(csv.DictReader(open(tmp_path / "gap_sweep.csv")))
    assert len(rows) == 2 * 2 * 2 * 3
    # the printed medians are the CSV's medians: relative gap (column 3), absolute (column 6)
    cell = [
        r
        for r in rows
        if (r["n_samples"], r["n_features"], r["learning_rate"]) == ("12", "400", "0.1")
    ]
    line = next(ln for ln in out.splitlines() if ln.split()[:3] == ["12", "400", "0.1"])
    for col, key in ((3, "min_norm_gap"), (6, "min_norm_distance"), (9, "min_norm_norm")):
        assert float(line.split()[col]) == pytest.approx(
            np.median([float(r[key]) for r in cell]), rel=1e-2
        )
    for name in ("gap_vs_dimension.png", "gap_vs_learning_rate.png", "pattern_timeline.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_reproduce_prints_both_gaps_with_their_slopes(tmp_path, capsys, monkeypatch):
    """Each printed slope line is GapSweepResult.slopes on the written CSV, for its quantity."""
    monkeypatch.setattr(_cli, "QUICK", SMALL)
    _cli.main(["reproduce", "--quick", "--out", str(tmp_path), "--n-jobs", "1"])
    out = capsys.readouterr().out
    assert "ABSOLUTE distance ||W - W*||_F is Theta(sqrt(n/||lambda||_1))" in out
    assert "RELATIVE gap ||W - W*||/||W*|| is Theta(learning_rate)" in out
    res = GapSweepResult(read_records(tmp_path / "gap_sweep.csv"), ["learning_rate"], 0)
    block = out.split("Log-log slopes, all fits")[1].split("\n\n")[0]
    printed = {}
    for line in block.splitlines():
        fields = line[20:].split()  # lr, slope_d, "[lo,", "hi]", slope_n, "[lo,", "hi]", fits
        if len(fields) == 8:
            printed[(line[:20].strip(), float(fields[0]))] = fields
    assert len(printed) == len(_cli.SLOPE_METRICS) * 2
    assert {name for name, _ in printed} >= {"abs. |W - W*|", "rel. |W - W*|/|W*|"}
    for metric, name in _cli.SLOPE_METRICS:
        for lr in (1.0, 0.1):
            fields = printed[(name, lr)]
            rows = {s["variable"]: s for s in res.slopes(metric) if s["learning_rate"] == lr}
            d, n = rows["n_features"], rows["n_samples"]
            expected = [
                d["slope"],
                d["ci_low"],
                d["ci_high"],
                n["slope"],
                n["ci_low"],
                n["ci_high"],
            ]
            got = [float(f.strip("[],")) for f in fields[1:7]]
            np.testing.assert_allclose(got, expected, atol=0.0051)
            assert int(fields[7]) == d["n_fits"]


def test_gap_vs_dimension_has_a_panel_per_n_for_both_gaps(tmp_path, monkeypatch, saved_figures):
    monkeypatch.setattr(_cli, "QUICK", SMALL)
    _cli.main(["reproduce", "--quick", "--out", str(tmp_path), "--n-jobs", "1"])
    fig = saved_figures["gap_vs_dimension.png"]
    axes = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title().split(":")[0] for ax in axes] == ["n = 6", "n = 12"] * 2
    assert [ax.get_ylabel() for ax in axes] == ["||W - W*||"] * 2 + ["||W - W*|| / ||W*||"] * 2
    for ax in axes:
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert sum(lab.startswith("learning_rate=") for lab in labels) == 2
        assert "sqrt(n/d) (slope -1/2)" in labels
        assert any("quantiles" in lab for lab in labels)
        assert [t.get_text() for t in ax.get_xticklabels()] == ["100", "400"]


def test_cli_requires_a_command(capsys):
    with pytest.raises(SystemExit):
        _cli.main([])
    assert "reproduce" in capsys.readouterr().err
