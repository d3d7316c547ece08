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
def _numpy_input(x, name, who):
    """``x`` as a floating-point NumPy array; a torch tensor or an autograd Tensor is refused with the fix."""
    kind = type(x).__module__.split(".")[0]
    if kind == "torch" or type(x).__name__ == "Tensor":
        raise DTypeError(f"{who}: {name} must be a NumPy array, got {type(x).__module__}.{type(x).__name__}; "
                         f"numpy_nn.functional works on NumPy arrays: convert with {name}.detach().cpu().numpy() "
                         f"(torch) or {name}.data (autograd), or use torch.nn.functional for tensors")
    x = validation.as_array(x, name, who)
    if x.dtype.kind != "f":
        raise DTypeError(f"{who}: {name} must hold floating-point numbers, got dtype {x.dtype}; convert with "
                         f"{name}.astype(np.float32)")
    return x


def _check_dim(dim, ndim, who):
    if isinstance(dim, bool) or not isinstance(dim, numbers.Integral) or not -ndim <= dim < ndim:
        raise ConfigError(f"{who}: dim must be a whole number in [{-ndim}, {ndim - 1}] for an array of "
                          f"{ndim} dimensions, got {dim!r}")


def softmax(scores, dim=-1):
    """Stable softmax along ``dim`` that tolerates ``-inf`` (blocked) entries.

    Subtracting the row maximum keeps ``exp`` <= 1. A row that is ``-inf`` everywhere (nothing
    allowed) becomes a row of zeros instead of 0/0 = NaN.
    """
    if type(scores) is not np.ndarray or scores.dtype.kind != "f":
        scores = _numpy_input(scores, "scores", "softmax")
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
    lengths = validation.as_array(lengths, "lengths", "padding_mask")
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
    if not isinstance(is_causal, bool):
        is_causal = validation.boolean(is_causal, "is_causal", "attend")
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
    if not isinstance(cache, AttentionCache):
        raise ConfigError(f"attention_backward: cache must be the AttentionCache that attention_forward returned "
                          f"with the output, got {type(cache).__name__}; call output, cache = "
                          f"attention_forward(query, key, value) and pass that cache")
    q, k, v, w, scale = cache
    expected = w.shape[:-1] + v.shape[-1:]
    if not isinstance(grad_output, np.ndarray) or grad_output.shape != expected:
        got = grad_output.shape if isinstance(grad_output, np.ndarray) else type(grad_output).__name__
        raise ShapeError(f"attention_backward expects grad_output of shape {expected} (the output's), got {got}")
    if grad_output.dtype.kind != "f":
        raise DTypeError(f"attention_backward: grad_output must hold floating-point numbers (a gradient), got dtype "
                         f"{grad_output.dtype}; convert with grad_output.astype(np.{q.dtype})")
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


# =========================================================================== ch16: rotary positions
# RoPE (Su et al., 2021): instead of adding a position vector to the input, rotate each query and key by
# an angle proportional to its position. Cut a head's D features into D/2 pairs; pair i turns at the
# frequency  w_i = theta^(-2i/D)  (i = 0..D/2-1), so at position m it is rotated by the angle m·w_i:
#
#     [a']   [cos(m w_i)  -sin(m w_i)] [a]
#     [b'] = [sin(m w_i)   cos(m w_i)] [b]
#
# A rotation keeps lengths, and the dot product of a query rotated by m·w with a key rotated by n·w
# depends only on (m - n)·w: the score sees the *relative* position. Which features form a pair is a
# convention, and two are in use:
#
# * interleaved: pair i = (x[2i], x[2i+1])            (the RoPE paper, Meta's original Llama code, GGUF)
# * halves:      pair i = (x[i], x[i + D/2])           (Hugging Face's Llama, ``rotate_half``; the course's)
#
# The two compute the same function up to a fixed reordering of the D features (``rotary_permutation``):
# ``rotary(x[..., p], halves) == rotary(x, interleaved)[..., p]``. A model trained with one convention runs
# with the other once the rows of its query and key projections are reordered per head
# (``interleaved_to_halves``), since q = x W_q^T puts row j of W_q into feature j of q.

__all__ += ["rotary", "rotary_backward", "rotary_frequencies", "rotary_tables", "rotate_half",
            "rotary_permutation", "interleaved_to_halves", "halves_to_interleaved"]


def rotary_frequencies(head_dim, theta=10000.0):
    """The D/2 angular frequencies ``w_i = theta^(-2i/D)`` of rotary positions (float64, from 1 down to
    about 1/theta): pair 0 turns by one radian per position, the last pair slowest."""
    D = _check_head_dim(head_dim, "rotary_frequencies")
    theta = _check_theta(theta, "rotary_frequencies")
    return theta ** (-np.arange(0, D, 2, dtype=np.float64) / D)             # (D/2,)


def rotary_tables(positions, head_dim, theta=10000.0):
    """``(cos, sin)`` of the angles ``m · w_i``, each (T, D/2) in float64, for the T positions m."""
    positions = _check_positions(positions, "rotary_tables")
    angles = positions[:, None].astype(np.float64) * rotary_frequencies(head_dim, theta)[None, :]   # (T, D/2)
    return np.cos(angles), np.sin(angles)


def rotate_half(x):
    """``concatenate(-x2, x1)`` for the halves ``x1 = x[..., :D/2]``, ``x2 = x[..., D/2:]``: turns every
    (x[i], x[i + D/2]) pair by 90°. Hugging Face writes the rotation as ``x cos + rotate_half(x) sin``
    with the (T, D/2) tables repeated twice along the features."""
    x = _check_rotary_input(x, "rotate_half")
    half = x.shape[-1] // 2
    return np.concatenate([-x[..., half:], x[..., :half]], axis=-1)


def rotary(x, positions, theta=10000.0, *, interleaved=False):
    """Rotate the features of ``x`` (..., T, D) by the rotary angles of ``positions`` (T,) integers.

    ``interleaved=False`` pairs feature i with i + D/2 (Hugging Face's Llama and this course);
    ``interleaved=True`` pairs 2i with 2i+1. Returns a new array of ``x``'s shape and dtype.
    """
    x = _check_rotary_input(x, "rotary")
    cos, sin = _tables_for(x, positions, theta, "rotary")
    return apply_rotary(x, cos, sin, interleaved=_check_flag(interleaved, "interleaved", "rotary"))


def rotary_backward(grad_output, positions, theta=10000.0, *, interleaved=False):
    """d loss / d x of ``rotary``: a rotation is orthogonal, so its transpose (the backward pass) is the
    rotation by the opposite angles: the same formula with ``sin`` negated."""
    grad_output = _check_rotary_input(grad_output, "rotary_backward", argument="grad_output")
    cos, sin = _tables_for(grad_output, positions, theta, "rotary_backward")
    return apply_rotary(grad_output, cos, -sin,
                        interleaved=_check_flag(interleaved, "interleaved", "rotary_backward"))


def apply_rotary(x, cos, sin, *, interleaved=False):
    """``rotary`` without the checks, with ready tables ``cos``/``sin`` (T, D/2) in ``x``'s dtype (for the
    attention layers, which build the tables once). Pass ``-sin`` for the backward pass."""
    half = x.shape[-1] // 2
    out = np.empty_like(x)
    if interleaved:
        a, b = x[..., 0::2], x[..., 1::2]                   # (..., T, D/2): the pairs (x[2i], x[2i+1])
        out[..., 0::2] = a * cos - b * sin
        out[..., 1::2] = b * cos + a * sin
    else:
        a, b = x[..., :half], x[..., half:]                 # (..., T, D/2): the pairs (x[i], x[i + D/2])
        out[..., :half] = a * cos - b * sin
        out[..., half:] = b * cos + a * sin
    return out


def rotary_permutation(head_dim):
    """The feature order ``p`` (D,) that turns the interleaved convention into halves:
    ``rotary(x[..., p], halves) == rotary(x, interleaved)[..., p]``.

    Halves' feature i (< D/2) is the first member of pair i, interleaved feature 2i; halves' feature
    D/2 + i is its second member, interleaved feature 2i + 1: ``p = [0, 2, 4, ..., 1, 3, 5, ...]``.
    """
    D = _check_head_dim(head_dim, "rotary_permutation")
    return np.concatenate([np.arange(0, D, 2), np.arange(1, D, 2)])


def interleaved_to_halves(weight, n_heads):
    """Reorder the rows of a query or key projection ``weight`` (n_heads · D, d_model), head by head,
    from the interleaved convention to halves (what Hugging Face's GGUF loader does to Llama files).

    ``n_heads`` is the number of heads the projection produces: ``n_heads`` for W_q, ``n_kv_heads`` for W_k.
    """
    weight, n_heads, D = _check_projection(weight, n_heads, "interleaved_to_halves")
    p = rotary_permutation(D)
    return weight.reshape(n_heads, D, -1)[:, p, :].reshape(weight.shape)


def halves_to_interleaved(weight, n_heads):
    """The inverse of ``interleaved_to_halves`` (what a GGUF writer does to a Hugging Face checkpoint)."""
    weight, n_heads, D = _check_projection(weight, n_heads, "halves_to_interleaved")
    inverse = np.argsort(rotary_permutation(D))
    return weight.reshape(n_heads, D, -1)[:, inverse, :].reshape(weight.shape)


def _check_head_dim(head_dim, who):
    D = validation.positive_int(head_dim, "head_dim", who)
    if D > 2**16:
        raise ConfigError(f"{who}: head_dim={D} is far larger than any attention head (64 or 128 in practice); "
                          f"pass d_model // n_heads")
    if D % 2:
        raise ConfigError(f"{who}: head_dim must be even (rotary positions turn the features in pairs), got {D}; "
                          f"choose d_model and n_heads so that d_model // n_heads is even")
    return D


def _check_theta(theta, who):
    if isinstance(theta, bool) or not isinstance(theta, numbers.Real) or not 1 < theta < float("inf"):
        raise ConfigError(f"{who}: theta (rope_theta) must be a finite number > 1 (10000.0 in Llama 2, 500000.0 in "
                          f"Llama 3), got {theta!r}")
    return float(theta)


def _check_flag(value, name, who):
    return validation.boolean(value, name, who)


def _check_positions(positions, who):
    if isinstance(positions, (str, bytes)):
        raise DTypeError(f"{who}: positions must be a 1-D array of integer positions (np.arange(T)), got "
                         f"{positions!r}")
    try:
        positions = np.asarray(positions)
    except ValueError:
        raise ShapeError(f"{who}: positions must be a 1-D array of integer positions (np.arange(T)), got a ragged "
                         f"list") from None
    if positions.dtype.kind not in "iu":
        raise DTypeError(f"{who}: positions must be integers (token positions 0, 1, 2, ...), got dtype "
                         f"{positions.dtype}: use np.arange(T), or positions.astype(np.int64)")
    if positions.ndim != 1:
        raise ShapeError(f"{who}: positions must be 1-D (one position per token, shape (T,)), got shape "
                         f"{positions.shape}")
    if positions.size and positions.min() < 0:
        raise ConfigError(f"{who}: positions must be >= 0, got {int(positions.min())}")
    return positions.astype(np.int64, copy=False)


def _check_rotary_input(x, who, argument="x"):
    if not isinstance(x, np.ndarray):
        raise DTypeError(f"{who}: {argument} must be a NumPy array (..., T, D), got {type(x).__name__}")
    if x.dtype.kind != "f":
        raise DTypeError(f"{who}: {argument} must be a float array, got dtype {x.dtype}: use "
                         f"{argument}.astype(np.float32)")
    if x.ndim < 2:
        raise ShapeError(f"{who}: {argument} must have shape (..., T, D) (positions, then features), got shape "
                         f"{x.shape}: add a position axis with {argument}[None, :]")
    if x.shape[-1] % 2 or x.shape[-1] == 0:
        raise ShapeError(f"{who}: the last axis of {argument} (the head's D features) must have an even, non-zero "
                         f"size, because features are rotated in pairs; got shape {x.shape}")
    if x.size == 0:
        raise ShapeError(f"{who}: {argument} is empty (shape {x.shape}): pass at least one position")
    return validation.finite(x, who, argument=argument)


def _tables_for(x, positions, theta, who):
    positions = _check_positions(positions, who)
    if positions.shape[0] != x.shape[-2]:
        raise ShapeError(f"{who}: got {positions.shape[0]} positions for {x.shape[-2]} tokens (x has shape "
                         f"{x.shape}, tokens on axis -2): pass one position per token, e.g. np.arange({x.shape[-2]})")
    cos, sin = rotary_tables(positions, x.shape[-1], _check_theta(theta, who))
    return cos.astype(x.dtype), sin.astype(x.dtype)


def _check_projection(weight, n_heads, who):
    if not isinstance(weight, np.ndarray) or weight.ndim != 2:
        got = weight.shape if isinstance(weight, np.ndarray) else type(weight).__name__
        raise ShapeError(f"{who}: weight must be a 2-D NumPy array (n_heads * head_dim, d_model), got {got}")
    if weight.dtype.kind != "f":
        raise DTypeError(f"{who}: weight must hold floats (a projection's weights), got dtype {weight.dtype}; "
                         f"convert it first: weight.astype(np.float32)")
    if not weight.size:
        raise ShapeError(f"{who}: weight is empty (shape {weight.shape}); pass the query or key projection "
                         f"(n_heads * head_dim, d_model)")
    n_heads = validation.positive_int(n_heads, "n_heads", who)
    if weight.shape[0] % n_heads:
        raise ShapeError(f"{who}: weight has {weight.shape[0]} rows, which n_heads={n_heads} does not divide: pass "
                         f"the number of heads this projection makes (n_kv_heads for the key projection)")
    D = _check_head_dim(weight.shape[0] // n_heads, who)
    return weight, n_heads, D
