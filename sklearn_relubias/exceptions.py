"""Warnings of the package, each its own class so that users can filter them by type."""


class StrandedExampleWarning(UserWarning):
    """Gradient descent converged with examples no neuron that could fit them is active on.

    Their gradient is zero for good, so the fit is a stationary point above the
    global minimum of the loss. The indices are in the estimator's
    ``stranded_indices_``.
    """


class DuplicateNeuronsWarning(UserWarning):
    """``init='zero'`` with more neurons than distinct output weights.

    Neurons with equal output weights receive equal updates from a zero
    start and stay identical: the extra ones are copies.
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
