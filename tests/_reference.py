"""Plain NumPy transcription of shared/design/model.md, used only as a test oracle.

Nothing here is fast or clever: each line follows the written math.
"""

import numpy as np


def gaussian_problem(n, d, seed=0):
    """Isotropic Gaussian inputs and Gaussian targets."""
    r = np.random.default_rng(seed)
    return r.standard_normal((n, d)), r.standard_normal(n)


def output_weights(kind, m):
    if kind == "positive":
        return np.ones(m)
    return np.array([1.0 if j % 2 == 0 else -1.0 for j in range(m)])


def activation(z, slope=0.0):
    """sigma(z) = z for z >= 0, slope * z otherwise (0: ReLU, 1: linear)."""
    return np.where(z >= 0, z, slope * z)


def predict(X, W, a, slope=0.0):
    return sum(a[j] * activation(X @ W[j], slope) for j in range(len(a)))


def loss(X, y, W, a, slope=0.0):
    r = predict(X, W, a, slope) - y
    return 0.5 * np.mean(r**2)


def gradient(X, y, W, a, slope=0.0):
    """dL/dw_j = 1/n sum_i r_i a_j g_ij x_i with g_ij = 1 if <w_j, x_i> >= 0, else slope."""
    n = X.shape[0]
    r = predict(X, W, a, slope) - y
    grad = np.zeros_like(W)
    for j in range(len(a)):
        g = np.where(X @ W[j] >= 0, 1.0, slope)
        grad[j] = (r * a[j] * g) @ X / n
    return grad


def step_size(X, a, learning_rate):
    n = X.shape[0]
    lam = np.linalg.eigvalsh(X.T @ X).max()
    return learning_rate * n / (np.sum(a**2) * lam)


def gd(X, y, a, W0, eta, n_steps, slope=0.0):
    """Iterates W_0..W_T and losses of plain gradient descent."""
    Ws, losses = [W0.copy()], [loss(X, y, W0, a, slope)]
    W = W0.copy()
    for _ in range(n_steps):
        W = W - eta * gradient(X, y, W, a, slope)
        Ws.append(W.copy())
        losses.append(loss(X, y, W, a, slope))
    return Ws, np.array(losses)


def patterns(X, Ws):
    """Activation patterns ``<w_j, x_i> > 0`` of each iterate, shape (T+1, n, m)."""
    return np.array([X @ W.T > 0 for W in Ws])


def relative_gap(W, W_ref):
    """||W - W_ref|| / ||W_ref||, exactly rounded (inf when W_ref = 0 or beyond float64)."""
    from decimal import Decimal, localcontext
    from fractions import Fraction

    def exact_sq(A):  # the squared Frobenius norm, exactly, as a rational
        return sum(Fraction(float(v)) ** 2 for v in np.ravel(A))

    num, den = exact_sq(W - W_ref), exact_sq(W_ref)
    if num == 0:
        return 0.0
    if den == 0:
        return np.inf
    ratio = num / den
    with localcontext() as ctx:
        ctx.prec = 60
        root = (Decimal(ratio.numerator) / Decimal(ratio.denominator)).sqrt()
    value = float(root)
    return value


def paper_estimator(**params):
    """``ShallowReLURegressor`` with the paper's model (``PAPER_MODEL``) and ``params`` on top.

    The tests of gradient descent against the transcriptions here were
    written for that model (two neurons, zero start, no intercept, run to
    ``tol``), which the estimator's defaults no longer are.
    """
    from sklearn_relubias import PAPER_MODEL, ShallowReLURegressor

    return ShallowReLURegressor(**{**PAPER_MODEL, **params})


def cvxpy_region(X, y, a, region, slope=0.0, W0=None):
    """cvxpy/Clarabel: min ||W - W0||^2 s.t. sum_j a_j c_ij <w_j, x_i> = y_i and the signs.

    ``c_ij = 1`` where ``region`` asks ``<w_j, x_i> >= 0`` and ``slope`` where
    it asks ``<= 0`` (a leaky ReLU's region program; ``slope=0`` is ReLU's);
    ``W0 = 0`` unless given.
    """
    import cvxpy as cp

    W = cp.Variable((a.shape[0], X.shape[1]))
    P = X @ W.T
    c = np.where(region, 1.0, slope)
    s = np.where(region, 1.0, -1.0)
    cons = [cp.sum(cp.multiply(c * a, P), axis=1) == y, cp.multiply(s, P) >= 0]
    tight = dict(tol_gap_abs=1e-13, tol_gap_rel=1e-13, tol_feas=1e-13, tol_ktratio=1e-10)
    W0 = np.zeros((a.shape[0], X.shape[1])) if W0 is None else W0
    cp.Problem(cp.Minimize(cp.sum_squares(W - W0)), cons).solve(solver="CLARABEL", **tight)
    return W.value


def momentum(X, y, a, W0, eta, beta, n_steps, nesterov=False, slope=0.0):
    """Heavy ball ``V <- beta V - eta grad(W)``, ``W <- W + V`` (Nesterov: grad at W + beta V)."""
    W, V = W0.copy(), np.zeros_like(W0)
    losses = [loss(X, y, W, a, slope)]
    for _ in range(n_steps):
        at = W + beta * V if nesterov else W
        V = beta * V - eta * gradient(X, y, at, a, slope)
        W = W + V
        losses.append(loss(X, y, W, a, slope))
    return W, np.array(losses)


def park_miller_order(seed, epoch, n):
    """Fisher-Yates shuffle of 0..n-1 by x <- 48271 x mod (2^31 - 1), seeded by (seed, epoch)."""
    m = 2**31 - 1
    x = (seed * 69069 + epoch * 40503 + 12345) % m
    x = x or 1
    for _ in range(4):
        x = 48271 * x % m
    order = list(range(n))
    for i in range(n - 1, 0, -1):
        x = 48271 * x % m
        j = x % (i + 1)
        order[i], order[j] = order[j], order[i]
    return order


def sgd(X, y, a, W0, eta, batch_size, n_steps, shuffle, seed, slope=0.0):
    """Mini-batch SGD: gradient descent's step restricted to the batch's terms of the mean loss."""
    n = X.shape[0]
    per_epoch = -(-n // batch_size)
    W = W0.copy()
    losses = [loss(X, y, W, a, slope)]
    for t in range(n_steps):
        epoch, k = divmod(t, per_epoch)
        order = park_miller_order(seed, epoch, n) if shuffle else list(range(n))
        batch = order[k * batch_size : (k + 1) * batch_size]
        mask = np.zeros(n)
        mask[batch] = 1.0
        r = (predict(X, W, a, slope) - y) * mask
        grad = np.zeros_like(W)
        for j in range(len(a)):
            g = np.where(X @ W[j] >= 0, 1.0, slope)
            grad[j] = (r * a[j] * g) @ X / n
        W = W - eta * grad
        losses.append(loss(X, y, W, a, slope))
    return W, np.array(losses)


def adam(X, y, a, W0, lr, beta_1, beta_2, epsilon, n_steps, slope=0.0):
    """Adam on the full-batch gradient of the mean loss, with bias corrections."""
    W, M, S = W0.copy(), np.zeros_like(W0), np.zeros_like(W0)
    losses = [loss(X, y, W, a, slope)]
    for t in range(1, n_steps + 1):
        g = gradient(X, y, W, a, slope)
        M = beta_1 * M + (1 - beta_1) * g
        S = beta_2 * S + (1 - beta_2) * g**2
        W = W - lr * (M / (1 - beta_1**t)) / (np.sqrt(S / (1 - beta_2**t)) + epsilon)
        losses.append(loss(X, y, W, a, slope))
    return W, np.array(losses)
