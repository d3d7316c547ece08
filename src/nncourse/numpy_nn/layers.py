"""Layers with parameters or state: ``Linear``, ``Dropout`` and the ``Sequential`` container.

Each layer keeps its ``forward`` and its ``backward`` side by side. Shapes use ``N`` for the batch
size, ``I`` for ``in_features`` and ``O`` for ``out_features``.
"""

import numbers

import numpy as np

from ..errors import ConfigError, DTypeError, NonFiniteError, ShapeError
from ..utils import as_rng
from . import init as initializers
from .module import Module, check_float_array
from .parameter import Parameter

__all__ = ["Linear", "Dropout", "Sequential"]


class Linear(Module):
    """A fully connected layer: ``y = x @ W.T + b``.

    ``weight`` has shape ``(out_features, in_features)`` (one row per output neuron, as in torch) and
    ``bias`` has shape ``(out_features,)``. ``init`` names the initialiser (see ``numpy_nn.init``);
    the default draws weight and bias from U(-1/sqrt(in), 1/sqrt(in)) like ``torch.nn.Linear``.
    """

    def __init__(self, in_features, out_features, bias=True, *, init="torch", seed=None, rng=None,
                 dtype=np.float32):
        super().__init__()
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"Linear: {name} must be a positive integer, got {value!r}")
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise DTypeError(f"Linear: dtype must be a floating-point type such as np.float32, got {dtype}")
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self.dtype = dtype
        self.init = init if isinstance(init, str) else getattr(init, "__name__", "custom")

        rng = as_rng(seed, rng)
        shape = (self.out_features, self.in_features)
        weight_init = initializers.get(init)
        self.weight = Parameter(np.asarray(weight_init(shape, rng), dtype=dtype))
        if bias:
            self.bias = Parameter(np.asarray(initializers.bias(init, shape, rng), dtype=dtype))
        else:
            self.bias = None
        self._x = None  # the input of the last forward pass, needed for d loss / d W

    def forward(self, x):
        x = self._check_input(x)
        self._x = x                       # (N, I)
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
        self._require_forward(self._x)
        g = grad_output
        self._check_grad_output(g, (self._x.shape[0], self.out_features), self.dtype)
        self.weight.accumulate_grad(g.T @ self._x)      # (O, N) @ (N, I) -> (O, I)
        if self.bias is not None:
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


class Dropout(Module):
    """Inverted dropout: in training mode each value is zeroed with probability ``p`` and the survivors
    are scaled by ``1 / (1 - p)``, so the expected output equals the input; in eval mode it is the
    identity (nothing to rescale at test time)."""

    def __init__(self, p=0.5, *, seed=None, rng=None):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p < 1.0:
            raise ConfigError(f"Dropout: p is the probability of dropping a value and must be in [0, 1), got {p!r}")
        self.p = float(p)
        self.rng = as_rng(seed, rng)
        self._mask = None  # (N, ...) zeros and 1/(1-p), or the string "identity"

    def forward(self, x):
        x = check_float_array(x, self._label())
        if not self.training or self.p == 0.0:
            self._mask = "identity"
            self._shape, self._dtype = x.shape, x.dtype
            return x
        draw_dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.float64
        keep = self.rng.random(x.shape, dtype=draw_dtype) >= self.p   # True with probability 1 - p
        mask = keep.astype(x.dtype)
        mask *= x.dtype.type(1.0 / (1.0 - self.p))                # stay in x's dtype
        self._mask = mask
        self._shape, self._dtype = x.shape, x.dtype
        return x * mask

    def backward(self, grad_output):
        self._require_forward(self._mask)
        self._check_grad_output(grad_output, self._shape, self._dtype)
        if isinstance(self._mask, str):
            return grad_output
        return grad_output * self._mask

    def _label(self):
        return f"Dropout(p={self.p})"

    def extra_repr(self):
        return f"p={self.p}"


class Sequential(Module):
    """Layers applied one after the other: forward in order, backward in reverse order.

    >>> model = Sequential(Linear(2, 3), ReLU(), Linear(3, 1))   # doctest: +SKIP
    >>> y = model(x); grad_x = model.backward(grad_y)            # doctest: +SKIP
    """

    def __init__(self, *layers):
        super().__init__()
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        for index, layer in enumerate(layers):
            if not isinstance(layer, Module):
                hint = " (did you forget the brackets, e.g. ReLU() instead of ReLU?)" if isinstance(layer, type) else ""
                raise ConfigError(
                    f"Sequential: layer {index} must be a Module, got {type(layer).__name__}{hint}"
                )
            self.add_module(str(index), layer)

    def forward(self, x):
        for layer in self._modules.values():
            x = layer(x)
        return x

    def backward(self, grad_output, *, need_input_grad=True):
        """Run every layer's backward, last layer first; return d loss / d input.

        With ``need_input_grad=False`` (what a training loop wants) the first layer, if it is a
        ``Linear``, skips computing d loss / d input, which nobody uses, and ``None`` is returned.
        """
        layers = list(self._modules.values())
        grad = grad_output
        for index in range(len(layers) - 1, -1, -1):
            layer = layers[index]
            if index == 0 and not need_input_grad and isinstance(layer, (Linear, Sequential)):
                return layer.backward(grad, need_input_grad=False)
            grad = layer.backward(grad)
        return grad if need_input_grad else None

    def append(self, layer):
        self.add_module(str(len(self)), layer)
        return self

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        layers = list(self._modules.values())
        if isinstance(index, slice):
            return Sequential(*layers[index])
        return layers[index]
