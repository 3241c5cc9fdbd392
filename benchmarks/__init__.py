"""Benchmark suite of sklearn_relubias.

Run from the repository root::

    python -m benchmarks                 # full sizes (~50 min); writes benchmarks/results/
    python -m benchmarks --quick         # small sizes (a minute or two); writes a temporary dir
    python -m benchmarks --cases 1,4
    python -m benchmarks --allow-dirty   # run from uncommitted changes, outputs marked DIRTY

Results describe a commit: the command refuses to run when the tree differs
from HEAD (modified, staged or untracked files; ``benchmarks/results/`` itself
excepted) and exits with an error, unless ``--allow-dirty`` is passed, in which
case the summary's title, the text report and every CSV line say "DIRTY TREE:
numbers do not describe a commit". The machine description records the full
commit hash.

Outputs: ``latest.txt`` (what is printed), ``summary.md`` and ``latest.csv``.
A full run writes them to ``benchmarks/results/``; a quick run writes them to
a new temporary directory (its path is printed) and never touches
``benchmarks/results/``.

Cases
-----
1. Gradient-descent fit on one trajectory: ShallowReLURegressor (dual path) vs
   a NumPy data-span loop of the same recursion (the ratio measures the
   implementation), a NumPy primal loop (a different algorithm: O(n d m) per
   step instead of O(n^2 m); the ratio measures algorithm and implementation)
   and scikit-learn's MLPRegressor (full-batch SGD); plus a trajectory study,
   a breakdown of where fit spends its time, and a default fit on the dual
   path (n=800, d=8000) with what its ``decisions_`` say it computed once.
2. Minimum-norm solve: MinNormReLURegressor vs cvxpy + Clarabel on the primal
   program, with independently computed KKT residuals.
3. Scaling of ShallowReLURegressor in n and d: time per iteration, one-off setup
   and peak memory, each size in a child process.
4. Time per GD step on the dual path (difference of two fits) vs one BLAS
   ``K @ C`` product.
5. Cold start with an empty Numba cache: import, first and second default fit
   in a fresh process; first fit with a warm cache; ``relubias reproduce
   --quick`` with an empty and a warm cache.
6. Both estimators on a sparse TF-IDF matrix of 20-newsgroups size.
7. Tall data (n >> d): the default ``ShallowReLURegressor().fit(X, y)`` (its
   'auto' gap skipped there) vs ``compute_min_norm_gap=True`` and ``=False``,
   time and peak memory, each fit in a fresh process under a memory limit.
8. Chunked gradient descent (Ctrl-C, callbacks): one kernel call vs the
   default chunks (~0.2 s each) vs callbacks set (100 chunks), one BLAS thread.
9. Memory decisions: the GD path 'auto' takes and the minimum-norm route, the
   package's memory plan (``_memory``, read from ``decisions_``) vs the
   measured extra peak RSS of ``min_norm_reference`` and of fits, each shape
   in a fresh process; plus a simulated small memory budget (refusals before
   allocating).
10. MinNormReLURegressor accuracy vs cond(X) (1 to 1e12) on planted problems
   with a known answer, against the normal equations (cond^2) and lstsq.
11. Ctrl-C latency: a real SIGINT sent by a fresh child process to itself
   during a long fit (dual GD, tall primal GD, GD with scikit-learn callbacks,
   the minimum-norm program in a Gram product or an eigendecomposition):
   seconds until ``KeyboardInterrupt`` reaches the caller, where it was raised,
   whether the interrupted refit kept the previous fitted attributes, and the
   child's return code and total run time (a BLAS/LAPACK call in progress
   finishes in the background before the process exits).
12. Rank-deficient and centred inputs: MinNormReLURegressor and
   ``ShallowReLURegressor(**PAPER_MODEL)`` (the gap computed) fit on X centred
   by StandardScaler (rank n - 1) vs the same X raw, alternating repeats, with
   ``decisions_['reference_route']`` and ``kkt_residual_``; duplicated rows
   (the 'deficient' route) vs the same rows without them; dual vs primal GD
   with the linear activation on centred X (``decisions_['handed_over_to_X_at']``,
   ``n_iter_``).
13. ShallowReLURegressor vs a PyTorch CPU loop of the same gradient-descent
   recursion (same ``W0`` and step), side by side: a primal loop, and for
   n < d a Gram-form loop like the package's dual path, plus a JAX jitted
   primal loop on the primal shapes where ``jax[cpu]`` installs (its
   one-thread row in a child process with ``XLA_FLAGS``); end-to-end and
   per-step time with one thread (BLAS, Numba, PyTorch, XLA) and with the
   default threads, and the final weights' agreement; the package's step
   against one streaming pass over X (primal) or one NumPy ``K @ C`` (Gram);
   and ``solver='auto'`` on both sides of its switch (its cost model:
   forming K plus the steps on K against the steps on X): primal vs dual
   fits, the estimate and which one it picked. Needs
   ``pip install ".[benchmark]"`` (torch, jax[cpu]);
   skips itself without torch, and drops the JAX rows without jax.

Which model: the cases about what a user's default fit costs (case 1's
default fit, 5, 7) use ``ShallowReLURegressor()``'s defaults (16 neurons, a
random start, learning_rate=1, an intercept, the window rule
``n_iter_no_change=50``, ``compute_min_norm_gap='auto'``); the cases about the
paper's recursion, its gap or the machinery around them (1 a-d, 3, 4, 6, 8, 9,
11, 12) fit ``ShallowReLURegressor(**PAPER_MODEL, ...)`` (2 neurons, a zero
start, learning_rate=0.1, no intercept, ``n_iter_no_change=None``, the gap
computed), so that their numbers stay comparable with the runs before the
defaults changed (a13d73a) and fixed-step timings take every step; case 13
states its own parameters.

Every timed call gets a warm-up call first (reported separately; cold Numba
compile and cache-load times are measured in fresh processes by case 5); the
alternatives of a case are then timed in interleaved rounds and summarised by
their median. Several cases run twice: with the default BLAS threads and inside
``threadpoolctl.threadpool_limits(1)``. On a shared machine the numbers are
noisy: compare ratios measured in the same run. The benchmarks use the public
estimator API and read what the package records: kernel time, path, route,
memory plan and counts from a fitted estimator's ``decisions_``, counts from
``Precomputed``; nothing in the package is wrapped to observe it. Two cases
change a setting instead: case 8 sets ``_gd._driver.FIRST_CHUNK`` (one kernel
call) and case 9's last shape replaces ``_memory.available_bytes`` in its
child (a simulated small machine).
"""
