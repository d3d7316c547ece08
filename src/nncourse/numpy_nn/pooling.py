"""``MaxPool2d``: the largest value of each window (torch keeps it in ``torch/nn/modules/pooling.py``).

Shapes: input ``(N, C, H, W)`` (NCHW), output ``(N, C, Ho, Wo)`` with
``Ho = floor((H + 2*padding - kernel) / stride) + 1`` (the convolution's formula). Padding counts as
``-inf``, so it is never the maximum.

Forward: for each of the ``kh*kw`` offsets ``(i, j)`` inside the window, one strided slice of the input
holds that offset's value for every window at once; the output is their running maximum (``kh*kw``
vectorised ``np.maximum`` calls, no loop over pixels).

Backward: the maximum passes its gradient to the one input it came from (the *argmax*), the others get
0. When several values of a window tie for the maximum, the gradient goes to the first one in reading
order (row by row), as in torch. Overlapping windows (stride < kernel) add their gradients.
"""

import numpy as np

from .. import validation
from ..errors import ConfigError, ShapeError
from .conv import _output_hw, _plan, pair
from .module import Module, check_float_array

__all__ = ["MaxPool2d"]


def _full_like_layout(x, shape, value):
    """A new array of ``shape`` filled with ``value``, whose axes lie in memory in the order of ``x``'s
    (inside a CNN the batch axis is innermost, see ``conv.py``: keeping it saves copies)."""
    order = sorted(range(x.ndim), key=lambda axis: -abs(x.strides[axis]))   # outermost axis first
    full = np.full([shape[axis] for axis in order], value, dtype=x.dtype)
    return full.transpose(np.argsort(order))


class MaxPool2d(Module):
    """Max pooling over ``kernel_size`` windows, moved by ``stride`` (default: ``kernel_size``)."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = pair(kernel_size, "kernel_size", "MaxPool2d")
        self.stride = self.kernel_size if stride is None else pair(stride, "stride", "MaxPool2d")
        self.padding = pair(padding, "padding", "MaxPool2d", minimum=0)
        if any(2 * p > k for p, k in zip(self.padding, self.kernel_size)):
            raise ConfigError(f"{self._label()}: padding {self.padding} must be at most half the kernel "
                              f"size {self.kernel_size} (as in torch): otherwise a window could hold only padding")
        self._x = None
        self._out = None

    def get_config(self):
        return {"kernel_size": list(self.kernel_size), "stride": list(self.stride), "padding": list(self.padding)}

    def forward(self, x):
        x = self._check_input(x)
        hw = x.shape[2:]
        out_hw = _output_hw(hw, self.kernel_size, self.stride, self.padding)
        out = _full_like_layout(x, (*x.shape[:2], *out_hw), -np.inf)           # (N, C, Ho, Wo)
        for _, out_rows, out_cols, in_rows, in_cols in _plan(hw, out_hw, self.kernel_size, self.stride, self.padding):
            window_part = out[:, :, out_rows, out_cols]                        # a view into out
            np.maximum(window_part, x[:, :, in_rows, in_cols], out=window_part)
        self._x, self._out = x.copy(order="K"), out   # backward reads x: a private copy, same memory order
        return out.copy(order="K")                         # same memory order as x (see conv.py)

    def backward(self, grad_output):
        """Route each output gradient to the input that was the maximum of its window (the first on ties)."""
        self._require_forward(self._x)
        x, out = self._x, self._out
        self._check_grad_output(grad_output, out.shape, out.dtype)
        hw, out_hw = x.shape[2:], out.shape[2:]
        plan = _plan(hw, out_hw, self.kernel_size, self.stride, self.padding)
        # windows that do not overlap write disjoint slices of grad_input, so they can assign instead of add
        overlapping = any(s < k for s, k in zip(self.stride, self.kernel_size))
        grad_input = np.zeros_like(x)                                          # (N, C, H, W)
        remaining = grad_output.copy(order="K")     # the gradient of each window not yet passed on (0 once it is)
        for step, (_, out_rows, out_cols, in_rows, in_cols) in enumerate(plan):
            is_max = x[:, :, in_rows, in_cols] == out[:, :, out_rows, out_cols]
            routed = remaining[:, :, out_rows, out_cols] * is_max
            if overlapping:
                grad_input[:, :, in_rows, in_cols] += routed
            else:
                grad_input[:, :, in_rows, in_cols] = routed
            if step < len(plan) - 1:                                           # a tie later gets nothing
                remaining[:, :, out_rows, out_cols] *= ~is_max
        return grad_input

    def _check_input(self, x):
        x = check_float_array(x, self._label())
        if x.ndim != 4:
            hint = (": add a channel axis with x[:, None]" if x.ndim == 3 else
                    ": reshape the input to 4-D (batch, channels, height, width)")
            raise ShapeError(f"{self._label()} expects images of shape (batch, channels, height, width), "
                             f"got input of shape {x.shape}{hint}")
        (kh, kw), (ph, pw) = self.kernel_size, self.padding
        if x.shape[2] + 2 * ph < kh or x.shape[3] + 2 * pw < kw:
            raise ShapeError(f"{self._label()}: the {kh}×{kw} window is larger than the padded input "
                             f"{x.shape[2] + 2 * ph}×{x.shape[3] + 2 * pw} (input of shape {x.shape}): "
                             f"use a smaller kernel_size or fewer pooling layers")
        return validation.finite(x, self._label())

    def _label(self):
        return f"MaxPool2d({self.kernel_size[0]}×{self.kernel_size[1]})"

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


# --- twin in torch and saving (nncourse.numpy_nn.registry) ------------------------------------------------
from ..errors import ConversionError  # noqa: E402
from .registry import register_twin, saveable  # noqa: E402


def _max_pool2d_from_torch(layer, where, rng):
    if layer.dilation not in (1, (1, 1)) or layer.ceil_mode or layer.return_indices:
        raise ConversionError(f"from_torch cannot translate {where} = {layer!r}: the NumPy MaxPool2d has no "
                              f"dilation, ceil_mode or return_indices.")
    return MaxPool2d(layer.kernel_size, stride=layer.stride, padding=layer.padding)


def _max_pool2d_to_torch(layer, where):
    import torch

    return torch.nn.MaxPool2d(layer.kernel_size, layer.stride, layer.padding)


register_twin(MaxPool2d, "torch.nn.MaxPool2d", from_torch=_max_pool2d_from_torch, to_torch=_max_pool2d_to_torch)
saveable(MaxPool2d)
