"""``Sequential``: layers applied one after the other (torch keeps it in ``torch/nn/modules/container.py``)."""

from ..errors import ConfigError
from ..validation import boolean
from .module import Module
from .registry import convert_from_torch, convert_to_torch, saveable, twin_of

__all__ = ["Sequential"]


def _from_torch(layer, where, rng):
    return Sequential(*(convert_from_torch(child, f"{where}.{name}", rng) for name, child in layer.named_children()))


def _to_torch(layer, where):
    import torch

    return torch.nn.Sequential(*(convert_to_torch(child, f"{where}.{name}") for name, child in layer.named_children()))


@saveable
@twin_of("torch.nn.Sequential", from_torch=_from_torch, to_torch=_to_torch)
class Sequential(Module):
    """Layers applied one after the other: forward in order, backward in reverse order.

    >>> model = Sequential(Linear(2, 3), ReLU(), Linear(3, 1))   # doctest: +SKIP
    >>> y = model(x); grad_x = model.backward(grad_y)            # doctest: +SKIP
    """

    can_skip_input_grad = True

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

    def get_config(self):
        return {"layers": list(self._modules.values())}

    @classmethod
    def from_config(cls, config):
        if not isinstance(config, dict) or not isinstance(config.get("layers"), (list, tuple)):
            got = (f"a dict with keys {sorted(map(str, config))}" if isinstance(config, dict)
                   else f"{type(config).__name__} {config!r:.40}")
            raise ConfigError(f"{cls.__name__}.from_config: config must be a dict {{'layers': [module, ...]}}, as "
                              f"get_config() returns, got {got}; pass model.get_config()")
        return cls(*config["layers"])

    def forward(self, x):
        for layer in self._modules.values():
            x = layer(x)
        return x

    def backward(self, grad_output, *, need_input_grad=True):
        """Run every layer's backward, last layer first; return d loss / d input.

        With ``need_input_grad=False`` (what a training loop wants) the first layer, if it can
        (``can_skip_input_grad``: ``Linear``, ``Conv2d``, ``Sequential``), skips computing
        d loss / d input, which nobody uses, and ``None`` is returned.
        A network with parameters runs backward once per forward pass (see ``Module.__init_subclass__``).
        """
        need_input_grad = boolean(need_input_grad, "need_input_grad", "Sequential.backward")
        layers = list(self._modules.values())
        grad = grad_output
        for index in range(len(layers) - 1, -1, -1):
            layer = layers[index]
            if index == 0 and not need_input_grad and layer.can_skip_input_grad:
                grad = layer.backward(grad, need_input_grad=False)
                break
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
