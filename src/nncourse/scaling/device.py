"""Devices: one helper that chooses where tensors live, and the two mistakes everyone makes.

``pick_device()`` returns ``cuda`` when an NVIDIA (or ROCm) GPU is usable, else ``mps`` on an Apple
GPU, else ``cpu``: write the rest of the code against the returned ``torch.device`` and the same
notebook runs everywhere. ``to_device(obj, device)`` moves a model, a tensor, a NumPy array or a
(nested) tuple / list / dict of them. ``to_numpy(tensor)`` is the safe way back to NumPy.

The mistakes: a batch left on the CPU while the model sits on the GPU (torch: "Expected all tensors
to be on the same device"), and ``tensor.numpy()`` on a GPU tensor (torch: "can't convert cuda:0
device type tensor to numpy"). ``check_same_device`` and ``require_cpu`` name them before torch does,
with the fix.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

from ..errors import ConfigError
from ..validation import boolean, text

__all__ = ["DeviceError", "available_devices", "pick_device", "to_device", "to_numpy", "device_of",
           "check_same_device", "require_cpu", "loader_settings"]

KNOWN_TYPES = ("cpu", "cuda", "mps")


class DeviceError(ConfigError):
    """A tensor or model is on the wrong device, or a device was asked for that this machine lacks."""


def available_devices() -> tuple[str, ...]:
    """The device types usable on this machine, best first (always ends with ``"cpu"``)."""
    found = []
    if torch.cuda.is_available():
        found.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append("mps")
    return tuple(found) + ("cpu",)


def pick_device(preference: str | torch.device = "auto", *, available=None) -> torch.device:
    """The ``torch.device`` to train on.

    ``"auto"`` (default) takes the best of ``available`` (``available_devices()`` when not given):
    cuda, then mps, then cpu. A named device (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``) is
    returned if this machine has it, otherwise a ``DeviceError`` says so and how to fall back.
    ``available`` lets a test (or a chapter) ask what would happen on another machine.
    """
    simulated = available is not None
    available = tuple(available_devices() if available is None else _check_available(available))
    if not isinstance(preference, (str, torch.device)):
        raise DeviceError(f"pick_device: preference must be 'auto' or a device name such as 'cpu', 'cuda' or "
                          f"'cuda:1' (or a torch.device), got {type(preference).__name__} {preference!r:.40}.")
    if isinstance(preference, str) and preference.strip().lower() == "auto":
        return torch.device(available[0] if available else "cpu")
    try:
        device = torch.device(preference)
    except (RuntimeError, TypeError):
        raise DeviceError(f"pick_device: preference {preference!r} is not a device name. Use 'auto' or one of "
                          f"{', '.join(KNOWN_TYPES)} (for a second GPU: 'cuda:1').") from None
    if device.type not in KNOWN_TYPES:
        raise DeviceError(f"pick_device: device type {device.type!r} is not one the course trains on; use "
                          f"'auto' or one of {', '.join(KNOWN_TYPES)}.")
    if device.type not in available:
        raise DeviceError(
            f"pick_device: {device.type} was asked for, but this machine has no {device.type} device "
            f"(available: {', '.join(available)}). Use pick_device('auto'), which falls back to the CPU, "
            f"or run where a {device.type} device exists.")
    if device.type == "cuda" and device.index is not None and not simulated and \
            device.index >= torch.cuda.device_count():
        raise DeviceError(f"pick_device: cuda:{device.index} does not exist: this machine has "
                          f"{torch.cuda.device_count()} GPU(s), numbered from 0.")
    return device


def _check_available(available):
    """``available`` as a tuple of device types (``('cuda', 'cpu')``), each a name ``pick_device`` knows."""
    if isinstance(available, (str, bytes)) or not isinstance(available, (list, tuple)) \
            or not all(isinstance(kind, str) and kind in KNOWN_TYPES for kind in available):
        raise DeviceError(f"pick_device: available must be a list of device types, best first, each one of "
                          f"{', '.join(KNOWN_TYPES)}, such as ('cuda', 'cpu'), got {available!r:.60}; leave it out "
                          f"to ask this machine (available_devices()).")
    return tuple(available)


def to_device(obj, device, *, non_blocking: bool = False):
    """Move ``obj`` to ``device`` and return it.

    ``obj`` may be a ``torch.nn.Module`` (moved in place, like ``module.to``), a tensor, a NumPy array
    (turned into a tensor first), or a tuple / list / dict of these (moved item by item: a batch
    ``(x, y)`` from a DataLoader). Numbers, strings and ``None`` inside a batch are returned unchanged.
    ``device`` is checked first: one this machine lacks (``'cuda'`` without a GPU) is a ``DeviceError``.
    Something that cannot move, such as a ``numpy_nn`` model, is refused rather than returned as it was.
    """
    device = _target_device(device)
    non_blocking = boolean(non_blocking, "non_blocking", "to_device")
    return _move(obj, device, non_blocking)


def _target_device(device):
    """``device`` as a ``torch.device`` this machine has (a clear ``DeviceError`` otherwise)."""
    if isinstance(device, torch.device) and device.type == "meta":
        return device
    if not isinstance(device, (str, torch.device)):
        raise DeviceError(f"to_device: device must be a device name such as 'cpu' or 'cuda', or a torch.device, "
                          f"got {type(device).__name__} {device!r:.40}; pick_device() returns the best one here")
    if isinstance(device, str) and device.strip().lower() == "meta":
        return torch.device("meta")
    try:
        return pick_device(device)
    except DeviceError as error:
        reason = str(error).removeprefix("pick_device: ").replace("preference ", "device ", 1)
        raise DeviceError(f"to_device: {reason} To train on the CPU, pass device='cpu'.") from None


_STAYS = (int, float, complex, bool, str, bytes, type(None), np.generic)


def _move(obj, device, non_blocking):
    if isinstance(obj, torch.nn.Module):
        return obj.to(device)
    if isinstance(obj, torch.Tensor):
        return obj.to(device, non_blocking=non_blocking)
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind not in "biufc":
            raise DeviceError(f"to_device: a NumPy array of dtype {obj.dtype} cannot become a tensor; convert it "
                              f"to numbers first (for example with .astype(np.float32))")
        return torch.from_numpy(obj).to(device, non_blocking=non_blocking)
    if isinstance(obj, Mapping):
        return type(obj)((k, _move(v, device, non_blocking)) for k, v in obj.items())
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):        # a namedtuple
        return type(obj)(*(_move(v, device, non_blocking) for v in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(_move(v, device, non_blocking) for v in obj)
    if isinstance(obj, _STAYS):
        return obj
    numpy_model = type(obj).__module__.startswith("nncourse.")
    hint = (" A nncourse.numpy_nn model lives in NumPy, on the CPU: convert it first with "
            "nncourse.torch_nn.from_numpy(model), then move the torch model." if numpy_model else
            " Move its tensors or its torch model instead.")
    raise DeviceError(f"to_device cannot move a {type(obj).__name__}: only torch modules, tensors, NumPy arrays "
                      f"and tuples / lists / dicts of them can go to a device.{hint}")


def device_of(obj) -> torch.device | None:
    """The device of a tensor, or of a module's first parameter (``None`` for a module without any)."""
    if isinstance(obj, torch.Tensor):
        return obj.device
    if isinstance(obj, torch.nn.Module):
        for p in obj.parameters():
            return p.device
        for b in obj.buffers():
            return b.device
        return None
    raise DeviceError(f"device_of expects a tensor or a torch.nn.Module, got {type(obj).__name__}.")


def check_same_device(model, *tensors, names=None) -> torch.device:
    """Raise ``DeviceError`` unless every tensor is on the model's device; return that device.

    Call it on the first batch of a training loop: it names the tensor that was forgotten and the fix
    (``batch.to(device)``), where torch would stop deep inside a layer.
    """
    if names is not None and (isinstance(names, (str, bytes)) or not isinstance(names, (list, tuple))
                              or len(names) != len(tensors) or not all(isinstance(n, str) and n for n in names)):
        raise DeviceError(f"check_same_device: names must give one name (a non-empty string) per tensor, "
                          f"{len(tensors)} here, such as names=['x', 'y'], got {names!r:.60}; or leave names out.")
    where = device_of(model)
    if where is None:
        return torch.device("cpu")
    names = list(names) if names is not None else [f"tensor {i}" for i in range(len(tensors))]
    for name, t in zip(names, tensors):
        if isinstance(t, np.ndarray):
            raise DeviceError(f"{name} is a NumPy array, but the model is a torch model on {where}: "
                              f"convert it with to_device({name}, device) (torch.from_numpy(...).to(device)).")
        if isinstance(t, torch.Tensor) and t.device != where:
            raise DeviceError(
                f"{name} is on {t.device} but the model's parameters are on {where}: torch would stop "
                f"with 'Expected all tensors to be on the same device'. Move the batch where the model is: "
                f"{name} = {name}.to(device) (or to_device(batch, device)), with the same device that "
                f"model.to(device) used.")
    return where


def require_cpu(tensor, what: str = "the tensor") -> torch.Tensor:
    """Raise ``DeviceError`` if ``tensor`` is not in CPU memory (NumPy can read only that)."""
    what = text(what, "what", "require_cpu")
    if not isinstance(tensor, (torch.Tensor, np.ndarray)):
        raise DeviceError(f"require_cpu: tensor must be a torch.Tensor (or a NumPy array, which is in CPU memory "
                          f"already), got {type(tensor).__name__}; convert it with torch.as_tensor(...).")
    if isinstance(tensor, torch.Tensor) and tensor.device.type != "cpu":
        raise DeviceError(
            f"{what} is on {tensor.device}: NumPy reads CPU memory only, so .numpy() fails there "
            f"(torch: \"can't convert ... to numpy\"). Copy it first: {what}.detach().cpu().numpy(), "
            f"or to_numpy({what}).")
    return tensor


def to_numpy(tensor) -> np.ndarray:
    """``tensor.detach().cpu().numpy()``: works for a tensor on any device, with or without a graph."""
    if isinstance(tensor, np.ndarray):
        return tensor
    if not isinstance(tensor, torch.Tensor):
        raise DeviceError(f"to_numpy expects a tensor, got {type(tensor).__name__}.")
    if tensor.device.type == "meta":
        raise DeviceError("to_numpy: a tensor on the 'meta' device has a shape but no values, so there is "
                          "nothing to copy; compute it on a real device (cpu, cuda, mps).")
    if tensor.dtype == torch.bfloat16:             # NumPy has no bfloat16: widen it, exactly
        tensor = tensor.float()
    return tensor.detach().cpu().numpy()


def loader_settings(device, *, num_workers: int = 0) -> dict:
    """DataLoader keyword arguments that suit ``device``.

    ``pin_memory`` (page-locked host memory, faster and asynchronous copies to a GPU) only helps
    with CUDA; ``persistent_workers`` keeps worker processes alive between epochs when there are any.
    """
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):
        raise DeviceError(f"loader_settings: {device!r} is not a device name; use one of {', '.join(KNOWN_TYPES)} "
                          f"or pick_device()") from None
    if not isinstance(num_workers, (int, np.integer)) or isinstance(num_workers, bool) or num_workers < 0:
        raise ConfigError(f"loader_settings: num_workers must be an integer >= 0, got {num_workers!r}.")
    num_workers = int(num_workers)
    return {"num_workers": num_workers, "pin_memory": device.type == "cuda",
            "persistent_workers": num_workers > 0}
