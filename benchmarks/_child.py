"""Entry points run in a fresh child process; each prints one JSON line.

    python -m benchmarks._child scaling N D ITERS REPEATS
    python -m benchmarks._child cold_start N D
    python -m benchmarks._child default_fit N D GAP
    python -m benchmarks._child memory_path KIND N D OP AVAILABLE_MB
    python -m benchmarks._child interrupt PATH N D DELAY
    python -m benchmarks._child jax_loop N D M STEPS REPEATS OUT

Heavy imports happen inside the functions so that ``cold_start`` can time them.
"""

import json
import sys
import time

from benchmarks._rss import current_rss_bytes, peak_rss_bytes, reset_peak_rss


def _estimator(max_iter):
    """The paper's model (two neurons, zero start), exactly ``max_iter`` steps, no gap."""
    from sklearn_relubias import PAPER_MODEL, ShallowReLURegressor

    return ShallowReLURegressor(
        **{**PAPER_MODEL, "max_iter": max_iter, "tol": 0.0, "compute_min_norm_gap": False}
    )


def scaling(n, d, iters, repeats):
    """Setup and per-iteration time, and peak memory, of one (n, d) problem.

    The kernels are loaded by a tiny warm-up fit; the RSS high-water mark is
    reset and the baseline RSS taken; X is generated here, in this process.
    Then fits with ``max_iter=1`` and ``max_iter=1 + iters`` alternate
    ``repeats`` times, each also reporting the seconds it spent in the
    gradient-descent backend (``decisions_['kernel_seconds']``); then one
    more fit runs under tracemalloc to count the NumPy allocations it makes
    beyond X.
    """
    import tracemalloc
    import warnings

    import numpy as np
    from sklearn.exceptions import ConvergenceWarning

    from benchmarks._common import kernel_seconds, measure

    warnings.simplefilter("ignore", ConvergenceWarning)
    rng = np.random.default_rng(0)
    _estimator(5).fit(rng.standard_normal((20, 50)), rng.standard_normal(20))
    peak_was_reset = reset_peak_rss()
    base_rss = current_rss_bytes()
    start = time.perf_counter()
    X = rng.standard_normal((n, d))
    y = rng.standard_normal(n)
    generate_s = time.perf_counter() - start

    def fit(max_iter):
        return kernel_seconds(_estimator(max_iter).fit(X, y))  # estimator dropped right away

    timings = measure(
        {"setup": lambda: fit(1), "full": lambda: fit(1 + iters)}, repeats, warmup=False
    )
    peak_rss = peak_rss_bytes()
    tracemalloc.start()
    tracemalloc.reset_peak()
    fit(1 + iters)
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "n": n,
        "d": d,
        "iters": iters,
        "x_bytes": X.nbytes,
        "generate_s": generate_s,
        "setup_s": timings["setup"].times,
        "full_s": timings["full"].times,
        "setup_kernel_s": timings["setup"].results,
        "full_kernel_s": timings["full"].results,
        "base_rss": base_rss,
        "peak_rss": peak_rss,
        "traced_peak": traced_peak,
        "peak_was_reset": peak_was_reset,
    }


def cold_start(n, d):
    """Import time, then the first and second default fit on dense data (n < 1.5 d: the dual path).

    Run with NUMBA_CACHE_DIR pointing at an empty directory, the first fit
    includes compiling the kernels; with a filled one, loading them.
    """
    import warnings

    start = time.perf_counter()
    import numpy as np

    from sklearn_relubias import ShallowReLURegressor  # timed: numpy, scipy, sklearn, numba

    import_s = time.perf_counter() - start
    warnings.simplefilter("ignore")  # ConvergenceWarning and the like: not what is timed
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((n, d)), rng.standard_normal(n)
    fits = []
    for _ in range(2):
        start = time.perf_counter()
        ShallowReLURegressor().fit(X, y)
        fits.append(time.perf_counter() - start)
    return {"import_s": import_s, "first_fit_s": fits[0], "second_fit_s": fits[1]}


def default_fit(n, d, gap):
    """Wall time and peak memory of ``ShallowReLURegressor(compute_min_norm_gap=gap).fit``.

    ``gap`` is ``auto`` (the default, not passed), 1 (True) or 0 (False); every
    other parameter is the default but ``random_state=0``. A small fit of the same shape (n > d)
    first loads the kernels, so compile time is excluded; then the RSS
    high-water mark is reset, the Gaussian data generated and the fit timed.
    The peak is that of the whole process (interpreter and libraries
    included), which is what a memory limit sees.
    """
    import warnings

    import numpy as np

    from sklearn_relubias import ShallowReLURegressor

    warnings.simplefilter("ignore")  # ConvergenceWarning and the like: not what is timed
    # the same start in every variant (random_state=0), so that they differ by the gap alone
    params = {"random_state": 0}
    if gap != "auto":
        params["compute_min_norm_gap"] = bool(gap)
    rng = np.random.default_rng(0)
    ShallowReLURegressor(**params).fit(rng.standard_normal((50, 5)), rng.standard_normal(50))
    reset_peak_rss()
    X, y = rng.standard_normal((n, d)), rng.standard_normal(n)
    start = time.perf_counter()
    est = ShallowReLURegressor(**params).fit(X, y)
    fit_s = time.perf_counter() - start
    return {
        "fit_s": fit_s,
        "peak_rss": peak_rss_bytes(),
        "n_iter": est.n_iter_,
        "status": est.decisions_["status"],
        "gap": est.decisions_["min_norm_gap"],
    }


def memory_path(kind, n, d, op, available_mb):
    """Extra peak RSS of one op and the memory decisions taken (case 9).

    See :func:`benchmarks._memory_paths.child_measure`.
    """
    from benchmarks._memory_paths import child_measure

    return child_measure(kind, n, d, op, available_mb)


def interrupt(path, n, d, delay):
    """Seconds until a SIGINT sent after ``delay`` reaches the caller of fit (case 11).

    ``delay``: milliseconds, or ``gram+MS`` (see :func:`benchmarks._interrupts.child_measure`).
    """
    from benchmarks._interrupts import child_measure

    return child_measure(path, n, d, delay)


def jax_loop(n, d, m, steps, repeats, out):
    """Case 13's JAX primal loop in a process started with one XLA thread (``XLA_FLAGS``).

    See :func:`benchmarks._torch.jax_child`; the final weights go to the file ``out``.
    """
    from benchmarks._torch import jax_child

    return jax_child(n, d, m, steps, repeats, out)


def _arg(text):
    """A number where the text is one (``"1e4"`` -> 10000), else the text itself."""
    try:
        return int(float(text))
    except ValueError:
        return text


def main(argv):
    command, *args = argv
    commands = {
        "scaling": scaling,
        "cold_start": cold_start,
        "default_fit": default_fit,
        "memory_path": memory_path,
        "interrupt": interrupt,
        "jax_loop": jax_loop,
    }
    try:
        result = commands[command](*map(_arg, args))
    except MemoryError:  # under the parent's memory limit: a result, not a crash
        result = {"error": "MemoryError"}
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
