"""The back-end adapter: "is this torch?" asked once, and the few things a training loop does that
NumPy and torch spell differently (tensors, one step, clipping, the weights, evaluation mode).

torch is imported only inside the functions that need it, so NumPy-only use never loads it.
"""

import math
from contextlib import contextmanager

import numpy as np

from ..errors import ConfigError
from ..validation import boolean
from ..numpy_nn.module import Module as NumpyModule

__all__ = ["is_torch", "backend_of", "model_dtype", "to_torch", "torch_float_dtype", "train_step",
           "parameters_finite", "copy_weights", "evaluation_mode", "is_torch_object", "outputs_of"]


def is_torch(model):
    """True for a ``torch.nn.Module`` (torch's own or a course twin), False for a ``numpy_nn`` model.

    Answered without importing torch: anything that is not a NumPy module is taken for torch's.
    """
    return not isinstance(model, NumpyModule)


def is_torch_object(obj):
    """True for torch's own objects and subclasses of them (a torch optimizer, a torch loss, a tensor)."""
    return any(cls.__module__.split(".")[0] == "torch" for cls in type(obj).__mro__)


def backend_of(model, who="fit"):
    """``"numpy"`` or ``"torch"``, or ``ConfigError`` for anything that is not a model."""
    if isinstance(model, NumpyModule):
        return "numpy"
    if is_torch_object(model):
        import torch

        if isinstance(model, torch.nn.Module):
            return "torch"
    if isinstance(model, type):
        raise ConfigError(
            f"{who}() trains an nncourse.numpy_nn model or a torch.nn.Module, got the class "
            f"{model.__name__} itself: build the model first (with brackets), e.g. model = mlp([2, 8, 2])"
        )
    raise ConfigError(f"{who}() trains an nncourse.numpy_nn model or a torch.nn.Module, got {type(model).__name__}")


def model_dtype(model, backend):
    """The floating dtype of the model's parameters, as a NumPy dtype (None for a model without any)."""
    for p in model.parameters():
        if backend == "numpy":
            return np.dtype(p.data.dtype)
        return np.dtype(str(p.dtype).replace("torch.", ""))
    return None


def torch_float_dtype(dtype):
    import torch

    return getattr(torch, dtype.name) if dtype is not None else torch.float32


def to_torch(array, float_dtype):
    """A NumPy batch as a tensor: floats in the model's dtype, integers (class ids, tokens) as int64."""
    import torch

    array = np.ascontiguousarray(array)
    if not array.flags.writeable:          # torch wants memory it may write to (a cached, read-only array)
        array = array.copy()
    tensor = torch.from_numpy(array)
    if tensor.is_floating_point():
        return tensor.to(float_dtype)
    return tensor.long()


def _flat(output, target):
    """Sequence outputs (B, T, C) and targets (B, T) as the (B*T, C) and (B*T,) that a loss takes."""
    if output.ndim == 3 and target.ndim == 2:
        return output.reshape(-1, output.shape[-1]), target.reshape(-1)
    return output, target


def train_step(model, loss_fn, optimizer, inputs, targets, *, backend, clip=None, want_norm=False):
    """One step: forward, loss, zero_grad, backward, (clip), optimizer step.

    Returns ``(loss, output as NumPy, gradient norm or None)``. ``clip`` is a max norm for
    ``clip_grad_norm_``; with ``want_norm`` the norm is measured even without clipping.
    """
    if want_norm is not True and want_norm is not False:
        want_norm = boolean(want_norm, "want_norm", "train_step")
    norm = None
    max_norm = clip if clip is not None else math.inf
    if backend == "numpy":
        from ..numpy_nn import clip_grad_norm_

        # Overflow on the way to a NaN loss is reported once, as a DivergenceError, not as NumPy warnings.
        with np.errstate(over="ignore", invalid="ignore"):
            output = model(inputs)
            flat_output, flat_targets = _flat(output, targets)
            loss = loss_fn(flat_output, flat_targets)
            optimizer.zero_grad()
            grad = loss_fn.backward().reshape(output.shape)
            if model.can_skip_input_grad:
                # The data is not learned, so d loss / d X is not needed: skipping it saves the largest
                # matrix product of the backward pass (torch's autograd skips it too).
                model.backward(grad, need_input_grad=False)
            else:
                model.backward(grad)
            if clip is not None or want_norm:
                norm = clip_grad_norm_(model.parameters(), max_norm)
            optimizer.step()
        return loss, output, norm
    import torch

    output = model(inputs)
    flat_output, flat_targets = _flat(output, targets)
    loss = loss_fn(flat_output, flat_targets)
    optimizer.zero_grad()
    loss.backward()
    if clip is not None or want_norm:
        norm = float(torch.nn.utils.clip_grad_norm_(list(model.parameters()), max_norm))
    optimizer.step()
    return loss.item(), output.detach().numpy(), norm


def outputs_of(model, inputs, backend):
    """The model's output for one batch, as NumPy, without recording gradients."""
    if backend == "numpy":
        return model(inputs)
    import torch

    with torch.no_grad():
        return model(inputs).numpy()


def parameters_finite(model, backend):
    if backend == "numpy":
        return all(np.isfinite(p.data).all() for p in model.parameters())
    return all(bool(p.detach().isfinite().all()) for p in model.parameters())


def copy_weights(model, backend):
    """A copy of the model's weights that later training steps do not change."""
    if backend == "numpy":
        return model.state_dict()                   # already a copy
    return {name: value.detach().clone() for name, value in model.state_dict().items()}


@contextmanager
def evaluation_mode(model):
    """Evaluation mode (no dropout) for the duration of a ``with`` block; the old mode afterwards."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)
