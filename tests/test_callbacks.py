"""scikit-learn callbacks (sklearn.callback, scikit-learn >= 1.9) on ShallowReLURegressor.

Skipped as a whole on older scikit-learn, where the estimators have no callbacks.
"""

import warnings

import numpy as np
import pytest
from _reference import gaussian_problem, paper_estimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_relubias._callbacks import MIN_CHUNK_STEPS, N_CHUNKS


def quiet_fit(est, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kw)


callback = pytest.importorskip("sklearn.callback", reason="scikit-learn < 1.9 has no callbacks")


class StopAfter:
    """A callback asking to stop after ``k`` subtasks."""

    def __init__(self, k):
        self.k = k

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context):
        return context.max_subtasks == 0 and context.task_id + 1 >= self.k


def test_callbacks_record_scores_of_the_iterates_and_leave_weights_unchanged():
    X, y = gaussian_problem(20, 500, seed=12)
    kw = dict(learning_rate=0.02, max_iter=10000)
    monitor = callback.ScoringMonitor(scoring=["r2"])
    with_cb = quiet_fit(paper_estimator(**kw).set_callbacks(callback.ProgressBar(), monitor), X, y)
    plain = quiet_fit(paper_estimator(**kw), X, y)
    np.testing.assert_array_equal(with_cb.hidden_weights_, plain.hidden_weights_)
    assert with_cb.n_iter_ == plain.n_iter_
    rows = [r for r in monitor.get_logs().data if r["task_name"] == "gradient steps"]
    steps = max(np.ceil(kw["max_iter"] / N_CHUNKS), MIN_CHUNK_STEPS)  # chunks of equal length
    assert len(rows) == int(np.ceil(plain.n_iter_ / steps)) > 3
    for row in rows[:-1]:  # the model after (task_id + 1) chunks, refitted directly
        partial = quiet_fit(
            paper_estimator(
                learning_rate=0.02, max_iter=int(steps * (row["task_id"] + 1)), tol=0.0
            ),
            X,
            y,
        )
        assert row["r2"] == pytest.approx(partial.score(X, y), rel=1e-12)


def test_a_callback_can_stop_the_fit():
    X, y = gaussian_problem(20, 500, seed=12)
    est = quiet_fit(paper_estimator(max_iter=10000, tol=0.0).set_callbacks(StopAfter(3)), X, y)
    assert est.n_iter_ == 3 * MIN_CHUNK_STEPS


def test_progress_bar_through_pipeline_and_grid_search():
    X, y = gaussian_problem(30, 8, seed=13)
    pipe = make_pipeline(StandardScaler(), paper_estimator(max_iter=200))
    search = GridSearchCV(pipe, {"shallowreluregressor__learning_rate": [0.1, 1.0]}, cv=3)
    search.set_callbacks(callback.ProgressBar(max_propagation_depth=None))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    assert np.isfinite(search.best_score_)
