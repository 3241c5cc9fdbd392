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
