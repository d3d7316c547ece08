"""The PyTorch twin of ``nncourse.numpy_nn``: the same networks, built from the same numbers.

``mlp(...)`` builds the NumPy network first and converts it, so with the same ``seed`` both back
ends start from identical weights and can be compared number for number::

    import nncourse.numpy_nn as nn_np, nncourse.torch_nn as nn_t
    a = nn_np.mlp([2, 8, 1], "tanh", seed=3)
    b = nn_t.mlp([2, 8, 1], "tanh", seed=3)     # a torch.nn.Sequential with a's weights

``from_numpy(module)`` converts any NumPy network made of the shared layers; ``numpy_nn.from_torch``
goes the other way. ``Step`` (the perceptron's threshold) has no torch counterpart, so it is
defined here.
"""

import numpy as np
import torch

from . import numpy_nn
from .errors import ConversionError, DTypeError

__all__ = ["Step", "mlp", "from_numpy", "numpy_dtype", "torch_dtype", "SUPPORTED_NUMPY_LAYERS"]

_TORCH_TO_NUMPY_DTYPE = {torch.float32: np.dtype(np.float32), torch.float64: np.dtype(np.float64)}
_NUMPY_TO_TORCH_DTYPE = {v: k for k, v in _TORCH_TO_NUMPY_DTYPE.items()}

SUPPORTED_NUMPY_LAYERS = (
    "Linear", "Sequential", "Dropout", "Step", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "Softmax",
    "Identity",
)


# --------------------------------------------------------------------------------------------------
# Step: the one activation torch does not have
# --------------------------------------------------------------------------------------------------


class _StepFunction(torch.autograd.Function):
    """1.0 where z >= 0 else 0.0, with gradient 0 (as ``numpy_nn.Step``: it is not differentiable)."""

    @staticmethod
    def forward(ctx, z):
        return (z >= 0).to(z.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        return torch.zeros_like(grad_output)


class Step(torch.nn.Module):
    """The Heaviside step of the perceptron, as a torch module.

    Its gradient is zero everywhere (like ``numpy_nn.Step``), so a network with a step does not
    learn by gradient descent: that is the lesson of chapter 1, not a bug.
    """

    def forward(self, z):
        return _StepFunction.apply(z)


# --------------------------------------------------------------------------------------------------
# dtypes: NumPy and torch spell them differently
# --------------------------------------------------------------------------------------------------


def numpy_dtype(dtype, argument="dtype"):
    """``np.float32`` / ``torch.float32`` / ``"float32"`` -> ``np.dtype('float32')`` (same for 64)."""
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
    return _NUMPY_TO_TORCH_DTYPE[numpy_dtype(dtype, argument)]


# --------------------------------------------------------------------------------------------------
# NumPy -> torch
# --------------------------------------------------------------------------------------------------


def from_numpy(numpy_module):
    """Return a torch module computing the same function as ``numpy_module``, weights copied.

    A ``numpy_nn.Sequential`` becomes a ``torch.nn.Sequential`` with the same layer numbers, so
    parameter names match (``"0.weight"``, ``"0.bias"``, ...). The training / evaluation mode is
    kept. ``Dropout`` keeps its ``p``; its random masks come from torch's generator, so they differ
    from NumPy's. Raises ``ConversionError`` for a layer torch does not have.
    """
    if not isinstance(numpy_module, numpy_nn.Module):
        raise ConversionError(
            f"from_numpy expects a numpy_nn module, got {type(numpy_module).__name__}. "
            f"(To go from torch to NumPy, use nncourse.numpy_nn.from_torch.)"
        )
    model = _convert(numpy_module, "model")
    model.train(numpy_module.training)
    return model


def _convert(layer, where):
    """Translate one NumPy layer; ``where`` is its position ("model.2") for error messages."""
    kind = type(layer)
    if kind is numpy_nn.Sequential:
        return torch.nn.Sequential(*(_convert(child, f"{where}.{name}")
                                     for name, child in layer.named_children()))
    if kind is numpy_nn.Linear:
        return _linear(layer)
    if kind is numpy_nn.Dropout:
        return torch.nn.Dropout(layer.p)
    if kind is numpy_nn.LeakyReLU:
        return torch.nn.LeakyReLU(layer.negative_slope)
    if kind is numpy_nn.Softmax:
        return torch.nn.Softmax(dim=layer.dim)
    simple = {numpy_nn.Step: Step, numpy_nn.Sigmoid: torch.nn.Sigmoid, numpy_nn.Tanh: torch.nn.Tanh,
              numpy_nn.ReLU: torch.nn.ReLU, numpy_nn.Identity: torch.nn.Identity}
    if kind in simple:
        return simple[kind]()
    raise ConversionError(
        f"from_numpy cannot translate {where} = {kind.__name__}: there is no torch counterpart "
        f"here. Supported numpy_nn layers: {', '.join(SUPPORTED_NUMPY_LAYERS)}."
    )


def _linear(layer):
    dtype = torch_dtype(layer.weight.dtype, argument=f"{type(layer).__name__} weight dtype")
    has_bias = layer.bias is not None
    # skip_init: no random initialisation (it would draw from torch's global generator for nothing)
    twin = torch.nn.utils.skip_init(torch.nn.Linear, layer.in_features, layer.out_features,
                                    bias=has_bias, dtype=dtype)
    with torch.no_grad():
        twin.weight.copy_(torch.from_numpy(layer.weight.data))      # (out, in), same layout
        if has_bias:
            twin.bias.copy_(torch.from_numpy(layer.bias.data))      # (out,)
    return twin


# --------------------------------------------------------------------------------------------------
# mlp: the same network as numpy_nn.mlp
# --------------------------------------------------------------------------------------------------

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
