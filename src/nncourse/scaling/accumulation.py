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

import numbers

import numpy as np

from ..errors import ConfigError, DTypeError, NonFiniteError, ShapeError

__all__ = ["micro_batches", "accumulate_gradients", "accumulated_step"]


def micro_batches(n: int, micro_batch_size: int) -> list[slice]:
    """Consecutive slices of at most ``micro_batch_size`` rows covering ``range(n)``."""
    if not isinstance(micro_batch_size, (int, np.integer)) or isinstance(micro_batch_size, bool) \
            or micro_batch_size < 1:
        raise ConfigError(f"micro_batch_size must be an integer >= 1, got {micro_batch_size!r}.")
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise ConfigError(f"micro_batches: n must be the number of examples (a whole number), got {n!r}.")
    if n < 1:
        raise ShapeError(f"micro_batches: n (the number of examples) must be at least 1, got {n!r}: gradient "
                         f"accumulation needs a batch of at least one example, got an empty batch.")
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
    who = "accumulate_gradients"
    torch_model = _is_torch(model)
    _check_batch(torch_model, x, y, who, model)
    if len(x) != len(y):
        raise ShapeError(f"accumulate_gradients: x has {len(x)} rows but y has {len(y)}; pass the inputs and "
                         f"the targets of the same batch.")
    n = len(x)
    reduction = getattr(loss_fn, "reduction", "mean")
    if reduction not in ("mean", "sum"):
        raise ConfigError(f"{who}: loss_fn has reduction={reduction!r}, which gives one loss per example, not one "
                          f"number to differentiate; build the loss with reduction='mean' (the default) or "
                          f"reduction='sum'.")
    summed = reduction == "sum"
    total = 0.0
    for k, part in enumerate(micro_batches(n, micro_batch_size)):
        weight = 1.0 if summed else (part.stop - part.start) / n      # N_k / N
        if torch_model:
            loss = loss_fn(model(x[part]), y[part]) * weight
            _check_finite_loss(float(loss.detach()), k, part, who)
            loss.backward()
            total += float(loss.detach())
        else:
            loss = loss_fn(model(x[part]), y[part])
            _check_finite_loss(float(loss), k, part, who)
            model.backward(loss_fn.backward() * weight)
            total += weight * float(loss)
    return total


def _check_batch(torch_model, x, y, who, model=None):
    """A torch model takes tensors, a ``numpy_nn`` model NumPy arrays: say which, before any step."""
    import sys

    torch = sys.modules.get("torch")
    is_tensor = torch is not None and isinstance(x, torch.Tensor)
    if torch_model and not is_tensor:
        raise ConfigError(f"{who}: the model is a torch model but x is {type(x).__name__}; convert the batch "
                          f"first: x, y = torch.from_numpy(x), torch.from_numpy(y) (or to_device((x, y), device)).")
    if torch_model and not (torch is not None and isinstance(y, torch.Tensor)):
        raise ConfigError(f"{who}: the model is a torch model but y is {type(y).__name__}; convert it with "
                          f"torch.from_numpy(y).")
    if torch_model and not x.is_floating_point() and not _reads_indices(model, torch):
        raise DTypeError(f"{who}: x holds {x.dtype} values but the model's first layers compute in floating point "
                         f"(torch would stop with 'mat1 and mat2 must have the same dtype'); convert the inputs: "
                         f"x = x.float() (or x.to(model's dtype)).")
    if not torch_model and (is_tensor or not isinstance(x, np.ndarray)):
        raise ConfigError(f"{who}: the model is a numpy_nn model but x is {type(x).__name__}; pass NumPy arrays "
                          f"(x.numpy() for a CPU tensor).")
    for name, values in (("x", x), ("y", y)):
        if torch_model:
            bad = values.is_floating_point() and not bool(torch.isfinite(values).all())
        else:
            values = np.asarray(values)
            bad = values.dtype.kind in "fc" and not np.isfinite(values).all()
        if bad:
            raise NonFiniteError(f"{who}: {name} holds NaN or infinite values, which would turn every gradient (and "
                                 f"after the step every weight) into NaN; clean the batch first (keep the rows where "
                                 f"np.isfinite(...).all(axis=1)). Nothing was added to .grad.")


def _reads_indices(model, torch):
    """Whether ``model`` reads integer indices (an embedding) rather than floating-point inputs."""
    return model is None or any(isinstance(m, torch.nn.Embedding) for m in model.modules())


def _check_finite_loss(value, k, part, who):
    if not np.isfinite(value):
        raise NonFiniteError(f"{who}: the loss of micro-batch {k} (rows {part.start}-{part.stop - 1}) is {value}; "
                             f"its gradient would turn every weight into NaN at the step. The weights have diverged "
                             f"(lower the learning rate and rebuild the model); the earlier micro-batches' gradients "
                             f"are already in .grad, so call zero_grad() before trying again.")


def accumulated_step(model, loss_fn, optimizer, x, y, micro_batch_size: int) -> float:
    """One optimizer step on the batch ``(x, y)`` run as micro-batches: zero_grad, accumulate, step."""
    optimizer.zero_grad()
    loss = accumulate_gradients(model, loss_fn, x, y, micro_batch_size)
    optimizer.step()
    return loss
