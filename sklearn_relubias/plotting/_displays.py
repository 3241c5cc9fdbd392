"""Displays: ``from_result`` / ``from_estimator`` compute, ``plot`` draws."""

import textwrap
from numbers import Real

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._base import check_complete_history
from ..experiments._gap_sweep import quantile_key
from ._search import cv_curves, search_title

_SIZES = ("n_features", "n_samples")
_LABELS = {
    "n_features": "dimension d",
    "n_samples": "number of examples n",
    "learning_rate": "learning_rate",
    "trace": "trace ||lambda||_1",
    "effective_rank": "effective rank R",
    "min_norm_gap": "||W - W*|| / ||W*||",
    "min_norm_distance": "||W - W*||",
    "min_norm_norm": "||W*||",
    "active_ls_gap": "||W - W_ls|| / ||W_ls||",
    "active_ls_distance": "||W - W_ls||",
    "min_norm_to_active_ls": "||W_ls - W*|| / ||W*||",
    "min_norm_to_active_ls_distance": "||W_ls - W*||",
    "negative_slope": "negative slope alpha (1: linear, 0: ReLU)",
    "relative_gap": "||W - W*|| / ||W*||",
    "reference_norm": "||W*||",
}
_LEGEND = {
    "best": {"loc": "best"},
    # outside the axes, below the tick labels and the axis label
    "below": {"loc": "upper center", "bbox_to_anchor": (0.5, 0.0), "borderaxespad": 4.2},
    "right": {"loc": "upper left", "bbox_to_anchor": (1.02, 1.0), "borderaxespad": 0.0},
}


# one marker per curve, so that curves that meet stay distinguishable
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def _axes(ax):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots()
    return ax


def _same_curve(c1, c2):
    """Whether two summarised curves coincide (to rounding)."""
    return c1["x"].shape == c2["x"].shape and all(
        np.array_equal(c1["x"], c2["x"]) if k == "x" else np.allclose(c1[k], c2[k], rtol=1e-9)
        for k in ("x", "median", "low", "high")
    )


def _log_ticks(ax, x_values, log_y=True):
    """Readable log axes: x ticks at the data's values, y ticks at 1-2-5 or 1-3 steps.

    Matplotlib's default log locator labels only powers of ten, which leaves a
    sweep over less than a decade or two with one label or none, and its
    minor labels (``3 x 10^2``) collide when the range is narrow.
    """
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, NullLocator

    plain = FuncFormatter(lambda v, _: f"{v:g}")
    values = np.unique(np.asarray(x_values, dtype=float))
    if 0 < values.size <= 8:
        ax.set_xticks(values, [f"{v:g}" for v in values])
        ax.xaxis.set_minor_locator(NullLocator())
    if not log_y:
        return
    low, high = ax.get_ylim()
    decades = np.log10(high / low) if low > 0 and high > low else np.inf
    subs = (1.0, 2.0, 5.0) if decades <= 1.5 else (1.0, 3.0) if decades <= 3 else (1.0,)
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=subs))
    ax.yaxis.set_major_formatter(plain)
    ax.yaxis.set_minor_formatter(NullFormatter())


class GapDisplay:
    """A metric of a gap sweep against one swept variable, on log-log axes.

    One line per combination of the other sweep keys: the median over
    repeats, with a band between two quantiles (named in the legend). Curves
    that coincide (e.g. a reference-to-reference distance, which does not
    depend on the learning rate) are drawn once, with the keys they share in
    their label. Against ``n_features`` or ``n_samples`` the display also
    draws the reference ``sqrt(n/d)`` (gray, dashed, once per distinct curve;
    slope -1/2 in d, +1/2 in n) and puts the fitted log-log slope with its
    95% interval (:meth:`GapSweepResult.slopes`) in the legend; against
    ``learning_rate`` it draws the line ``y = learning_rate`` (slope 1).

    Create it with :meth:`from_result`.

    Parameters
    ----------
    x : str
        Swept variable on the horizontal axis.
    metric : str
        Record key on the vertical axis.
    curves : list of dict
        One per line: ``label``, ``x``, ``median``, ``low``, ``high`` and
        optionally ``reference`` (the guide line's values at each ``x``).
    band_label : str, default=None
        Legend entry of the bands (e.g. "10-90% quantiles over repeats").
    reference_label : str, default=None
        Legend entry of the guide lines.
    x_labels : list of str, default=None
        For a categorical ``x``: the category of each position ``0, 1, ...``
        (the curves' ``x`` are positions; the axis is linear).
    intervals : {'band', 'errorbar'}, default='band'
        How ``low`` and ``high`` are drawn.
    offset : float, default=0.0
        Horizontal spread between curves, so that none hides another:
        curve ``i`` of ``k`` is shifted by ``(i - (k - 1) / 2) * offset``
        positions (categorical ``x``) or by that fraction of its value
        (numeric ``x``, log axis). The shift is for visibility only and
        the legend says so.
    title : str, default=None
        The axes' title (the data and the model).
    curves may also hold ``flat=True``: a quantity without ``x`` (e.g. a
    search candidate that does not have the parameter), drawn as a
    horizontal dotted line at its ``median``.

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    lines_ : list of matplotlib Line2D
        The median lines.
    bands_ : list of matplotlib PolyCollection
        The quantile bands.
    reference_lines_ : list of matplotlib Line2D
        The distinct guide lines (empty unless ``x`` is a size or
        ``learning_rate``).
    legend_ : matplotlib Legend or None
    """

    def __init__(
        self,
        *,
        x,
        metric,
        curves,
        band_label=None,
        reference_label=None,
        x_labels=None,
        intervals="band",
        offset=0.0,
        title=None,
    ):
        self.x = x
        self.metric = metric
        self.curves = curves
        self.band_label = band_label
        self.reference_label = reference_label
        self.x_labels = x_labels
        self.intervals = intervals
        self.offset = offset
        self.title = title

    @classmethod
    def from_result(
        cls,
        result,
        *,
        x="n_features",
        metric="min_norm_gap",
        quantiles=(0.1, 0.9),
        ax=None,
        legend="best",
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
        legend : {'best', 'below', 'right'} or None, default='best'
            Where the legend goes (see :meth:`plot`).

        Returns
        -------
        display : GapDisplay
        """
        keys = result.group_keys
        if x not in keys:
            raise ValueError(f"x={x!r} is not a key of this sweep; choose one of {keys}.")
        numeric = [
            k
            for k in keys
            if all(isinstance(r[k], Real) and not isinstance(r[k], bool) for r in result.records)
        ]
        if x not in numeric:
            raise ValueError(
                f"x={x!r} is categorical; the horizontal axis is logarithmic, so choose a "
                f"numeric sweep key: one of {numeric} (the other keys become separate curves)."
            )
        metrics = sorted(
            k for k, v in result.records[0].items() if isinstance(v, Real) and k not in keys
        )
        if metric not in result.records[0]:
            raise ValueError(f"metric={metric!r} is not a record key; choose one of {metrics}.")
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
        try:  # same order, hence same colours, in every panel of a figure
            ordered = sorted(groups.items(), key=lambda item: item[0])
        except TypeError:  # keys that do not compare: first-seen order
            ordered = list(groups.items())
        curves = []
        for key, rows in ordered:
            rows = sorted(rows, key=lambda row: row[x])
            curve = {
                "names": [", ".join(f"{k}={v}" for k, v in zip(others, key, strict=True))],
                "slope": slopes.get(tuple(rows[0][k] for k in result.swept)),
                "x": np.array([row[x] for row in rows], dtype=float),
                "median": np.array([row[columns[0.5]] for row in rows]),
                "low": np.array([row[columns[lo]] for row in rows]),
                "high": np.array([row[columns[hi]] for row in rows]),
            }
            if x in _SIZES:
                n = np.array([row["n_samples"] for row in rows], dtype=float)
                d = np.array([row["n_features"] for row in rows], dtype=float)
                curve["reference"] = np.sqrt(n / d)
            elif x == "learning_rate":
                curve["reference"] = curve["x"].copy()
            same = next((c for c in curves if _same_curve(c, curve)), None)
            if same is None:
                curves.append(curve)
            else:
                same["names"] += curve["names"]
        for curve in curves:
            names = [name for name in curve.pop("names") if name]
            label = ", ".join(names) if names else metric
            if len(names) > 1:
                label += " (identical)"
            slope = curve.pop("slope")
            if slope is not None:
                label += (
                    f" (slope {slope['slope']:.2f} [{slope['ci_low']:.2f}, {slope['ci_high']:.2f}])"
                )
            curve["label"] = label
        reference_label = None
        if x in _SIZES:
            reference_label = f"sqrt(n/d) (slope {'-' if x == 'n_features' else '+'}1/2)"
        elif x == "learning_rate":
            reference_label = "y = learning_rate (slope 1)"
        return cls(
            x=x,
            metric=metric,
            curves=curves,
            band_label=f"{lo:.0%}-{hi:.0%} quantiles over repeats",
            reference_label=reference_label,
        ).plot(ax=ax, legend=legend)

    @classmethod
    def from_cv_results(
        cls, search, *, x, metric, hue=None, data=None, offset=None, ax=None, legend="best"
    ):
        """Plot a scorer of a search against one of its parameters.

        One curve per combination of the other parameters that vary (the
        ``hue`` parameter first in the labels): the mean over the folds,
        with error bars one standard deviation apart. A categorical ``x``
        (e.g. 'init', 'optimizer', 'activation') is drawn at evenly spaced
        positions; a numeric one on a log axis. Curves are spread
        horizontally and get their own markers so that none hides another;
        candidates that do not have ``x`` (e.g. a ``MinNormReLURegressor``
        in a list of grids) are dotted horizontal lines. Scorers named
        ``neg_*`` (the package's gap scorers, see
        :data:`~sklearn_relubias.metrics.GAP_SCORERS`) are negated back:
        the axis shows the gap itself. These scorers measure each fold's
        training fit.

        Parameters
        ----------
        search : fitted GridSearchCV or RandomizedSearchCV, or its ``cv_results_``
        x : str
            A searched parameter: its full name (``'reg__learning_rate'``)
            or the part after the last ``'__'`` when that is unique.
        metric : str
            A key of the search's ``scoring`` (``'score'`` for a single
            scorer).
        hue : str, default=None
            A parameter that names the curves first; every other varying
            parameter also splits them.
        data : str, default=None
            What the data are, for the title (default: the search's
            number of features).
        offset : float, default=None
            Horizontal spread between curves (see the class); None: 0.08
            positions on a categorical axis, 3% on a numeric one.
        ax : matplotlib Axes, default=None
        legend : {'best', 'below', 'right'} or None, default='best'

        Returns
        -------
        display : GapDisplay
        """
        results = getattr(search, "cv_results_", search)
        if not isinstance(results, dict):
            raise TypeError(
                f"search must be a fitted search (with cv_results_) or its cv_results_ dict; "
                f"got {type(search).__name__}."
            )
        curves, x_labels, x_key, label = cv_curves(results, x, metric, hue)
        if offset is None:
            offset = 0.08 if x_labels is not None else 0.03
        display = cls(
            x=x_key.rsplit("__", 1)[-1],
            metric=label,
            curves=curves,
            band_label="+/- one standard deviation over folds",
            x_labels=x_labels,
            intervals="errorbar",
            offset=offset,
            title=search_title(search, label, data),
        )
        return display.plot(ax=ax, legend=legend)

    def plot(self, ax=None, *, legend="best", **kwargs):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; a new figure if None.
        legend : {'best', 'below', 'right'} or None, default='best'
            Inside the axes where it hides the least data ('best'), outside
            below the axis label ('below') or to the right ('right'), or no
            legend (None).
        **kwargs : dict
            Passed to ``ax.plot`` for the median lines.

        Returns
        -------
        display : GapDisplay
        """
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        if legend is not None and legend not in _LEGEND:
            raise ValueError(f"legend={legend!r}; choose one of {sorted(_LEGEND)} or None.")
        ax = _axes(ax)
        self.lines_, self.bands_, self.reference_lines_ = [], [], []
        drawn = []
        categorical = self.x_labels is not None
        stepped = [c for c in self.curves if not c.get("flat")]
        # on a categorical axis all the curves' spread stays within 0.6 of a position
        step = min(self.offset, 0.6 / max(len(stepped) - 1, 1)) if categorical else self.offset
        for i, curve in enumerate(stepped):
            shift = (i - (len(stepped) - 1) / 2) * step
            x = curve["x"] + shift if categorical else curve["x"] * (1.0 + shift)
            style = {"marker": _MARKERS[i % len(_MARKERS)], "label": curve["label"], **kwargs}
            if self.intervals == "errorbar":
                yerr = [curve["median"] - curve["low"], curve["high"] - curve["median"]]
                label = style.pop("label")
                bars = ax.errorbar(x, curve["median"], yerr=yerr, capsize=3, **style)
                line = bars.lines[0]
                line.set_label(label)  # the line carries it (and the legend's entry)
                self.bands_.append(bars)
            else:
                (line,) = ax.plot(x, curve["median"], "-", **style)
                band = ax.fill_between(
                    x, curve["low"], curve["high"], color=line.get_color(), alpha=0.2
                )
                self.bands_.append(band)
            self.lines_.append(line)
        for curve in self.curves:
            if curve.get("flat"):
                level = float(curve["median"][0])
                line = ax.axhline(level, ls=":", color="black", label=curve["label"])
                self.lines_.append(line)
        for curve in self.curves:
            ref = (tuple(curve["x"]), tuple(curve.get("reference", ())))
            if ref[1] and ref not in drawn:
                drawn.append(ref)
                (ref_line,) = ax.plot(curve["x"], curve["reference"], "--", color="gray")
                self.reference_lines_.append(ref_line)
        if self.reference_lines_:
            self.reference_lines_[0].set_label(self.reference_label or "reference")
        values = [c[k] for c in self.curves for k in ("median", "low")]
        values = np.concatenate(values) if values else np.ones(1)
        log_y = bool(np.all(values[np.isfinite(values)] > 0))
        ax.set_yscale("log" if log_y else "linear")
        xlabel = _LABELS.get(self.x, self.x)
        if self.offset and len(stepped) > 1:
            xlabel += " (curves spread apart for visibility)"
        ax.set_xlabel(xlabel)
        ax.set_ylabel(_LABELS.get(self.metric, self.metric))
        if categorical:
            ax.set_xticks(range(len(self.x_labels)), self.x_labels)
            ax.set_xlim(-0.5, len(self.x_labels) - 0.5)
        else:
            ax.set_xscale("log")
            _log_ticks(
                ax, np.concatenate([c["x"] for c in stepped]) if stepped else [], log_y=log_y
            )
        if self.title:  # wrapped: panels side by side keep their own titles apart
            ax.set_title(textwrap.fill(self.title, 60), fontsize="medium")
        self.legend_ = None
        if legend is not None:
            handles, labels = ax.get_legend_handles_labels()
            if self.bands_ and self.band_label:
                if self.intervals == "errorbar":
                    handles.append(Line2D([], [], color="gray", marker="|", ls="none", ms=10))
                else:
                    handles.append(Patch(facecolor="gray", alpha=0.2))
                labels.append(self.band_label)
            self.legend_ = ax.legend(handles, labels, fontsize="small", **_LEGEND[legend])
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
        check_complete_history(estimator)
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


class ActivationDisplay:
    """A metric of an activation sweep against the negative slope, one line per learning rate.

    The horizontal axis is symmetric-log (linear below 0.01), so that the
    ReLU point ``alpha = 0`` is drawn beside the leaky slopes; the vertical
    axis is logarithmic, with exact zeros drawn at the axis' bottom. Each
    line is the median over seeds with a 10-90% band; hollow markers are
    cells where some fits stopped at ``max_iter`` (the share is in
    ``curves``).

    Create it with :meth:`from_result`.

    Parameters
    ----------
    metric : str
        ``'relative_gap'`` or ``'reference_norm'``.
    n_neurons : int
    curves : list of dict
        One per learning rate: ``label``, ``x``, ``median``, ``low``,
        ``high``, ``converged`` (share of converged fits per point).
    title : str

    Attributes
    ----------
    ax_, figure_, lines_, legend_
    """

    def __init__(self, *, metric, n_neurons, curves, title):
        self.metric = metric
        self.n_neurons = n_neurons
        self.curves = curves
        self.title = title

    @classmethod
    def from_result(cls, result, *, n_neurons=1, metric="relative_gap", ax=None, **kwargs):
        """Summarise an :class:`~sklearn_relubias.experiments.ActivationSweepResult` and draw it."""
        if metric not in ("relative_gap", "reference_norm"):
            raise ValueError(f"metric={metric!r}; choose 'relative_gap' or 'reference_norm'.")
        rows = [r for r in result.summary() if r["n_neurons"] == n_neurons]
        if not rows:
            ms = sorted({r["n_neurons"] for r in result.records})
            raise ValueError(f"n_neurons={n_neurons} is not in the sweep; it has {ms}.")
        curves = []
        rates = sorted({r["learning_rate"] for r in rows}, reverse=True)
        for lr in rates if metric == "relative_gap" else rates[:1]:  # ||W*|| has no rate
            sel = sorted(
                (r for r in rows if r["learning_rate"] == lr), key=lambda r: r["negative_slope"]
            )
            key = "gap" if metric == "relative_gap" else None
            med = [r[f"{key}_median"] if key else r["reference_norm_median"] for r in sel]
            curves.append(
                {
                    "label": (f"learning_rate={lr:g}" if lr > 0 else "exact gradient flow")
                    if key
                    else "||W*|| (median)",
                    "x": np.array([r["negative_slope"] for r in sel]),
                    "median": np.array(med),
                    "low": np.array([r["gap_q10"] if key else np.nan for r in sel]),
                    "high": np.array([r["gap_q90"] if key else np.nan for r in sel]),
                    "converged": np.array([r["converged"] for r in sel]),
                }
            )
        net = "one neuron" if n_neurons == 1 else f"{n_neurons} neurons (+/-)"
        seeds = rows[0]["n_seeds"]
        title = f"{net}, n={result.n_samples}, d={result.n_features}, zero start, {seeds} seeds"
        return cls(metric=metric, n_neurons=n_neurons, curves=curves, title=title).plot(
            ax, **kwargs
        )

    def plot(self, ax=None, **kwargs):
        """Draw the curves; returns the display."""
        ax = _axes(ax)
        floor = min(
            (
                v
                for c in self.curves
                for v in np.r_[c["median"], c["low"]]
                if np.isfinite(v) and v > 0
            ),
            default=1e-16,
        )
        self.lines_ = []
        markers = "osD^v"
        for k, c in enumerate(self.curves):
            y = np.where(c["median"] > 0, c["median"], floor)
            (line,) = ax.plot(c["x"], y, "-", marker=markers[k % 5], label=c["label"], **kwargs)
            color = line.get_color()
            partial = c["converged"] < 1
            line.set_markerfacecolor(color)
            if partial.any():  # hollow markers where some fits hit max_iter
                ax.plot(c["x"][partial], y[partial], markers[k % 5], mfc="white", mec=color)
            if np.isfinite(c["low"]).any():
                ax.fill_between(
                    c["x"],
                    np.maximum(c["low"], floor),
                    np.maximum(c["high"], floor),
                    color=color,
                    alpha=0.15,
                )
            self.lines_.append(line)
        ax.set_xscale("symlog", linthresh=0.01)
        ax.set_yscale("log")
        ax.set_xlabel(_LABELS["negative_slope"])
        ax.set_ylabel(_LABELS[self.metric])
        ax.set_title(self.title, fontsize="small")
        self.legend_ = ax.legend(fontsize="small", loc="best")
        self.ax_, self.figure_ = ax, ax.figure
        return self
