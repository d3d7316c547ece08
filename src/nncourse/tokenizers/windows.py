"""Batches for a language model over one long stream of token ids (chapter 14's GPT on Shakespeare).

Names (chapter 10) are short, so a batch held whole names. A play is one long sequence, so a batch
holds windows cut out of it: ``inputs = ids[s : s + T]`` and ``targets = ids[s + 1 : s + T + 1]``, the
same window shifted by one. Both are int64 ``(batch, T)`` NumPy arrays, what ``train_gpt`` and
``evaluate_gpt`` read for either back end.
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import validation
from ..errors import ConfigError, ShapeError
from ..utils import as_rng

__all__ = ["random_windows", "consecutive_windows"]


def _stream(ids, block_size, who):
    if isinstance(block_size, bool) or not isinstance(block_size, numbers.Integral) or block_size < 1:
        raise ConfigError(f"{who}: block_size must be a positive integer, got {block_size!r}")
    ids = validation.as_array(ids, "ids", who)
    if ids.ndim != 1 or ids.dtype.kind not in "iu":
        raise ShapeError(f"{who} expects ids to be a 1-D sequence of integer token ids, got shape {ids.shape} "
                         f"and dtype {ids.dtype}: pass tok.encode(text)")
    if len(ids) < block_size + 1:
        raise ShapeError(f"{who}: the stream (ids) has {len(ids)} tokens, fewer than block_size + 1 = "
                         f"{block_size + 1}; use a longer text or a smaller block_size")
    return ids.astype(np.int64)


def random_windows(ids, batch_size, block_size, *, seed=0):
    """An endless stream of ``(inputs, targets)``: ``batch_size`` windows at random starts (seeded).

    The arguments are checked at the call, not at the first ``next()``.
    """
    ids = _stream(ids, block_size, "random_windows")
    batch_size = _batch_size(batch_size, "random_windows")
    return _random_windows(ids, batch_size, block_size, as_rng(seed))


def _batch_size(batch_size, who):
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
        raise ConfigError(f"{who}: batch_size must be a positive integer (how many windows per batch, such as "
                          f"32), got {batch_size!r}")
    return int(batch_size)


def _random_windows(ids, batch_size, block_size, rng):
    offsets = np.arange(block_size + 1)
    while True:
        starts = rng.integers(0, len(ids) - block_size, size=batch_size)
        rows = ids[starts[:, None] + offsets]             # (batch, T + 1)
        yield rows[:, :-1], rows[:, 1:]


def consecutive_windows(ids, block_size, *, batch_size=64):
    """All of the stream, once, in windows side by side (for evaluation); every token after the first
    ``block_size + 1``... is predicted exactly once. A last, shorter window is dropped.

    Returns a list of ``(inputs, targets)`` batches and the number of predicted tokens.
    """
    ids = _stream(ids, block_size, "consecutive_windows")
    batch_size = _batch_size(batch_size, "consecutive_windows")
    n_windows = (len(ids) - 1) // block_size
    rows = ids[:n_windows * block_size + 1]
    inputs = rows[:-1].reshape(n_windows, block_size)
    targets = rows[1:].reshape(n_windows, block_size)
    batches = [(inputs[s:s + batch_size], targets[s:s + batch_size]) for s in range(0, n_windows, batch_size)]
    return batches, n_windows * block_size
