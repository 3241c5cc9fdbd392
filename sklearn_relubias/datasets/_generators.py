"""Data generators shaped like :func:`sklearn.datasets.make_regression`."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state

from ..utils._sklearn_compat import Interval, StrOptions, validate_params

# Constraints shared by the generators with random labels.
_COMMON = {
    "n_samples": [Interval(Integral, 1, None, closed="left")],
    "n_features": [Interval(Integral, 1, None, closed="left")],
    "labels": [StrOptions({"gaussian", "rademacher", "teacher"})],
    "n_teacher_neurons": [Interval(Integral, 1, None, closed="left")],
    "noise": [Interval(Real, 0, None, closed="left")],
    "random_state": ["random_state"],
    "return_params": ["boolean"],
}


def _labels(kind, X, spectrum, n_teacher_neurons, noise, rng):
    """Targets for inputs X; returns (y, teacher parameters or {})."""
    n_samples, n_features = X.shape
    params = {}
    if kind == "gaussian":
        y = rng.standard_normal(n_samples)
    elif kind == "rademacher":
        y = rng.choice([-1.0, 1.0], size=n_samples)
    else:
        # <v, x> ~ N(0, 1): v ~ N(0, I / sum(lambda))
        V = rng.standard_normal((n_teacher_neurons, n_features)) / np.sqrt(np.sum(spectrum))
        a = np.where(np.arange(n_teacher_neurons) % 2 == 0, 1.0, -1.0)
        y = np.maximum(X @ V.T, 0.0) @ a
        params = {"teacher_hidden_weights": V, "teacher_output_weights": a}
    if noise > 0:
        y = y + noise * rng.standard_normal(n_samples)
    return y, params


@validate_params(
    {
        **_COMMON,
        "spectrum": [StrOptions({"isotropic", "power_law"}), "array-like"],
        "exponent": [Interval(Real, 0, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def make_high_dim_regression(
    n_samples,
    n_features,
    *,
    spectrum="isotropic",
    exponent=1.0,
    labels="gaussian",
    n_teacher_neurons=2,
    noise=0.0,
    random_state=None,
    return_params=False,
):
    """Gaussian inputs ``x ~ N(0, diag(lambda))`` with random or planted-ReLU labels.

    The setting of the paper: with ``n_features >> n_samples`` the examples are
    nearly orthogonal and gradient descent lands close to the minimum-norm
    solution.

    Parameters
    ----------
    n_samples : int
        Number of examples ``n``.
    n_features : int
        Dimension ``d``.
    spectrum : {'isotropic', 'power_law'} or array-like of shape (n_features,), \
            default='isotropic'
        Covariance eigenvalues ``lambda``: all ones; ``lambda_k`` proportional
        to ``k ** -exponent`` rescaled so that ``sum(lambda) = n_features``; or
        the given non-negative values.
    exponent : float, default=1.0
        Decay exponent of the 'power_law' spectrum.
    labels : {'gaussian', 'rademacher', 'teacher'}, default='gaussian'
        i.i.d. ``N(0, 1)`` labels, i.i.d. +/-1 labels, or the outputs of a
        planted ReLU teacher ``sum_j a_j relu(<v_j, x>)`` with balanced output
        weights (+1, -1, ...) and ``v_j ~ N(0, I / sum(lambda))``.
    n_teacher_neurons : int, default=2
        Teacher width for ``labels='teacher'``.
    noise : float, default=0.0
        Standard deviation of Gaussian noise added to the labels.
    random_state : int, RandomState instance or None, default=None
        Seed.
    return_params : bool, default=False
        Also return a dict with the spectrum (key ``'spectrum'``) and, for a
        teacher, ``'teacher_hidden_weights'`` and ``'teacher_output_weights'``.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Inputs.
    y : ndarray of shape (n_samples,)
        Targets.
    params : dict
        Only when ``return_params=True``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_relubias.datasets import make_high_dim_regression
    >>> X, y = make_high_dim_regression(5, 1000, labels="rademacher", random_state=0)
    >>> X.shape, np.unique(y).tolist()
    ((5, 1000), [-1.0, 1.0])
    """
    rng = check_random_state(random_state)
    if isinstance(spectrum, str):
        lam = np.ones(n_features)
        if spectrum == "power_law":
            lam = np.arange(1, n_features + 1, dtype=float) ** -exponent
            lam *= n_features / lam.sum()
    else:
        lam = np.asarray(spectrum, dtype=np.float64)
        if lam.shape != (n_features,) or not np.all(np.isfinite(lam)) or np.any(lam < 0):
            raise ValueError(
                f"spectrum must hold n_features={n_features} finite non-negative values, "
                f"got shape {lam.shape}."
            )
    X = rng.standard_normal((n_samples, n_features)) * np.sqrt(lam)
    y, params = _labels(labels, X, lam, n_teacher_neurons, noise, rng)
    if return_params:
        return X, y, {"spectrum": lam, **params}
    return X, y


@validate_params(_COMMON, prefer_skip_nested_validation=True)
def make_orthogonal_regression(
    n_samples,
    n_features,
    *,
    labels="gaussian",
    n_teacher_neurons=2,
    noise=0.0,
    random_state=None,
    return_params=False,
):
    """Exactly orthogonal inputs of norm ``sqrt(n_features)`` (``n_samples <= n_features``).

    On orthogonal inputs each example's coefficient evolves on its own, and
    the limit of gradient descent tends to the minimum-norm solution as the
    step size goes to zero (Boursier, Pillaud-Vivien and Flammarion, 2022).

    Parameters
    ----------
    n_samples : int
        Number of examples, at most ``n_features``.
    n_features : int
        Dimension.
    labels : {'gaussian', 'rademacher', 'teacher'}, default='gaussian'
        As in :func:`make_high_dim_regression` (isotropic spectrum).
    n_teacher_neurons : int, default=2
        Teacher width for ``labels='teacher'``.
    noise : float, default=0.0
        Standard deviation of Gaussian label noise.
    random_state : int, RandomState instance or None, default=None
        Seed.
    return_params : bool, default=False
        Also return a dict of the generating parameters.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Inputs with ``X @ X.T == n_features * I`` (to rounding).
    y : ndarray of shape (n_samples,)
        Targets.
    params : dict
        Only when ``return_params=True``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_relubias.datasets import make_orthogonal_regression
    >>> X, y = make_orthogonal_regression(4, 50, random_state=0)
    >>> bool(np.allclose(X @ X.T, 50 * np.eye(4)))
    True
    """
    if n_samples > n_features:
        raise ValueError(
            f"Orthogonal inputs need n_samples <= n_features, got n_samples={n_samples} "
            f"and n_features={n_features}."
        )
    rng = check_random_state(random_state)
    Q, _ = np.linalg.qr(rng.standard_normal((n_features, n_samples)))
    X = np.sqrt(n_features) * Q.T
    lam = np.ones(n_features)
    y, params = _labels(labels, X, lam, n_teacher_neurons, noise, rng)
    if return_params:
        return X, y, {"spectrum": lam, **params}
    return X, y


@validate_params(
    {
        "n_samples": [Interval(Integral, 3, None, closed="left")],
        "n_features": [Interval(Integral, 2, None, closed="left")],
        "angle": [Interval(Real, 0, 90, closed="neither")],
        "random_state": ["random_state"],
        "return_params": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def make_adversarial_regression(
    n_samples=4,
    n_features=2,
    *,
    angle=30.0,
    random_state=None,
    return_params=False,
):
    """Make a low-dimensional problem where gradient descent ends far from the min-norm solution.

    One example ``x_+`` with label +1 and ``n_samples - 1`` examples with
    label -1 inside a narrow cone around it: each makes an angle of about
    ``angle`` degrees with ``x_+`` (jittered by up to 20%), all tilted to the
    same side, so the set of interpolating single-neuron solutions is
    non-empty (``w`` with ``<w, x_+> = 1`` pointing away from the cone).
    The whole configuration is randomly rotated in ``n_features`` dimensions.

    Why gradient descent fails here: from a zero (or small) initialisation the
    first step moves a ReLU neuron along ``sum_i y_i x_i``. The negative
    examples are strongly correlated with ``x_+`` and outnumber it, so when
    ``sum_k cos(angle_k) > 1`` that direction has a negative inner product with
    ``x_+`` and with every other example. After one step all examples are
    inactive, the gradient (with ``relu'(z) = 0`` for ``z < 0``) vanishes, and
    gradient descent stops at a non-interpolating stationary point whose
    distance to the minimum-norm interpolant is of the order of its norm,
    for every ``learning_rate``. In high dimension this cannot happen with
    random data: cross inner products are of order ``sqrt(d)`` against
    squared norms of order ``d``, so the first step's sign on each example
    follows its own label.

    Parameters
    ----------
    n_samples : int, default=4
        Number of examples (one positive, the rest negative), at least 3.
    n_features : int, default=2
        Dimension, at least 2.
    angle : float, default=30.0
        Typical angle in degrees between ``x_+`` and the negative examples.
        Requires ``(n_samples - 1) * cos(1.2 * angle) > 1`` so that the first
        step deactivates ``x_+``.
    random_state : int, RandomState instance or None, default=None
        Seed of the jitter and the rotation.
    return_params : bool, default=False
        Also return a dict with the angles (``'angles'``, degrees) and the
        rotation (``'rotation'``).

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Unit-norm inputs; row 0 is ``x_+``.
    y : ndarray of shape (n_samples,)
        ``[1, -1, ..., -1]``.
    params : dict
        Only when ``return_params=True``.

    Examples
    --------
    >>> from sklearn_relubias import ShallowReLURegressor
    >>> from sklearn_relubias.datasets import make_adversarial_regression
    >>> X, y = make_adversarial_regression(random_state=0)
    >>> import pytest
    >>> from sklearn_relubias.exceptions import StrandedExampleWarning
    >>> with pytest.warns(StrandedExampleWarning):  # the positive example is stranded
    ...     reg = ShallowReLURegressor(n_neurons=1).fit(X, y)
    >>> reg.stranded_indices_.tolist()
    [0]
    >>> bool(reg.activation_pattern_.any()), bool(reg.min_norm_gap_ > 0.9)
    (False, True)
    """
    if (n_samples - 1) * np.cos(np.deg2rad(1.2 * angle)) <= 1:
        raise ValueError(
            f"With n_samples={n_samples} and angle={angle}, the negative examples do not "
            "outweigh the positive one: need (n_samples - 1) * cos(1.2 * angle) > 1; "
            "lower angle or raise n_samples."
        )
    rng = check_random_state(random_state)
    angles = angle * rng.uniform(0.8, 1.2, n_samples - 1)
    theta = np.deg2rad(np.r_[0.0, angles])
    X0 = np.zeros((n_samples, n_features))
    X0[:, 0], X0[:, 1] = np.cos(theta), np.sin(theta)
    Q, R = np.linalg.qr(rng.standard_normal((n_features, n_features)))
    Q *= np.sign(np.diag(R))
    X = X0 @ Q.T
    y = np.r_[1.0, -np.ones(n_samples - 1)]
    if return_params:
        return X, y, {"angles": np.r_[0.0, angles], "rotation": Q}
    return X, y
