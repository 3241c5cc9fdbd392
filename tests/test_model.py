"""The model object: activations, which examples a neuron can fit, stranded and unfittable rows."""

import numpy as np
import pytest
from scipy import sparse

from sklearn_relubias._model import ACTIVATIONS, Model, resolve_output_weights


@pytest.mark.parametrize("name, slope", [("relu", 0.0), ("linear", 1.0)])
def test_activations_are_piecewise_linear_with_derivative_one_at_zero(name, slope):
    act = ACTIVATIONS[name]
    z = np.array([-2.0, -0.5, 0.0, 0.5, 3.0])
    np.testing.assert_array_equal(act.forward(z), np.where(z >= 0, z, slope * z))
    np.testing.assert_array_equal(act.derivative(z), [slope, slope, 1.0, 1.0, 1.0])
    assert act.negative_slope == slope


def test_output_weights_parsing():
    np.testing.assert_array_equal(resolve_output_weights("balanced", 3), [1.0, -1.0, 1.0])
    np.testing.assert_array_equal(resolve_output_weights("positive", 2), [1.0, 1.0])
    with pytest.raises(ValueError, match="shape"):
        resolve_output_weights([1.0, 2.0], 3)
    with pytest.raises(ValueError, match="nonzero"):
        resolve_output_weights([1.0, 0.0], 2)


def test_relu_can_fit_by_label_sign_linear_everything_nonzero():
    y = np.array([1.0, -2.0, 0.0, 0.5])
    relu = Model.from_params("relu", [1.0, -1.0, 2.0])
    expected = np.array([[1, 0, 1], [0, 1, 0], [0, 0, 0], [1, 0, 1]], dtype=bool)
    np.testing.assert_array_equal(relu.can_fit(y), expected)  # y_i a_j > 0
    linear = Model.from_params("linear", [1.0, -1.0, 2.0])
    np.testing.assert_array_equal(linear.can_fit(y), np.outer(y != 0, [1, 1, 1]).astype(bool))


def test_stranded_examples_follow_the_definition():
    y = np.array([1.0, -1.0, 2.0])
    active = np.array([[True, False], [False, False], [False, True]])
    relu = Model.from_params("relu", "balanced", 2)
    # example 1 (y < 0) needs neuron 1 active, example 2 (y > 0) needs neuron 0
    np.testing.assert_array_equal(relu.stranded_examples(y, active), [1, 2])
    linear = Model.from_params("linear", "balanced", 2)
    assert linear.stranded_examples(y, active).size == 0  # sigma' > 0 everywhere


def test_unfittable_rows_are_zero_rows_with_a_target_some_neuron_must_fit():
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    y = np.array([1.0, 1.0, -1.0, 0.0])
    positive = Model.from_params("relu", "positive", 1)  # only y > 0 must be fitted
    np.testing.assert_array_equal(positive.unfittable_rows(X, y), [0])
    np.testing.assert_array_equal(positive.unfittable_rows(sparse.csr_matrix(X), y), [0])
    pair = Model.from_params("relu", "balanced", 2)
    np.testing.assert_array_equal(pair.unfittable_rows(X, y), [0, 2])
    np.testing.assert_array_equal(pair.unfittable_rows(X, y, np.array([0, 1, 1, 1.0])), [2])
    linear = Model.from_params("linear", "positive", 1)  # any nonzero target
    np.testing.assert_array_equal(linear.unfittable_rows(X, y), [0, 2])


def test_groups_split_by_sign_with_shares():
    model = Model.from_params("relu", [2.0, -1.0, 1.0])
    groups = list(model.groups())
    assert [g[0] for g in groups] == [1.0, -1.0]
    np.testing.assert_array_equal(groups[0][1], [True, False, True])
    np.testing.assert_allclose(groups[0][2], [2.0 / 5.0, 1.0 / 5.0])
    np.testing.assert_allclose(groups[1][2], [1.0])


def test_forward_and_curvature():
    rng = np.random.default_rng(0)
    X, W = rng.standard_normal((5, 3)), rng.standard_normal((2, 3))
    for name in ACTIVATIONS:
        model = Model.from_params(name, [1.0, -3.0])
        expected = ACTIVATIONS[name].forward(X @ W[0]) - 3.0 * ACTIVATIONS[name].forward(X @ W[1])
        np.testing.assert_allclose(model.forward(X, W), expected, rtol=1e-14)
        assert model.curvature(2.0) == 20.0  # ||a||^2 lambda_max, slopes at most 1
