"""``from_torch``: translate a PyTorch network into the NumPy back end, weights included.

It is the reverse of ``nncourse.torch_nn.from_numpy``, so a network can go back and forth::

    model = from_torch(torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1)))
    model[0].weight.data      # the torch weights, as a NumPy array

Only the layers that exist in both back ends can be translated (see ``SUPPORTED_TORCH_LAYERS``);
anything else raises ``ConversionError`` naming the layer. PyTorch is imported only when this
function is called, so the rest of ``numpy_nn`` works without it.
"""

import numpy as np

from ..errors import ConversionError
from ..utils import as_rng
from .activations import Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Step, Tanh
from .layers import Dropout, Linear, Sequential

__all__ = ["from_torch", "SUPPORTED_TORCH_LAYERS"]

SUPPORTED_TORCH_LAYERS = (
    "torch.nn.Linear", "torch.nn.Sequential", "torch.nn.Dropout", "torch.nn.Sigmoid", "torch.nn.Tanh",
    "torch.nn.ReLU", "torch.nn.LeakyReLU", "torch.nn.Softmax", "torch.nn.Identity",
    "nncourse.torch_nn.Step",
)


def from_torch(torch_module, *, seed=None):
    """Return the NumPy twin of ``torch_module`` (a ``Sequential`` for a ``torch.nn.Sequential``).

    Weights are copied (float32 stays float32, float64 stays float64) and the training / evaluation
    mode is kept. ``seed`` seeds the NumPy ``Dropout`` layers (their random masks cannot match
    torch's anyway). Raises ``ConversionError`` for a layer the NumPy back end does not have.
    """
    import torch

    if not isinstance(torch_module, torch.nn.Module):
        raise ConversionError(
            f"from_torch expects a torch.nn.Module, got {type(torch_module).__name__}. "
            f"(To go from NumPy to torch, use nncourse.torch_nn.from_numpy.)"
        )
    model = _convert(torch_module, "model", as_rng(seed))
    model.train(torch_module.training)
    return model


def _convert(layer, where, rng):
    """Translate one torch layer; ``where`` is its position ("model.2") for error messages."""
    import torch

    from ..torch_nn import Step as TorchStep

    kind = type(layer)
    if kind is torch.nn.Sequential:
        return Sequential(*(_convert(child, f"{where}.{name}", rng)
                            for name, child in layer.named_children()))
    if kind is torch.nn.Linear:
        return _linear(layer, where)
    if kind is torch.nn.Dropout:
        return Dropout(layer.p, rng=rng)
    if kind is torch.nn.LeakyReLU:
        return LeakyReLU(layer.negative_slope)
    if kind is torch.nn.Softmax:
        # torch's dim=None means "the last dimension" for the 2-D batches used here
        return Softmax(dim=-1 if layer.dim is None else layer.dim)
    simple = {torch.nn.Sigmoid: Sigmoid, torch.nn.Tanh: Tanh, torch.nn.ReLU: ReLU,
              torch.nn.Identity: Identity, TorchStep: Step}
    if kind in simple:
        return simple[kind]()
    raise ConversionError(
        f"from_torch cannot translate {where} = {layer!r}: the NumPy back end has no "
        f"{kind.__name__}. Supported layers: {', '.join(SUPPORTED_TORCH_LAYERS)}."
    )


def _linear(layer, where):
    import torch

    dtypes = {torch.float32: np.float32, torch.float64: np.float64}
    if layer.weight.dtype not in dtypes:
        raise ConversionError(
            f"from_torch cannot translate {where} = {layer!r}: its weights are {layer.weight.dtype}; "
            f"the NumPy back end supports torch.float32 and torch.float64 (call .float() first)."
        )
    dtype = dtypes[layer.weight.dtype]
    twin = Linear(layer.in_features, layer.out_features, bias=layer.bias is not None,
                  init="zeros", dtype=dtype)
    twin.weight.data = _to_numpy(layer.weight, dtype)            # (out, in), same layout in both
    if layer.bias is not None:
        twin.bias.data = _to_numpy(layer.bias, dtype)            # (out,)
    return twin


def _to_numpy(tensor, dtype):
    return np.array(tensor.detach().cpu().numpy(), dtype=dtype, copy=True)
