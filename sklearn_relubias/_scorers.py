"""Scorers that read a fit's implicit-bias diagnostics, for searches and cross-validation.

A scikit-learn scorer is called as ``scorer(estimator, X, y)`` on held-out
data. The diagnostics here are not held-out quantities: ``min_norm_gap_``,
``min_norm_distance_``, ``stranded_indices_`` and
``pattern_matches_reference_`` describe where gradient descent ended on the
*training* fold, against that fold's reference. The scorers read them from
the fitted estimator and ignore ``X`` and ``y``, so that
``GridSearchCV(scoring={'r2': 'r2', **GAP_SCORERS}, refit='r2')`` reports,
per candidate and fold, the test score beside the training-fold diagnostics
(``cv_results_['mean_test_neg_min_norm_gap']`` is then a training-set
quantity, averaged over the folds' training sets). The names are keys of
:data:`GAP_SCORERS`, not strings scikit-learn knows: pass the scorers.
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._base import _BaseReLURegressor

#: What each diagnostic reads from a ShallowReLURegressor, and its value for the
#: reference itself (a MinNormReLURegressor).
_DIAGNOSTICS = {
    "min_norm_gap_": (lambda est: float(est.min_norm_gap_), 0.0),
    "min_norm_distance_": (lambda est: float(est.min_norm_distance_), 0.0),
    "stranded_indices_": (lambda est: float(est.stranded_indices_.size), 0.0),
    "pattern_matches_reference_": (
        lambda est: (
            np.nan
            if est.pattern_matches_reference_ is None
            else float(est.pattern_matches_reference_)
        ),
        1.0,
    ),
}


def _label_sign_reference(est):
    """Whether a MinNormReLURegressor is the label-sign reference (no other region asked)."""
    return est.region is None


class _GapScorer:
    """A scorer reading one training-set diagnostic (see :func:`make_gap_scorer`)."""

    def __init__(self, attribute, sign):
        self.attribute, self.sign = attribute, sign

    def __call__(self, estimator, X=None, y=None, **kwargs):
        if hasattr(estimator, "steps"):  # a Pipeline: its last step holds the fit
            estimator = estimator[-1]
        if not isinstance(estimator, _BaseReLURegressor):
            raise TypeError(
                f"The gap scorers read a ShallowReLURegressor's or MinNormReLURegressor's "
                f"fit (or a Pipeline ending in one), not a {type(estimator).__name__}."
            )
        check_is_fitted(estimator, "hidden_weights_")
        read, of_reference = _DIAGNOSTICS[self.attribute]
        if not hasattr(estimator, "init_hidden_weights_"):  # a minimum-norm solution
            # the label-sign reference itself; another region's: not known here
            value = of_reference if _label_sign_reference(estimator) else np.nan
        else:
            value = read(estimator)
        return self.sign * value + 0.0  # no -0.0

    def __repr__(self):
        sign = "" if self.sign > 0 else ", greater_is_better=False"
        return f"make_gap_scorer({self.attribute!r}{sign})"


def make_gap_scorer(attribute="min_norm_gap_", *, greater_is_better=None):
    """Make a scorer that reads one of a fit's implicit-bias diagnostics.

    Parameters
    ----------
    attribute : str
        One of ``'min_norm_gap_'`` (the default), ``'min_norm_distance_'``,
        ``'stranded_indices_'`` and ``'pattern_matches_reference_'``: the
        relative or absolute distance to the label-sign
        minimum-norm reference, the number of stranded examples, or whether
        the run ended in the reference's activation region (1.0 or 0.0; NaN
        when the reference was not computed). Read from the fitted
        estimator (a Pipeline's last step); a
        :class:`~sklearn_relubias.MinNormReLURegressor` with ``region=None``
        is the reference itself: gap, distance and stranded count 0, in its
        region 1 (NaN with another ``region``: use
        :func:`~sklearn_relubias.experiments.compare_solutions`). The
        gap and distance are NaN when the fit did not compute its reference
        (``compute_min_norm_gap=False``, or ``'auto'`` where ``n_samples >=
        n_features`` or above 1000 examples: set it to True there).
    greater_is_better : bool, default=None
        None: False for the gap, the distance and the stranded count (the
        scorer returns their negatives, as scikit-learn's ``neg_*`` scorers
        do, so that larger is better), True for the region flag.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y)``; ``X`` and ``y`` are not used. The value
        describes the estimator's training data (in a search, the training
        fold), not the data passed to it.

    Examples
    --------
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn_relubias import PAPER_MODEL, ShallowReLURegressor
    >>> from sklearn_relubias.datasets import make_high_dim_regression
    >>> from sklearn_relubias.metrics import GAP_SCORERS
    >>> X, y = make_high_dim_regression(20, 2000, labels="rademacher", random_state=0)
    >>> search = GridSearchCV(
    ...     ShallowReLURegressor(**PAPER_MODEL),
    ...     {"learning_rate": [1.0, 0.1]},
    ...     scoring={"r2": "r2", **GAP_SCORERS},
    ...     refit="r2",
    ...     cv=3,
    ... ).fit(X, y)
    >>> gaps = -search.cv_results_["mean_test_neg_min_norm_gap"]
    >>> bool(gaps[1] < gaps[0])  # the gap falls with the learning rate
    True
    """
    if attribute not in _DIAGNOSTICS:
        raise ValueError(f"attribute={attribute!r}; choose one of {sorted(_DIAGNOSTICS)}.")
    if greater_is_better is None:
        greater_is_better = attribute == "pattern_matches_reference_"
    return _GapScorer(attribute, 1.0 if greater_is_better else -1.0)


#: Ready-made scorers by name, for ``scoring={**GAP_SCORERS, 'r2': 'r2'}``.
GAP_SCORERS = {
    "neg_min_norm_gap": make_gap_scorer("min_norm_gap_"),
    "neg_min_norm_distance": make_gap_scorer("min_norm_distance_"),
    "neg_stranded_count": make_gap_scorer("stranded_indices_"),
    "in_reference_region": make_gap_scorer("pattern_matches_reference_"),
}
