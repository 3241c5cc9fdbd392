"""Exact power-of-two rescaling of extreme data and output weights, to internal units and back.

Gradient descent with the relative step size, and the minimum-norm program,
are covariant under ``X -> X / 2**kx``, ``y -> y / 2**ky`` and
``a -> a / 2**ka``: hidden weights scale by ``2**(kx - ky + ka)``,
data-span coefficients by ``2**(2 kx - ky + ka)``, losses by ``2**(-2 ky)``
and absolute step sizes by ``2**(2 kx + 2 ka)`` (the model's output is
unchanged by ``a -> a / c``, ``W -> c W``, and so is each step's effect on
``W / c``). Powers of two make the rescaling exact, and moderate values (the
usual case) are left as they are, without a copy.
"""

import numpy as np
from scipy import sparse

# Magnitudes of X and y outside [2**-40, 2**40] are rescaled before fitting.
_SAFE_EXPONENT = 40


def _exponent(values):
    """Power-of-two exponent that brings ``max|values|`` near 1 (0 if already moderate)."""
    data = values.data if sparse.issparse(values) else values
    if data.size == 0:
        return 0
    largest = float(max(data.max(), -data.min()))
    if largest == 0.0 or abs(np.log2(largest)) <= _SAFE_EXPONENT:
        return 0
    return int(np.round(np.log2(largest)))


def _ldexp(values, exponent, name):
    """``values * 2**exponent``; a ValueError if the result is not representable."""
    if exponent == 0:
        return values
    with np.errstate(over="ignore", under="ignore"):
        out = np.ldexp(values, exponent)
    if not np.all(np.isfinite(out)) or (np.any(values != 0) and not np.any(out != 0)):
        raise ValueError(
            f"The fitted {name} are not representable in float64 at the scale of the data "
            f"(a factor 2**{exponent}); bring X, y and output_weights to moderate magnitudes."
        )
    return out


def normalise_weights(sample_weight):
    """Sample weights times the power of two that brings their largest near 1 (exact).

    Every quantity of the package depends on the weights only up to a common
    factor, so this changes no result; it keeps weights of extreme magnitude
    (subnormal ones such as 1e-310, or 1e300) from losing precision in sums
    and square roots. Moderate weights are returned unchanged.
    """
    if sample_weight is None:
        return None
    exponent = _exponent(sample_weight)
    return np.ldexp(sample_weight, -exponent) if exponent else sample_weight


class Rescaling:
    """The exponents ``kx``, ``ky``, ``ka`` of one problem and the conversions they imply.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features) or None
        None when only a Gram matrix is known: X's scale is then left alone.
    y : ndarray of shape (n_samples,)
    a : ndarray of shape (n_neurons,), default=None
        Output weights (None: no output weights to rescale).
    outputs : ndarray of shape (n_samples,), default=None
        The network's outputs at its initial weights: the output scale is set
        by them and y together, so that a random start far larger than the
        targets does not overflow in internal units.
    """

    def __init__(self, X, y, a=None, outputs=None):
        self.kx = 0 if X is None else _exponent(X)
        if outputs is not None and np.all(np.isfinite(outputs)):
            y = np.concatenate([y, outputs])
        self.ky = _exponent(y)
        self.ka = 0 if a is None else _exponent(a)

    def output_weights(self, a):
        """Return the output weights in internal units, ``a / 2**ka``."""
        return np.ldexp(a, -self.ka)

    def data(self, X, y):
        """``X / 2**kx`` and ``y / 2**ky`` (X itself when ``kx == 0``)."""
        if self.kx and sparse.issparse(X):
            X = X.copy()
            X.data = np.ldexp(X.data, -self.kx)
        elif self.kx:
            X = np.ldexp(X, -self.kx)
        return X, np.ldexp(y, -self.ky)

    def weights_in(self, W):
        """Hidden weights in internal units."""
        return np.ldexp(W, self.kx - self.ky + self.ka)

    def gradient_in(self, G):
        """Gradients of the loss with respect to the hidden weights, in internal units."""
        return np.ldexp(G, -self.kx - self.ky - self.ka)

    def weights_out(self, W):
        """Hidden weights in the data's units (ValueError if unrepresentable)."""
        return _ldexp(W, self.ky - self.kx - self.ka, "hidden weights")

    def coef_out(self, C):
        """Data-span coefficients in the data's units, or None when float64 cannot hold them.

        They scale like ``y / X^2``, so at extreme scales (X near 1e120 with y
        near 1e-120) they can under- or overflow while the weights and
        predictions are representable: the fit is kept and the coefficients
        are None (the estimators say so with a warning).
        """
        try:
            return _ldexp(C, self.ky - 2 * self.kx - self.ka, "dual coefficients")
        except ValueError:
            return None

    def distance_out(self, dist):
        """Return a distance between weights in the data's units (0 or inf beyond float64)."""
        with np.errstate(over="ignore", under="ignore"):
            return float(np.ldexp(dist, self.ky - self.kx - self.ka))

    def loss_out(self, loss):
        """Losses in the data's units (may over/underflow for absurd scales)."""
        with np.errstate(over="ignore", under="ignore"):
            return np.ldexp(loss, 2 * self.ky)

    def step_out(self, eta):
        """Absolute step size in the data's units (``inf`` or 0 for absurd scales)."""
        with np.errstate(over="ignore", under="ignore"):
            return float(np.ldexp(eta, -2 * self.kx - 2 * self.ka))
