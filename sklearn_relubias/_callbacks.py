"""scikit-learn callbacks (``sklearn.callback``, scikit-learn >= 1.9), feature-detected.

With callbacks set (``est.set_callbacks(ProgressBar(), ScoringMonitor(...))``)
a fit reports to them at most ``N_CHUNKS`` times, every ``report_every``
steps: each stretch of steps is one subtask of the fit for the callbacks. The
kernel calls inside a stretch stay sized by time (the driver's chunks), so
Ctrl-C is honoured and no buffer grows with ``max_iter``; the weights are
bitwise those of a fit without callbacks. On older scikit-learn versions the estimators simply
have no ``set_callbacks``.
"""

import math

try:
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # pragma: no cover - scikit-learn < 1.9

    class CallbackSupportMixin:
        """Stand-in for scikit-learn < 1.9, which has no callbacks."""


# Reports of a fit with callbacks: at most N_CHUNKS (the progress bar moves in
# steps of 1% or more), at least MIN_CHUNK_STEPS steps apart, so that the work
# between two callback calls dwarfs the calls (benchmark case 8).
N_CHUNKS = 100
MIN_CHUNK_STEPS = 500


class ChunkReporter:
    """The driver's ``on_chunk`` hook of one fit: ``verbose`` lines and callback subtasks.

    Parameters
    ----------
    estimator : ShallowReLURegressor
        Being fitted (``n_features_in_`` already set).
    X, y : the training data as given to ``fit``, passed on to the callbacks.
    metadata : dict or None
        Passed on to the callbacks (e.g. ``sample_weight`` for ScoringMonitor).
    max_iter : int
        Steps this fit may take.
    fitted_attributes : callable
        ``fitted_attributes(progress)`` returns the fitted attributes of the
        model at that point, for callbacks that look at it (ScoringMonitor).
    """

    def __init__(self, estimator, X, y, metadata, max_iter, fitted_attributes):
        self.estimator, self.X, self.y, self.metadata = estimator, X, y, metadata
        self.fitted_attributes = fitted_attributes
        self.report_every, self.context, self.subtask = None, None, None
        if getattr(estimator, "_skl_callbacks", None):
            self.report_every = max(math.ceil(max_iter / N_CHUNKS), MIN_CHUNK_STEPS)
            self.context = estimator._init_callback_context(
                task_name="fit", max_subtasks=math.ceil(max_iter / self.report_every)
            )
            self.context.call_on_fit_task_begin(**self._data())
            self._open_subtask()

    @property
    def active(self):
        """Whether the fit needs the hook at all."""
        return bool(self.estimator.verbose) or self.context is not None

    def _data(self):
        return {"estimator": self.estimator, "X": self.X, "y": self.y, "metadata": self.metadata}

    def _open_subtask(self):
        self.subtask = self.context.subcontext(task_name="gradient steps")
        self.subtask.call_on_fit_task_begin(**self._data())

    def __call__(self, progress):
        """Report one stretch of steps; return True when a callback asks to stop."""
        if self.estimator.verbose:
            name = type(self.estimator).__name__
            print(f"[{name}] step {progress.n_iter}, loss {progress.loss:.6e}", flush=True)
        if self.context is None:
            return False
        stop = self.subtask.call_on_fit_task_end(
            **self._data(),
            reconstruction_attributes=lambda: self.fitted_attributes(progress),
        )
        if not (stop or progress.done):
            self._open_subtask()
        return stop

    def close(self):
        """End the fit task (after the fitted attributes are set)."""
        if self.context is not None:
            self.context.call_on_fit_task_end(**self._data(), reconstruction_attributes={})
