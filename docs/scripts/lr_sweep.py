"""Gap to the minimum-norm solution against learning_rate and d (docs, user guide).

One neuron, Gaussian inputs, n = 20, 8 seeds per row. Labels are +/-1 (first
table) or standard Gaussian (second table). "reference gap" is the distance
between the two references, the minimum-norm solution W* and the active
least-squares solution (the minimum-norm linear interpolant of the positive
labels), relative to ||W*||. "off pattern" counts the seeds whose final
activation pattern at the smallest learning_rate differs from the label signs
(y > 0); the examples concerned are listed under the table.
Run: python docs/scripts/lr_sweep.py
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from sklearn_relubias import PAPER_MODEL, MinNormReLURegressor, ShallowReLURegressor

warnings.simplefilter("error", ConvergenceWarning)  # every run must converge
n, rates, seeds = 20, (1.0, 0.1, 0.01, 0.001, 0.0001), range(8)
for labels in ("+/-1", "Gaussian"):
    notes = []
    print(f"\n{labels} labels: median gap over {len(seeds)} seeds (largest in brackets)\n")
    head = " | ".join(f"lr={lr:g}" for lr in rates)
    print(f"| d | sqrt(n/d) | reference gap | {head} | off pattern |")
    print("|---" * (4 + len(rates)) + "|")
    for d in (2000, 20000, 200000):
        gaps, ref, off = {lr: [] for lr in rates}, [], 0
        for seed in seeds:
            rng = np.random.default_rng(seed)
            X, y = rng.standard_normal((n, d)), rng.standard_normal(n)
            if labels == "+/-1":
                y = np.sign(y)
            w_star = MinNormReLURegressor(n_neurons=1).fit(X, y).hidden_weights_[0]
            pos = y > 0
            w_ls = X[pos].T @ np.linalg.solve(X[pos] @ X[pos].T, y[pos])
            ref.append(np.linalg.norm(w_ls - w_star) / np.linalg.norm(w_star))
            for lr in rates:
                est = ShallowReLURegressor(**PAPER_MODEL)  # zero start, no intercept
                est.set_params(n_neurons=1, learning_rate=lr, max_iter=1_000_000)
                gaps[lr].append(est.fit(X, y).min_norm_gap_)
            for i in np.flatnonzero(est.activation_pattern_[:, 0] != pos):
                state = "active" if est.activation_pattern_[i, 0] else "inactive"
                notes.append(f"d={d:,}, seed {seed}: example {i}, y_i={y[i]:.3g}, ends {state}")
            off += not np.array_equal(est.activation_pattern_[:, 0], pos)
        cells = [f"{np.median(g):.2g} ({np.max(g):.2g})" for g in gaps.values()]
        row = [f"{d:,}", f"{np.sqrt(n / d):.3f}", f"{np.median(ref):.3f}", *cells]
        print("| " + " | ".join(row) + f" | {off}/{len(seeds)} |")
    for note in notes:
        print(f"- off pattern at lr={rates[-1]:g}: {note}")
