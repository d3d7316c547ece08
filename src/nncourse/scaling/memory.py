"""The arithmetic of scaling up: memory for training, compute per step, bytes per all-reduce.

Plain arithmetic, no torch, used by the chapter's calculator widget and its exercises:

- weights, gradients: one number per parameter each, of the training dtype (4 bytes in float32,
  2 in bfloat16);
- Adam's state: two more numbers per parameter (the first and second moments ``m`` and ``v``);
- compute: about ``6 N`` floating-point operations per token (or example) and parameter: ``2 N`` for
  the forward pass (a multiply and an add per weight) and ``4 N`` for the backward pass (the gradient
  with respect to the inputs and with respect to the weights);
- one ring all-reduce of the gradients: each worker sends ``2 (W - 1) / W`` times their bytes.

Activations are left out: they depend on the architecture, the sequence length and the batch,
and are what gradient accumulation and activation checkpointing trade against time.
"""

from __future__ import annotations

import math
import numbers

from ..errors import ConfigError
from .data_parallel import ring_bytes_per_worker

__all__ = ["BYTES_PER_NUMBER", "bytes_per_number", "training_memory", "flops_per_step", "scaling_figures",
           "human_bytes", "human_flops"]

BYTES_PER_NUMBER = {"float64": 8, "float32": 4, "bfloat16": 2, "float16": 2}

#: numbers per parameter each optimizer keeps besides the weights and gradients
OPTIMIZER_STATES = {"sgd": 0, "momentum": 1, "adam": 2, "adamw": 2}


def bytes_per_number(dtype: str) -> int:
    if str(dtype) not in BYTES_PER_NUMBER:
        raise ConfigError(f"unknown dtype {dtype!r}: use one of {', '.join(BYTES_PER_NUMBER)}.")
    return BYTES_PER_NUMBER[str(dtype)]


def _count(n, what):
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ConfigError(f"{what} must be a positive whole number, got {n!r}.")
    return int(n)


def training_memory(n_params: int, dtype: str = "float32", optimizer: str = "adam") -> dict[str, int]:
    """Bytes for the weights, the gradients and the optimizer's state of a model of ``n_params``.

    Everything is kept in ``dtype`` (the simple picture of the calculator; mixed-precision training
    usually keeps a float32 copy of the weights and float32 moments besides bfloat16 weights).
    """
    n, b = _count(n_params, "n_params"), bytes_per_number(dtype)
    if optimizer not in OPTIMIZER_STATES:
        raise ConfigError(f"unknown optimizer {optimizer!r}: use one of {', '.join(OPTIMIZER_STATES)}.")
    weights = gradients = n * b
    state = OPTIMIZER_STATES[optimizer] * n * b
    return {"weights": weights, "gradients": gradients, "optimizer": state,
            "total": weights + gradients + state}


def flops_per_step(n_params: int, tokens: int) -> int:
    """About ``6 * n_params * tokens`` floating-point operations for one forward and backward pass."""
    return 6 * _count(n_params, "n_params") * _count(tokens, "tokens")


def scaling_figures(n_params: int, tokens_per_worker: int, world_size: int, dtype: str = "float32") -> dict:
    """Everything the calculator shows, for one setting."""
    W = _count(world_size, "world_size")
    tokens_per_worker = _count(tokens_per_worker, "scaling_figures: tokens_per_worker")
    memory = training_memory(n_params, dtype, "adam")
    per_worker = flops_per_step(n_params, tokens_per_worker)
    return {"flops_per_worker": per_worker, "flops_per_step": per_worker * W,
            "tokens_per_step": tokens_per_worker * W,
            "allreduce_bytes_per_worker": int(round(ring_bytes_per_worker(memory["gradients"], W))),
            **{f"memory_{k}": v for k, v in memory.items()}}


def human_bytes(n: float) -> str:
    """``1536 -> '1.5 KiB'``: binary units, three significant figures."""
    if isinstance(n, bool) or not isinstance(n, numbers.Real) or not math.isfinite(n) or n < 0:
        raise ConfigError(f"human_bytes: n must be a finite number of bytes >= 0 (a number of bytes cannot be "
                          f"negative, NaN or infinite), got {n!r} ({type(n).__name__}); pass a count such as "
                          f"training_memory(...)['total']")
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.3g} {unit}"
        n /= 1024


def human_flops(n: float) -> str:
    """``3.2e12 -> '3.2 TFLOP'``: decimal units, three significant figures."""
    if isinstance(n, bool) or not isinstance(n, numbers.Real) or not math.isfinite(n) or n < 0:
        raise ConfigError(f"human_flops: n must be a finite number of operations >= 0, got {n!r} "
                          f"({type(n).__name__}); pass a count such as flops_per_step(...)")
    for unit, scale in (("PFLOP", 1e15), ("TFLOP", 1e12), ("GFLOP", 1e9), ("MFLOP", 1e6), ("kFLOP", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n:.3g} FLOP"
