"""The modern decoder block (chapter 16): RMSNorm, rotary positions, SwiGLU and grouped-query attention.

::

    x ──┬───────────────────────────────────────────(+)──┬────────────────────────────────────────(+)──> out
        └─ input_layernorm ─ self_attn (GQA + RoPE) ──┘  └─ post_attention_layernorm ─ mlp (SwiGLU) ─┘

The same residual layout as ``TransformerBlock`` (chapter 10), with four pieces changed:

* ``RMSNorm`` instead of ``LayerNorm`` (no centring, no bias);
* no position embedding: queries and keys are **rotated** by their position (``functional.rotary``);
* ``SwiGLU`` instead of Linear-GELU-Linear: ``down(silu(gate(x)) * up(x))``;
* **grouped-query attention**: ``n_heads`` query heads share ``n_kv_heads`` key/value heads (a group of
  G = n_heads / n_kv_heads query heads reads the same keys and values). ``n_kv_heads == n_heads`` is
  ordinary multi-head attention, ``n_kv_heads == 1`` multi-query attention;

and every linear layer is bias-free. The module names are Hugging Face's (``self_attn.q_proj``,
``mlp.gate_proj``, ...), so a pretrained checkpoint loads by name.

**The KV cache.** To generate, a model feeds one new token at a time; the keys and values of the
earlier tokens do not change, so each layer keeps them in a ``KVCache`` and computes only the new
token's. ``forward(x, cache=layer_cache)`` rotates the new queries and keys at positions
``cache.length, cache.length + 1, ...``, appends the keys and values, and attends over everything stored.
The cache has a fixed capacity (the model's ``context_length``): a full cache is an error, never a
silent sliding window, which would shift every rotary position.

Shapes: ``N`` batch, ``T`` new tokens, ``S`` keys attended (T without a cache, cache length + T with
one), ``C = d_model``, ``H`` query heads, ``K`` key/value heads, ``G = H / K``, ``D = C / H`` per head.
"""

import numbers

import numpy as np

from .. import validation
from ..errors import ConfigError, CourseError, DTypeError, ShapeError
from ..utils import as_rng
from .activation import SiLU
from .functional import apply_rotary, attend, attention_backward, rotary_tables
from .linear import Linear
from .module import Module, check_float_array
from .normalization import RMSNorm
from .registry import saveable

__all__ = ["SwiGLU", "GroupedQueryAttention", "DecoderBlock", "KVCache"]

#: The most weights one projection may hold (2**31 numbers = 8 GiB in float32; a 70B model's largest is 2**30).
MAX_WEIGHTS = 2**31


def _check_size(who, rows, columns, names):
    if rows * columns > MAX_WEIGHTS:
        raise ConfigError(f"{who}: {names} = {rows} x {columns} weights is more than a NumPy model can hold "
                          f"({MAX_WEIGHTS}); use the sizes of a real checkpoint at most")


def _normal_linear(in_features, out_features, rng, dtype, std=0.02):
    """A bias-free ``Linear`` with N(0, std²) weights (drawn from ``rng``)."""
    layer = Linear(in_features, out_features, bias=False, init="zeros", dtype=dtype)
    with np.errstate(over="ignore"):
        layer.weight.data[...] = rng.normal(0.0, std, size=layer.weight.shape)
    if not np.isfinite(layer.weight.data).all():
        raise ConfigError(f"the initial standard deviation std={std!r} overflows {np.dtype(dtype).name}: use a small "
                          f"value such as 0.02")
    return layer


def _rms_norm(x, norm):
    """``norm(x)`` (an ``RMSNorm``) without its checks and cache, in the same order of operations: the cached
    path of generation calls it once per token, where the layers' bookkeeping would cost more than the maths."""
    eps = np.finfo(x.dtype).eps if norm.eps is None else norm.eps
    rstd = 1.0 / np.sqrt((x * x).mean(axis=-1, keepdims=True) + x.dtype.type(eps))
    return x * rstd * norm.weight.data


def _linear(x, layer):
    """``layer(x)`` for a bias-free ``Linear``, without its checks and cache (the cached path).
    A layer that wraps a ``Linear`` (chapter 18's ``LoRALinear``) supplies its own ``fast_forward``."""
    fast = getattr(layer, "fast_forward", None)
    if fast is not None:
        return fast(x)
    return x @ layer.weight.data.T


# ================================================================================================ SwiGLU
@saveable
class SwiGLU(Module):
    """The gated feed-forward network of Llama: ``down_proj(silu(gate_proj(x)) * up_proj(x))``.

    Two projections C -> d_ff read the input: one, through SiLU, is a *gate* that scales the other
    feature by feature. Three matrices of C·d_ff weights instead of GPT's two, so ``d_ff ≈ 8/3·C``
    (instead of 4·C) keeps the parameter count equal. Input (..., C) -> output (..., C).
    """

    def __init__(self, d_model, d_ff, *, seed=None, rng=None, dtype=np.float32, std=0.02, down_std=None):
        super().__init__()
        self.d_model = validation.positive_int(d_model, "d_model", "SwiGLU")
        self.d_ff = validation.positive_int(d_ff, "d_ff", "SwiGLU")
        self.dtype = validation.float_dtype(dtype, "SwiGLU")
        _check_size("SwiGLU", self.d_model, self.d_ff, "d_model x d_ff")
        std = validation.positive_float(std, "std", "SwiGLU")
        down_std = std if down_std is None else validation.positive_float(down_std, "down_std", "SwiGLU")
        rng = as_rng(seed, rng)
        C, F = self.d_model, self.d_ff
        self.gate_proj = _normal_linear(C, F, rng, self.dtype, std)       # (F, C)
        self.up_proj = _normal_linear(C, F, rng, self.dtype, std)         # (F, C)
        self.down_proj = _normal_linear(F, C, rng, self.dtype, down_std)  # (C, F)
        self.act_fn = SiLU()
        self._shape = None

    def get_config(self):
        return {"d_model": self.d_model, "d_ff": self.d_ff, "dtype": self.dtype.name}

    def forward(self, x):
        x = check_float_array(x, self._label())
        if x.ndim < 2 or x.shape[-1] != self.d_model:
            raise ShapeError(f"{self._label()} expects input of shape (..., {self.d_model}), got {x.shape}")
        self._shape = x.shape
        h = x.reshape(-1, self.d_model)                      # (M, C): Linear wants 2-D
        a = self.act_fn(self.gate_proj(h))                   # (M, F): the gate, silu(x W_gate^T)
        u = self.up_proj(h)                                  # (M, F): the value,  x W_up^T
        self._a, self._u = a, u
        return self.down_proj(a * u).reshape(x.shape)        # (M, F) -> (M, C) -> (..., C)

    def step(self, x):
        """The forward pass for generation (x (M, C), checked by the caller): the same numbers as
        ``forward``, without the layers' checks and caches (nothing to backpropagate).
        One cheap test guards it (an array of this layer's dtype holding values); NaN flows through."""
        if type(x) is not np.ndarray or x.dtype != self.dtype or not x.size:
            self._refuse_step_input(x)
        g = _linear(x, self.gate_proj)                       # (M, F)
        e = np.exp(-np.abs(g))
        a = g * (np.where(g >= 0, 1.0, e) / (1.0 + e)).astype(g.dtype, copy=False)   # silu, as SiLU computes it
        return _linear(a * _linear(x, self.up_proj), self.down_proj)

    def _refuse_step_input(self, x):
        who = "SwiGLU.step"
        x = validation.as_array(x, "x", who)
        if x.dtype != self.dtype:
            raise DTypeError(f"{who}: x must be a {self.dtype} array (this layer's dtype), got dtype {x.dtype}; "
                             f"convert it first: x.astype(np.{self.dtype.name})")
        if not x.size:
            raise ShapeError(f"{who}: x is empty (shape {x.shape}); pass at least one row of {self.d_model} "
                             f"features")
        raise ShapeError(f"{who}: x must be a NumPy array, got {type(x).__name__}; pass np.asarray(x)")

    def backward(self, grad_output):
        """Product rule at the gate: d(a·u) = da·u + a·du; the two branches' input gradients add."""
        self._require_forward(self._shape)
        self._check_grad_output(grad_output, self._shape, self.dtype)
        g = self.down_proj.backward(grad_output.reshape(-1, self.d_model))   # (M, F): d loss / d (a * u)
        d_gate = self.gate_proj.backward(self.act_fn.backward(g * self._u))  # (M, C)
        d_up = self.up_proj.backward(g * self._a)                            # (M, C)
        return (d_gate + d_up).reshape(self._shape)

    def _label(self):
        return f"SwiGLU(d_model={getattr(self, 'd_model', '?')}, d_ff={getattr(self, 'd_ff', '?')})"

    def extra_repr(self):
        return f"d_model={self.d_model}, d_ff={self.d_ff}"


# ============================================================================================ KV cache
class LayerKVCache:
    """One layer's stored keys and values: ``keys``/``values`` (N, K, capacity, D), the first ``length``
    positions filled."""

    def __init__(self, batch_size, n_kv_heads, capacity, head_dim, dtype):
        shape = (batch_size, n_kv_heads, capacity, head_dim)
        self.keys = np.zeros(shape, dtype=dtype)
        self.values = np.zeros(shape, dtype=dtype)
        self.length = 0

    @property
    def capacity(self):
        return self.keys.shape[2]

    def append(self, k, v):
        """Store the new keys and values (N, K, T, D) after the others; return all of them (N, K, S, D)."""
        start, T = self.length, k.shape[2]
        if start + T > self.capacity:
            raise ShapeError(f"KVCache: {start} positions are stored and {T} more do not fit in its capacity of "
                             f"{self.capacity} (the model's context_length). Start a new cache, or build the model "
                             f"with a larger context_length; the course never slides the window, since that "
                             f"would shift every rotary position")
        self.keys[:, :, start:start + T] = k
        self.values[:, :, start:start + T] = v
        self.length = start + T
        return self.keys[:, :, :self.length], self.values[:, :, :self.length]


class KVCache:
    """The keys and values of every layer of a decoder, for generation one token at a time.

    ``KVCache(n_layers, batch_size, n_kv_heads, capacity, head_dim, dtype=np.float32)``; ``layers[i]``
    is layer i's ``LayerKVCache``; ``length`` is the number of positions stored; ``nbytes`` the memory
    of the full capacity: ``2 (keys and values) · n_layers · N · K · capacity · D · bytes per number``.
    """

    def __init__(self, n_layers, batch_size, n_kv_heads, capacity, head_dim, dtype=np.float32):
        who = "KVCache"
        n_layers = validation.positive_int(n_layers, "n_layers", who)
        batch_size = validation.positive_int(batch_size, "batch_size", who)
        n_kv_heads = validation.positive_int(n_kv_heads, "n_kv_heads", who)
        capacity = validation.positive_int(capacity, "capacity", who)
        head_dim = validation.positive_int(head_dim, "head_dim", who)
        dtype = validation.float_dtype(dtype, who)
        if 2 * n_layers * batch_size * n_kv_heads * capacity * head_dim * dtype.itemsize > 2**34:
            raise ConfigError(f"KVCache: n_layers={n_layers} x batch_size={batch_size} x n_kv_heads={n_kv_heads} x "
                              f"capacity={capacity} x head_dim={head_dim} would take more than 16 GiB; lower "
                              f"batch_size or capacity")
        self.layers = [LayerKVCache(batch_size, n_kv_heads, capacity, head_dim, dtype) for _ in range(n_layers)]
        self.batch_size, self.capacity, self.dtype = batch_size, capacity, dtype

    @property
    def length(self):
        return self.layers[0].length

    @property
    def nbytes(self):
        return sum(c.keys.nbytes + c.values.nbytes for c in self.layers)

    def __repr__(self):
        return (f"KVCache(layers={len(self.layers)}, batch_size={self.batch_size}, length={self.length}, "
                f"capacity={self.capacity}, nbytes={self.nbytes})")


# ============================================================================= grouped-query attention
@saveable
class GroupedQueryAttention(Module):
    """Causal self-attention with rotary positions and ``n_kv_heads`` key/value heads for ``n_heads``
    query heads (``n_kv_heads`` must divide ``n_heads``); bias-free ``q_proj``, ``k_proj``, ``v_proj``,
    ``o_proj`` with Hugging Face's names and shapes: W_q (H·D, C), W_k and W_v (K·D, C), W_o (C, H·D).

    ``forward(x, cache=None)``: x (N, T, C) -> (N, T, C). Without a cache the positions are 0..T-1; with
    a ``LayerKVCache`` they continue from ``cache.length`` and the layer attends to every stored key.
    """

    def __init__(self, d_model, n_heads, n_kv_heads, rope_theta=10000.0, *, seed=None, rng=None,
                 dtype=np.float32, std=0.02, out_std=None):
        super().__init__()
        who = "GroupedQueryAttention"
        D = validation.divisible(d_model, n_heads, who, width_name="d_model", heads_name="n_heads")
        n_kv_heads = validation.positive_int(n_kv_heads, "n_kv_heads", who)
        if n_heads % n_kv_heads:
            options = [k for k in range(1, n_heads + 1) if n_heads % k == 0]
            raise ConfigError(f"{who}: n_kv_heads={n_kv_heads} must divide n_heads={n_heads} (each key/value head "
                              f"serves a group of query heads); pick n_kv_heads from {options}")
        if D % 2:
            raise ConfigError(f"{who}: the head size d_model // n_heads = {D} must be even (rotary positions turn "
                              f"features in pairs); change d_model or n_heads")
        if isinstance(rope_theta, bool) or not isinstance(rope_theta, numbers.Real) \
                or not 1 < rope_theta < float("inf"):
            raise ConfigError(f"{who}: rope_theta must be a finite number > 1 (10000.0 in Llama 2), got {rope_theta!r}")
        _check_size(who, int(d_model), int(d_model), "d_model x d_model")
        self.d_model, self.n_heads, self.n_kv_heads, self.head_dim = int(d_model), int(n_heads), n_kv_heads, D
        self.rope_theta = float(rope_theta)
        self.dtype = validation.float_dtype(dtype, who)
        std = validation.positive_float(std, "std", who)
        out_std = std if out_std is None else validation.positive_float(out_std, "out_std", who)
        rng = as_rng(seed, rng)
        C, H, K = self.d_model, self.n_heads, self.n_kv_heads
        self.q_proj = _normal_linear(C, H * D, rng, self.dtype, std)      # (H·D, C)
        self.k_proj = _normal_linear(C, K * D, rng, self.dtype, std)      # (K·D, C)
        self.v_proj = _normal_linear(C, K * D, rng, self.dtype, std)      # (K·D, C)
        self.o_proj = _normal_linear(H * D, C, rng, self.dtype, out_std)  # (C, H·D)
        self.keep_attention = False
        self.attention_weights = None
        self._state = None
        self._tables = {}

    def get_config(self):
        return {"d_model": self.d_model, "n_heads": self.n_heads, "n_kv_heads": self.n_kv_heads,
                "rope_theta": self.rope_theta, "dtype": self.dtype.name}

    def _cos_sin(self, start, T, dtype):
        """The rotary tables (T, D/2) of positions start..start+T-1: slices of one table of the first
        positions, grown (doubled) when a position beyond it is asked for."""
        dtype = np.dtype(dtype)
        cos, sin = self._tables.get(dtype.name, (np.empty((0, 0)), np.empty((0, 0))))
        if start + T > len(cos):
            n = max(start + T, 2 * len(cos), 64)
            cos, sin = rotary_tables(np.arange(n), self.head_dim, self.rope_theta)
            cos, sin = cos.astype(dtype), sin.astype(dtype)
            self._tables[dtype.name] = (cos, sin)
        return cos[start:start + T], sin[start:start + T]

    def forward(self, x, cache=None):
        x = check_float_array(x, self._label())
        if x.ndim != 3 or x.shape[-1] != self.d_model or 0 in x.shape:
            raise ShapeError(f"{self._label()} expects input of shape (batch, seq, {self.d_model}), got {x.shape}")
        if cache is not None and not isinstance(cache, LayerKVCache):
            raise ConfigError(f"{self._label()}: cache must be None or a LayerKVCache (one layer of a KVCache), got "
                              f"{type(cache).__name__}")
        N, T, C = x.shape
        H, K, D = self.n_heads, self.n_kv_heads, self.head_dim
        G = H // K
        start = 0 if cache is None else cache.length
        if cache is not None and (cache.keys.shape[:2] != (N, K) or cache.keys.shape[3] != D):
            raise ShapeError(f"{self._label()}: the cache holds keys of shape {cache.keys.shape} but this input needs "
                             f"(batch={N}, n_kv_heads={K}, capacity, head_dim={D}); make the cache with the same "
                             f"batch size as the tokens")
        h = x.reshape(N * T, C)
        # with a cache (generation: nothing to backpropagate) the projections skip the layers' bookkeeping
        project = (lambda layer, z: layer(z)) if cache is None else (lambda layer, z: _linear(z, layer))
        q = project(self.q_proj, h).reshape(N, T, H, D).transpose(0, 2, 1, 3)     # (N, H, T, D)
        k = project(self.k_proj, h).reshape(N, T, K, D).transpose(0, 2, 1, 3)     # (N, K, T, D)
        v = project(self.v_proj, h).reshape(N, T, K, D).transpose(0, 2, 1, 3)     # (N, K, T, D)
        cos, sin = self._cos_sin(start, T, x.dtype)                      # (T, D/2): positions start..start+T-1
        q = apply_rotary(q, cos, sin)                                    # rotate each query by its position
        k = apply_rotary(k, cos, sin)                                    # and each key by its own
        if cache is not None:
            k, v = cache.append(k, v)                                    # (N, K, S, D), S = start + T
        S = k.shape[2]
        # the G query heads of a group share their K/V head: stack them as G·T rows of one attention
        qg = q.reshape(N, K, G * T, D)                                   # head h = kv·G + g (HF's repeat_kv)
        mask = None
        if T > 1:   # query at position start+i sees keys 0..start+i (a single new token sees them all)
            allowed = np.arange(S)[None, :] <= start + np.arange(T)[:, None]        # (T, S)
            mask = np.tile(allowed, (G, 1))                                          # (G·T, S)
        out, att = attend(qg, k, v, mask)                                # (N, K, G·T, D)
        self.attention_weights = att.weights.reshape(N, H, T, S) if self.keep_attention else None
        out = out.reshape(N, H, T, D).transpose(0, 2, 1, 3).reshape(N * T, H * D)    # heads side by side
        self._state = None if cache is not None else (att, (N, T, C), cos, sin)
        self._cached_forward = cache is not None
        return project(self.o_proj, out).reshape(N, T, C)

    def backward(self, grad_output):
        """Back through o_proj, attention, the rotations (turned back by the opposite angle) and the three
        projections; a K/V head's gradient sums over the G query heads of its group (done by the
        attention backward on the stacked rows)."""
        if self.__dict__.get("_cached_forward"):
            raise CourseError(f"{self._label()}.backward() after a forward with a KV cache: caches are for "
                              f"generation only; run forward(x) without a cache to train")
        self._require_forward(self._state)
        att, shape, cos, sin = self._state
        N, T, C = shape
        H, K, D = self.n_heads, self.n_kv_heads, self.head_dim
        self._check_grad_output(grad_output, shape, self.dtype)
        g = self.o_proj.backward(grad_output.reshape(N * T, C))                     # (N·T, H·D)
        g = g.reshape(N, T, H, D).transpose(0, 2, 1, 3).reshape(N, K, (H // K) * T, D)
        d_q, d_k, d_v = attention_backward(g, att)                       # (N, K, G·T, D), (N, K, T, D) x2
        d_q = apply_rotary(d_q.reshape(N, H, T, D), cos, -sin)           # a rotation's transpose turns back
        d_k = apply_rotary(d_k, cos, -sin)
        dx = self.q_proj.backward(d_q.transpose(0, 2, 1, 3).reshape(N * T, H * D))
        dx += self.k_proj.backward(d_k.transpose(0, 2, 1, 3).reshape(N * T, K * D))
        dx += self.v_proj.backward(d_v.transpose(0, 2, 1, 3).reshape(N * T, K * D))
        return dx.reshape(N, T, C)

    def _label(self):
        return (f"GroupedQueryAttention(d_model={getattr(self, 'd_model', '?')}, "
                f"n_heads={getattr(self, 'n_heads', '?')}, n_kv_heads={getattr(self, 'n_kv_heads', '?')})")

    def extra_repr(self):
        return (f"d_model={self.d_model}, n_heads={self.n_heads}, n_kv_heads={self.n_kv_heads}, "
                f"rope_theta={self.rope_theta}")


# ======================================================================================= the block
@saveable
class DecoderBlock(Module):
    """``h = x + self_attn(input_layernorm(x))``, then ``h + mlp(post_attention_layernorm(h))``.

    ``forward(x, cache=None)`` with x (N, T, C); ``cache`` is this layer's ``LayerKVCache`` when
    generating. ``std`` and ``out_std`` are the initial standard deviations of the projections that
    read from, and write into, the residual stream.
    """

    def __init__(self, d_model, n_heads, n_kv_heads, d_ff, rope_theta=10000.0, norm_eps=1e-5, *, seed=None,
                 rng=None, dtype=np.float32, std=0.02, out_std=None):
        super().__init__()
        validation.positive_int(d_model, "d_model", "DecoderBlock")
        norm_eps = validation.positive_float(norm_eps, "norm_eps", "DecoderBlock")
        if norm_eps >= 1:
            raise ConfigError(f"DecoderBlock: norm_eps must be a small number > 0 such as 1e-5, got {norm_eps!r}")
        rng = as_rng(seed, rng)
        dtype = validation.float_dtype(dtype, "DecoderBlock")
        self.dtype = dtype
        self.input_layernorm = RMSNorm(d_model, eps=norm_eps, dtype=dtype)
        self.self_attn = GroupedQueryAttention(d_model, n_heads, n_kv_heads, rope_theta, rng=rng, dtype=dtype,
                                               std=std, out_std=out_std)
        self.post_attention_layernorm = RMSNorm(d_model, eps=norm_eps, dtype=dtype)
        self.mlp = SwiGLU(d_model, d_ff, rng=rng, dtype=dtype, std=std, down_std=out_std)
        self.d_model = self.self_attn.d_model
        self._shape = None

    def get_config(self):
        a = self.self_attn
        return {"d_model": a.d_model, "n_heads": a.n_heads, "n_kv_heads": a.n_kv_heads, "d_ff": self.mlp.d_ff,
                "rope_theta": a.rope_theta, "norm_eps": self.input_layernorm.eps, "dtype": self.dtype.name}

    def forward(self, x, cache=None):
        x = check_float_array(x, self._label())
        if x.ndim != 3 or x.shape[-1] != self.d_model:
            raise ShapeError(f"{self._label()} expects input of shape (batch, seq, {self.d_model}), got {x.shape}")
        if cache is not None:       # generation: the same maths without the layers' checks and caches
            self._shape = None
            h = x + self.self_attn(_rms_norm(x, self.input_layernorm), cache=cache)
            N, T, C = h.shape
            return h + self.mlp.step(_rms_norm(h, self.post_attention_layernorm).reshape(N * T, C)).reshape(N, T, C)
        self._shape = x.shape
        h = x + self.self_attn(self.input_layernorm(x), cache=cache)          # (N, T, C)
        return h + self.mlp(self.post_attention_layernorm(h))                  # (N, T, C)

    def backward(self, grad_output):
        """The residual rule twice, in reverse: out = h + f(h) => dh = g + f'(h)^T g."""
        if self._shape is None and self.self_attn.__dict__.get("_cached_forward"):
            raise CourseError(f"{self._label()}.backward() after a forward with a KV cache: caches are for "
                              f"generation only; run forward(x) without a cache to train")
        self._require_forward(self._shape)
        self._check_grad_output(grad_output, self._shape, self.dtype)
        g = grad_output
        g = g + self.post_attention_layernorm.backward(self.mlp.backward(g))
        return g + self.input_layernorm.backward(self.self_attn.backward(g))

    def _label(self):
        return f"DecoderBlock(d_model={getattr(self, 'd_model', '?')})"
