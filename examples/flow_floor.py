"""The floor gradient flow leaves: its relative gap to W* against d/n (exact flow, 20 seeds).

Run: ``python examples/flow_floor.py`` (about a minute). For each d/n, 20 data
sets (seeds 4000-4019, not the tests'): Gaussian inputs, n = 20, +/-1 labels,
the paper's +/- pair from zero. The exact gradient flow
(:func:`~sklearn_relubias.experiments.gradient_flow`) gives the limit of
gradient descent as learning_rate -> 0 without extrapolation. Printed: the
median floor with a 95% bootstrap interval, how many flows end at W* (gap
below 1e-10), the number of events, and the fitted power law of the median
in d/n with a bootstrap interval. The control W = 0 has relative gap 1.
"""

import warnings

import numpy as np

from sklearn_relubias.exceptions import StrandedExampleWarning
from sklearn_relubias.experiments import gradient_flow

N, SEEDS, RATIOS = 20, range(4000, 4020), (2, 5, 10, 20, 50, 100, 200)
rng_boot = np.random.default_rng(0)


def interval(values, stat=np.median, n_boot=2000):
    boots = [stat(rng_boot.choice(values, values.size)) for _ in range(n_boot)]
    return np.percentile(boots, [2.5, 97.5])


floors = {}
print("| d/n | median floor [95% CI] | max | at W* (< 1e-10) | stranded | median events |")
print("|---|---|---|---|---|---|")
for ratio in RATIOS:
    gaps, events, stranded = [], [], 0
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        X = rng.standard_normal((N, N * ratio))
        y = rng.choice([-1.0, 1.0], N)
        with warnings.catch_warnings():  # counted in the 'stranded' column
            warnings.simplefilter("ignore", StrandedExampleWarning)
            res = gradient_flow(X, y)
        stranded += res.stranded_indices.size > 0
        gaps.append(res.min_norm_gap)
        events.append(len(res.events))
    g = floors[ratio] = np.array(gaps)
    lo, hi = interval(g)
    print(
        f"| {ratio} | {np.median(g):.2e} [{lo:.1e}, {hi:.1e}] | {g.max():.2e} | "
        f"{np.sum(g < 1e-10)}/{g.size} | {stranded}/{g.size} | {np.median(events):.0f} |"
    )

# power law of the median in d/n, over the ratios where the median is positive
use = [r for r in RATIOS if np.median(floors[r]) > 1e-10]
x = np.log([float(r) for r in use])
slopes = []
for _ in range(2000):
    med = [np.median(rng_boot.choice(floors[r], floors[r].size)) for r in use]
    if min(med) > 0:
        slopes.append(np.polyfit(x, np.log(med), 1)[0])
slope = np.polyfit(x, np.log([np.median(floors[r]) for r in use]), 1)[0]
lo, hi = np.percentile(slopes, [2.5, 97.5])
print(f"\nmedian floor ~ (d/n)^{slope:.2f} [95% CI {lo:.2f}, {hi:.2f}] over d/n in {use}")
print("control W = 0: relative gap 1 at every d/n")
