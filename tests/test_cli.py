import csv

import numpy as np
import pytest

from sklearn_relubias import _cli


def test_reproduce_quick_writes_table_csv_and_figures(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(
        _cli,
        "QUICK",
        {
            "n_samples": [6, 12],
            "n_features": [100, 400],
            "learning_rate": [1.0, 0.1],
            "n_repeats": 3,
        },
    )
    assert _cli.main(["reproduce", "--quick", "--out", str(tmp_path), "--n-jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert "gap to W*" in out and "slope" in out
    rows = list(csv.DictReader(open(tmp_path / "gap_sweep.csv")))
    assert len(rows) == 2 * 2 * 2 * 3
    # the printed medians are the CSV's medians
    sel = [
        float(r["min_norm_gap"])
        for r in rows
        if (r["n_samples"], r["n_features"], r["learning_rate"]) == ("12", "400", "0.1")
    ]
    line = next(ln for ln in out.splitlines() if ln.split()[:3] == ["12", "400", "0.1"])
    assert float(line.split()[3]) == pytest.approx(np.median(sel), rel=1e-2)
    for name in ("gap_vs_dimension.png", "gap_vs_learning_rate.png", "pattern_timeline.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_requires_a_command(capsys):
    with pytest.raises(SystemExit):
        _cli.main([])
    assert "reproduce" in capsys.readouterr().err
