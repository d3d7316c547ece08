"""Augmented training sets for the one training loop (``nncourse.train.fit``) without changing it.

``fit`` trains on the arrays it is given, so augmentation happens *before* the call, in one of two ways:

- ``augmented_copies(X, y, copies=3)``: the training set followed by ``copies`` randomly shifted (and
  optionally rotated) versions of it, made once. ``fit`` shuffles them together, so every epoch shows
  each digit in ``copies + 1`` positions. Cheap and reproducible; the chapter uses it.
- ``augmented_epochs(X, y, epochs)``: a generator of freshly augmented ``(X, y)``, one per epoch, for
  a loop that calls ``fit(..., epochs=1)`` once per epoch (new random shifts every epoch).

Both accept rows of pixels ``(N, H*W)`` (as ``load_mnist`` returns them) or images ``(N, H, W)`` /
``(N, C, H, W)``, and return the same layout and dtype. The shifts are drawn by
``nncourse.data.augment.random_shift``, the rotations by ``random_rotation``.
"""

import numbers

import numpy as np

from ..errors import ConfigError, ShapeError, TargetError
from ..utils import as_rng
from ..validation import as_array, non_negative_int
from .augment import _check_images, random_rotation, random_shift

__all__ = ["augment_batch", "augmented_copies", "augmented_epochs"]


def _image_shape(image_shape, who):
    """``image_shape`` as a pair of whole numbers >= 1, ``(height, width)``."""
    try:
        height, width = image_shape
    except (TypeError, ValueError):
        height = width = None
    if isinstance(image_shape, str) or any(isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1
                                           for v in (height, width)):
        raise ConfigError(f"{who}: image_shape must be a pair (height, width) of whole numbers, such as (28, 28), "
                          f"got {image_shape!r}")
    return int(height), int(width)


def _as_images(X, image_shape, who):
    if not isinstance(X, np.ndarray):
        raise ShapeError(f"{who}: X must be a NumPy array (rows of pixels or images), got {type(X).__name__}; "
                         f"convert with np.asarray(X, dtype=np.float32)")
    if X.ndim not in (2, 3, 4):
        raise ShapeError(f"{who}: X must be rows of pixels (N, H*W) or images (N, H, W) / (N, C, H, W), got "
                         f"shape {X.shape}")
    if X.ndim == 2:
        height, width = _image_shape(image_shape, who)
        if X.shape[1] != height * width:
            raise ShapeError(f"{who}: rows of {X.shape[1]} pixels cannot be images of shape {image_shape}; "
                             f"pass image_shape=(height, width) with height * width = {X.shape[1]}")
        images = X.reshape(len(X), height, width)
    else:
        images = X
    return _check_images(images, who, "X")


def _labels(y, X, who):
    """``y`` after checking it holds one integer label per example of ``X``."""
    y = as_array(y, "y", who)
    if y.dtype.kind not in "iu" or y.ndim != 1:
        raise TargetError(f"{who}: y must be a 1-D array of integer class labels, got dtype {y.dtype} and shape "
                          f"{y.shape}; convert with y.astype(np.int64) (one label per example)")
    if len(X) != len(y):
        raise ShapeError(f"{who}: X has {len(X)} examples but y has {len(y)} labels; pass the images "
                         f"and the labels of the same set")
    return y


def augment_batch(X, *, max_shift=2, max_degrees=0.0, image_shape=(28, 28), rng=None, seed=None):
    """One random shift (and rotation, if ``max_degrees > 0``) per example; same layout as ``X``."""
    who = "augment_batch"
    images = _as_images(X, image_shape, who)
    max_shift = non_negative_int(max_shift, "max_shift", who)
    if 2 * max_shift >= min(images.shape[-2:]):
        raise ConfigError(f"{who}: max_shift={max_shift} is too large for images of {images.shape[-2]}x"
                          f"{images.shape[-1]} pixels (X has shape {X.shape}): a shift of half the image or more "
                          f"pushes most of the digit out of the frame (some images would come back blank); check X's "
                          f"layout (rows (N, H*W) with image_shape, or images (N, H, W)), or use max_shift < "
                          f"{min(images.shape[-2:]) / 2:g}")
    generator = as_rng(seed, rng)
    moved = images
    if max_degrees:
        moved = random_rotation(moved, max_degrees, rng=generator)
    moved = random_shift(moved, max_shift, rng=generator)
    return moved.reshape(X.shape)


def augmented_copies(X, y, copies=3, *, max_shift=2, max_degrees=0.0, image_shape=(28, 28), seed=0):
    """``(X_big, y_big)``: the originals then ``copies`` augmented versions of every example."""
    if isinstance(copies, bool) or not isinstance(copies, numbers.Integral) or copies < 1:
        raise ConfigError(f"augmented_copies: copies must be a whole number >= 1 (how many moved versions "
                          f"of each digit to add), got {copies!r}")
    _as_images(X, image_shape, "augmented_copies")
    y = _labels(y, X, "augmented_copies")
    generator = as_rng(seed)
    parts = [X] + [augment_batch(X, max_shift=max_shift, max_degrees=max_degrees, image_shape=image_shape,
                                 rng=generator) for _ in range(copies)]
    return np.concatenate(parts), np.concatenate([y] * (copies + 1))


def augmented_epochs(X, y, epochs, *, max_shift=2, max_degrees=0.0, image_shape=(28, 28), seed=0):
    """Yield ``epochs`` pairs ``(X_moved, y)``, each with new random shifts (seeded as a whole)."""
    if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral) or epochs < 1:
        raise ConfigError(f"augmented_epochs: epochs must be a whole number >= 1, got {epochs!r}")
    _as_images(X, image_shape, "augmented_epochs")
    y = _labels(y, X, "augmented_epochs")
    augment_batch(X[:1], max_shift=max_shift, max_degrees=max_degrees, image_shape=image_shape,
                  rng=np.random.default_rng(0))      # checks the settings now, not at the first next()
    return _epochs(X, y, int(epochs), max_shift, max_degrees, image_shape, as_rng(seed))


def _epochs(X, y, epochs, max_shift, max_degrees, image_shape, generator):
    for _ in range(epochs):
        yield augment_batch(X, max_shift=max_shift, max_degrees=max_degrees, image_shape=image_shape,
                            rng=generator), y
