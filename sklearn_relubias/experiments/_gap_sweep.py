"""``gap_sweep``: many fits of ShallowReLURegressor, one flat record each."""

import csv
import itertools
import time
import warnings
from numbers import Integral

import numpy as np
from joblib import Parallel, delayed
from scipy import stats
from sklearn.model_selection import ParameterGrid

from .._linalg import gram
from .._metrics import (
    active_least_squares_weights,
    distance,
    min_norm_reference,
    relative_distance,
    stranded_examples,
    training_loss,
)
from .._shallow import ShallowReLURegressor
from ..datasets import make_high_dim_regression, make_orthogonal_regression
from ..exceptions import StrandedExampleWarning
from ..utils._sklearn_compat import Interval, StrOptions, validate_params

_DATASETS = {"high_dim": make_high_dim_regression, "orthogonal": make_orthogonal_regression}

# Per-fit quantities summarised by GapSweepResult.summary.
METRICS = (
    "min_norm_gap",
    "min_norm_distance",
    "active_ls_gap",
    "min_norm_to_active_ls",
    "pattern_stable_iter",
    "n_iter",
    "final_loss",
    "excess_loss",
    "n_stranded",
)


def _fit_cell(n, d, repeat, grid, data_seed, init_seed, dataset, dataset_params, params):
    """All fits of one ``(n, d, repeat)`` cell (runs in a worker).

    The data set, its Gram matrix (handed to every fit) and the minimum-norm
    solution (once per output-weight setting) are computed once and shared
    by every point of the parameter grid.
    """
    make = _DATASETS[dataset] if isinstance(dataset, str) else dataset
    X, y = make(n, d, random_state=data_seed, **dataset_params)
    K = gram(X)
    references = {}  # minimum-norm solution per output-weight setting
    records = []
    for swept in grid:
        est = ShallowReLURegressor(
            **{**params, **swept, "random_state": init_seed, "compute_min_norm_gap": False}
        )
        start = time.perf_counter()
        with warnings.catch_warnings():  # recorded below as n_stranded instead
            warnings.simplefilter("ignore", StrandedExampleWarning)
            est.fit(X, y, gram=K)
        fit_time = time.perf_counter() - start
        a = est.output_weights_
        if a.tobytes() not in references:
            ref = min_norm_reference(X, y, a, gram_matrix=K, dual_coef=False)
            W_ref = ref.weights
            references[a.tobytes()] = (W_ref, ref.interpolates, training_loss(X, y, W_ref, a))
        W_star, interpolates, loss_star = references[a.tobytes()]
        W = est.hidden_weights_
        W_ls = active_least_squares_weights(X, W, gram_matrix=K)
        records.append(
            {
                "n_samples": n,
                "n_features": d,
                "repeat": repeat,
                **swept,
                "min_norm_gap": relative_distance(W, W_star),
                "min_norm_distance": distance(W, W_star),
                "active_ls_gap": relative_distance(W, W_ls),
                "min_norm_to_active_ls": relative_distance(W_ls, W_star),
                "pattern_stable_iter": est.pattern_stable_iter_,
                "n_iter": est.n_iter_,
                "final_loss": float(est.loss_curve_[-1]),
                "excess_loss": float(est.loss_curve_[-1]) - loss_star,
                "n_stranded": int(stranded_examples(y, a, est.activation_pattern_).size),
                "interpolates": interpolates,
                "fit_time": fit_time,
            }
        )
    return records


def _as_list(value):
    return [int(value)] if isinstance(value, Integral) else [int(v) for v in value]


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "n_features": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "n_repeats": [Interval(Integral, 1, None, closed="left")],
        "estimator_params": [dict, None],
        "param_grid": [dict, None],
        "dataset": [StrOptions(set(_DATASETS)), callable],
        "dataset_params": [dict, None],
        "n_jobs": [Integral, None],
        "random_state": [Interval(Integral, 0, None, closed="left"), None],
        "verbose": ["verbose"],
    },
    prefer_skip_nested_validation=True,
)
def gap_sweep(
    n_samples,
    n_features,
    *,
    n_repeats=5,
    estimator_params=None,
    param_grid=None,
    dataset="high_dim",
    dataset_params=None,
    n_jobs=None,
    random_state=None,
    verbose=0,
):
    """Fit gradient descent over a grid of problem sizes and measure its implicit bias.

    For every ``(n, d)`` in ``n_samples x n_features``, every repeat and every
    point of ``param_grid``, draw a data set, fit a
    :class:`~sklearn_relubias.ShallowReLURegressor` and record how far it
    lands from the minimum-norm solution and from the active least-squares
    reference (:func:`active_least_squares_weights`). Cells run in parallel
    through joblib (one task per ``(n, d, repeat)``, which draws the data and
    solves the minimum-norm program once for all points of ``param_grid``),
    so ``joblib.parallel_config(backend="dask")`` runs them on a Dask cluster
    unchanged.

    Seeds come from ``np.random.SeedSequence(random_state)``, one child per
    ``(n, d, repeat)`` in grid order; all points of ``param_grid`` share that
    cell's data and initialisation, and no result depends on ``n_jobs``, the
    backend or the order in which jobs finish.

    Parameters
    ----------
    n_samples : int or array-like of int
        Numbers of examples.
    n_features : int or array-like of int
        Dimensions.
    n_repeats : int, default=5
        Independent data sets per ``(n, d)``.
    estimator_params : dict, default=None
        Fixed :class:`~sklearn_relubias.ShallowReLURegressor` parameters.
    param_grid : dict of lists, default=None
        Swept estimator parameters (as in
        :class:`~sklearn.model_selection.GridSearchCV`), e.g.
        ``{"learning_rate": [1.0, 0.1]}``.
    dataset : {'high_dim', 'orthogonal'} or callable, default='high_dim'
        :func:`~sklearn_relubias.datasets.make_high_dim_regression`,
        :func:`~sklearn_relubias.datasets.make_orthogonal_regression`, or a
        function ``f(n_samples, n_features, random_state=..., **dataset_params)``
        returning ``X, y``.
    dataset_params : dict, default=None
        Extra keyword arguments of the generator (e.g. ``labels``).
    n_jobs : int, default=None
        Parallel jobs (joblib semantics).
    random_state : int, default=None
        Entropy of the seed sequence; None draws fresh entropy, stored in the
        result.
    verbose : int, default=0
        Show a progress bar (tqdm) when positive.

    Returns
    -------
    GapSweepResult
        One record per fit, with summaries and fitted slopes.

    Examples
    --------
    >>> from sklearn_relubias.experiments import gap_sweep
    >>> res = gap_sweep(10, [200, 800], n_repeats=2, random_state=0,
    ...                 estimator_params={"n_neurons": 1})
    >>> len(res.records), sorted(res.records[0])[:3]
    (4, ['active_ls_gap', 'excess_loss', 'final_loss'])
    """
    ns, ds = _as_list(n_samples), _as_list(n_features)
    grid = list(ParameterGrid(param_grid or {}))
    seq = np.random.SeedSequence(random_state)
    cells = list(itertools.product(ns, ds, range(n_repeats)))
    seeds = [child.generate_state(2) for child in seq.spawn(len(cells))]
    tasks = [
        delayed(_fit_cell)(
            n,
            d,
            r,
            grid,
            int(s[0]),
            int(s[1]),
            dataset,
            dataset_params or {},
            estimator_params or {},
        )
        for (n, d, r), s in zip(cells, seeds, strict=True)
    ]
    results = Parallel(n_jobs=n_jobs, return_as="generator")(tasks)
    if verbose:
        from tqdm.auto import tqdm

        results = tqdm(results, total=len(tasks), desc=f"gap_sweep ({len(grid)} fits per cell)")
    records = [rec for cell in results for rec in cell]
    return GapSweepResult(records, swept=sorted(grid[0]), entropy=seq.entropy)


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

    Attributes
    ----------
    records : list of dict
        Keys: ``n_samples``, ``n_features``, ``repeat``, the swept parameters,
        ``min_norm_gap`` (``||W - W*|| / ||W*||``), ``active_ls_gap``
        (``||W - W_ls|| / ||W_ls||``), ``min_norm_to_active_ls``
        (``||W_ls - W*|| / ||W*||``), ``pattern_stable_iter``, ``n_iter``,
        ``final_loss``, ``excess_loss`` (final loss minus the loss of ``W*``:
        positive when gradient descent stopped above the global minimum, e.g.
        with an example left inactive for every neuron that could fit it),
        ``n_stranded`` (the number of such examples, see
        :func:`~sklearn_relubias.metrics.stranded_examples`), ``interpolates`` and
        ``fit_time`` (seconds).
    swept : list of str
    entropy : int
    """

    def __init__(self, records, swept, entropy):
        self.records = records
        self.swept = list(swept)
        self.entropy = entropy

    @property
    def group_keys(self):
        """Columns that identify a cell of the sweep: ``n_samples``, ``n_features``, swept."""
        return ["n_samples", "n_features", *self.swept]

    def _groups(self, keys):
        groups = {}
        for rec in self.records:
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
            for metric in METRICS:
                values = np.array([r[metric] for r in recs], dtype=float)
                for q in quantiles:
                    row[quantile_key(metric, q)] = float(np.quantile(values, q))
            rows.append(row)
        return rows

    def slopes(self, metric="min_norm_gap", confidence=0.95):
        """Log-log slopes of ``metric`` against ``n_features`` and ``n_samples``.

        For each combination of swept parameters, fit
        ``log(metric) = c + s_d log(d) + s_n log(n)`` by least squares on all
        fits with a positive ``metric`` (only the sizes that vary enter the
        model), with a Student-t confidence interval. The paper predicts
        ``s_d = -1/2`` and ``s_n = +1/2`` for the gap.

        Parameters
        ----------
        metric : str, default="min_norm_gap"
            A record key.
        confidence : float, default=0.95
            Level of the interval.

        Returns
        -------
        rows : list of dict
            Swept parameters, ``variable`` ('n_features' or 'n_samples'),
            ``slope``, ``ci_low``, ``ci_high`` and ``n_fits``.
        """
        rows = []
        for key, recs in self._groups(self.swept).items():
            recs = [r for r in recs if r[metric] > 0]
            variables = [v for v in ("n_features", "n_samples") if len({r[v] for r in recs}) > 1]
            if not variables or len(recs) <= len(variables) + 1:
                continue
            design = np.column_stack(
                [np.ones(len(recs))] + [np.log([r[v] for r in recs]) for v in variables]
            )
            target = np.log([r[metric] for r in recs])
            beta, *_ = np.linalg.lstsq(design, target, rcond=None)
            dof = len(recs) - design.shape[1]
            sigma2 = np.sum((target - design @ beta) ** 2) / dof
            se = np.sqrt(np.diag(sigma2 * np.linalg.inv(design.T @ design)))
            half = stats.t.ppf(0.5 + confidence / 2, dof) * se
            for k, v in enumerate(variables, start=1):
                rows.append(
                    {
                        **dict(zip(self.swept, key, strict=True)),
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
        return type(self)(keep, self.swept, self.entropy)

    def to_frame(self):
        """Return the records as a :class:`pandas.DataFrame` (requires pandas)."""
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("GapSweepResult.to_frame requires pandas.") from exc
        return pd.DataFrame.from_records(self.records)

    def to_csv(self, path):
        """Write the records to a CSV file (no pandas needed)."""
        with open(path, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(self.records[0]))
            writer.writeheader()
            writer.writerows(self.records)

    def __repr__(self):
        return (
            f"GapSweepResult({len(self.records)} fits, swept={self.swept}, entropy={self.entropy})"
        )
