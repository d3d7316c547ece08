"""Checkpoints that survive a crash: everything needed to continue a run as if it had never stopped.

A checkpoint holds the model's weights, and also the optimizer's state (Adam's moments, SGD's
momentum), the scheduler's position, the step counter and every random number generator's state
(Python's, NumPy's global one, torch's CPU and CUDA ones). Leave one out and the resumed run drifts
from the uninterrupted one: the learning rate restarts, the momentum is lost, the next batches differ.

Saving is **atomic**: the file is written under a temporary name in the same folder, flushed to disk,
loaded back with the loader, then renamed over the old one (``os.replace``, a single step on every
operating system). A crash while saving, a file that would not load, or a diverged model (NaN weights)
leaves the previous checkpoint untouched, never half a file or a useless one. Loading is all or
nothing: everything is checked before the model, optimizer or scheduler is changed.
"""

from __future__ import annotations

import io
import os
import random
import re
import tempfile
from pathlib import Path

import numpy as np
import torch

from ..errors import ConfigError, ConversionError, DataError, NonFiniteError
from ..utils import unwritable_folder_message
from ..validation import boolean, non_negative_int, text

__all__ = ["rng_state", "set_rng_state", "save_checkpoint", "load_checkpoint", "latest_checkpoint",
           "checkpoint_name"]

FORMAT = "nncourse-checkpoint-1"
KIND_KEY = "nncourse_kind"   # the optimizer's / scheduler's class name, stored inside its state


def rng_state() -> dict:
    """The state of Python's, NumPy's (global), torch's CPU and (when present) CUDA generators."""
    np_state = np.random.get_state(legacy=False)
    state = {
        "python": random.getstate(),
        "numpy": {"bit_generator": np_state["bit_generator"],
                  "key": torch.from_numpy(np_state["state"]["key"].astype(np.int64)),
                  "pos": int(np_state["state"]["pos"]), "has_gauss": int(np_state["has_gauss"]),
                  "gauss": float(np_state["gauss"])},
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Restore what ``rng_state`` returned."""
    _check_rng_state(state)
    random.setstate(_as_tuple(state["python"]))
    n = state["numpy"]
    np.random.set_state({"bit_generator": n["bit_generator"],
                         "state": {"key": n["key"].numpy().astype(np.uint32), "pos": n["pos"]},
                         "has_gauss": n["has_gauss"], "gauss": n["gauss"]})
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _check_rng_state(state) -> None:
    """All or nothing: ``state`` must look like what ``rng_state`` returned before any generator changes."""
    numpy_keys = {"bit_generator", "key", "pos", "has_gauss", "gauss"}
    if not isinstance(state, dict) or not {"python", "numpy", "torch"} <= set(state) \
            or not isinstance(state["numpy"], dict) or not numpy_keys <= set(state["numpy"]):
        found = sorted(state) if isinstance(state, dict) else type(state).__name__
        raise ConfigError(f"set_rng_state: state must be what rng_state() returned, a dict with the generators "
                          f"'python', 'numpy' and 'torch' (and 'cuda' on a GPU machine), got {found!r:.80}; "
                          f"save it with state = rng_state() and pass that dict back.")


def _as_tuple(x):
    return tuple(_as_tuple(v) for v in x) if isinstance(x, (list, tuple)) else x


def checkpoint_name(step: int) -> str:
    """``step-00000120.pt``: names that sort in step order."""
    return f"step-{int(step):08d}.pt"


def _check_target(path: Path, who: str) -> None:
    """Refuse a folder given as the file, or a file standing where a parent folder should be."""
    if path.is_dir():
        raise DataError(f"{who}: path {path} is a folder, not a file: give a file name inside it, e.g. "
                        f"{path / checkpoint_name(0)}")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise DataError(f"{who}: {parent} is a file, so it cannot hold {path.name}: choose a path whose "
                                f"parent is a folder (or remove/rename the file {parent})")
            break


def _torch_model(model, who: str):
    """``model`` unwrapped from DistributedDataParallel, after checking it is a torch module."""
    model = getattr(model, "module", model)               # unwrap DistributedDataParallel
    if isinstance(model, torch.nn.Module):
        return model
    from ..numpy_nn import Module as NumpyModule
    if isinstance(model, NumpyModule):
        raise ConversionError(f"{who}: model is a NumPy model ({type(model).__name__}); checkpoints hold torch "
                              f"models. Save a NumPy model with nncourse.io.save_numpy_model(model, path) "
                              f"(and load it with load_numpy_model), or convert it with nncourse.torch_nn.from_numpy")
    raise ConfigError(f"{who}: model must be a torch.nn.Module, got {type(model).__name__}; pass the model itself "
                      f"(not its parameters or state_dict)")


def _stateful(obj, name: str, who: str):
    if obj is not None and not (callable(getattr(obj, "state_dict", None))
                                and callable(getattr(obj, "load_state_dict", None))):
        raise ConfigError(f"{who}: {name} must be a torch {name} (with state_dict/load_state_dict) or None, got "
                          f"{type(obj).__name__}")
    if name == "optimizer" and obj is not None and not isinstance(obj, torch.optim.Optimizer):
        raise ConfigError(f"{who}: optimizer must be a torch.optim optimizer or None, got {type(obj).__name__}")


def _non_finite(tensors: dict) -> list[str]:
    return [name for name, t in tensors.items()
            if torch.is_tensor(t) and t.is_floating_point() and not bool(torch.isfinite(t).all())]


def _optimizer_tensors(state: dict) -> dict:
    return {f"{i}.{k}": v for i, per_param in state.get("state", {}).items() for k, v in per_param.items()}


def _why_unloadable(extra) -> str | None:
    """The reason ``torch.load(weights_only=True)`` refuses ``extra``, or None when it loads."""
    buffer = io.BytesIO()
    try:
        torch.save(extra, buffer)
        buffer.seek(0)
        torch.load(buffer, weights_only=True)
    except Exception as exc:
        found = re.search(r"Unsupported global: GLOBAL ([\w.]+)", str(exc))
        return found.group(1) if found else f"{type(exc).__name__}"
    return None


def save_checkpoint(path, *, model, optimizer=None, scheduler=None, step: int = 0, extra=None) -> Path:
    """Write a checkpoint to ``path`` atomically and return the path.

    ``model`` may be wrapped in ``DistributedDataParallel``: its ``.module`` is saved, so the file
    loads into a plain model. ``extra`` is any small dict of plain values (losses so far, a config):
    Python ``int``/``float``/``str``/``bool``, lists, dicts and tensors, which is what
    ``torch.load(weights_only=True)`` reads back (NumPy scalars are not: write ``float(x)``).

    The file is written under a temporary name, loaded back with the loader, then renamed over the old
    one: a checkpoint that could not be loaded, or whose weights hold NaN or infinity (a diverged run),
    raises and leaves the previous file byte for byte. NumPy models are refused: save them with
    ``nncourse.io.save_numpy_model``.
    """
    who = "save_checkpoint"
    path = Path(path)
    _check_target(path, who)
    model = _torch_model(model, who)
    _stateful(optimizer, "optimizer", who)
    _stateful(scheduler, "scheduler", who)
    step = non_negative_int(step, "step", who)
    weights = model.state_dict()
    broken = _non_finite(weights)
    if broken:
        raise NonFiniteError(f"{who}: the weights {', '.join(broken[:5])} hold NaN or infinite values (the run "
                             f"diverged), so this checkpoint could not resume anything; the previous checkpoint is "
                             f"kept. Resume from it with a smaller learning rate (or gradient clipping).")
    optimizer_state = None if optimizer is None else optimizer.state_dict()
    if optimizer_state is not None:
        broken = _non_finite(_optimizer_tensors(optimizer_state))
        if broken:
            raise NonFiniteError(f"{who}: the optimizer's state ({', '.join(broken[:3])}) holds NaN or infinite "
                                 f"values (the run diverged); the previous checkpoint is kept. Resume from it with "
                                 f"a smaller learning rate.")
        optimizer_state = {**optimizer_state, KIND_KEY: type(optimizer).__name__}
    scheduler_state = None if scheduler is None else {**scheduler.state_dict(), KIND_KEY: type(scheduler).__name__}
    state = {"format": FORMAT, "step": step, "model": weights, "optimizer": optimizer_state,
             "scheduler": scheduler_state, "rng": rng_state(), "extra": extra}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as error:
        raise DataError(unwritable_folder_message(path.parent, error, what="the checkpoint",
                                                  fix="save it into another folder")) from None
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())                          # the bytes are on disk before the rename
        try:
            torch.load(tmp, map_location="cpu", weights_only=True)     # the loader load_checkpoint uses
        except Exception as exc:
            culprit = _why_unloadable(extra)
            if culprit is not None:
                raise ConfigError(f"{who}: extra holds a value torch.load(weights_only=True) cannot read back "
                                  f"({culprit}), so the checkpoint would be unloadable; the previous checkpoint is "
                                  f"kept. Store plain Python values: float(x) or int(x) for a NumPy number, "
                                  f"x.tolist() or torch.from_numpy(x) for an array.") from None
            raise DataError(f"{who}: the checkpoint written to {path.name} could not be loaded back "
                            f"({type(exc).__name__}: {str(exc).splitlines()[0][:200]}); the previous checkpoint is "
                            f"kept. Check that optimizer and scheduler are torch's own.") from None
        os.replace(tmp, path)                             # atomic: the old file or the new, never half
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    try:                                                  # make the rename itself durable (POSIX)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass
    return path


def _check_map_location(map_location, who: str) -> None:
    """A device named in ``map_location`` must exist here (a missing GPU is a device error, not a bad file)."""
    if map_location is None or isinstance(map_location, dict) or callable(map_location):
        return
    try:
        device = torch.device(map_location)
    except (RuntimeError, TypeError):
        raise ConfigError(f"{who}: map_location={map_location!r} is not a device; use map_location='cpu' "
                          f"(or 'cuda', 'cuda:0' where a GPU is present)") from None
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0 or (device.index is not None and device.index >= count):
            have = f"{count} GPU(s), cuda:0 to cuda:{count - 1}" if count else "no GPU"
            raise ConfigError(f"{who}: map_location={map_location!r} names a GPU this machine does not have "
                              f"({have}); load with map_location='cpu' and move the model afterwards")
    elif device.type == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise ConfigError(f"{who}: map_location={map_location!r} names an Apple GPU this machine does not have; "
                          f"load with map_location='cpu'")


def _check_optimizer(saved: dict, optimizer, who: str) -> None:
    """Refuse an optimizer state of another class or over other parameters, before anything is loaded."""
    kind = saved.get(KIND_KEY)
    if kind is not None and kind != type(optimizer).__name__:
        raise ConfigError(f"{who}: the checkpoint holds the state of a {kind} optimizer, but optimizer is a "
                          f"{type(optimizer).__name__}; build the same optimizer class as the run that saved it "
                          f"(or pass optimizer=None to load only the weights)")
    own = optimizer.state_dict()
    groups, own_groups = saved.get("param_groups", []), own["param_groups"]
    sizes, own_sizes = [len(g["params"]) for g in groups], [len(g["params"]) for g in own_groups]
    if sizes != own_sizes:
        raise ConfigError(f"{who}: the checkpoint's optimizer state covers other parameters (groups of {sizes} "
                          f"tensors, this optimizer has {own_sizes}); build the optimizer over the same model's "
                          f"parameters as the run that saved it: optimizer(model.parameters(), ...)")
    if groups and set(groups[0]) != set(own_groups[0]):
        raise ConfigError(f"{who}: the checkpoint holds the state of another kind of optimizer (settings "
                          f"{sorted(set(groups[0]) - {'params'})}); build the same optimizer class as the run that "
                          f"saved it")
    shapes = [p.shape for group in optimizer.param_groups for p in group["params"]]
    ids = [i for g in groups for i in g["params"]]
    where = dict(zip(ids, shapes))
    for index, per_param in saved.get("state", {}).items():
        shape = where.get(index)
        for key, value in per_param.items():
            if torch.is_tensor(value) and value.dim() > 0 and shape is not None and value.shape != shape:
                raise ConfigError(f"{who}: the checkpoint's optimizer state {key!r} has shape {tuple(value.shape)} "
                                  f"where this optimizer's parameter has {tuple(shape)}: it belongs to other "
                                  f"parameters; build the optimizer over the model of the run that saved it")


def _check_scheduler(saved: dict, scheduler, who: str) -> None:
    kind = saved.get(KIND_KEY)
    own = scheduler.state_dict()
    other = set(saved) - {KIND_KEY} != set(own)
    if (kind is not None and kind != type(scheduler).__name__) or other:
        raise ConfigError(f"{who}: the checkpoint holds the state of a {kind or 'different'} scheduler, but "
                          f"scheduler is a {type(scheduler).__name__}; build the same scheduler as the run that "
                          f"saved it (or pass scheduler=None)")


def load_checkpoint(path, *, model, optimizer=None, scheduler=None, restore_rng: bool = True,
                    map_location="cpu") -> dict:
    """Load a checkpoint into ``model`` (and ``optimizer``, ``scheduler``); return ``{"step", "extra"}``.

    ``restore_rng=True`` also restores every random generator, so the run continues with the same
    batches and dropout masks it would have drawn. ``map_location`` moves the tensors (a checkpoint
    saved on a GPU loads on a CPU-only machine with the default ``"cpu"``).

    All or nothing: the file, the model's keys and shapes, the optimizer's class and parameters and the
    scheduler's kind are all checked before anything is changed, so a refused load leaves the model,
    optimizer, scheduler and generators as they were.
    """
    who = "load_checkpoint"
    path = Path(path)
    restore_rng = boolean(restore_rng, "restore_rng", who)
    if path.is_dir():
        raise DataError(f"{who}: path {path} is a folder, not a checkpoint file: pass path= a file inside it, e.g. "
                        f"latest_checkpoint({str(path)!r})")
    if not path.is_file():
        raise DataError(f"load_checkpoint: no checkpoint at {path}. Check the path, or start the run "
                        f"from scratch when there is nothing to resume (latest_checkpoint(folder) returns None).")
    model = _torch_model(model, who)
    _stateful(optimizer, "optimizer", who)
    _stateful(scheduler, "scheduler", who)
    _check_map_location(map_location, who)
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:   # truncated / not a torch file: torch raises several kinds
        raise DataError(f"load_checkpoint: {path} is not a readable checkpoint ({type(exc).__name__}); it "
                        f"may be truncated or another kind of file. Delete it and resume from an earlier "
                        f"checkpoint.") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise DataError(f"load_checkpoint: {path} was not written by save_checkpoint (no "
                        f"{FORMAT!r} marker). For a bare state_dict use model.load_state_dict(torch.load(path)).")
    rng = state.get("rng")
    complete = isinstance(rng, dict) and {"python", "numpy", "torch"} <= set(rng)
    if not isinstance(state.get("model"), dict) or not complete:
        raise DataError(f"load_checkpoint: {path} has the checkpoint marker but not its contents (no model weights "
                        f"or generator states): it was edited or written by another program. Resume from an "
                        f"earlier checkpoint.")
    own_state = model.state_dict()
    own, saved = set(own_state), set(state["model"])
    if own != saved:
        missing, unexpected = sorted(own - saved), sorted(saved - own)
        raise ConfigError(f"load_checkpoint: the checkpoint does not fit this model: missing {missing[:5]}, "
                          f"unexpected {unexpected[:5]}. Build the model with the same architecture as the "
                          f"run that saved it (a 'module.' prefix means a DDP model's state_dict was saved "
                          f"without unwrapping: save model.module).")
    wrong = [f"{k}: {tuple(v.shape)} saved, {tuple(own_state[k].shape)} here" for k, v in state["model"].items()
             if torch.is_tensor(v) and v.shape != own_state[k].shape]
    if wrong:
        raise ConfigError(f"load_checkpoint: the checkpoint's tensors do not fit this model ({'; '.join(wrong[:3])})."
                          f" Build the model with the same sizes as the run that saved it.")
    broken = _non_finite(state["model"])
    if broken:
        raise NonFiniteError(f"load_checkpoint: the weights {', '.join(broken[:5])} in {path} hold NaN or infinite "
                             f"values; resume from an earlier checkpoint")
    for name, obj in (("optimizer", optimizer), ("scheduler", scheduler)):
        if obj is None:
            continue
        if state[name] is None:
            raise ConfigError(f"load_checkpoint: a {name} was given but the checkpoint has no {name} state: "
                              f"save it with save_checkpoint(..., {name}={name}), or do not pass one.")
    if optimizer is not None:
        _check_optimizer(state["optimizer"], optimizer, who)
    if scheduler is not None:
        _check_scheduler(state["scheduler"], scheduler, who)
    # Everything is checked: from here on, state changes.
    model.load_state_dict(state["model"])
    for name, obj in (("optimizer", optimizer), ("scheduler", scheduler)):
        if obj is not None:
            obj.load_state_dict({k: v for k, v in state[name].items() if k != KIND_KEY})
    if restore_rng:
        set_rng_state(state["rng"])
    return {"step": state["step"], "extra": state["extra"]}


def latest_checkpoint(folder, pattern: str = "step-*.pt") -> Path | None:
    """The newest checkpoint in ``folder`` by name (``checkpoint_name`` sorts by step), or ``None``."""
    who = "latest_checkpoint"
    pattern = text(pattern, "pattern", who)
    if not isinstance(folder, (str, os.PathLike)) or not str(folder):
        raise ConfigError(f"{who}: folder must be the path of a folder, got {folder!r:.40}")
    folder = Path(folder)
    for place in (folder, *folder.parents):
        if place.exists() and not place.is_dir():
            raise DataError(f"{who}: folder {folder} cannot hold checkpoints: {place} is a file, not a folder; "
                            f"pass the folder that save_checkpoint wrote into")
        if place.exists():
            break
    if not folder.is_dir():
        return None                                       # no folder yet: nothing to resume
    found = sorted(p for p in folder.glob(pattern) if p.is_file())
    return found[-1] if found else None
