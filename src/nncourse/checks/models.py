"""Helpers for checks that look inside a network the learner built (a ``torch.nn.Module``)."""


def leaf_modules(model):
    """The layers that hold no other layers, in order (``Sequential`` containers unpacked)."""
    return [m for m in model.modules() if next(m.children(), None) is None]


def describe_layers(layers) -> str:
    """``"Linear(784, 256), ReLU, Linear(256, 10)"``: how a check names the layers it found."""
    parts = []
    for layer in layers:
        if type(layer).__name__ == "Linear":
            parts.append(f"Linear({layer.in_features}, {layer.out_features})")
        else:
            parts.append(type(layer).__name__)
    return ", ".join(parts) or "no layers"
