"""Carving a validation set out of the training digits, and small training sets.

Three splits, three jobs: the *training* set fits the weights, the *validation* set chooses between
settings (learning rate, dropout rate, weight decay, when to stop), and the *test* set is looked at
once, at the end, to report how well the chosen model does on digits nobody tuned on. The test set
must never be used to choose anything, so the validation digits come out of the training digits.

``validation_split`` draws the validation digits class by class (stratified), so both parts keep the
training set's mix of digits; ``balanced_subset`` takes a small training set with as many of each digit
as it can (500 digits: 50 of each). Both are seeded, never change their input and never reuse a digit.
"""

from collections import namedtuple
import numbers

import numpy as np

from ..errors import ConfigError, ShapeError, TargetError
from ..utils import as_rng
from ..validation import boolean, finite

__all__ = ["Split", "validation_split", "balanced_subset"]

Split = namedtuple("Split", ["X_train", "y_train", "X_val", "y_val"])


def _check_pair(X, y, who):
    if not isinstance(X, np.ndarray) or not isinstance(y, np.ndarray):
        raise ShapeError(f"{who} expects NumPy arrays X and y, got {type(X).__name__} and {type(y).__name__}")
    if X.ndim < 1 or y.ndim != 1:
        raise ShapeError(f"{who}: y must be one label per example, shaped (N,), got shape {y.shape}; "
                         f"for one-hot labels use y.argmax(axis=1)")
    if len(X) != len(y):
        raise ShapeError(f"{who}: X has {len(X)} examples but y has {len(y)} labels; "
                         f"pass the images and the labels of the same set (X_train with y_train)")
    if y.dtype.kind not in "iu":
        raise TargetError(f"{who}: y must hold integer class labels, got dtype {y.dtype}; "
                          f"convert with y.astype(np.int64)")
    if X.dtype.kind not in "biuf":
        raise ShapeError(f"{who}: X must hold numbers, got dtype {X.dtype}; pass a NumPy array of numbers")
    finite(X, who, argument="X")


def _count(size, n, who, name):
    """``size`` (a fraction in (0, 1) or a whole number of examples) as a number of examples."""
    if isinstance(size, bool) or not isinstance(size, numbers.Real):
        raise ConfigError(f"{who}: {name} must be a fraction like 0.2 or a number of examples like 1000, "
                          f"got {size!r}")
    if isinstance(size, numbers.Integral):
        count = int(size)
    elif 0 < size < 1:
        count = int(round(size * n))
    else:
        raise ConfigError(f"{who}: {name}={size!r} is neither a fraction in (0, 1) nor a whole number of "
                          f"examples; write 0.2 for a fifth, or 1000 for a thousand examples")
    if not 1 <= count < n:
        raise ConfigError(f"{who}: {name} asks for {count} of the {n} examples; it must leave at least one "
                          f"on each side (between 1 and {n - 1})")
    return count


def _stratified_order(y, rng):
    """Indices of ``y`` in an order that interleaves the classes in proportion (seeded).

    Each example gets a random position within its class, scaled to [0, 1): sorting on it deals the
    classes out evenly, so any prefix of the order holds each class in (almost) its share.
    """
    key = np.empty(len(y))
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        key[members] = (rng.permutation(len(members)) + rng.random()) / len(members)
    return np.argsort(key, kind="stable")


def validation_split(X, y, validation_size=0.2, *, seed=0, stratify=True):
    """Split the *training* data into a training part and a validation part: ``Split(X_train, y_train,
    X_val, y_val)``.

    ``validation_size`` is a fraction (0.2: a fifth) or a number of examples (1000). With
    ``stratify=True`` each digit appears in both parts in the same proportion as in ``y``. The two parts
    are disjoint and together hold every example once. Never pass the test set here: the test set is
    kept for the one final measurement.
    """
    who = "validation_split"
    _check_pair(X, y, who)
    stratify = boolean(stratify, "stratify", who)
    n_val = _count(validation_size, len(y), who, "validation_size")
    rng = as_rng(seed)
    order = _stratified_order(y, rng) if stratify else rng.permutation(len(y))
    val, train = np.sort(order[:n_val]), np.sort(order[n_val:])
    return Split(X[train], y[train], X[val], y[val])


def balanced_subset(X, y, n, *, seed=0):
    """``(X_small, y_small)``: ``n`` examples drawn without replacement, the classes as even as ``y``
    allows (500 digits: 50 of each). Used to make a small training set that overfits."""
    who = "balanced_subset"
    _check_pair(X, y, who)
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or not 1 <= n <= len(y):
        raise ConfigError(f"balanced_subset: n must be a whole number of examples between 1 and {len(y)}, "
                          f"got {n!r}")
    rng = as_rng(seed)
    labels = np.unique(y)
    pools = {label: rng.permutation(np.flatnonzero(y == label)) for label in labels}
    chosen, taken = [], {label: 0 for label in labels}
    # deal one example of each class in turn until n are chosen (classes that run out are skipped)
    while len(chosen) < n:
        for label in labels:
            if len(chosen) == n:
                break
            if taken[label] < len(pools[label]):
                chosen.append(pools[label][taken[label]])
                taken[label] += 1
    index = np.sort(np.array(chosen))
    return X[index], y[index]
