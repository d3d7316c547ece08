"""Pure functions, as in ``torch.nn.functional``: scaled dot-product attention and its backward pass.

Attention is a *soft dictionary lookup*. Each query is compared with every key; the comparison
scores become weights through a softmax; the answer is the weighted average of the values::

    scores  = Q @ K^T * scale          (..., L, E) @ (..., E, S) -> (..., L, S),  scale = 1/sqrt(E)
    weights = softmax(scores + mask)   (..., L, S), each row sums to 1 (or is all 0, see below)
    output  = weights @ V              (..., L, S) @ (..., S, Ev) -> (..., L, Ev)

``L`` is the number of queries (target length), ``S`` the number of keys and values (source length),
``E`` the width of queries and keys, ``Ev`` the width of the values; ``...`` are any leading batch
dimensions (batch, heads), which must be the same for ``Q``, ``K`` and ``V``.

The functions here are pure: ``attention_forward`` returns the output together with an
``AttentionCache`` (what the backward pass needs), and ``attention_backward(grad_output, cache)``
returns ``(d_query, d_key, d_value)``. ``scaled_dot_product_attention`` is the torch-named forward
that returns the output only.

Masks follow ``torch.nn.functional.scaled_dot_product_attention``:

* a **boolean** mask says where a query **may attend** (``True`` = keep, ``False`` = block);
* a **float** mask is **added** to the scores (``0`` keeps, ``-inf`` blocks, anything else biases);
* ``is_causal=True`` lets query ``i`` see keys ``0..i`` only (the lower triangle, top-left aligned
  as in torch). Unlike torch, it may be combined with ``attn_mask``: both apply.

**A fully masked row** (a query allowed to see no key at all) gets weights that are all 0, hence an
output row of zeros and zero gradients, never NaN. That is what torch's own
``scaled_dot_product_attention`` does (``torch.nn.MultiheadAttention`` returns NaN there instead).
We chose a documented zero row over an error because such rows occur legitimately, e.g. padding
queries in a batch of sequences of different lengths; their outputs are ignored by the loss anyway.
"""

import math
import numbers
from typing import NamedTuple

import numpy as np

from .. import validation
from .module import check_float_array
from ..errors import ConfigError, DTypeError, NonFiniteError, ShapeError

__all__ = [
    "scaled_dot_product_attention",
    "attention_forward",
    "attention_backward",
    "attend",
    "AttentionCache",
    "softmax",
    "softmax_backward",
    "causal_mask",
    "padding_mask",
]

_WHO = "scaled_dot_product_attention"


class AttentionCache(NamedTuple):
    """What ``attention_backward`` needs: the inputs, the attention weights and the scale."""

    query: np.ndarray    # (..., L, E)
    key: np.ndarray      # (..., S, E)
    value: np.ndarray    # (..., S, Ev)
    weights: np.ndarray  # (..., L, S), rows sum to 1 (0 for a fully masked row)
    scale: float


# ---------------------------------------------------------------------------------------- softmax
def _check_dim(dim, ndim, who):
    if isinstance(dim, bool) or not isinstance(dim, numbers.Integral) or not -ndim <= dim < ndim:
        raise ConfigError(f"{who}: dim must be a whole number in [{-ndim}, {ndim - 1}] for an array of "
                          f"{ndim} dimensions, got {dim!r}")


def softmax(scores, dim=-1):
    """Stable softmax along ``dim`` that tolerates ``-inf`` (blocked) entries.

    Subtracting the row maximum keeps ``exp`` <= 1. A row that is ``-inf`` everywhere (nothing
    allowed) becomes a row of zeros instead of 0/0 = NaN.
    """
    if not isinstance(scores, np.ndarray) or scores.dtype.kind != "f":
        scores = check_float_array(scores, "softmax", argument="scores")
    _check_dim(dim, scores.ndim, "softmax")
    top = scores.max(axis=dim, keepdims=True)
    dead = np.isneginf(top)                          # fully masked rows
    top = np.where(dead, 0.0, top).astype(scores.dtype, copy=False)
    e = np.exp(scores - top)                         # exp(-inf) = 0
    total = e.sum(axis=dim, keepdims=True)
    total[dead] = 1.0                                # 0 / 1 = 0 for a dead row
    e /= total
    return e


def softmax_backward(grad_output, output, dim=-1):
    """d loss / d scores from d loss / d softmax, per row: ``y * (g - sum(g * y))``.

    That is the Jacobian ``diag(y) - y y^T`` of each row applied to ``g`` without building it.
    A zero row ``y`` (fully masked) gives a zero gradient.
    """
    who = "softmax_backward"
    grad_output = check_float_array(grad_output, who, argument="grad_output")
    output = check_float_array(output, who, argument="output")
    if grad_output.shape != output.shape:
        raise ShapeError(f"{who}: grad_output has shape {grad_output.shape} but output has {output.shape}; "
                         f"they must match (the gradient of each softmax value)")
    _check_dim(dim, output.ndim, who)
    return output * (grad_output - (grad_output * output).sum(axis=dim, keepdims=True))


# ------------------------------------------------------------------------------------------ masks
def causal_mask(length, source_length=None):
    """Boolean ``(L, S)`` mask, ``True`` where query ``i`` may attend key ``j``, i.e. ``j <= i``.

    >>> causal_mask(3).astype(int)
    array([[1, 0, 0],
           [1, 1, 0],
           [1, 1, 1]])
    """
    length = validation.positive_int(length, "length", "causal_mask")
    source_length = length if source_length is None else validation.positive_int(source_length, "source_length",
                                                                                  "causal_mask")
    return np.tril(np.ones((length, source_length), dtype=bool))


def padding_mask(lengths, max_length=None):
    """Boolean ``(N, S)`` mask, ``True`` for the real tokens of each sequence, ``False`` for padding.

    ``lengths`` holds the true length of each of the ``N`` sequences. To use it as an ``attn_mask``
    of ``scaled_dot_product_attention`` over scores ``(N, L, S)``, add a query axis:
    ``padding_mask(lengths)[:, None, :]``. (``MultiheadAttention``'s ``key_padding_mask`` uses the
    opposite convention, torch's: pass ``~padding_mask(lengths)``.)

    >>> padding_mask([2, 3]).astype(int)
    array([[1, 1, 0],
           [1, 1, 1]])
    """
    lengths = np.asarray(lengths)
    if lengths.ndim != 1 or lengths.dtype.kind not in "iu" or (lengths < 0).any():
        raise ConfigError(f"padding_mask: lengths must be a 1-D array of non-negative integers, got {lengths!r}")
    if lengths.size == 0:
        raise ConfigError("padding_mask: lengths is empty; pass one length per sequence of the batch")
    max_length = int(lengths.max()) if max_length is None else \
        validation.non_negative_int(max_length, "max_length", "padding_mask")
    if (lengths > max_length).any():
        raise ConfigError(f"padding_mask: a length exceeds max_length={max_length}: {lengths.tolist()}")
    return np.arange(max_length)[None, :] < lengths[:, None]


# ----------------------------------------------------------------------------------- the function
def scaled_dot_product_attention(query, key, value, attn_mask=None, *, is_causal=False, scale=None):
    """``softmax(Q K^T / sqrt(E) + mask) V``, torch's ``F.scaled_dot_product_attention`` (no dropout).

    ``query`` (..., L, E), ``key`` (..., S, E), ``value`` (..., S, Ev) -> output (..., L, Ev).
    ``attn_mask``: boolean (``True`` = may attend) or float (added to the scores), broadcastable to
    (..., L, S). ``scale`` defaults to ``1 / sqrt(E)``. See the module docstring for fully masked rows.
    """
    query, key, value = _check_qkv(query, key, value)
    scale = None if scale is None else _check_scale(scale)
    is_causal = validation.boolean(is_causal, "is_causal", _WHO)
    output, _ = attend(query, key, value, attn_mask, is_causal=is_causal, scale=scale)
    return output


def attention_forward(query, key, value, attn_mask=None, *, is_causal=False, scale=None):
    """Like ``scaled_dot_product_attention``, but returns ``(output, cache)`` for the backward pass.

    ``cache.weights`` (..., L, S) are the attention weights (each row sums to 1, or is all 0). The
    cache holds copies of ``query``, ``key`` and ``value``: editing them after the call does not change
    what ``attention_backward`` computes.
    """
    query, key, value = _check_qkv(query, key, value)
    scale = None if scale is None else _check_scale(scale)
    is_causal = validation.boolean(is_causal, "is_causal", "attention_forward")
    query, key, value = query.copy(), key.copy(), value.copy()
    return attend(query, key, value, attn_mask, is_causal=is_causal, scale=scale)


def attend(query, key, value, attn_mask=None, *, is_causal=False, scale=None):
    """``attention_forward`` without checking ``query``, ``key`` and ``value`` (for layers that already
    did, such as ``MultiheadAttention``). The mask is still checked (cheap, and easy to get wrong)."""
    L, E = query.shape[-2:]
    S = key.shape[-2]
    scale = 1.0 / math.sqrt(E) if scale is None else scale

    scores = query @ np.swapaxes(key, -1, -2)              # (..., L, E) @ (..., E, S) -> (..., L, S)
    scores *= query.dtype.type(scale)
    if attn_mask is not None:
        scores = _apply_mask(scores, attn_mask)
    if is_causal:
        scores = np.where(causal_mask(L, S), scores, -np.inf).astype(scores.dtype, copy=False)
    weights = softmax(scores)                              # (..., L, S)
    output = weights @ value                               # (..., L, S) @ (..., S, Ev) -> (..., L, Ev)
    return output, AttentionCache(query, key, value, weights, scale)


def attention_backward(grad_output, cache):
    """Given d loss / d output (..., L, Ev), return ``(d_query, d_key, d_value)``.

    Backwards through the three steps of the forward pass:

    * ``output = W V``       ->  dV = W^T dO,             dW = dO V^T
    * ``W = softmax(Z)``     ->  dZ = W * (dW - rowsum(dW * W))
    * ``Z = scale Q K^T``    ->  dQ = scale dZ K,         dK = scale dZ^T Q

    The mask is a constant (added before the softmax), so it only appears through ``W``: blocked
    entries have weight 0 and therefore receive gradient 0.
    """
    q, k, v, w, scale = cache
    expected = w.shape[:-1] + v.shape[-1:]
    if not isinstance(grad_output, np.ndarray) or grad_output.shape != expected:
        got = grad_output.shape if isinstance(grad_output, np.ndarray) else type(grad_output).__name__
        raise ShapeError(f"attention_backward expects grad_output of shape {expected} (the output's), got {got}")
    g = grad_output.astype(q.dtype, copy=False)
    d_value = np.swapaxes(w, -1, -2) @ g                   # (..., S, L) @ (..., L, Ev) -> (..., S, Ev)
    d_weights = g @ np.swapaxes(v, -1, -2)                 # (..., L, Ev) @ (..., Ev, S) -> (..., L, S)
    d_scores = softmax_backward(d_weights, w)              # (..., L, S)
    d_scores *= q.dtype.type(scale)
    d_query = d_scores @ k                                 # (..., L, S) @ (..., S, E) -> (..., L, E)
    d_key = np.swapaxes(d_scores, -1, -2) @ q              # (..., S, L) @ (..., L, E) -> (..., S, E)
    return d_query, d_key, d_value


# ----------------------------------------------------------------------------------------- checks
def _check_qkv(query, key, value):
    arrays = []
    for name, x in (("query", query), ("key", key), ("value", value)):
        if not isinstance(x, np.ndarray):
            raise DTypeError(f"{_WHO}: {name} must be a NumPy array, got {type(x).__name__}")
        if x.dtype.kind != "f":
            raise DTypeError(f"{_WHO}: {name} must be a float array, got dtype {x.dtype}: use "
                             f"{name}.astype(np.float32)")
        if x.ndim < 2:
            raise ShapeError(f"{_WHO}: {name} must have at least 2 dimensions (..., length, width), "
                             f"got shape {x.shape}")
        arrays.append(x)
    query, key, value = arrays
    if not query.dtype == key.dtype == value.dtype:
        raise DTypeError(f"{_WHO}: query, key and value must share a dtype, got {query.dtype}, {key.dtype}, "
                         f"{value.dtype}")
    if not query.shape[:-2] == key.shape[:-2] == value.shape[:-2]:
        raise ShapeError(
            f"{_WHO}: query, key and value must have the same leading (batch, head) dimensions, got "
            f"query {query.shape}, key {key.shape}, value {value.shape} (expected (..., L, E), (..., S, E), "
            f"(..., S, Ev))")
    if query.shape[-1] != key.shape[-1]:
        raise ShapeError(
            f"{_WHO}: query and key must have the same width E (last dimension) to be compared by a dot "
            f"product, got query {query.shape} and key {key.shape}")
    if key.shape[-2] != value.shape[-2]:
        raise ShapeError(
            f"{_WHO}: key and value must have the same length S (one value per key), got key "
            f"{key.shape} and value {value.shape}")
    if 0 in query.shape or 0 in key.shape or 0 in value.shape:
        raise ShapeError(
            f"{_WHO}: an input has a dimension of size 0 (query {query.shape}, key {key.shape}, value "
            f"{value.shape}): attention needs at least one query, one key and one feature in every "
            f"batch; drop the empty sequences (or batches) before the call")
    for name, x in (("query", query), ("key", key), ("value", value)):
        if not np.isfinite(x).all():
            raise NonFiniteError(f"{_WHO}: {name} contains NaN or inf")
    return query, key, value


def _check_scale(scale):
    if isinstance(scale, bool) or not isinstance(scale, numbers.Real) or not math.isfinite(scale):
        raise ConfigError(f"{_WHO}: scale must be a finite number (or None for 1/sqrt(E)), got {scale!r}")
    return float(scale)


def _apply_mask(scores, attn_mask):
    """Apply a boolean ('may attend') or float ('add me') mask to scores (..., L, S)."""
    mask = attn_mask if isinstance(attn_mask, np.ndarray) else np.asarray(attn_mask)
    try:
        shape = np.broadcast_shapes(mask.shape, scores.shape)
    except ValueError:
        shape = None
    if shape != scores.shape:
        raise ShapeError(
            f"{_WHO}: attn_mask of shape {mask.shape} does not broadcast to the scores' shape "
            f"{scores.shape} (..., L, S): give it shape (L, S) = {scores.shape[-2:]} or one that "
            f"broadcasts, e.g. (N, 1, S) for a padding mask")
    if mask.dtype == bool:
        return np.where(mask, scores, -np.inf).astype(scores.dtype, copy=False)
    if mask.dtype.kind != "f":
        raise DTypeError(
            f"{_WHO}: attn_mask must be boolean (True = may attend) or float (added to the scores), got "
            f"dtype {mask.dtype}. A 0/1 integer mask is ambiguous: convert it with mask.astype(bool)")
    if np.isnan(mask).any() or np.isposinf(mask).any():
        raise NonFiniteError(f"{_WHO}: a float attn_mask may contain -inf (block) but not NaN or +inf")
    return scores + mask.astype(scores.dtype, copy=False)
