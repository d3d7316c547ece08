"""``clip_grad_norm_``: rescale all gradients together when their total norm is too large
(torch keeps it in ``torch/nn/utils/clip_grad.py``).

Backpropagation through time multiplies many Jacobians, so a gradient can suddenly be thousands of
times larger than usual ("exploding gradients") and one step can throw the weights far away.
Clipping keeps the *direction* of the gradient and caps its *length*::

    total = ‖ (g_1, g_2, ..., g_k) ‖          all gradients seen as one long vector
    g_i  <- g_i * min(1, max_norm / (total + 1e-6))

Call it between ``loss.backward`` / ``model.backward`` and ``optimizer.step()``.
"""

import numbers

import numpy as np

from .. import validation
from ..errors import ConfigError, NonFiniteError
from .parameter import Parameter

__all__ = ["clip_grad_norm_"]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale the ``.grad`` of ``parameters`` in place so their total norm is at most ``max_norm``.

    Same semantics as ``torch.nn.utils.clip_grad_norm_``: the norm is taken over all gradients
    together (as if concatenated into one vector), ``norm_type`` may be any positive number or
    ``float("inf")`` (largest absolute value), parameters without a gradient are skipped, and the
    clip coefficient ``max_norm / (total + 1e-6)`` is clamped to 1, so small gradients are untouched.
    Returns the total norm *before* clipping, as a Python float (torch returns a 0-d tensor).

    Stricter than torch where torch goes wrong silently: ``max_norm`` must be > 0 (torch accepts a
    negative one and flips the sign of every gradient; ``float("inf")`` only measures), and a NaN or
    infinite total norm always raises ``NonFiniteError`` (torch, by default, multiplies every gradient
    by NaN); ``error_if_nonfinite`` is accepted for compatibility and must be a bool.

    >>> p = Parameter(np.zeros(2)); p.grad = np.array([3.0, 4.0])
    >>> clip_grad_norm_([p], max_norm=1.0)
    5.0
    >>> p.grad.round(6)
    array([0.6, 0.8])
    """
    if isinstance(parameters, Parameter):
        parameters = [parameters]
    if hasattr(parameters, "parameters") and callable(parameters.parameters):
        raise ConfigError(f"clip_grad_norm_ expects the parameters, got the model {type(parameters).__name__} "
                          f"itself: write clip_grad_norm_(model.parameters(), max_norm)")
    try:
        parameters = list(parameters)
    except TypeError:
        raise ConfigError(f"clip_grad_norm_ expects an iterable of Parameters such as model.parameters(), got "
                          f"{type(parameters).__name__}") from None
    for p in parameters:
        if not isinstance(p, Parameter):
            raise ConfigError(f"clip_grad_norm_ expects numpy_nn Parameters (model.parameters()), "
                              f"got {type(p).__name__}")
    for name, value in (("max_norm", max_norm), ("norm_type", norm_type)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or np.isnan(value):
            raise ConfigError(f"clip_grad_norm_: {name} must be a number, got {value!r}")
    if norm_type <= 0:
        raise ConfigError(f"clip_grad_norm_: norm_type must be positive (2.0 for the usual length, "
                          f"float('inf') for the largest entry), got {norm_type}")
    if max_norm <= 0:
        raise ConfigError(f"clip_grad_norm_: max_norm is the largest length the gradients may keep and must "
                          f"be > 0, got {max_norm}: a negative max_norm would flip the sign of every gradient "
                          f"(gradient ascent) and 0 would erase them. Use e.g. max_norm=1.0, or "
                          f"float('inf') to only measure the norm")
    validation.boolean(error_if_nonfinite, "error_if_nonfinite", "clip_grad_norm_")
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return 0.0
    total = _total_norm(grads, float(norm_type))
    if not np.isfinite(total):
        raise NonFiniteError(f"clip_grad_norm_: the total norm of the gradients is {total}, so they cannot "
                             f"be clipped: a gradient holds NaN or inf, training has probably diverged "
                             f"(lower the learning rate, and check the loss of the last steps)")
    coefficient = min(float(max_norm) / (total + 1e-6), 1.0)
    if coefficient < 1.0:   # torch multiplies by the clamped coefficient always; 1.0 changes nothing
        for g in grads:
            g *= g.dtype.type(coefficient)
    return total


def _total_norm(grads, norm_type):
    """The ``norm_type``-norm of the norms of each gradient, which is the norm of all entries together."""
    if norm_type == float("inf"):
        return float(max(np.max(np.abs(g)) for g in grads))
    with np.errstate(over="ignore"):             # an overflow is measured again below
        norms = np.array([np.linalg.norm(g.ravel(), ord=norm_type) for g in grads], dtype=np.float64)
        total = float(np.linalg.norm(norms, ord=norm_type))
    if not np.isfinite(total) and all(np.isfinite(g).all() for g in grads):
        # finite but huge float32 gradients: their squares overflowed, so measure again in float64
        norms = np.array([np.linalg.norm(g.ravel().astype(np.float64), ord=norm_type) for g in grads])
        total = float(np.linalg.norm(norms, ord=norm_type))
    return total
