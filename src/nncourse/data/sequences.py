"""Synthetic sequence tasks with a known answer, made in code from a seed (chapter 9).

``reversal_task`` draws sequences of digits and asks for them backwards: input ``[3, 1, 4, 1]``,
target ``[1, 4, 1, 3]``. The held-out sequences are guaranteed never to appear in the training set,
so 100 % exact match on them means the rule was learned, not the examples memorised.
"""

import numbers
from typing import NamedTuple

import numpy as np

from ..errors import ConfigError
from ..utils import as_rng

__all__ = ["SequenceTask", "digit_sequences", "reversal_task"]


class SequenceTask(NamedTuple):
    """Inputs and targets as int64 arrays of shape (n, length); train and test share no sequence."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def _positive_int(name, value, who="digit_sequences"):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ConfigError(f"{who}: {name} must be a positive integer (a whole number >= 1), got {value!r}")
    return int(value)


def digit_sequences(n, length=8, n_digits=10, *, seed=None, rng=None):
    """``n`` distinct sequences of ``length`` digits in ``0..n_digits-1``, int64 ``(n, length)``."""
    n, length, n_digits = (_positive_int(k, v) for k, v in (("n", n), ("length", length), ("n_digits", n_digits)))
    if n > n_digits ** length // 2:
        raise ConfigError(f"digit_sequences: asked for {n} distinct sequences but only {n_digits}**{length} = "
                          f"{n_digits ** length} exist; ask for at most half of them, or use longer sequences")
    rng = as_rng(seed, rng)
    seen, rows = set(), []
    while len(rows) < n:
        for row in rng.integers(0, n_digits, size=(n - len(rows), length)):
            key = row.tobytes()
            if key not in seen:
                seen.add(key)
                rows.append(row)
    return np.array(rows, dtype=np.int64).reshape(n, length)


def reversal_task(n_train=4000, n_test=1000, length=8, n_digits=10, *, seed=0):
    """Reverse a sequence of digits: ``y[:, i] = X[:, length - 1 - i]``.

    Returns a ``SequenceTask``; the ``n_test`` held-out sequences are disjoint from the training ones.
    """
    X = digit_sequences(_positive_int("n_train", n_train, "reversal_task")
                        + _positive_int("n_test", n_test, "reversal_task"), length, n_digits, seed=seed)
    y = X[:, ::-1].copy()
    return SequenceTask(X[:n_train], y[:n_train], X[n_train:], y[n_train:])
