"""The torchvision ``transforms.v2`` twin of ``nncourse.data.augment`` (imports torch only when called).

``torchvision_augmentation(max_shift=2, max_degrees=10)`` builds a ``v2.Compose`` of one
``v2.RandomAffine``: a random rotation by an angle in ``[-max_degrees, max_degrees]`` and a random
translation by up to ``max_shift`` pixels on each axis. torchvision draws the translation uniformly in
``[-max_shift, max_shift]`` and rounds it to whole pixels, so, like ``random_shift``, it moves digits
by whole pixels; the draws come from torch's generator (``torch.manual_seed``), so the images differ
from NumPy's while the distribution of moves is nearly the same (the two end values are half as likely).
"""

import numbers

from ..errors import ConfigError

__all__ = ["torchvision_augmentation"]


def torchvision_augmentation(max_shift=2, max_degrees=0.0, *, image_size=28):
    """A ``torchvision.transforms.v2.Compose`` that shifts (and rotates) image tensors ``(..., H, W)``."""
    if isinstance(max_shift, bool) or not isinstance(max_shift, numbers.Integral) or max_shift < 0:
        raise ConfigError(f"torchvision_augmentation: max_shift must be a whole number of pixels >= 0, "
                          f"got {max_shift!r}")
    if isinstance(max_degrees, bool) or not isinstance(max_degrees, numbers.Real) or not 0 <= max_degrees <= 180:
        raise ConfigError(f"torchvision_augmentation: max_degrees must be a number in [0, 180], got "
                          f"{max_degrees!r}; digits are usually turned by at most 10-15 degrees")
    if isinstance(image_size, bool) or not isinstance(image_size, numbers.Integral) or image_size <= 2 * max_shift:
        raise ConfigError(f"torchvision_augmentation: image_size must be a whole number larger than "
                          f"2 * max_shift, got {image_size!r}")
    from torchvision.transforms import v2

    fraction = max_shift / image_size      # RandomAffine's translate is a fraction of the width / height
    return v2.Compose([v2.RandomAffine(degrees=float(max_degrees), translate=(fraction, fraction))])
