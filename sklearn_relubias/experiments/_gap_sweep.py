"""``gap_sweep``: many fits of ShallowReLURegressor, one flat record each."""

import csv
import inspect
import itertools
import os
import sys
import time
import warnings
from collections import Counter
from concurrent.futures import BrokenExecutor
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, cpu_count, delayed
from joblib._parallel_backends import (
    LokyBackend,
    MultiprocessingBackend,
    SequentialBackend,
    ThreadingBackend,
)
from joblib.parallel import get_active_backend
from scipy import stats
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import ParameterGrid

from .._metrics import (
    active_least_squares_weights,
    distance,
    label_sign_least_squares_weights,
    relative_distance,
)
from .._plan import Precomputed, _digest
from .._shallow import PAPER_MODEL, ShallowReLURegressor
from ..datasets import make_high_dim_regression, make_orthogonal_regression, spectrum_stats
from ..exceptions import StrandedExampleWarning, quiet
from ..utils._sklearn_compat import Interval, StrOptions, validate_params
from ._files import StagedFiles
from ._store import StoreError, SweepStore, dumps, plain

_DATASETS = {"high_dim": make_high_dim_regression, "orthogonal": make_orthogonal_regression}

# Per-fit quantities summarised by GapSweepResult.summary.
METRICS = (
    "min_norm_gap",
    "min_norm_distance",
    "min_norm_norm",
    "active_ls_gap",
    "active_ls_distance",
    "min_norm_to_active_ls",
    "min_norm_to_active_ls_distance",
    "final_active_ls_gap",
    "pattern_stable_iter",
    "n_iter",
    "final_loss",
    "excess_loss",
    "n_stranded",
    "held_out_r2",
)


class ArrayData:
    """A data set given as arrays, subsampled per cell: ``gap_sweep(dataset=(X, y))``.

    A cell ``(n, d)`` with seed ``s`` fits ``n`` rows drawn without
    replacement by ``numpy.random.default_rng(s)``, and ``d`` features: a
    seeded subset of the columns (``features='subset'``, the default; all of
    them, in order, when ``d`` is their number), or a Gaussian random
    projection ``X R`` with ``R`` of shape ``(n_features_in, d)`` and
    entries ``N(0, 1/d)`` (``features='projection'``, dense output). The
    rows not drawn are the cell's held-out set (:meth:`held_out`).
    """

    def __init__(self, X, y):
        from sklearn.utils import check_X_y

        self.X, self.y = check_X_y(X, y, accept_sparse="csr", y_numeric=True)
        self.y = self.y.astype(np.float64)

    def name(self):
        """Return what a store knows these arrays by: their shape and a digest of their values."""
        return f"arrays {self.X.shape[0]} x {self.X.shape[1]}: {_digest(self.X)} {_digest(self.y)}"

    def _draw(self, n, d, seed, features):
        N, p = self.X.shape
        if n > N:
            raise ValueError(f"n_samples={n} is more than the {N} rows of the data given.")
        if features not in ("subset", "projection"):
            raise ValueError(f"features={features!r}; choose 'subset' or 'projection'.")
        if features == "subset" and d > p:
            raise ValueError(
                f"n_features={d} is more than the {p} columns of the data given; use "
                "dataset_params={'features': 'projection'} for larger d."
            )
        rng = np.random.default_rng(seed)
        order = rng.permutation(N)
        if features == "projection":
            columns = rng.standard_normal((p, d)) / np.sqrt(d)
        else:
            columns = np.arange(p) if d == p else np.sort(rng.choice(p, d, replace=False))
        return np.sort(order[:n]), np.sort(order[n:]), columns, features

    def _take(self, rows, columns, features):
        X = self.X[rows]
        X = X @ columns if features == "projection" else X[:, columns]
        return (X.toarray() if hasattr(X, "toarray") and features == "projection" else X), self.y[
            rows
        ]

    def __call__(self, n_samples, n_features, *, random_state=None, features="subset"):
        rows, _, columns, features = self._draw(n_samples, n_features, random_state, features)
        return self._take(rows, columns, features)

    def held_out(self, n_samples, n_features, *, random_state=None, features="subset"):
        """Return the rows the cell did not draw, with its features (None when none are left)."""
        _, rest, columns, features = self._draw(n_samples, n_features, random_state, features)
        return self._take(rest, columns, features) if rest.size else None


def _draw(make, n, d, seed, dataset_params):
    """Draw ``X, y`` and the covariance spectrum, if the generator returns one (else None).

    A generator that accepts ``return_params`` is called with
    ``return_params=True`` (which draws the same ``X, y``) and its spectrum is
    read from the ``'spectrum'`` key of the returned dict.
    """
    try:
        accepts = "return_params" in inspect.signature(make).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        accepts = False
    if not accepts:
        X, y = make(n, d, random_state=seed, **dataset_params)
        return X, y, None
    X, y, params = make(n, d, random_state=seed, return_params=True, **dataset_params)
    return X, y, params.get("spectrum")


def _spectrum_columns(spectrum, K):
    """``trace``, ``effective_rank``, ``r0`` and where they come from.

    From the generator's spectrum when there is one (``spectrum_source =
    'generator'``); otherwise sample estimates (``'sample'``): the trace as
    the mean squared row norm ``sum_i ||x_i||^2 / n`` and the effective rank
    as the ratio of the unbiased pair estimates of ``(tr Sigma)^2`` and
    ``tr Sigma^2`` (``sum_{i != k} ||x_i||^2 ||x_k||^2`` over
    ``sum_{i != k} <x_i, x_k>^2``), both for zero-mean rows; ``r0`` needs the
    top eigenvalue, which ``n << d`` examples do not estimate, and is NaN.
    The effective rank is NaN too with a single example.
    """
    if spectrum is not None:
        return {**spectrum_stats(spectrum), "spectrum_source": "generator"}
    sq = np.diag(K).astype(np.float64)
    n = sq.shape[0]
    trace = float(np.mean(sq))
    rank = np.nan
    if n > 1:
        cross = float(np.sum(K**2) - np.sum(sq**2))  # sum over i != k of <x_i, x_k>^2
        if cross > 0:
            rank = float(np.sum(sq) ** 2 - np.sum(sq**2)) / cross
    return {"trace": trace, "effective_rank": rank, "r0": np.nan, "spectrum_source": "sample"}


def _fit_cell(n, d, repeat, grid, data_seed, init_seed, dataset, dataset_params, params):
    """All fits of one ``(n, d, repeat)`` cell (runs in a worker).

    The data set and a :class:`~sklearn_relubias.Precomputed` of it (its Gram
    matrix, spectrum and minimum-norm references, once per output-weight
    setting) are shared by every point of the parameter grid. The gaps are
    the estimator's own (``min_norm_gap_``, ``min_norm_distance_``), on the
    targets it fits (``y - intercept_``); the other columns are measured on
    those targets too, with the same reference.
    """
    make = _DATASETS[dataset] if isinstance(dataset, str) else dataset
    X, y, spectrum = _draw(make, n, d, data_seed, dataset_params)
    shape = {
        "n_samples": int(X.shape[0]),  # what was fitted, which a callable may change
        "n_features": int(X.shape[1]),
        "requested_n_samples": n,
        "requested_n_features": d,
    }
    held_out = (
        make.held_out(n, d, random_state=data_seed, **dataset_params)
        if isinstance(make, ArrayData)
        else None
    )
    data = Precomputed(X)
    K = data.gram()
    spectrum_cols = _spectrum_columns(spectrum, K)
    least_squares = {}  # per model and targets: the label-sign least-squares reference
    records = []
    for swept in grid:
        est = ShallowReLURegressor(**{**PAPER_MODEL, **params, **swept, "random_state": init_seed})
        if est.hidden_bias:
            raise ValueError("gap_sweep does not sweep hidden_bias > 0 yet; use reference_gaps.")
        start = time.perf_counter()
        with quiet(StrandedExampleWarning, ConvergenceWarning):  # recorded below instead
            est.fit(X, y, gram=data)
        fit_time = time.perf_counter() - start
        model = est._fitted_model()
        y_fit = y - est.intercept_  # the targets the network fitted
        ref = data._reference(model, y_fit, dual_coef=False)  # the estimator's, kept by data
        W_star, W = ref.weights, est.hidden_weights_
        key = (model.key(), est.intercept_)
        if key not in least_squares:  # a ReLU construction: NaN for other activations
            least_squares[key] = (
                label_sign_least_squares_weights(X, y_fit, est.output_weights_, gram_matrix=K)
                if est.activation == "relu"
                else np.full_like(W_star, np.nan)
            )
        W_ls = least_squares[key]
        W_final_ls = active_least_squares_weights(X, W, gram_matrix=K)
        n_stranded = int(model.stranded_examples(y_fit, est.activation_pattern_).size)
        record = {
            **shape,
            "repeat": repeat,
            "data_seed": data_seed,
            "init_seed": init_seed,
            **swept,
            "min_norm_gap": est.min_norm_gap_,
            "min_norm_distance": est.min_norm_distance_,
            "min_norm_norm": float(np.linalg.norm(W_star)),
            "active_ls_gap": relative_distance(W, W_ls),
            "active_ls_distance": distance(W, W_ls),
            "min_norm_to_active_ls": relative_distance(W_ls, W_star),
            "min_norm_to_active_ls_distance": distance(W_ls, W_star),
            "final_active_ls_gap": relative_distance(W, W_final_ls),
            "pattern_stable_iter": est.pattern_stable_iter_,
            "n_iter": est.n_iter_,
            "converged": est.decisions_["status"] == "converged",
            "final_loss": float(est.loss_curve_[-1]),
            "excess_loss": float(est.loss_curve_[-1]) - model.training_loss(X, y_fit, W_star),
            "n_stranded": n_stranded,
            "stuck": n_stranded > 0,
            "interpolates": ref.interpolates,
            **spectrum_cols,
            "fit_time": fit_time,
        }
        if isinstance(make, ArrayData):  # data given as arrays: the rows not drawn
            record["held_out_r2"] = np.nan if held_out is None else float(est.score(*held_out))
        records.append({k: plain(v) for k, v in record.items()})  # NumPy scalars as Python's
    return records


def _cell_task(cell, *args):
    """Run :func:`_fit_cell` in a worker and return ``(cell, records)``."""
    return cell, _fit_cell(*args)


def _as_list(value, kind=int):
    """Return a scalar or a sequence as a list of ``kind``."""
    return [kind(value)] if isinstance(value, (Integral, Real)) else [kind(v) for v in value]


def _sizes(value, name):
    """Return ``value`` (a positive integer or a sequence of distinct ones) as a list of int.

    Raises a ValueError naming ``name`` for anything else: a float such as
    ``2.7`` is not rounded, and a bool is not a size.
    """
    if np.ndim(value) > 1:
        raise ValueError(f"{name} must be an integer or a 1-d sequence of integers.")
    values = [value] if np.ndim(value) == 0 else list(np.asarray(value, dtype=object))
    if not values:
        raise ValueError(f"{name} is empty: give at least one size.")
    for v in values:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, Integral) or v < 1:
            raise ValueError(f"{name} must hold positive integers; got {v!r}.")
    if len(set(values)) < len(values):
        raise ValueError(f"{name} holds a size twice: {[int(v) for v in values]}.")
    return [int(v) for v in values]


# Record columns that name a cell; a swept parameter must not overwrite them.
_CELL_COLUMNS = (
    "n_samples",
    "n_features",
    "requested_n_samples",
    "requested_n_features",
    "repeat",
    "data_seed",
    "init_seed",
)


def _grid(param_grid):
    """``param_grid`` with every value a list of plain values (NumPy scalars as Python's).

    A list of such dicts (as in GridSearchCV, e.g. each optimizer with its own
    learning rates) must sweep the same parameters: every record has the same
    columns.
    """
    grids = param_grid if isinstance(param_grid, list) else [param_grid or {}]
    if not grids:
        raise ValueError("param_grid is an empty list; give at least one grid (or None).")
    out = []
    for one in grids:
        grid = {}
        for name, values in one.items():
            if name in _CELL_COLUMNS:
                raise ValueError(
                    f"param_grid cannot sweep {name!r}: it is a column of the records."
                )
            if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
                raise ValueError(f"param_grid[{name!r}] must be a list of values; got {values!r}.")
            grid[name] = [plain(v) for v in values]
        out.append(grid)
    if len({tuple(sorted(g)) for g in out}) > 1:
        raise ValueError(
            "The dicts of a param_grid list must sweep the same parameters (every record "
            f"has the same columns); got {[sorted(g) for g in out]}."
        )
    return out if isinstance(param_grid, list) else out[0]


def _dataset_name(dataset):
    """Return the name a store knows a data set by: a built-in key or a qualified name."""
    if isinstance(dataset, str):
        return dataset
    if isinstance(dataset, ArrayData):
        return dataset.name()
    module = getattr(dataset, "__module__", None) or type(dataset).__module__
    name = getattr(dataset, "__qualname__", None) or type(dataset).__qualname__
    return f"{module}.{name}"


def _describe(arguments):
    """Check that a store can hold ``arguments`` (a TypeError naming the one it cannot)."""
    for name, value in arguments.items():
        try:
            dumps(value)
        except TypeError as exc:
            raise TypeError(f"gap_sweep(store=...) cannot record {name}: {exc}") from exc
    return arguments


def _effective_n_jobs(n_jobs, n_tasks):
    """Workers for ``n_tasks`` cells, and a note when fewer than asked for.

    joblib's count for the active backend (None: its default, negative:
    ``cpu_count() + 1 + n_jobs``), capped to the number of tasks and, on a
    backend that runs on this machine (loky, multiprocessing, threading), to
    its CPUs (:func:`joblib.cpu_count`, which respects affinity and cgroup
    quotas). Cluster backends (Dask, Ray) keep their own count.
    """
    backend, default = get_active_backend()
    requested = n_jobs if n_jobs is not None else default
    if requested is None:
        requested = backend.default_n_jobs
    wanted = backend.effective_n_jobs(requested)
    cap, why = n_tasks, f"cells to compute: {n_tasks}"
    local = isinstance(backend, (LokyBackend, ThreadingBackend, SequentialBackend))
    if (local or type(backend) is MultiprocessingBackend) and cpu_count() < cap:
        cap, why = cpu_count(), f"CPUs: {cpu_count()}"
    effective = max(1, min(wanted, cap))
    note = None
    if effective < wanted:
        note = f"gap_sweep: n_jobs={n_jobs} capped to {effective} workers ({why})."
    return effective, note


def _parallel(calls, n_jobs):
    """Yield ``(cell, records)`` as the cells finish, in any order.

    A backend that cannot return a generator (joblib's ``multiprocessing``,
    and Ray's, built on it) runs the cells in batches of ``2 n_jobs``, each
    yielded when it ends.
    """
    backend, _ = get_active_backend()
    if isinstance(backend, SequentialBackend) or backend.supports_return_generator:
        yield from Parallel(n_jobs=n_jobs, return_as="generator_unordered")(calls)
        return
    size = 2 * n_jobs
    for start in range(0, len(calls), size):
        yield from Parallel(n_jobs=n_jobs)(calls[start : start + size])


def _run_cells(calls, n_jobs, done, retries=1):
    """Run ``calls`` (``{cell: delayed call}``); ``done(cell, records)`` as each finishes.

    A worker process that dies (joblib raises a ``BrokenExecutor``, e.g.
    loky's ``TerminatedWorkerError``) takes down the cells then in flight,
    and joblib does not say whose worker it was. The finished cells are kept;
    the unfinished ones are run again, halved until the one that kills its
    worker runs alone: after ``1 + retries`` deaths alone it is given up.
    Other exceptions propagate (the cells finished before them are done).

    Returns
    -------
    failed : dict
        Cell to the error of the cells given up.
    """
    groups, deaths, failed = [list(calls)], Counter(), {}
    while groups:
        group = groups.pop()
        left = set(group)
        try:
            for cell, records in _parallel([calls[c] for c in group], n_jobs):
                done(cell, records)
                left.discard(cell)
        except BrokenExecutor as exc:
            rest = [c for c in group if c in left]
            if len(rest) > 1:  # any of them: run each half on its own
                groups += [rest[len(rest) // 2 :], rest[: len(rest) // 2]]
            elif rest:
                deaths[rest[0]] += 1
                if deaths[rest[0]] > retries:
                    failed[rest[0]] = f"{type(exc).__name__}: {exc}"
                else:
                    groups.append(rest)
    return failed


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "n_features": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "n_repeats": [Interval(Integral, 1, None, closed="left")],
        "estimator": [ShallowReLURegressor, None],
        "estimator_params": [dict, None],
        "param_grid": [dict, list, None],
        "dataset": [StrOptions(set(_DATASETS)), callable, tuple],
        "dataset_params": [dict, None],
        "n_jobs": [Integral, None],
        "random_state": [Interval(Integral, 0, None, closed="left"), None],
        "verbose": ["verbose"],
        "store": [str, os.PathLike, None],
    },
    prefer_skip_nested_validation=True,
)
def gap_sweep(
    n_samples,
    n_features,
    *,
    n_repeats=5,
    estimator=None,
    estimator_params=None,
    param_grid=None,
    dataset="high_dim",
    dataset_params=None,
    n_jobs=None,
    random_state=None,
    verbose=0,
    store=None,
):
    """Fit gradient descent over a grid of problem sizes and measure its implicit bias.

    For every ``(n, d)`` in ``n_samples x n_features``, every repeat and every
    point of ``param_grid``, draw a data set, fit a
    :class:`~sklearn_relubias.ShallowReLURegressor` and record how far it
    lands from the minimum-norm solution ``W*`` (relative and absolute) and
    from the label-sign least-squares reference ``W_ls``
    (``label_sign_least_squares_weights``),
    together with the covariance-spectrum statistics the paper's rate is
    stated in (``trace``, ``effective_rank``, ``r0``). Cells run in parallel
    through joblib (one task per ``(n, d, repeat)``, which draws the data and
    solves the minimum-norm program once for all points of ``param_grid``),
    so ``joblib.parallel_config(backend="dask")`` runs them on a Dask cluster
    unchanged, and a backend that cannot stream results (``"multiprocessing"``,
    Ray's ``"ray"``) in batches of ``2 n_jobs`` cells.

    Seeds come from ``np.random.SeedSequence(random_state)``, one child per
    ``(n, d, repeat)`` in grid order; all points of ``param_grid`` share that
    cell's data and initialisation, and no result depends on ``n_jobs``, the
    backend or the order in which jobs finish: the records come out in grid
    order.

    With ``store``, every finished cell is written to an SQLite file as it
    finishes (one transaction per cell, in the calling process), so that a
    sweep killed at any moment keeps its finished cells, and calling
    ``gap_sweep`` again with the same arguments and store computes only the
    missing cells and returns the records an uninterrupted run returns (the
    stored cells' records, ``fit_time`` included, come back exactly). The
    store also holds the sweep's arguments: ``n_samples``, ``n_features``,
    ``n_repeats``, ``estimator_params``, ``param_grid``, ``dataset`` (its
    name; a callable by its module and qualified name only, so a changed
    body of the same function is **not** detected), ``dataset_params``,
    ``random_state`` and the package version; a call with other values
    raises. ``n_jobs`` and ``verbose`` may change between calls.

    A worker process that dies (killed, out of memory, a crash in native
    code) loses only the cells it was running: the others are kept, and the
    lost ones are run again, alone, until the culprit is found; a cell whose
    worker dies twice when it runs alone is given up and listed in
    :attr:`GapSweepResult.failed`, with a warning (with a store, the next
    call computes it again).

    Parameters
    ----------
    n_samples : int or array-like of int
        Numbers of examples (distinct positive integers).
    n_features : int or array-like of int
        Dimensions (distinct positive integers).
    n_repeats : int, default=5
        Independent data sets per ``(n, d)``.
    estimator : ShallowReLURegressor, default=None
        The estimator whose parameters the sweep starts from (any
        configuration: optimizer, activation, neurons, ...); None starts
        from the paper's model (:data:`~sklearn_relubias.PAPER_MODEL`: two
        neurons, zero start, no intercept, ``learning_rate=0.1``, run to
        ``tol``), so a sweep's numbers do not follow the estimator's
        defaults. Its ``random_state`` is replaced by each cell's seed.
    estimator_params : dict, default=None
        Fixed :class:`~sklearn_relubias.ShallowReLURegressor` parameters, on
        top of ``estimator``'s (or the paper's model's).
    param_grid : dict of lists, or list of such dicts, default=None
        Swept estimator parameters (as in
        :class:`~sklearn.model_selection.GridSearchCV`), e.g.
        ``{"learning_rate": [1.0, 0.1]}``; a list of dicts over the same
        parameters sweeps each in turn, e.g. ``[{"optimizer": ["gd"],
        "learning_rate": [0.1]}, {"optimizer": ["adam"], "learning_rate":
        [1e-4]}]``.
    dataset : {'high_dim', 'orthogonal'}, callable or tuple (X, y), default='high_dim'
        :func:`~sklearn_relubias.datasets.make_high_dim_regression`,
        :func:`~sklearn_relubias.datasets.make_orthogonal_regression`, a
        real data set given as arrays ``(X, y)`` (dense or sparse), or a
        function ``f(n_samples, n_features, random_state=..., **dataset_params)``
        returning ``X, y``. A function that accepts ``return_params`` is
        called with ``return_params=True`` and must then return
        ``X, y, params``; the spectrum statistics of the records come from
        ``params['spectrum']`` when present, otherwise from sample estimates
        (see :class:`GapSweepResult`). The records hold the shape of the
        ``X`` it returned (``n_samples``, ``n_features``) and the requested
        one (``requested_n_samples``, ``requested_n_features``). Arrays are
        subsampled per cell with the cell's data seed:
        ``n`` rows without replacement (at most the rows given), and ``d``
        features, a seeded subset of the columns or, with
        ``dataset_params={'features': 'projection'}``, a Gaussian random
        projection (any ``d``); the rows not drawn give each record's
        ``held_out_r2``. A store knows arrays by their shape and a digest of
        their values. Real data usually have ``n >= d``, where the paper's
        model (no window rule) runs to ``max_iter`` without converging
        (``converged`` False in every record): pass ``estimator=
        ShallowReLURegressor()`` (the defaults' window rule) or
        ``estimator_params={'n_iter_no_change': 50}`` there.
    dataset_params : dict, default=None
        Extra keyword arguments of the generator (e.g. ``labels``; for
        arrays, ``features``).
    n_jobs : int, default=None
        Parallel jobs (joblib semantics: None is the backend's default, -1
        all CPUs), capped to the number of cells to compute and, on a local
        backend, to :func:`joblib.cpu_count` (more processes than CPUs only
        add memory and contention); with ``verbose``, a capped request is
        noted on stderr.
    random_state : int, default=None
        Entropy of the seed sequence; None draws fresh entropy, stored in the
        result. With a store, the entropy is drawn once, when the store is
        created, and kept in it: a later call with None resumes with it, and
        a call with another integer raises.
    verbose : int, default=0
        Show a progress bar (tqdm) when positive.
    store : str or path-like, default=None
        SQLite file of the sweep's finished cells (created when absent; see
        above). None keeps nothing until the sweep returns.

    Returns
    -------
    GapSweepResult
        One record per fit, with summaries and fitted slopes.

    Raises
    ------
    ValueError
        For an invalid size (a non-integer, zero, a duplicate, an empty
        list), or a store that holds a sweep with other arguments (the
        message names them).
    TypeError
        With a store, for an argument it cannot record (e.g. an estimator
        parameter that is an object).

    Examples
    --------
    >>> from sklearn_relubias.experiments import gap_sweep
    >>> res = gap_sweep(10, [200, 800], n_repeats=2, random_state=0,
    ...                 estimator_params={"n_neurons": 1})
    >>> len(res.records), sorted(res.records[0])[:3]
    (4, ['active_ls_distance', 'active_ls_gap', 'converged'])
    """
    ns, ds = _sizes(n_samples, "n_samples"), _sizes(n_features, "n_features")
    if estimator is not None:  # its parameters under estimator_params (and the cell's seed)
        base = {k: v for k, v in estimator.get_params().items() if k != "random_state"}
        estimator_params = {**base, **(estimator_params or {})}
    if isinstance(dataset, tuple):
        if len(dataset) != 2:
            raise ValueError(f"dataset as arrays is a pair (X, y); got {len(dataset)} items.")
        dataset = ArrayData(*dataset)
    grid_spec = _grid(param_grid)
    grid = list(ParameterGrid(grid_spec))
    estimator_params, dataset_params = dict(estimator_params or {}), dict(dataset_params or {})
    cells = list(itertools.product(ns, ds, range(n_repeats)))
    sweep_store = None
    if store is not None:
        from .. import __version__

        arguments = {
            "n_samples": ns,
            "n_features": ds,
            "n_repeats": int(n_repeats),
            "estimator_params": estimator_params,
            "param_grid": grid_spec,
            "dataset": _dataset_name(dataset),
            "dataset_params": dataset_params,
            "random_state": None if random_state is None else int(random_state),
            "package_version": __version__,
        }
        sweep_store = SweepStore(
            store, _describe(arguments), lambda: np.random.SeedSequence().entropy
        )
        random_state = sweep_store.arguments["random_state"]
    failed, status = {}, "interrupted"
    try:
        seq = np.random.SeedSequence(random_state)
        seeds = [child.generate_state(2) for child in seq.spawn(len(cells))]
        kept = {} if sweep_store is None else sweep_store.finished()
        if any(cells[c] != key for c, key in kept.items()):  # pragma: no cover - a damaged file
            raise StoreError(f"The store {store} holds cells that are not this sweep's.")
        if kept and verbose:
            print(
                f"gap_sweep: resuming from {store}: {len(kept)} of {len(cells)} cells done.",
                file=sys.stderr,
                flush=True,
            )
        calls = {
            c: delayed(_cell_task)(
                c, n, d, r, grid, int(s[0]), int(s[1]), dataset, dataset_params, estimator_params
            )
            for c, ((n, d, r), s) in enumerate(zip(cells, seeds, strict=True))
            if c not in kept
        }
        records, bar = {}, None

        def done(cell, recs):
            if sweep_store is None:
                records[cell] = recs
            else:
                sweep_store.add(cell, cells[cell], recs)
            if bar is not None:
                bar.update(1)

        if calls:
            n_jobs, note = _effective_n_jobs(n_jobs, len(calls))
            if verbose:
                if note:
                    print(note, file=sys.stderr, flush=True)
                from tqdm.auto import tqdm

                bar = tqdm(total=len(calls), desc=f"gap_sweep ({len(grid)} fits per cell)")
            try:
                failed = _run_cells(calls, n_jobs, done)
            finally:
                if bar is not None:
                    bar.close()
        if sweep_store is not None:  # every record as stored: a resumed call returns the same
            records = {c: sweep_store.records(c) for c in sweep_store.finished()}
        status = "incomplete" if failed else "complete"
    finally:
        if sweep_store is not None:
            sweep_store.close(status, n_failed=len(failed))
    lost = [
        {"n_samples": n, "n_features": d, "repeat": r, "error": failed[c]}
        for c, (n, d, r) in enumerate(cells)
        if c in failed
    ]
    if lost:
        again = "the next call with this store computes them again" if store else "no records"
        warnings.warn(
            f"gap_sweep gave up {len(lost)} of {len(cells)} cells, whose worker process died "
            f"twice when they ran alone (listed in GapSweepResult.failed): {again}.",
            UserWarning,
            stacklevel=2,
        )
    ordered = [rec for c in range(len(cells)) for rec in records.get(c, [])]
    spec = {"dataset": dataset, "dataset_params": dataset_params, "params": estimator_params}
    return GapSweepResult(
        ordered, swept=sorted(grid[0]), entropy=seq.entropy, failed=lost, spec=spec
    )


def _loggable(value):
    """Whether ``log(value)`` is a finite number."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return False
    return bool(np.isfinite(value) and value > 0)


def quantile_key(metric, q):
    """Column of :meth:`GapSweepResult.summary` holding quantile ``q`` of ``metric``."""
    return f"{metric}_q{round(100 * q):d}"


class GapSweepResult:
    """Records of :func:`gap_sweep`, one per fit, with summaries.

    Parameters
    ----------
    records : list of dict
        One flat record per fit.
    swept : list of str
        Names of the swept estimator parameters (columns of the records).
    entropy : int
        Entropy of the seed sequence; ``gap_sweep(..., random_state=entropy)``
        reproduces the records.
    failed : list of dict, default=()
        The cells without records (see below).

    Attributes
    ----------
    records : list of dict
        Keys: ``n_samples`` and ``n_features`` (the shape of the fitted
        ``X``), ``requested_n_samples`` and ``requested_n_features`` (what
        the data set was asked for; the same unless a callable data set
        changed it), ``repeat``, the swept parameters,
        and per fit (``W`` gradient descent's weights, ``W*`` the minimum-norm
        solution, ``W_ls`` the label-sign least-squares reference of
        ``label_sign_least_squares_weights``,
        all norms Frobenius):

        - ``min_norm_gap``: ``||W - W*|| / ||W*||`` (relative);
          ``min_norm_distance``: ``||W - W*||`` (absolute);
          ``min_norm_norm``: ``||W*||``. With O(1) labels ``||W*||`` is of
          order ``sqrt(n / trace)``, so the absolute distance and the relative
          gap scale differently; report both.
        - ``active_ls_gap`` (``||W - W_ls|| / ||W_ls||``) and
          ``active_ls_distance`` (``||W - W_ls||``);
          ``min_norm_to_active_ls`` (``||W_ls - W*|| / ||W*||``) and
          ``min_norm_to_active_ls_distance`` (``||W_ls - W*||``). ``W_ls``
          depends on the data and the output weights only, never on the run.
        - ``final_active_ls_gap``: ``||W - W_gd_ls|| / ||W_gd_ls||`` with
          ``W_gd_ls`` the least-squares fit on gradient descent's own final
          active set (:func:`active_least_squares_weights`; the reference that
          ``active_ls_gap`` used to measure against, contaminated by stuck
          runs).
        - ``pattern_stable_iter``, ``n_iter``, ``final_loss``,
          ``excess_loss`` (final loss minus the loss of ``W*``: positive when
          gradient descent stopped above the global minimum, e.g. with an
          example left inactive for every neuron that could fit it),
          ``n_stranded`` (the number of such examples, see
          :func:`~sklearn_relubias.metrics.stranded_examples`), ``stuck``
          (``n_stranded > 0``), ``interpolates``.
        - ``trace`` (``||lambda||_1``), ``effective_rank``
          (``R = ||lambda||_1^2 / ||lambda||_2^2``) and ``r0``
          (``||lambda||_1 / lambda_1``) of the covariance spectrum
          ``lambda``, and ``spectrum_source``: ``'generator'`` when the data
          set's generator returned its spectrum (the built-in ones do; the
          orthogonal inputs count as isotropic), ``'sample'`` otherwise, in
          which case ``trace`` is the mean squared row norm,
          ``effective_rank`` the ratio of the unbiased pair estimates of
          ``(tr Sigma)^2`` and ``tr Sigma^2`` (rows taken as zero-mean; NaN
          for one example) and ``r0`` is NaN.
        - ``fit_time`` (seconds).

        Values are plain Python ``int``, ``float``, ``bool``, ``str`` (and
        the swept values as given), never NumPy scalars.
        Each record also holds ``data_seed`` and ``init_seed`` (the seeds of
        its cell's data set and of the estimator's ``random_state``; see
        :meth:`refit`); with a data set given as arrays, ``held_out_r2``:
        the R^2 on the rows the cell did not draw (NaN when every row was
        drawn).
    swept : list of str
    entropy : int
    failed : list of dict
        The cells :func:`gap_sweep` gave up (their worker process died
        twice): ``n_samples``, ``n_features`` and ``repeat`` as requested,
        and ``error``. Empty after a complete sweep.
    """

    def __init__(self, records, swept, entropy, failed=(), spec=None):
        self.records = records
        self.swept = list(swept)
        self.entropy = entropy
        self.failed = list(failed)
        self._spec = spec

    def refit(self, i):
        """Fit record ``i`` again: the same data, parameters and seeds.

        Returns
        -------
        estimator : ShallowReLURegressor
            Fitted as the sweep fitted it (its ``min_norm_gap_``, ``n_iter_``
            and weights equal the record's).
        X, y : the data set of the record's cell
        """
        if self._spec is None:
            raise ValueError(
                "This result does not know its sweep's data set (it was built from records "
                "alone); call gap_sweep again to refit."
            )
        rec = self.records[i]
        spec = self._spec
        make = _DATASETS[spec["dataset"]] if isinstance(spec["dataset"], str) else spec["dataset"]
        n, d = rec["requested_n_samples"], rec["requested_n_features"]
        X, y, _ = _draw(make, n, d, rec["data_seed"], spec["dataset_params"])
        swept = {k: rec[k] for k in self.swept}
        params = {**PAPER_MODEL, **spec["params"], **swept, "random_state": rec["init_seed"]}
        est = ShallowReLURegressor(**params)
        return est.fit(X, y, gram=Precomputed(X)), X, y

    @property
    def group_keys(self):
        """Columns that identify a cell of the sweep: ``n_samples``, ``n_features``, swept."""
        return ["n_samples", "n_features", *self.swept]

    def _groups(self, keys, records=None):
        groups = {}
        for rec in self.records if records is None else records:
            groups.setdefault(tuple(rec[k] for k in keys), []).append(rec)
        return groups

    def summary(self, quantiles=(0.1, 0.5, 0.9)):
        """Quantiles of each metric per cell.

        Parameters
        ----------
        quantiles : tuple of float, default=(0.1, 0.5, 0.9)
            Quantiles to report.

        Returns
        -------
        rows : list of dict
            One row per cell: the cell's keys, ``n_fits``, ``n_stuck`` (fits
            that left an example stranded: ``n_stranded > 0``) and
            ``{metric}_q{100 q}`` for every metric and quantile
            (``min_norm_gap_q50`` is the median gap).
        """
        rows = []
        for key, recs in self._groups(self.group_keys).items():
            row = dict(zip(self.group_keys, key, strict=True))
            row["n_fits"] = len(recs)
            row["n_stuck"] = sum(r["n_stranded"] > 0 for r in recs)
            for metric in (m for m in METRICS if m in recs[0]):
                values = np.array([r[metric] for r in recs], dtype=float)
                for q in quantiles:
                    row[quantile_key(metric, q)] = float(np.quantile(values, q))
            rows.append(row)
        return rows

    def slopes(
        self,
        metric="min_norm_gap",
        variables=("n_samples", "n_features"),
        confidence=0.95,
        stuck=None,
        floor=0.0,
    ):
        """Log-log slopes of ``metric`` against record columns, fitted jointly.

        For each combination of the swept parameters that are not among
        ``variables``, fit ``log(metric) = c + sum_v s_v log(v)`` by least
        squares on the fits where ``metric`` and every variable are positive
        and finite, with Student-t confidence intervals (ordinary least
        squares, independent errors). Variables that take a single value in a
        group are left out of that group's model (they would be collinear
        with ``c``). With the default variables, the paper's
        ``sqrt(n / ||lambda||_1)`` for the absolute distance
        ``min_norm_distance`` means ``s_n = +1/2`` and ``s_d = -1/2`` on
        isotropic data; ``variables=("trace", "effective_rank")`` separates
        the two spectrum quantities on anisotropic data.

        Parameters
        ----------
        metric : str, default="min_norm_gap"
            A record key.
        variables : str or tuple of str, default=("n_samples", "n_features")
            Record keys to regress on (positive numbers), e.g.
            ``("trace", "effective_rank")`` or ``("learning_rate",)``.
        confidence : float, default=0.95
            Level of the intervals.
        stuck : bool, default=None
            Keep only the fits that left an example stranded
            (``stuck=True``), only the others (``False``), or all (None).
        floor : float, default=0.0
            Drop the fits with ``metric <= floor``. A distance that is zero up
            to rounding (e.g. ``min_norm_to_active_ls`` when ``W*`` meets the
            dropped constraints, 3-5% of small-n fits) has a meaningless
            logarithm that dominates the fit; ``floor=1e-12`` on a relative
            quantity removes those.

        Returns
        -------
        rows : list of dict
            Swept parameters not in ``variables``, ``variable``, ``slope``,
            ``ci_low``, ``ci_high`` and ``n_fits``, one row per variable
            that entered the model, for every group with more fits than
            coefficients.

        Raises
        ------
        ValueError
            If the varying variables of a group are collinear in its records
            (e.g. ``trace`` and ``n_features`` on isotropic data).
        """
        variables = [variables] if isinstance(variables, str) else list(variables)
        by = [k for k in self.swept if k not in variables]
        records = self.records
        if stuck is not None:
            records = [r for r in records if bool(r["stuck"]) == bool(stuck)]
        rows = []
        for key, recs in self._groups(by, records).items():
            recs = [
                r
                for r in recs
                if all(_loggable(r[k]) for k in (metric, *variables)) and r[metric] > floor
            ]
            used = [v for v in variables if len({r[v] for r in recs}) > 1]
            if not used or len(recs) <= len(used) + 1:
                continue
            design = np.column_stack(
                [np.ones(len(recs))] + [np.log([float(r[v]) for r in recs]) for v in used]
            )
            if np.linalg.matrix_rank(design) < design.shape[1]:
                raise ValueError(
                    f"The logs of {used} are collinear in the records of "
                    f"{dict(zip(by, key, strict=True))}; regress on fewer variables."
                )
            target = np.log([float(r[metric]) for r in recs])
            beta, *_ = np.linalg.lstsq(design, target, rcond=None)
            dof = len(recs) - design.shape[1]
            sigma2 = np.sum((target - design @ beta) ** 2) / dof
            se = np.sqrt(np.diag(sigma2 * np.linalg.inv(design.T @ design)))
            half = stats.t.ppf(0.5 + confidence / 2, dof) * se
            for k, v in enumerate(used, start=1):
                rows.append(
                    {
                        **dict(zip(by, key, strict=True)),
                        "variable": v,
                        "slope": float(beta[k]),
                        "ci_low": float(beta[k] - half[k]),
                        "ci_high": float(beta[k] + half[k]),
                        "n_fits": len(recs),
                    }
                )
        return rows

    def select(self, **values):
        """Return the result restricted to the records with the given values.

        Parameters
        ----------
        **values : dict
            Column name to the value to keep, e.g. ``n_samples=20``.

        Returns
        -------
        GapSweepResult
        """
        keep = [r for r in self.records if all(r[k] == v for k, v in values.items())]
        lost = [c for c in self.failed if all(c.get(k, v) == v for k, v in values.items())]
        return type(self)(keep, self.swept, self.entropy, lost, spec=self._spec)

    def to_frame(self):
        """Return the records as a :class:`pandas.DataFrame` (requires pandas)."""
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("GapSweepResult.to_frame requires pandas.") from exc
        return pd.DataFrame.from_records(self.records)

    def to_csv(self, path):
        """Write the records to a CSV file (no pandas needed).

        The file is written under a temporary name in the same folder and
        renamed over ``path`` once complete: a full disk or an interrupt
        leaves the previous file (or none), never a truncated one, and a
        symlink at ``path`` is replaced, not written through.
        """
        with StagedFiles() as staged, open(staged.temp(path), "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(self.records[0]) if self.records else [])
            writer.writeheader()
            writer.writerows(self.records)

    def __repr__(self):
        failed = f", {len(self.failed)} cells failed" if self.failed else ""
        return (
            f"GapSweepResult({len(self.records)} fits, swept={self.swept}, "
            f"entropy={self.entropy}{failed})"
        )
