"""Gradient accumulation: the gradient of a large batch, computed a few small batches at a time.

Memory limits the batch a device can hold, not the batch the optimizer may see. Run the large batch
as micro-batches, add up their gradients (backward passes accumulate into ``.grad``, in torch and in
``numpy_nn``), and step once. The one thing to get right is the scaling: with a mean loss,

    L = (1/N) sum_n l_n = sum_k (N_k / N) * L_k,      L_k = the mean loss of micro-batch k,

so each micro-batch's loss is multiplied by ``N_k / N`` before its backward pass (``1 / K`` when all K
micro-batches have the same size). Without it the gradient is K times too large, which is the same
as a K times larger learning rate. A loss with ``reduction="sum"`` needs no scaling.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError, ShapeError

__all__ = ["micro_batches", "accumulate_gradients", "accumulated_step"]


def micro_batches(n: int, micro_batch_size: int) -> list[slice]:
    """Consecutive slices of at most ``micro_batch_size`` rows covering ``range(n)``."""
    if not isinstance(micro_batch_size, (int, np.integer)) or isinstance(micro_batch_size, bool) \
            or micro_batch_size < 1:
        raise ConfigError(f"micro_batch_size must be an integer >= 1, got {micro_batch_size!r}.")
    if n < 1:
        raise ShapeError("gradient accumulation needs a batch of at least one example, got an empty batch.")
    return [slice(start, min(start + micro_batch_size, n)) for start in range(0, n, micro_batch_size)]


def _is_torch(model) -> bool:
    torch_module = type(model).__mro__
    return any(cls.__module__.startswith("torch.") for cls in torch_module)


def accumulate_gradients(model, loss_fn, x, y, micro_batch_size: int) -> float:
    """Add the gradient of the mean loss over the whole ``(x, y)`` into ``.grad``, micro-batch by micro-batch.

    Works with a torch model and loss (``loss.backward()``) and with a ``numpy_nn`` model and loss
    (``model.backward(loss_fn.backward())``). ``.grad`` is *not* cleared first, so call
    ``zero_grad()`` before, as for a single backward pass. Returns the mean loss over the batch.
    """
    if len(x) != len(y):
        raise ShapeError(f"accumulate_gradients: x has {len(x)} rows but y has {len(y)}.")
    n = len(x)
    summed = getattr(loss_fn, "reduction", "mean") == "sum"
    total = 0.0
    for part in micro_batches(n, micro_batch_size):
        weight = 1.0 if summed else (part.stop - part.start) / n      # N_k / N
        if _is_torch(model):
            loss = loss_fn(model(x[part]), y[part]) * weight
            loss.backward()
            total += float(loss.detach())
        else:
            loss = loss_fn(model(x[part]), y[part])
            model.backward(loss_fn.backward() * weight)
            total += weight * float(loss)
    return total


def accumulated_step(model, loss_fn, optimizer, x, y, micro_batch_size: int) -> float:
    """One optimizer step on the batch ``(x, y)`` run as micro-batches: zero_grad, accumulate, step."""
    optimizer.zero_grad()
    loss = accumulate_gradients(model, loss_fn, x, y, micro_batch_size)
    optimizer.step()
    return loss
