"""``Module``: the base class of every layer, activation and loss.

A module does two things:

* ``forward(x)`` computes the output and keeps (caches) what the backward pass will need;
* ``backward(grad_output)`` receives d loss / d output and returns d loss / d input, adding the
  gradients of its own parameters to their ``.grad`` on the way (chain rule, one layer at a time).

Everything else here is bookkeeping borrowed from ``torch.nn.Module``: parameters and sub-modules are
registered automatically when you assign them as attributes, so ``parameters()``,
``named_parameters()``, ``state_dict()``, ``train()``/``eval()`` and ``zero_grad()`` work for any
network built from modules.
"""

import functools

import numpy as np

from .. import validation
from ..errors import ConfigError, CourseError, DTypeError, ShapeError
from ..validation import as_array
from .parameter import Parameter

__all__ = ["Module"]


class Module:
    """Base class: subclasses implement ``forward`` and ``backward`` (and call ``super().__init__()``)."""

    def __init_subclass__(cls, **kwargs):
        """Every subclass's ``forward`` opens a pass and its ``backward`` closes it (one rule for all).

        A module that owns parameters runs backward once per forward pass, as torch's autograd does:
        its backward *adds* to ``.grad``, so a second call after the same forward would count the
        gradients twice. Modules without parameters (activations, ``Dropout``, losses) are pure
        functions of their cache and may be asked again, e.g. for one row of a Jacobian per call.
        """
        super().__init_subclass__(**kwargs)
        if "forward" in cls.__dict__:
            cls.forward = _opens_a_pass(cls.__dict__["forward"])
        if "backward" in cls.__dict__:
            cls.backward = _closes_a_pass(cls.__dict__["backward"])

    #: True for layers whose ``backward`` takes ``need_input_grad=False`` (skip d loss / d input when
    #: the layer comes first in a network: the data is not learned). ``Sequential`` and ``fit`` use it.
    can_skip_input_grad = False

    def __init__(self):
        # object.__setattr__ skips our own registration logic below.
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "training", True)

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name, value):
        """Assigning a Parameter or a Module as an attribute registers it (like torch)."""
        if "_parameters" not in self.__dict__:
            raise CourseError(
                f"{type(self).__name__}.__init__ must call super().__init__() before assigning attributes"
            )
        if name in self._buffers:
            # a registered buffer stays one: assigning an array replaces its value (torch does the same)
            self._buffers[name] = value
            object.__setattr__(self, name, value)
            return
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def register_buffer(self, name, array):
        """Register ``array`` as state that is saved but not learned (BatchNorm's running mean, ...).

        Buffers appear in ``state_dict()`` after the parameters, as in torch, and are not returned by
        ``parameters()``, so no optimizer changes them. Assign ``self.name = new_array`` to update one.
        """
        if "_buffers" not in self.__dict__:
            raise CourseError(f"{type(self).__name__}.__init__ must call super().__init__() before "
                              f"register_buffer")
        _check_name(name, f"{type(self).__name__}.register_buffer")
        if not isinstance(array, np.ndarray):
            raise DTypeError(f"{type(self).__name__}.register_buffer('{name}') expects a NumPy array, got "
                             f"{type(array).__name__}")
        self._buffers[name] = array
        object.__setattr__(self, name, array)

    def add_module(self, name, module):
        """Register ``module`` under ``name`` (used by ``Sequential``, whose names are "0", "1", ...)."""
        _check_name(name, f"{type(self).__name__}.add_module", allow_int=True)
        if not isinstance(module, Module):
            raise ConfigError(
                f"{type(self).__name__}: expected a Module for '{name}' (the module argument), got "
                f"{type(module).__name__}; pass a layer such as nn.ReLU(), not a class name or an array"
            )
        self._modules[str(name)] = module

    # ------------------------------------------------------------------ running
    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not implement forward()")

    def backward(self, grad_output):
        raise NotImplementedError(f"{type(self).__name__} does not implement backward()")

    # ------------------------------------------------------------------ walking the tree
    def named_children(self):
        """Yield ``(name, module)`` for the direct sub-modules, in the order they were added."""
        yield from self._modules.items()

    def children(self):
        for _, module in self.named_children():
            yield module

    def named_modules(self, prefix=""):
        """Yield ``(name, module)`` for this module and every module inside it (depth first)."""
        _check_prefix(prefix, f"{type(self).__name__}.named_modules")
        return self._named_modules(prefix)

    def _named_modules(self, prefix):
        yield prefix, self
        for name, child in self._modules.items():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_parameters(self, prefix=""):
        """Yield ``(name, parameter)`` with torch's dotted names: ``"0.weight"``, ``"0.bias"``, ...

        A parameter shared by two layers is listed once.
        """
        _check_prefix(prefix, f"{type(self).__name__}.named_parameters")
        return self._named_parameters(prefix)

    def _named_parameters(self, prefix):
        seen = set()
        for module_name, module in self.named_modules(prefix):
            for name, param in module._parameters.items():
                if id(param) in seen:
                    continue
                seen.add(id(param))
                yield (f"{module_name}.{name}" if module_name else name), param

    def parameters(self):
        """Yield every learnable ``Parameter`` (hand this to an optimizer)."""
        for _, param in self.named_parameters():
            yield param

    def named_buffers(self, prefix=""):
        """Yield ``(name, array)`` for every buffer, with the same dotted names as the parameters."""
        _check_prefix(prefix, f"{type(self).__name__}.named_buffers")
        return self._named_buffers(prefix)

    def _named_buffers(self, prefix):
        for module_name, module in self.named_modules(prefix):
            for name, array in module._buffers.items():
                yield (f"{module_name}.{name}" if module_name else name), array

    # ------------------------------------------------------------------ state
    def state_dict(self):
        """A dict ``name -> copy of the parameter's array`` (changing it does not change the model).

        Each module's parameters come first, then its buffers (in ``named_modules`` order), as in torch.
        """
        return {name: current.copy() for name, (_, _, current, _) in self._state_entries().items()}

    def _state_entries(self):
        """``name -> (module, attribute, current array, is_parameter)`` for everything in ``state_dict``."""
        entries, seen = {}, set()
        for module_name, module in self.named_modules():
            prefix = f"{module_name}." if module_name else ""
            for name, param in module._parameters.items():
                if id(param) not in seen:   # a parameter shared by two layers is listed once
                    seen.add(id(param))
                    entries[prefix + name] = (module, name, param.data, True)
            for name, array in module._buffers.items():
                entries[prefix + name] = (module, name, array, False)
        return entries

    def load_state_dict(self, state_dict):
        """Copy the arrays of ``state_dict`` into the parameters (cast to each parameter's dtype)."""
        own = self._state_entries()
        missing = [name for name in own if name not in state_dict]
        unexpected = [name for name in state_dict if name not in own]
        if missing or unexpected:
            raise ConfigError(
                f"{type(self).__name__}.load_state_dict: the names do not match the model. "
                f"Missing: {missing or 'none'}; unexpected: {unexpected or 'none'}. "
                f"The model expects {list(own)}."
            )
        for name, (module, attribute, current, _) in own.items():
            value = np.asarray(state_dict[name])
            if value.shape != current.shape:
                raise ShapeError(
                    f"{type(self).__name__}.load_state_dict: '{name}' has shape {current.shape} in the "
                    f"model but {value.shape} in the state dict"
                )
            if value.dtype.kind not in "fiu":
                raise DTypeError(
                    f"{type(self).__name__}.load_state_dict: '{name}' must hold numbers, got dtype {value.dtype}"
                )
            module._check_loaded_buffer(attribute, value, f"{type(self).__name__}.load_state_dict: '{name}'")
        for name, (module, attribute, current, _) in own.items():
            np.copyto(current, np.asarray(state_dict[name]), casting="unsafe")
        return self

    def _check_loaded_buffer(self, attribute, value, where):
        """Refuse a value ``load_state_dict`` would put in this module (a layer with buffers overrides it).

        Called for every entry before anything is copied, so that a refused state dict changes nothing.
        """

    # ------------------------------------------------------------------ modes and gradients
    def train(self, mode=True):
        """Switch this module and all sub-modules to training mode (or evaluation if ``mode=False``)."""
        mode = validation.boolean(mode, "mode", f"{type(self).__name__}.train")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self):
        """Evaluation mode: ``Dropout`` becomes the identity. Same as ``train(False)``."""
        return self.train(False)

    def zero_grad(self):
        """Set every parameter's ``.grad`` to ``None`` (torch's default)."""
        for param in self.parameters():
            param.grad = None

    def requires_grad_(self, requires_grad=True):
        """Freeze (``False``) or unfreeze every parameter of this module, in place; returns the module
        (torch's ``Module.requires_grad_``). Freeze a whole model, then unfreeze the part to train."""
        for param in self.parameters():
            param.requires_grad = requires_grad
        return self

    def to(self, dtype):
        """Cast every parameter to ``dtype`` in place (e.g. ``np.float64`` for gradient checks)."""
        dtype = validation.float_dtype(dtype, f"{type(self).__name__}.to")
        for module in self.modules():
            for param in module._parameters.values():
                param.data = param.data.astype(dtype)
                if param.grad is not None:
                    param.grad = param.grad.astype(dtype)
            for name, array in module._buffers.items():
                if array.dtype.kind == "f":   # running statistics follow the weights; counters stay integers
                    setattr(module, name, array.astype(dtype))
            if "dtype" in module.__dict__:
                object.__setattr__(module, "dtype", dtype)
        return self

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    # ------------------------------------------------------------------ helpers for subclasses
    def _require_forward(self, cached):
        """Raise a clear error when ``backward`` runs before ``forward`` (``cached`` is still None)."""
        if cached is None:
            raise CourseError(
                f"{self._label()}.backward() was called before forward(): run the forward pass first "
                f"(output = layer(x)), then call backward(grad_output)"
            )

    def _second_backward_message(self):
        return (
            f"{self._label()}.backward() was called a second time after one forward pass. Its "
            f"gradients were already added to the parameters' .grad, and a second backward would "
            f"add them again (doubling them; torch refuses too: 'Trying to backward through the "
            f"graph a second time'). Run the forward pass again (output = model(x)) before each "
            f"backward. To add up the gradients of several batches on purpose, run forward and "
            f"backward for each batch and call zero_grad() only before the first."
        )

    def _check_grad_output(self, grad_output, shape, dtype):
        """``grad_output`` must have the shape (and dtype) of the output of the last forward pass."""
        if not isinstance(grad_output, np.ndarray):
            raise DTypeError(
                f"{self._label()}.backward expects a NumPy array, got {type(grad_output).__name__}"
            )
        if grad_output.shape != shape:
            raise ShapeError(
                f"{self._label()}.backward expects grad_output of shape {shape} (the shape of the last "
                f"output), got {grad_output.shape}"
            )
        if grad_output.dtype != dtype:
            raise DTypeError(
                f"{self._label()}.backward expects grad_output of dtype {dtype} (like the output), got "
                f"{grad_output.dtype}: convert with grad_output.astype(np.{dtype})"
            )

    def _label(self):
        """Short name used in error messages, e.g. ``Linear(784 → 256)`` or ``ReLU``."""
        return type(self).__name__

    # ------------------------------------------------------------------ printing
    def extra_repr(self):
        """The text inside the brackets of ``repr`` (override in subclasses)."""
        return ""

    def __repr__(self):
        if not self._modules:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"{type(self).__name__}("]
        for name, module in self._modules.items():
            child = repr(module).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child}")
        lines.append(")")
        return "\n".join(lines)


def _check_prefix(prefix, who):
    if not isinstance(prefix, str):
        raise ConfigError(f"{who}: prefix must be a string (\"\" for none), got {prefix!r}")


def _check_name(name, who, *, allow_int=False):
    """A sub-module or buffer name: a non-empty identifier-like string (Sequential passes ints)."""
    if allow_int and isinstance(name, int) and not isinstance(name, bool) and name >= 0:
        return
    if not isinstance(name, str) or not name or "." in name:
        raise ConfigError(f"{who}: name must be a non-empty string without dots, such as 'encoder', got "
                          f"{name!r}")


def check_float_array(x, who, *, argument="input"):
    """Return ``x`` as a floating-point ndarray, or raise ``DTypeError`` naming ``who``.

    O(1): only looks at the type and dtype, never at the values.
    """
    if not isinstance(x, np.ndarray):
        x = as_array(x, argument, who)
    if x.dtype.kind != "f":
        raise DTypeError(
            f"{who} expects a floating-point {argument}, got dtype {x.dtype}: "
            f"convert it with x.astype(np.float32) (or np.float64)"
        )
    return x


def _opens_a_pass(forward):
    """Wrap a subclass's ``forward``: after it, one backward pass is allowed (see ``__init_subclass__``)."""
    @functools.wraps(forward)
    def forward_pass(self, *args, **kwargs):
        output = forward(self, *args, **kwargs)
        object.__setattr__(self, "_backward_done", False)
        return output
    return forward_pass


def _closes_a_pass(backward):
    """Wrap a subclass's ``backward``: a module with parameters refuses a second one per forward."""
    @functools.wraps(backward)
    def backward_pass(self, *args, **kwargs):
        if "need_input_grad" in kwargs and not isinstance(kwargs["need_input_grad"], bool):
            validation.boolean(kwargs["need_input_grad"], "need_input_grad", f"{type(self).__name__}.backward")
        owns_parameters = next(self.parameters(), None) is not None
        if owns_parameters and self.__dict__.get("_backward_done", False):
            raise CourseError(self._second_backward_message())
        result = backward(self, *args, **kwargs)
        if owns_parameters:
            object.__setattr__(self, "_backward_done", True)
        return result
    return backward_pass
