"""Saving and loading trained models, without pickle.

**NumPy models** go into one ``.npz`` file (``numpy.savez``): an entry ``"architecture"`` holding a JSON
string that describes the layers, plus one array per parameter under its ``state_dict`` name
(``"0.weight"``, ``"0.bias"``, ...). Loading parses the JSON, rebuilds the layers and copies the
arrays in, with ``allow_pickle=False``, so opening a file cannot run code.

**PyTorch models** are saved the way PyTorch recommends: ``torch.save(model.state_dict(), path)``. To
load, build the same architecture and call ``load_torch_model(model, path)``, which reads the file with
``torch.load(..., weights_only=True)`` (tensors only, no arbitrary objects).

Both savers write to a temporary file first and rename it, so a crash never leaves half a file.
"""

import json
import os
import tempfile
import zipfile
import zlib
from pathlib import Path

import numpy as np

from .errors import ConversionError, CourseError, DataError
from .numpy_nn import registry
from .utils import publish, unwritable_folder_message

__all__ = ["save_numpy_model", "load_numpy_model", "save_torch_model", "load_torch_model"]

FORMAT_NAME = "nncourse.numpy_model"
FORMAT_VERSION = 1
ARCHITECTURE_KEY = "architecture"
GPT_ARGUMENTS = ("vocab_size", "context_length", "d_model", "n_heads", "n_layers", "dropout")


# --------------------------------------------------------------------------------------------------
# Describing and rebuilding NumPy layers
# --------------------------------------------------------------------------------------------------


def _layer_classes():
    from . import numpy_nn as nn

    return {
        "Linear": nn.Linear, "Dropout": nn.Dropout, "Sequential": nn.Sequential, "Step": nn.Step,
        "Sigmoid": nn.Sigmoid, "Tanh": nn.Tanh, "ReLU": nn.ReLU, "LeakyReLU": nn.LeakyReLU,
        "Softmax": nn.Softmax, "Identity": nn.Identity,
        "Conv2d": nn.Conv2d, "MaxPool2d": nn.MaxPool2d, "Flatten": nn.Flatten,
        "GPT": nn.GPT,  # ch10: rebuilt from its constructor arguments (GPT_ARGUMENTS)
    }


def describe_layer(layer):
    """A JSON-ready dict that says how to rebuild ``layer`` (its weights are stored separately)."""
    kind = type(layer).__name__
    if registry.saveable_class(kind) is type(layer):
        return {"type": kind, **{key: _describe_value(value) for key, value in layer.get_config().items()}}
    classes = _layer_classes()
    if classes.get(kind) is not type(layer):
        raise ConversionError(f"save_numpy_model cannot describe a {kind} layer; supported layers are "
                              f"{', '.join(classes)}")
    spec = {"type": kind}
    if kind == "Linear":
        spec.update(in_features=layer.in_features, out_features=layer.out_features,
                    bias=layer.bias is not None, dtype=np.dtype(layer.dtype).name)
    elif kind == "Dropout":
        spec["p"] = layer.p
    elif kind == "LeakyReLU":
        spec["negative_slope"] = layer.negative_slope
    elif kind == "Softmax":
        spec["dim"] = layer.dim
    elif kind == "Sequential":
        spec["layers"] = [describe_layer(child) for child in layer]
    elif kind == "Conv2d":
        spec.update(in_channels=layer.in_channels, out_channels=layer.out_channels,
                    kernel_size=list(layer.kernel_size), stride=list(layer.stride),
                    padding=list(layer.padding), bias=layer.bias is not None,
                    dtype=np.dtype(layer.dtype).name)
    elif kind == "MaxPool2d":
        spec.update(kernel_size=list(layer.kernel_size), stride=list(layer.stride), padding=list(layer.padding))
    elif kind == "Flatten":
        spec.update(start_dim=layer.start_dim, end_dim=layer.end_dim)
    elif kind == "GPT":
        spec.update({name: getattr(layer, name) for name in GPT_ARGUMENTS}, dtype=np.dtype(layer.dtype).name)
    return spec


# The keys each kind of layer needs in its description (besides "type").
_REQUIRED_KEYS = {"Linear": ("in_features", "out_features", "bias", "dtype"), "Dropout": ("p",),
                  "LeakyReLU": ("negative_slope",), "Softmax": ("dim",), "Sequential": ("layers",),
                  "Conv2d": ("in_channels", "out_channels", "kernel_size", "stride", "padding", "bias", "dtype"),
                  "MaxPool2d": ("kernel_size", "stride", "padding"), "Flatten": ("start_dim", "end_dim"),
                  "GPT": (*GPT_ARGUMENTS, "dtype")}


def build_layer(spec, where="model"):
    """Rebuild a layer from ``describe_layer``'s dict (fresh weights; load the state dict afterwards).

    ``where`` names the layer in error messages (``model.0`` is the first layer of the model).
    """
    kind = spec.get("type") if isinstance(spec, dict) else None
    if isinstance(kind, str) and registry.saveable_class(kind) is not None:
        return _build_saveable(registry.saveable_class(kind), spec, where)
    classes = _layer_classes()
    if kind not in classes:
        raise ConversionError(f"cannot rebuild {where}: a layer of type {kind!r}; known types are "
                              f"{', '.join(classes)}")
    missing = [key for key in _REQUIRED_KEYS.get(kind, ()) if key not in spec]
    if missing:
        raise DataError(f"cannot rebuild {where} ({kind}): its description lacks {', '.join(map(repr, missing))}. "
                        f"The architecture was edited or damaged: save the model again with save_numpy_model")
    if kind == "Sequential" and not isinstance(spec["layers"], list):
        raise DataError(f"cannot rebuild {where} (Sequential): 'layers' must be a list, got "
                        f"{type(spec['layers']).__name__}")
    cls = classes[kind]
    if kind == "Linear":
        return cls(spec["in_features"], spec["out_features"], bias=spec["bias"], seed=0, dtype=spec["dtype"])
    if kind == "Dropout":
        return cls(spec["p"])
    if kind == "LeakyReLU":
        return cls(spec["negative_slope"])
    if kind == "Softmax":
        return cls(spec["dim"])
    if kind == "Sequential":
        return cls(*[build_layer(child, f"{where}.{i}") for i, child in enumerate(spec["layers"])])
    if kind == "Conv2d":
        return cls(spec["in_channels"], spec["out_channels"], tuple(spec["kernel_size"]),
                   stride=tuple(spec["stride"]), padding=tuple(spec["padding"]), bias=spec["bias"],
                   init="zeros", dtype=spec["dtype"])
    if kind == "MaxPool2d":
        return cls(tuple(spec["kernel_size"]), stride=tuple(spec["stride"]), padding=tuple(spec["padding"]))
    if kind == "Flatten":
        return cls(spec["start_dim"], spec["end_dim"])
    if kind == "GPT":
        return cls(*(spec[name] for name in GPT_ARGUMENTS), seed=0, dtype=spec["dtype"])
    return cls()


def _describe_value(value):
    """A config value as JSON: modules (and lists of modules) are described as layers of their own."""
    from .numpy_nn import Module

    if isinstance(value, Module):
        return describe_layer(value)
    if isinstance(value, (list, tuple)) and value and all(isinstance(item, Module) for item in value):
        return [describe_layer(item) for item in value]
    return value


def _is_layer_spec(value):
    return isinstance(value, dict) and isinstance(value.get("type"), str)


def _build_saveable(cls, spec, where):
    """Rebuild a ``@saveable`` class from its config (nested layer descriptions rebuilt first)."""
    config = {key: value for key, value in spec.items() if key != "type"}
    missing = [name for name in registry.required_arguments(cls) if name not in config]
    if missing:
        raise DataError(f"cannot rebuild {where} ({cls.__name__}): its description lacks "
                        f"{', '.join(map(repr, missing))}. The architecture was edited or damaged: save the "
                        f"model again with save_numpy_model")
    for key, value in config.items():
        if _is_layer_spec(value):
            config[key] = build_layer(value, f"{where}.{key}")
        elif isinstance(value, list) and value and all(_is_layer_spec(item) for item in value):
            config[key] = [build_layer(item, f"{where}.{key}.{i}") for i, item in enumerate(value)]
    return cls.from_config(config) if hasattr(cls, "from_config") else cls(**config)


# --------------------------------------------------------------------------------------------------
# NumPy models
# --------------------------------------------------------------------------------------------------


def _atomic_write(path, write):
    """Call ``write(file)`` on a temporary file next to ``path``, then rename it to ``path``.

    The file gets the usual mode (0o644 with the common umask), not mkstemp's private 0o600.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as error:
        raise DataError(unwritable_folder_message(path.parent, error, what="the model",
                                                  fix="save it into another folder")) from None
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
        publish(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _npz_path(path):
    path = Path(path)
    return path if path.suffix == ".npz" else path.with_name(path.name + ".npz")


def save_numpy_model(model, path):
    """Save a NumPy model (a ``Sequential`` or a single layer) to ``path`` (``.npz`` is added if missing).

    Returns the path written. Layers other than Linear, Conv2d, MaxPool2d, Flatten, Dropout,
    Sequential and the activations raise ``ConversionError``.
    """
    from .numpy_nn import Module

    if not isinstance(model, Module):
        raise ConversionError(f"save_numpy_model saves nncourse.numpy_nn models, got {type(model).__name__}"
                              + ("; for a torch model use save_torch_model(model, path)"
                                 if hasattr(model, "state_dict") else ""))
    architecture = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "training": bool(model.training),
                    "model": describe_layer(model)}
    state = model.state_dict()
    if ARCHITECTURE_KEY in state:
        raise ConversionError(f"a parameter is called {ARCHITECTURE_KEY!r}, the name the file reserves for the layers")
    arrays = {ARCHITECTURE_KEY: np.array(json.dumps(architecture, sort_keys=True)), **state}
    return _atomic_write(_npz_path(path), lambda file: np.savez(file, **arrays))


def load_numpy_model(path):
    """Rebuild a model saved by ``save_numpy_model``: same layers, same weights, same train/eval mode."""
    path = Path(path)
    if not path.is_file() and _npz_path(path).is_file():
        path = _npz_path(path)
    if not path.is_file():
        raise DataError(f"no saved model at {path}")
    try:
        with np.load(path, allow_pickle=False) as contents:
            arrays = {name: contents[name] for name in contents.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        # A truncated or damaged file: a zip without its directory, a bad CRC, a broken deflate stream.
        raise DataError(f"{path} is damaged or truncated, not a readable .npz file ({error}). Save the "
                        f"model again (save_numpy_model), or copy the file again if it came from elsewhere") from None
    if ARCHITECTURE_KEY not in arrays:
        raise DataError(f"{path} has no {ARCHITECTURE_KEY!r} entry; was it written by save_numpy_model?")
    try:
        architecture = json.loads(str(arrays.pop(ARCHITECTURE_KEY)))
    except json.JSONDecodeError as error:
        raise DataError(f"{path}: the architecture is not valid JSON ({error})") from None
    if not isinstance(architecture, dict):
        raise DataError(f"{path}: the architecture must be a JSON object, got {type(architecture).__name__}")
    if architecture.get("format") != FORMAT_NAME or architecture.get("version") != FORMAT_VERSION:
        raise DataError(f"{path}: unknown model format {architecture.get('format')!r} version "
                        f"{architecture.get('version')!r}; expected {FORMAT_NAME!r} version {FORMAT_VERSION}")
    if "model" not in architecture:
        raise DataError(f"{path}: the architecture lacks its 'model' entry; save the model again")
    try:
        model = build_layer(architecture["model"])
        model.load_state_dict(arrays)
    except DataError as error:
        raise DataError(f"{path}: {error}") from None
    except (CourseError, TypeError) as error:  # e.g. in_features = "abc", or weights of the wrong shape
        raise DataError(f"{path}: the saved architecture and weights do not fit together ({error}). "
                        f"Save the model again with save_numpy_model") from None
    model.train(architecture.get("training", True))
    return model


# --------------------------------------------------------------------------------------------------
# PyTorch models
# --------------------------------------------------------------------------------------------------


def save_torch_model(model, path):
    """``torch.save(model.state_dict(), path)``, written atomically. Returns the path."""
    import torch

    if not isinstance(model, torch.nn.Module):
        raise ConversionError(f"save_torch_model saves torch.nn.Module models, got {type(model).__name__}; "
                              f"for a numpy_nn model use save_numpy_model(model, path)")
    path = Path(path)
    return _atomic_write(path, lambda file: torch.save(model.state_dict(), file))


def load_torch_model(model, path):
    """Load a state dict saved by ``save_torch_model`` into ``model`` (same architecture); returns ``model``.

    The file is read with ``torch.load(..., weights_only=True)``, onto the CPU; ``load_state_dict``
    then copies the tensors onto the model's device.
    """
    import pickle

    import torch

    if not isinstance(model, torch.nn.Module):
        raise ConversionError(f"load_torch_model loads into a torch.nn.Module built with the same architecture, "
                              f"got {type(model).__name__}; for numpy_nn files use load_numpy_model(path)")
    path = Path(path)
    if not path.is_file():
        raise DataError(f"no saved model at {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError) as error:
        raise DataError(f"{path} is not a state dict that can be loaded safely: {error}") from None
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        raise DataError(f"the state dict in {path} does not fit this model (build the same architecture "
                        f"first):\n{error}") from None
    return model
