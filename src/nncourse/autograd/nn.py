"""Just enough ``torch.nn`` on top of ``Tensor`` to train chapter 6's MLP with the engine.

The layers have no ``backward``: each ``forward`` is a few tensor operations and the engine derives
the backward pass by itself. ``from_numpy(numpy_model)`` copies a ``numpy_nn`` ``Sequential`` of
``Linear`` layers and activations (same weights), so the two can be compared number for number.
"""

import math
import numbers

import numpy as np

from ..errors import ConfigError, ConversionError, ShapeError
from .functional import linear
from .tensor import Tensor, no_grad

__all__ = ["Linear", "ReLU", "Tanh", "Sigmoid", "Sequential", "SGD", "from_numpy"]


class Linear:
    """``y = x @ W.T + b`` with ``weight`` (out, in) and ``bias`` (out,) as Tensors that require grad."""

    def __init__(self, weight, bias=None):
        if weight is None or isinstance(weight, (str, bytes, numbers.Number)):
            raise ConfigError(f"Linear: weight must be a 2-D array or Tensor of shape (out_features, in_features), "
                              f"got {type(weight).__name__} {weight!r:.40}; pass e.g. rng.normal(size=(4, 3))")
        self.weight = Tensor(weight, requires_grad=True)
        if self.weight.ndim != 2:
            raise ShapeError(f"Linear: weight must be 2-D (out_features, in_features), got shape "
                             f"{self.weight.shape}")
        self.bias = None if bias is None else Tensor(bias, requires_grad=True)
        if self.bias is not None and self.bias.shape != self.weight.shape[:1]:
            raise ShapeError(f"Linear: bias must have shape ({self.weight.shape[0]},), one entry per output "
                             f"(a row of weight), got {self.bias.shape}")

    def __call__(self, x):
        return linear(x, self.weight, self.bias)

    def parameters(self):
        return [p for p in (self.weight, self.bias) if p is not None]


class _Activation:
    def parameters(self):
        return []


class ReLU(_Activation):
    def __call__(self, x):
        return x.relu()


class Tanh(_Activation):
    def __call__(self, x):
        return x.tanh()


class Sigmoid(_Activation):
    def __call__(self, x):
        return x.sigmoid()


class Sequential:
    def __init__(self, *layers):
        self.layers = list(layers)

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def __getitem__(self, i):
        return self.layers[i]

    def __len__(self):
        return len(self.layers)

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def zero_grad(self):
        for p in self.parameters():
            p.zero_grad()


def _parameter_list(params):
    """``params`` as a non-empty list of Tensors; a model (or a single Tensor) is refused with the fix."""
    if hasattr(params, "parameters") and callable(params.parameters):
        raise ConfigError(f"SGD: params must be the model's parameters, got the model itself "
                          f"({type(params).__name__}); pass model.parameters()")
    if isinstance(params, Tensor):
        raise ConfigError("SGD: params must be a list of Tensors, got a single Tensor; wrap it in a list: [w]")
    try:
        params = list(params)
    except TypeError:
        raise ConfigError(f"SGD: params must be a list of Tensors (model.parameters()), got "
                          f"{type(params).__name__}") from None
    if not params:
        raise ConfigError("SGD: params is empty, so there is nothing to train; pass model.parameters()")
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise ConfigError(f"SGD: params[{i}] must be an autograd Tensor, got {type(p).__name__}; "
                              f"pass model.parameters() (a numpy_nn model needs nncourse.numpy_nn.SGD)")
    return params


class SGD:
    """Gradient descent with torch's momentum rule: ``v <- momentum * v + grad``, ``p <- p - lr * v``
    (``v`` starts as the first gradient; ``momentum=0`` is plain ``p <- p - lr * grad``)."""

    def __init__(self, params, lr, momentum=0.0):
        if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not math.isfinite(lr) or lr <= 0:
            raise ConfigError(f"SGD: lr must be a positive number (finite, > 0), got {lr!r} ({type(lr).__name__}); "
                              f"write it without quotes, such as lr=0.1")
        if isinstance(momentum, bool) or not isinstance(momentum, numbers.Real) or not 0 <= momentum < 1:
            raise ConfigError(f"SGD: momentum must be in [0, 1), got {momentum!r} ({type(momentum).__name__}); "
                              f"use 0.9 for the usual momentum or 0 for none")
        self.params, self.lr, self.momentum = _parameter_list(params), lr, momentum
        self.velocity = [None] * len(self.params)

    def zero_grad(self):
        for p in self.params:
            p.zero_grad()

    def step(self):
        with no_grad():
            for i, p in enumerate(self.params):
                if p.grad is None:
                    continue
                step = p.grad
                if self.momentum:
                    v = self.velocity[i]
                    step = self.velocity[i] = p.grad.copy() if v is None else self.momentum * v + p.grad
                p.data -= self.lr * step


_ACTIVATIONS = {"ReLU": ReLU, "Tanh": Tanh, "Sigmoid": Sigmoid}


def from_numpy(model):
    """A ``Sequential`` of Tensor layers with copies of the weights of a ``numpy_nn`` MLP."""
    layers = list(model) if type(model).__name__ == "Sequential" else [model]
    converted = []
    for i, layer in enumerate(layers):
        kind = type(layer).__name__
        if kind == "Linear":
            bias = None if layer.bias is None else np.array(layer.bias.data)
            converted.append(Linear(np.array(layer.weight.data), bias))
        elif kind in _ACTIVATIONS:
            converted.append(_ACTIVATIONS[kind]())
        else:
            raise ConversionError(f"autograd.nn.from_numpy: layer {i} is a {kind}, which this small helper "
                                  f"does not translate (it knows Linear, {', '.join(_ACTIVATIONS)}); build "
                                  f"that part from Tensor operations yourself")
    return Sequential(*converted)
