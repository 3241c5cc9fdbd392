"""Hidden biases and stuck fits on uncentred inputs.

Inputs with every coordinate ``N(1, 1)`` (a mean shift, n = 20, d = 400),
labels +/-1, the paper's model (:data:`~sklearn_relubias.PAPER_MODEL`: the
+/- pair from a zero start) and the same model with ``init='random'`` and 8
neurons, each with ``hidden_bias`` in {0, 1, 10}, over the seeds 3000-3019.
``max_iter`` is raised to 50000 so that the stuck fits reach ``tol`` (a
fit stopped by ``max_iter`` reports no ``stranded_indices_``).
Printed as a markdown table: the fits that stopped with stranded examples
(``stranded_indices_`` non-empty), those whose final activation pattern
strands an example whatever the status (``metrics.stranded_examples``), the
fits that reached ``tol``, the median final training loss and the median
``min_norm_gap_`` (to the reference with the same ``hidden_bias``), beside
trivial controls: ``W = 0`` (loss ``mean(y^2) / 2``, gap 1), the best
constant prediction (what a bias alone could give), and the paper's model
on column-centred inputs (no bias).
Run as ``python examples/hidden_bias_stuck.py`` (under a minute).
"""

import warnings

import numpy as np

from sklearn_relubias import PAPER_MODEL, ShallowReLURegressor
from sklearn_relubias.metrics import stranded_examples

SEEDS = range(3000, 3020)
N_SAMPLES, N_FEATURES, SHIFT = 20, 400, 1.0
BIASES = (0.0, 1.0, 10.0)
MAX_ITER = 50000
MODELS = {
    "paper (+/- pair, zero init)": {**PAPER_MODEL, "max_iter": MAX_ITER},
    "random init, 8 neurons": {
        **PAPER_MODEL,
        "init": "random",
        "n_neurons": 8,
        "max_iter": MAX_ITER,
    },
}
CENTRED = "control: paper, centred X"


def problem(seed):
    """Mean-shifted Gaussian inputs and +/-1 labels."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N_SAMPLES, N_FEATURES)) + SHIFT
    y = np.where(rng.standard_normal(N_SAMPLES) > 0, 1.0, -1.0)
    return X, y


def record(name, params, c, seed, X, y):
    """Fit one model; return its record."""
    est = ShallowReLURegressor(**params, hidden_bias=c, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # stranded / region / convergence warnings
        est.fit(X, y)
    pattern_strands = stranded_examples(y, est.output_weights_, est.activation_pattern_)
    return {
        "model": name,
        "hidden_bias": c,
        "stranded": est.stranded_indices_.size > 0,
        "pattern_strands": pattern_strands.size > 0,
        "loss": est.loss_curve_[-1],
        "gap": est.min_norm_gap_,
        "converged": est.decisions_["status"] != "max_iter",
    }


def records():
    """One record per fit."""
    out = []
    for seed in SEEDS:
        X, y = problem(seed)
        for name, params in MODELS.items():
            for c in BIASES:
                out.append(record(name, params, c, seed, X, y))
        paper = MODELS["paper (+/- pair, zero init)"]
        out.append(record(CENTRED, paper, 0.0, seed, X - X.mean(axis=0), y))
        out.append({"model": "control: W = 0", "loss": 0.5 * np.mean(y**2), "gap": 1.0})
        out.append({"model": "control: constant mean(y)", "loss": 0.5 * np.var(y), "gap": np.nan})
    return out


def table(rows):
    """The markdown table of the records."""
    lines = [
        f"{len(SEEDS)} seeds ({SEEDS[0]}-{SEEDS[-1]}), X ~ N({SHIFT:g}, 1)^(n x d), "
        f"n = {N_SAMPLES}, d = {N_FEATURES}, labels +/-1",
        "",
        "| model | hidden_bias | stranded_indices_ non-empty | pattern strands an example "
        "| reached tol | median final loss | median min_norm_gap_ |",
        "|---|---|---|---|---|---|---|",
    ]
    keys = [(name, c) for name in MODELS for c in BIASES]
    keys += [(CENTRED, 0.0), ("control: W = 0", None), ("control: constant mean(y)", None)]
    for name, c in keys:
        group = [r for r in rows if r["model"] == name and r.get("hidden_bias") == c]
        loss = np.median([r["loss"] for r in group])
        gap = np.median([r["gap"] for r in group])
        if c is None:
            lines.append(f"| {name} | - | - | - | - | {loss:.3g} | {gap:.3g} |")
            continue
        k = len(group)
        stranded = sum(r["stranded"] for r in group)
        strands = sum(r["pattern_strands"] for r in group)
        converged = sum(r["converged"] for r in group)
        lines.append(
            f"| {name} | {c:g} | {stranded}/{k} | {strands}/{k} | {converged}/{k} "
            f"| {loss:.3g} | {gap:.3g} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(records()))
