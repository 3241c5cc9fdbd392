"""Case 3: how ShallowReLURegressor scales in n and d (each size in a child process)."""

import numpy as np

from sklearn_relubias._memory import available_bytes

from ._common import Section, Target, ms, run_child

MB = 2**20


def repeats_for(x_bytes, cfg):
    """More repeats for small problems (noisier, cheap), fewer for huge ones."""
    if x_bytes < 100 * MB:
        return cfg["repeats_small"]
    if x_bytes < 1024 * MB:
        return cfg["repeats_medium"]
    return cfg["repeats_large"]


def fits_in_memory(n, d):
    """Whether X, the Gram matrix and some slack fit comfortably in available RAM."""
    need = 8 * (n * d + 2 * n * n) + 1024 * MB
    available = available_bytes()
    return available is None or need < 0.7 * available


def run(cfg):
    iters = cfg["iters"]
    sizes = [("n, d=10n", n, 10 * n) for n in cfg["n_list"]]
    sizes += [(f"d, n={cfg['n_fixed']}", cfg["n_fixed"], d) for d in cfg["d_list"]]
    sec = Section(
        key="3_scaling",
        title=f"3. ShallowReLURegressor scaling (m=2, dual path, {iters} timed iterations)",
        headers=[
            "sweep",
            "n",
            "d",
            "X [MB]",
            "repeats",
            "fit(max_iter=1) [s]",
            f"fit(max_iter={iters + 1}) [s]",
            "setup = fit - kernel [s]",
            "kernel per iter [ms]",
            "by difference [ms]",
            "K [MB]",
            "peak RSS - base [MB]",
            "/ X",
            "traced extra [MB]",
            "/ X",
        ],
    )
    results = {}
    for sweep, n, d in sizes:
        if (n, d) in results:
            res = results[(n, d)]
        elif not fits_in_memory(n, d):
            sec.rows.append([sweep, n, d, 8 * n * d / MB] + [None] * 11)
            sec.notes.append(f"n={n}, d={d} skipped: not enough free memory on this machine.")
            continue
        else:
            res = run_child(["scaling", n, d, iters, repeats_for(8 * n * d, cfg)])
            results[(n, d)] = res
            if not res["peak_was_reset"]:
                sec.notes.append(f"n={n}, d={d}: RSS peak could not be reset (upper bound).")
        setup, full = np.median(res["setup_s"]), np.median(res["full_s"])
        kernel_1, kernel_full = np.median(res["setup_kernel_s"]), np.median(res["full_kernel_s"])
        outside = np.median(np.subtract(res["full_s"], res["full_kernel_s"]))
        extra_rss = res["peak_rss"] - res["base_rss"]
        sec.rows.append(
            [
                sweep,
                n,
                d,
                res["x_bytes"] / MB,
                len(res["full_s"]),
                setup,
                full,
                outside,
                ms(kernel_full - kernel_1) / iters,
                ms(full - setup) / iters,
                8 * n * n / MB,
                extra_rss / MB,
                extra_rss / res["x_bytes"],
                res["traced_peak"] / MB,
                res["traced_peak"] / res["x_bytes"],
            ]
        )
    sec.notes += [
        "Each size runs in a fresh child process (sequentially, one at a time): kernels are "
        "loaded by a tiny warm-up fit, X is generated inside the child, then fit(max_iter=1) and "
        f"fit(max_iter={iters + 1}) alternate (no full-size warm-up call); medians are shown. "
        "The time inside the Numba kernel is what each fit reports in "
        "decisions_['kernel_seconds'] (the driver's clock around every backend call; "
        "nothing is patched): kernel per iter = "
        f"(kernel time of fit({iters + 1}) - of fit(1)) / {iters}; setup = fit({iters + 1}) "
        "minus its kernel time (validation, X W0^T, Gram, top eigenvalue, W = W0 + C^T X). "
        f"'by difference' = (fit({iters + 1}) - fit(1)) / {iters}, the estimate without "
        "instrumentation, which the setup's noise swamps at large sizes.",
        "peak RSS - base: the RSS high-water mark (VmHWM = getrusage ru_maxrss; reset through "
        "/proc/self/clear_refs after the warm-up) after the timed fits, minus the RSS just "
        "before X was generated: X itself plus everything fit allocates; '/ X' divides by the "
        "size of X. traced extra: tracemalloc peak during one more fit (NumPy "
        "allocations only; X itself excluded, Numba and BLAS internals not seen).",
    ]
    key = (cfg["n_fixed"], max(cfg["d_list"]))
    if key in results and cfg.get("memory_target", False):
        res = results[key]
        ratio = (res["peak_rss"] - res["base_rss"]) / res["x_bytes"]
        sec.targets.append(
            Target(
                f"peak memory at n={key[0]}, d={key[1]:.0e}",
                "< 3x size of X",
                f"{ratio:.2f}x (peak RSS - base)",
                bool(ratio < 3),
            )
        )
    return [sec]
