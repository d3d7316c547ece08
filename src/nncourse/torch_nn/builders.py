"""``mlp``: the same network as ``numpy_nn.mlp``, as a ``torch.nn.Sequential``."""

import numpy as np
import torch

from .. import numpy_nn
from .activation import Step
from .convert import from_numpy
from .dtypes import numpy_dtype

__all__ = ["mlp"]


_TORCH_ACTIVATION_CLASSES = {
    torch.nn.Sigmoid: "sigmoid", torch.nn.Tanh: "tanh", torch.nn.ReLU: "relu",
    torch.nn.LeakyReLU: "leaky_relu", torch.nn.Identity: "identity", Step: "step",
}


def _as_numpy_activation(activation):
    """Let ``torch.nn.ReLU`` (the class) stand for ``"relu"``; anything else passes through."""
    if isinstance(activation, type) and activation in _TORCH_ACTIVATION_CLASSES:
        return _TORCH_ACTIVATION_CLASSES[activation]
    return activation


def mlp(sizes, activation="relu", *, output_activation=None, init="torch", dropout=0.0, seed=0,
        dtype=np.float32):
    """A multi-layer perceptron as a ``torch.nn.Sequential``: same arguments as ``numpy_nn.mlp``.

    It is built by converting ``numpy_nn.mlp(...)`` with the same arguments, so ``seed`` gives the
    same starting weights in both back ends. ``dtype`` may be a NumPy or a torch dtype;
    ``activation`` may also be a torch activation class such as ``torch.nn.Tanh``.
    """
    numpy_model = numpy_nn.mlp(
        sizes,
        _as_numpy_activation(activation),
        output_activation=_as_numpy_activation(output_activation),
        init=init,
        dropout=dropout,
        seed=seed,
        dtype=numpy_dtype(dtype),
    )
    return from_numpy(numpy_model)
