"""What "the network" is: the activation, the output weights, and the rules that follow.

The model is ``f(x) = sum_j a_j sigma(<w_j, x>)`` with hidden weights ``W``
(trained) and output weights ``a`` (fixed). Everything that depends on
``sigma`` or ``a`` and not on how the model is trained lives here: the
forward pass, the activation pattern, which examples a neuron can fit, the
stranded and unfittable rows, the neuron groups of the minimum-norm split,
the curvature bound the step size is normalised by, and which minimum-norm
program is the model's reference.

Every activation of the registry is piecewise linear with slope 1 on
``z >= 0`` and ``negative_slope`` on ``z < 0`` (ReLU 0, leaky ReLU any
slope in [0, 1], linear 1), with the derivative at 0 taken from the right
(``sigma'(0) = 1`` for every activation, so that a zero initialisation
moves). The kernels take ``negative_slope`` itself: adding
an activation of this family is a registry entry; one of another form
would add a kernel branch.
"""

from dataclasses import dataclass, replace

import numpy as np
from scipy import sparse

from ._linalg import pre_activations

# Largest ratio of output-weight magnitudes: both a_j^2 / max(a)^2 and sums of
# squares stay normal float64 numbers (2**-800 > 2**-1022).
_MAX_OUTPUT_WEIGHT_SPREAD = 2.0**400


@dataclass(frozen=True)
class Activation:
    """One entry of :data:`ACTIVATIONS`.

    Attributes
    ----------
    name : str
        The estimators' ``activation`` value.
    negative_slope : float
        ``sigma(z) = z`` for ``z >= 0`` and ``negative_slope * z`` below; the
        kernels' representation of the activation.
    reference : str
        Which minimum-norm program is the model's reference (a key of
        :data:`sklearn_relubias._reference.PROGRAMS`).
    """

    name: str
    negative_slope: float
    reference: str

    def forward(self, z):
        """``sigma(z)`` element-wise."""
        if self.negative_slope == 0.0:
            return np.maximum(z, 0.0)
        if self.negative_slope == 1.0:
            return np.asarray(z, dtype=np.float64)
        return np.where(z >= 0.0, z, self.negative_slope * z)

    def derivative(self, z):
        """``sigma'(z)`` element-wise, with ``sigma'(0) = 1``."""
        return np.where(z >= 0.0, 1.0, self.negative_slope)


ACTIVATIONS = {
    "relu": Activation("relu", 0.0, "label_sign"),
    # the slope of a leaky ReLU is the estimators' negative_slope (make_activation)
    "leaky_relu": Activation("leaky_relu", 0.01, "region"),
    "linear": Activation("linear", 1.0, "least_squares"),
}


def make_activation(name, negative_slope=None):
    """Return the registry's activation ``name``; ``negative_slope`` sets a leaky ReLU's slope."""
    activation = ACTIVATIONS[name]
    if name == "leaky_relu" and negative_slope is not None:
        activation = replace(activation, negative_slope=float(negative_slope))
    return activation


# A pre-activation beyond this fraction of its neuron's largest |p| is clearly on its
# side of the kink (a pair still sliding to the kink is not).
DEEP_TOL = 1e-2


def clearly_outside(P, region, scale, tol=DEEP_TOL):
    """``(n, m)`` bool: pairs clearly on the other side of the kink than ``region`` asks.

    ``P_ij > tol * scale_j`` where ``region`` is False (asks ``p <= 0``), or
    ``P_ij < -tol * scale_j`` where it is True (asks ``p >= 0``).
    """
    return ((P > tol * scale) & ~region) | ((P < -tol * scale) & region)


def append_constant(X, c):
    """Return ``[X, c 1]``: X with a constant column ``c`` appended; X itself when ``c == 0``.

    The hidden biases are the weights of this column (``b_j = c w_{j, d+1}``).
    Dense X gives a new C-ordered array of X's dtype (float32 X holds
    ``float32(c)``, see :func:`constant_value`); sparse X keeps its format
    (CSR or CSC) and dtype, the column stored explicitly.
    """
    if c == 0:
        return X
    n, d = X.shape
    if sparse.issparse(X):
        column = sparse.csr_matrix(np.full((n, 1), c, dtype=X.dtype))
        return sparse.hstack([X, column], format=X.format, dtype=X.dtype)
    out = np.empty((n, d + 1), dtype=X.dtype)
    out[:, :d] = X
    out[:, d] = c
    return out


def constant_value(c, dtype):
    """Return the constant feature ``c`` as :func:`append_constant` stores it in ``dtype``."""
    return float(np.asarray(c, dtype=dtype))


def resolve_output_weights(output_weights, n_neurons):
    """Return the output weights ``a`` as a float64 array of shape (n_neurons,).

    'balanced' gives +1, -1, +1, ... (0-based even indices positive), 'positive'
    gives all +1; an array must have ``n_neurons`` finite nonzero entries within a factor
    ``2**400`` of each other.
    """
    if isinstance(output_weights, str):
        if output_weights == "positive":
            return np.ones(n_neurons)
        return np.where(np.arange(n_neurons) % 2 == 0, 1.0, -1.0)
    a = np.asarray(output_weights, dtype=np.float64)
    if a.shape != (n_neurons,):
        raise ValueError(
            f"output_weights has shape {a.shape} but n_neurons={n_neurons}; "
            f"pass an array of shape ({n_neurons},) or change n_neurons."
        )
    if not np.all(np.isfinite(a)) or np.any(a == 0):
        raise ValueError(f"output_weights must be finite and nonzero, got {a}.")
    spread = np.max(np.abs(a)) / np.min(np.abs(a))
    if spread > _MAX_OUTPUT_WEIGHT_SPREAD:
        raise ValueError(
            f"output_weights span a factor {spread:.1e} between their largest and smallest "
            f"magnitude; above 2**{int(np.log2(_MAX_OUTPUT_WEIGHT_SPREAD))} the squares the "
            "step size and the minimum-norm split need underflow or overflow in float64."
        )
    return a


@dataclass(frozen=True)
class Model:
    """The network ``f(x) = sum_j a_j sigma(<w_j, x>)`` with fixed output weights.

    Attributes
    ----------
    activation : Activation
        ``sigma``.
    output_weights : ndarray of shape (n_neurons,)
        ``a``, nonzero.
    """

    activation: Activation
    output_weights: np.ndarray

    @classmethod
    def from_params(
        cls, activation="relu", output_weights="balanced", n_neurons=None, negative_slope=None
    ):
        """Build the model from estimator-style parameters (validated).

        ``negative_slope`` is a leaky ReLU's slope (unused by the others).
        """
        if not isinstance(output_weights, str) and n_neurons is None:
            n_neurons = np.asarray(output_weights).shape[0]
        return cls(
            make_activation(activation, negative_slope),
            resolve_output_weights(output_weights, n_neurons),
        )

    @property
    def n_neurons(self):
        return self.output_weights.shape[0]

    @property
    def negative_slope(self):
        return self.activation.negative_slope

    def with_output_weights(self, a):
        """Return the same model with other output weights (e.g. in internal units)."""
        return replace(self, output_weights=np.asarray(a, dtype=np.float64))

    def key(self):
        """Return a hashable description (references are cached per model)."""
        return (self.activation.name, self.negative_slope, self.output_weights.tobytes())

    # -- forward ---------------------------------------------------------------

    def outputs(self, P):
        """``f`` from the pre-activations ``P = X W^T`` (n_samples, n_neurons)."""
        return self.activation.forward(P) @ self.output_weights

    def forward(self, X, W):
        """Model output ``f(x_i)`` for each row of X."""
        return self.outputs(pre_activations(X, W))

    def training_loss(self, X, y, W):
        """``1/(2n) sum_i (f(x_i) - y_i)^2``."""
        return 0.5 * float(np.mean((self.forward(X, W) - y) ** 2))

    @staticmethod
    def pattern(P):
        """Return the activation pattern: ``i`` is active for neuron ``j`` when ``P_ij > 0``."""
        return P > 0

    # -- which examples each neuron can fit -------------------------------------

    def can_fit(self, y):
        """``(n_samples, n_neurons)``: neuron ``j`` can output ``y_i``.

        A ReLU neuron outputs ``a_j relu(z)``, of the sign of ``a_j`` or zero,
        so it can fit ``y_i`` only when ``y_i a_j > 0``; a neuron with a
        positive negative-side slope reaches every value, so it can fit every
        nonzero target.
        """
        y = np.asarray(y, dtype=np.float64)
        if self.negative_slope == 0.0:
            return np.outer(y, self.output_weights) > 0
        return np.repeat((y != 0)[:, None], self.n_neurons, axis=1)

    def responsive(self, active):
        """Pairs whose gradient is not zero for good: active ones, every pair if slope > 0."""
        if self.negative_slope == 0.0:
            return active
        return np.ones_like(active, dtype=bool)

    def stranded_examples(self, y, active):
        """Return the indices of examples no neuron that could fit them responds to.

        An example with ``y_i > 0`` (``< 0``) can only be fitted by a ReLU neuron
        with a positive (negative) output weight; if none of those is active on
        it, its gradient is zero for good, and a gradient-descent run that
        converged sits at a stationary point above the global minimum of the
        loss. With a positive negative-side slope no example is ever stranded.
        """
        fits = self.can_fit(y)
        return np.flatnonzero(fits.any(axis=1) & ~(fits & self.responsive(active)).any(axis=1))

    def unfittable_rows(self, X, y, sample_weight=None):
        """Return the indices of all-zero rows of X whose target some neuron must fit.

        ``<w, 0> = 0`` for every ``w``, so every neuron outputs 0 on such a row;
        rows with zero sample weight do not count. Such rows are why no
        interpolant exists.
        """
        if sparse.issparse(X):
            zero = np.asarray(abs(X).sum(axis=1)).ravel() == 0
        else:
            zero = ~np.any(X, axis=1)
        must_fit = self.can_fit(y).any(axis=1)
        if sample_weight is not None:
            must_fit &= sample_weight > 0
        return np.flatnonzero(zero & must_fit)

    # -- the minimum-norm split and the step size -------------------------------

    def groups(self):
        """Yield ``(sign, mask, share)`` per non-empty neuron group of the label-sign split.

        Neurons with ``a_j > 0`` share one vector ``u+`` (fitting ``y``), those
        with ``a_j < 0`` one vector ``u-`` (fitting ``-y``):
        ``w_j = share_j u_sign`` with ``share_j = |a_j| / sum_{k in group} a_k^2``.
        """
        a = self.output_weights
        for sign in (1.0, -1.0):
            group = sign * a > 0
            if group.any():
                yield sign, group, np.abs(a[group]) / np.sum(a[group] ** 2)

    def curvature(self, lambda_max):
        """Curvature bound of the loss on any activation region, given ``lambda_max(X^T S X)``.

        Every slope of ``sigma`` is at most 1 in magnitude, so the loss
        restricted to a region is a quadratic with curvature at most
        ``||a||^2 lambda_max``.
        """
        a = self.output_weights
        return float(np.dot(a, a)) * max(1.0, self.negative_slope**2) * lambda_max
