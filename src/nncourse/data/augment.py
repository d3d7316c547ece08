"""Data augmentation for digit images, written in NumPy: shifts and small rotations.

A network that sees every training digit in the same place learns that place. Showing it the digits
moved by a pixel or two, or turned by a few degrees, teaches it that those changes do not change the
label. Each function takes a batch of images shaped ``(N, H, W)`` or ``(N, C, H, W)`` (floats, the
background 0) and returns a new batch of the same shape and dtype; the input is never changed.

``random_shift`` and ``random_rotation`` draw one shift or angle per image from an explicit ``rng`` or
``seed``, so an augmented epoch is reproducible. Their torchvision counterparts are
``transforms.v2.RandomAffine(degrees=0, translate=...)`` and ``transforms.v2.RandomRotation(degrees)``
(the same ideas; torchvision draws from torch's generator, so the images differ).
"""

import numpy as np

from ..errors import ConfigError, DTypeError, ShapeError
from ..utils import as_rng
from ..validation import finite, non_negative_int

__all__ = ["shift_images", "rotate_images", "random_shift", "random_rotation"]


def _check_images(images, who, name="images"):
    """``images`` after checking it is a non-empty float batch (N, H, W) or (N, C, H, W) with no NaN."""
    if not isinstance(images, np.ndarray):
        raise DTypeError(f"{who}: {name} must be a NumPy array of images, got {type(images).__name__}")
    if images.dtype.kind != "f":
        raise DTypeError(f"{who}: {name} must hold float images (background 0), got dtype {images.dtype}: "
                         f"convert with {name}.astype(np.float32)")
    if images.ndim not in (3, 4):
        hint = (" These look like flattened rows: reshape with images.reshape(-1, 1, 28, 28)"
                if images.ndim == 2 and images.shape[1] == 784 else "")
        raise ShapeError(f"{who} expects {name} shaped (N, H, W) or (N, C, H, W), got shape {images.shape}.{hint}")
    if not len(images):
        raise ShapeError(f"{who}: {name} holds no images (shape {images.shape}); pass at least one")
    finite(images, who, argument=name)
    return images


def _per_image(values, n, who, name):
    """``values`` (one number, or one per image) as an array of length ``n``."""
    values = np.asarray(values)
    if values.ndim == 0:
        return np.full(n, values)
    if values.shape != (n,):
        raise ShapeError(f"{who}: {name} must be one number or one per image ({n}), got shape {values.shape}")
    return values


def shift_images(images, dy, dx):
    """Move each image down by ``dy`` and right by ``dx`` whole pixels (negative: up, left).

    What moves out of the frame is lost, and the uncovered border is background (0). ``dy`` and ``dx``
    are integers, or integer arrays with one value per image.
    """
    images = _check_images(images, "shift_images")
    n, (height, width) = len(images), images.shape[-2:]
    dys = _per_image(dy, n, "shift_images", "dy")
    dxs = _per_image(dx, n, "shift_images", "dx")
    if dys.dtype.kind not in "iu" or dxs.dtype.kind not in "iu":
        raise DTypeError("shift_images moves whole pixels: dy and dx must be integers "
                         "(round them first: np.rint(d).astype(int)); rotate_images interpolates")
    moved = np.zeros_like(images)
    for i, (down, right) in enumerate(zip(dys.tolist(), dxs.tolist())):
        if abs(down) >= height or abs(right) >= width:
            continue   # moved out of the frame entirely: all background
        # target rows [max(down, 0), height + min(down, 0)) receive source rows shifted by -down
        moved[i, ..., max(down, 0):height + min(down, 0), max(right, 0):width + min(right, 0)] = \
            images[i, ..., max(-down, 0):height + min(-down, 0), max(-right, 0):width + min(-right, 0)]
    return moved


def rotate_images(images, degrees):
    """Turn each image by ``degrees`` counter-clockwise about its centre (bilinear interpolation).

    Each output pixel looks up where it came from: rotate its coordinates by ``-degrees`` about the
    centre, then blend the four nearest input pixels by their distances. Points that came from outside
    the frame are background (0). A multiple of 90 degrees moves pixel centres onto pixel centres, so
    it is exact (``np.rot90``).
    """
    images = _check_images(images, "rotate_images")
    n, (height, width) = len(images), images.shape[-2:]
    degrees = _per_image(degrees, n, "rotate_images", "degrees")
    if degrees.dtype.kind not in "iuf":
        raise ConfigError(f"rotate_images: degrees must be numbers (one, or one per image), got dtype {degrees.dtype}; "
                          f"write them without quotes, such as degrees=10")
    angles = np.deg2rad(degrees.astype(np.float64))
    if not np.all(np.isfinite(angles)):
        raise ConfigError("rotate_images: degrees must be finite numbers")
    rows, cols = np.meshgrid(np.arange(height, dtype=np.float64), np.arange(width, dtype=np.float64),
                             indexing="ij")
    centre_r, centre_c = (height - 1) / 2, (width - 1) / 2
    y, x = centre_r - rows, cols - centre_c              # (H, W): y points up, x to the right
    rotated = np.empty_like(images)
    for i, angle in enumerate(angles):
        cos, sin = np.cos(angle), np.sin(angle)
        # the source of each target pixel: rotate the target's (x, y) by -angle
        source_x, source_y = cos * x + sin * y, -sin * x + cos * y
        source_r, source_c = centre_r - source_y, centre_c + source_x
        rotated[i] = _bilinear(images[i], source_r, source_c)
    return rotated


def _bilinear(image, r, c):
    """Sample ``image`` (..., H, W) at fractional rows ``r`` and columns ``c`` (H, W); outside is 0."""
    height, width = image.shape[-2:]
    r0, c0 = np.floor(r).astype(int), np.floor(c).astype(int)
    fr, fc = r - r0, c - c0                                  # distances past the upper-left neighbour
    result = np.zeros(image.shape, dtype=np.float64)
    for dr, weight_r in ((0, 1 - fr), (1, fr)):
        for dc, weight_c in ((0, 1 - fc), (1, fc)):
            rr, cc = r0 + dr, c0 + dc
            inside = (rr >= 0) & (rr < height) & (cc >= 0) & (cc < width)
            values = image[..., np.clip(rr, 0, height - 1), np.clip(cc, 0, width - 1)]
            result += np.where(inside, weight_r * weight_c, 0.0) * values
    return result.astype(image.dtype)


def random_shift(images, max_shift=2, *, seed=None, rng=None):
    """Shift each image by a whole number of pixels drawn uniformly from ``[-max_shift, max_shift]`` on
    each axis (torchvision: ``RandomAffine(degrees=0, translate=(max_shift / W, max_shift / H))``)."""
    images = _check_images(images, "random_shift")
    max_shift = non_negative_int(max_shift, "max_shift", "random_shift")
    smaller = min(images.shape[-2:])
    if 2 * max_shift >= smaller:
        raise ConfigError(f"random_shift: max_shift={max_shift} is too large for images of {images.shape[-2]}x"
                          f"{images.shape[-1]} pixels: a shift of half the image or more pushes most of the digit "
                          f"out of the frame (some images would come back blank); use max_shift < {smaller / 2:g}, "
                          f"typically 1-3 pixels for 28x28 digits")
    generator = as_rng(seed, rng)
    dy = generator.integers(-max_shift, max_shift + 1, size=len(images))
    dx = generator.integers(-max_shift, max_shift + 1, size=len(images))
    return shift_images(images, dy, dx)


def random_rotation(images, max_degrees=10.0, *, seed=None, rng=None):
    """Rotate each image by an angle drawn uniformly from ``[-max_degrees, max_degrees]``
    (torchvision: ``RandomRotation(max_degrees)``)."""
    images = _check_images(images, "random_rotation")
    if isinstance(max_degrees, bool) or not isinstance(max_degrees, (int, float, np.number)) \
            or not np.isfinite(max_degrees) or not 0 <= max_degrees <= 180:
        raise ConfigError(f"random_rotation: max_degrees must be a number in [0, 180], got {max_degrees!r} "
                          f"({type(max_degrees).__name__}); digits are usually turned by at most 10-15 degrees "
                          f"(a 6 turned by 180 is a 9)")
    generator = as_rng(seed, rng)
    return rotate_images(images, generator.uniform(-max_degrees, max_degrees, size=len(images)))
