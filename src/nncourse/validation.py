"""Argument checks shared by every layer, model and helper, with messages that name the class and the fix.

Each function returns the cleaned value (an ``int``, a ``numpy.dtype``, ...) or raises a
``CourseError`` subclass. ``who`` is what the learner called, for example ``"LSTM"`` or
``"GPT.generate"``; ``name`` is the argument. They look at types and a few numbers only, so they are
cheap enough to call in every constructor; ``finite`` reads the whole array once.
"""

import numbers

import numpy as np

from .errors import ConfigError, DTypeError, NonFiniteError, ShapeError

__all__ = ["positive_int", "non_negative_int", "positive_float", "probability", "boolean",
           "float_dtype", "divisible", "finite", "finite_number", "as_array", "text"]


def _is_whole_number(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def positive_int(value, name, who):
    """``value`` as an ``int`` >= 1 (``True``, ``2.0`` and ``"3"`` are refused)."""
    if not _is_whole_number(value) or value < 1:
        raise ConfigError(f"{who}: {name} must be a whole number >= 1, got {value!r}")
    return int(value)


def non_negative_int(value, name, who):
    """``value`` as an ``int`` >= 0."""
    if not _is_whole_number(value) or value < 0:
        raise ConfigError(f"{who}: {name} must be a whole number >= 0, got {value!r}")
    return int(value)


def positive_float(value, name, who):
    """``value`` as a finite ``float`` > 0 (a learning rate, a temperature, ``eps``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value) or value <= 0:
        raise ConfigError(f"{who}: {name} must be a finite number > 0, got {value!r}")
    return float(value)


def probability(value, name, who, *, allow_one=False):
    """``value`` as a ``float`` in [0, 1) (or [0, 1] with ``allow_one``): a dropout rate, a momentum."""
    is_number = isinstance(value, numbers.Real) and not isinstance(value, bool)
    upper_ok = is_number and ((value <= 1) if allow_one else (value < 1))
    if not is_number or not (0 <= value and upper_ok):
        interval = "[0, 1]" if allow_one else "[0, 1)"
        raise ConfigError(f"{who}: {name} must be a number in {interval}, got {value!r}")
    return float(value)


def boolean(value, name, who):
    """``value`` as a ``bool``; the string ``"False"`` (which Python counts as true) is refused."""
    if value is True or value is False:    # the common case first: layers' backward calls this every step
        return value
    if not isinstance(value, (bool, np.bool_)):
        raise ConfigError(f"{who}: {name} must be True or False, got {value!r} "
                          f"({type(value).__name__}); write {name}=True or {name}=False without quotes")
    return bool(value)


def finite_number(value, name, who, *, minimum=None, maximum=None):
    """``value`` as a finite ``float`` in [``minimum``, ``maximum``] (either bound optional).

    A string such as ``"0.1"``, a bool, NaN and infinity are refused; NumPy numbers are accepted.
    """
    inside = (isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
              and bool(np.isfinite(value)) and (minimum is None or value >= minimum)
              and (maximum is None or value <= maximum))
    if not inside:
        bounds = (f" in [{minimum:g}, {maximum:g}]" if minimum is not None and maximum is not None
                  else f" >= {minimum:g}" if minimum is not None else f" <= {maximum:g}" if maximum is not None else "")
        quoted = " without quotes" if isinstance(value, str) else ""
        raise ConfigError(f"{who}: {name} must be a finite number{bounds}, got {value!r} ({type(value).__name__}); "
                          f"write {name}= followed by a number{quoted}{' in that range' if bounds else ''}")
    return float(value)


def float_dtype(dtype, who, *, name="dtype"):
    """``dtype`` as a floating-point ``numpy.dtype`` (float32 or float64)."""
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise DTypeError(f"{who}: {name} must be a NumPy float dtype such as np.float32, got {dtype!r}") from None
    if resolved not in (np.float32, np.float64):
        raise DTypeError(f"{who}: {name} must be np.float32 or np.float64, got {resolved}; "
                         f"pass dtype=np.float32 (the default) or np.float64 (for gradient checks)")
    return resolved


def divisible(width, heads, who, *, width_name="embed_dim", heads_name="num_heads"):
    """``width // heads`` after checking that ``heads`` divides ``width`` (each head gets a slice)."""
    width = positive_int(width, width_name, who)
    heads = positive_int(heads, heads_name, who)
    if width % heads:
        nearby = [h for h in range(1, width + 1) if width % h == 0 and abs(h - heads) <= max(2, heads // 2)]
        raise ConfigError(f"{who}: {width_name}={width} is not divisible by {heads_name}={heads}, so the heads "
                          f"cannot split it evenly; pick {heads_name} from {nearby} or change {width_name}")
    return width // heads


def finite(array, who, *, argument="input"):
    """``array`` unchanged, after checking it holds no NaN or infinity."""
    if not np.all(np.isfinite(array)):
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise NonFiniteError(f"{who}: the {argument} contains {bad} NaN or infinite value(s); find where they "
                             f"come from (a diverging run, a division by zero, missing data) before this call")
    return array


def as_array(value, name, who):
    """``value`` as a NumPy array of numbers (an ndarray is returned as is, at no cost).

    A ragged nested list, or anything NumPy turns into an array of objects or strings, is refused with a
    ``ShapeError``/``DTypeError`` naming ``name``, instead of NumPy's "inhomogeneous shape" traceback."""
    if isinstance(value, np.ndarray):
        array = value
    else:
        try:
            array = np.asarray(value)
        except (ValueError, TypeError):
            raise ShapeError(f"{who}: {name} must be a rectangular array of numbers, got a ragged "
                             f"{type(value).__name__} (its rows have different lengths); make every row the same "
                             f"length (pad short ones) or pass a NumPy array") from None
    if array.dtype.kind not in "biuf":
        raise DTypeError(f"{who}: {name} must hold numbers, got an array of dtype {array.dtype} "
                         f"(from a {type(value).__name__}); pass a NumPy array of numbers")
    return array


def text(value, name, who, *, allow_empty=False):
    """``value`` as a ``str``; bytes, None and (unless ``allow_empty``) the empty string are refused."""
    if not isinstance(value, str):
        raise ConfigError(f"{who}: {name} must be a string, got {type(value).__name__} {value!r:.40}; "
                          + ("decode bytes first with .decode('utf-8')" if isinstance(value, bytes)
                             else f"pass {name}='...'"))
    if not value and not allow_empty:
        raise ConfigError(f"{who}: {name} must not be empty")
    return value
