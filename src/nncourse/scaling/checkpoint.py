"""Checkpoints that survive a crash: everything needed to continue a run as if it had never stopped.

A checkpoint holds the model's weights, and also the optimizer's state (Adam's moments, SGD's
momentum), the scheduler's position, the step counter and every random number generator's state
(Python's, NumPy's global one, torch's CPU and CUDA ones). Leave one out and the resumed run drifts
from the uninterrupted one: the learning rate restarts, the momentum is lost, the next batches differ.

Saving is **atomic**: the file is written under a temporary name in the same folder, flushed to disk,
then renamed over the old one (``os.replace``, a single step on every operating system). A crash
while saving leaves the previous checkpoint untouched, never half a file.
"""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path

import numpy as np
import torch

from ..errors import ConfigError, DataError

__all__ = ["rng_state", "set_rng_state", "save_checkpoint", "load_checkpoint", "latest_checkpoint",
           "checkpoint_name"]

FORMAT = "nncourse-checkpoint-1"


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
    random.setstate(_as_tuple(state["python"]))
    n = state["numpy"]
    np.random.set_state({"bit_generator": n["bit_generator"],
                         "state": {"key": n["key"].numpy().astype(np.uint32), "pos": n["pos"]},
                         "has_gauss": n["has_gauss"], "gauss": n["gauss"]})
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _as_tuple(x):
    return tuple(_as_tuple(v) for v in x) if isinstance(x, (list, tuple)) else x


def checkpoint_name(step: int) -> str:
    """``step-00000120.pt``: names that sort in step order."""
    return f"step-{int(step):08d}.pt"


def save_checkpoint(path, *, model, optimizer=None, scheduler=None, step: int = 0, extra=None) -> Path:
    """Write a checkpoint to ``path`` atomically and return the path.

    ``model`` may be wrapped in ``DistributedDataParallel``: its ``.module`` is saved, so the file
    loads into a plain model. ``extra`` is any small dict of plain values (losses so far, a config).
    """
    path = Path(path)
    model = getattr(model, "module", model)              # unwrap DistributedDataParallel
    state = {"format": FORMAT, "step": int(step), "model": model.state_dict(),
             "optimizer": None if optimizer is None else optimizer.state_dict(),
             "scheduler": None if scheduler is None else scheduler.state_dict(),
             "rng": rng_state(), "extra": extra}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())                          # the bytes are on disk before the rename
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


def load_checkpoint(path, *, model, optimizer=None, scheduler=None, restore_rng: bool = True,
                    map_location="cpu") -> dict:
    """Load a checkpoint into ``model`` (and ``optimizer``, ``scheduler``); return ``{"step", "extra"}``.

    ``restore_rng=True`` also restores every random generator, so the run continues with the same
    batches and dropout masks it would have drawn. ``map_location`` moves the tensors (a checkpoint
    saved on a GPU loads on a CPU-only machine with the default ``"cpu"``).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"load_checkpoint: no checkpoint at {path}. Check the path, or start the run "
                        f"from scratch when there is nothing to resume (latest_checkpoint(folder) returns None).")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:   # truncated / not a torch file: torch raises several kinds
        raise DataError(f"load_checkpoint: {path} is not a readable checkpoint ({type(exc).__name__}); it "
                        f"may be truncated or another kind of file. Delete it and resume from an earlier "
                        f"checkpoint.") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise DataError(f"load_checkpoint: {path} was not written by save_checkpoint (no "
                        f"{FORMAT!r} marker). For a bare state_dict use model.load_state_dict(torch.load(path)).")
    model = getattr(model, "module", model)
    own, saved = set(model.state_dict()), set(state["model"])
    if own != saved:
        missing, unexpected = sorted(own - saved), sorted(saved - own)
        raise ConfigError(f"load_checkpoint: the checkpoint does not fit this model: missing {missing[:5]}, "
                          f"unexpected {unexpected[:5]}. Build the model with the same architecture as the "
                          f"run that saved it (a 'module.' prefix means a DDP model's state_dict was saved "
                          f"without unwrapping: save model.module).")
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as exc:
        raise ConfigError(f"load_checkpoint: the checkpoint's tensors do not fit this model "
                          f"({str(exc).splitlines()[-1].strip()}). Build the model with the same sizes as the "
                          f"run that saved it.") from None
    for name, obj in (("optimizer", optimizer), ("scheduler", scheduler)):
        if obj is None:
            continue
        if state[name] is None:
            raise ConfigError(f"load_checkpoint: a {name} was given but the checkpoint has no {name} state: "
                              f"save it with save_checkpoint(..., {name}={name}), or do not pass one.")
        obj.load_state_dict(state[name])
    if restore_rng:
        set_rng_state(state["rng"])
    return {"step": state["step"], "extra": state["extra"]}


def latest_checkpoint(folder, pattern: str = "step-*.pt") -> Path | None:
    """The newest checkpoint in ``folder`` by name (``checkpoint_name`` sorts by step), or ``None``."""
    folder = Path(folder)
    if not folder.is_dir():
        return None
    found = sorted(p for p in folder.glob(pattern) if p.is_file())
    return found[-1] if found else None
