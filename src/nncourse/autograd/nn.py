"""Just enough ``torch.nn`` on top of ``Tensor`` to train chapter 6's MLP with the engine.

The layers have no ``backward``: each ``forward`` is a few tensor operations and the engine derives
the backward pass by itself. ``from_numpy(numpy_model)`` copies a ``numpy_nn`` ``Sequential`` of
``Linear`` layers and activations (same weights), so the two can be compared number for number.
"""

import numpy as np

from ..errors import ConfigError, ConversionError
from .functional import linear
from .tensor import Tensor, no_grad

__all__ = ["Linear", "ReLU", "Tanh", "Sigmoid", "Sequential", "SGD", "from_numpy"]


class Linear:
    """``y = x @ W.T + b`` with ``weight`` (out, in) and ``bias`` (out,) as Tensors that require grad."""

    def __init__(self, weight, bias=None):
        self.weight = Tensor(weight, requires_grad=True)
        self.bias = None if bias is None else Tensor(bias, requires_grad=True)

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


class SGD:
    """Gradient descent with torch's momentum rule: ``v <- momentum * v + grad``, ``p <- p - lr * v``
    (``v`` starts as the first gradient; ``momentum=0`` is plain ``p <- p - lr * grad``)."""

    def __init__(self, params, lr, momentum=0.0):
        if not lr > 0:
            raise ConfigError(f"SGD: lr must be a positive number, got {lr!r}")
        if not 0 <= momentum < 1:
            raise ConfigError(f"SGD: momentum must be in [0, 1), got {momentum!r}")
        self.params, self.lr, self.momentum = list(params), lr, momentum
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
