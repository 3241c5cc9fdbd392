"""Curves from a search's ``cv_results_``: one per combination of the other varying parameters."""

from numbers import Real

import numpy as np
from sklearn.pipeline import Pipeline

#: What the package's gap scorers measure (their values are negated for searches).
_SCORER_LABELS = {
    "neg_min_norm_gap": "training ||W - W*|| / ||W*||",
    "neg_min_norm_distance": "training ||W - W*||",
    "neg_stranded_count": "training examples stranded",
    "in_reference_region": "share of folds in W*'s region",
}


def _param_key(name, params, role):
    """Return the ``cv_results_`` parameter ``name`` names: itself, or the one ending ``__name``."""
    if name in params:
        return name
    matches = [p for p in params if p.endswith(f"__{name}")]
    if len(matches) == 1:
        return matches[0]
    raise ValueError(
        f"{role}={name!r} is not a searched parameter"
        + (f" (it ends {len(matches)} of them: {matches})" if matches else "")
        + f"; choose one of {params}."
    )


#: A candidate that does not have the parameter (a masked entry of ``cv_results_``).
MISSING = type("Missing", (), {"__repr__": lambda self: "MISSING"})()


def _value(column, i):
    """Candidate ``i``'s value of a ``param_`` column; MISSING where it does not have it."""
    if np.ma.is_masked(column[i]):
        return MISSING
    value = column[i]
    return value.item() if isinstance(value, np.generic) else value


def _shown(value):
    """Return the text of a value: estimators by their repr (their parameters differ)."""
    return repr(value) if hasattr(value, "get_params") else str(value)


def search_title(search, metric_label, data):
    """``"<metric> in GridSearchCV (5 folds): <model> on <data>"``."""
    if not hasattr(search, "cv_results_"):
        return f"{metric_label} on {data}" if data else metric_label
    est = search.estimator
    model = est.steps[-1][1] if isinstance(est, Pipeline) else est
    model = type(model).__name__ + (" in a Pipeline" if isinstance(est, Pipeline) else "")
    if data is None and hasattr(search, "n_features_in_"):
        data = f"{search.n_features_in_} features"
    folds = getattr(search, "n_splits_", None)
    where = f"{type(search).__name__}" + (f" ({folds} folds)" if folds else "")
    return f"{metric_label} in {where}: {model}" + (f" on {data}" if data else "")


def cv_curves(results, x, metric, hue):
    """Summarise ``cv_results_`` for :meth:`GapDisplay.from_cv_results`.

    Returns ``(curves, x_labels, x_key, metric_label)``: the curves (mean
    over folds, ``low``/``high`` one standard deviation apart; a scorer
    named ``neg_*`` is negated back), the categories of a categorical
    ``x`` (None when numeric) and the labels.
    """
    params = [k[len("param_") :] for k in results if k.startswith("param_")]
    scorers = [k[len("mean_test_") :] for k in results if k.startswith("mean_test_")]
    if metric not in scorers:
        raise ValueError(
            f"metric={metric!r} is not a scorer of this search; choose one of {scorers} "
            "(the keys of its scoring)."
        )
    x_key = _param_key(x, params, "x")
    hue_key = None if hue is None else _param_key(hue, params, "hue")
    if hue_key == x_key:
        raise ValueError(f"hue={hue!r} is the horizontal axis too; choose another parameter.")
    n = len(results[f"mean_test_{metric}"])
    sign = -1.0 if metric.startswith("neg_") else 1.0
    mean = sign * np.asarray(results[f"mean_test_{metric}"], dtype=float)
    std = np.asarray(results[f"std_test_{metric}"], dtype=float)
    column = {p: [_value(results[f"param_{p}"], i) for i in range(n)] for p in params}
    varying = [
        p for p in params if p != x_key and len({_shown(v) for v in column[p]}) > 1
    ]  # hue first: it names the curves
    if hue_key is not None:
        varying = [hue_key] + [p for p in varying if p != hue_key]
    xs = column[x_key]
    present = [v for v in xs if v is not MISSING]
    numeric = all(isinstance(v, Real) and not isinstance(v, bool) for v in present)
    x_labels, label_of = None, _shown
    if numeric and any(v <= 0 for v in present):  # no log axis: evenly spaced, in order
        label_of = "{:g}".format
        x_labels = [label_of(v) for v in sorted(set(present))]
        numeric = False
    elif not numeric:
        x_labels = list(dict.fromkeys(_shown(v) for v in present))
    groups = {}
    for i in range(n):
        key = tuple(_shown(column[p][i]) for p in varying)
        groups.setdefault(key, []).append(i)
    curves = []
    for key, rows in groups.items():
        label = ", ".join(  # a parameter the group does not have is left out
            f"{p.rsplit('__', 1)[-1]}={v}"
            for p, v in zip(varying, key, strict=True)
            if column[p][rows[0]] is not MISSING
        )
        flat = [i for i in rows if xs[i] is MISSING]
        stepped = [i for i in rows if xs[i] is not MISSING]
        for i in flat:  # candidates without the parameter: one horizontal line each
            curves.append(
                {
                    "label": (label or "candidate") + f" (no {x_key.rsplit('__', 1)[-1]})",
                    "flat": True,
                    "x": np.zeros(0),
                    "median": np.array([mean[i]]),
                    "low": np.array([mean[i] - std[i]]),
                    "high": np.array([mean[i] + std[i]]),
                }
            )
        if not stepped:
            continue
        if numeric:
            stepped.sort(key=lambda i: xs[i])
            at = np.array([xs[i] for i in stepped], dtype=float)
        else:
            at = np.array([x_labels.index(label_of(xs[i])) for i in stepped], dtype=float)
            order = np.argsort(at, kind="stable")
            stepped, at = [stepped[j] for j in order], at[order]
        m, s = mean[stepped], std[stepped]
        curves.append({"label": label or metric, "x": at, "median": m, "low": m - s, "high": m + s})
    return curves, x_labels, x_key, _SCORER_LABELS.get(metric, metric)
