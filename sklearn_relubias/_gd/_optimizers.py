"""The optimizers gradient descent can run, as small specifications.

A spec says what the estimators validate (the stable range of
``learning_rate``, relative to the curvature bound ``L`` of the loss on an
activation region, as a function of the optimizer's own parameters), the
parameters it reads, and whether the iterates stay in the data span (so that
``dual_coef_`` exists). A new optimizer is a new entry here and a branch in
the backends that support it.

The recursions, with ``eta = learning_rate / L`` and ``grad`` the gradient of
the full weighted loss (every optimizer shares the step normalisation):

- ``'gd'``: ``W <- W - eta grad(W)``; stable for ``learning_rate`` in (0, 2).
- ``'momentum'`` (heavy ball): ``V <- beta V - eta grad(W)``, ``W <- W + V``;
  on a quadratic of curvature at most ``L`` it is stable for
  ``learning_rate`` in (0, 2 (1 + beta)).
- ``'nesterov'``: the same with the gradient at ``W + beta V``; stable for
  ``learning_rate`` in (0, 2 (1 + beta) / (1 + 2 beta)).
- ``'sgd'`` (mini-batch): step ``t`` takes batch ``B_t`` (consecutive slices
  of size ``batch_size`` of each epoch's order of the examples, the last
  slice of an epoch shorter when ``batch_size`` does not divide n; the order
  is a seeded permutation per epoch, or ``0..n-1`` without shuffling) and
  applies gradient descent's step to the batch's terms of the full loss:
  ``W <- W - eta sum_{i in B_t} w_i r_i a_j sigma'(p_ij) x_i``. This is the
  batch-mean gradient with step ``eta_b = learning_rate b / L_n``, scaled from
  the full-data bound (a batch's curvature is at most the full data's), so
  ``learning_rate`` in (0, 2) is stable for every batch and ``batch_size = n``
  without shuffling is gradient descent.
- ``'adam'``: the usual moments of the full-batch gradient, ``M <- beta_1 M +
  (1 - beta_1) g``, ``S <- beta_2 S + (1 - beta_2) g^2``, ``W <- W -
  learning_rate M_hat / (sqrt(S_hat) + epsilon)`` with the bias corrections
  of step ``t``. Its step is per coordinate and in the weights' units, not
  relative to ``L``: ``learning_rate`` is Adam's own step size (any positive
  value; 1e-3 is the usual one) and no curvature bound makes it stable. It
  leaves the data span: no ``dual_coef_``, and it runs on X only.
"""

from dataclasses import dataclass, field
from numbers import Real

from ..utils._sklearn_compat import Interval

#: Each optimizer's parameters of ShallowReLURegressor, with their defaults.
OPTIMIZER_DEFAULTS = {
    "momentum": 0.9,
    "batch_size": 32,
    "shuffle": True,
    "beta_1": 0.9,
    "beta_2": 0.999,
    "epsilon": 1e-8,
}


@dataclass(frozen=True)
class OptimizerSpec:
    """One entry of :data:`OPTIMIZERS`.

    Attributes
    ----------
    name : str
        The ``optimizer`` value (the backends dispatch on it).
    code : int
        Its number in the kernels.
    parameters : tuple of str
        The estimator parameters it reads (keys of :data:`OPTIMIZER_DEFAULTS`).
    in_span : bool
        Whether every iterate is ``W0 + C^T X`` (the data-span recursion, so
        that ``dual_coef_`` exists and the Gram form can run it).
    relative_step : bool
        Whether ``learning_rate`` is relative to the curvature bound (else it
        is the optimizer's own step in the weights' units).
    """

    name: str
    code: int
    parameters: tuple = field(default=())
    in_span: bool = True
    relative_step: bool = True

    def learning_rate_range(self, params):
        """Return the open interval of stable ``learning_rate`` given the optimizer's ``params``."""
        beta = params.get("momentum", 0.0)
        if self.name == "momentum":
            return (0.0, 2.0 * (1.0 + beta))
        if self.name == "nesterov":
            return (0.0, 2.0 * (1.0 + beta) / (1.0 + 2.0 * beta))
        if self.name == "adam":
            return (0.0, float("inf"))
        return (0.0, 2.0)

    def learning_rate_constraint(self, params=None):
        """Return the scikit-learn constraint of ``learning_rate``: the open stable range."""
        low, high = self.learning_rate_range(params or {})
        return Interval(Real, low, None if high == float("inf") else high, closed="neither")

    def check_learning_rate(self, learning_rate, params):
        """Raise a ValueError naming the range when ``learning_rate`` is outside it."""
        low, high = self.learning_rate_range(params)
        if not low < learning_rate < high:
            shown = ", ".join(f"{k}={params[k]}" for k in self.parameters if k in params)
            raise ValueError(
                f"learning_rate={learning_rate} is outside the stable range ({low:g}, {high:g}) "
                f"of optimizer={self.name!r}" + (f" with {shown}" if shown else "") + "."
            )


OPTIMIZERS = {
    spec.name: spec
    for spec in (
        OptimizerSpec("gd", 0),
        OptimizerSpec("momentum", 1, ("momentum",)),
        OptimizerSpec("nesterov", 2, ("momentum",)),
        OptimizerSpec("sgd", 3, ("batch_size", "shuffle")),
        OptimizerSpec(
            "adam", 4, ("beta_1", "beta_2", "epsilon"), in_span=False, relative_step=False
        ),
    )
}
