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

from .errors import ConversionError, CourseError, DataError, NonFiniteError
from .numpy_nn import registry
from .utils import publish, unwritable_folder_message

__all__ = ["save_numpy_model", "load_numpy_model", "save_torch_model", "load_torch_model"]

FORMAT_NAME = "nncourse.numpy_model"
FORMAT_VERSION = 1
ARCHITECTURE_KEY = "architecture"


# --------------------------------------------------------------------------------------------------
# Describing and rebuilding NumPy layers: each saveable class says how (numpy_nn.registry)
# --------------------------------------------------------------------------------------------------

#: A saved architecture nested deeper than this is refused (a hostile file would end in RecursionError).
MAX_DEPTH = 64
#: A whole-number argument of a saved layer (a width, a vocabulary size) larger than both this and the
#: number of saved weights is refused: the file could not hold the weights of such a layer, and
#: building it could exhaust the memory.
MIN_SIZE_BOUND = 1 << 16


def describe_layer(layer):
    """A JSON-ready dict that says how to rebuild ``layer`` (its weights are stored separately)."""
    kind = type(layer).__name__
    if registry.saveable_class(kind) is not type(layer):
        raise ConversionError(f"save_numpy_model cannot describe a {kind} layer: it is not declared @saveable. "
                              f"Saveable layers: {', '.join(registry.saveable_names())}")
    config = layer.get_config() if hasattr(layer, "get_config") else {}   # an activation has no arguments
    return {"type": kind, **{key: _describe_value(value) for key, value in config.items()}}


def build_layer(spec, where="model", *, size_bound=None, depth=0):
    """Rebuild a layer from ``describe_layer``'s dict (fresh weights; load the state dict afterwards).

    ``where`` names the layer in error messages (``model.0`` is the first layer of the model).
    ``size_bound`` (the number of saved weights) refuses absurd sizes before anything is allocated.
    """
    if depth > MAX_DEPTH:
        raise DataError(f"cannot rebuild {where}: the architecture is nested more than {MAX_DEPTH} levels deep, "
                        f"which no model of the course is; the file is damaged or hostile: save the model again")
    kind = spec.get("type") if isinstance(spec, dict) else None
    cls = registry.saveable_class(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ConversionError(f"cannot rebuild {where}: a layer of type {kind!r}; known types are "
                              f"{', '.join(registry.saveable_names())}")
    config = {key: value for key, value in spec.items() if key != "type"}
    missing = [name for name in registry.required_arguments(cls) if name not in config]
    if missing:
        raise DataError(f"cannot rebuild {where} ({kind}): its description lacks {', '.join(map(repr, missing))}. "
                        f"The architecture was edited or damaged: save the model again with save_numpy_model")
    bound = max(MIN_SIZE_BOUND, size_bound or 0)
    for key, value in config.items():
        if _is_layer_spec(value):
            config[key] = build_layer(value, f"{where}.{key}", size_bound=size_bound, depth=depth + 1)
        elif isinstance(value, list) and value and all(_is_layer_spec(item) for item in value):
            config[key] = [build_layer(item, f"{where}.{i}", size_bound=size_bound, depth=depth + 1)
                           for i, item in enumerate(value)]
        elif isinstance(value, list) and any(isinstance(item, (dict, list)) for item in value):
            raise DataError(f"cannot rebuild {where} ({kind}): '{key}' must be a list of layers or of numbers")
        elif isinstance(value, int) and not isinstance(value, bool) and value > bound:
            raise DataError(f"cannot rebuild {where} ({kind}): {key}={value} is larger than the file's "
                            f"{size_bound or 0} saved weights could fill, so the architecture was edited or "
                            f"damaged (building it could exhaust the memory): save the model again")
    return cls.from_config(config) if hasattr(cls, "from_config") else cls(**config)


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


# --------------------------------------------------------------------------------------------------
# NumPy models
# --------------------------------------------------------------------------------------------------


def _atomic_write(path, write, who="save"):
    """Call ``write(file)`` on a temporary file next to ``path``, then rename it to ``path``.

    The file gets the usual mode (0o644 with the common umask), not mkstemp's private 0o600.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as error:
        raise DataError(f"{who}: path {path} cannot be written. "
                        + unwritable_folder_message(path.parent, error, what="the model",
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

    Returns the path written. A layer that is not declared ``@saveable`` raises ``ConversionError``, and
    weights that hold NaN or infinity (a diverged run) raise ``NonFiniteError``: such a file is useless.
    """
    from .numpy_nn import Module

    if not isinstance(model, Module):
        raise ConversionError(f"save_numpy_model saves nncourse.numpy_nn models, got {type(model).__name__}"
                              + ("; for a torch model use save_torch_model(model, path)"
                                 if hasattr(model, "state_dict") else ""))
    architecture = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "training": bool(model.training),
                    "model": describe_layer(model)}
    state = model.state_dict()
    broken = [name for name, array in state.items() if array.dtype.kind == "f" and not np.isfinite(array).all()]
    if broken:
        raise NonFiniteError(f"save_numpy_model: the weights {', '.join(broken[:5])} hold NaN or infinite values "
                             f"(the run diverged), so the saved model could never predict anything: retrain with a "
                             f"smaller learning rate (or load the last good save) and save again")
    if ARCHITECTURE_KEY in state:
        raise ConversionError(f"a parameter is called {ARCHITECTURE_KEY!r}, the name the file reserves for the layers")
    arrays = {ARCHITECTURE_KEY: np.array(json.dumps(architecture, sort_keys=True)), **state}
    _check_not_a_folder(Path(path), "save_numpy_model")
    _check_not_a_folder(_npz_path(path), "save_numpy_model")
    return _atomic_write(_npz_path(path), lambda file: np.savez(file, **arrays), "save_numpy_model")


def _check_not_a_folder(path, who):
    if path.is_dir():
        example = path / ("model.pt" if "torch" in who else "model.npz")
        raise DataError(f"{who}: path {path} is a folder, not a file: give a file name inside it, e.g. {example}")


def _no_saved_model(path, who):
    """The error for a path with no file: it names the path, and a file standing where a folder should be."""
    blocker = next((parent for parent in path.parents if parent.exists() and not parent.is_dir()), None)
    why = f": {blocker} is a file, not a folder" if blocker is not None else ""
    return DataError(f"{who}: no saved model at path {path}{why}; check the path (and that the model was saved "
                     f"there with {'save_torch_model' if 'torch' in who else 'save_numpy_model'})")


def load_numpy_model(path):
    """Rebuild a model saved by ``save_numpy_model``: same layers, same weights, same train/eval mode."""
    from . import models  # noqa: F401  the complete models declare themselves @saveable when imported

    path = Path(path)
    _check_not_a_folder(path, "load_numpy_model")
    if not path.is_file() and _npz_path(path).is_file():
        path = _npz_path(path)
    if not path.is_file():
        raise _no_saved_model(path, "load_numpy_model")
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
    except RecursionError:
        raise DataError(f"{path}: the architecture is nested too deeply to read (more than {MAX_DEPTH} levels is "
                        f"never a real model): the file is damaged or hostile; save the model again") from None
    if not isinstance(architecture, dict):
        raise DataError(f"{path}: the architecture must be a JSON object, got {type(architecture).__name__}")
    if architecture.get("format") != FORMAT_NAME or architecture.get("version") != FORMAT_VERSION:
        raise DataError(f"{path}: unknown model format {architecture.get('format')!r} version "
                        f"{architecture.get('version')!r}; expected {FORMAT_NAME!r} version {FORMAT_VERSION}")
    if "model" not in architecture:
        raise DataError(f"{path}: the architecture lacks its 'model' entry; save the model again")
    try:
        model = build_layer(architecture["model"], size_bound=sum(array.size for array in arrays.values()))
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
    _check_not_a_folder(path, "save_torch_model")
    return _atomic_write(path, lambda file: torch.save(model.state_dict(), file), "save_torch_model")


def load_torch_model(model, path):
    """Load a state dict saved by ``save_torch_model`` into ``model`` (same architecture); returns ``model``.

    The file is read with ``torch.load(..., weights_only=True)``, onto the CPU; ``load_state_dict``
    then copies the tensors onto the model's device.
    """
    import pickle

    import torch

    if not isinstance(model, torch.nn.Module):
        raise ConversionError(f"load_torch_model: model must be a torch.nn.Module built with the same architecture "
                              f"(it loads into it), got {type(model).__name__}; for numpy_nn files use "
                              f"load_numpy_model(path)")
    path = Path(path)
    _check_not_a_folder(path, "load_torch_model")
    if not path.is_file():
        raise _no_saved_model(path, "load_torch_model")
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
