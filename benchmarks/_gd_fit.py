"""Case 1: one gradient-descent trajectory, four implementations.

a) ShallowReLURegressor (Gram matrix, step size and everything else of ``fit``
   inside the timed call); here n < d, so it runs the data-span (dual) path;
b) a plain NumPy loop of the same recursion in the data span: after one Gram
   product, ``O(n^2 m)`` per step. a) / b) measures the implementation;
c) a plain NumPy loop in weight space: a different algorithm, ``O(n d m)``
   per step. a) / c) measures algorithm and implementation together;
d) scikit-learn's MLPRegressor as full-batch gradient descent with the same
   absolute step. It also has biases and trains its output layer, so its
   trajectory cannot be the package's; the study section shows how close it
   gets when started from the same weights, and that it reproduces the
   package's trajectory once the output layer and biases are frozen.
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor

from sklearn_relubias import PAPER_MODEL, Precomputed, ShallowReLURegressor
from sklearn_relubias.exceptions import StrandedExampleWarning

from ._common import (
    THREAD_SETTINGS,
    Section,
    Target,
    clock,
    fmt,
    gaussian_data,
    kernel_seconds,
    measure_threads,
    ms,
)

LEARNING_RATE = PAPER_MODEL["learning_rate"]  # 0.1: the paper's model throughout a)-d)


def half_mse(X, y, W, a):
    """Training loss ``1/(2n) sum_i (sum_j a_j relu(<w_j, x_i>) - y_i)^2``."""
    return 0.5 * float(np.mean((np.maximum(X @ W.T, 0.0) @ a - y) ** 2))


def gradient_coefficients(P, y, a):
    """``D[i, j] = r_i a_j g_ij / n``: the gradient is ``grad_j = sum_i D[i, j] x_i``.

    ``P`` holds the pre-activations ``<w_j, x_i>``, ``r`` the residuals
    ``f(x_i) - y_i`` and ``g_ij = 1[P_ij >= 0]`` (relu'(0) = 1).
    """
    r = np.maximum(P, 0.0) @ a - y
    return (r[:, None] * a) * (P >= 0.0) / P.shape[0]


def step_size(K, a, learning_rate):
    """``eta = lr n / (||a||^2 lambda_max(X^T X))``, from ``K = X X^T`` (same top eigenvalue)."""
    return learning_rate * K.shape[0] / (a @ a * np.linalg.eigvalsh(K)[-1])


def numpy_dual_gd(X, y, a, W0, learning_rate, n_iter):
    """Plain NumPy gradient descent in the data span, the package's dual recursion.

    ``K = X X^T`` once, then ``C <- C - eta D`` and ``P = X W0^T + K C``:
    ``O(n^2 m)`` per step (shared/design/model.md). Returns the final weights
    ``W0 + C^T X`` and the step size.
    """
    K = X @ X.T
    eta = step_size(K, a, learning_rate)
    P0 = X @ W0.T
    C = np.zeros_like(P0)
    P = P0
    for _ in range(n_iter):
        C -= eta * gradient_coefficients(P, y, a)
        P = P0 + K @ C
    return W0 + C.T @ X, eta


def numpy_primal_gd(X, y, a, W0, learning_rate, n_iter):
    """Plain NumPy gradient descent in weight space: ``O(n d m)`` per step.

    ``W <- W - eta D^T X`` with ``P = X W^T``: the same iterates as
    :func:`numpy_dual_gd` up to rounding, by a different algorithm. Returns
    the final weights and the step size.
    """
    eta = step_size(X @ X.T, a, learning_rate)
    W = W0.copy()
    for _ in range(n_iter):
        W -= eta * (gradient_coefficients(X @ W.T, y, a).T @ X)
    return W, eta


def make_mlp(step, n_iter, n_samples, n_neurons, *, mlp_class=MLPRegressor, **params):
    """MLPRegressor configured as plain full-batch gradient descent with step ``step``."""
    return mlp_class(
        hidden_layer_sizes=(n_neurons,),
        activation="relu",
        solver="sgd",
        batch_size=n_samples,
        momentum=0.0,
        nesterovs_momentum=False,
        alpha=0.0,
        learning_rate="constant",
        learning_rate_init=step,
        max_iter=n_iter,
        shuffle=False,
        tol=0.0,
        n_iter_no_change=n_iter + 1,
        early_stopping=False,
        **params,
    )


class FrozenOutputMLP(MLPRegressor):
    """MLPRegressor whose output weights and biases never move.

    Study only: it overrides the private ``_backprop`` of scikit-learn to zero
    the gradients of the output layer and of all intercepts, which leaves
    exactly the package's model (fixed ``a``, no biases).
    """

    def _backprop(self, *args, **kwargs):
        loss, coef_grads, intercept_grads = super()._backprop(*args, **kwargs)
        coef_grads[-1][...] = 0.0
        for grad in intercept_grads:
            grad[...] = 0.0
        return loss, coef_grads, intercept_grads


def warm_start_mlp(mlp, X, y, W0, a):
    """Set ``mlp`` up to start from hidden weights ``W0``, output weights ``a``, zero biases.

    One throw-away iteration creates the fitted attributes; they are then
    overwritten and ``warm_start=True`` makes the next ``fit`` continue from them.
    """
    n_iter = mlp.max_iter
    mlp.set_params(warm_start=True, max_iter=1)
    mlp.fit(X, y)
    mlp.coefs_ = [W0.T.copy(), a[:, None].copy()]
    mlp.intercepts_ = [np.zeros(a.shape[0]), np.zeros(1)]
    mlp.loss_curve_ = []
    mlp.best_loss_ = np.inf
    mlp._no_improvement_count = 0
    mlp.t_ = 0
    mlp.set_params(max_iter=n_iter)
    return mlp


def mlp_hidden_weights(mlp):
    return mlp.coefs_[0].T


def mlp_loss(mlp, X, y):
    return 0.5 * float(np.mean((mlp.predict(X) - y) ** 2))


def relative(u, v):
    """``||u - v|| / ||v||``."""
    return float(np.linalg.norm(u - v) / np.linalg.norm(v))


def run(cfg):
    """Case 1 sections: timings, trajectory study, time breakdown of the package's fit."""
    n, d, m, T, repeats = cfg["n"], cfg["d"], cfg["m"], cfg["iters"], cfg["repeats"]
    X, y = gaussian_data(n, d, seed=0)
    a = np.array([1.0 if j % 2 == 0 else -1.0 for j in range(m)])  # 'balanced'
    W_zero = np.zeros((m, d))

    def package(fit=True, **params):
        kwargs = dict(  # the paper's model, exactly T steps (no stopping rule), no gap
            PAPER_MODEL,
            n_neurons=m,
            learning_rate=LEARNING_RATE,
            max_iter=T,
            tol=0.0,
            solver="dual",
            compute_min_norm_gap=False,
        )
        est = ShallowReLURegressor(**{**kwargs, **params})
        return est.fit(X, y) if fit else est

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t_cold, first = clock(package)  # the process's first fit if case 1 runs first
        step = first.step_size_
        funcs = {
            "a": package,
            "b": lambda: numpy_dual_gd(X, y, a, W_zero, LEARNING_RATE, T),
            "c": lambda: numpy_primal_gd(X, y, a, W_zero, LEARNING_RATE, T),
            "d": lambda: make_mlp(step, T, n, m, random_state=0).fit(X, y),
        }
        timings = measure_threads(funcs, repeats)
        study = _trajectory_study(X, y, a, step, T, n, m)
        breakdown = _breakdown(X, y, a, T, package, repeats)
        default = _default_fit(*cfg["default_fit"], repeats)

    reg, (W_dual, eta_dual), (W_primal, eta_primal), mlp = (timings[k].result for k in "abcd")
    losses = {
        "a": half_mse(X, y, reg.hidden_weights_, a),
        "b": half_mse(X, y, W_dual, a),
        "c": half_mse(X, y, W_primal, a),
        "d": mlp_loss(mlp, X, y),
    }
    loss_gaps = {k: abs(losses["a"] - losses[k]) / abs(losses[k]) for k in "bc"}
    labels = {
        "a": "a) ShallowReLURegressor (dual path)",
        "b": "b) NumPy data-span loop (same recursion)",
        "c": "c) NumPy primal loop (other algorithm)",
        "d": "d) MLPRegressor (sgd, full batch)",
    }
    sec = Section(
        key="1_gd_fit",
        title=f"1. GD fit, one trajectory (the paper's model): n={n}, d={d}, m={m}, {T} "
        f"iterations, lr={LEARNING_RATE}",
        headers=[
            "implementation",
            "BLAS threads",
            "warm-up call [s]",
            "median [s]",
            "min [s]",
            "repeats",
            "per iter [ms]",
            "median / a) same threads",
            "final train loss",
        ],
    )
    for key in timings:
        t, threads = timings[key], "1" if key.endswith("@1") else "default"
        t_a = timings["a" + key[1:]].median
        sec.rows.append(
            [
                labels[key[0]],
                threads,
                t.first,
                t.median,
                t.min,
                len(t.times),
                ms(t.median) / T,
                t.median / t_a,
                losses.get(key),
            ]
        )
    sec.notes += [
        "What the ratios measure: a) and b) run the same recursion (one O(n^2 d) Gram product, "
        "then C <- C - eta D, P = K C: O(n^2 m) per step), so b) / a) measures the "
        "implementation (compiled kernel vs NumPy calls). c) runs the same iterates by a "
        "different algorithm, in weight space (two O(n d m) products per step), so c) / a) "
        "measures algorithm and implementation together; with d >> n most of it is the "
        "algorithm. d) / a) compares with the general-purpose tool a user would reach for.",
        f"first ShallowReLURegressor fit of this case: {t_cold:.3f} s (in a fresh process this "
        "includes loading the Numba kernels from cache or compiling them; see case 5). The "
        "warm-up column is the call just before the timed repeats.",
        f"absolute step eta = {step:.6e} (package step_size_); the NumPy loops computed "
        f"{eta_dual:.6e} and {eta_primal:.6e} themselves (relative differences "
        f"{abs(eta_dual - step) / step:.1e}, {abs(eta_primal - step) / step:.1e}).",
        *(
            f"final loss a) vs {k}): relative difference {gap:.2e} "
            f"({'OK' if gap <= 1e-10 else 'MISMATCH'}: required <= 1e-10); "
            f"||W_a - W_{k}|| / ||W_{k}|| = {relative(reg.hidden_weights_, W):.2e}."
            for (k, gap), W in zip(loss_gaps.items(), (W_dual, W_primal), strict=True)
        ),
        "d) is timed with MLPRegressor's own (Glorot) initialisation, random_state=0; its "
        "cost per iteration does not depend on the values. Same: loss 1/(2n) sum r^2, "
        "full batch, absolute step = eta, no momentum, no L2, no shuffling, 2 hidden ReLU "
        "units. Not the same: d) also trains the output weights and has biases on both "
        "layers, and uses relu'(0) = 0 (the package uses relu'(0) = 1), so from W0 = 0 its "
        "hidden weights would never move. Its loss is therefore not comparable; see the "
        "trajectory study below.",
        "BLAS threads '1': the same four calls inside threadpoolctl.threadpool_limits(1), "
        "timed as a second block after the default-thread block (a)-d) interleaved round by "
        "round within each block). Targets are checked for both settings.",
        "ConvergenceWarnings (max_iter reached with tol=0) are silenced on purpose.",
    ]
    for suffix, setting in THREAD_SETTINGS.items():
        speed_mlp = timings["d" + suffix].median / timings["a" + suffix].median
        speed_np = timings["b" + suffix].median / timings["a" + suffix].median
        sec.targets += [
            Target(
                f"GD fit vs MLPRegressor ({setting})",
                ">= 100x faster",
                f"{speed_mlp:.0f}x",
                speed_mlp >= 100,
            ),
            Target(
                f"GD fit vs NumPy data-span loop, same recursion ({setting})",
                "faster (> 1x)",
                f"{speed_np:.1f}x",
                speed_np > 1,
            ),
        ]
    for k, gap in loss_gaps.items():
        if gap > 1e-10:
            sec.targets.append(
                Target(f"final loss a) == {k})", "<= 1e-10 rel.", f"{gap:.1e}", False)
            )
    return [sec, study, breakdown, default]


def _trajectory_study(X, y, a, step, T, n, m):
    """All implementations started from the same small random hidden weights."""
    ref = ShallowReLURegressor(
        **{
            **PAPER_MODEL,  # init_scale=1e-3, no intercept, no window rule
            "n_neurons": m,
            "init": "random",
            "random_state": 0,
            "learning_rate": LEARNING_RATE,
            "max_iter": T,
            "tol": 0.0,
            "compute_min_norm_gap": False,
        }
    )
    t_ref, ref = clock(lambda: ref.fit(X, y))
    W0, W_ref = ref.init_hidden_weights_, ref.hidden_weights_
    numpy_loops = {
        "NumPy data-span loop": numpy_dual_gd,
        "NumPy primal loop": numpy_primal_gd,
    }

    sec = Section(
        key="1_trajectory_study",
        title="1 (study). Same start for all: W0 ~ N(0, 1e-6/d) (package init='random', "
        "seed 0), a = [+1, -1], biases 0, one run each",
        headers=[
            "variant",
            "time, 1 run [s]",
            "final train loss",
            "||W - W_pkg|| / ||W_pkg||",
            "output weights after",
            "max |bias| after",
        ],
    )
    sec.rows.append(
        ["ShallowReLURegressor (reference)", t_ref, half_mse(X, y, W_ref, a), 0.0, str(a), 0.0]
    )
    for label, loop in numpy_loops.items():
        t_np, (W_np, _) = clock(lambda loop=loop: loop(X, y, a, W0, LEARNING_RATE, T))
        sec.rows.append([label, t_np, half_mse(X, y, W_np, a), relative(W_np, W_ref), str(a), 0.0])
    variants = [
        ("MLPRegressor, warm start", MLPRegressor, W0),
        ("MLPRegressor, output layer + biases frozen", FrozenOutputMLP, W0),
        ("MLPRegressor, warm start from W0 = 0", MLPRegressor, np.zeros_like(W0)),
    ]
    for label, cls, start in variants:
        mlp = warm_start_mlp(make_mlp(step, T, n, m, mlp_class=cls, random_state=0), X, y, start, a)
        t_mlp, _ = clock(lambda mlp=mlp: mlp.fit(X, y))
        W = mlp_hidden_weights(mlp)
        bias = max(float(np.max(np.abs(b))) for b in mlp.intercepts_)
        sec.rows.append(
            [
                label,
                t_mlp,
                mlp_loss(mlp, X, y),
                relative(W, W_ref),
                np.array2string(mlp.coefs_[1].ravel(), precision=4),
                bias,
            ]
        )
    sec.notes += [
        "Frozen = a subclass that zeroes the output-layer and intercept gradients in "
        "MLPRegressor's private _backprop (study only). It is then the package's model, and "
        "its trajectory matches the package's up to rounding; the timed d) is plain "
        "MLPRegressor.",
        "Warm start from W0 = 0: scikit-learn's relu'(0) = 0, so the hidden weights get a zero "
        "gradient forever and only the output bias learns (loss stays near var(y)/2). The "
        "package's relu'(0) = 1 is what lets a zero initialisation move.",
    ]
    return sec


def _share_table(parts, kernel_label, repeats, **section):
    """Time ``parts`` and tabulate each median with its share of the first part, a fit.

    Each part is timed back-to-back in its own block, not interleaved (see the
    breakdown's note), with the default BLAS threads and with one thread. The
    fit's row is followed by its split into the seconds it reports in
    ``decisions_['kernel_seconds']`` and the rest. ``section`` gives the
    Section's key and title. Returns the Section, the timings and the medians
    (keys: the parts, ``'kernel'`` and ``'rest'``, each with a thread suffix).
    """
    fit_label = next(iter(parts))
    timings = {}
    for label, func in parts.items():
        timings.update(measure_threads({label: func}, repeats))
    medians = {label: t.median for label, t in timings.items()}
    for suffix in THREAD_SETTINGS:
        t = timings[fit_label + suffix]
        kernel = [kernel_seconds(est) for est in t.results]
        medians["kernel" + suffix] = float(np.median(kernel))
        medians["rest" + suffix] = float(np.median(np.subtract(t.times, kernel)))
    labels = {fit_label: fit_label, "kernel": kernel_label}
    labels["rest"] = "  of which everything else (fit - kernel)"
    labels.update({label: label for label in list(parts)[1:]})
    sec = Section(
        headers=[
            "part",
            "default threads: median [ms]",
            "share of fit",
            "BLAS 1 thread: median [ms]",
            "share of fit",
        ],
        **section,
    )
    for key, label in labels.items():
        row = [label]
        for suffix in THREAD_SETTINGS:
            row += [ms(medians[key + suffix]), medians[key + suffix] / medians[fit_label + suffix]]
        sec.rows.append(row)
    return sec, timings, medians


def _breakdown(X, y, a, T, package, repeats):
    """Where the package's fit time goes: Numba kernel vs the rest, and the setup's products.

    Every part is timed with the default BLAS threads and with one thread.
    """
    n, d = X.shape
    C = np.random.default_rng(1).standard_normal((n, a.shape[0]))
    W0 = np.zeros((a.shape[0], d))
    K = X @ X.T
    fit_label = f"fit, max_iter={T}"
    parts = {  # the fit first: the other rows are shares of it
        fit_label: package,
        "fit, max_iter=1": lambda: package(max_iter=1),
        "  np.isfinite(X.sum()) (validation pass)": lambda: np.isfinite(X.sum()),
        "  Gram X @ X.T": lambda: X @ X.T,
        "  eigenvalues of K, np.linalg.eigvalsh(K)": lambda: np.linalg.eigvalsh(K),
        "  Gram, then its eigenvalues (as in fit)": lambda: np.linalg.eigvalsh(X @ X.T),
        "  W0 + C.T @ X": lambda: W0 + C.T @ X,
    }
    sec, timings, medians = _share_table(
        parts,
        f"  of which Numba kernel ({T} steps), decisions_['kernel_seconds']",
        max(repeats, 5),
        key="1_breakdown",
        title=f"1 (breakdown). Where ShallowReLURegressor.fit spends its time (n={n}, d={d})",
    )
    per_step = [medians["kernel" + s] / T for s in THREAD_SETTINGS]
    sec.notes += [
        "The kernel's share is what each timed fit reports in decisions_['kernel_seconds'] "
        "(the driver's clock around every backend call; nothing is patched): "
        f"{fmt(1e6 * per_step[0])} us per step with default threads, "
        f"{fmt(1e6 * per_step[1])} us with one.",
        "Indented rows are stand-ins for the steps fit performs on dense float64 input with "
        "n < d, init='zero' and no sample weights: validation, the Gram matrix, its "
        "eigenvalues (one np.linalg.eigvalsh(K) per data set for n <= 1000, shared by the step "
        "size and the min-norm route; ARPACK's Lanczos for the top eigenvalue above), and the "
        "weights from the coefficients at the end (with W0 = 0 fit skips X @ W0.T). Each row "
        "is timed back-to-back in its own block, not interleaved: alternating with other BLAS "
        "calls would charge each call for the previous one's still-spinning OpenBLAS worker "
        "threads.",
        f"What the timed fits did, from decisions_: {_decided(timings[fit_label].results)}.",
    ]
    return sec


# decisions_ keys that say what a fit computed once (shown in the notes, checked by targets)
DECIDED = (
    "status",
    "path",
    "operator_form",
    "backend",
    "gram_products",
    "gram_eigendecompositions",
    "gram_lanczos",
    "reference_route",
    "references_solved",
    "memory_checks",
    "planned_peak_bytes",
)


def _decided(estimators):
    """``key value`` for each of DECIDED, with every distinct value the fits reported."""
    values = {key: sorted({str(est.decisions_[key]) for est in estimators}) for key in DECIDED}
    return ", ".join(f"{key} {'/'.join(seen)}" for key, seen in values.items())


def _default_fit(n, d, repeats):
    """``ShallowReLURegressor().fit(X, y)`` on the dual path: time, kernel time, what it did once.

    What a user's default fit costs here. With the defaults
    (``compute_min_norm_gap='auto'``, which solves the reference for ``n <=
    1000`` and ``n < d``) the fit should form K once, decompose it once for
    both the step size and the min-norm route, and check its memory plan
    once; ``decisions_`` says whether it did.
    """
    X, y = gaussian_data(n, d, seed=15)
    K = X @ X.T
    fit_label = "ShallowReLURegressor().fit(X, y), end to end"
    eig_label = "  one np.linalg.eigvalsh(K) of this K"
    parts = {  # the fit first: the other rows are shares of it
        fit_label: lambda: ShallowReLURegressor().fit(X, y),
        eig_label: lambda: np.linalg.eigvalsh(K),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", StrandedExampleWarning)  # reported in the notes
        sec, timings, _ = _share_table(
            parts,
            "  of which Numba kernel, decisions_['kernel_seconds']",
            repeats,
            key="1_default_fit",
            title=f"1 (default fit). ShallowReLURegressor() defaults on the dual path "
            f"(n={n}, d={d})",
        )
        data = Precomputed(X)
        ShallowReLURegressor().fit(X, y, gram=data)  # the same fit, counted on the data set
    every = [est for s in THREAD_SETTINGS for est in timings[fit_label + s].results]
    n_iter = sorted({int(est.n_iter_) for est in every})
    stranded = sorted({len(est.stranded_indices_) for est in every})
    sec.notes += [
        f"X, y standard normal (seed 15); the defaults: n_neurons=16, init='random' "
        "(random_state=None: a new start each fit), init_scale=1, learning_rate=1, "
        "fit_intercept=True, max_iter=10000, tol=1e-10, the window rule "
        "(n_iter_no_change=50, loss_tol=3e-3), compute_min_norm_gap='auto' (solved here: "
        f"n <= 1000 and n < d); {'/'.join(map(str, n_iter))} steps, "
        f"{len(every)} timed fits (warm-up call first, then the repeats; the "
        "BLAS-1-thread block after the default block). The eigvalsh row is timed in its own "
        f"block after the fits. {'/'.join(map(str, stranded))} examples stranded "
        "(StrandedExampleWarning silenced: random targets, not what is timed).",
        f"What the timed fits did, from decisions_: {_decided(every)}.",
        "The same fit once more with gram=Precomputed(X), read from the data set's counters: "
        f"n_gram_products {data.n_gram_products}, n_eigendecompositions "
        f"{data.n_eigendecompositions}, n_lanczos {data.n_lanczos}, n_references "
        f"{data.n_references}.",
        "Before the fit plan of e6ebcbb this fit decomposed K twice, once for the step size "
        "(eigvalsh(K / n)) and once for the min-norm route (DualFactor); the eigvalsh row is "
        "the cost of one such decomposition, i.e. what the plan saves, and its share of the "
        "fit. (The summary at 86cf97c has no row of this shape.) Before the defaults changed "
        "(a13d73a) this row fitted the paper's model (2 neurons, zero start, learning_rate=0.1, "
        "the gap by default); its times are not comparable across that commit.",
    ]
    for key, goal in (("gram_eigendecompositions", 1), ("memory_checks", 1)):
        seen = sorted({int(est.decisions_[key]) for est in every})
        sec.targets.append(
            Target(
                f"default dual fit, decisions_['{key}'] (n={n}, d={d})",
                f"== {goal} on every timed fit",
                "/".join(map(str, seen)),
                seen == [goal],
            )
        )
    return sec
