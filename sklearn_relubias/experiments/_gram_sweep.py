"""Gradient descent against the minimum-norm solution from the Gram matrix alone.

Both the data-span iteration of gradient descent and the dual minimum-norm
program only need ``K = X X^T``, and so do the distances between their
solutions: with ``W = C^T X`` and ``W* = C*^T X``,
``||W - W*||_F^2 = trace((C - C*)^T K (C - C*))``. With ``K`` drawn directly
(:func:`~sklearn_relubias.datasets.make_gram_regression`), a measurement at
``n_features = 10**6`` costs ``O(n^2)`` memory and no ``O(n d)`` object.
"""

import itertools
import time
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed

from .._gd import OPTIMIZERS, Status, run_gd
from .._model import Model
from .._plan import FitPlan, Precomputed
from ..datasets import make_gram_regression
from ..utils._sklearn_compat import Interval, validate_params
from ._gap_sweep import _as_list


def _k_norm(C, K):
    """``sqrt(trace(C^T K C))``: the Frobenius norm of ``W = C^T X``, from ``K``."""
    return float(np.sqrt(max(float(np.sum(C * (K @ C))), 0.0)))


def _check_gram_matrix(data):
    """Raise a ValueError unless K is symmetric positive semi-definite (to rounding)."""
    K = data.gram()
    scale = float(np.max(np.abs(K), initial=0.0))
    if np.max(np.abs(K - K.T), initial=0.0) > 1e-12 * scale:
        raise ValueError("K must be symmetric (a Gram matrix X X^T).")
    lam = data._spectrum().eigenvalues()
    if lam[0] < -100 * K.shape[0] * np.finfo(float).eps * max(lam[-1], 0.0):
        raise ValueError(
            f"K must be positive semi-definite (a Gram matrix X X^T); its smallest "
            f"eigenvalue is {lam[0]:.3e}."
        )


@validate_params(
    {
        "K": ["array-like"],
        "y": ["array-like"],
        "output_weights": ["array-like"],
        "learning_rate": [OPTIMIZERS["gd"].learning_rate_constraint()],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def gram_gap(K, y, output_weights=(1.0, -1.0), *, learning_rate=0.1, max_iter=10000, tol=1e-10):
    """Run gradient descent from zero and measure its distance to the min-norm solution, from K.

    The same gradient descent as
    :class:`~sklearn_relubias.ShallowReLURegressor` with ``init='zero'``
    (iterated in the data span, on ``K``) and the same minimum-norm
    reference as its ``min_norm_gap_`` (the dual program on ``K``, split
    into the groups ``a_j > 0`` fitting ``y`` and ``a_j < 0`` fitting
    ``-y``), without the inputs: distances are
    ``||W - W*||_F = sqrt(trace((C - C*)^T K (C - C*)))`` with ``C`` and
    ``C*`` the data-span coefficients. No rescaling of extreme magnitudes
    is done (bring ``K`` and ``y`` to moderate values).

    Parameters
    ----------
    K : array-like of shape (n_samples, n_samples)
        Gram matrix ``X X^T``, symmetric positive definite.
    y : array-like of shape (n_samples,)
        Targets.
    output_weights : array-like of shape (n_neurons,), default=(1.0, -1.0)
        Fixed non-zero output weights ``a`` (the default is the +/- pair,
        ``ShallowReLURegressor(n_neurons=2)``; ``(1.0,)`` the single neuron).
    learning_rate : float, default=0.1
        Step relative to the curvature bound, in (0, 2).
    max_iter : int, default=10000
        Maximum number of steps.
    tol : float, default=1e-10
        Stop when the gradient norm falls below ``tol`` times its initial value.

    Returns
    -------
    dict
        ``'min_norm_gap'`` (``||W - W*||_F / ||W*||_F``),
        ``'min_norm_distance'`` (``||W - W*||_F``), ``'min_norm_norm'``
        (``||W*||_F``), ``'n_iter'``, ``'converged'``, ``'final_loss'``,
        ``'interpolates'`` (whether the minimum-norm program is feasible),
        ``'dual_coef'`` (``C``, shape (n_samples, n_neurons)) and
        ``'min_norm_dual_coef'`` (``C*``).

    See Also
    --------
    gram_gap_sweep : Many such measurements on sampled Gram matrices.
    sklearn_relubias.datasets.make_gram_regression : ``K`` without X.

    Examples
    --------
    >>> from sklearn_relubias.datasets import make_gram_regression
    >>> from sklearn_relubias.experiments import gram_gap
    >>> K, y = make_gram_regression(20, 10**6, random_state=0)
    >>> rec = gram_gap(K, y, learning_rate=0.5)
    >>> rec["converged"], bool(rec["min_norm_gap"] < 0.5)
    (True, True)
    """
    y = np.ascontiguousarray(y, dtype=np.float64)
    a = np.ascontiguousarray(output_weights, dtype=np.float64).ravel()
    n = y.shape[0]
    if y.ndim != 1 or not np.all(np.isfinite(y)):
        raise ValueError("y must be a 1-d array of finite targets.")
    if np.asarray(K).shape != (n, n):
        raise ValueError(
            f"K must have shape (n_samples, n_samples) = {(n, n)}, got {np.asarray(K).shape}."
        )
    if a.size == 0 or np.any(a == 0) or not np.all(np.isfinite(a)):
        raise ValueError("output_weights must be a non-empty array of finite non-zero values.")
    data = Precomputed(gram=K)  # checks that K is finite
    _check_gram_matrix(data)
    model = Model.from_params("relu", a)
    plan = FitPlan(None, y, model, learning_rate=learning_rate, data=data, reference=True)
    res = run_gd(plan.problem, max_iter=max_iter, tol=tol)
    ref = plan.reference(dual_coef=True)
    K = plan.data.gram()
    C, C_star = plan.scaling.coef_out(res.dual_coef), plan.scaling.coef_out(ref.dual_coef)
    dist = _k_norm(C - C_star, K)
    norm = _k_norm(C_star, K)
    return {
        "min_norm_gap": dist / norm if norm > 0 else dist,
        "min_norm_distance": dist,
        "min_norm_norm": norm,
        "n_iter": int(res.n_iter),
        # at the rounding floor of <D, K D> the gradient is as small as K can tell
        "converged": res.status in (Status.CONVERGED, Status.FLOOR),
        "final_loss": float(plan.scaling.loss_out(res.loss_curve[-1])),
        "interpolates": ref.interpolates,
        "dual_coef": C,
        "min_norm_dual_coef": C_star,
    }


def _gram_cell(n, d, repeat, seed, learning_rates, a, dataset_params, max_iter, tol):
    """Sample one Gram matrix and measure every learning rate on it (runs in a worker)."""
    start = time.perf_counter()
    K, y, params = make_gram_regression(
        n, d, random_state=seed, return_params=True, **dataset_params
    )
    sample_time = time.perf_counter() - start
    records = []
    for lr in learning_rates:
        start = time.perf_counter()
        rec = gram_gap(K, y, a, learning_rate=lr, max_iter=max_iter, tol=tol)
        del rec["dual_coef"], rec["min_norm_dual_coef"]
        records.append(
            {
                "n_samples": n,
                "n_features": d,
                "repeat": repeat,
                "learning_rate": lr,
                **rec,
                "trace": params["trace"],
                "effective_rank": params["effective_rank"],
                "r0": params["r0"],
                "sample_time": sample_time,
                "fit_time": time.perf_counter() - start,
            }
        )
    return records


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "n_features": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "n_repeats": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [OPTIMIZERS["gd"].learning_rate_constraint(), "array-like"],
        "output_weights": ["array-like"],
        "dataset_params": [dict, None],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_jobs": [Integral, None],
        "random_state": [Interval(Integral, 0, None, closed="left"), None],
    },
    prefer_skip_nested_validation=True,
)
def gram_gap_sweep(
    n_samples,
    n_features,
    *,
    n_repeats=3,
    learning_rate=0.1,
    output_weights=(1.0, -1.0),
    dataset_params=None,
    max_iter=10000,
    tol=1e-10,
    n_jobs=None,
    random_state=None,
):
    """Measure the gap to the minimum-norm solution on sampled Gram matrices, up to huge d.

    For every ``(n, d)`` and repeat, draw ``K`` and ``y`` with
    :func:`~sklearn_relubias.datasets.make_gram_regression` (never the
    inputs) and run :func:`gram_gap` for every learning rate: memory
    ``O(n^2 + n block_size)`` whatever ``d``; time ``O(n^3)`` per sample
    for an isotropic spectrum (Bartlett), ``O(n^2 d)`` otherwise, plus
    ``O(n^2 m)`` per gradient step.

    Seeds come from ``np.random.SeedSequence(random_state)``, one child per
    ``(n, d, repeat)`` in grid order, so no result depends on ``n_jobs``.

    Parameters
    ----------
    n_samples : int or array-like of int
        Numbers of examples.
    n_features : int or array-like of int
        Dimensions.
    n_repeats : int, default=3
        Independent draws per ``(n, d)``.
    learning_rate : float or array-like of float, default=0.1
        Learning rates, each in (0, 2); all share a cell's draw.
    output_weights : array-like of shape (n_neurons,), default=(1.0, -1.0)
        Output weights (see :func:`gram_gap`).
    dataset_params : dict, default=None
        Keyword arguments of
        :func:`~sklearn_relubias.datasets.make_gram_regression` (spectrum,
        labels, ``block_size``, ...).
    max_iter : int, default=10000
        Maximum gradient steps per fit.
    tol : float, default=1e-10
        Relative gradient-norm tolerance.
    n_jobs : int, default=None
        Parallel jobs (joblib semantics).
    random_state : int, default=None
        Entropy of the seed sequence.

    Returns
    -------
    list of dict
        One flat record per fit: the keys of :func:`gram_gap` except the
        coefficients, plus ``n_samples``, ``n_features``, ``repeat``,
        ``learning_rate``, the spectrum's ``trace``, ``effective_rank`` and
        ``r0``, ``sample_time`` (drawing ``K``, shared by a cell's fits) and
        ``fit_time``.

    Examples
    --------
    >>> from sklearn_relubias.experiments import gram_gap_sweep
    >>> recs = gram_gap_sweep(10, [10**4, 10**6], n_repeats=1, random_state=0)
    >>> [r["n_features"] for r in recs], all(r["converged"] for r in recs)
    ([10000, 1000000], True)
    """
    ns, ds = _as_list(n_samples, int), _as_list(n_features, int)
    lrs = _as_list(learning_rate, float)
    if any(not 0 < lr < 2 for lr in lrs):
        raise ValueError(f"Every learning_rate must be in (0, 2), got {lrs}.")
    a = np.asarray(output_weights, dtype=np.float64).ravel()
    cells = list(itertools.product(ns, ds, range(n_repeats)))
    seeds = np.random.SeedSequence(random_state).spawn(len(cells))
    tasks = [
        delayed(_gram_cell)(
            n,
            d,
            r,
            int(s.generate_state(1)[0]),
            lrs,
            a,
            dataset_params or {},
            max_iter,
            tol,
        )
        for (n, d, r), s in zip(cells, seeds, strict=True)
    ]
    out = Parallel(n_jobs=n_jobs)(tasks)
    return [rec for cell in out for rec in cell]
