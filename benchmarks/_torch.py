"""Case 13: the package against a PyTorch CPU loop (and a JAX jitted loop) of the same recursion.

The model is ``f(x) = sum_j a_j relu(<w_j, x>)`` with ``a = +1, -1, +1, ...``,
the loss ``L = 1/(2n) sum_i r_i^2`` and the gradient ``dL/dw_j = 1/n sum_i
r_i a_j 1[<w_j, x_i> >= 0] x_i`` (``relu'(0) = 1``), stepped with ``eta =
learning_rate n / (||a||^2 lambda_max(X^T X))``. The package fits
``ShallowReLURegressor(n_neurons=m, init='random', init_scale=1.0,
random_state=0, learning_rate=1.0, max_iter=S, tol=0.0,
n_iter_no_change=None, fit_intercept=False, compute_min_norm_gap=False)``;
the loops start from its ``init_hidden_weights_`` and step with its
``step_size_``, so every implementation runs the same iterates:

- a PyTorch primal loop: ``P = X W^T``, ``r = relu(P) a - y``, ``G = (r
  a^T) * (P >= 0)``, ``W <- W - eta G^T X / n``;
- for ``n < d`` a PyTorch Gram-form loop, the package's dual recursion: ``K =
  X X^T`` once, ``D = G / n``, ``C <- C - eta D``, ``P <- P - eta K D``, and
  ``W = W0 + C^T X`` at the end;
- where JAX is installed, a jitted ``lax.fori_loop`` of the primal recursion
  on the primal shapes; XLA sizes its CPU thread pools when its backend
  starts (threadpoolctl does not reach them), so its one-thread row runs in a
  child process started with ``XLA_FLAGS`` for one thread.

torch and jax are imported here only, inside :func:`run` (``pip install
".[benchmark]"``); the package never imports them. Without torch the case
prints what it needs and skips itself.
"""

import sys
import time
import warnings
from contextlib import contextmanager

import numba
import numpy as np
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning

from sklearn_relubias import ShallowReLURegressor

from ._common import (
    ChildFailed,
    Section,
    Target,
    Timing,
    all_pass_target,
    gaussian_data,
    kernel_seconds,
    measure,
    run_child,
    us,
)
from ._machine import load_average
from ._sparse import tfidf_like

# Targets (see the module docstring of benchmarks and the notes of each section).
VS_TORCH_GOAL = 1.0  # package time / best torch loop time, end to end and per step
PASS_GOAL = 1.5  # primal step / one streaming pass over X
GRAM_GOAL = 1.2  # Gram step / one NumPy K @ C, at m = GRAM_TARGET_M
GRAM_TARGET_M = 16
THREADS_GOAL = 1.10  # default threads / one thread, the package's fit and step
AGREE_GOAL = 1e-12  # max |W - W_pkg| / max |W_pkg|

SETTINGS = {"default": "default threads", "1": "1 thread"}

INSTALL_HINT = 'case 13 needs PyTorch: pip install ".[benchmark]" (torch, jax[cpu])'


# ---------------------------------------------------------------------------
# optional imports and thread settings


def _import_torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def _import_jax():
    """``(jax, jax.numpy, None)``, or ``(None, None, reason)`` when JAX is not usable."""
    try:
        import jax

        jax.config.update("jax_enable_x64", True)  # float64 like the others
        import jax.numpy as jnp

        jnp.zeros(1).block_until_ready()  # the CPU backend starts here
    except Exception as exc:  # not installed, or no CPU backend
        return None, None, f"{type(exc).__name__}: {exc}"
    return jax, jnp, None


@contextmanager
def one_thread(torch):
    """One thread everywhere: BLAS/OpenMP pools (threadpoolctl), Numba and PyTorch."""
    from threadpoolctl import threadpool_limits

    numba_before, torch_before = numba.get_num_threads(), torch.get_num_threads()
    with threadpool_limits(limits=1):
        numba.set_num_threads(1)
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(torch_before)
            numba.set_num_threads(numba_before)


@contextmanager
def _no_context():
    yield


def _threads(setting, torch):
    return one_thread(torch) if setting == "1" else _no_context()


# ---------------------------------------------------------------------------
# the package


def package_estimator(m, steps, solver):
    """The fixed-step fit of this case (no stopping rule, no intercept, no gap)."""
    return ShallowReLURegressor(
        n_neurons=m,
        init="random",
        init_scale=1.0,
        random_state=0,
        learning_rate=1.0,
        max_iter=steps,
        tol=0.0,
        n_iter_no_change=None,
        fit_intercept=False,
        compute_min_norm_gap=False,
        solver=solver,
    )


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter reached with tol=0
        return est.fit(X, y)


def balanced(m):
    return np.array([1.0 if j % 2 == 0 else -1.0 for j in range(m)])


# ---------------------------------------------------------------------------
# the PyTorch loops


def torch_step_size(torch, X, a, learning_rate=1.0):
    """``(eta, K or None)``: the step from the smaller Gram matrix, as a user would compute it.

    ``X X^T`` when ``n <= d`` (returned: the Gram loop reuses it), else
    ``X^T X``; its top eigenvalue by ``torch.linalg.eigvalsh`` up to 1000 rows
    (as the package), by ``torch.lobpcg`` above (the package: Lanczos).
    """
    n, d = X.shape
    K = X @ X.T if n <= d else None
    M = K if K is not None else X.T @ X
    if M.shape[0] <= 1000:
        lam = float(torch.linalg.eigvalsh(M)[-1])
    else:
        lam = float(torch.lobpcg(M, k=1, largest=True)[0][0])
    return learning_rate * n / (float(a @ a) * lam), K


def torch_primal(torch, X_np, y_np, W0_np, eta, steps):
    """The primal loop; returns ``{'setup', 'loop', 'steps', 'eta', 'W'}``.

    Seconds of the setup and of the loop, the steps, the step size the setup
    computed (timed as part of it; the loop steps with the package's ``eta``
    so that the iterates are the same) and the final weights.
    """
    with torch.inference_mode():
        t0 = time.perf_counter()
        X, y = torch.from_numpy(X_np), torch.from_numpy(y_np)
        m = W0_np.shape[0]
        a = torch.from_numpy(balanced(m))
        W = torch.from_numpy(W0_np).clone()
        own_eta, _ = torch_step_size(torch, X, a)
        n = X.shape[0]
        t1 = time.perf_counter()
        for _ in range(steps):
            P = X @ W.T
            r = torch.clamp_min(P, 0.0) @ a - y
            G = torch.outer(r, a) * (P >= 0.0)
            W.sub_(G.T @ X, alpha=eta / n)
        t2 = time.perf_counter()
        W_out = W.numpy()
    return {"setup": t1 - t0, "loop": t2 - t1, "steps": steps, "eta": own_eta, "W": W_out}


def torch_gram(torch, X_np, y_np, W0_np, eta, steps):
    """The Gram-form loop (the package's dual recursion); returns as :func:`torch_primal`.

    ``'setup'`` covers K, the step size and ``P0 = X W0^T``; the final ``W0
    + C^T X`` is counted in the end-to-end time, not in ``'loop'``.
    """
    with torch.inference_mode():
        t0 = time.perf_counter()
        X, y = torch.from_numpy(X_np), torch.from_numpy(y_np)
        m = W0_np.shape[0]
        a = torch.from_numpy(balanced(m))
        W0 = torch.from_numpy(W0_np)
        own_eta, K = torch_step_size(torch, X, a)
        n = X.shape[0]
        P = X @ W0.T
        C = torch.zeros_like(P)
        t1 = time.perf_counter()
        for _ in range(steps):
            r = torch.clamp_min(P, 0.0) @ a - y
            D = torch.outer(r, a) * (P >= 0.0) / n
            C.sub_(D, alpha=eta)
            P.sub_(K @ D, alpha=eta)
        t2 = time.perf_counter()
        W_out = (W0 + C.T @ X).numpy()
    return {"setup": t1 - t0, "loop": t2 - t1, "steps": steps, "eta": own_eta, "W": W_out}


def make_jax_primal(jax, jnp):
    """A jitted ``lax.fori_loop`` of the primal recursion, and its end-to-end driver."""
    from functools import partial

    @partial(jax.jit, static_argnums=(5,))
    def loop(X, y, a, W0, eta, steps):
        n = X.shape[0]

        def body(_, W):
            P = X @ W.T
            r = jnp.maximum(P, 0.0) @ a - y
            G = jnp.outer(r, a) * (P >= 0.0)
            return W - (eta / n) * (G.T @ X)

        return jax.lax.fori_loop(0, steps, body, W0)

    @jax.jit
    def step_size(X, a):
        M = X.T @ X if X.shape[0] > X.shape[1] else X @ X.T
        return X.shape[0] / ((a @ a) * jnp.linalg.eigvalsh(M)[-1])

    def run(X_np, y_np, W0_np, eta, steps):
        t0 = time.perf_counter()
        X, y = jnp.asarray(X_np), jnp.asarray(y_np)
        a, W0 = jnp.asarray(balanced(W0_np.shape[0])), jnp.asarray(W0_np)
        own_eta = float(step_size(X, a))
        t1 = time.perf_counter()
        W = loop(X, y, a, W0, eta, steps).block_until_ready()
        t2 = time.perf_counter()
        W = np.asarray(W)
        return {"setup": t1 - t0, "loop": t2 - t1, "steps": steps, "eta": own_eta, "W": W}

    return run


# XLA's CPU backend sizes its thread pools when it starts: one thread needs a new process.
XLA_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def jax_child(n, d, m, steps, repeats, out):
    """In a child started with ``XLA_FLAGS=XLA_ONE_THREAD``: the JAX loop at one shape.

    The data, ``W0`` and ``eta`` are made as in the parent (same seeds, a
    one-step package fit); a warm-up call (with the compilation), then
    ``repeats`` timed calls. Returns the seconds and writes the final weights
    to ``out`` (``.npy``).
    """
    jax, jnp, missing = _import_jax()
    if jax is None:
        return {"error": missing}
    numba.set_num_threads(1)
    run = make_jax_primal(jax, jnp)
    X, y = gaussian_data(n, d, seed=13)
    probe = _fit(package_estimator(m, 1, "primal"), X, y)
    W0, eta = probe.init_hidden_weights_, probe.step_size_
    start = time.perf_counter()
    run(X, y, W0, eta, steps)
    first = time.perf_counter() - start
    times, loops = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        res = run(X, y, W0, eta, steps)
        times.append(time.perf_counter() - start)
        loops.append(res["loop"])
    np.save(out, res["W"])
    return {"first": first, "times": times, "loops": loops, "steps": steps, "eta": res["eta"]}


def jax_one_thread(n, d, m, steps, repeats):
    """Timing of the JAX loop on one XLA thread, from a child process (None if it failed)."""
    import os
    import tempfile

    with tempfile.TemporaryDirectory(prefix="relubias_jax_") as tmp:
        out = os.path.join(tmp, "W.npy")
        flags = " ".join(filter(None, [os.environ.get("XLA_FLAGS"), XLA_ONE_THREAD]))
        env = {**os.environ, "XLA_FLAGS": flags}
        try:
            res = run_child(["jax_loop", n, d, m, steps, repeats, out], env=env, timeout=900)
        except ChildFailed as exc:
            return None, exc.reason
        if "error" in res:
            return None, res["error"]
        W = np.load(out)
    results = [{"loop": loop, "steps": steps, "eta": res["eta"], "W": W} for loop in res["loops"]]
    return Timing(res["first"], res["times"], results), None


# ---------------------------------------------------------------------------
# bounds: one pass over X, the NumPy products of one step


@numba.njit(fastmath=True, cache=False)
def chunk_sum(flat, lo, hi):
    """Sum of ``flat[lo:hi]``: one streaming read (vectorised, several accumulators)."""
    acc = 0.0
    for k in range(lo, hi):
        acc += flat[k]
    return acc


@numba.njit(parallel=True, fastmath=True, cache=False)
def stream_sum(flat, chunks):
    """Sum of all entries of ``flat``, ``chunks`` :func:`chunk_sum` calls on Numba's threads."""
    size = flat.shape[0]
    step = (size + chunks - 1) // chunks
    parts = np.zeros(chunks)
    for c in numba.prange(chunks):
        parts[c] = chunk_sum(flat, c * step, min((c + 1) * step, size))
    return parts.sum()


def _repeat(func, reps):
    def call():
        for _ in range(reps):
            func()

    return call


def _reps(work):
    """Calls per timed sample so that a sample does about 2e8 units of ``work`` per call."""
    return max(3, int(2e8 / max(work, 1)))


def _bounds(X, m, path, repeats):
    """Seconds of one pass over X and the NumPy products of one step, per call (medians).

    Primal: ``stream_sum`` over X and the pair ``X @ W.T``, ``G.T @ X``;
    Gram: one ``K @ C`` (``K = X X^T``, ``C`` of shape (n, m)).
    """
    n, d = X.shape
    rng = np.random.default_rng(13)
    if path == "primal":
        flat = X.reshape(-1)
        W, G = rng.standard_normal((m, d)), rng.standard_normal((n, m))
        size, chunks = flat.shape[0], 4 * numba.get_num_threads()
        chunk_sum(flat, 0, size), stream_sum(flat, chunks)  # compile
        reps, pairs = _reps(n * d), max(3, _reps(n * d) // (2 * m))
        funcs = {
            "pass": _repeat(lambda: chunk_sum(flat, 0, size), reps),
            "gemms": _repeat(lambda: (X @ W.T, G.T @ X), pairs),
        }
        scale = {"pass": reps, "gemms": pairs}
        if numba.get_num_threads() > 1:  # the pass on Numba's threads too; the faster counts
            funcs["parallel pass"] = _repeat(lambda: stream_sum(flat, chunks), reps)
            scale["parallel pass"] = reps
    else:
        K = X @ X.T
        C = rng.standard_normal((n, m))
        S = np.empty((n, m))
        reps = _reps(n * n * m)
        funcs = {"K @ C": _repeat(lambda: np.dot(K, C, out=S), reps)}
        scale = {"K @ C": reps}
    t = measure(funcs, repeats)
    out = {k: t[k].median / scale[k] for k in funcs}
    if "parallel pass" in out:
        out["pass"] = min(out["pass"], out.pop("parallel pass"))
    return out


# ---------------------------------------------------------------------------
# one shape


def _agreement(W, W_ref):
    return float(np.max(np.abs(W - W_ref)) / np.max(np.abs(W_ref)))


def _one_shape(torch, jax_run, n, d, m, steps, repeats, jax_failures):
    """Timings of every implementation at one shape, and the bounds, per thread setting."""
    X, y = gaussian_data(n, d, seed=13)
    path = "dual" if n < d else "primal"
    probe = _fit(package_estimator(m, 1, path), X, y)  # W0 and eta of every run
    W0, eta = probe.init_hidden_weights_, probe.step_size_
    funcs = {"package": lambda: _fit(package_estimator(m, steps, path), X, y)}
    if n < d:
        funcs["torch Gram loop"] = lambda: torch_gram(torch, X, y, W0, eta, steps)
    funcs["torch primal loop"] = lambda: torch_primal(torch, X, y, W0, eta, steps)
    out = {}
    for setting in SETTINGS:
        these = dict(funcs)
        if jax_run is not None and path == "primal" and setting == "default":
            these["JAX primal loop (jit)"] = lambda: jax_run(X, y, W0, eta, steps)
        with _threads(setting, torch):
            timings = measure(these, repeats)
            bound = _bounds(X, m, path, repeats)
        if jax_run is not None and path == "primal" and setting == "1":
            timing, failed = jax_one_thread(n, d, m, steps, repeats)
            if timing is not None:
                timings["JAX primal loop (jit, own process)"] = timing
            else:
                jax_failures.append(f"{n}x{d}x{m}: {failed}")
        out[setting] = (timings, bound)
    return {"path": path, "eta": eta, "runs": out}


def _per_step(name, t):
    """Median seconds per step of one implementation's timed calls."""
    if name == "package":
        return float(np.median([kernel_seconds(e) / e.n_iter_ for e in t.results]))
    return float(np.median([r["loop"] for r in t.results])) / t.results[0]["steps"]


def _weights(name, t):
    return t.result.hidden_weights_ if name == "package" else t.result["W"]


# ---------------------------------------------------------------------------
# solver='auto' on both sides of its switch


def csr_data(n, d, per_row, seed=13):
    """CSR X with standard normal non-zeros, ``per_row`` of them in each row on average."""
    rng = np.random.default_rng(seed)
    X = sparse.random(
        n, d, density=per_row / d, format="csr", random_state=rng, data_rvs=rng.standard_normal
    )
    return X, rng.standard_normal(n)


def _auto_problems(cfg):
    """``(label, X, y)`` for the switch block: dense, CSR and the TF-IDF-like shape."""
    out = []
    for n, d in cfg["dense"]:
        X, y = gaussian_data(n, d, seed=13)
        out.append((f"dense {n}x{d}", X, y))
    for n, d, per_row in cfg["csr"]:
        X, y = csr_data(n, d, per_row)
        out.append((f"CSR {n}x{d}, {per_row}/row", X, y))
    n, d, words = cfg["tfidf"]
    X, y = tfidf_like(n, d, words)
    out.append((f"TF-IDF-like {n}x{d}", X, y))
    return out


def _auto_block(torch, cfg):
    m, steps, repeats = cfg["m"], cfg["steps"], cfg["repeats"]
    sec = Section(
        key="13_auto",
        title=f"13 (solver='auto'). Primal vs dual fits on both sides of the switch "
        f"(m={m}, {steps} steps)",
        headers=[
            "problem",
            "nnz / row",
            "estimated dual / primal",
            "threads",
            "primal fit [s]",
            "dual fit [s]",
            "dual / primal",
            "faster",
            "'auto' picked",
            "auto on the faster side",
        ],
    )
    missed = []
    checks = 0
    for label, X, y in _auto_problems(cfg):
        n, d = X.shape
        per_row = X.nnz / n if sparse.issparse(X) else float(d)
        funcs = {
            s: lambda s=s, X=X, y=y: _fit(package_estimator(m, steps, s), X, y)
            for s in ("primal", "dual")
        }
        for setting, threads in SETTINGS.items():
            with _threads(setting, torch):
                t = measure(funcs, repeats)
                decided = _fit(package_estimator(m, steps, "auto"), X, y).decisions_
            picked = decided["path"]
            est_dual, est_primal = decided["path_estimate"]
            primal, dual = t["primal"].median, t["dual"].median
            faster = "dual" if dual < primal else "primal"
            ok = picked == faster
            checks += 1
            if not ok:
                missed.append(f"{label} ({threads})")
            sec.rows.append(
                [label, per_row, est_dual / est_primal, threads, primal, dual, dual / primal]
                + [faster, picked, ok]
            )
    sec.targets.append(
        all_pass_target(
            "solver='auto' picks the faster path (its cost model: forming K plus max_iter "
            "steps on K against max_iter steps on X)",
            "on the faster side, every problem and thread setting",
            checks,
            missed,
            unit="problems on the faster side",
            failed_as="slower side",
        )
    )
    sec.notes += [
        "Each row: ShallowReLURegressor(n_neurons=m, init='random', random_state=0, "
        f"learning_rate=1, max_iter={steps}, tol=0, n_iter_no_change=None, "
        "fit_intercept=False, compute_min_norm_gap=False, solver='primal' or 'dual') end to "
        "end (the dual fit forms K = X X^T and its top eigenvalue), the two alternating after "
        "a warm-up call each, medians; '1 thread' = threadpoolctl limits 1 + "
        "numba.set_num_threads(1) + torch.set_num_threads(1). 'auto' picked: "
        "decisions_['path'] of a solver='auto' fit with the same settings, in the same thread "
        "setting.",
        "The estimate column is decisions_['path_estimate'] of that fit (dual iff below 1; "
        "sklearn_relubias._plan GRAM_SETUP_COST and the backend's STEP_COST). X dense "
        "Gaussian; CSR: scipy.sparse.random with standard "
        "normal non-zeros (density per_row / d); TF-IDF-like: benchmarks._sparse.tfidf_like "
        "(Zipf words, TfidfTransformer). y standard normal (TF-IDF: a noisy linear target).",
        "A fixed number of steps times the cost of a step and the one-off setup; a fit that "
        "stops early (default stopping rules) weighs the setup more, which favours primal. "
        "With default threads each kernel runs its blocks on Numba's threads when a step's "
        "work (entries read x neurons) is at least 5e7, and the estimate counts them.",
    ]
    return sec


# ---------------------------------------------------------------------------
# the case


class _Checks:
    """Pass/fail checks by target key: how many were made and the names of the failed ones."""

    def __init__(self):
        self.total, self.failed = {}, {}

    def check(self, key, ok, name):
        self.total[key] = self.total.get(key, 0) + 1
        self.failed.setdefault(key, [])
        if not ok:
            self.failed[key].append(name)

    def target(self, key, name, goal, **kwargs):
        return all_pass_target(
            name, goal, self.total.get(key, 0), self.failed.get(key, []), **kwargs
        )


def _tabulate(sec, checks, where, shape, res, setting):
    """Rows of one shape and thread setting; returns the package's (fit, step, weights)."""
    n, d, m, steps = shape
    timings = res["runs"][setting][0]
    pkg = timings["package"]
    pkg_step, W_pkg = _per_step("package", pkg), _weights("package", pkg)
    best = {"e2e": np.inf, "step": np.inf}  # the faster PyTorch loop
    threads = SETTINGS[setting]
    for name, t in timings.items():
        step = _per_step(name, t)
        diff = None
        if name != "package":
            diff = _agreement(_weights(name, t), W_pkg)
            checks.check("agree", diff <= AGREE_GOAL, f"{name} {where}: {diff:.1e}")
        if name.startswith("torch"):
            best = {"e2e": min(best["e2e"], t.median), "step": min(best["step"], step)}
        label = name + (f" ({res['path']})" if name == "package" else "")
        sec.rows.append(
            [n, d, m, steps, threads, label, t.first, t.median, us(step)]
            + [pkg.median / t.median, pkg_step / step, diff]
        )
    for key, mine in (("e2e", pkg.median), ("step", pkg_step)):
        ratio = mine / best[key]
        checks.check(key, ratio <= VS_TORCH_GOAL, f"{where} {ratio:.2f}x")
    return pkg.median, pkg_step, W_pkg


def _bounds_row(checks, where, shape, path, threads, step, bound):
    """The bounds row of one shape and thread setting, and its checks."""
    n, d, m = shape
    row = [n, d, m, path, threads, us(step)]
    if path == "primal":
        one_pass, pair = bound["pass"], bound["gemms"]
        row += [us(one_pass), step / one_pass, us(pair), step / pair, None, None]
        checks.check("pass", step / one_pass <= PASS_GOAL, f"{where} {step / one_pass:.1f}x")
    else:
        kc = bound["K @ C"]
        row += [None, None, None, None, us(kc), step / kc]
        if m == GRAM_TARGET_M:
            checks.check("gram", step / kc <= GRAM_GOAL, f"{where} {step / kc:.2f}x")
    return row


def _skipped(reason):
    return Section(
        key="13_torch",
        title="13. Package vs PyTorch CPU loop: SKIPPED",
        headers=["skipped"],
        rows=[[reason]],
        targets=[Target("case 13 (package vs PyTorch)", "run", reason, None)],
    )


def run(cfg):
    torch = _import_torch()
    if torch is None:
        print(f"[benchmarks] {INSTALL_HINT}; skipping case 13", file=sys.stderr, flush=True)
        return [_skipped(INSTALL_HINT)]
    jax, jnp, jax_missing = _import_jax()
    jax_run = make_jax_primal(jax, jnp) if jax is not None else None
    repeats = cfg["repeats"]

    main = Section(
        key="13_torch",
        title="13. ShallowReLURegressor vs a PyTorch CPU loop of the same recursion "
        "(same W0, same eta)",
        headers=[
            "n",
            "d",
            "m",
            "steps",
            "threads",
            "implementation",
            "warm-up [s]",
            "end to end [s]",
            "per step [us]",
            "pkg / this, end to end",
            "pkg / this, per step",
            "max rel. diff of W vs pkg",
        ],
    )
    bounds = Section(
        key="13_bounds",
        title="13 (bounds). The package's step vs one pass over X (primal) or one NumPy K @ C "
        "(Gram)",
        headers=[
            "n",
            "d",
            "m",
            "path",
            "threads",
            "package step [us]",
            "one pass over X [us]",
            "step / pass",
            "NumPy X @ W.T + G.T @ X [us]",
            "step / GEMM pair",
            "NumPy K @ C [us]",
            "step / K @ C",
        ],
    )
    checks = _Checks()
    eta_diffs, same_across_threads, loads, jax_failures = [], [], [], []
    for n, d, m, steps in cfg["shapes"]:
        shape = f"{n}x{d}x{m}"
        loads.append(f"{shape}: {load_average()}")
        res = _one_shape(torch, jax_run, n, d, m, steps, repeats, jax_failures)
        per_setting = {}
        for setting, threads in SETTINGS.items():
            timings, bound = res["runs"][setting]
            where = f"{shape} ({threads})"
            per_setting[setting] = _tabulate(main, checks, where, (n, d, m, steps), res, setting)
            eta_diffs += [
                abs(t.result["eta"] - res["eta"]) / res["eta"]
                for name, t in timings.items()
                if name != "package"
            ]
            step = per_setting[setting][1]
            bounds.rows.append(
                _bounds_row(checks, where, (n, d, m), res["path"], threads, step, bound)
            )
        (e2e_d, step_d, W_d), (e2e_1, step_1, W_1) = per_setting["default"], per_setting["1"]
        same = "bitwise equal" if np.array_equal(W_d, W_1) else f"{_agreement(W_d, W_1):.1e}"
        same_across_threads.append(f"{shape}: {same}")
        for label, ratio in (("fit", e2e_d / e2e_1), ("step", step_d / step_1)):
            checks.check("threads", ratio <= THREADS_GOAL, f"{shape} {label} {ratio:.2f}x")

    main.targets += [
        checks.target(
            "e2e",
            "package vs best PyTorch loop, end to end (fit vs setup + loop)",
            f"package / torch <= {VS_TORCH_GOAL:g} at every shape and thread setting",
            unit="shape x threads",
            failed_as="slower",
        ),
        checks.target(
            "step",
            "package vs best PyTorch loop, per step",
            f"package / torch <= {VS_TORCH_GOAL:g} at every shape and thread setting",
            unit="shape x threads",
            failed_as="slower",
        ),
        checks.target(
            "agree",
            "final weights agree with the package's (torch and JAX loops)",
            f"max |W - W_pkg| / max |W_pkg| <= {AGREE_GOAL:g}",
            unit="loops",
            failed_as="differ",
        ),
        checks.target(
            "threads",
            "package default threads vs one thread (fit and step)",
            f"default <= {THREADS_GOAL:g}x one thread",
            unit="shape x (fit, step)",
            failed_as="slower",
        ),
    ]
    bounds.targets += [
        checks.target(
            "pass",
            "primal step vs one streaming pass over X",
            f"<= {PASS_GOAL:g}x one pass",
            unit="shape x threads",
            failed_as="above",
        ),
        checks.target(
            "gram",
            f"Gram step vs one NumPy K @ C (m={GRAM_TARGET_M})",
            f"<= {GRAM_GOAL:g}x",
            unit="shape x threads",
            failed_as="above",
        ),
    ]
    main.notes += [
        "Load average (1/5/15 min) before each shape: " + "; ".join(loads) + ". The machine "
        "has 2 cores; with other processes running, multi-threaded OpenMP/OpenBLAS code "
        "(PyTorch, Numba's parallel primal kernel, BLAS in the setup) waits for descheduled "
        "threads at every barrier, so the default-thread rows degrade far more than the "
        "one-thread rows: read them against the load.",
        "Same iterates: every loop starts from the package's init_hidden_weights_ "
        "(init='random', init_scale=1, random_state=0) and steps with its step_size_ "
        "(learning_rate=1); X, y standard normal (seed 13); the package fits with "
        "solver='dual' for n < d and 'primal' otherwise, tol=0, n_iter_no_change=None, "
        "fit_intercept=False, compute_min_norm_gap=False, so it takes exactly 'steps' steps.",
        "End to end: the package's fit (validation, W0, K and its top eigenvalue or "
        "lambda_max(X^T X), the kernel, the weights) vs the loop's setup + loop + final "
        "weights: torch.from_numpy (no copy), the smaller Gram matrix and its top eigenvalue "
        "(eigvalsh up to 1000 rows, torch.lobpcg above; the loop then steps with the "
        "package's eta: largest relative difference of the step the loops computed "
        f"themselves {max(eta_diffs, default=0.0):.1e}), P0 = X W0^T (Gram form), and "
        "W0 + C^T X at the end (Gram form). Per step: the package's "
        "decisions_['kernel_seconds'] / n_iter_ (it also evaluates the loss, the gradient "
        "norm and the pattern changes every step, which the bare loops do not); the loops' "
        "loop time / steps.",
        "pkg / this: the package's median over this row's (below 1: the package is faster). "
        "The targets compare with the faster PyTorch loop of each shape and setting.",
        "Threads: 'default' as the process starts; '1 thread' = threadpoolctl "
        "threadpool_limits(1) (OpenBLAS and both OpenMP runtimes) + numba.set_num_threads(1) "
        "+ torch.set_num_threads(1), timed as a second block. Medians over the repeats, "
        "implementations interleaved round by round after a warm-up call each (JAX's "
        "warm-up includes its compilation).",
        "JAX: "
        + (
            "a jitted lax.fori_loop of the primal recursion on the primal shapes (x64). "
            "Default threads: in this process, interleaved with the others. One thread: "
            "XLA sizes its CPU thread pools when its backend starts (threadpoolctl and "
            "torch.set_num_threads do not reach it), so that row is a separate `python -m "
            "benchmarks._child jax_loop` process started with XLA_FLAGS='"
            + XLA_ONE_THREAD
            + "' (same data, W0 and eta; warm-up, then the repeats back to back, not "
            "interleaved)." + (f" Failed: {'; '.join(jax_failures)}." if jax_failures else "")
            if jax_run is not None
            else f"not available ({jax_missing}); no JAX rows."
        ),
        "The package's weights with default threads vs one thread (max relative "
        "difference; the Gram kernel and the primal kernel do not depend on the thread count, "
        "the BLAS products of the setup, K = X X^T and W0 + C^T X, may): "
        + ", ".join(same_across_threads)
        + ".",
    ]
    bounds.notes += [
        "one pass over X: a compiled Numba loop summing every entry of X (fastmath: "
        "vectorised; with default threads also in 4 chunks per thread with prange, the faster "
        "of the two counts): the read alone, i.e. what one read of X costs where it comes "
        "from (L2/L3 for small X, memory for large). The package's primal "
        "step reads X once per step (pre-activations and gradient part block by block) and "
        "does 2 m multiply-adds per entry. NumPy X @ W.T + G.T @ X: the two products of one "
        "primal step with OpenBLAS (W, G random).",
        "NumPy K @ C: np.dot(K, C, out=S) with K = X X^T, C random (n x m), OpenBLAS; the "
        f"target applies at m = {GRAM_TARGET_M}. Every bound is a median over the repeats "
        "(each sample a loop of calls), timed in the same thread setting after the "
        "implementations.",
    ]
    sections = [main, bounds, _auto_block(torch, cfg["auto"])]
    return sections
