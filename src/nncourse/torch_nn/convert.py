"""``from_numpy``: translate a NumPy network into torch, weights included (the reverse of
``numpy_nn.from_torch``).

Each layer declares its twin in its own file (``numpy_nn.registry``), so this module holds no table.
"""

from .. import numpy_nn
from ..errors import ConversionError
from ..numpy_nn import registry

__all__ = ["from_numpy", "supported_numpy_layers"]


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
    model = registry.convert_to_torch(numpy_module, "model")
    model.train(numpy_module.training)
    return model


def supported_numpy_layers():
    """The NumPy classes ``from_numpy`` translates (those declared so far)."""
    return registry.registered_numpy_names()
