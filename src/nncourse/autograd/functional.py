"""Operations on ``Tensor`` built from several NumPy steps, as ``torch.nn.functional`` keeps them.

Each is one operation of the graph with its own backward function (softmax, log_softmax, GELU,
masked_fill, cat), or a composition of operations whose backward the engine derives by itself
(``cross_entropy`` = log_softmax, pick the target entries, average; ``embedding`` = indexing).
"""

import functools
import inspect
import math
import numbers

import numpy as np

from .. import validation
from ..errors import ConfigError, DTypeError, ShapeError, TargetError
from .tensor import Tensor, _axis

__all__ = ["softmax", "log_softmax", "gelu", "masked_fill", "cat", "embedding", "cross_entropy", "linear"]


def _takes_tensors(*names):
    """Refuse, before the operation runs, a NumPy array (or anything else) where a ``Tensor`` is needed."""
    def wrap(operation):
        order = list(inspect.signature(operation).parameters)
        where = [(name, order.index(name)) for name in names]

        @functools.wraps(operation)
        def checked(*args, **kwargs):
            for name, position in where:
                value = args[position] if position < len(args) else kwargs.get(name)
                if value is not None and not isinstance(value, Tensor):
                    raise DTypeError(
                        f"{operation.__name__}: {name} must be an autograd Tensor, got {type(value).__module__}."
                        f"{type(value).__name__}; wrap it first, {name} = Tensor({name}) (add requires_grad=True "
                        f"for a weight whose gradient you need); for plain NumPy arrays use "
                        f"nncourse.numpy_nn.functional instead")
            return operation(*args, **kwargs)
        return checked
    return wrap


@_takes_tensors("x")
def softmax(x, dim=-1):
    """exp(x) / sum(exp(x)) along ``dim``. Backward: s * (g - sum(g * s))."""
    dim = _axis(dim, x.ndim, x.shape, "softmax", "dim")
    z = x.data - x.data.max(axis=dim, keepdims=True)          # same result, no overflow
    e = np.exp(z)
    s = e / e.sum(axis=dim, keepdims=True)

    def backward(g):
        return (s * (g - (g * s).sum(axis=dim, keepdims=True)),)
    return Tensor.from_op(s, (x,), backward, "softmax", saved=("out",))


@_takes_tensors("x")
def log_softmax(x, dim=-1):
    """x - log(sum(exp(x))) along ``dim``. Backward: g - softmax(x) * sum(g)."""
    dim = _axis(dim, x.ndim, x.shape, "log_softmax", "dim")
    z = x.data - x.data.max(axis=dim, keepdims=True)
    out = z - np.log(np.exp(z).sum(axis=dim, keepdims=True))

    def backward(g):
        return (g - np.exp(out) * g.sum(axis=dim, keepdims=True),)
    return Tensor.from_op(out, (x,), backward, "log_softmax", saved=("out",))


_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_erf = np.frompyfunc(math.erf, 1, 1)


@_takes_tensors("x")
def gelu(x, approximate="none"):
    """x * Phi(x), Phi the standard normal CDF (exact), or GPT-2's tanh approximation."""
    z = x.data
    if approximate == "none":
        cdf = 0.5 * (1 + _erf(z / math.sqrt(2)).astype(z.dtype))
        pdf = np.exp(-0.5 * z ** 2) / math.sqrt(2 * math.pi)
        return Tensor.from_op(z * cdf, (x,), lambda g: (g * (cdf + z * pdf),), "gelu")
    if approximate == "tanh":
        u = _SQRT_2_OVER_PI * (z + 0.044715 * z ** 3)
        t = np.tanh(u)
        du = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * z ** 2)
        out = 0.5 * z * (1 + t)
        return Tensor.from_op(out, (x,), lambda g: (g * (0.5 * (1 + t) + 0.5 * z * (1 - t ** 2) * du),),
                              "gelu")
    raise ConfigError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


@_takes_tensors("x")
def masked_fill(x, mask, value):
    """``value`` where ``mask`` is True, ``x`` elsewhere; the filled entries get no gradient."""
    mask = validation.as_array(mask, "mask", "masked_fill")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or np.isnan(value) \
            or value == math.inf:
        raise DTypeError(f"masked_fill: value must be a number or -inf (which masks attention scores; NaN and "
                         f"+inf turn a softmax into NaN), got {value!r} ({type(value).__name__}); write "
                         f"value=-1e9 or value=float('-inf'), without quotes")
    if mask.dtype != bool:
        raise DTypeError(f"masked_fill: mask must be a boolean array (True = fill), got dtype {mask.dtype}; "
                         f"build it with a comparison, e.g. np.triu(np.ones((T, T), bool), k=1)")
    try:
        out = np.where(mask, np.asarray(value, dtype=x.dtype), x.data)
    except ValueError:
        raise ShapeError(f"masked_fill: mask of shape {mask.shape} cannot be broadcast to the tensor's "
                         f"shape {x.shape}") from None
    if out.shape != x.shape:
        raise ShapeError(f"masked_fill: mask of shape {mask.shape} would change the tensor's shape "
                         f"{x.shape} to {out.shape}; the mask must broadcast to the tensor, not beyond it")
    return Tensor.from_op(out, (x,), lambda g: (np.where(mask, 0, g),), "masked_fill", saved=())


def cat(tensors, dim=0):
    """Join tensors along an existing axis (``torch.cat``); backward hands each its slice."""
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)) or not tensors \
            or not all(isinstance(t, Tensor) for t in tensors):
        raise DTypeError(f"cat: tensors must be a non-empty list of Tensors, such as cat([a, b], dim=0), got "
                         f"{type(tensors).__name__} {tensors!r:.40}")
    tensors = list(tensors)
    dim = _axis(dim, tensors[0].ndim, tensors[0].shape, "cat", "dim")
    try:
        out = np.concatenate([t.data for t in tensors], axis=dim)
    except ValueError:
        raise ShapeError(f"cat: shapes {[t.shape for t in tensors]} cannot be joined along dim={dim}: all "
                         f"other axes must have the same size") from None
    ends = np.cumsum([t.shape[dim] for t in tensors])[:-1]
    return Tensor.from_op(out, tensors, lambda g: tuple(np.split(g, ends, axis=dim)), "cat", saved=())


@_takes_tensors("weight")
def embedding(indices, weight):
    """``weight[indices]``: one row of ``weight`` per integer index (``torch.nn.functional.embedding``)."""
    indices = validation.as_array(indices, "indices", "embedding")
    if indices.dtype.kind not in "iu":
        raise DTypeError(f"embedding: indices must be integers, got dtype {indices.dtype}; convert with "
                         f"indices.astype(np.int64)")
    n = weight.shape[0]
    if indices.size and (indices.min() < 0 or indices.max() >= n):
        raise TargetError(f"embedding: index out of range: the table has {n} rows (0..{n - 1}), the "
                          f"indices go from {indices.min()} to {indices.max()}")
    return weight[indices]


@_takes_tensors("x", "weight", "bias")
def linear(x, weight, bias=None):
    """``x @ weight.T + bias``, with torch's weight layout (out_features, in_features)."""
    out = x @ weight.T
    return out if bias is None else out + bias


@_takes_tensors("logits")
def cross_entropy(logits, target, ignore_index=-100, reduction="mean"):
    """Mean of -log softmax(logits)[target] over the rows whose target is not ``ignore_index``.

    ``logits`` (N, C) and ``target`` (N,) integer class indices, as in torch.
    """
    target = validation.as_array(target, "target", "cross_entropy")
    if isinstance(ignore_index, (bool, np.bool_)) or not isinstance(ignore_index, numbers.Integral):
        raise TargetError(f"cross_entropy: ignore_index must be a whole number (a class index that no row "
                          f"uses, torch's default is -100), got {ignore_index!r} ({type(ignore_index).__name__})")
    if logits.ndim != 2:
        raise ShapeError(f"cross_entropy: logits must be (N, C), got shape {logits.shape}; for "
                         f"sequences flatten them with logits.reshape(-1, C) and target.reshape(-1)")
    if target.dtype.kind not in "iu":
        raise TargetError(f"cross_entropy: target must hold integer class indices, got dtype {target.dtype}; "
                          f"convert with target.astype(np.int64) (not one-hot vectors)")
    if target.shape != logits.shape[:1]:
        raise TargetError(f"cross_entropy: target must have shape ({logits.shape[0]},), one class index "
                          f"per row of logits {logits.shape}, got {target.shape}")
    keep = target != ignore_index
    C = logits.shape[1]
    if keep.any() and (target[keep].min() < 0 or target[keep].max() >= C):
        raise TargetError(f"cross_entropy: target holds classes from {target[keep].min()} to "
                          f"{target[keep].max()}, but the logits have {C} classes (0..{C - 1})")
    if not keep.any():
        raise TargetError(f"cross_entropy: every target equals ignore_index={ignore_index}, so there is "
                          f"nothing to average (torch returns nan); leave out such a batch")
    if reduction not in ("mean", "sum"):
        raise ConfigError(f"cross_entropy: reduction must be 'mean' or 'sum', got {reduction!r}")
    rows = np.flatnonzero(keep)
    picked = log_softmax(logits, dim=1)[rows, target[rows]]     # (n_kept,)
    total = -picked.sum()
    return total / len(rows) if reduction == "mean" else total

