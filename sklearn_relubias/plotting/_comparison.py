"""SolutionComparisonDisplay: the distances between solutions and their gaps to a reference."""

import numpy as np


def _cell(value):
    return "n/a" if not np.isfinite(value) else f"{value:.2g}"


class SolutionComparisonDisplay:
    """A comparison of fitted solutions: a heat map of their distances and a bar chart of gaps.

    Left, ``||W_a - W_b||_F`` between every pair of solutions (the value in
    each cell; gray "n/a" between networks of other shapes or output
    weights); right, each solution's relative gap to one reference (a gray
    "n/a" where it does not apply, e.g. a region reference with the linear
    activation). Create it with :meth:`from_comparison`.

    Parameters
    ----------
    names : list of str
    distances : ndarray of shape (n_solutions, n_solutions)
    gaps : ndarray of shape (n_solutions,)
    reference : str
        The reference the gaps are to.
    title : str, default=None

    Attributes
    ----------
    figure_ : matplotlib Figure
    ax_distances_, ax_gaps_ : matplotlib Axes
    image_ : matplotlib AxesImage
        The heat map.
    bars_ : matplotlib BarContainer
    title_ : matplotlib Text or None
        The figure's title.
    """

    def __init__(self, *, names, distances, gaps, reference, title=None):
        self.names = names
        self.distances = distances
        self.gaps = gaps
        self.reference = reference
        self.title = title

    @classmethod
    def from_comparison(cls, comparison, *, reference="label_sign", data=None, axes=None):
        """Plot a :class:`~sklearn_relubias.experiments.SolutionComparison`.

        Parameters
        ----------
        comparison : SolutionComparison
            From :func:`~sklearn_relubias.experiments.compare_solutions`.
        reference : str, default='label_sign'
            One of the references the comparison measured (its records'
            ``gap_<reference>`` keys).
        data : str, default=None
            What the data are, for the title (e.g. "diabetes, standardised").
        axes : pair of matplotlib Axes, default=None
            Where to draw the heat map and the bars; a new figure if None.

        Returns
        -------
        display : SolutionComparisonDisplay
        """
        if not hasattr(comparison, "records") or not hasattr(comparison, "distances"):
            raise TypeError(
                "comparison must be what experiments.compare_solutions returns; got "
                f"{type(comparison).__name__}."
            )
        measured = [k[len("gap_") :] for k in comparison.records[0] if k.startswith("gap_")]
        if reference not in measured:
            raise ValueError(
                f"reference={reference!r} was not measured by this comparison; choose one of "
                f"{measured} (or pass it to compare_solutions(references=...))."
            )
        gaps = np.array([r[f"gap_{reference}"] for r in comparison.records], dtype=float)
        models = sorted({r["estimator"] for r in comparison.records})
        title = f"{len(comparison.names)} solutions ({', '.join(models)})"
        if data:
            title += f" on {data}"
        return cls(
            names=list(comparison.names),
            distances=np.asarray(comparison.distances, dtype=float),
            gaps=gaps,
            reference=reference,
            title=title,
        ).plot(axes=axes)

    def plot(self, axes=None):
        """Draw the heat map and the bars.

        Parameters
        ----------
        axes : pair of matplotlib Axes, default=None
            Where to draw; a new figure (two panels) if None.

        Returns
        -------
        display : SolutionComparisonDisplay
        """
        import matplotlib.pyplot as plt

        k = len(self.names)
        if axes is None:
            size = (7.0 + 1.1 * k, 1.8 + 0.6 * k)
            _, axes = plt.subplots(1, 2, figsize=size, width_ratios=(1.1, 1.0))
        ax_d, ax_g = axes
        cmap = plt.get_cmap("viridis").with_extremes(bad="lightgray")
        D = np.ma.masked_invalid(self.distances)
        self.image_ = ax_d.imshow(D, cmap=cmap)
        ax_d.figure.colorbar(self.image_, ax=ax_d, label="||W_a - W_b||_F", shrink=0.8)
        top = float(D.max()) if D.count() else 0.0
        for i in range(k):
            for j in range(k):
                value = self.distances[i, j]
                dark = np.isfinite(value) and value < 0.5 * top
                ax_d.text(
                    j,
                    i,
                    _cell(value),
                    ha="center",
                    va="center",
                    fontsize="x-small",
                    color="white" if dark else "black",
                )
        ax_d.set_xticks(range(k), self.names, rotation=30, ha="right")
        ax_d.set_yticks(range(k), self.names)
        ax_d.set_title("distances between the solutions' weights", fontsize="medium")
        finite = np.where(np.isfinite(self.gaps), self.gaps, 0.0)
        self.bars_ = ax_g.barh(range(k), finite, color="tab:blue")
        for i, value in enumerate(self.gaps):
            if not np.isfinite(value):
                self.bars_[i].set_color("lightgray")
            ax_g.text(finite[i], i, " " + _cell(value), va="center", fontsize="small")
        ax_g.set_yticks(range(k), self.names)
        ax_g.invert_yaxis()  # the heat map's row order
        ax_g.set_xlim(0, 1.25 * max(float(finite.max()), 1e-12))
        ax_g.set_xlabel(f"||W - W_ref|| / ||W_ref||, ref: {self.reference.replace('_', '-')}")
        ax_g.set_title(
            f"gap to the {self.reference.replace('_', '-')} reference", fontsize="medium"
        )
        self.ax_distances_, self.ax_gaps_, self.figure_ = ax_d, ax_g, ax_d.figure
        self.title_ = self.figure_.suptitle(self.title) if self.title else None
        self.figure_.tight_layout()
        return self
