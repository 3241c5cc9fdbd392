import csv
import re
from pathlib import Path

import numpy as np
import pytest

from sklearn_relubias import _cli, _reproduce
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
        # the command saves to a temporary ".NAME.tmp-XXXX.png" renamed to NAME.png at the end
        name = re.sub(r"^\.(.*)\.tmp-[^.]*(\.\w+)$", r"\1\2", str(fname).rsplit("/", 1)[-1])
        saved[name] = self
        return original(self, fname, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", savefig)
    monkeypatch.setattr(plt, "close", lambda *args: None)  # _figures closes them at the end
    yield saved
    matplotlib.pyplot.close("all")


def test_reproduce_quick_writes_table_csv_and_figures(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(_reproduce, "QUICK", SMALL)
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
    monkeypatch.setattr(_reproduce, "QUICK", SMALL)
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
    assert len(printed) == len(_reproduce.SLOPE_METRICS) * 2
    assert {name for name, _ in printed} >= {
        "abs. |W - W*|",
        "rel. |W - W*|/|W*|",
        "control W=0: |W*|",
    }
    assert "trivial guess W = 0" in out
    for metric, name in _reproduce.SLOPE_METRICS:
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
    monkeypatch.setattr(_reproduce, "QUICK", SMALL)
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


# Eight cells, one fit each at two learning rates: enough for the table and the figures.
TINY = {"n_samples": [6, 8], "n_features": [100, 200], "learning_rate": [1.0, 0.1], "n_repeats": 2}
OUTPUTS = (
    "gap_sweep.csv",
    "gap_vs_dimension.png",
    "gap_vs_learning_rate.png",
    "pattern_timeline.png",
)
STORE_FILES = {"sweep.sqlite", "sweep.sqlite-wal", "sweep.sqlite-shm"}


@pytest.fixture
def tiny(monkeypatch):
    monkeypatch.setattr(_reproduce, "QUICK", TINY)


@pytest.fixture
def counted_cells(monkeypatch):
    """How many cells the command computed (it runs them in-process without --n-jobs)."""
    from sklearn_relubias.experiments import _gap_sweep

    calls, real = [], _gap_sweep._fit_cell

    def fit_cell(*args):
        calls.append(args[:3])
        return real(*args)

    monkeypatch.setattr(_gap_sweep, "_fit_cell", fit_cell)
    return calls


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if the command starts any work."""

    def work(*args, **kwargs):
        raise AssertionError("the command started working")

    monkeypatch.setattr(_reproduce, "_compile_kernel", work)
    monkeypatch.setattr(_reproduce, "gap_sweep", work)


@pytest.fixture
def fake_figures(monkeypatch):
    """Replace the (slow) figures by small files; ``figures["interrupt_after"] = k`` makes the
    k-th one a Ctrl-C while it is being written."""
    figures = {"run": 0, "interrupt_after": None}

    def draw(result, out, target):
        figures["run"] += 1
        paths = []
        for name in OUTPUTS[1:]:
            paths.append(out / name)
            with open(target(paths[-1]), "w") as fh:
                fh.write(f"run {figures['run']}: {name}")
                if len(paths) == figures["interrupt_after"]:
                    raise KeyboardInterrupt
        return paths

    monkeypatch.setattr(_reproduce, "_figures", draw)
    return figures


def unwritable_folder(tmp_path):
    """An existing folder in which no file can be created, even by root (chmod does not bind)."""
    folder = tmp_path / "read_only"
    folder.mkdir()
    folder.chmod(0o555)
    for candidate in (folder, Path("/sys"), Path("/proc")):
        try:
            with open(candidate / "probe", "x"):
                pass
        except OSError:
            return candidate
        (candidate / "probe").unlink()
    raise RuntimeError("no folder here refuses new files (/proc always does on Linux)")


def test_an_empty_out_is_refused(tmp_path, monkeypatch, capsys, no_work):
    monkeypatch.chdir(tmp_path)  # it used to write there
    assert _cli.main(["reproduce", "--quick", "--out", ""]) == 2
    assert "--out is empty" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("where", ["read-only folder", "under a regular file"])
def test_an_unwritable_out_is_refused_before_any_work(tmp_path, capsys, no_work, where):
    if where == "read-only folder":
        out = unwritable_folder(tmp_path)
    else:
        (tmp_path / "a_file").write_text("")
        out = tmp_path / "a_file" / "results"
    try:
        assert _cli.main(["reproduce", "--quick", "--out", str(out)]) == 2
    finally:
        if (tmp_path / "read_only").exists():
            (tmp_path / "read_only").chmod(0o755)  # for pytest's clean-up
    assert f"cannot write the results to --out {out}" in capsys.readouterr().err


def test_planted_symlinks_are_replaced_not_followed(tmp_path, tiny):
    out = tmp_path / "out"
    out.mkdir()
    targets = {}
    for name in ("gap_sweep.csv", "pattern_timeline.png"):
        targets[name] = tmp_path / f"user_{name}"
        targets[name].write_text(f"the user's own {name}")
        (out / name).symlink_to(targets[name])
    assert _cli.main(["reproduce", "--quick", "--out", str(out)]) == 0
    for name, target in targets.items():
        assert target.read_text() == f"the user's own {name}"
        assert not (out / name).is_symlink()
    assert (out / "pattern_timeline.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(read_records(out / "gap_sweep.csv")) == 2 * 2 * 2 * 2
    assert {p.name for p in out.iterdir()} <= set(OUTPUTS) | STORE_FILES


def test_a_rerun_resumes_and_fresh_starts_over(tmp_path, tiny, counted_cells, fake_figures, capsys):
    out = str(tmp_path / "out")
    assert _cli.main(["reproduce", "--quick", "--out", out]) == 0
    assert len(counted_cells) == 8
    first = (tmp_path / "out" / "gap_sweep.csv").read_bytes()
    capsys.readouterr()
    assert _cli.main(["reproduce", "--quick", "--out", out]) == 0
    assert len(counted_cells) == 8  # nothing computed: every cell came from the store
    assert "resuming from" in capsys.readouterr().err
    assert (tmp_path / "out" / "gap_sweep.csv").read_bytes() == first
    capsys.readouterr()
    # another seed is another sweep: refused, with the way out
    assert _cli.main(["reproduce", "--quick", "--out", out, "--random-state", "1"]) == 2
    err = capsys.readouterr().err
    assert "random_state (stored 0, given 1)" in err and "--fresh" in err
    assert len(counted_cells) == 8
    assert _cli.main(["reproduce", "--quick", "--out", out, "--fresh"]) == 0
    assert len(counted_cells) == 16  # all eight again


@pytest.mark.parametrize("failure", ["interrupt", "disk full"])
def test_a_failed_or_interrupted_write_leaves_the_previous_outputs(
    tmp_path, tiny, monkeypatch, capsys, fake_figures, failure
):
    """Run 2 dies while writing: run 1's outputs stay, all of them, and no temporary file.

    It used to write the CSV, then the figures one by one, in place: a kill during the
    figures left run 2's CSV beside run 1's figures, and a full disk a truncated CSV.
    """
    import errno

    out = tmp_path / "out"
    assert _cli.main(["reproduce", "--quick", "--out", str(out)]) == 0
    previous = {name: (out / name).read_bytes() for name in OUTPUTS}
    assert previous["pattern_timeline.png"] == b"run 1: pattern_timeline.png"
    if failure == "interrupt":  # Ctrl-C (or SIGTERM) while the second figure is written
        fake_figures["interrupt_after"] = 2
        expected_code, message = 130, "interrupted"
    else:  # the disk fills up halfway through the CSV

        def disk_full(self, rows):
            self.writerow(rows[0])
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(csv.DictWriter, "writerows", disk_full)
        expected_code, message = 1, "No space left on device"
    args = ["reproduce", "--quick", "--out", str(out), "--fresh", "--random-state", "1"]
    assert _cli.main(args) == expected_code
    assert message in capsys.readouterr().err
    assert {name: (out / name).read_bytes() for name in OUTPUTS} == previous
    assert {p.name for p in out.iterdir()} <= set(OUTPUTS) | STORE_FILES


def test_n_jobs_1000_is_capped(tmp_path, tiny, monkeypatch, fake_figures, capsys):
    from _sweep_helpers import spy_parallel
    from joblib import cpu_count

    seen = spy_parallel(monkeypatch)
    assert _cli.main(["reproduce", "--quick", "--out", str(tmp_path), "--n-jobs", "1000"]) == 0
    assert seen == [min(8, cpu_count())]
    assert "n_jobs=1000 capped to" in capsys.readouterr().err


def test_the_warm_up_compiles_the_kernel_the_sweep_uses():
    """The quick sweep runs on K (n < d): its warm-up must not compile the primal kernel."""
    import subprocess
    import sys

    code = (
        "from sklearn_relubias import _reproduce\n"
        "from sklearn_relubias._gd._backends import _numba\n"
        "_reproduce._compile_kernel()\n"
        "print(len(_numba.gram_descent.signatures), len(_numba.primal_descent.signatures))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "1 0"
