"""Benchmark suite of sklearn_relubias.

Run from the repository root::

    python -m benchmarks            # full sizes (several minutes)
    python -m benchmarks --quick    # small sizes (about a minute)
    python -m benchmarks --cases 1,4

Cases
-----
1. Gradient-descent fit on one trajectory: ShallowReLURegressor vs a plain NumPy
   primal loop of the same math vs scikit-learn's MLPRegressor (full-batch SGD).
2. Minimum-norm solve: MinNormReLURegressor vs cvxpy + Clarabel on the primal
   program, with independently computed KKT residuals.
3. Scaling of ShallowReLURegressor in n and d: time per iteration, one-off setup
   and peak memory, each size in a child process.
4. Per-iteration kernel time vs one BLAS ``K @ C`` product.
5. Start-up: Numba compile (cold cache) and first-fit overhead with a warm cache.
6. ``jump_to_limit=True`` against plain stepping to a tight ``tol``.
7. Both estimators on a sparse TF-IDF matrix of 20-newsgroups size.

Every timed call gets a warm-up call first (reported separately; cold Numba
compile and cache-load times are measured in fresh processes by case 5); the
alternatives of a case are then timed in interleaved rounds and summarised by
their median. Most cases run twice: with the default BLAS threads and inside
``threadpoolctl.threadpool_limits(1)``. On a shared machine the numbers are
noisy: compare ratios measured in the same run.
Results go to ``benchmarks/results/`` (CSV, markdown summary, printed text).
"""
