"""``Flatten``: merge dimensions ``start_dim..end_dim`` into one (torch keeps it in ``torch/nn/modules/flatten.py``).

``Flatten()`` turns feature maps ``(N, C, H, W)`` into rows ``(N, C*H*W)`` for a ``Linear`` layer; the
order of the numbers is NumPy's (and torch's) row-major order, so channel 0's map comes first.
Backward only reshapes the gradient back to the input's shape.
"""

import numbers

import numpy as np

from .. import validation
from ..errors import ConfigError, DTypeError, ShapeError
from .module import Module, check_float_array
from .registry import saveable, twin_of

__all__ = ["Flatten"]


def _to_torch(layer, where):
    import torch

    return torch.nn.Flatten(layer.start_dim, layer.end_dim)


@saveable
@twin_of("torch.nn.Flatten", from_torch=lambda layer, where, rng: Flatten(layer.start_dim, layer.end_dim),
         to_torch=_to_torch)
class Flatten(Module):
    """Reshape ``(d0, ..., d_start, ..., d_end, ...)`` to ``(d0, ..., d_start*...*d_end, ...)``."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        for name, value in (("start_dim", start_dim), ("end_dim", end_dim)):
            if not isinstance(value, numbers.Integral) or isinstance(value, bool):
                raise ConfigError(f"Flatten: {name} must be an int, got {value!r}")
        self.start_dim, self.end_dim = int(start_dim), int(end_dim)
        self._input_shape = None

    def get_config(self):
        return {"start_dim": self.start_dim, "end_dim": self.end_dim}

    def forward(self, x):
        x = validation.finite(check_float_array(x, self._label()), self._label())
        start, end = self._dims(x.ndim)
        self._input_shape = x.shape
        # the merged size spelled out (not -1), so that an empty batch reshapes too
        return x.reshape(*x.shape[:start], int(_product(x.shape[start:end + 1])), *x.shape[end + 1:])

    def backward(self, grad_output):
        self._require_forward(self._input_shape)
        start, end = self._dims(len(self._input_shape))
        shape = self._input_shape
        expected = (*shape[:start], int(_product(shape[start:end + 1])), *shape[end + 1:])
        if not isinstance(grad_output, np.ndarray) or grad_output.dtype.kind != "f":
            got = f"dtype {grad_output.dtype}" if isinstance(grad_output, np.ndarray) else type(grad_output).__name__
            raise DTypeError(f"{self._label()}.backward expects grad_output as a NumPy float array (the gradient "
                             f"of the last output), got {got}; pass the array the next layer's backward returned")
        if grad_output.shape != expected:
            raise ShapeError(f"{self._label()}.backward expects grad_output of shape {expected} (the shape "
                             f"of the last output), got {grad_output.shape}")
        return grad_output.reshape(shape)

    def _dims(self, ndim):
        start = self.start_dim + ndim if self.start_dim < 0 else self.start_dim
        end = self.end_dim + ndim if self.end_dim < 0 else self.end_dim
        if not (0 <= start < ndim and 0 <= end < ndim) or start > end:
            raise ShapeError(f"{self._label()} cannot flatten dimensions {self.start_dim}..{self.end_dim} "
                             f"of a {ndim}-D input: both must lie in -{ndim}..{ndim - 1}, start before end")
        return start, end

    def _label(self):
        return "Flatten"

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


def _product(values):
    result = 1
    for v in values:
        result *= v
    return result
