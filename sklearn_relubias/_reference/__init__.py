"""Minimum-norm references: the program each model is compared with, solved exactly.

- ``_label_sign``: ReLU. For each neuron group (output weights of one
  sign) the minimum-norm single neuron that fits the examples of its label
  sign and is inactive on the others; in the dual (``_dual_qp``) when
  ``n_samples < n_features``, on the weights (``_primal_qp``) otherwise.
- ``_region``: any slope (leaky ReLU). The minimum-norm interpolant within a
  fixed activation region (the label-sign region unless another is given),
  solved exactly as the single-neuron dual program on lifted rows.
- ``_least_squares``: linear activation. The minimum-norm least-squares
  solution ``beta = X^+ y`` spread over the neurons, ``W* = a beta^T /
  ||a||^2``; also the least-squares comparators of the experiments.

:func:`solve` picks the program from the model (:attr:`Activation.reference`);
the estimators reach it through the fit plan, the experiments through
:func:`sklearn_relubias.metrics.min_norm_reference`.
"""

import numpy as np

from .._memory import MemoryPlan
from . import _global, _label_sign, _least_squares, _region
from ._common import MinNormFit, plan

#: The programs, by :attr:`~sklearn_relubias._model.Activation.reference`.
PROGRAMS = {"label_sign": _label_sign, "least_squares": _least_squares, "region": _region}

__all__ = ["PROGRAMS", "MinNormFit", "plan", "solve"]


def solve(model, X, y, *, region=None, init=None, memory=None, **kwargs):
    """Solve ``model``'s minimum-norm program on ``(X, y)``.

    Parameters
    ----------
    model : Model
        The network; its activation names the program.
    X : {ndarray, sparse matrix} of shape (n_samples, n_features) or None
        Inputs (None: only ``gram`` is known, and no weights are returned).
    y : ndarray of shape (n_samples,)
        Targets, float64.
    region : ndarray of shape (n_samples, n_neurons), dtype bool, or 'global', default=None
        Solve the region program (``_region``) within this activation
        region (True: pre-activation ``>= 0``) instead of the model's own
        program, or (``'global'``) the smallest over all regions
        (``_global``, small problems); not for the linear activation, which
        has no regions.
    init : ndarray of shape (n_neurons, n_features), default=None
        A start ``W0``: the init-relative region program (``min ||W - W0||``
        within ``region``, the label-sign region when None); not for the
        linear activation (there it is the NTK point).
    **kwargs
        ``sample_weight``, ``gram`` (``X X^T``), ``spectrum`` (its
        :class:`~sklearn_relubias._linalg.Spectrum`), ``tol``, ``dual_coef``
        (whether the primal path computes coefficients) and ``memory`` (the
        fit's :class:`~sklearn_relubias._memory.MemoryPlan`, in which this
        program was planned and checked; None plans and checks it here).

    Returns
    -------
    MinNormFit
    """
    if memory is None:  # called on its own: plan and check here
        memory = MemoryPlan()
        d = np.inf if X is None else X.shape[1]
        plan(memory, y.shape[0], d, "subsample the rows, or reduce the features.")
        memory.check()
    if region is not None or init is not None:
        if model.negative_slope == 1.0:
            raise ValueError(
                "region and init have no meaning for activation='linear' (no regions; "
                "from a start its reference is the NTK point); use region=None, init=None."
            )
        if isinstance(region, str):  # 'global': every region, the smallest interpolant
            fit, _ = _global.solve(model, X, y, **kwargs)
            if fit.weights is None and fit.dual_coef is None:
                raise ValueError(
                    "No activation region admits an interpolant, so there is no global "
                    "minimum-norm interpolant; use region=None for the label-sign reference "
                    "(or its surrogate)."
                )
            return fit
        return _region.solve(model, X, y, region=region, init=init, memory=memory, **kwargs)
    return PROGRAMS[model.activation.reference].solve(model, X, y, memory=memory, **kwargs)
