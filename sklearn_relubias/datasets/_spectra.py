"""Covariance spectra and the quantities the paper's rate is stated in."""

from numbers import Integral, Real

import numpy as np

from ..utils._sklearn_compat import Interval, StrOptions, validate_params

SPECTRUM_KINDS = ("isotropic", "power_law", "two_level", "spiked")


def spectrum_stats(spectrum):
    """Return the trace, effective rank and top-eigenvalue ratio of a covariance spectrum.

    Parameters
    ----------
    spectrum : array-like of shape (n_features,)
        Non-negative covariance eigenvalues ``lambda``, not all zero.

    Returns
    -------
    dict
        ``'trace'``: ``||lambda||_1``; ``'effective_rank'``: ``R =
        ||lambda||_1^2 / ||lambda||_2^2``; ``'r0'``: ``||lambda||_1 /
        lambda_1``, the ratio of the trace to the largest eigenvalue.

    Examples
    --------
    >>> from sklearn_relubias.datasets import spectrum_stats
    >>> spectrum_stats([1.0, 1.0, 1.0, 1.0])
    {'trace': 4.0, 'effective_rank': 4.0, 'r0': 4.0}
    """
    lam = np.asarray(spectrum, dtype=np.float64)
    trace = float(np.sum(lam))
    return {
        "trace": trace,
        "effective_rank": trace**2 / float(np.dot(lam, lam)),
        "r0": trace / float(np.max(lam)),
    }


# Shared by make_spectrum and the generators that forward to it.
SPECTRUM_PARAMS = {
    "exponent": [Interval(Real, 0, None, closed="left")],
    "n_spikes": [Interval(Integral, 1, None, closed="left")],
    "spike": [Interval(Real, 0, None, closed="left")],
    "low": [Interval(Real, 0, 1, closed="both")],
    "normalize": [StrOptions({"trace", "top"})],
    "scale": [Interval(Real, 0, None, closed="neither"), None],
}


@validate_params(
    {
        "n_features": [Interval(Integral, 1, None, closed="left")],
        "kind": [StrOptions(set(SPECTRUM_KINDS))],
        **SPECTRUM_PARAMS,
    },
    prefer_skip_nested_validation=True,
)
def make_spectrum(
    n_features,
    kind="isotropic",
    *,
    exponent=1.0,
    n_spikes=1,
    spike=10.0,
    low=0.1,
    normalize="trace",
    scale=None,
):
    """Make a covariance spectrum ``lambda`` (non-increasing) with a chosen trace or top.

    The paper's rate is stated in the trace ``||lambda||_1`` and the effective
    rank ``R = ||lambda||_1^2 / ||lambda||_2^2`` (:func:`spectrum_stats`).
    ``normalize='trace'`` fixes the trace (``scale``) whatever ``n_features``
    and the shape, and the shape parameters then set ``R``, so sweeps can
    vary the two independently of ``d``. For instance ``'two_level'`` with
    ``low=0`` has ``R = n_spikes`` exactly, and ``'spiked'`` has ``R`` in
    closed form (see Notes).

    Parameters
    ----------
    n_features : int
        Dimension ``d``: the number of eigenvalues.
    kind : {'isotropic', 'power_law', 'two_level', 'spiked'}, default='isotropic'
        Shape before normalisation:

        - ``'isotropic'``: ``lambda_k = 1``;
        - ``'power_law'``: ``lambda_k = k ** -exponent`` (``k = 1, ..., d``);
        - ``'two_level'``: a block of ``n_spikes`` eigenvalues 1, then a floor
          ``low`` (``0 <= low <= 1``);
        - ``'spiked'``: an isotropic bulk 1 with ``n_spikes`` spikes
          ``1 + spike`` on top (the spectrum of ``I + spike U U^T``, ``U``
          with ``n_spikes`` orthonormal columns).

        ``n_spikes`` is capped at ``n_features``.
    exponent : float, default=1.0
        Decay exponent of ``'power_law'``.
    n_spikes : int, default=1
        Number of large eigenvalues of ``'two_level'`` and ``'spiked'``.
    spike : float, default=10.0
        Height of the spikes above the bulk (``'spiked'``).
    low : float, default=0.1
        Floor of ``'two_level'`` relative to its top block, in ``[0, 1]``.
    normalize : {'trace', 'top'}, default='trace'
        Rescale so that ``sum(lambda) = scale`` (``'trace'``) or
        ``lambda_1 = scale`` (``'top'``).
    scale : float, default=None
        Target of the normalisation; None means ``n_features`` for
        ``'trace'`` (the trace of the isotropic unit-variance spectrum, so
        ``'isotropic'`` is all ones) and 1 for ``'top'``.

    Returns
    -------
    spectrum : ndarray of shape (n_features,)
        Non-negative, non-increasing eigenvalues.

    See Also
    --------
    spectrum_stats : Trace, effective rank and ``r0`` of a spectrum.
    make_high_dim_regression : Gaussian inputs with this covariance.
    make_gram_regression : Their Gram matrix, without the inputs.

    Notes
    -----
    Scale-free summaries (before normalisation, with ``s = n_spikes``):
    ``'two_level'`` has ``R = (s + (d - s) low)^2 / (s + (d - s) low^2)``
    (``R = s`` at ``low = 0``, ``R = d`` at ``low = 1``); ``'spiked'`` has
    ``R = (d + s spike)^2 / (d + s (2 spike + spike^2))``; ``'power_law'``
    with ``exponent > 1`` has ``R`` bounded as ``d -> infinity`` (``R ->
    zeta(exponent)^2 / zeta(2 exponent)``), with ``exponent = 1/2`` it
    grows like ``d / log(d)``.

    Examples
    --------
    >>> from sklearn_relubias.datasets import make_spectrum, spectrum_stats
    >>> lam = make_spectrum(1000, "two_level", n_spikes=20, low=0.0, scale=500.0)
    >>> spectrum_stats(lam)["trace"], spectrum_stats(lam)["effective_rank"]
    (500.0, 20.0)
    >>> make_spectrum(4, "spiked", spike=3.0, normalize="top").tolist()
    [1.0, 0.25, 0.25, 0.25]
    """
    if kind == "power_law":
        lam = np.arange(1, n_features + 1, dtype=float) ** -exponent
    else:
        lam = np.ones(n_features)
        top = min(n_spikes, n_features)
        if kind == "two_level":
            lam[top:] = low
        elif kind == "spiked":
            lam[:top] += spike
    if normalize == "trace":
        lam *= (n_features if scale is None else scale) / lam.sum()
    else:
        lam *= (1.0 if scale is None else scale) / lam[0]
    return lam
