"""Memory planned before the package allocates a square matrix.

Only two kinds of object can outgrow X: the ``n x n`` Gram matrix ``K = X
X^T`` (dual gradient descent, the dual minimum-norm program) and the ``d x
d`` factor of the primal minimum-norm program. A fit estimates each stage
that builds one (:class:`MemoryPlan`) and compares the largest with
:func:`budget`, half the memory the system reports as available, once,
before allocating: the ``'auto'`` choices avoid what does not fit, and an
explicit choice that cannot fit raises
:class:`~sklearn_relubias.exceptions.InsufficientMemoryError` naming the
size and the parameter.
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
    """Bytes one fit may plan to use: half the available memory (inf if unknown)."""
    avail = available_bytes()
    return np.inf if avail is None else BUDGET_FRACTION * avail


def gram_gd_bytes(n_samples):
    """Planned peak of dual gradient descent: ``K`` and a copy for its spectrum."""
    return square_bytes(n_samples, GRAM_SQUARES)


def min_norm_bytes(n_samples, n_features):
    """Planned peak of the minimum-norm program: dual when ``n < d``, primal otherwise."""
    if n_samples < n_features:
        return square_bytes(n_samples, MIN_NORM_SQUARES)
    return square_bytes(n_features, PRIMAL_SQUARES) + PRIMAL_XS * 8 * n_samples * n_features


def size_text(nbytes):
    """``nbytes`` in GiB, MiB or KiB."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20)):
        if nbytes >= scale:
            return f"{nbytes / scale:.1f} {unit}"
    return f"{nbytes / 2**10:.1f} KiB"


class MemoryPlan:
    """The stages of one fit that allocate large objects, checked against one budget.

    A stage is what is alive at once while it runs (a shared Gram matrix is
    counted in each stage that holds it); stages run one after the other, so
    the plan's peak is the largest stage. :meth:`check` compares it with the
    budget before anything is allocated; a stage decided later (the
    ill-conditioned factor route of the minimum-norm program, chosen from the
    spectrum) is added and checked with :meth:`require`.

    Parameters
    ----------
    nbytes_available : float, default=None
        The budget; :func:`budget` when None (read once per plan).

    Attributes
    ----------
    stages : list of dict
        ``{'what', 'bytes', 'advice'}`` per stage, in the order planned.
    checks : int
        Number of comparisons with the budget so far.
    """

    def __init__(self, nbytes_available=None):
        self.budget = budget() if nbytes_available is None else nbytes_available
        self.stages = []
        self.checks = 0

    def fits(self, nbytes):
        """Whether a stage of ``nbytes`` would fit (a decision, not a check)."""
        return nbytes <= self.budget

    def add(self, what, nbytes, advice):
        """Plan a stage: ``what`` (a noun phrase) needs ``nbytes``; ``advice``: what to change."""
        self.stages.append({"what": what, "bytes": int(nbytes), "advice": advice})

    @property
    def peak(self):
        """Planned peak in bytes: the largest stage (0 when none is planned)."""
        return max((s["bytes"] for s in self.stages), default=0)

    def check(self):
        """Raise :class:`InsufficientMemoryError` if a planned stage does not fit."""
        self.checks += 1
        for stage in sorted(self.stages, key=lambda s: -s["bytes"]):
            if not self.fits(stage["bytes"]):
                raise InsufficientMemoryError(
                    f"{stage['what']} needs about {size_text(stage['bytes'])}, more than the "
                    f"{size_text(self.budget)} ({BUDGET_FRACTION:.0%} of the memory available) "
                    f"a fit may plan to use; {stage['advice']}"
                )

    def require(self, nbytes, what, advice):
        """Plan a late stage and check it before it allocates."""
        self.add(what, nbytes, advice)
        self.check()

    def summary(self):
        """Plain record for ``decisions``: peak bytes, stages and the number of checks."""
        return {
            "planned_peak_bytes": self.peak,
            "memory_stages": [(s["what"], s["bytes"]) for s in self.stages],
            "memory_checks": self.checks,
        }
