"""Twins and saved layers that declare themselves where they are defined.

Two questions come up for every layer and every model of the course:

* **What is its twin in the other back end?** ``numpy_nn.from_torch`` and ``torch_nn.from_numpy``
  translate a network layer by layer. Each pair of twins is declared once, with ``register_twin``, in
  the file of the higher of the two classes: a ``numpy_nn`` layer whose twin is one of torch's own
  (``torch.nn.Linear``) declares it in its own file, naming the torch class as a string so that
  ``numpy_nn`` never imports torch; a course class written in torch (``torch_nn.Step``, the torch
  GPT in ``nncourse.models``) declares it in its own file, next to the class.
* **How is it saved?** ``nncourse.io`` stores a NumPy model as JSON (what to build) plus its arrays.
  A class decorated with ``@saveable`` says what to build with ``get_config()``, a JSON-ready dict of
  constructor arguments; loading calls ``cls.from_config(config)``, which is ``cls(**config)`` unless the
  class says otherwise. A value in the config that is a module (or a list of modules) is saved and
  rebuilt as one, so ``Sequential`` can hold any saveable layer.

Adding a layer therefore touches one file. For example, ``numpy_nn/linear.py``::

    @saveable
    @twin_of("torch.nn.Linear", from_torch=_from_torch, to_torch=_to_torch)
    class Linear(Module):
        def get_config(self):
            return {"in_features": ..., "out_features": ..., "bias": ..., "dtype": "float32"}

    def _from_torch(layer, where, rng):     # a torch.nn.Linear -> a numpy_nn.Linear, weights copied
        ...

    def _to_torch(layer, where):            # a numpy_nn.Linear -> a torch.nn.Linear (imports torch inside)
        ...

``where`` names the layer in error messages (``"model.2"``); ``rng`` seeds the NumPy ``Dropout``
layers created by a conversion. A converter of a container converts its children with
``convert_from_torch(child, where, rng)`` / ``convert_to_torch(child, where)``.
"""

import inspect
from dataclasses import dataclass

import numpy as np

from ..errors import ConversionError

__all__ = ["register_twin", "twin_of", "saveable", "torch_class_name", "twin_for_torch_layer",
           "twin_for_numpy_layer", "saveable_class", "registered_torch_names", "registered_numpy_names",
           "saveable_names", "convert_from_torch", "convert_to_torch", "required_arguments",
           "numpy_dtype_of", "to_numpy", "torch_dtype_of", "copy_into", "load_torch_state", "load_numpy_state"]


@dataclass(frozen=True)
class Twin:
    """One pair of twins: the NumPy class, its torch class's name, and the two converters."""

    numpy_class: type
    torch_name: str
    from_torch: object   # (torch_layer, where, rng) -> numpy_nn module, or None (one direction only)
    to_torch: object     # (numpy_layer, where) -> torch module, or None (one direction only)


_BY_TORCH_NAME = {}      # "torch.nn.Linear" -> Twin
_BY_NUMPY_CLASS = {}     # numpy_nn.Linear -> Twin
_SAVEABLE = {}           # "Linear" -> numpy_nn.Linear


def torch_class_name(torch_class):
    """The registry's name of a torch class: ``"torch.nn.Linear"`` for torch's own layers (whatever file
    torch keeps them in), ``"<module>.<class>"`` for any other class."""
    module = torch_class.__module__
    if module == "torch.nn" or module.startswith("torch.nn."):
        return f"torch.nn.{torch_class.__qualname__}"
    return f"{module}.{torch_class.__qualname__}"


def register_twin(numpy_class, torch_class, *, from_torch=None, to_torch=None, aliases=()):
    """Declare that ``numpy_class`` and ``torch_class`` compute the same function.

    ``torch_class`` is a class or its registry name (a string such as ``"torch.nn.Linear"``, so that a
    ``numpy_nn`` file need not import torch). ``aliases`` are further torch names translated by the same
    ``from_torch`` (``"torch.nn.NonDynamicallyQuantizableLinear"``, which ``MultiheadAttention`` uses).
    Declaring the same pair again (a notebook re-running a cell) replaces the old entry.
    """
    name = torch_class if isinstance(torch_class, str) else torch_class_name(torch_class)
    twin = Twin(numpy_class, name, from_torch, to_torch)
    for torch_name in (name, *aliases):
        _BY_TORCH_NAME[torch_name] = twin
    _BY_NUMPY_CLASS[numpy_class] = twin
    return twin


def twin_of(torch_class, *, from_torch=None, to_torch=None, aliases=()):
    """Class decorator form of ``register_twin`` for a NumPy class: ``@twin_of("torch.nn.Linear", ...)``."""
    def decorate(numpy_class):
        register_twin(numpy_class, torch_class, from_torch=from_torch, to_torch=to_torch, aliases=aliases)
        return numpy_class
    return decorate


def saveable(cls):
    """Class decorator: ``nncourse.io`` may save ``cls`` (described by ``get_config()``) and rebuild it.

    A class without its own ``get_config`` takes no constructor arguments (an activation).
    """
    if not hasattr(cls, "get_config") and required_arguments(cls):
        raise TypeError(f"@saveable {cls.__name__} takes constructor arguments "
                        f"{required_arguments(cls)}: define get_config() returning them")
    _SAVEABLE[cls.__name__] = cls
    return cls


def required_arguments(cls):
    """The constructor arguments of ``cls`` that have no default (a saved config must give them)."""
    signature = inspect.signature(cls.__init__)
    return [name for name, parameter in list(signature.parameters.items())[1:]
            if parameter.default is inspect.Parameter.empty
            and parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY)]


def twin_for_torch_layer(torch_layer):
    """The ``Twin`` that translates ``torch_layer`` to NumPy, or ``None``."""
    twin = _BY_TORCH_NAME.get(torch_class_name(type(torch_layer)))
    return twin if twin is not None and twin.from_torch is not None else None


def twin_for_numpy_layer(numpy_layer):
    """The ``Twin`` that translates ``numpy_layer`` to torch, or ``None``."""
    twin = _BY_NUMPY_CLASS.get(type(numpy_layer))
    return twin if twin is not None and twin.to_torch is not None else None


def saveable_class(name):
    """The class saved under ``name`` (its class name), or ``None``."""
    return _SAVEABLE.get(name)


def registered_torch_names():
    """The torch classes ``from_torch`` can translate, sorted."""
    return tuple(sorted(name for name, twin in _BY_TORCH_NAME.items() if twin.from_torch is not None))


def registered_numpy_names():
    """The NumPy classes ``from_numpy`` can translate, sorted."""
    return tuple(sorted(cls.__name__ for cls, twin in _BY_NUMPY_CLASS.items() if twin.to_torch is not None))


def saveable_names():
    """The class names ``nncourse.io`` can save and rebuild, sorted."""
    return tuple(sorted(_SAVEABLE))


def convert_from_torch(torch_layer, where, rng):
    """Translate one torch layer (``where`` names it in errors: ``"model.2"``)."""
    twin = twin_for_torch_layer(torch_layer)
    if twin is None:
        raise ConversionError(
            f"from_torch cannot translate {where} = {torch_layer!r}: the NumPy back end has no "
            f"{type(torch_layer).__name__}. Supported layers: {', '.join(registered_torch_names())}."
        )
    return twin.from_torch(torch_layer, where, rng)


def convert_to_torch(numpy_layer, where):
    """Translate one NumPy layer (``where`` names it in errors: ``"model.2"``)."""
    twin = twin_for_numpy_layer(numpy_layer)
    if twin is None:
        raise ConversionError(
            f"from_numpy cannot translate {where} = {type(numpy_layer).__name__}: there is no torch "
            f"counterpart here. Supported numpy_nn layers: {', '.join(registered_numpy_names())}."
        )
    return twin.to_torch(numpy_layer, where)


# --- small tools for the converters (torch is imported inside each, never at import time) ----------------

def numpy_dtype_of(torch_layer, where, *, default=np.float32):
    """The NumPy dtype of ``torch_layer``'s weights (``default`` for a layer without any), or
    ``ConversionError`` for anything but float32/64."""
    import torch

    dtypes = {torch.float32: np.float32, torch.float64: np.float64}
    weight = next(torch_layer.parameters(), None)
    if weight is None:
        return default
    if weight.dtype not in dtypes:
        raise ConversionError(
            f"from_torch cannot translate {where} = {torch_layer!r}: its weights are {weight.dtype}; "
            f"the NumPy back end supports torch.float32 and torch.float64 (call .float() first)."
        )
    return dtypes[weight.dtype]


def to_numpy(tensor, dtype):
    """A NumPy copy of a torch tensor (never a view: changing one must not change the other)."""
    return np.array(tensor.detach().cpu().numpy(), dtype=dtype, copy=True)


def torch_dtype_of(numpy_layer, dtype=None):
    """The torch dtype matching ``dtype`` (default: the layer's ``dtype``), float32 or float64 only."""
    import torch

    dtype = np.dtype(numpy_layer.dtype if dtype is None else dtype)
    dtypes = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}
    if dtype not in dtypes:
        raise ConversionError(f"from_numpy cannot translate a {type(numpy_layer).__name__} of dtype {dtype}: "
                              f"torch twins are float32 or float64; build the layer with dtype=np.float32")
    return dtypes[dtype]


def copy_into(torch_parameter, array):
    """Copy a NumPy array into a torch parameter (same shape, same layout), without recording grads."""
    import torch

    with torch.no_grad():
        torch_parameter.copy_(torch.from_numpy(np.ascontiguousarray(array)))


def load_torch_state(numpy_twin, torch_layer):
    """Copy a torch module's ``state_dict`` into its NumPy twin (the names are the same); returns the twin."""
    numpy_twin.load_state_dict({name: to_numpy(t, numpy_twin.dtype) for name, t in torch_layer.state_dict().items()})
    return numpy_twin


def load_numpy_state(torch_twin, numpy_layer):
    """Copy a NumPy module's ``state_dict`` into its torch twin (the names are the same); returns the twin."""
    import torch

    torch_twin.load_state_dict({name: torch.from_numpy(array) for name, array in numpy_layer.state_dict().items()})
    return torch_twin
