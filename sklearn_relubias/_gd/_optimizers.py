"""The optimizers gradient descent can run, as small specifications.

A spec says what the estimators validate (the stable range of
``learning_rate``, relative to the curvature bound of the loss on an
activation region) and whether the iterates stay in the data span (so that
``dual_coef_`` exists). A new optimizer is a new entry here (with the extra
state it carries across steps, when it has some) and a branch in the
backends that support it.
"""

from dataclasses import dataclass
from numbers import Real

from ..utils._sklearn_compat import Interval


@dataclass(frozen=True)
class OptimizerSpec:
    """One entry of :data:`OPTIMIZERS`.

    Attributes
    ----------
    name : str
        The ``optimizer`` value (the backends dispatch on it).
    learning_rate_range : tuple of float
        Open interval of ``learning_rate`` for which a step within an
        activation region cannot increase the loss.
    in_span : bool
        Whether every iterate is ``W0 + C^T X`` (the data-span recursion).
    """

    name: str
    learning_rate_range: tuple
    in_span: bool = True

    def learning_rate_constraint(self):
        """Return the scikit-learn parameter constraint of ``learning_rate`` for this optimizer."""
        return Interval(Real, *self.learning_rate_range, closed="neither")


#: Plain full-batch gradient descent ``W <- W - eta grad L(W)``: on a region the
#: loss is a quadratic with curvature at most the bound ``L``, so ``eta L`` in
#: (0, 2) is stable.
GD = OptimizerSpec("gd", (0.0, 2.0))

OPTIMIZERS = {spec.name: spec for spec in (GD,)}
