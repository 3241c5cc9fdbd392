"""Data generators shaped like :func:`sklearn.datasets.make_regression`."""

from numbers import Integral, Real

import numpy as np
from scipy.optimize import brentq
from sklearn.utils import check_random_state, deprecated

from ..utils._sklearn_compat import Interval, StrOptions, validate_params
from ._spectra import SPECTRUM_KINDS, SPECTRUM_PARAMS, make_spectrum, spectrum_stats

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


def _spectrum(spectrum, n_features, spectrum_params):
    """Return the covariance eigenvalues: a named kind (:func:`make_spectrum`) or checked values."""
    if isinstance(spectrum, str):
        return make_spectrum(n_features, spectrum, **spectrum_params)
    lam = np.asarray(spectrum, dtype=np.float64)
    if lam.shape != (n_features,) or not np.all(np.isfinite(lam)) or np.any(lam < 0):
        raise ValueError(
            f"spectrum must hold n_features={n_features} finite non-negative values, "
            f"got shape {lam.shape}."
        )
    if not np.any(lam > 0):
        raise ValueError("spectrum must have a positive value; got all zeros.")
    return lam


@validate_params(
    {
        **_COMMON,
        "spectrum": [StrOptions(set(SPECTRUM_KINDS)), "array-like"],
        **SPECTRUM_PARAMS,
    },
    prefer_skip_nested_validation=True,
)
def make_high_dim_regression(
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
    spectrum : {'isotropic', 'power_law', 'two_level', 'spiked'} or array-like \
            of shape (n_features,), default='isotropic'
        Covariance eigenvalues ``lambda``: a named shape built by
        :func:`make_spectrum` with the parameters below (by default
        normalised to ``sum(lambda) = n_features``, so 'isotropic' is all
        ones and 'power_law' is ``k ** -exponent`` rescaled to trace
        ``n_features``), or the given non-negative values, used as they are.
    exponent : float, default=1.0
        Decay exponent of the 'power_law' spectrum.
    n_spikes : int, default=1
        Number of large eigenvalues of the 'two_level' and 'spiked' spectra.
    spike : float, default=10.0
        Height of the spikes above the bulk ('spiked').
    low : float, default=0.1
        Floor of 'two_level' relative to its top block, in ``[0, 1]``.
    normalize : {'trace', 'top'}, default='trace'
        Normalise a named spectrum to ``sum(lambda) = scale`` or to
        ``lambda_1 = scale`` (ignored for an array).
    scale : float, default=None
        Target of the normalisation (None: ``n_features`` for 'trace', 1 for
        'top'; ignored for an array).
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
        Also return a dict with the spectrum (key ``'spectrum'``), its
        ``'trace'``, ``'effective_rank'`` and ``'r0'``
        (:func:`spectrum_stats`) and, for a teacher,
        ``'teacher_hidden_weights'`` and ``'teacher_output_weights'``.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Inputs.
    y : ndarray of shape (n_samples,)
        Targets.
    params : dict
        Only when ``return_params=True``.

    See Also
    --------
    make_gram_regression : The Gram matrix ``X X^T`` of these inputs, without X.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_relubias.datasets import make_high_dim_regression
    >>> X, y = make_high_dim_regression(5, 1000, labels="rademacher", random_state=0)
    >>> X.shape, np.unique(y).tolist()
    ((5, 1000), [-1.0, 1.0])
    >>> _, _, p = make_high_dim_regression(
    ...     5, 1000, spectrum="two_level", n_spikes=50, low=0.0, scale=200.0,
    ...     random_state=0, return_params=True)
    >>> p["trace"], p["effective_rank"]
    (200.0, 50.0)
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
    X = rng.standard_normal((n_samples, n_features)) * np.sqrt(lam)
    y, params = _labels(labels, X, lam, n_teacher_neurons, noise, rng)
    if return_params:
        return X, y, {"spectrum": lam, **spectrum_stats(lam), **params}
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

    From ``init='zero'`` the gap is exactly proportional to the step: the
    first step (``g = 1`` everywhere) gives example ``i`` the coefficient
    ``learning_rate a_j y_i / (||a||^2 d)`` in neuron ``j``; the neurons with
    ``a_j y_i > 0`` keep it active and converge to the minimum-norm
    coefficient, the others switch it off at once and keep that coefficient,
    where the minimum-norm solution has 0. Hence, with ``X X^T = d I``,
    ``min_norm_gap_ = learning_rate / 2`` for the +/- pair (``n_neurons=2``)
    and ``learning_rate * sqrt(sum_{y_i <= 0} y_i^2 / sum_{y_i > 0} y_i^2)``
    for the single neuron, for any ``learning_rate < 1`` (checked
    numerically to 1e-12 relative at 0.5, 0.1, 0.01 and 0.001): it tends to
    0 with the step, the gradient-flow limit being the minimum-norm solution.

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
def make_stalled_regression(
    n_samples=4,
    n_features=2,
    *,
    angle=30.0,
    random_state=None,
    return_params=False,
):
    """Make a low-dimensional problem where gradient descent stalls before a global minimum.

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

    This used to be ``make_adversarial_regression``, which remains as a
    deprecated alias. For a problem where gradient descent does reach a
    global minimum, but not the minimum-norm one even in the small-step
    limit, see :func:`make_frozen_regression`.

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
    >>> from sklearn_relubias import PAPER_MODEL, ShallowReLURegressor
    >>> from sklearn_relubias.datasets import make_stalled_regression
    >>> X, y = make_stalled_regression(random_state=0)
    >>> import pytest
    >>> from sklearn_relubias.exceptions import StrandedExampleWarning
    >>> with pytest.warns(StrandedExampleWarning):  # the positive example is stranded
    ...     reg = ShallowReLURegressor(**PAPER_MODEL).set_params(n_neurons=1).fit(X, y)
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


@deprecated(
    "make_adversarial_regression was renamed make_stalled_regression in 0.1 and will be "
    "removed in 0.3; use make_stalled_regression, which returns the same data."
)
def make_adversarial_regression(
    n_samples=4,
    n_features=2,
    *,
    angle=30.0,
    random_state=None,
    return_params=False,
):
    """Make the problem of :func:`make_stalled_regression` (deprecated alias).

    .. deprecated:: 0.1
        Renamed :func:`make_stalled_regression`; this alias will be removed
        in 0.3.

    Parameters
    ----------
    n_samples : int, default=4
        As in :func:`make_stalled_regression`.
    n_features : int, default=2
        As in :func:`make_stalled_regression`.
    angle : float, default=30.0
        As in :func:`make_stalled_regression`.
    random_state : int, RandomState instance or None, default=None
        As in :func:`make_stalled_regression`.
    return_params : bool, default=False
        As in :func:`make_stalled_regression`.

    Returns
    -------
    X, y[, params]
        What :func:`make_stalled_regression` returns for the same arguments.

    Examples
    --------
    >>> import pytest
    >>> from sklearn_relubias.datasets import make_adversarial_regression
    >>> with pytest.warns(FutureWarning, match="make_stalled_regression"):
    ...     X, y = make_adversarial_regression(random_state=0)
    """
    return make_stalled_regression(
        n_samples,
        n_features,
        angle=angle,
        random_state=random_state,
        return_params=return_params,
    )


# The third example of make_frozen_regression: x_3 = rho (-cos(phi) e_2 + sin(phi) e_3),
# with rho = _FROZEN_MARGIN * tan(angle) cos(phi).
_FROZEN_TILT = np.deg2rad(60.0)
_FROZEN_MARGIN = 0.9


def _frozen_flow(K, y):
    """Gradient-flow limit from ``w = 0`` on the three examples of :func:`make_frozen_regression`.

    Phase 1: every example is active (``g = 1`` at ``w = 0``, then ``p > 0``), so the
    flow of ``L = 1/(2n) sum_i (p_i - y_i)^2`` is linear: ``p(t) = y - exp(-K t / n) y``
    and ``c(t) = (I - exp(-K t / n)) K^{-1} y``. It ends at the first ``t*`` with
    ``p_2(t*) = 0``. Phase 2: example 2 is inactive, its coefficient frozen at
    ``c_2(t*)``, and examples 1 and 3 converge to their targets: the limit solves
    ``K_AA c_A = y_A - c_2(t*) K_A2`` (``A = {1, 3}``). Checks on time grids that
    examples 1 and 3 stay active throughout and example 2 inactive in phase 2.

    Returns ``(coefficients of the limit (3,), t*)``; a ValueError if the phases
    are not as described.
    """
    n = y.shape[0]
    lam, V = np.linalg.eigh(K)
    b = V.T @ y

    def phase1(t):
        return y - V @ (np.exp(-lam * t / n) * b)

    grid = np.geomspace(1e-8, 1e8, 4001) * n / lam[-1]
    P = np.array([phase1(t) for t in grid])
    k = int(np.argmax(P[:, 1] < 0))
    if k == 0 or not (np.all(P[:k, 1] > 0) and np.all(P[: k + 1, [0, 2]] > 0)):
        raise ValueError("Example 2 does not start active and switch off while the others fit.")
    t_star = brentq(lambda t: phase1(t)[1], grid[k - 1], grid[k], xtol=1e-300)
    coef = V @ ((1.0 - np.exp(-lam * t_star / n)) * b / lam)
    p0 = K @ coef
    A = [0, 2]
    K_AA = K[np.ix_(A, A)]
    lam_A, V_A = np.linalg.eigh(K_AA)
    r_A = V_A.T @ (p0[A] - y[A])
    grid_A = np.geomspace(1e-8, 1e8, 4001) * n / lam_A[-1]
    P_A = y[A] + (V_A @ (np.exp(-lam_A[:, None] * grid_A / n) * r_A[:, None])).T
    p2 = p0[1] + (P_A - p0[A]) @ np.linalg.solve(K_AA, K[A, 1])
    if np.max(p2) > 1e-9 * np.max(np.abs(y)) or not np.all(P_A > 0):
        raise ValueError("Example 2 switches on again, or another example off, in phase 2.")
    limit = coef.copy()
    limit[A] += np.linalg.solve(K_AA, y[A] - p0[A])
    return limit, float(t_star)


@validate_params(
    {
        "n_features": [Interval(Integral, 3, None, closed="left")],
        "angle": [Interval(Real, 2, 60, closed="both")],
        "random_state": ["random_state"],
        "return_params": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def make_frozen_regression(n_features=3, *, angle=30.0, random_state=None, return_params=False):
    """Make a problem where gradient descent reaches a global minimum that is not the min-norm one.

    The worst case of Vardi and Shamir (2021) in its simplest form, for the
    single neuron (``n_neurons=1``): the training loss goes to zero, yet the
    limit of gradient descent stays at a relative distance of order 0.1 (0.17
    at the default ``angle``) from the minimum-norm global minimiser, however
    small the step, so no small-step argument recovers the minimum-norm
    characterisation that holds on orthogonal inputs
    (:func:`make_orthogonal_regression`) and approximately in high dimension.

    Three examples, in the orthonormal frame ``e_1, e_2, e_3`` (then randomly
    rotated into ``n_features`` dimensions)::

        x_1 = e_1                                         y_1 = 1
        x_2 = cos(angle) e_1 + sin(angle) e_2             y_2 = 0
        x_3 = rho (-cos(60 deg) e_2 + sin(60 deg) e_3)    y_3 = 1

    with ``rho = 0.9 tan(angle) cos(60 deg)``, a short ``x_3`` orthogonal to
    ``x_1`` and at an obtuse angle to ``x_2``.

    Mechanism: from ``w = 0`` the first step moves along
    ``sum_i y_i x_i = x_1 + x_3``, which has a positive inner product with
    ``x_2``, so example 2 is active while ``x_1`` (fast) and ``x_3`` (slow,
    being short) are being fitted. While active, its output ``<w, x_2> > 0
    = y_2`` is pushed down: its data-span coefficient ``c_2`` becomes
    negative. Then the pull along ``x_3``, which is at an obtuse angle to
    ``x_2``, makes ``<w, x_2>`` cross zero; example 2 is inactive from then
    on, gets no gradient, and keeps ``c_2 < 0`` until the end, with
    ``<w, x_2>`` strictly negative. The limit is a global minimum (``<w,
    x_1> = <w, x_3> = 1``, ``relu(<w, x_2>) = 0``) but violates the
    complementarity condition ``c_2 <w, x_2> = 0`` of the minimum-norm
    program, whose solution ``w* = x_1 + x_3 / ||x_3||^2`` has ``<w*, x_2> <
    0`` (that is what the factor 0.9 in ``rho`` ensures) and ``c*_2 = 0``.
    The difference is ``w - w* = c_2 P x_2`` with ``P`` the projection
    orthogonal to ``x_1`` and ``x_3``. Everything here happens in the
    gradient flow, over a time of order one, so the discrete iterates tend to
    this flow limit as ``learning_rate -> 0`` (their distance to it is
    ``O(learning_rate)``), and the relative gap tends to the flow's, not to
    zero. With ``init='random'`` and a small ``init_scale`` the same happens
    up to ``O(init_scale)``, unless the initial weights switch off both
    ``x_1`` and ``x_3`` (about one draw in four): the neuron is then dead
    from the start, the case of :func:`make_stalled_regression`.

    Smaller angles give larger gaps (0.21 as ``angle -> 0``) but worse
    conditioned Gram matrices, hence more iterations: the smallest
    eigenvalue of ``K`` is of order ``0.2 sin(angle)^2``.

    Parameters
    ----------
    n_features : int, default=3
        Dimension, at least 3.
    angle : float, default=30.0
        Angle in degrees between ``x_1`` and ``x_2``, in ``[2, 60]``.
    random_state : int, RandomState instance or None, default=None
        Seed of the rotation.
    return_params : bool, default=False
        Also return a dict with the gradient-flow limit from zero
        (``'flow_hidden_weights'``, shape (n_features,)), the minimum-norm
        solution (``'min_norm_hidden_weights'``), the flow's relative gap
        (``'flow_gap'``), the time example 2 switches off (``'switch_time'``,
        in the time of the flow ``dw/dt = -grad L``) and the rotation
        (``'rotation'``).

    Returns
    -------
    X : ndarray of shape (3, n_features)
        Inputs.
    y : ndarray of shape (3,)
        ``[1, 0, 1]``.
    params : dict
        Only when ``return_params=True``.

    See Also
    --------
    make_stalled_regression : Gradient descent stops before a global minimum.
    make_orthogonal_regression : The gap vanishes with the step.

    References
    ----------
    Gal Vardi and Ohad Shamir, "Implicit regularization in ReLU networks with
    the square loss", COLT 2021.

    Examples
    --------
    >>> from sklearn_relubias import PAPER_MODEL, ShallowReLURegressor
    >>> from sklearn_relubias.datasets import make_frozen_regression
    >>> X, y, p = make_frozen_regression(random_state=0, return_params=True)
    >>> round(p["flow_gap"], 3)
    0.171
    >>> for lr in (0.1, 0.01):
    ...     reg = ShallowReLURegressor(**PAPER_MODEL)
    ...     _ = reg.set_params(n_neurons=1, learning_rate=lr, max_iter=100_000).fit(X, y)
    ...     print(f"{reg.min_norm_gap_:.3f}", reg.loss_curve_[-1] < 1e-15)
    0.171 True
    0.171 True
    """
    theta, phi = np.deg2rad(angle), _FROZEN_TILT
    rho = _FROZEN_MARGIN * np.tan(theta) * np.cos(phi)
    X0 = np.array(
        [
            [1.0, 0.0, 0.0],
            [np.cos(theta), np.sin(theta), 0.0],
            [0.0, -rho * np.cos(phi), rho * np.sin(phi)],
        ]
    )
    y = np.array([1.0, 0.0, 1.0])
    rng = check_random_state(random_state)
    Q, R = np.linalg.qr(rng.standard_normal((n_features, n_features)))
    Q *= np.sign(np.diag(R))
    X = np.zeros((3, n_features))
    X[:, :3] = X0
    X = X @ Q.T
    if not return_params:
        return X, y
    coef, t_star = _frozen_flow(X0 @ X0.T, y)
    w_flow = coef @ X
    w_star = X[0] + X[2] / (rho * rho)
    gap = float(np.linalg.norm(w_flow - w_star) / np.linalg.norm(w_star))
    return (
        X,
        y,
        {
            "flow_hidden_weights": w_flow,
            "min_norm_hidden_weights": w_star,
            "flow_gap": gap,
            "switch_time": t_star,
            "rotation": Q,
        },
    )


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_features": [Interval(Integral, 1, None, closed="left")],
        "words_per_doc": [Interval(Real, 0, None, closed="neither")],
        "n_informative": [Interval(Integral, 1, None, closed="left")],
        "noise": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_tfidf_regression(
    n_samples,
    n_features,
    *,
    words_per_doc=84.0,
    n_informative=300,
    noise=0.01,
    random_state=None,
):
    """Sparse TF-IDF inputs with the sparsity of a text corpus, and a noisy linear target.

    Each document draws ``Poisson(words_per_doc)`` tokens from a Zipf law
    over a vocabulary of ``n_features`` words; the counts go through
    :class:`~sklearn.feature_extraction.text.TfidfTransformer` (l2-normalised
    rows, non-negative: uncentred data). The target is ``X v`` plus
    ``noise`` times standard normal noise, with ``v`` standard normal on
    ``n_informative`` random words, then centred. With ``n_features=2598``
    and the default 84 words, about 59 non-zeros per row.

    Parameters
    ----------
    n_samples, n_features : int
    words_per_doc : float, default=84.0
    n_informative : int, default=300
        Words the target depends on (at most ``n_features``).
    noise : float, default=0.01
    random_state : int, Generator, RandomState or None, default=None
        An int seeds ``numpy.random.default_rng``.

    Returns
    -------
    X : scipy.sparse.csr_matrix of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    """
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfTransformer

    rng = (
        random_state
        if isinstance(random_state, np.random.Generator)
        else np.random.default_rng(random_state)
    )
    lengths = rng.poisson(words_per_doc, n_samples)
    p = 1.0 / np.arange(1, n_features + 1)
    p /= p.sum()
    rows = np.repeat(np.arange(n_samples), lengths)
    cols = rng.choice(n_features, size=lengths.sum(), p=p)
    counts = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_samples, n_features))
    counts.sum_duplicates()
    X = TfidfTransformer().fit_transform(counts).tocsr()
    v = np.zeros(n_features)
    k = min(n_informative, n_features)
    v[rng.choice(n_features, k, replace=False)] = rng.standard_normal(k)
    y = X @ v + noise * rng.standard_normal(n_samples)
    return X, y - y.mean()
