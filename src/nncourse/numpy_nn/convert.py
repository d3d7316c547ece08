"""``from_torch``: translate a PyTorch network into the NumPy back end, weights included.

It is the reverse of ``nncourse.torch_nn.from_numpy``, so a network can go back and forth::

    model = from_torch(torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1)))
    model[0].weight.data      # the torch weights, as a NumPy array

Each layer declares its twin in its own file (``numpy_nn.registry``), so this module holds no table:
a layer that is not declared anywhere raises ``ConversionError`` naming it and the supported ones.
PyTorch is imported only when this function is called, so the rest of ``numpy_nn`` works without it.
"""

from ..errors import ConversionError
from ..utils import as_rng
from . import registry

__all__ = ["from_torch", "supported_torch_layers"]


def from_torch(torch_module, *, seed=None):
    """Return the NumPy twin of ``torch_module`` (a ``Sequential`` for a ``torch.nn.Sequential``).

    Weights are copied (float32 stays float32, float64 stays float64) and the training / evaluation
    mode is kept. ``seed`` seeds the NumPy ``Dropout`` layers (their random masks cannot match
    torch's anyway). Raises ``ConversionError`` for a layer the NumPy back end does not have.
    """
    import torch

    if not isinstance(torch_module, torch.nn.Module):
        raise ConversionError(
            f"from_torch: torch_module must be a torch.nn.Module, got {type(torch_module).__name__}. "
            f"(To go from NumPy to torch, use nncourse.torch_nn.from_numpy.)"
        )
    model = registry.convert_from_torch(torch_module, "model", as_rng(seed))
    model.train(torch_module.training)
    return model


def supported_torch_layers():
    """The torch classes ``from_torch`` translates (those declared so far; a model's file declares its own)."""
    return registry.registered_torch_names()
