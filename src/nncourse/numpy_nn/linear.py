"""``Linear``: the fully connected layer, ``y = x @ W.T + b`` (torch keeps it in ``torch/nn/modules/linear.py``).

The layer keeps its ``forward`` and its ``backward`` side by side. Shapes use ``N`` for the batch
size, ``I`` for ``in_features`` and ``O`` for ``out_features``.
"""


import numpy as np

from .. import validation
from ..errors import DTypeError, NonFiniteError, ShapeError
from ..validation import boolean
from ..utils import as_rng
from . import init as initializers
from .module import Module, check_float_array
from .parameter import Parameter
from .registry import copy_into, numpy_dtype_of, saveable, to_numpy, torch_dtype_of, twin_of

__all__ = ["Linear"]


def _from_torch(layer, where, rng):
    """A ``torch.nn.Linear`` -> a ``numpy_nn.Linear`` with the same weights."""
    dtype = numpy_dtype_of(layer, where)
    twin = Linear(layer.in_features, layer.out_features, bias=layer.bias is not None, init="zeros", dtype=dtype)
    twin.weight.data = to_numpy(layer.weight, dtype)            # (out, in), same layout in both
    if layer.bias is not None:
        twin.bias.data = to_numpy(layer.bias, dtype)            # (out,)
    return twin


def _to_torch(layer, where):
    """A ``numpy_nn.Linear`` -> a ``torch.nn.Linear`` with the same weights."""
    import torch

    # skip_init: no random initialisation (it would draw from torch's global generator for nothing)
    twin = torch.nn.utils.skip_init(torch.nn.Linear, layer.in_features, layer.out_features,
                                    bias=layer.bias is not None, dtype=torch_dtype_of(layer))
    copy_into(twin.weight, layer.weight.data)      # (out, in), same layout
    if layer.bias is not None:
        copy_into(twin.bias, layer.bias.data)      # (out,)
    return twin


@saveable
@twin_of("torch.nn.Linear", from_torch=_from_torch, to_torch=_to_torch,
         aliases=("torch.nn.NonDynamicallyQuantizableLinear",))   # MultiheadAttention's out_proj
class Linear(Module):
    """A fully connected layer: ``y = x @ W.T + b``.

    ``weight`` has shape ``(out_features, in_features)`` (one row per output neuron, as in torch) and
    ``bias`` has shape ``(out_features,)``. ``init`` names the initialiser (see ``numpy_nn.init``);
    the default draws weight and bias from U(-1/sqrt(in), 1/sqrt(in)) like ``torch.nn.Linear``.
    """

    can_skip_input_grad = True   # backward(..., need_input_grad=False) skips d loss / d x

    def __init__(self, in_features, out_features, bias=True, *, init="torch", seed=None, rng=None,
                 dtype=np.float32):
        super().__init__()
        self.in_features = validation.positive_int(in_features, "in_features", "Linear")
        self.out_features = validation.positive_int(out_features, "out_features", "Linear")
        dtype = validation.float_dtype(dtype, "Linear")
        bias = validation.boolean(bias, "bias", "Linear")
        self.dtype = dtype
        self.init = init if isinstance(init, str) else getattr(init, "__name__", "custom")

        rng = as_rng(seed, rng)
        shape = (self.out_features, self.in_features)
        self.weight = Parameter(np.asarray(initializers.weight(init, shape, rng, "Linear"), dtype=dtype))
        if bias:
            self.bias = Parameter(np.asarray(initializers.bias(init, shape, rng), dtype=dtype))
        else:
            self.bias = None
        self._x = None  # the input of the last forward pass, needed for d loss / d W

    def get_config(self):
        return {"in_features": self.in_features, "out_features": self.out_features,
                "bias": self.bias is not None, "dtype": self.dtype.name}

    def forward(self, x):
        x = self._check_input(x)
        self._x = x.copy(order="K")       # (N, I): a private copy, so editing x later cannot change d/dW
        out = x @ self.weight.data.T      # (N, I) @ (I, O) -> (N, O); W.T is a view, no copy
        if self.bias is not None:
            out += self.bias.data         # broadcast (O,) over the N rows, in place
        return out

    def backward(self, grad_output, *, need_input_grad=True):
        """Given g = d loss / d y (N, O): accumulate d/dW = g.T @ x and d/db = sum of g's rows,
        and return d loss / d x = g @ W (N, I).

        ``need_input_grad=False`` skips that last product and returns ``None``: the first layer of a
        network never needs d loss / d x (the data is not learned), and torch skips it too.
        """
        need_input_grad = boolean(need_input_grad, "need_input_grad", "Linear.backward")
        self._require_forward(self._x)
        g = grad_output
        self._check_grad_output(g, (self._x.shape[0], self.out_features), self.dtype)
        if self.weight.requires_grad:                   # a frozen weight's gradient is not even computed
            self.weight.accumulate_grad(g.T @ self._x)  # (O, N) @ (N, I) -> (O, I)
        if self.bias is not None and self.bias.requires_grad:
            self.bias.accumulate_grad(g.sum(axis=0))    # (O,)
        if not need_input_grad:
            return None
        return g @ self.weight.data                     # (N, O) @ (O, I) -> (N, I)

    def _check_input(self, x):
        """Cheap checks (type, shape, dtype), plus one pass over the values for NaN/inf."""
        x = check_float_array(x, self._label())
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ShapeError(self._shape_message(x.shape))
        if x.shape[0] == 0:
            raise ShapeError(f"{self._label()} got an empty batch (input of shape {x.shape}): "
                             f"pass at least one example")
        if x.dtype != self.dtype:
            raise DTypeError(
                f"{self._label()} has {self.dtype} weights but got {x.dtype} input: convert the input "
                f"with x.astype(np.{self.dtype}), or build the layer with dtype=np.{x.dtype}"
            )
        if not np.isfinite(x).all():
            bad = tuple(int(i) for i in np.argwhere(~np.isfinite(x))[0])
            raise NonFiniteError(
                f"{self._label()} got input containing NaN or inf (first at index {bad}: {x[bad]}). "
                f"If this is the network's input, clean the data (np.isfinite(x).all() should be True); "
                f"if it comes from an earlier layer, training has probably diverged: lower the learning rate"
            )
        return x

    def _shape_message(self, shape):
        expected = f"{self._label()} expects input of shape (batch, {self.in_features}), got {shape}"
        if len(shape) == 1 and shape[0] == self.in_features:
            return f"{expected}: a single example needs a batch dimension, use x.reshape(1, -1)"
        if len(shape) > 2 and int(np.prod(shape[1:])) == self.in_features:
            return f"{expected}: flatten images first with x.reshape(len(x), -1)"
        if len(shape) == 2:
            return (f"{expected}: the input has {shape[1]} features but the layer was built for "
                    f"{self.in_features} (check in_features, or the previous layer's out_features)")
        return f"{expected}: reshape the input to 2-D (batch, features)"

    def _label(self):
        return f"Linear({self.in_features} → {self.out_features})"

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
