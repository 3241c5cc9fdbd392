r"""The global minimum-norm interpolant, by exact enumeration of activation regions.

Every interpolant lies in some closed activation region (a side of the kink
for each example and neuron), and within a region the program is the convex
region program of :mod:`~sklearn_relubias._reference._region`. The global
minimum-norm interpolant is the smallest of the regions' solutions: an exact
search over ``2^(n m)`` regions in general, fewer after discarding those in
which an example cannot reach its target's sign (with ReLU, ``y_i > 0``
needs an active neuron with ``a_j > 0``; with a leaky slope, a neuron whose
term ``a_j sigma(p_ij)`` can be positive). The count grows exponentially,
so problems above :data:`GLOBAL_MAX_REGIONS` candidate regions are refused.
"""

from itertools import product

import numpy as np

from .._linalg import gram as form_gram
from .._memory import MemoryPlan
from . import _region

#: Largest number of candidate regions :func:`solve` searches (e.g. the +/- ReLU
#: pair with 12 nonzero targets, or one neuron with 12 examples). Each region
#: program takes 1-15 ms (n <= 12): the +/- pair at n = 12 takes 20-60 s.
GLOBAL_MAX_REGIONS = 4096


def candidate_rows(model, y):
    """For each example, the neuron patterns (rows of a region) that can reach ``y_i``'s sign.

    Returns a list of ``(k, m)`` boolean arrays, one per example.
    """
    m = model.n_neurons
    rows = np.array(list(product((True, False), repeat=m)), dtype=bool)
    a_sign = np.sign(model.output_weights)
    # sign of each neuron's term a_j sigma(p_ij) on each side: +a_j above, -a_j alpha below
    below = -a_sign if model.negative_slope > 0 else np.zeros(m)
    terms = np.where(rows, a_sign, below)
    out = []
    for target in np.sign(y):
        ok = np.ones(rows.shape[0], dtype=bool) if target == 0 else np.any(terms == target, 1)
        out.append(rows[ok])
    return out


def count_regions(model, y):
    """Return the number of candidate regions :func:`solve` would search (exact, no listing).

    Per example with target sign ``t != 0``, the patterns in which no neuron
    can produce ``t`` are excluded: with ReLU the neurons with
    ``sign(a_j) = t`` all inactive (``2^(m - n_t)`` patterns), with a leaky
    slope every neuron on the side whose term has sign ``-t`` (one pattern).
    """
    m = model.n_neurons
    a_sign = np.sign(model.output_weights)
    count = 1
    for t in np.sign(y):
        if t == 0:
            excluded = 0
        elif model.negative_slope > 0:
            excluded = 1
        else:
            excluded = 2 ** (m - int(np.sum(a_sign == t)))
        count *= 2**m - excluded
    return count


def solve(
    model, X, y, *, gram=None, tol=1e-12, max_regions=GLOBAL_MAX_REGIONS, sample_weight=None, **_
):
    """Global minimum-norm interpolant of ``model`` on ``(X, y)`` by enumerating regions.

    Returns
    -------
    fit : MinNormFit
        The smallest region solution (``kkt``: its region program's
        certificate; ``n_iter``: active-set iterations over all regions);
        ``interpolates`` False and no weights when no region admits an
        interpolant.
    n_regions : int
        Regions searched.
    """
    y = np.asarray(y, dtype=np.float64)
    if sample_weight is not None and not np.all(sample_weight > 0):  # rows not fitted
        keep = np.flatnonzero(sample_weight > 0)
        K_keep = None if gram is None else gram[np.ix_(keep, keep)]
        X_keep = None if X is None else X[keep]
        fit, n_regions = solve(
            model, X_keep, y[keep], gram=K_keep, tol=tol, max_regions=max_regions
        )
        if fit.dual_coef is not None:
            beta = np.zeros((y.shape[0], model.n_neurons))
            active = np.zeros((y.shape[0], model.n_neurons), dtype=bool)
            beta[keep], active[keep] = fit.dual_coef, fit.active
            fit = fit._replace(dual_coef=beta, active=active)
        return fit, n_regions
    n_regions = count_regions(model, y)
    if n_regions > max_regions:
        raise ValueError(
            f"The global minimum-norm interpolant needs {n_regions} region programs for "
            f"n_samples={y.shape[0]}, n_neurons={model.n_neurons}, more than "
            f"max_regions={max_regions}; use at most about 12 examples (one neuron or the "
            "+/- ReLU pair), or a region reference (label-sign or own region)."
        )
    K = form_gram(X) if gram is None else gram
    memory = MemoryPlan()  # the budget, read once for every program
    best, best_norm, n_iter = None, np.inf, 0
    for rows in product(*candidate_rows(model, y)):
        fit = _region.solve(model, X, y, region=np.array(rows), gram=K, tol=tol, memory=memory)
        n_iter += fit.n_iter
        if not fit.interpolates:
            continue
        norm = float(np.sum(fit.dual_coef * (K @ fit.dual_coef)))  # ||W||^2 from the span
        if norm < best_norm:
            best, best_norm = fit, norm
    if best is None:
        empty = np.zeros((y.shape[0], model.n_neurons), dtype=bool)
        return _region.MinNormFit(None, None, empty, n_iter, False, np.nan, "global"), n_regions
    return best._replace(n_iter=n_iter, route="global"), n_regions
