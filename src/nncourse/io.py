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
from pathlib import Path

import numpy as np

from .errors import ConversionError, DataError

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
        "GPT": nn.GPT,  # ch10: rebuilt from its constructor arguments (GPT_ARGUMENTS)
    }


def describe_layer(layer):
    """A JSON-ready dict that says how to rebuild ``layer`` (its weights are stored separately)."""
    classes = _layer_classes()
    kind = type(layer).__name__
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
    elif kind == "GPT":
        spec.update({name: getattr(layer, name) for name in GPT_ARGUMENTS}, dtype=np.dtype(layer.dtype).name)
    return spec


def build_layer(spec):
    """Rebuild a layer from ``describe_layer``'s dict (fresh weights; load the state dict afterwards)."""
    classes = _layer_classes()
    kind = spec.get("type") if isinstance(spec, dict) else None
    if kind not in classes:
        raise ConversionError(f"cannot rebuild a layer of type {kind!r}; known types are {', '.join(classes)}")
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
        return cls(*[build_layer(child) for child in spec["layers"]])
    if kind == "GPT":
        return cls(*(spec[name] for name in GPT_ARGUMENTS), seed=0, dtype=spec["dtype"])
    return cls()


# --------------------------------------------------------------------------------------------------
# NumPy models
# --------------------------------------------------------------------------------------------------


def _atomic_write(path, write):
    """Call ``write(file)`` on a temporary file next to ``path``, then rename it to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _npz_path(path):
    path = Path(path)
    return path if path.suffix == ".npz" else path.with_name(path.name + ".npz")


def save_numpy_model(model, path):
    """Save a NumPy model (a ``Sequential`` or a single layer) to ``path`` (``.npz`` is added if missing).

    Returns the path written. Layers other than Linear, Dropout, Sequential and the activations
    raise ``ConversionError``.
    """
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
    except (OSError, ValueError) as error:
        raise DataError(f"{path} is not a readable .npz file: {error}") from None
    if ARCHITECTURE_KEY not in arrays:
        raise DataError(f"{path} has no {ARCHITECTURE_KEY!r} entry; was it written by save_numpy_model?")
    try:
        architecture = json.loads(str(arrays.pop(ARCHITECTURE_KEY)))
    except json.JSONDecodeError as error:
        raise DataError(f"{path}: the architecture is not valid JSON ({error})") from None
    if architecture.get("format") != FORMAT_NAME or architecture.get("version") != FORMAT_VERSION:
        raise DataError(f"{path}: unknown model format {architecture.get('format')!r} version "
                        f"{architecture.get('version')!r}; expected {FORMAT_NAME!r} version {FORMAT_VERSION}")
    model = build_layer(architecture["model"])
    model.load_state_dict(arrays)
    model.train(architecture.get("training", True))
    return model


# --------------------------------------------------------------------------------------------------
# PyTorch models
# --------------------------------------------------------------------------------------------------


def save_torch_model(model, path):
    """``torch.save(model.state_dict(), path)``, written atomically. Returns the path."""
    import torch

    path = Path(path)
    return _atomic_write(path, lambda file: torch.save(model.state_dict(), file))


def load_torch_model(model, path):
    """Load a state dict saved by ``save_torch_model`` into ``model`` (same architecture); returns ``model``.

    The file is read with ``torch.load(..., weights_only=True)``, onto the CPU; ``load_state_dict``
    then copies the tensors onto the model's device.
    """
    import pickle

    import torch

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
