"""The learner's inputs: read-only copies, and finding the argument a function changed in place."""

from __future__ import annotations

import inspect
from typing import Any, Callable

import numpy as np

from .formatting import is_tensor, to_numpy

def read_only(*arrays: Any, dtype: Any = None) -> list[np.ndarray]:
    """Read-only copies of ``arrays`` to hand to a learner's function.

    Writing into one raises ``ValueError: assignment destination is read-only``, which a check reports
    as an in-place change (the text asks for new arrays). With ``dtype`` the numbers are converted
    (boolean masks stay boolean).
    """
    copies = []
    for array in arrays:
        array = np.array(array, copy=True)
        if dtype is not None and array.dtype != bool:
            array = array.astype(dtype)
        array.setflags(write=False)
        copies.append(array)
    return copies



def _leaves(value: Any, path: str = "") -> list[tuple[str, Any]]:
    """The arrays and tensors inside an argument (itself, or inside lists, tuples and dicts)."""
    if isinstance(value, np.ndarray) or is_tensor(value):
        return [(path, value)]
    if isinstance(value, (list, tuple)):
        return [leaf for i, item in enumerate(value) for leaf in _leaves(item, f"{path}[{i}]")]
    if isinstance(value, dict):
        return [leaf for key, item in value.items() for leaf in _leaves(item, f"{path}[{key!r}]")]
    return []


def _same(a: Any, b: Any) -> bool:
    a, b = to_numpy(a), to_numpy(b)
    return a.shape == b.shape and a.dtype == b.dtype and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))


def changed_argument(fn: Callable[..., Any], before: tuple, after: tuple, before_kw: dict,
                      after_kw: dict) -> str | None:
    """The name of the first argument whose arrays ``fn`` changed (``"w"``, ``"weights[1]"``), or None."""
    try:
        names = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        names = []
    pairs = [(names[i] if i < len(names) and not names[i].startswith("*") else f"number {i + 1}", b, a)
             for i, (b, a) in enumerate(zip(before, after))]
    pairs += [(key, before_kw[key], after_kw[key]) for key in before_kw]
    for name, old, new in pairs:
        old_leaves, new_leaves = _leaves(old, name), _leaves(new, name)
        if len(old_leaves) != len(new_leaves):  # a list the function appended to or emptied
            return name
        if not old_leaves and isinstance(old, (list, dict, set, bytearray)) and old != new:
            return name   # plain Python containers (a list of token ids) compare by value
        for (path, a), (_, b) in zip(old_leaves, new_leaves):
            if not _same(a, b):
                return path
    return None


def function_name(fn: Callable[..., Any]) -> str:
    name = getattr(fn, "__name__", "")
    return name if name and name.isidentifier() else "your function"

