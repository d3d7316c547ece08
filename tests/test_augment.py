"""Shifts and rotations of digit images (nncourse.data.augment)."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from nncourse.data.augment import random_rotation, random_shift, rotate_images, shift_images
from nncourse.errors import ConfigError, DTypeError, ShapeError


def _images(n=3, channels=True, seed=0):
    images = np.random.default_rng(seed).random((n, 1, 8, 9) if channels else (n, 8, 9)).astype(np.float32)
    return images


@given(dy=st.integers(-9, 9), dx=st.integers(-10, 10))
@settings(max_examples=60, deadline=None)
def test_a_shift_equals_a_roll_with_the_wrapped_border_cleared(dy, dx):
    images = _images()
    expected = np.roll(images, (dy, dx), axis=(-2, -1))
    if dy > 0:
        expected[..., :dy, :] = 0
    elif dy < 0:
        expected[..., dy:, :] = 0
    if dx > 0:
        expected[..., :, :dx] = 0
    elif dx < 0:
        expected[..., :, dx:] = 0
    if abs(dy) >= 8 or abs(dx) >= 9:
        expected[:] = 0
    np.testing.assert_array_equal(shift_images(images, dy, dx), expected)


def test_shifts_per_image_and_the_input_is_not_changed():
    images = _images(channels=False)
    before = images.copy()
    moved = shift_images(images, np.array([0, 1, -2]), np.array([3, 0, 0]))
    np.testing.assert_array_equal(images, before)
    np.testing.assert_array_equal(moved[0], shift_images(images[:1], 0, 3)[0])
    np.testing.assert_array_equal(moved[2], shift_images(images[2:], -2, 0)[0])
    assert moved.dtype == images.dtype and moved.shape == images.shape


@pytest.mark.parametrize("quarter_turns", [1, 2, 3])
def test_a_rotation_by_a_multiple_of_90_degrees_is_exact(quarter_turns):
    images = np.random.default_rng(1).random((2, 1, 7, 7))
    np.testing.assert_allclose(rotate_images(images, 90 * quarter_turns),
                               np.rot90(images, quarter_turns, axes=(-2, -1)), atol=1e-12)


def test_a_rotation_by_zero_is_the_identity_and_small_turns_keep_most_ink():
    images = np.zeros((1, 28, 28))
    images[0, 8:20, 12:16] = 1.0                           # a bar in the middle
    np.testing.assert_allclose(rotate_images(images, 0.0), images, atol=1e-12)
    turned = rotate_images(images, 10.0)
    assert abs(turned.sum() - images.sum()) / images.sum() < 0.02   # bilinear keeps the ink inside the frame
    assert not np.allclose(turned, images)


def test_random_augmentations_are_reproducible_and_bounded():
    images = _images(n=20)
    np.testing.assert_array_equal(random_shift(images, 2, seed=3), random_shift(images, 2, seed=3))
    assert not np.array_equal(random_shift(images, 2, seed=3), random_shift(images, 2, seed=4))
    np.testing.assert_array_equal(random_shift(images, 0, seed=0), images)
    np.testing.assert_array_equal(random_rotation(images, 0.0, seed=0), images)
    np.testing.assert_array_equal(random_rotation(images, 10, seed=5), random_rotation(images, 10, seed=5))


def test_bad_inputs_name_the_problem_and_the_fix():
    with pytest.raises(ShapeError, match=r"reshape\(-1, 1, 28, 28\)"):
        shift_images(np.zeros((4, 784)), 1, 1)
    with pytest.raises(DTypeError, match="astype"):
        shift_images(np.zeros((4, 28, 28), dtype=np.uint8), 1, 1)
    with pytest.raises(DTypeError, match="whole pixels"):
        shift_images(np.zeros((2, 28, 28)), 0.5, 0)
    with pytest.raises(ShapeError, match="one per image"):
        shift_images(np.zeros((2, 28, 28)), np.array([1, 2, 3]), 0)
    with pytest.raises(ConfigError, match="max_shift must be a whole number >= 0"):
        random_shift(np.zeros((2, 28, 28)), -1)
    with pytest.raises(ConfigError, match="6 turned by 180 is a 9"):
        random_rotation(np.zeros((2, 28, 28)), 400)
    with pytest.raises(ConfigError, match="finite"):
        rotate_images(np.zeros((1, 28, 28)), np.nan)
    with pytest.raises(DTypeError, match="NumPy array"):
        shift_images([[0.0]], 0, 0)
