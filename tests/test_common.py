"""scikit-learn's estimator checks, with no expected failures."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_relubias import MinNormReLURegressor, ShallowReLURegressor

# scikit-learn's checks fit on arbitrary data, where gradient descent may strand an
# example and sparse inputs have all-zero rows.
pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn_relubias.exceptions.StrandedExampleWarning"),
    pytest.mark.filterwarnings("ignore::sklearn_relubias.exceptions.UnfittableRowsWarning"),
]

ESTIMATORS = [
    ShallowReLURegressor(max_iter=300, learning_rate=1.0, tol=1e-6),
    ShallowReLURegressor(n_neurons=4, init="random", solver="primal", max_iter=300, tol=1e-6),
    MinNormReLURegressor(),
    MinNormReLURegressor(n_neurons=3, output_weights=[1.0, -2.0, 0.5]),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
