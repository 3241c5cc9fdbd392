"""The Gram matrix of Gaussian inputs, sampled without the inputs (a Wishart matrix)."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state

from ..utils._sklearn_compat import Interval, StrOptions, validate_params
from ._generators import _spectrum
from ._spectra import SPECTRUM_KINDS, SPECTRUM_PARAMS, spectrum_stats


def _bartlett(n_samples, df, rng):
    """Draw ``W_n(df, I)`` as ``A A^T``, ``A`` the Bartlett factor (``O(n^2)`` draws).

    ``A`` is lower triangular with ``A_ii^2 ~ chi2(df - i)`` (``i = 0, ..., n - 1``)
    and ``A_ij ~ N(0, 1)`` below the diagonal, all independent (Bartlett, 1933).
    """
    A = np.tril(rng.standard_normal((n_samples, n_samples)), -1)
    A[np.diag_indices(n_samples)] = np.sqrt(rng.chisquare(df - np.arange(n_samples)))
    return A @ A.T


def _blocked(n_samples, lam, block_size, rng):
    """``sum_k lambda_k z_k z_k^T`` over column blocks of i.i.d. ``N(0, 1)`` vectors ``z_k``."""
    K = np.zeros((n_samples, n_samples))
    for start in range(0, lam.shape[0], block_size):
        Z = rng.standard_normal((n_samples, min(block_size, lam.shape[0] - start)))
        Z *= np.sqrt(lam[start : start + block_size])
        K += Z @ Z.T
    return K


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_features": [Interval(Integral, 1, None, closed="left")],
        "spectrum": [StrOptions(set(SPECTRUM_KINDS)), "array-like"],
        **SPECTRUM_PARAMS,
        "labels": [StrOptions({"gaussian", "rademacher"})],
        "noise": [Interval(Real, 0, None, closed="left")],
        "method": [StrOptions({"auto", "bartlett", "blocks"})],
        "block_size": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "return_params": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def make_gram_regression(
    n_samples,
    n_features,
    *,
    spectrum="isotropic",
    exponent=1.0,
    n_spikes=1,
    spike=10.0,
    low=0.1,
    normalize="trace",
    scale=None,
    labels="gaussian",
    noise=0.0,
    method="auto",
    block_size=4096,
    random_state=None,
    return_params=False,
):
    """Gram matrix ``K = X X^T`` of Gaussian inputs and random labels, never holding X.

    The rows of X are i.i.d. ``N(0, diag(lambda))`` as in
    :func:`make_high_dim_regression`, so ``K`` is a Wishart matrix
    ``sum_k lambda_k z_k z_k^T`` with ``z_k ~ N(0, I_n)`` i.i.d. Gradient
    descent in the data span and the minimum-norm program only need ``K``
    (:func:`~sklearn_relubias.experiments.gram_gap`), so problems with
    ``n_features = 10**6`` or more cost ``O(n^2)`` memory instead of ``O(n d)``.

    Parameters
    ----------
    n_samples : int
        Number of examples ``n``.
    n_features : int
        Dimension ``d``.
    spectrum : {'isotropic', 'power_law', 'two_level', 'spiked'} or array-like \
            of shape (n_features,), default='isotropic'
        Covariance eigenvalues, as in :func:`make_high_dim_regression`.
    exponent, n_spikes, spike, low, normalize, scale
        Parameters of a named spectrum (:func:`make_spectrum`).
    labels : {'gaussian', 'rademacher'}, default='gaussian'
        i.i.d. ``N(0, 1)`` or +/-1 labels, independent of the inputs (a
        planted teacher would need X).
    noise : float, default=0.0
        Standard deviation of Gaussian noise added to the labels.
    method : {'auto', 'bartlett', 'blocks'}, default='auto'
        'bartlett': the Bartlett decomposition of a Wishart matrix, for a
        constant spectrum with ``n_features >= n_samples`` (``n^2`` random
        draws, ``O(n^3)`` time, whatever ``d``); 'blocks': accumulate
        ``Z_B diag(lambda_B) Z_B^T`` over blocks ``B`` of ``block_size``
        features (``n d`` draws, ``O(n^2 d)`` time); 'auto': 'bartlett' when
        it applies, else 'blocks'.
    block_size : int, default=4096
        Features per block ('blocks'): memory ``O(n^2 + n block_size)``
        besides the ``d`` eigenvalues.
    random_state : int, RandomState instance or None, default=None
        Seed. The two methods draw different (equally distributed) matrices,
        and neither equals ``X @ X.T`` for the X that
        :func:`make_high_dim_regression` draws from the same seed.
    return_params : bool, default=False
        Also return a dict with ``'spectrum'``, ``'trace'``,
        ``'effective_rank'``, ``'r0'`` (:func:`spectrum_stats`) and the
        ``'method'`` used.

    Returns
    -------
    K : ndarray of shape (n_samples, n_samples)
        Symmetric positive semi-definite Gram matrix; ``E[K] = trace(lambda) I``,
        ``Var(K_ij) = sum(lambda^2)`` off the diagonal and
        ``2 sum(lambda^2)`` on it.
    y : ndarray of shape (n_samples,)
        Targets.
    params : dict
        Only when ``return_params=True``.

    See Also
    --------
    make_high_dim_regression : The inputs themselves.
    sklearn_relubias.experiments.gram_gap : Gradient descent and the
        minimum-norm solution from ``K`` alone.

    Examples
    --------
    >>> from sklearn_relubias.datasets import make_gram_regression
    >>> K, y = make_gram_regression(50, 10**6, random_state=0)
    >>> K.shape, y.shape
    ((50, 50), (50,))
    >>> bool(abs(K[0, 0] / 10**6 - 1) < 0.01)  # K_ii ~ chi2(d): sd sqrt(2 / d) relative
    True
    """
    rng = check_random_state(random_state)
    spectrum_params = {
        "exponent": exponent,
        "n_spikes": n_spikes,
        "spike": spike,
        "low": low,
        "normalize": normalize,
        "scale": scale,
    }
    lam = _spectrum(spectrum, n_features, spectrum_params)
    bartlett_ok = n_features >= n_samples and bool(np.all(lam == lam[0]))
    if method == "bartlett" and not bartlett_ok:
        raise ValueError(
            "method='bartlett' needs a constant spectrum and n_features >= n_samples, got "
            f"n_samples={n_samples}, n_features={n_features} and a "
            f"{'constant' if np.all(lam == lam[0]) else 'non-constant'} spectrum; "
            "use method='blocks'."
        )
    if method == "auto":
        method = "bartlett" if bartlett_ok else "blocks"
    # the matrix from a Generator seeded by the RandomState (ziggurat normals, twice
    # as fast as RandomState's for the n d draws of 'blocks'), the labels from the latter
    gen = np.random.default_rng(rng.randint(np.iinfo(np.int64).max, dtype=np.int64))
    if method == "bartlett":
        K = lam[0] * _bartlett(n_samples, n_features, gen)
    else:
        K = _blocked(n_samples, lam, block_size, gen)
    if labels == "gaussian":
        y = rng.standard_normal(n_samples)
    else:
        y = rng.choice([-1.0, 1.0], size=n_samples)
    if noise > 0:
        y = y + noise * rng.standard_normal(n_samples)
    if return_params:
        return K, y, {"spectrum": lam, **spectrum_stats(lam), "method": method}
    return K, y
