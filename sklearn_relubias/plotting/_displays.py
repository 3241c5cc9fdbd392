"""Displays: ``from_result`` / ``from_estimator`` compute, ``plot`` draws."""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ..experiments._gap_sweep import quantile_key

_SIZES = ("n_features", "n_samples")
_LABELS = {
    "n_features": "dimension d",
    "n_samples": "number of examples n",
    "learning_rate": "learning_rate",
    "min_norm_gap": "||W - W*|| / ||W*||",
    "min_norm_distance": "||W - W*||",
    "active_ls_gap": "||W - W_ls|| / ||W_ls||",
    "min_norm_to_active_ls": "||W_ls - W*|| / ||W*||",
}


def _axes(ax):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots()
    return ax


class GapDisplay:
    """A metric of a gap sweep against one swept variable, on log-log axes.

    One line per combination of the other sweep keys: the median over
    repeats, with a band between two quantiles. Against ``n_features`` or
    ``n_samples`` the display also draws the reference ``sqrt(n/d)`` (gray,
    dashed, once per distinct curve) and puts the fitted log-log slope with its 95% interval
    (:meth:`GapSweepResult.slopes`) in the legend.

    Create it with :meth:`from_result`.

    Parameters
    ----------
    x : str
        Swept variable on the horizontal axis.
    metric : str
        Record key on the vertical axis.
    curves : list of dict
        One per line: ``label``, ``x``, ``median``, ``low``, ``high`` and, for
        a size variable, ``reference`` (``sqrt(n/d)`` at each ``x``).

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    lines_ : list of matplotlib Line2D
        The median lines.
    bands_ : list of matplotlib PolyCollection
        The quantile bands.
    reference_lines_ : list of matplotlib Line2D
        The distinct ``sqrt(n/d)`` references (empty unless ``x`` is a size).
    """

    def __init__(self, *, x, metric, curves):
        self.x = x
        self.metric = metric
        self.curves = curves

    @classmethod
    def from_result(
        cls, result, *, x="n_features", metric="min_norm_gap", quantiles=(0.1, 0.9), ax=None
    ):
        """Summarise a :class:`~sklearn_relubias.experiments.GapSweepResult` and plot it.

        Parameters
        ----------
        result : GapSweepResult
            Output of :func:`~sklearn_relubias.experiments.gap_sweep`.
        x : str, default="n_features"
            A sweep key with several values: 'n_features', 'n_samples' or a
            swept estimator parameter such as 'learning_rate'.
        metric : str, default="min_norm_gap"
            Record key to plot.
        quantiles : tuple of two floats, default=(0.1, 0.9)
            Limits of the band.
        ax : matplotlib Axes, default=None
            Where to draw; a new figure if None.

        Returns
        -------
        display : GapDisplay
        """
        keys = result.group_keys
        if x not in keys:
            raise ValueError(f"x={x!r} is not a key of this sweep; choose one of {keys}.")
        others = [k for k in keys if k != x and len({r[k] for r in result.records}) > 1]
        slopes = {}
        if x in _SIZES:
            for row in result.slopes(metric):
                if row["variable"] == x:
                    slopes[tuple(row[k] for k in result.swept)] = row
        lo, hi = quantiles
        columns = {q: quantile_key(metric, q) for q in (lo, 0.5, hi)}
        groups = {}
        for row in result.summary(quantiles=tuple(columns)):
            groups.setdefault(tuple(row[k] for k in others), []).append(row)
        curves = []
        for key, rows in groups.items():
            rows = sorted(rows, key=lambda row: row[x])
            label = ", ".join(f"{k}={v}" for k, v in zip(others, key, strict=True)) or metric
            slope = slopes.get(tuple(rows[0][k] for k in result.swept))
            if slope is not None:
                label += (
                    f" (slope {slope['slope']:.2f} [{slope['ci_low']:.2f}, {slope['ci_high']:.2f}])"
                )
            curve = {
                "label": label,
                "x": np.array([row[x] for row in rows], dtype=float),
                "median": np.array([row[columns[0.5]] for row in rows]),
                "low": np.array([row[columns[lo]] for row in rows]),
                "high": np.array([row[columns[hi]] for row in rows]),
            }
            if x in _SIZES:
                n = np.array([row["n_samples"] for row in rows], dtype=float)
                d = np.array([row["n_features"] for row in rows], dtype=float)
                curve["reference"] = np.sqrt(n / d)
            curves.append(curve)
        return cls(x=x, metric=metric, curves=curves).plot(ax=ax)

    def plot(self, ax=None, **kwargs):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; a new figure if None.
        **kwargs : dict
            Passed to ``ax.plot`` for the median lines.

        Returns
        -------
        display : GapDisplay
        """
        ax = _axes(ax)
        self.lines_, self.bands_, self.reference_lines_ = [], [], []
        drawn = []
        for curve in self.curves:
            (line,) = ax.plot(curve["x"], curve["median"], "o-", label=curve["label"], **kwargs)
            self.lines_.append(line)
            band = ax.fill_between(
                curve["x"], curve["low"], curve["high"], color=line.get_color(), alpha=0.2
            )
            self.bands_.append(band)
        for curve in self.curves:
            ref = (tuple(curve["x"]), tuple(curve.get("reference", ())))
            if ref[1] and ref not in drawn:
                drawn.append(ref)
                (ref_line,) = ax.plot(curve["x"], curve["reference"], "--", color="gray")
                self.reference_lines_.append(ref_line)
        if self.reference_lines_:
            self.reference_lines_[0].set_label("sqrt(n/d)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(_LABELS.get(self.x, self.x))
        ax.set_ylabel(_LABELS.get(self.metric, self.metric))
        ax.legend(fontsize="small")
        self.ax_, self.figure_ = ax, ax.figure
        return self


class PatternTimelineDisplay:
    """When each training example is active for each neuron, step by step.

    One row per (neuron, example): a bar wherever ``<w_j, x_i> > 0`` at that
    iterate. A vertical line marks ``pattern_stable_iter_``. Create it with
    :meth:`from_estimator` on a :class:`~sklearn_relubias.ShallowReLURegressor`
    fitted with ``record_pattern=True``.

    Parameters
    ----------
    intervals : list of list of (start, length)
        Active intervals of each row, in iterations.
    row_labels : list of str
        ``"j=.., i=.."`` per row.
    n_iter : int
        Number of steps of the fit.
    stable_iter : int
        The fit's ``pattern_stable_iter_``.

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    bars_ : list of matplotlib PolyCollection
        One per row.
    stable_line_ : matplotlib Line2D
    """

    def __init__(self, *, intervals, row_labels, n_iter, stable_iter):
        self.intervals = intervals
        self.row_labels = row_labels
        self.n_iter = n_iter
        self.stable_iter = stable_iter

    @classmethod
    def from_estimator(cls, estimator, *, order=None, ax=None):
        """Rebuild the pattern history of a fitted estimator and plot it.

        Parameters
        ----------
        estimator : ShallowReLURegressor
            Fitted with ``record_pattern=True``.
        order : array-like of int, default=None
            Order of the examples in each neuron's block of rows (e.g.
            ``np.argsort(y)``); training order if None.
        ax : matplotlib Axes, default=None
            Where to draw; a new figure if None.

        Returns
        -------
        display : PatternTimelineDisplay
        """
        check_is_fitted(estimator)
        if not hasattr(estimator, "pattern_changes_"):
            raise ValueError(
                "The estimator has no pattern history; fit it with record_pattern=True."
            )
        final = estimator.activation_pattern_
        n_samples, n_neurons = final.shape
        end = estimator.n_iter_ + 1
        flips = {}
        state = final.copy()
        for t, i, j in estimator.pattern_changes_:
            flips.setdefault((i, j), []).append(t)
            state[i, j] = ~state[i, j]
        order = np.arange(n_samples) if order is None else np.asarray(order)
        intervals, labels = [], []
        for j in range(n_neurons):
            for i in order:
                active, start, spans = state[i, j], 0, []
                for t in [*flips.get((i, j), []), end]:
                    if active:
                        spans.append((start, t - start))
                    active, start = not active, t
                intervals.append(spans)
                labels.append(f"j={j}, i={i}")
        return cls(
            intervals=intervals,
            row_labels=labels,
            n_iter=estimator.n_iter_,
            stable_iter=estimator.pattern_stable_iter_,
        ).plot(ax=ax)

    def plot(self, ax=None, *, xscale="symlog", **kwargs):
        """Draw the timeline.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; a new figure if None.
        xscale : str, default="symlog"
            Scale of the iteration axis ('symlog' shows the first steps and
            the long tail together; 'linear' also works).
        **kwargs : dict
            Passed to ``ax.broken_barh``.

        Returns
        -------
        display : PatternTimelineDisplay
        """
        ax = _axes(ax)
        kwargs = {"facecolors": "black", **kwargs}
        self.bars_ = [
            ax.broken_barh(spans, (row - 0.4, 0.8), **kwargs)
            for row, spans in enumerate(self.intervals)
        ]
        self.stable_line_ = ax.axvline(
            self.stable_iter, color="tab:red", label=f"pattern stable from step {self.stable_iter}"
        )
        ax.set_xscale(xscale)
        ax.set_xlim(0, self.n_iter + 1)
        ax.set_ylim(len(self.intervals) - 0.5, -0.5)
        if len(self.row_labels) <= 40:
            ax.set_yticks(range(len(self.row_labels)), self.row_labels, fontsize="x-small")
        ax.set_xlabel("iteration")
        ax.set_ylabel("(neuron j, example i): black where active")
        ax.legend(loc="lower right", fontsize="small")
        self.ax_, self.figure_ = ax, ax.figure
        return self
