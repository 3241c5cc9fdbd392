"""Warnings of the package, each its own class so that users can filter them by type."""

import contextlib
import contextvars
import os
import sys
import warnings


class StrandedExampleWarning(UserWarning):
    """Gradient descent stopped with examples no neuron that could fit them is active on.

    Their gradient is zero for good, so the fit is a stationary point above the
    global minimum of the loss. The indices are in the estimator's
    ``stranded_indices_``. Issued only when they matter: stranded examples
    fitted at least 10 times worse (mean squared residual) than the other
    examples some neuron can fit, holding at least 1% of the training loss.
    """


class DuplicateNeuronsWarning(UserWarning):
    """``init='zero'`` with more neurons than distinct output weights.

    Neurons with equal output weights receive equal updates from a zero
    start and stay identical: the extra ones are copies.
    """


class RegionMismatchWarning(UserWarning):
    """Gradient descent ended in another activation region than its minimum-norm reference.

    ``min_norm_gap_`` then measures the distance to an interpolant of another
    region, which does not shrink with the step; ``pattern_matches_reference_``
    is False and the message counts the (example, neuron) pairs that differ.
    Issued only when the gap was asked for by name
    (``compute_min_norm_gap=True``), not by the default ``'auto'``.
    """


class NumbaCacheWarning(RuntimeWarning):
    """Numba's on-disk cache was not used; the kernel was compiled in memory.

    The cache could not be read or written, or its directory is not private
    to the user (see the user guide's "Reproducibility"). Fits are
    unaffected but the next process compiles again.
    """


class InsufficientMemoryError(MemoryError):
    """A square matrix the fit needs would not fit in the memory available.

    Raised before anything is allocated, with the size, the shape and the
    parameter that chose the path (see the README's "Limits").
    """


class UnfittableRowsWarning(UserWarning):
    """The minimum-norm program has no interpolant because some rows cannot be fitted.

    An all-zero row ``x_i`` gives ``<w, x_i> = 0`` for every ``w``, so a
    positive target on it (for a neuron group that must fit it) is out of
    reach; ``interpolates_`` is then False and the indices are named in the
    message.
    """


# The categories silenced in the current thread or task. A context variable, not a
# warnings filter: warnings.catch_warnings changes process-wide state and is not
# thread-safe, so threaded sweeps could lose each other's filters.
_QUIET = contextvars.ContextVar("sklearn_relubias_quiet", default=())
_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep
_SKLEARN_BASE = os.path.join("sklearn", "base.py")


@contextlib.contextmanager
def quiet(*categories):
    """Silence the package's own warnings of these categories in this thread or task.

    Unlike :func:`warnings.catch_warnings`, which changes the process-wide
    filters, this only affects the code running in the current context
    (thread, or asyncio task), so parallel fits with the threading backend
    keep their own settings. The experiments use it for quantities they
    record instead of warning about (e.g. the number of stranded examples).

    Parameters
    ----------
    *categories : Warning subclasses
        E.g. :class:`StrandedExampleWarning`,
        :class:`sklearn.exceptions.ConvergenceWarning`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_relubias import ShallowReLURegressor
    >>> from sklearn.exceptions import ConvergenceWarning
    >>> from sklearn_relubias.exceptions import quiet
    >>> X, y = np.random.default_rng(0).standard_normal((5, 30)), np.arange(5.0)
    >>> with quiet(ConvergenceWarning):
    ...     est = ShallowReLURegressor(max_iter=3).fit(X, y)
    """
    token = _QUIET.set(_QUIET.get() + tuple(categories))
    try:
        yield
    finally:
        _QUIET.reset(token)


def warn(message, category, *, skip=()):
    """Issue a package warning unless :func:`quiet` silences it, pointing at the caller.

    The warning is attributed to the first frame outside this package (and
    outside scikit-learn's ``fit`` wrapper and the folders in ``skip``),
    i.e. the user's call.
    """
    if any(issubclass(category, c) for c in _QUIET.get()):
        return
    internal = (_PACKAGE, *skip)
    frame, level = sys._getframe(1), 2  # stacklevel 2 is the frame that called warn
    while frame is not None and (
        frame.f_code.co_filename.startswith(internal)
        or frame.f_code.co_filename.endswith(_SKLEARN_BASE)
    ):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
