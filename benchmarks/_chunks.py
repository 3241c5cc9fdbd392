"""Case 8: the cost of running gradient descent in chunks (interrupts, callbacks).

The driver returns to Python between kernel calls so that Ctrl-C is honoured
(about every 0.2 s) and callbacks see progress (about 100 calls per fit when
callbacks are set). Each call recomputes the gradient at its first iterate,
so the weights are bitwise those of one long call; this case measures the
time that costs, side by side in one run, with one BLAS thread.
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from sklearn_relubias import PAPER_MODEL, ShallowReLURegressor
from sklearn_relubias._gd import _driver

from ._common import Section, Target, gaussian_data, measure, single_thread


class _Silent:
    """A callback that does nothing: isolates the chunking from what callbacks do."""

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context):
        pass


def _fit(X, y, max_iter, *, one_call=False, callbacks=False):
    est = ShallowReLURegressor(  # the paper's model, exactly max_iter steps (no window rule)
        **{**PAPER_MODEL, "max_iter": max_iter, "tol": 0.0, "compute_min_norm_gap": False}
    )
    if callbacks:
        est.set_callbacks(_Silent())
    first = _driver.FIRST_CHUNK
    if one_call:
        _driver.FIRST_CHUNK = max_iter  # the whole run in one kernel call
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return est.fit(X, y)
    finally:
        _driver.FIRST_CHUNK = first


def run(cfg):
    sec = Section(
        key="8_chunks",
        title="8. Chunked gradient descent: one kernel call vs the default chunks vs callbacks",
        headers=["n", "d", "steps", "variant", "kernel calls", "median [s]", "vs one call"],
    )
    for n, d in cfg["sizes"]:
        X, y = gaussian_data(n, d, seed=8)
        steps = cfg["steps"]
        variants = {
            "one call": lambda X=X, y=y, s=steps: _fit(X, y, s, one_call=True),
            "default (~0.2 s chunks)": lambda X=X, y=y, s=steps: _fit(X, y, s),
            "callbacks set (<= 100 chunks)": lambda X=X, y=y, s=steps: _fit(
                X, y, s, callbacks=True
            ),
        }
        with single_thread():
            t = measure(variants, cfg["repeats"])
        base = t["one call"].median
        weights = [t[k].result.hidden_weights_ for k in variants]
        same = all(np.array_equal(w, weights[0]) for w in weights)
        calls = {
            "one call": 1,
            "default (~0.2 s chunks)": "adaptive",
            "callbacks set (<= 100 chunks)": "<= 100",
        }
        for name in variants:
            ratio = t[name].median / base
            sec.rows.append([n, d, steps, name, calls[name], t[name].median, ratio])
        for name, goal in (
            ("default (~0.2 s chunks)", 1.02),
            ("callbacks set (<= 100 chunks)", 1.05),
        ):
            ratio = t[name].median / base
            sec.targets.append(
                Target(
                    f"{name} vs one kernel call, n={n}, d={d}",
                    f"<= {goal:g}x, same weights",
                    f"{ratio:.3f}x, weights {'bitwise equal' if same else 'DIFFER'}",
                    bool(ratio <= goal and same),
                )
            )
    sec.notes += [
        "Medians after a warm-up call, the variants interleaved round by round, one BLAS thread. "
        "The fits are the paper's model (PAPER_MODEL: 2 neurons, zero start) with tol=0 and "
        "compute_min_norm_gap=False, so every variant takes exactly 'steps' steps.",
        "Each kernel call recomputes the gradient at its first iterate (one extra direction per "
        "call); the callback is a no-op, so its row measures the chunking and the hook calls.",
    ]
    return [sec]
