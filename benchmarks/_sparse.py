"""Case 6: both estimators on a sparse TF-IDF matrix of 20-newsgroups size."""

import warnings

from sklearn.exceptions import ConvergenceWarning

from sklearn_relubias import PAPER_MODEL, MinNormReLURegressor, ShallowReLURegressor
from sklearn_relubias.datasets import make_tfidf_regression
from sklearn_relubias.exceptions import RegionMismatchWarning

from ._common import Section, Target, measure


def tfidf_like(n, d, words_per_doc, seed=0):
    """Synthetic TF-IDF matrix with the sparsity of 20 newsgroups (the package's generator)."""
    return make_tfidf_regression(n, d, words_per_doc=words_per_doc, random_state=seed)


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
