"""Formatting numbers, arrays and answers the same way everywhere (stored notebook outputs must be
reproducible), and telling apart what a learner returned (a tensor, a placeholder, a type)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

#: Arrays with more elements than this are abbreviated by :func:`fmt` to their first and last values.
ABBREVIATED_ABOVE = 12


def _scalar(x: Any) -> str:
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        x = float(x)
        if math.isnan(x):
            return "nan"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        if x == int(x) and abs(x) < 1e15:
            return f"{int(x)}.0" if abs(x) < 1e6 else f"{x:.6g}"
        return f"{x:.4g}"
    return repr(x)


def _element(x: float) -> str:
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "0"  # also for -0.0
    return f"{x:.4g}"


def _array_text(arr: np.ndarray) -> str:
    """Nested brackets on one line, 4 significant digits; long arrays are abbreviated."""
    if arr.dtype == bool:
        arr = arr.astype(int)
    if arr.size > ABBREVIATED_ABOVE:
        flat = arr.astype(np.float64).ravel()
        head = ", ".join(_element(float(v)) for v in flat[:3])
        tail = ", ".join(_element(float(v)) for v in flat[-3:])
        return f"an array of shape {arr.shape}: [{head}, ..., {tail}]"

    def nested(a: np.ndarray) -> str:
        if a.ndim == 0:
            return _element(float(a))
        return "[" + ", ".join(nested(sub) for sub in a) + "]"

    return nested(arr.astype(np.float64))



def fmt(value: Any) -> str:
    """A short, deterministic one-line text for a number, an array, or anything a learner returns."""
    if isinstance(value, np.ndarray) or is_tensor(value):
        arr = to_numpy(value)
        if arr.ndim == 0:
            return _scalar(arr.item())
        try:
            return _array_text(arr)
        except (TypeError, ValueError):
            return repr(value)[:80]
    if isinstance(value, (bool, int, float, np.generic)):
        return _scalar(value)
    if value is None:
        return "None"
    if value is Ellipsis:
        return "..."
    text = " ".join(repr(value).split())
    return text if len(text) <= 80 else text[:77] + "..."


def typed(value: Any) -> str:
    """:func:`fmt` with the type in front, for two values that print alike: ``"torch.Tensor 3"``, ``"int 3"``."""
    if is_tensor(value) or isinstance(value, np.ndarray):
        shape = tuple(value.shape)
        return f"{type_name(value)} {fmt(value)}" + (" (0-d)" if shape == () else f" of shape {shape}")
    return f"{type_name(value)} {fmt(value)}"


def is_tensor(x: Any) -> bool:
    return type(x).__module__.startswith("torch") and hasattr(x, "detach")


def to_numpy(x: Any) -> np.ndarray:
    if is_tensor(x):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def type_name(x: Any) -> str:
    t = type(x)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__name__}"


def is_placeholder(value: Any) -> bool:
    """True for the placeholders an exercise notebook starts with (``...`` or ``None``)."""
    return value is Ellipsis or value is None



def difference(got: np.ndarray, want: np.ndarray) -> str:
    """Where two arrays of one shape differ, when :func:`fmt` abbreviates them (and the abbreviations
    may read the same): ``"; first difference at [0, 2, 1]: should be 0.5, yours 0.25; largest
    difference 0.75"``. Empty for short arrays, other shapes, or arrays that do not differ."""
    if got.shape != want.shape or got.size <= ABBREVIATED_ABOVE:
        return ""
    with np.errstate(all="ignore"):
        gap = np.abs(got.astype(np.float64) - want.astype(np.float64))
    differs = ~np.isclose(got, want, rtol=1e-5, atol=1e-7, equal_nan=True)
    if not differs.any():
        return ""
    first = np.unravel_index(int(np.argmax(differs.ravel())), got.shape)
    index = "[" + ", ".join(str(int(i)) for i in first) + "]"
    largest = np.nanmax(np.where(differs, gap, 0.0)) if np.isfinite(gap[differs]).any() else float("inf")
    return (f"; first difference at {index}: should be {_element(float(want[first]))}, "
            f"yours {_element(float(got[first]))}; largest difference {_element(float(largest))}")
