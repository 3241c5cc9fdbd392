"""The paper's title question in one sweep: the gap against the activation's negative slope.

A leaky ReLU with slope ``alpha`` on ``z < 0`` runs from the linear model
(``alpha = 1``: gradient descent from zero stays in X's row space and lands
on the minimum-norm interpolant) to ReLU (``alpha = 0``). For each slope,
learning rate, network (one neuron, or the +/- pair) and seed,
:func:`activation_sweep` fits the paper's model (zero start) with that
activation and records the relative gap to the minimum-norm interpolant
within the label-sign region (for one neuron and ``alpha > 0`` the
minimum-norm solution of ``X w = sigma^{-1}(y / a)``), the reference's norm,
and whether the fit converged: gradient descent needs about ``1 / (alpha^2
learning_rate)`` steps to fit the examples on the negative side, so small
slopes at small rates may stop at ``max_iter`` (``converged`` False).
"""

from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .._metrics import _within, distance, relative_distance
from .._plan import Precomputed
from .._reference._region import label_sign_region
from .._shallow import PAPER_MODEL, ShallowReLURegressor
from ..datasets import make_high_dim_regression
from ..exceptions import RegionMismatchWarning, StrandedExampleWarning, quiet
from ._flow import gradient_flow

SLOPES = (1.0, 0.5, 0.2, 0.1, 0.05, 0.02, 0.0)
#: 0.0 stands for exact gradient flow (:func:`~sklearn_relubias.experiments.gradient_flow`)
LEARNING_RATES = (0.5, 0.1, 0.01, 0.0)
NEURONS = (1, 2)


@dataclass
class ActivationSweepResult:
    """Records of :func:`activation_sweep`, one dict per fit.

    Attributes
    ----------
    records : list of dict
        Keys ``negative_slope``, ``learning_rate``, ``n_neurons``, ``seed``,
        ``relative_gap`` (``min_norm_gap_``), ``distance``
        (``min_norm_distance_``), ``reference_norm`` (``||W*||``),
        ``n_iter``, ``converged`` (the fit met ``tol``, or its rounding
        floor, before ``max_iter``), ``same_region``
        (``pattern_matches_reference_``: the run ended in the reference's
        activation region)
        and ``status`` (``decisions_['status']``).
    n_samples, n_features : int
    """

    records: list
    n_samples: int
    n_features: int

    def summary(self):
        """Median and 10-90% range of the relative gap and of ``||W*||`` per (m, slope, rate).

        Returns a list of dicts sorted by ``n_neurons``, decreasing slope and
        learning rate, with the share of converged fits.
        """
        groups = {}
        for r in self.records:
            key = (r["n_neurons"], r["negative_slope"], r["learning_rate"])
            groups.setdefault(key, []).append(r)
        rows = []
        for (m, slope, lr), recs in sorted(
            groups.items(), key=lambda kv: (kv[0][0], -kv[0][1], -kv[0][2])
        ):
            gaps = np.array([r["relative_gap"] for r in recs])
            norms = np.array([r["reference_norm"] for r in recs])
            rows.append(
                {
                    "n_neurons": m,
                    "negative_slope": slope,
                    "learning_rate": lr,
                    "n_seeds": len(recs),
                    "gap_median": float(np.median(gaps)),
                    "gap_q10": float(np.quantile(gaps, 0.1)),
                    "gap_q90": float(np.quantile(gaps, 0.9)),
                    "reference_norm_median": float(np.median(norms)),
                    "converged": float(np.mean([r["converged"] for r in recs])),
                    "same_region": float(np.mean([r["same_region"] for r in recs])),
                }
            )
        return rows


def activation_sweep(
    n_samples=20,
    n_features=2000,
    *,
    negative_slopes=SLOPES,
    learning_rates=LEARNING_RATES,
    n_neurons=NEURONS,
    n_seeds=20,
    max_iter=200_000,
    tol=1e-10,
    random_state=0,
):
    """Fit the paper's model at every slope, learning rate, network and seed.

    Parameters
    ----------
    n_samples, n_features : int, default=20, 2000
        Isotropic Gaussian data with Gaussian labels
        (:func:`~sklearn_relubias.datasets.make_high_dim_regression`), a
        fresh draw per seed.
    negative_slopes : sequence of float in [0, 1]
        Slopes ``alpha`` (0 is ReLU, 1 the linear model).
    learning_rates : sequence of float
        0.0 stands for the limit ``learning_rate -> 0``: exact gradient flow
        (:func:`~sklearn_relubias.experiments.gradient_flow`, no steps:
        ``n_iter`` 0, ``converged`` True).
    n_neurons : sequence of int, default=(1, 2)
        Networks with balanced output weights (1: one neuron, 2: the +/- pair).
    n_seeds : int, default=20
        Data sets per cell, seeded from ``random_state``.
    max_iter, tol :
        Gradient descent's budget and stopping tolerance (the paper's model
        otherwise, zero start).
    random_state : int, default=0

    Returns
    -------
    ActivationSweepResult
    """
    seeds = np.random.SeedSequence(random_state).generate_state(n_seeds)
    records = []
    for seed in seeds:
        X, y = make_high_dim_regression(n_samples, n_features, random_state=int(seed))
        data = Precomputed(X)  # K, its spectrum and each slope's reference, shared
        for m in n_neurons:
            for slope in negative_slopes:
                for lr in learning_rates:
                    est = ShallowReLURegressor(
                        **{
                            **PAPER_MODEL,
                            "n_neurons": m,
                            "activation": "leaky_relu",
                            "negative_slope": float(slope),
                            "learning_rate": float(lr) if lr > 0 else 1.0,
                            "max_iter": max_iter,
                            "tol": tol,
                        }
                    )
                    W_star = data._reference(est._model(), y, dual_coef=False).weights
                    if lr == 0:  # the limit of small steps: exact gradient flow
                        with quiet(StrandedExampleWarning):  # 'same_region' records it
                            flow = gradient_flow(X, y, estimator=est)
                        W, n_iter, status = flow.hidden_weights, 0, "flow"
                        P = X @ W.T
                    else:
                        with quiet(
                            ConvergenceWarning, StrandedExampleWarning, RegionMismatchWarning
                        ):
                            est.fit(X, y, gram=data)
                        W, n_iter, status = (
                            est.hidden_weights_,
                            est.n_iter_,
                            est.decisions_["status"],
                        )
                        P = None
                    region = label_sign_region(est._model(), y)
                    same = est.pattern_matches_reference_ if P is None else _within(P, region)
                    records.append(
                        {
                            "negative_slope": float(slope),
                            "learning_rate": float(lr),
                            "n_neurons": m,
                            "seed": int(seed),
                            "relative_gap": relative_distance(W, W_star),
                            "distance": distance(W, W_star),
                            "reference_norm": float(np.linalg.norm(W_star)),
                            "n_iter": int(n_iter),
                            "converged": status in ("converged", "floor", "flow"),
                            "same_region": bool(same),
                            "status": status,
                        }
                    )
    return ActivationSweepResult(records, n_samples, n_features)
