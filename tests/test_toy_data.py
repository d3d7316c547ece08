"""Toy data sets: shapes, dtypes, seeds, the geometry each one promises, and argument checks."""

import numpy as np
import pytest

from nncourse.data import (
    blobs,
    circles,
    curve,
    regression_curve,
    spirals,
    to_torch,
    train_test_split,
    truth_table,
    two_moons,
    xor_blobs,
)
from nncourse.errors import ConfigError, ShapeError

CLASSIFICATION = [blobs, xor_blobs, two_moons, circles, spirals]


@pytest.mark.parametrize("name, outputs", [("and", [0, 0, 0, 1]), ("or", [0, 1, 1, 1]),
                                           ("xor", [0, 1, 1, 0]), ("nand", [1, 1, 1, 0])])
def test_truth_tables_follow_the_logic_of_their_gate(name, outputs):
    X, y = truth_table(name)
    assert X.dtype == np.float64 and y.dtype == np.int64
    assert X.shape == (4, 2) and y.shape == (4,)
    a, b = X[:, 0].astype(bool), X[:, 1].astype(bool)
    logic = {"and": a & b, "or": a | b, "xor": a ^ b, "nand": ~(a & b)}[name]
    np.testing.assert_array_equal(y, logic.astype(np.int64))
    np.testing.assert_array_equal(y, outputs)


def test_truth_table_rejects_an_unknown_gate_and_lists_the_valid_ones():
    with pytest.raises(ConfigError, match="xor"):
        truth_table("nor")


@pytest.mark.parametrize("make", CLASSIFICATION)
def test_classification_sets_have_the_documented_shapes_and_dtypes(make):
    X, y = make(101, seed=3)
    assert X.shape == (101, 2) and X.dtype == np.float64
    assert y.shape == (101,) and y.dtype == np.int64
    counts = np.bincount(y)
    assert counts.max() - counts.min() <= 1  # classes as balanced as the count allows


@pytest.mark.parametrize("make", CLASSIFICATION + [regression_curve])
def test_the_same_seed_gives_the_same_data_and_another_seed_different_data(make):
    X1, y1 = make(50, seed=7)
    X2, y2 = make(50, seed=7)
    X3, _ = make(50, seed=8)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.allclose(X1, X3)


@pytest.mark.parametrize("make", CLASSIFICATION)
def test_an_rng_argument_is_used(make):
    X1, _ = make(40, rng=np.random.default_rng(1))
    X2, _ = make(40, seed=1)
    np.testing.assert_array_equal(X1, X2)


@pytest.mark.parametrize("make", CLASSIFICATION + [regression_curve])
@pytest.mark.parametrize("bad", [0, -5, 2.5, True, "10"])
def test_bad_sample_counts_raise_config_error(make, bad):
    with pytest.raises(ConfigError, match="n_samples"):
        make(bad)


@pytest.mark.parametrize("make", CLASSIFICATION + [regression_curve])
@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf")])
def test_bad_noise_raises_config_error(make, bad):
    with pytest.raises(ConfigError, match="noise"):
        make(20, noise=bad)


def test_default_blobs_are_linearly_separable_along_the_diagonal():
    X, y = blobs(400)
    side = X.sum(axis=1) > 0  # the line x1 + x2 = 0 between the two centres
    np.testing.assert_array_equal(side.astype(np.int64), y == 0)


def test_xor_blobs_label_is_the_xor_of_the_signs_of_the_cluster_centres():
    X, y = xor_blobs(400, noise=0.1)
    np.testing.assert_array_equal(y, ((X[:, 0] > 0) ^ (X[:, 1] > 0)).astype(np.int64))


def test_circles_put_class_0_on_the_outer_ring_and_class_1_on_the_inner_one():
    X, y = circles(300, noise=0.0, factor=0.4)
    radius = np.linalg.norm(X, axis=1)
    np.testing.assert_allclose(radius[y == 0], 1.0)
    np.testing.assert_allclose(radius[y == 1], 0.4)
    with pytest.raises(ConfigError, match="factor"):
        circles(10, factor=1.5)


def test_noise_free_moons_lie_on_their_half_circles():
    X, y = two_moons(200, noise=0.0)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.linalg.norm(upper, axis=1), 1.0)
    assert np.all(upper[:, 1] >= -1e-12)
    np.testing.assert_allclose(np.linalg.norm(lower - [1.0, 0.5], axis=1), 1.0)
    assert np.all(lower[:, 1] <= 0.5 + 1e-12)


def test_spiral_arms_follow_their_angle_formula_without_noise():
    X, y = spirals(90, n_classes=3, turns=1.0, noise=0.0)
    assert set(np.unique(y)) == {0, 1, 2}
    r = np.linalg.norm(X, axis=1)
    expected_angle = 2 * np.pi * (r + y / 3)
    difference = np.angle(np.exp(1j * (np.arctan2(X[:, 1], X[:, 0]) - expected_angle)))
    np.testing.assert_allclose(difference, 0.0, atol=1e-9)


def test_regression_curve_is_sorted_and_follows_the_curve():
    X, y = regression_curve(60, noise=0.0, x_range=(-2, 2))
    assert X.shape == (60, 1) and y.shape == (60, 1) and y.dtype == np.float64
    assert np.all(np.diff(X[:, 0]) >= 0)
    assert X.min() >= -2 and X.max() <= 2
    np.testing.assert_allclose(y, curve(X))
    noisy_X, noisy_y = regression_curve(500, noise=0.2, seed=1)
    assert 0.15 < np.std(noisy_y - curve(noisy_X)) < 0.25


def test_train_test_split_partitions_the_samples_reproducibly():
    X = np.arange(40, dtype=np.float64).reshape(20, 2)
    y = np.arange(20)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_fraction=0.25, seed=4)
    assert len(X_test) == 5 and len(X_train) == 15
    np.testing.assert_array_equal(X_train[:, 0] / 2, y_train)  # rows stay paired with their labels
    np.testing.assert_array_equal(X_test[:, 0] / 2, y_test)
    assert sorted(np.concatenate([y_train, y_test]).tolist()) == list(range(20))
    again = train_test_split(X, y, test_fraction=0.25, seed=4)
    np.testing.assert_array_equal(again[3], y_test)
    other = train_test_split(X, y, test_fraction=0.25, seed=5)
    assert not np.array_equal(other[3], y_test)


@pytest.mark.parametrize("fraction", [0, 1, -0.5, 1.5])
def test_train_test_split_rejects_impossible_fractions(fraction):
    with pytest.raises(ConfigError, match="test_fraction"):
        train_test_split(np.zeros((10, 2)), np.zeros(10), test_fraction=fraction)


def test_train_test_split_rejects_mismatched_lengths():
    with pytest.raises(ShapeError, match="same number"):
        train_test_split(np.zeros((10, 2)), np.zeros(9))


def test_to_torch_converts_floats_to_float32_and_integers_to_int64():
    torch = pytest.importorskip("torch")
    X, y = xor_blobs(16)
    X_t, y_t = to_torch(X, y)
    assert X_t.dtype == torch.float32 and y_t.dtype == torch.int64
    np.testing.assert_allclose(X_t.numpy(), X.astype(np.float32))
    np.testing.assert_array_equal(y_t.numpy(), y)
    X64 = to_torch(X, dtype=torch.float64)
    assert isinstance(X64, torch.Tensor) and X64.dtype == torch.float64
    np.testing.assert_array_equal(X64.numpy(), X)
    assert to_torch(X, dtype=np.float64).dtype == torch.float64
    X_t[0, 0] = 123.0  # a copy: the NumPy data is untouched
    assert X[0, 0] != 123.0
    with pytest.raises(ConfigError, match="dtype"):
        to_torch(X, dtype="int32")
