import _reference
import numpy as np
import pytest
from _reference import paper_estimator

from sklearn_relubias import MinNormReLURegressor
from sklearn_relubias.datasets import (
    make_adversarial_regression,
    make_frozen_regression,
    make_gram_regression,
    make_high_dim_regression,
    make_orthogonal_regression,
    make_spectrum,
    make_stalled_regression,
    spectrum_stats,
)


def test_high_dim_shapes_seed_and_params():
    X, y, p = make_high_dim_regression(30, 400, random_state=0, return_params=True)
    assert X.shape == (30, 400) and y.shape == (30,)
    np.testing.assert_array_equal(p["spectrum"], np.ones(400))
    X2, y2 = make_high_dim_regression(30, 400, random_state=0)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)


def test_power_law_spectrum_is_the_covariance():
    X, _, p = make_high_dim_regression(
        20000, 5, spectrum="power_law", exponent=2.0, random_state=1, return_params=True
    )
    lam = p["spectrum"]
    expected = np.arange(1, 6, dtype=float) ** -2.0
    np.testing.assert_allclose(lam, expected * 5 / expected.sum())
    # An entry of the sample covariance of N Gaussian draws has standard deviation
    # sqrt(lam_i lam_j (1 + [i == j]) / N) <= sqrt(2 / 20000) lam_max = 0.01 lam_max:
    # 0.06 lam_max is 6 standard deviations.
    np.testing.assert_allclose(np.cov(X.T), np.diag(lam), atol=0.06 * lam.max())


def test_array_spectrum_and_validation():
    lam = np.array([4.0, 1.0, 0.0])
    X, _ = make_high_dim_regression(10, 3, spectrum=lam, random_state=2)
    np.testing.assert_array_equal(X[:, 2], 0.0)
    with pytest.raises(ValueError, match="spectrum"):
        make_high_dim_regression(10, 3, spectrum=[1.0, -1.0, 1.0])
    with pytest.raises(ValueError, match="labels"):
        make_high_dim_regression(10, 3, labels="uniform")


def test_teacher_labels_come_from_the_planted_network():
    X, y, p = make_high_dim_regression(
        50, 300, labels="teacher", n_teacher_neurons=3, random_state=3, return_params=True
    )
    V, a = p["teacher_hidden_weights"], p["teacher_output_weights"]
    np.testing.assert_array_equal(a, [1.0, -1.0, 1.0])
    np.testing.assert_allclose(y, np.maximum(X @ V.T, 0) @ a)
    # <v, x> has unit variance on average over V: given V it is N(0, ||v_j||^2) with
    # ||v_j||^2 ~ chi2(300) / 300 (sd 0.08, mean of 3: 0.047 on the variance, 0.024 on the
    # std); the sample std of 3 x 50 values adds sd 1 / sqrt(2 * 150) = 0.058. Both: about
    # 0.063, so +/- 0.3 is ~5 standard deviations.
    assert 0.7 < np.std(X @ V.T) < 1.3


def test_noise_and_rademacher():
    _, y = make_high_dim_regression(1000, 2, labels="rademacher", random_state=4)
    assert set(np.unique(y)) == {-1.0, 1.0}
    _, y0 = make_high_dim_regression(5000, 5, labels="teacher", random_state=5)
    _, y1 = make_high_dim_regression(5000, 5, labels="teacher", noise=0.5, random_state=5)
    # same seed, same X and teacher: y1 - y0 is the noise alone. The sample std of N
    # normal draws has relative standard deviation 1 / sqrt(2 (N - 1)) = 0.01: rtol=0.05
    # is 5 of them.
    np.testing.assert_allclose(np.std(y1 - y0), 0.5, rtol=0.05)


def test_orthogonal_inputs():
    X, y = make_orthogonal_regression(10, 64, labels="rademacher", random_state=6)
    np.testing.assert_allclose(X @ X.T, 64 * np.eye(10), atol=1e-10)
    with pytest.raises(ValueError, match="n_samples <= n_features"):
        make_orthogonal_regression(5, 4)


@pytest.mark.parametrize("learning_rate", [0.1, 0.01, 0.001])
def test_orthogonal_gap_is_half_the_step(learning_rate):
    """Orthogonal data, the +/- pair from zero: ``min_norm_gap_ == learning_rate / 2``.

    With ``X X^T = d I`` every example evolves on its own, and
    ``eta = learning_rate n / (2 d)`` (``||a||^2 = 2``, ``lambda_max = d``). The
    first step from ``W = 0`` (``g = 1`` everywhere, ``r = -y``) sets
    ``c_ij = eta a_j y_i / n = learning_rate a_j y_i / (2 d)``, so
    ``p_ij = learning_rate a_j y_i / 2``. The neuron with ``a_j y_i > 0`` stays
    active, its residual shrinks by ``1 - learning_rate / 2`` per step and
    ``c_ij -> a_j y_i / d``, the coefficient of ``W*`` (one neuron per sign group,
    ``w_j = u``); the other neuron is inactive from then on and keeps
    ``learning_rate a_j y_i / (2 d)`` where ``W*`` has 0. The inputs being
    orthogonal, ``||W - W*||^2 = sum_i (learning_rate y_i / (2 d))^2 d`` and
    ``||W*||^2 = sum_i (y_i / d)^2 d``: the gap is ``learning_rate / 2``. Stopping
    at ``tol=1e-10`` leaves an error of order ``1e-10 ||W*||`` on the active
    coefficients, orthogonal to the frozen ones, which moves the gap by about
    ``1e-20 / learning_rate^2`` relative: ``rel=1e-9`` is for rounding.
    """
    X, y = make_orthogonal_regression(12, 100, random_state=7)
    assert np.all(y != 0)
    est = paper_estimator(n_neurons=2, learning_rate=learning_rate, max_iter=200000)
    assert est.fit(X, y).min_norm_gap_ == pytest.approx(learning_rate / 2, rel=1e-9)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("learning_rate", [1.5, 0.1, 0.001])
def test_stalled_instance_kills_the_neuron(seed, learning_rate):
    X, y = make_stalled_regression(n_samples=4, n_features=3, random_state=seed)
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0)
    ref = MinNormReLURegressor(n_neurons=1).fit(X, y)
    assert ref.interpolates_
    with pytest.warns(UserWarning, match="inactive for every neuron that could fit them"):
        gd = paper_estimator(n_neurons=1, learning_rate=learning_rate).fit(X, y)
    assert not gd.activation_pattern_.any()
    assert gd.n_iter_ == 1
    # One step from W = 0 (g = 1 everywhere, r = -y): W_1 = eta / n X^T y, which the
    # generator makes negative on every example, so the gradient then vanishes.
    n = len(y)
    W1 = _reference.step_size(X, np.ones(1), learning_rate) / n * (y @ X)
    np.testing.assert_allclose(gd.hidden_weights_[0], W1, rtol=1e-12)
    W_star = ref.hidden_weights_
    expected_gap = np.linalg.norm(W1 - W_star) / np.linalg.norm(W_star)
    assert gd.min_norm_gap_ == pytest.approx(expected_gap, rel=1e-9)
    # Dead neuron: f = 0, loss mean(y^2) / 2 = 1/2. W* fits x_+ and leaves the n - 1
    # labels -1 at f = 0: loss (n - 1) / (2 n). GD stops 1 / (2 n) above the minimum.
    assert gd.loss_curve_[-1] == pytest.approx(0.5, rel=1e-12)
    assert 0.5 * np.mean((ref.predict(X) - y) ** 2) == pytest.approx((n - 1) / (2 * n), rel=1e-9)


def test_stalled_needs_enough_pull():
    with pytest.raises(ValueError, match="outweigh"):
        make_stalled_regression(n_samples=3, angle=70)


def test_adversarial_is_a_deprecated_alias_of_stalled():
    X, y, p = make_stalled_regression(5, 4, angle=20.0, random_state=3, return_params=True)
    with pytest.warns(FutureWarning, match="renamed make_stalled_regression"):
        X2, y2, p2 = make_adversarial_regression(
            5, 4, angle=20.0, random_state=3, return_params=True
        )
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    np.testing.assert_array_equal(p["angles"], p2["angles"])


@pytest.mark.parametrize("learning_rate", [0.1, 0.01, 0.001])
def test_orthogonal_single_neuron_gap_is_proportional_to_the_step(learning_rate):
    """Single neuron on ``X X^T = d I``: ``gap = learning_rate sqrt(S- / S+)``.

    ``eta = learning_rate n / d``; the first step gives ``c_i = learning_rate y_i / d``
    and ``p_i = learning_rate y_i``. Examples with ``y_i > 0`` stay active and
    converge to ``c_i = y_i / d`` (the minimum-norm coefficient); the others are
    inactive from then on, frozen at ``learning_rate y_i / d`` where ``W*`` has 0.
    So ``||W - W*||^2 = learning_rate^2 S- / d`` and ``||W*||^2 = S+ / d`` with
    ``S+- = sum of y_i^2 over y_i > 0 (<= 0)``.
    """
    X, y = make_orthogonal_regression(12, 100, random_state=7)
    est = paper_estimator(n_neurons=1, learning_rate=learning_rate, max_iter=200000)
    expected = learning_rate * np.sqrt(np.sum(y[y <= 0] ** 2) / np.sum(y[y > 0] ** 2))
    assert est.fit(X, y).min_norm_gap_ == pytest.approx(expected, rel=1e-9)


def test_spectrum_kinds_and_normalisations():
    d = 50
    np.testing.assert_array_equal(make_spectrum(d), np.ones(d))
    # the shapes before normalisation, from their definitions
    shapes = {
        "power_law": np.arange(1, d + 1, dtype=float) ** -1.5,
        "two_level": np.r_[np.ones(4), np.full(d - 4, 0.2)],
        "spiked": np.r_[np.full(4, 8.0), np.ones(d - 4)],
    }
    kw = {"exponent": 1.5, "n_spikes": 4, "low": 0.2, "spike": 7.0}
    for kind, shape in shapes.items():
        by_trace = make_spectrum(d, kind, scale=30.0, **kw)
        np.testing.assert_allclose(by_trace, 30.0 * shape / shape.sum(), rtol=1e-14)
        by_top = make_spectrum(d, kind, normalize="top", scale=2.0, **kw)
        np.testing.assert_allclose(by_top, 2.0 * shape / shape[0], rtol=1e-14)
        np.testing.assert_allclose(make_spectrum(d, kind, **kw).sum(), d, rtol=1e-14)
        assert make_spectrum(d, kind, normalize="top", **kw)[0] == 1.0


def test_spectrum_sets_trace_and_effective_rank_independently_of_d():
    # two_level with low = 0: s equal eigenvalues and zeros, R = s exactly
    for d in (100, 10_000):
        stats = spectrum_stats(make_spectrum(d, "two_level", n_spikes=25, low=0.0, scale=40.0))
        assert stats["trace"] == pytest.approx(40.0, rel=1e-12)
        assert stats["effective_rank"] == pytest.approx(25.0, rel=1e-12)
    # spiked: R = (d + s k)^2 / (d + s (2 k + k^2)) (Notes of make_spectrum)
    d, s, k = 300, 3, 9.0
    stats = spectrum_stats(make_spectrum(d, "spiked", n_spikes=s, spike=k))
    assert stats["effective_rank"] == pytest.approx((d + s * k) ** 2 / (d + s * (2 * k + k * k)))


def test_high_dim_old_defaults_are_unchanged():
    # The generator before spectrum control: X = N(0, 1) * sqrt(lam) from the same stream.
    for spectrum, lam in [
        ("isotropic", np.ones(40)),
        ("power_law", np.arange(1, 41, dtype=float) ** -1.0),
    ]:
        lam *= 40 / lam.sum()  # as the old code did (a no-op for isotropic)
        rng = np.random.RandomState(11)
        X_old = rng.standard_normal((7, 40)) * np.sqrt(lam)
        y_old = rng.standard_normal(7)
        X, y = make_high_dim_regression(7, 40, spectrum=spectrum, random_state=11)
        np.testing.assert_array_equal(X, X_old)
        np.testing.assert_array_equal(y, y_old)


def test_high_dim_reports_spectrum_stats():
    _, _, p = make_high_dim_regression(
        5,
        200,
        spectrum="spiked",
        n_spikes=2,
        spike=4.0,
        normalize="top",
        scale=3.0,
        random_state=0,
        return_params=True,
    )
    lam = np.r_[5.0, 5.0, np.ones(198)] * 3.0 / 5.0
    np.testing.assert_allclose(p["spectrum"], lam, rtol=1e-14)
    assert p["trace"] == pytest.approx(lam.sum())
    assert p["effective_rank"] == pytest.approx(lam.sum() ** 2 / np.sum(lam**2))
    assert p["r0"] == pytest.approx(lam.sum() / 3.0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_features": 300},  # isotropic, Bartlett
        {"n_features": 300, "method": "blocks", "block_size": 64},
        {"n_features": 300, "spectrum": "power_law", "block_size": 70},
    ],
)
def test_gram_sampler_moments(kwargs):
    """``E K_ii = tr(lambda)``, ``Var K_ij = sum(lambda^2)`` (i != j), ``2 sum(lambda^2)`` (i = j).

    ``K_ij = sum_k lambda_k z_ik z_jk`` with ``z`` i.i.d. N(0, 1). Over 40 draws of a
    12 x 12 matrix: 480 diagonal entries (each with sd ``sqrt(2 S2)``, ``S2 = sum(lambda^2)``)
    and 2640 off-diagonal ones (sd ``sqrt(S2)``), independent across draws. The mean of
    the diagonal is off by sd ``sqrt(2 S2 / 480)`` (atol: 5 of them); the mean of the
    squared off-diagonal entries estimates ``S2`` with relative sd about
    ``sqrt(2 / 2640) * 1.1`` (entries in a row are dependent through ``z_i``; the
    fourth moment of ``K_ij`` is ``3 S2^2 + 6 S4`` with ``S4 <= S2^2 / 4`` here,
    kept under 0.035 by the 1.2 below), so rtol=0.15 is more than 4 sd; the
    diagonal variance likewise, from 480 values (rel. sd about ``sqrt(2 / 480)``
    times 1.2, 0.077): rtol=0.35.
    """
    n, draws = 12, 40
    lam = None
    diag, off = [], []
    for seed in range(draws):
        K, _, p = make_gram_regression(n, random_state=seed, return_params=True, **kwargs)
        lam = p["spectrum"]
        np.testing.assert_allclose(K, K.T, rtol=1e-12)
        diag.append(np.diag(K))
        off.append(K[np.triu_indices(n, 1)])
    diag, off = np.concatenate(diag), np.concatenate(off)
    S1, S2 = lam.sum(), np.sum(lam**2)
    assert abs(diag.mean() - S1) < 5 * np.sqrt(2 * S2 / diag.size)
    assert abs(off.mean()) < 5 * np.sqrt(S2 / off.size) * 2
    np.testing.assert_allclose(np.mean(off**2), S2, rtol=0.15)
    np.testing.assert_allclose(np.var(diag), 2 * S2, rtol=0.35)


def test_gram_sampler_memory_does_not_scale_with_d():
    """d = 10**6, n = 50: X would take n d 8 = 400 MB; the sampler holds blocks only."""
    import tracemalloc

    from threadpoolctl import threadpool_limits

    n, d = 50, 10**6
    tracemalloc.start()
    # one BLAS thread: numpy may load before conftest pins it, and two threads on
    # 50 x 4096 products thrash on a loaded 2-core machine (20 s instead of 1 s)
    try:
        with threadpool_limits(1):
            K, y = make_gram_regression(
                n, d, spectrum="two_level", n_spikes=1000, low=0.5, random_state=0
            )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # the d eigenvalues (8 MB, and one temporary of their size) plus n x 4096 blocks
    assert peak < 4 * 8 * d
    assert peak < n * d * 8 / 10
    assert K.shape == (n, n) and y.shape == (n,)
    assert np.trace(K) / n == pytest.approx(d, rel=0.01)  # sd sqrt(2 S2 / n) / d ~ 3e-4


def test_gram_sampler_validation():
    with pytest.raises(ValueError, match="bartlett"):
        make_gram_regression(5, 50, spectrum="power_law", method="bartlett")
    with pytest.raises(ValueError, match="bartlett"):
        make_gram_regression(5, 3, method="bartlett")
    with pytest.raises(ValueError, match="labels"):
        make_gram_regression(5, 50, labels="teacher")
    K, _, p = make_gram_regression(5, 3, return_params=True, random_state=0)
    assert p["method"] == "blocks" and np.linalg.matrix_rank(K) == 3


@pytest.mark.parametrize("init", ["zero", "random"])
def test_frozen_instance_reaches_a_global_minimum_that_is_not_min_norm(init):
    """The gap tends to the gradient-flow limit's (about 0.17), not to 0, as the step shrinks.

    The flow limit comes from the two-phase closed form in the generator (linear
    flow with every example active until ``<w, x_2>`` hits 0, then on examples 1
    and 3 with ``c_2`` frozen), not from gradient descent; its distance to the
    iterates is ``O(learning_rate)`` (first-order accuracy of the explicit step)
    plus, for ``init='random'``, ``O(init_scale)``.
    """
    X, y, p = make_frozen_regression(5, random_state=0, return_params=True)
    # init_seed 1 leaves x_1 and x_3 active at the start (seed 0 switches both off:
    # a dead neuron, another story)
    init_seed = 1
    w_star = p["min_norm_hidden_weights"]
    ref = MinNormReLURegressor(n_neurons=1).fit(X, y)
    assert ref.interpolates_
    np.testing.assert_allclose(ref.hidden_weights_[0], w_star, rtol=1e-10, atol=1e-12)
    assert p["flow_gap"] > 0.15
    scale = np.linalg.norm(w_star)
    gaps = []
    for lr in (0.1, 0.01, 0.001):
        est = paper_estimator(
            n_neurons=1,
            init=init,
            init_scale=1e-4,
            learning_rate=lr,
            max_iter=10**6,
            random_state=init_seed,
        ).fit(X, y)
        assert np.all(X[[0, 2]] @ est.init_hidden_weights_[0] >= 0)
        # a global minimum, loss 0 (from 1/3 at W = 0); stopping at tol=1e-10 on the
        # gradient leaves residuals of order 1e-10 / lambda_min(K_AA) ~ 1e-9
        assert est.loss_curve_[-1] < 1e-16
        w = est.hidden_weights_[0]
        # example 2 inactive with a frozen negative coefficient (KKT violated)
        assert X[1] @ w < -0.3 and est.dual_coef_[1, 0] < -0.1
        assert np.linalg.norm(w - p["flow_hidden_weights"]) / scale < 0.05 * lr + 1e-3
        gaps.append(est.min_norm_gap_)
    assert min(gaps) > 0.15
    assert gaps[-1] == pytest.approx(p["flow_gap"], abs=2e-3)


def test_frozen_flow_limit_is_a_global_minimum_off_min_norm():
    X, y, p = make_frozen_regression(4, angle=15.0, random_state=2, return_params=True)
    w, w_star = p["flow_hidden_weights"], p["min_norm_hidden_weights"]
    np.testing.assert_allclose(X[[0, 2]] @ w, [1.0, 1.0], rtol=1e-10)
    assert X[1] @ w < 0 and X[1] @ w_star < 0
    np.testing.assert_allclose(X[[0, 2]] @ w_star, [1.0, 1.0], rtol=1e-12)
    # w - w* is orthogonal to x_1 and x_3 (both interpolate them) and lies in the span
    d = w - w_star
    np.testing.assert_allclose(X[[0, 2]] @ d, 0.0, atol=1e-10)
    assert np.linalg.norm(d) / np.linalg.norm(w_star) == pytest.approx(p["flow_gap"])
    assert p["flow_gap"] > 0.19
