"""``python -m benchmarks [--quick] [--cases 1,2,...] [--allow-dirty]`` from the repository root."""

import argparse
import sys
import tempfile
import time
import traceback
from pathlib import Path

from . import (
    _accuracy,
    _centred,
    _chunks,
    _gd_fit,
    _interrupts,
    _kernel_vs_blas,
    _memory_paths,
    _min_norm_solve,
    _optimizers,
    _scaling,
    _sparse,
    _startup,
    _tall,
    _torch,
)
from ._common import Section
from ._machine import DIRTY, git_tree, load_average, machine_info
from ._report import render_markdown, render_text, write_csv

RESULTS = Path(__file__).resolve().parent / "results"

FULL = {
    1: {"n": 200, "d": 10_000, "m": 2, "iters": 2000, "repeats": 5, "default_fit": (800, 8000)},
    2: {"n": 200, "d": 10_000, "repeats": 5},
    3: {
        "n_list": [100, 1000, 5000],
        "n_fixed": 100,
        "d_list": [1_000, 10_000, 100_000, 1_000_000],
        "iters": 200,
        "repeats_small": 15,
        "repeats_medium": 5,
        "repeats_large": 3,
        "memory_target": True,
    },
    4: {"n_list": [200, 1000], "steps": [20_000, 5000], "m": 2, "repeats": 7},
    5: {"n": 200, "d": 10_000, "warm_runs": 3},
    6: {"n": 2000, "d": 100_000, "words_per_doc": 120, "max_iter": 2000, "repeats": 3},
    7: {
        "sizes": [(20_000, 20, 3), (200_000, 50, 1)],  # (n, d, processes per variant)
        "memory_limit_gib": 16,
        "timeout_s": 1800,
    },
    8: {"sizes": [(200, 10_000), (20_000, 20)], "steps": 5000, "repeats": 5},
    9: {  # (kind, n, d, ops, simulated MB available or 0): one child process per shape
        "shapes": [
            ("dense", 2000, 50, ["min_norm", "fit", "fit_nogap"], 0),
            ("dense", 5000, 50, ["min_norm", "fit", "fit_nogap"], 0),
            ("dense", 10_000, 50, ["min_norm", "fit", "fit_nogap"], 0),
            ("dense", 2000, 20_000, ["min_norm", "fit", "fit_nogap"], 0),
            ("dense", 5000, 20_000, ["min_norm", "fit", "fit_nogap"], 0),
            ("sparse", 4000, 30_000, ["min_norm", "fit", "fit_nogap"], 0),
            ("sparse", 20_000, 30_000, ["min_norm", "fit", "fit_nogap"], 0),
            ("tall", 100_000, 5, ["min_norm", "fit", "fit_nogap"], 0),
            ("illcond", 2000, 5000, ["min_norm", "fit"], 0),  # one block of columns
            ("illcond", 500, 30_000, ["min_norm", "fit"], 0),  # 8 blocks of columns
            ("dense", 5000, 20_000, ["fit_nogap", "fit_dual", "fit"], 64),
        ],
        "memory_limit_gib": 16,
        "timeout_s": 900,
        "refusal_max_mb": 4,
    },
    10: {
        "conds": [10.0**k for k in range(13)],
        "wide": (50, 200),
        "tall": (400, 50),
        "scaled": (10, 50),
        "scale_exponents": list(range(11)),
        "seed": 0,
    },
    11: {  # (label, path, n, d, SIGINT delay: ms or "gram+MS"): one child process per run
        "paths": [
            ("dual GD", "dual", 2000, 20_000, 2000),
            ("tall primal GD", "tall", 300_000, 50, 2000),
            ("tall primal GD, later signal", "tall", 300_000, 50, 6000),
            ("GD + callbacks", "callbacks", 20_000, 20, 2000),
            ("min-norm, in the Gram product", "min_norm", 4000, 16_000, 1000),
            ("min-norm, in the eigendecomposition", "min_norm", 3500, 4000, "gram+1000"),
        ],
        "repeats": 3,
        "timeout_s": 300,
    },
    12: {
        "min_norm": (1000, 10_000),
        "default_fit": (2000, 20_000),
        "repeats": 3,
        "fit_repeats": 3,
        "duplicates": (500, 100, 2000),  # (rows, duplicated rows, d)
        "linear": (500, 5000),
        "linear_max_iter": 100_000,
    },
    13: {
        # (n, d, m, steps): steps chosen so that the package's fit takes ~0.5-2 s where the
        # setup allows (2000 x 20000: forming K alone takes ~3 s on one thread); the PyTorch
        # primal loop on the wide shapes takes several seconds at the same steps (~0.3 s a
        # step at 2000 x 20000 x 16). The whole case takes about 10 minutes.
        "shapes": [
            (200, 10_000, 2, 5000),
            (50, 100_000, 2, 1000),
            (2000, 20_000, 16, 50),
            (20_000, 20, 16, 300),
            (200_000, 50, 8, 20),
        ],
        "repeats": 3,
        "auto": {
            "m": 16,
            "steps": 200,
            "repeats": 3,
            "dense": [(2000, 1000), (2000, 1600)],
            "csr": [(2000, 5000, 60), (2000, 5000, 300)],  # (n, d, non-zeros per row)
            "tfidf": (1200, 2598, 84),  # 84 tokens per document: ~59 non-zeros per row
        },
    },
    14: {
        "seeds": 20,
        "first_seed": 1000,
        "repeats": 5,
        "norm_solutions": ["GD, lr 0.1", "Adam, lr 1e-4", "Adam, lr 1e-3"],
    },
}

QUICK = {
    1: {"n": 100, "d": 2000, "m": 2, "iters": 300, "repeats": 3, "default_fit": (300, 3000)},
    2: {"n": 60, "d": 1200, "repeats": 3},
    3: {
        "n_list": [50, 100, 200],
        "n_fixed": 50,
        "d_list": [1_000, 10_000, 100_000],
        "iters": 200,
        "repeats_small": 5,
        "repeats_medium": 3,
        "repeats_large": 3,
        "memory_target": False,
    },
    4: {"n_list": [200, 1000], "steps": [3000, 1000], "m": 2, "repeats": 3},
    5: {"n": 100, "d": 2000, "warm_runs": 1},
    6: {"n": 300, "d": 20_000, "words_per_doc": 120, "max_iter": 500, "repeats": 2},
    7: {"sizes": [(5000, 20, 1)], "memory_limit_gib": 16, "timeout_s": 60},
    8: {"sizes": [(100, 2000)], "steps": 2000, "repeats": 3},
    9: {
        "shapes": [
            ("dense", 800, 4000, ["min_norm", "fit", "fit_nogap"], 0),
            ("sparse", 1200, 20_000, ["min_norm", "fit_nogap"], 0),
            ("tall", 20_000, 5, ["min_norm", "fit"], 0),
            ("illcond", 300, 6000, ["min_norm", "fit"], 0),  # 3 blocks of columns
            ("dense", 3000, 5000, ["fit_nogap", "fit_dual", "fit"], 64),
        ],
        "memory_limit_gib": 16,
        "timeout_s": 300,
        "refusal_max_mb": 4,
    },
    10: {
        "conds": [10.0**k for k in range(13)],
        "wide": (50, 200),
        "tall": (400, 50),
        "scaled": (10, 50),
        "scale_exponents": list(range(11)),
        "seed": 0,
    },
    11: {
        "paths": [
            ("dual GD", "dual", 1000, 10_000, 2000),
            ("tall primal GD", "tall", 100_000, 50, 2000),
            ("tall primal GD, later signal", "tall", 100_000, 50, 5000),
            ("GD + callbacks", "callbacks", 20_000, 20, 2000),
            ("min-norm, in the Gram product", "min_norm", 3000, 12_000, 1000),
            ("min-norm, in the eigendecomposition", "min_norm", 3000, 3200, "gram+1000"),
        ],
        "repeats": 1,
        "timeout_s": 300,
    },
    12: {
        "min_norm": (500, 5000),
        "default_fit": (800, 8000),
        "repeats": 2,
        "fit_repeats": 2,
        "duplicates": (200, 40, 800),
        "linear": (200, 2000),
        "linear_max_iter": 100_000,
    },
    13: {
        "shapes": [
            (100, 4000, 2, 500),  # (PyTorch at default threads is slow here on a loaded machine)
            (20, 40_000, 2, 200),
            (500, 5000, 16, 50),
            (5000, 20, 16, 300),
            (50_000, 50, 8, 20),
        ],
        "repeats": 2,
        "auto": {
            "m": 16,
            "steps": 50,
            "repeats": 2,
            "dense": [(1000, 500), (1000, 800)],
            "csr": [(1000, 2500, 30), (1000, 2500, 150)],
            "tfidf": (1200, 2598, 84),
        },
    },
    14: {
        "seeds": 3,
        "first_seed": 1000,
        "repeats": 1,
        "norm_solutions": ["GD, lr 0.1", "Adam, lr 1e-4"],
    },
}

CASES = {
    1: _gd_fit.run,
    2: _min_norm_solve.run,
    3: _scaling.run,
    4: _kernel_vs_blas.run,
    5: _startup.run,
    6: _sparse.run,
    7: _tall.run,
    8: _chunks.run,
    9: _memory_paths.run,
    10: _accuracy.run,
    11: _interrupts.run,
    12: _centred.run,
    13: _torch.run,
    14: _optimizers.run,
}


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small sizes (a minute or two); results go to a new temporary directory",
    )
    parser.add_argument(
        "--cases",
        default=",".join(map(str, CASES)),
        help="comma-separated case numbers (default: all)",
    )
    parser.add_argument(
        "--allow-dirty",
        action="store_true",
        help=f"run from a tree with uncommitted changes; every output is marked '{DIRTY}'",
    )
    return parser.parse_args(argv)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    commit, changes = git_tree()
    dirty = commit is None or bool(changes)
    if dirty and not args.allow_dirty:
        what = f"uncommitted: {', '.join(changes)}" if commit else "not a git checkout"
        sys.exit(
            f"python -m benchmarks: refusing to run from a dirty tree ({what}); results must "
            f"describe a commit. Commit first, or pass --allow-dirty to mark every output "
            f"'{DIRTY}'."
        )
    mode = "quick" if args.quick else "full"
    config = QUICK if args.quick else FULL
    cases = [int(c) for c in args.cases.split(",") if c.strip()]
    start, load_start = time.perf_counter(), load_average()

    sections = []
    for case in cases:
        print(f"[benchmarks] case {case} ({mode}) ...", file=sys.stderr, flush=True)
        case_start = time.perf_counter()
        try:
            sections += CASES[case](config[case])
        except Exception:  # keep the other cases' results
            sections.append(
                Section(
                    key=f"{case}_error",
                    title=f"{case}. FAILED",
                    headers=["error"],
                    rows=[[traceback.format_exc(limit=3).strip().splitlines()[-1]]],
                )
            )
            traceback.print_exc()
        print(
            f"[benchmarks] case {case} done in {time.perf_counter() - case_start:.1f} s",
            file=sys.stderr,
            flush=True,
        )

    total = time.perf_counter() - start
    header = [
        f"command: python -m benchmarks {' '.join(argv)}".rstrip(),
        f"mode: {mode}, cases {','.join(map(str, cases))}; total {total:.0f} s",
        f"load average (1/5/15 min) at start: {load_start}; at end: {load_average()}",
        "Timings are wall-clock on a shared machine: medians over interleaved repeats after a "
        "warm-up call; compare ratios within this run.",
    ]
    title = "sklearn_relubias benchmark summary"
    if dirty:
        header.insert(0, f"{DIRTY}: run with --allow-dirty from uncommitted changes.")
        title += f" ({DIRTY})"
    if args.quick:
        header.append(
            "QUICK MODE: sizes are smaller than the targets' sizes; statuses are indicative."
        )
        for sec in sections:
            for target in sec.targets:
                target.name += " [quick sizes]"
    info = machine_info(commit, changes)
    text = render_text(header, info, sections)
    print(text)
    out = Path(tempfile.mkdtemp(prefix="relubias_benchmarks_quick_")) if args.quick else RESULTS
    out.mkdir(exist_ok=True)
    (out / "latest.txt").write_text(text)
    (out / "summary.md").write_text(render_markdown(title, header, info, sections))
    write_csv(out / "latest.csv", f"{mode} ({DIRTY})" if dirty else mode, info, sections)
    print(f"[benchmarks] wrote latest.csv, latest.txt and summary.md to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
