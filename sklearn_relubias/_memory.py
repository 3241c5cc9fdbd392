"""Memory checked before the package allocates a square matrix.

Only two kinds of object can outgrow X: the ``n x n`` Gram matrix ``K = X
X^T`` (dual gradient descent, the dual minimum-norm program) and the ``d x
d`` factor of the primal minimum-norm program. Each is estimated before it is
built and compared with :func:`budget`, half the memory the system reports as
available: the ``'auto'`` choices avoid what does not fit, and an explicit
choice that cannot fit raises :class:`~sklearn_relubias.exceptions.InsufficientMemoryError`
naming the size and the parameter, before allocating.
"""

import os

import numpy as np

from .exceptions import InsufficientMemoryError

# Fraction of the available memory a single decision may plan to use.
BUDGET_FRACTION = 0.5

# Peak number of k x k float64 arrays alive at once, measured with benchmarks
# case 9 (extra peak RSS over the data, fresh processes): dual gradient descent
# holds K and, for its step size below n = 1000, a copy for eigvalsh (1.02 K
# measured above n = 1000: K and a sparse row block); the dual minimum-norm
# program K, a copy for its eigenvalues and free blocks (2.2 n^2 measured); the
# primal program a d x d factor, its SVD and the block being re-factored, plus
# row copies of X for its residuals, which grow with n: PRIMAL_XS copies of X
# (3.3 measured at d = 50, 8.2 for a default fit at 100,000 x 5).
GRAM_SQUARES = 2
MIN_NORM_SQUARES = 3
PRIMAL_SQUARES = 4
PRIMAL_XS = 10


def available_bytes():
    """Memory the system can give without swapping, in bytes (None if unknown)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def square_bytes(k, copies=1):
    """Bytes of ``copies`` float64 ``k x k`` arrays."""
    return copies * 8 * int(k) ** 2


def budget():
    """Bytes one decision may plan to use: half the available memory (inf if unknown)."""
    avail = available_bytes()
    return np.inf if avail is None else BUDGET_FRACTION * avail


def fits(nbytes):
    """Whether ``nbytes`` fit comfortably (within :func:`budget`)."""
    return nbytes <= budget()


def _size(nbytes):
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20)):
        if nbytes >= scale:
            return f"{nbytes / scale:.1f} {unit}"
    return f"{nbytes / 2**10:.1f} KiB"


def require(nbytes, what, advice):
    """Raise :class:`InsufficientMemoryError` before allocating ``nbytes`` that do not fit.

    Parameters
    ----------
    nbytes : int
        Planned allocation.
    what : str
        What needs it, naming the shape and the parameter that chose it.
    advice : str
        What the user can change.
    """
    if not fits(nbytes):
        raise InsufficientMemoryError(
            f"{what} needs about {_size(nbytes)}, more than the {_size(budget())} "
            f"({BUDGET_FRACTION:.0%} of the memory available) a fit may plan to use; {advice}"
        )


def use_dual(solver, n_samples, n_features, *, have_gram=False):
    """Whether gradient descent iterates in the data span (on ``K``) or on the weights.

    ``'auto'`` takes the data span when ``n_samples < n_features`` (a step
    costs ``O(n^2 m)`` instead of ``O(n d m)``) and the Gram matrix fits;
    ``'dual'`` raises if it does not.
    """
    need = 0 if have_gram else square_bytes(n_samples, GRAM_SQUARES)
    if solver == "auto":
        return n_samples < n_features and fits(need)
    if solver == "dual":
        require(
            need,
            f"solver='dual' forms the {n_samples} x {n_samples} Gram matrix X X^T, which",
            "use solver='primal' (memory O(n_samples * n_features)) or solver='auto'.",
        )
    return solver == "dual"


def min_norm_bytes(n_samples, n_features):
    """Planned peak of the minimum-norm program: dual when ``n < d``, primal otherwise."""
    if n_samples < n_features:
        return square_bytes(n_samples, MIN_NORM_SQUARES)
    return square_bytes(n_features, PRIMAL_SQUARES) + PRIMAL_XS * 8 * n_samples * n_features


def check_min_norm(n_samples, n_features, advice):
    """Raise before the minimum-norm program allocates what cannot fit."""
    if n_samples < n_features:
        what = f"its {n_samples} x {n_samples} Gram matrix and copies"
    else:
        what = f"its {n_features} x {n_features} factor and row copies of X"
    require(
        min_norm_bytes(n_samples, n_features),
        f"The minimum-norm program ({what})",
        advice,
    )
