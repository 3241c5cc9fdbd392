"""Case 6: both estimators on a sparse TF-IDF matrix of 20-newsgroups size."""

import warnings

import numpy as np
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfTransformer

from sklearn_relubias import PAPER_MODEL, MinNormReLURegressor, ShallowReLURegressor
from sklearn_relubias.exceptions import RegionMismatchWarning

from ._common import Section, Target, measure


def tfidf_like(n, d, words_per_doc, seed=0):
    """Synthetic TF-IDF matrix with the sparsity of 20 newsgroups.

    Each document draws Poisson(words_per_doc) tokens from a Zipf law over a
    vocabulary of ``d`` words; counts go through scikit-learn's
    TfidfTransformer (l2-normalised rows). The target is a noisy linear
    function of a few hundred words, centred.
    """
    rng = np.random.default_rng(seed)
    lengths = rng.poisson(words_per_doc, n)
    ranks = np.arange(1, d + 1)
    p = 1.0 / ranks
    p /= p.sum()
    rows = np.repeat(np.arange(n), lengths)
    cols = rng.choice(d, size=lengths.sum(), p=p)
    counts = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, d))
    counts.sum_duplicates()
    X = TfidfTransformer().fit_transform(counts).tocsr()
    v = np.zeros(d)
    v[rng.choice(d, 300, replace=False)] = rng.standard_normal(300)
    y = X @ v + 0.01 * rng.standard_normal(n)
    return X, y - y.mean()


def run(cfg):
    """Case 6: both estimators on a 20-newsgroups-sized sparse TF-IDF problem."""
    n, d, repeats = cfg["n"], cfg["d"], cfg["repeats"]
    X, y = tfidf_like(n, d, cfg["words_per_doc"])
    dense_mb = n * d * 8 / 2**20
    sparse_mb = (X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / 2**20

    def shallow():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", RegionMismatchWarning)  # in the detail column
            params = {**PAPER_MODEL, "learning_rate": 1.0, "max_iter": cfg["max_iter"]}
            return ShallowReLURegressor(**params).fit(X, y)

    timings = measure(
        {"shallow": shallow, "min_norm": lambda: MinNormReLURegressor().fit(X, y)}, repeats
    )
    gd, mn = timings["shallow"].result, timings["min_norm"].result
    sec = Section(
        key="6_sparse",
        title=f"6. Sparse TF-IDF-like input: n={n}, d={d}, {X.nnz} non-zeros "
        f"({X.nnz / n:.0f} per row), CSR {sparse_mb:.1f} MB vs {dense_mb:.0f} MB dense",
        headers=["estimator", "warm-up call [s]", "median [s]", "repeats", "detail"],
        rows=[
            [
                "ShallowReLURegressor(**PAPER_MODEL) (m=2, lr=1)",
                timings["shallow"].first,
                timings["shallow"].median,
                repeats,
                f"{gd.decisions_['path']} path, {gd.n_iter_} steps, train R^2 "
                f"{gd.score(X, y):.4f}, min_norm_gap {gd.min_norm_gap_:.3g}, "
                f"in W*'s region: {'yes' if gd.pattern_matches_reference_ else 'no'}",
            ],
            [
                "MinNormReLURegressor (m=2)",
                timings["min_norm"].first,
                timings["min_norm"].median,
                repeats,
                f"interpolates {mn.interpolates_}, KKT {mn.kkt_residual_:.1e}, "
                f"{mn.n_iter_} active-set iterations",
            ],
        ],
        notes=[
            "X stays CSR: the Gram matrix is a sparse product, predictions and the weights "
            "W = W0 + C^T X are sparse-dense products. Times include validation, the Gram "
            "matrix, the top eigenvalue and (for ShallowReLURegressor) the min-norm reference.",
            "ShallowReLURegressor fits the paper's model (PAPER_MODEL: 2 neurons, zero start, "
            "no intercept, the gap computed) with learning_rate=1, as before the defaults "
            "changed (the default compute_min_norm_gap='auto' skips the gap above 1000 rows). "
            "Its path is solver='auto''s (decisions_['path']).",
            "No text data set ships with the installed packages; the matrix is synthetic with "
            "20-newsgroups-like size and sparsity (Zipf word frequencies, TF-IDF weighting).",
        ],
        targets=[
            Target(
                "sparse TF-IDF-sized fit (ShallowReLURegressor incl. min-norm gap)",
                "seconds",
                f"{timings['shallow'].median:.2f} s",
                bool(timings["shallow"].median < 10),
            )
        ],
    )
    return [sec]
