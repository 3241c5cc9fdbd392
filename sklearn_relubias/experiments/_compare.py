"""Several fitted solutions side by side: losses, scores, references, distances between them."""

import time
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import clone, is_regressor
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from .._base import _BaseReLURegressor
from .._metrics import REFERENCES, _within, reference_gaps, relative_distance
from .._metrics import distance as weight_distance
from .._min_norm import MinNormReLURegressor
from .._model import clearly_outside

#: The parameters a reference shares with the gradient-descent fit it is compared with.
_SHARED = (
    "n_neurons",
    "output_weights",
    "activation",
    "negative_slope",
    "fit_intercept",
    "hidden_bias",
)


def reference_estimator(estimator, X, y, *, reference="label_sign"):
    """Return the reference of a fit as a fitted estimator, to compare predictions too.

    Parameters
    ----------
    estimator : fitted ShallowReLURegressor, or a fitted Pipeline ending in one
    X, y : the training data it was fitted on
    reference : {'label_sign', 'own_region', 'global'}, default='label_sign'
        The minimum-norm interpolant within the label-sign region (the one
        ``min_norm_gap_`` measures), within the activation region the fit
        ended in (its final pattern on ``X``), or over all regions (small
        problems, see :func:`~sklearn_relubias.metrics.global_min_norm_reference`).

    Returns
    -------
    MinNormReLURegressor or Pipeline
        Fitted on ``(X, y)`` with the fit's network (``n_neurons``,
        ``output_weights``, ``activation``, ``negative_slope``,
        ``fit_intercept``, ``hidden_bias``); for a Pipeline, the same fitted
        preprocessing steps followed by the reference.
    """
    steps = None
    if isinstance(estimator, Pipeline):
        check_is_fitted(estimator)
        steps, X = estimator.steps[:-1], estimator[:-1].transform(X)
        estimator = estimator[-1]
    check_is_fitted(estimator, "hidden_weights_")
    if reference not in ("label_sign", "own_region", "global"):
        raise ValueError(f"reference={reference!r}; choose 'label_sign', 'own_region' or 'global'.")
    region = None
    if reference == "own_region":
        X_fit, W = estimator._augmented(X, (estimator.hidden_weights_, estimator.hidden_biases_))
        region = np.asarray(X_fit @ W.T) > 0
    elif reference == "global":
        region = "global"
    ref = MinNormReLURegressor(**_shared_params(estimator), region=region).fit(X, y)
    return ref if steps is None else Pipeline(steps + [("reference", ref)])  # nothing refitted


@dataclass
class SolutionComparison:
    """The result of :func:`compare_solutions`.

    Attributes
    ----------
    records : list of dict
        One per solution (``pandas.DataFrame(records)`` makes the table):
        ``name``, ``estimator`` (its class name), ``training_loss``
        (``1/(2n) sum (f(x_i) - y_i)^2``), ``training_r2``, ``test_r2``
        (mean over ``cv``; NaN without), ``gap_<reference>`` (relative
        distance to each reference; NaN where it does not apply),
        ``in_reference_region`` (no pre-activation clearly, beyond 1% of its
        neuron's largest, on the other side of the kink than the label-sign
        region asks), ``pattern_agreement`` (share of (example, neuron) pairs
        on the side the label-sign region asks, pairs within ``1e-9`` of the
        neuron's largest pre-activation counting as on the kink),
        ``stranded`` (number of stranded examples) and ``fit_time``
        (seconds; NaN for solutions given fitted).
    names : list of str
    distances : ndarray of shape (n_solutions, n_solutions)
        ``||W_a - W_b||_F`` between the hidden weights (neurons in their
        fitted order; NaN between networks of other shapes or output
        weights).
    relative_distances : ndarray of shape (n_solutions, n_solutions)
        ``distances / ||W_b||_F`` (column: the reference solution).
    estimators : dict
        The fitted solutions by name.
    """

    records: list
    names: list
    distances: np.ndarray = field(repr=False)
    relative_distances: np.ndarray = field(repr=False)
    estimators: dict = field(repr=False)


def compare_solutions(
    solutions, X, y, *, references=("label_sign", "own_region", "init_relative"), cv=None
):
    """Fit several solutions on one data set and put them side by side.

    Parameters
    ----------
    solutions : dict of {str: estimator}
        ``ShallowReLURegressor`` and ``MinNormReLURegressor`` instances (or
        Pipelines ending in one), by name. Unfitted ones are cloned and
        fitted on ``(X, y)``; fitted ones are taken as they are (they must
        have been fitted on ``(X, y)``).
    X, y : training data
    references : tuple of str, default=('label_sign', 'own_region', 'init_relative')
        The references each gradient-descent solution is measured to (see
        :func:`~sklearn_relubias.metrics.reference_gaps`; ``'global'``
        enumerates regions, small problems only, and is solved again for
        every solution). ``'own_region'`` and ``'init_relative'`` solve a
        program per solution whose cost grows quickly with ``n_neurons`` at
        ``n_samples >> n_features`` (diabetes, 16 neurons: minutes for
        ``'init_relative'``); pass ``references=('label_sign',)`` there. A
        ``MinNormReLURegressor`` gets its distance to the
        label-sign reference only; ``activation='linear'`` has no regions
        (its region references are NaN). Distances between solutions
        compare hidden weights only (not the hidden biases), and are
        meaningful only between solutions on the same inputs (a Pipeline's
        transformed X is another space).
    cv : int, cross-validation generator or None, default=None
        With it, ``test_r2`` is the mean R^2 of
        :func:`~sklearn.model_selection.cross_val_score` on clones.

    Returns
    -------
    SolutionComparison
    """
    references = (references,) if isinstance(references, str) else tuple(references)
    if not isinstance(solutions, dict):
        raise TypeError(
            f"solutions must be a dict {{name: estimator}}, got {type(solutions).__name__}."
        )
    unknown = set(references) - set(REFERENCES)
    if unknown:
        raise ValueError(f"Unknown references {sorted(unknown)}; choose from {list(REFERENCES)}.")
    if not solutions:
        raise ValueError("solutions is empty; pass {name: estimator, ...}.")
    X = np.asarray(X) if not hasattr(X, "tocsr") else X
    y = np.asarray(y, dtype=np.float64)
    fitted, times = {}, {}
    for name, est in solutions.items():
        last = est[-1] if isinstance(est, Pipeline) else est
        if not is_regressor(est) or not isinstance(last, _BaseReLURegressor):
            raise TypeError(
                f"solutions[{name!r}] is a {type(last).__name__}; compare_solutions compares "
                "ShallowReLURegressor and MinNormReLURegressor solutions (or Pipelines ending "
                "in one), whose weights and references it reads."
            )
        if _is_fitted(est):
            fitted[name], times[name] = est, np.nan
        else:
            start = time.perf_counter()
            fitted[name] = clone(est).fit(X, y)
            times[name] = time.perf_counter() - start
    records, weights = [], []
    for name, est in fitted.items():
        last = est[-1] if isinstance(est, Pipeline) else est
        X_last = est[:-1].transform(X) if isinstance(est, Pipeline) else X
        pred = est.predict(X)
        record = {
            "name": name,
            "estimator": type(last).__name__,
            "training_loss": float(np.mean((pred - y) ** 2) / 2),
            "training_r2": float(est.score(X, y)),
            "test_r2": float(np.mean(cross_val_score(clone(est), X, y, cv=cv)))
            if cv is not None
            else np.nan,
        }
        is_gd = hasattr(last, "init_hidden_weights_")
        asked = references
        if last.activation == "linear":  # no regions: only the region-free references
            asked = tuple(r for r in references if r in ("label_sign", "ntk"))
        gaps = reference_gaps(est, X, y, references=asked) if is_gd and asked else {}
        for r in references:
            record[f"gap_{r}"] = gaps[r]["relative_gap"] if r in gaps else np.nan
        if not is_gd and "label_sign" in references:  # a minimum-norm solution
            record["gap_label_sign"] = _min_norm_gap(last, X_last, y)
        P = np.asarray(X_last @ last.hidden_weights_.T) + getattr(last, "hidden_biases_", 0.0)
        region = np.outer(y - last.intercept_, last.output_weights_) > 0  # label-sign
        record["in_reference_region"] = _within(P, region)
        # pairs on the kink (within rounding) agree with either side
        scale = np.max(np.abs(P), axis=0, initial=0.0)
        record["pattern_agreement"] = 1.0 - float(np.mean(clearly_outside(P, region, scale, 1e-9)))
        record["stranded"] = int(last.stranded_indices_.size) if is_gd else 0
        record["fit_time"] = times[name]
        records.append(record)
        weights.append((last.hidden_weights_, last.output_weights_))
    k = len(weights)
    D = np.full((k, k), np.nan)
    R = np.full((k, k), np.nan)
    for i, (Wi, ai) in enumerate(weights):
        for j, (Wj, aj) in enumerate(weights):
            if Wi.shape == Wj.shape and np.array_equal(ai, aj):
                D[i, j] = weight_distance(Wi, Wj)
                R[i, j] = relative_distance(Wi, Wj)
    return SolutionComparison(records, list(fitted), D, R, fitted)


def _is_fitted(est):
    last = est[-1] if isinstance(est, Pipeline) else est
    return hasattr(last, "hidden_weights_")


def _shared_params(est):
    """Return the network parameters a reference takes from the fit it is compared with."""
    return {k: v for k, v in est.get_params().items() if k in _SHARED}


def _min_norm_gap(est, X, y):
    """Relative distance of a MinNormReLURegressor's weights to the label-sign reference."""
    ref = MinNormReLURegressor(**_shared_params(est)).fit(X, y)
    return relative_distance(est.hidden_weights_, ref.hidden_weights_)
