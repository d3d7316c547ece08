"""The kernel explorer of chapter 7: its feature maps, its static form (for the book), its live form."""

import ipywidgets as W
import numpy as np
import pytest
import torch

from nncourse.errors import ConfigError, ShapeError
from nncourse.widgets import PRESET_KERNELS, feature_map, kernel_explorer


def _digits(n=3):
    rng = np.random.default_rng(0)
    return rng.random((n, 28, 28)), list(range(n))


def test_feature_map_is_torch_conv2d_with_padding_1():
    image, _ = _digits(1)
    for name, kernel in PRESET_KERNELS.items():
        expected = torch.nn.functional.conv2d(torch.from_numpy(image[0])[None, None],
                                              torch.tensor(kernel, dtype=torch.float64)[None, None], padding=1)
        np.testing.assert_allclose(feature_map(image[0], kernel), expected[0, 0].numpy(), atol=1e-12, err_msg=name)
    flat = np.zeros((28, 28))
    assert np.allclose(feature_map(flat + 0.5, PRESET_KERNELS["vertical edges"])[1:-1, 1:-1], 0)   # edges only


def test_static_explorer_has_one_picture_per_kernel_and_digit():
    images, labels = _digits(3)
    box = kernel_explorer(images, labels)
    kernel_w, digit_w = box.controls
    assert isinstance(kernel_w, W.ToggleButtons) and [o[0] for o in kernel_w.options] == list(PRESET_KERNELS)
    assert len(digit_w.options) == 3
    assert len(box.stack.children) == len(PRESET_KERNELS)
    assert all(len(child.children) == 3 for child in box.stack.children)
    pictures = {child.children[j].value for child in box.stack.children for j in range(3)}
    assert len(pictures) == 3 * len(PRESET_KERNELS)          # every combination is a different picture
    assert len(box.links) == 1 + len(PRESET_KERNELS)         # jslinks: kernel -> outer, digit -> each inner


def test_live_explorer_redraws_when_a_number_or_the_preset_changes():
    images, _ = _digits(2)
    box = kernel_explorer(images, static=False)
    preset, digit = box.controls
    assert [b.value for b in box.boxes] == [0, 0, 0, 0, 1, 0, 0, 0, 0]        # identity first
    before = box.image.value
    box.boxes[3].value = -1.0
    edited = box.image.value
    assert edited != before
    preset.value = "vertical edges"
    assert [b.value for b in box.boxes] == [1, 0, -1, 2, 0, -2, 1, 0, -1]
    assert box.image.value not in (before, edited)
    digit.value = 1
    assert box.image.value != edited


def test_bad_input_is_explained():
    with pytest.raises(ShapeError, match=r"must be 3×3"):
        kernel_explorer(_digits(1)[0], kernels={"big": np.ones((5, 5))})
    with pytest.raises(ShapeError, match=r"\(n, height, width\)"):
        kernel_explorer(np.zeros(5))
    with pytest.raises(ConfigError, match="2 images but 3 labels"):
        kernel_explorer(_digits(2)[0], [1, 2, 3])
    images = np.zeros((2, 784))
    assert len(kernel_explorer(images, kernels={"id": PRESET_KERNELS["identity"]}).stack.children) == 1
