"""Small helpers shared by the whole package."""

import numpy as np


def as_rng(seed=None, rng=None):
    """Return a ``numpy.random.Generator``.

    Pass either ``rng`` (an existing Generator, used as is) or ``seed`` (an int, or ``None`` for fresh
    entropy). Every random choice in the course goes through one of these, so that a seed reproduces it.
    """
    if rng is not None:
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        return rng
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)
