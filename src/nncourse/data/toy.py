"""Small two-dimensional data sets made in code, so every chapter can start without a download.

Every generator returns ``X`` as float64 ``(n, 2)`` and ``y`` as int64 ``(n,)`` (class labels), except
``regression_curve``, whose targets are floats ``(n, 1)``. The samples are shuffled, and the same
``seed`` always gives the same arrays, for the NumPy and the PyTorch back end alike (use
``to_torch`` to hand them to PyTorch).
"""

import numbers

import numpy as np

from ..errors import ConfigError, ShapeError
from ..utils import as_rng
from ..validation import as_array, finite, finite_number, positive_float

__all__ = [
    "TRUTH_TABLES",
    "truth_table",
    "blobs",
    "xor_blobs",
    "two_moons",
    "circles",
    "spirals",
    "regression_curve",
    "curve",
    "train_test_split",
    "to_torch",
]

# The four logic gates of the perceptron chapter: inputs (x1, x2) in the order 00, 01, 10, 11.
TRUTH_TABLES = {
    "and": (0, 0, 0, 1),
    "or": (0, 1, 1, 1),
    "xor": (0, 1, 1, 0),
    "nand": (1, 1, 1, 0),
}


# --------------------------------------------------------------------------------------------------
# Argument checks shared by the generators
# --------------------------------------------------------------------------------------------------


def _check_n_samples(n_samples, minimum=1, why=""):
    if isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral):
        raise ConfigError(f"n_samples must be a positive integer, got {n_samples!r}")
    if n_samples < minimum:
        extra = f" ({why})" if why else ""
        raise ConfigError(f"n_samples must be at least {minimum}{extra}, got {n_samples}")
    return int(n_samples)


def _check_n_classes(n_classes):
    if isinstance(n_classes, bool) or not isinstance(n_classes, numbers.Integral) or n_classes < 1:
        raise ConfigError(f"n_classes must be a positive integer, got {n_classes!r}")
    return int(n_classes)


def _check_noise(noise):
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real) or not np.isfinite(noise) or noise < 0:
        raise ConfigError(
            f"noise is the standard deviation of the Gaussian noise and must be a finite number >= 0, "
            f"got {noise!r}"
        )
    return float(noise)


def _split_evenly(n_samples, n_groups):
    """How many samples each group gets: as equal as possible, the first groups get the remainder."""
    base, extra = divmod(n_samples, n_groups)
    return [base + (1 if group < extra else 0) for group in range(n_groups)]


def _shuffled(X, y, rng):
    order = rng.permutation(len(X))
    return X[order], y[order]


# --------------------------------------------------------------------------------------------------
# Classification data
# --------------------------------------------------------------------------------------------------


def truth_table(name):
    """The truth table of a logic gate: ``X`` is the four inputs (0/1 pairs), ``y`` the gate's output.

    ``name`` is one of ``"and"``, ``"or"``, ``"xor"``, ``"nand"`` (any case). XOR is the one that no
    single perceptron can learn: no straight line separates its 1s from its 0s.
    """
    key = name.lower() if isinstance(name, str) else None
    if key not in TRUTH_TABLES:
        raise ConfigError(f"truth_table: unknown truth table {name!r}; name must be one of {sorted(TRUTH_TABLES)}, "
                          f"such as truth_table('xor')")
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    y = np.array(TRUTH_TABLES[key], dtype=np.int64)
    return X, y


def blobs(n_samples=200, *, n_classes=2, separation=4.0, noise=0.5, seed=0, rng=None):
    """Round Gaussian clusters, one per class, whose centres lie on a circle.

    The centres are ``separation / 2`` away from the origin (so with two classes they are
    ``separation`` apart, on the diagonal through the origin), and each cluster has standard deviation
    ``noise``. With the defaults the two classes are linearly separable: the perceptron's data set.
    """
    n_classes = _check_n_classes(n_classes)
    n_samples = _check_n_samples(n_samples, minimum=n_classes, why="one point per class")
    noise = _check_noise(noise)
    separation = finite_number(separation, "separation", "blobs", minimum=0)
    rng = as_rng(seed, rng)
    angles = np.pi / 4 + 2 * np.pi * np.arange(n_classes) / n_classes
    centres = (separation / 2) * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    X, y = [], []
    for label, count in enumerate(_split_evenly(n_samples, n_classes)):
        X.append(centres[label] + noise * rng.standard_normal((count, 2)))
        y.append(np.full(count, label, dtype=np.int64))
    return _shuffled(np.concatenate(X), np.concatenate(y), rng)


def xor_blobs(n_samples=200, *, noise=0.35, seed=0, rng=None):
    """Four clusters at (+-1, +-1): label 1 where exactly one coordinate is positive (XOR), else 0.

    A noisy version of the XOR truth table: one hidden layer is enough, one line is not.
    """
    n_samples = _check_n_samples(n_samples, minimum=4, why="one point per cluster")
    noise = _check_noise(noise)
    rng = as_rng(seed, rng)
    corners = np.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
    labels = np.array([0, 1, 1, 0])
    X, y = [], []
    for corner, label, count in zip(corners, labels, _split_evenly(n_samples, 4)):
        X.append(corner + noise * rng.standard_normal((count, 2)))
        y.append(np.full(count, label, dtype=np.int64))
    return _shuffled(np.concatenate(X), np.concatenate(y), rng)


def two_moons(n_samples=200, *, noise=0.1, seed=0, rng=None):
    """Two interleaving half circles: the upper one (class 0) and the lower one shifted right (class 1)."""
    n_samples = _check_n_samples(n_samples, minimum=2, why="one point per moon")
    noise = _check_noise(noise)
    rng = as_rng(seed, rng)
    n_upper, n_lower = _split_evenly(n_samples, 2)
    t_upper = rng.uniform(0, np.pi, n_upper)
    t_lower = rng.uniform(0, np.pi, n_lower)
    upper = np.stack([np.cos(t_upper), np.sin(t_upper)], axis=1)
    lower = np.stack([1 - np.cos(t_lower), 0.5 - np.sin(t_lower)], axis=1)
    X = np.concatenate([upper, lower]) + noise * rng.standard_normal((n_samples, 2))
    y = np.concatenate([np.zeros(n_upper, np.int64), np.ones(n_lower, np.int64)])
    return _shuffled(X, y, rng)


def circles(n_samples=200, *, noise=0.05, factor=0.5, seed=0, rng=None):
    """Two concentric rings: the outer one of radius 1 (class 0), the inner one of radius ``factor`` (class 1)."""
    n_samples = _check_n_samples(n_samples, minimum=2, why="one point per ring")
    noise = _check_noise(noise)
    if isinstance(factor, (bool, str)) or not isinstance(factor, numbers.Real) or not 0 < factor < 1:
        raise ConfigError(f"factor is the inner ring's radius and must lie strictly between 0 and 1, got {factor!r}")
    rng = as_rng(seed, rng)
    n_outer, n_inner = _split_evenly(n_samples, 2)
    angles = rng.uniform(0, 2 * np.pi, n_samples)
    radii = np.concatenate([np.ones(n_outer), np.full(n_inner, float(factor))])
    X = radii[:, None] * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    X = X + noise * rng.standard_normal((n_samples, 2))
    y = np.concatenate([np.zeros(n_outer, np.int64), np.ones(n_inner, np.int64)])
    return _shuffled(X, y, rng)


def spirals(n_samples=300, *, n_classes=2, turns=1.5, noise=0.05, seed=0, rng=None):
    """Arms of a spiral winding out from the origin, one arm per class, rotated evenly around the centre.

    A point at distance ``r`` (between 0 and 1) from the origin on arm ``k`` sits at the angle
    ``2 pi (turns r + k / n_classes)``; Gaussian noise of standard deviation ``noise`` is then added.
    """
    n_classes = _check_n_classes(n_classes)
    n_samples = _check_n_samples(n_samples, minimum=n_classes, why="one point per arm")
    noise = _check_noise(noise)
    turns = positive_float(turns, "turns", "spirals")
    rng = as_rng(seed, rng)
    X, y = [], []
    for label, count in enumerate(_split_evenly(n_samples, n_classes)):
        r = rng.uniform(0.05, 1.0, count)
        angle = 2 * np.pi * (turns * r + label / n_classes)
        arm = r[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
        X.append(arm + noise * rng.standard_normal((count, 2)))
        y.append(np.full(count, label, dtype=np.int64))
    return _shuffled(np.concatenate(X), np.concatenate(y), rng)


# --------------------------------------------------------------------------------------------------
# Regression data
# --------------------------------------------------------------------------------------------------


def curve(x):
    """The smooth function behind ``regression_curve``: ``sin(1.5 x) + 0.3 x``."""
    x = finite(as_array(x, "x", "curve"), "curve", argument="x").astype(np.float64, copy=False)
    if not x.size:
        raise ShapeError("curve: x is empty; pass the points to evaluate the curve at, such as "
                         "np.linspace(-3, 3, 100)")
    return np.sin(1.5 * x) + 0.3 * x


def regression_curve(n_samples=100, *, noise=0.1, x_range=(-3.0, 3.0), seed=0, rng=None):
    """Noisy samples of ``curve(x)``: ``X`` float64 ``(n, 1)`` sorted by x, ``y`` float64 ``(n, 1)``.

    ``y = curve(x) + noise * standard normal``. The x values are sorted so the data can be drawn as a
    line; shuffle them (``fit`` does) before training.
    """
    n_samples = _check_n_samples(n_samples)
    noise = _check_noise(noise)
    try:
        low, high = (finite_number(v, "x_range", "regression_curve") for v in x_range)
    except (TypeError, ValueError):
        low = high = 0.0
    if not low < high:
        raise ConfigError(f"x_range must be (low, high) with low < high, got {x_range!r}")
    rng = as_rng(seed, rng)
    x = np.sort(rng.uniform(low, high, n_samples))
    y = curve(x) + noise * rng.standard_normal(n_samples)
    return x[:, None], y[:, None]


# --------------------------------------------------------------------------------------------------
# Splitting and converting
# --------------------------------------------------------------------------------------------------


def train_test_split(X, y, test_fraction=0.25, seed=0, *, rng=None):
    """Shuffle the samples and split them: returns ``X_train, X_test, y_train, y_test`` (scikit-learn's order).

    ``test_fraction`` of the samples (rounded, at least one and at most all but one) go to the test
    set. The split is a random permutation drawn from ``seed`` / ``rng``, so it is reproducible.
    """
    who = "train_test_split"
    X = finite(as_array(X, "X", who), who, argument="X")
    y = finite(as_array(y, "y", who), who, argument="y")
    if X.ndim == 0 or y.ndim == 0:
        raise ShapeError("train_test_split needs arrays X and y with one row per sample, got a scalar")
    if len(X) != len(y):
        raise ShapeError(f"train_test_split: X and y must have the same number of samples (rows), got {len(X)} "
                         f"and {len(y)}")
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, numbers.Real) or not 0 < test_fraction < 1:
        raise ConfigError(f"test_fraction must lie strictly between 0 and 1, got {test_fraction!r}")
    n = len(X)
    if n < 2:
        raise ConfigError(f"need at least 2 samples to make a training and a test set, got {n}")
    n_test = min(max(int(round(n * test_fraction)), 1), n - 1)
    order = as_rng(seed, rng).permutation(n)
    test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]


def to_torch(*arrays, dtype=None):
    """Turn NumPy arrays into PyTorch tensors (copies): floats -> float32, integers -> int64.

    Pass ``dtype=torch.float64`` (or ``np.float64`` / ``"float64"``) to keep float arrays in double
    precision. Booleans stay booleans. One array gives one tensor; several give a tuple, so
    ``X_t, y_t = to_torch(X, y)`` works.
    """
    import torch

    if not arrays:
        raise ConfigError("to_torch needs at least one array")
    float_dtype = _torch_float_dtype(dtype)
    tensors = []
    for index, array in enumerate(arrays):
        if isinstance(array, torch.Tensor):
            array = array.detach().cpu().numpy()
        array = np.asarray(array)
        if array.dtype == np.bool_:
            tensors.append(torch.tensor(array, dtype=torch.bool))
        elif np.issubdtype(array.dtype, np.integer):
            tensors.append(torch.tensor(array, dtype=torch.int64))
        elif np.issubdtype(array.dtype, np.floating):
            tensors.append(torch.tensor(array, dtype=float_dtype))
        else:
            raise ConfigError(f"to_torch: array {index} has dtype {array.dtype}; expected floats, integers or booleans")
    return tensors[0] if len(tensors) == 1 else tuple(tensors)


def _torch_float_dtype(dtype):
    import torch

    if dtype is None:
        return torch.float32
    if isinstance(dtype, torch.dtype):
        name = str(dtype).replace("torch.", "")
    else:
        try:
            name = np.dtype(dtype).name
        except TypeError:
            name = str(dtype)
    choices = {"float32": torch.float32, "float64": torch.float64}
    if name not in choices:
        raise ConfigError(f"to_torch: dtype must be a float type ({', '.join(choices)}), got {dtype!r}; float16 "
                          f"loses digits the course's checks rely on: pass dtype=None (float32) or torch.float64")
    return choices[name]
