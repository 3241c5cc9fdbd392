import os

# Pin BLAS and Numba to one thread before they load: reproducible and no
# oversubscription on the 2-core machines CI runs on.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(var, "1")
# Lets scikit-learn's common checks run the NumPy array-API check instead of skipping it.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

# The variables above come too late when a plugin or --doctest-modules has already
# loaded NumPy's BLAS; limit its pool directly as well.
threadpool_limits(1)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def pyplot():
    """matplotlib.pyplot on the Agg backend; closes every figure afterwards."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")
