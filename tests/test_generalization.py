"""Chapter 11's package pieces: the torchvision twin of the augmentation, validation splits,
augmented training sets, and dropout's parity with torch (same mask, same statistics, twins convert)."""

import re
import subprocess
import sys

import numpy as np
import pytest
import torch

from nncourse import numpy_nn as nn, torch_nn
from nncourse.data import (augmented_copies, augmented_epochs, balanced_subset,
                           torchvision_augmentation, validation_split)
from nncourse.data.augment import rotate_images, shift_images
from nncourse.errors import ConfigError, ShapeError, TargetError


def _digit_like(n=4, seed=0):
    """Images (N, 1, 28, 28) with ink only in the middle, so shifts of a few pixels lose nothing."""
    images = np.zeros((n, 1, 28, 28), dtype=np.float32)
    images[:, :, 8:20, 9:19] = np.random.default_rng(seed).random((n, 1, 12, 10), dtype=np.float32)
    return images


def _ink_centre(image):
    rows, cols = np.nonzero(image[0] > 0)
    return rows.mean(), cols.mean()


# --- the torchvision twin -------------------------------------------------------------------------

def test_torchvision_twin_keeps_shape_and_dtype():
    transform = torchvision_augmentation(max_shift=2, max_degrees=10)
    images = torch.from_numpy(_digit_like())
    torch.manual_seed(0)
    out = transform(images)
    assert out.shape == images.shape and out.dtype == torch.float32


def test_torchvision_twin_moves_the_ink_by_whole_pixels_within_max_shift():
    transform = torchvision_augmentation(max_shift=3)
    image = torch.from_numpy(_digit_like(1))
    r0, c0 = _ink_centre(image[0].numpy())
    torch.manual_seed(1)
    seen = set()
    for _ in range(30):
        out = transform(image)[0].numpy()
        r, c = _ink_centre(out)
        dy, dx = r - r0, c - c0
        assert abs(dy - round(dy)) < 1e-9 and abs(dx - round(dx)) < 1e-9     # whole pixels
        assert abs(dy) <= 3 and abs(dx) <= 3
        # and it is exactly our NumPy shift by that many pixels
        np.testing.assert_array_equal(out, shift_images(image.numpy(), int(round(dy)), int(round(dx)))[0])
        seen.add((round(dy), round(dx)))
    assert len(seen) > 5          # it really is random


def test_torchvision_affine_shift_and_rotation_equal_ours():
    from torchvision.transforms.v2 import functional as F
    images = _digit_like(2)
    moved = F.affine(torch.from_numpy(images), angle=0.0, translate=[3, -2], scale=1.0, shear=[0.0, 0.0])
    np.testing.assert_array_equal(moved.numpy(), shift_images(images, -2, 3))
    turned = F.rotate(torch.from_numpy(images), 10.0, interpolation=F.InterpolationMode.BILINEAR)
    np.testing.assert_allclose(turned.numpy(), rotate_images(images, 10.0), atol=1e-5)


def test_torchvision_twin_is_reproducible_with_a_torch_seed():
    transform = torchvision_augmentation(max_shift=2, max_degrees=10)
    images = torch.from_numpy(_digit_like())
    torch.manual_seed(7)
    first = transform(images)
    torch.manual_seed(7)
    again = transform(images)
    torch.manual_seed(8)
    other = transform(images)
    assert torch.equal(first, again) and not torch.equal(first, other)


@pytest.mark.parametrize("kwargs, words", [
    (dict(max_shift=-1), "max_shift"), (dict(max_shift=1.5), "whole number"),
    (dict(max_degrees=200), "[0, 180]"), (dict(max_shift=14), "image_size"),
])
def test_torchvision_twin_refuses_bad_settings(kwargs, words):
    with pytest.raises(ConfigError, match=words.replace("[", r"\[").replace("]", r"\]")):
        torchvision_augmentation(**kwargs)


def test_importing_nncourse_data_does_not_load_torch():
    code = "import sys, nncourse.data; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- validation split and small training sets -----------------------------------------------------

def _labelled(n=1000, classes=10, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, size=n)
    X = np.arange(n, dtype=np.float64)[:, None] * np.ones((1, 3))    # row i holds i: traceable
    return X, y


def test_validation_split_is_disjoint_complete_seeded_and_stratified():
    X, y = _labelled()
    split = validation_split(X, y, 0.2, seed=3)
    assert len(split.X_val) == 200 and len(split.X_train) == 800
    ids_train, ids_val = split.X_train[:, 0].astype(int), split.X_val[:, 0].astype(int)
    assert not set(ids_train) & set(ids_val)
    assert sorted(np.concatenate([ids_train, ids_val])) == list(range(1000))
    np.testing.assert_array_equal(split.y_val, y[ids_val])                 # labels travel with images
    counts_all, counts_val = np.bincount(y, minlength=10), np.bincount(split.y_val, minlength=10)
    assert np.all(np.abs(counts_val - 0.2 * counts_all) <= 1)              # each digit in its share
    again = validation_split(X, y, 0.2, seed=3)
    np.testing.assert_array_equal(again.X_val, split.X_val)
    other = validation_split(X, y, 0.2, seed=4)
    assert not np.array_equal(other.X_val, split.X_val)
    assert len(validation_split(X, y, 150, seed=0).y_val) == 150


@pytest.mark.parametrize("size, words", [
    (1.0, "neither a fraction"), (0, "at least one"), (1000, "at least one"), ("0.2", "fraction like 0.2"),
    (-0.1, "neither a fraction"), (True, "fraction like 0.2"),
])
def test_validation_split_refuses_bad_sizes(size, words):
    X, y = _labelled()
    with pytest.raises(ConfigError, match=words):
        validation_split(X, y, size)


def test_validation_split_refuses_mismatched_or_float_labels():
    X, y = _labelled()
    with pytest.raises(ShapeError, match="same set"):
        validation_split(X, y[:-1])
    with pytest.raises(TargetError, match="astype"):
        validation_split(X, y.astype(np.float64))
    with pytest.raises(ShapeError, match="argmax"):
        validation_split(X, np.eye(10, dtype=np.int64)[y])


def test_balanced_subset_takes_each_digit_equally():
    X, y = _labelled(2000)
    Xs, ys = balanced_subset(X, y, 500, seed=1)
    assert len(ys) == 500 and len(set(Xs[:, 0])) == 500
    assert np.all(np.bincount(ys, minlength=10) == 50)
    np.testing.assert_array_equal(ys, y[Xs[:, 0].astype(int)])
    with pytest.raises(ConfigError, match="between 1 and 2000"):
        balanced_subset(X, y, 2001)


# --- augmented training sets ------------------------------------------------------------------------

def test_augmented_copies_keeps_originals_and_adds_shifted_ones():
    images = _digit_like(5)
    rows = images.reshape(5, 784)
    y = np.arange(5)
    X_big, y_big = augmented_copies(rows, y, copies=3, max_shift=2, seed=0)
    assert X_big.shape == (20, 784) and X_big.dtype == rows.dtype
    np.testing.assert_array_equal(X_big[:5], rows)
    np.testing.assert_array_equal(y_big, np.tile(y, 4))
    np.testing.assert_allclose(X_big.sum(axis=1), np.tile(rows.sum(axis=1), 4), rtol=1e-5)  # ink kept
    assert not np.array_equal(X_big[5:10], rows)
    again, _ = augmented_copies(rows, y, copies=3, max_shift=2, seed=0)
    np.testing.assert_array_equal(again, X_big)


def test_augmented_epochs_differ_from_epoch_to_epoch():
    rows = _digit_like(6).reshape(6, 784)
    epochs = list(augmented_epochs(rows, np.arange(6), 3, max_shift=2, max_degrees=5, seed=0))
    assert len(epochs) == 3 and all(X.shape == rows.shape for X, _ in epochs)
    assert not np.array_equal(epochs[0][0], epochs[1][0])


def test_augmented_copies_refuses_bad_input():
    with pytest.raises(ConfigError, match="copies must be"):
        augmented_copies(np.zeros((2, 784)), np.zeros(2, int), copies=0)
    with pytest.raises(ShapeError, match="image_shape"):
        augmented_copies(np.zeros((2, 100)), np.zeros(2, int))


# --- dropout: parity with torch -------------------------------------------------------------------

class _MaskRNG:
    """Stands in for the layer's Generator: its "random numbers" are 1 where ``keep`` and 0 elsewhere,
    so ``random(...) >= p`` reproduces the given mask exactly (for 0 < p < 1)."""

    def __init__(self, keep):
        self.keep = keep

    def random(self, shape, dtype=np.float64):
        assert tuple(shape) == self.keep.shape
        return self.keep.astype(dtype)


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_dropout_with_torchs_mask_gives_torchs_numbers_forward_and_backward(p):
    x_np = np.random.default_rng(0).normal(size=(16, 12)) + 3.0         # no zeros in the input
    g_np = np.random.default_rng(1).normal(size=(16, 12))
    torch.manual_seed(0)
    x = torch.tensor(x_np, requires_grad=True)
    out = torch.nn.Dropout(p)(x)
    out.backward(torch.tensor(g_np))
    keep = (out.detach().numpy() != 0)

    layer = nn.Dropout(p)
    layer.rng = _MaskRNG(keep)                   # inject torch's mask
    np.testing.assert_allclose(layer(x_np), out.detach().numpy(), rtol=1e-15, atol=0)
    np.testing.assert_allclose(layer.backward(g_np), x.grad.numpy(), rtol=1e-15, atol=0)
    np.testing.assert_array_equal(layer._mask != 0, keep)


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_dropout_statistics_drop_rate_p_and_expectation_kept_in_both_back_ends(p):
    n = 200_000
    x = np.full((n // 100, 100), 2.0)
    sigma = np.sqrt(p * (1 - p) / n)                                   # std of the dropped fraction
    out_np = nn.Dropout(p, seed=0)(x)
    torch.manual_seed(0)
    out_t = torch.nn.Dropout(p)(torch.from_numpy(x)).numpy()
    for out in (out_np, out_t):
        assert abs(np.mean(out == 0) - p) < 5 * sigma
        assert set(np.unique(out)) <= {0.0, 2.0 / (1 - p)}
        # mean of 2 * keep / (1-p): std 2 * sqrt(p / (1-p) / n)
        assert abs(out.mean() - 2.0) < 5 * 2 * np.sqrt(p / (1 - p) / n)


def test_dropout_in_eval_mode_is_the_identity_in_both_back_ends():
    x = np.random.default_rng(0).normal(size=(5, 7))
    layer = nn.Dropout(0.5, seed=0).eval()
    np.testing.assert_array_equal(layer(x), x)
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), np.ones_like(x))
    twin = torch.nn.Dropout(0.5).eval()
    np.testing.assert_array_equal(twin(torch.from_numpy(x)).numpy(), x)


@pytest.mark.parametrize("training", [True, False])
def test_dropout_twins_convert_keeping_p_and_the_mode(training):
    model = nn.mlp([6, 5, 3], dropout=0.3, seed=0, dtype=np.float64)
    model.train(training)
    twin = torch_nn.from_numpy(model)
    drops = [m for m in twin.modules() if isinstance(m, torch.nn.Dropout)]
    assert drops and all(m.p == 0.3 and m.training == training for m in drops)
    assert twin.training == training
    back = nn.from_torch(twin, seed=0)
    np_drops = [m for m in back if isinstance(m, nn.Dropout)]
    assert np_drops and all(m.p == 0.3 and m.training == training for m in np_drops)
    assert back.training == training
    if not training:   # in eval mode the twins compute the same function
        x = np.random.default_rng(0).normal(size=(4, 6))
        np.testing.assert_allclose(twin(torch.from_numpy(x)).detach().numpy(), model(x), rtol=1e-12)
        np.testing.assert_allclose(back(x), model(x), rtol=1e-12)


# --- the chapter's experiment (nncourse.models.regularized) ---

@pytest.mark.parametrize("kwargs, words", [
    (dict(n_train=0), "n_train must be a whole number"),
    (dict(epochs=2.5), "epochs must be a whole number"),
    (dict(augment=-1), "augment is a number of shifted copies"),
    (dict(weight_decay=1.5), "weight_decay must be a number in [0, 1)"),
])
def test_regularized_run_refuses_bad_settings_naming_the_fix(kwargs, words):
    from nncourse.models import RegularizedRun
    with pytest.raises(ConfigError, match=re.escape(words)):
        RegularizedRun(**kwargs)


def test_train_regularized_refuses_more_digits_than_there_are():
    from nncourse.models import RegularizedRun, train_regularized
    X = np.zeros((20, 784))
    y = np.arange(20) % 10
    with pytest.raises(ConfigError, match="n_train=50 but only 20 training digits"):
        train_regularized(RegularizedRun(n_train=50), (X, y, X, y))


def test_train_regularized_is_seeded_and_early_stopping_restores_the_best_epoch():
    from nncourse.models import RegularizedRun, train_regularized
    rng = np.random.default_rng(0)
    X = rng.random((120, 784))
    y = np.arange(120) % 10
    data = (X[:80], y[:80], X[80:], y[80:])
    run = RegularizedRun(n_train=80, hidden=(8,), dropout=0.2, weight_decay=1e-3, augment=1, patience=2,
                         epochs=6)
    (m1, h1), (m2, h2) = train_regularized(run, data, seed=3), train_regularized(run, data, seed=3)
    np.testing.assert_array_equal(m1(X[80:]), m2(X[80:]))
    assert h1["val_loss"] == h2["val_loss"]
    assert run.label() == "dropout 0.2, weight decay 0.001, shifts x1, early stop (2)"
    assert RegularizedRun().label() == "no regularization"
    assert not m1.training
