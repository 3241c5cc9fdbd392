"""The ``relubias`` command: ``relubias reproduce`` and ``relubias activations``.

``relubias reproduce [--quick] [--out DIR] [--n-jobs N] [--fresh]`` runs the
headline sweep; ``relubias activations [--quick] [--out DIR]`` the gap
against the leaky ReLU's negative slope.

Only the standard library and the package's version are imported here, so
``relubias --help`` and ``relubias --version`` start at once; the sweep
(:mod:`sklearn_relubias._reproduce`) is imported when a command runs.
"""

import argparse
import signal
import sys
import threading
from pathlib import Path

from . import __version__

STORE = "sweep.sqlite"  # in --out: the finished cells, so that a rerun resumes


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv=None):
    """Entry point of the ``relubias`` console script."""
    parser = argparse.ArgumentParser(
        prog="relubias",
        description="Implicit bias of gradient descent on shallow ReLU regression.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser(
        "reproduce", help="run the headline sweep: gap to the minimum-norm solution vs d, n, lr"
    )
    rep.add_argument("--quick", action="store_true", help="small grid, under a minute on 2 cores")
    rep.add_argument("--out", default="relubias_results", help="output folder (CSV and PNG)")
    rep.add_argument("--n-jobs", type=int, default=None, help="parallel jobs (joblib)")
    rep.add_argument("--random-state", type=int, default=0, help="seed of the sweep")
    rep.add_argument(
        "--fresh",
        action="store_true",
        help=f"discard the finished cells kept in OUT/{STORE} and start over (a rerun "
        "without it resumes)",
    )
    act = sub.add_parser(
        "activations",
        help="the gap against the leaky ReLU's negative slope, from linear (1) to ReLU (0)",
    )
    act.add_argument(
        "--quick",
        action="store_true",
        help="3 seeds, 5 slopes, learning rates 0.5 and 0.1 and the exact flow ('flow')",
    )
    act.add_argument("--out", default="relubias_results", help="output folder (CSV and PNG)")
    act.add_argument("--random-state", type=int, default=0, help="seed of the sweep")
    args = parser.parse_args(argv)
    # the numerics are imported only in _run: --help and --version do not pay for them
    # SIGTERM as Ctrl-C: workers are stopped, the store closed and staged outputs
    # discarded; for reproduce the finished cells stay.
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if main_thread else None
    try:
        return _run(args)
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)


def _run(args):
    """Run the parsed command; return its exit status."""
    from ._reproduce import OutputError, activations, reproduce
    from .experiments._store import StoreError

    try:
        if args.command == "activations":
            activations(quick=args.quick, out=args.out, random_state=args.random_state)
        else:
            reproduce(
                quick=args.quick,
                out=args.out,
                n_jobs=args.n_jobs,
                random_state=args.random_state,
                fresh=args.fresh,
            )
    except OutputError as exc:
        print(f"relubias: error: {exc}", file=sys.stderr)
        return exc.code
    except StoreError as exc:  # the store holds another sweep
        print(
            f"relubias: error: {exc}\nrelubias reproduce --fresh discards it and starts over.",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        if args.command == "activations":
            print("\nrelubias: interrupted; nothing was written.", file=sys.stderr)
        else:
            print(
                f"\nrelubias: interrupted. The finished cells are kept in "
                f"{Path(args.out) / STORE}; run the same command again to resume.",
                file=sys.stderr,
            )
        return 130
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
