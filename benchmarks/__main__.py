"""``python -m benchmarks [--quick] [--cases 1,2,3,4,5]`` from the repository root."""

import argparse
import sys
import time
import traceback
from pathlib import Path

from . import _gd_fit, _kernel_vs_blas, _limit_and_sparse, _min_norm_solve, _scaling, _startup
from ._common import Section
from ._machine import load_average, machine_info
from ._report import render_markdown, render_text, write_csv

RESULTS = Path(__file__).resolve().parent / "results"

FULL = {
    1: {"n": 200, "d": 10_000, "m": 2, "iters": 2000, "repeats": 5},
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
    4: {"n_list": [200, 1000], "steps": [20_000, 2000], "m": 2, "repeats": 7},
    5: {"n": 200, "d": 10_000, "iters": 200, "warm_runs": 3},
    6: {
        "n": 200,
        "d": 10_000,
        "n_neurons": [1, 2],
        "learning_rates": [0.01, 0.003],
        "tol": 1e-12,
        "repeats": 3,
    },
    7: {"n": 2000, "d": 100_000, "words_per_doc": 120, "max_iter": 2000, "repeats": 3},
}

QUICK = {
    1: {"n": 100, "d": 2000, "m": 2, "iters": 300, "repeats": 3},
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
    4: {"n_list": [200, 1000], "steps": [3000, 200], "m": 2, "repeats": 3},
    5: {"n": 100, "d": 1000, "iters": 200, "warm_runs": 1},
    6: {"n": 60, "d": 2000, "n_neurons": [1], "learning_rates": [0.01], "tol": 1e-12, "repeats": 2},
    7: {"n": 300, "d": 20_000, "words_per_doc": 120, "max_iter": 500, "repeats": 2},
}

CASES = {
    1: _gd_fit.run,
    2: _min_norm_solve.run,
    3: _scaling.run,
    4: _kernel_vs_blas.run,
    5: _startup.run,
    6: _limit_and_sparse.run_limit,
    7: _limit_and_sparse.run_sparse,
}


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (about a minute)")
    parser.add_argument(
        "--cases", default="1,2,3,4,5,6,7", help="comma-separated case numbers (default: all)"
    )
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
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

    command = " ".join(["python -m benchmarks", *(sys.argv[1:] if argv is None else argv)])
    total = time.perf_counter() - start
    header = [
        f"command: {command}",
        f"mode: {mode}, cases {','.join(map(str, cases))}; total {total:.0f} s",
        f"load average (1/5/15 min) at start: {load_start}; at end: {load_average()}",
        "Timings are wall-clock on a shared machine: medians over interleaved repeats after a "
        "warm-up call; compare ratios within this run.",
    ]
    if args.quick:
        header.append(
            "QUICK MODE: sizes are smaller than the targets' sizes; statuses are indicative."
        )
        for sec in sections:
            for target in sec.targets:
                target.name += " [quick sizes]"
    info = machine_info()
    text = render_text(header, info, sections)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    stem = "latest" if mode == "full" else "quick"
    (RESULTS / f"{stem}.txt").write_text(text)
    (RESULTS / ("summary.md" if mode == "full" else "summary_quick.md")).write_text(
        render_markdown(header, info, sections)
    )
    write_csv(RESULTS / f"{stem}.csv", mode, info, sections)
    print(
        f"[benchmarks] wrote {RESULTS}/{stem}.csv, {stem}.txt and the markdown summary",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
