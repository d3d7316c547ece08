"""dtypes: NumPy and torch spell them differently; these two functions translate."""

import numpy as np
import torch

from .. import validation
from ..errors import DTypeError

__all__ = ["numpy_dtype", "torch_dtype"]

_TORCH_TO_NUMPY_DTYPE = {torch.float32: np.dtype(np.float32), torch.float64: np.dtype(np.float64)}
_NUMPY_TO_TORCH_DTYPE = {v: k for k, v in _TORCH_TO_NUMPY_DTYPE.items()}


def numpy_dtype(dtype, argument="dtype"):
    """``np.float32`` / ``torch.float32`` / ``"float32"`` -> ``np.dtype('float32')`` (same for 64).

    ``argument`` is the name the messages give the dtype (the caller's parameter, ``"dtype"`` by default)."""
    validation.text(argument, "argument", "numpy_dtype")
    if isinstance(dtype, torch.dtype):
        if dtype not in _TORCH_TO_NUMPY_DTYPE:
            raise DTypeError(f"{argument} must be float32 or float64, got {dtype}.")
        return _TORCH_TO_NUMPY_DTYPE[dtype]
    try:
        result = np.dtype(dtype)
    except TypeError:
        raise DTypeError(
            f"{argument} must be a NumPy or torch float dtype (np.float32, torch.float64, ...), "
            f"got {dtype!r}."
        ) from None
    if result not in _NUMPY_TO_TORCH_DTYPE:
        raise DTypeError(f"{argument} must be float32 or float64, got {result}.")
    return result


def torch_dtype(dtype, argument="dtype"):
    """``np.float32`` / ``torch.float32`` / ``"float32"`` -> ``torch.float32`` (same for 64)."""
    validation.text(argument, "argument", "torch_dtype")
    return _NUMPY_TO_TORCH_DTYPE[numpy_dtype(dtype, argument)]
