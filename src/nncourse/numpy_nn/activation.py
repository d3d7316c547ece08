"""Activation functions: modules without parameters, applied value by value (``Softmax``: row by row).

Each ``backward`` multiplies the incoming gradient by the derivative of the function (chain rule),
using what ``forward`` cached: usually the output itself, because sigma' = sigma (1 - sigma),
tanh' = 1 - tanh^2 and so on are cheapest written in terms of the output.
"""

import numbers

import numpy as np

from .. import validation
from ..errors import ConfigError, NonFiniteError, ShapeError
from .module import Module, check_float_array

__all__ = ["Step", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "Softmax", "Identity"]


class _Activation(Module):
    """Shared plumbing: check the input is a finite float array; remember the output's shape and dtype."""

    def _start_forward(self, x):
        return validation.finite(check_float_array(x, self._label()), self._label())

    def _start_backward(self, grad_output, cached, dtype=None):
        self._require_forward(cached)
        self._check_grad_output(grad_output, cached.shape, cached.dtype if dtype is None else dtype)


class Step(_Activation):
    """The Heaviside step of the perceptron: 1.0 where z >= 0, else 0.0.

    Not differentiable: its derivative is 0 almost everywhere (and undefined at 0), so ``backward``
    returns zeros and gradient descent cannot learn through it. Networks with a step are trained with
    the perceptron rule, not gradient descent.
    """

    def __init__(self):
        super().__init__()
        self._out = None

    def forward(self, z):
        z = self._start_forward(z)
        self._out = (z >= 0).astype(z.dtype)
        return self._out

    def backward(self, grad_output):
        self._start_backward(grad_output, self._out)
        return np.zeros_like(grad_output)


class Sigmoid(_Activation):
    """sigma(z) = 1 / (1 + exp(-z)), squashing any number into (0, 1).

    Computed as 1 / (1 + e) for z >= 0 and e / (1 + e) for z < 0 with e = exp(-|z|) <= 1, so exp
    never overflows, whatever the size of z.
    """

    def __init__(self):
        super().__init__()
        self._out = None

    def forward(self, z):
        z = self._start_forward(z)
        e = np.exp(-np.abs(z))                              # in (0, 1]: no overflow
        self._out = np.where(z >= 0, 1.0, e) / (1.0 + e)
        return self._out.copy()     # backward reads _out: editing the output must not change the gradient

    def backward(self, grad_output):
        self._start_backward(grad_output, self._out)
        s = self._out
        return grad_output * s * (1.0 - s)                  # sigma' = sigma (1 - sigma)


class Tanh(_Activation):
    """tanh(z), squashing into (-1, 1); zero-centred, unlike the sigmoid."""

    def __init__(self):
        super().__init__()
        self._out = None

    def forward(self, z):
        z = self._start_forward(z)
        self._out = np.tanh(z)
        return self._out.copy()     # backward reads _out: editing the output must not change the gradient

    def backward(self, grad_output):
        self._start_backward(grad_output, self._out)
        t = self._out
        return grad_output * (1.0 - t * t)                  # tanh' = 1 - tanh^2


class ReLU(_Activation):
    """max(0, z). Its derivative is 1 where z > 0 and 0 elsewhere (0 at z = 0, as in torch)."""

    def __init__(self):
        super().__init__()
        self._positive = None  # boolean mask z > 0
        self._dtype = None

    def forward(self, z):
        z = self._start_forward(z)
        self._positive, self._dtype = z > 0, z.dtype
        return np.maximum(z, 0)

    def backward(self, grad_output):
        self._start_backward(grad_output, self._positive, self._dtype)
        return grad_output * self._positive                 # bool mask keeps the float dtype


class LeakyReLU(_Activation):
    """z where z > 0, else ``negative_slope * z``: a small slope keeps 'dead' units learning."""

    def __init__(self, negative_slope=0.01):
        super().__init__()
        if (isinstance(negative_slope, bool) or not isinstance(negative_slope, numbers.Real)
                or not np.isfinite(negative_slope)):
            raise ConfigError(f"LeakyReLU: negative_slope must be a finite number such as 0.01, got {negative_slope!r}")
        self.negative_slope = float(negative_slope)
        self._positive = None
        self._dtype = None

    def forward(self, z):
        z = self._start_forward(z)
        self._positive, self._dtype = z > 0, z.dtype
        return np.where(self._positive, z, z * self.negative_slope)

    def backward(self, grad_output):
        self._start_backward(grad_output, self._positive, self._dtype)
        return np.where(self._positive, grad_output, grad_output * self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"

    def get_config(self):
        return {"negative_slope": self.negative_slope}


class Softmax(_Activation):
    """softmax(z)_i = exp(z_i) / sum_j exp(z_j) along ``dim``: turns scores into probabilities.

    Stable: subtracting the row maximum first changes nothing mathematically but keeps exp <= 1.
    ``backward`` is the Jacobian-vector product  g -> y * (g - sum(g * y)),  never the full Jacobian.
    """

    def __init__(self, dim=-1):
        super().__init__()
        if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
            raise ConfigError(f"Softmax: dim must be an integer, got {dim!r}")
        self.dim = int(dim)
        self._out = None

    def _start_forward(self, z):
        """Like every layer, but ``-inf`` is allowed: it is how a score is masked out (weight 0)."""
        z = check_float_array(z, self._label())
        if np.isnan(z).any() or np.isposinf(z).any():
            raise NonFiniteError(f"{self._label()}: the input contains NaN or +inf; only -inf (a masked score) "
                                 f"is allowed. Find where they come from (a diverging run, a division by zero) "
                                 f"before this call")
        return z

    def forward(self, z):
        z = self._start_forward(z)
        if not -z.ndim <= self.dim < z.ndim:
            raise ShapeError(f"Softmax(dim={self.dim}) got input with {z.ndim} dimension(s), shape {z.shape}")
        e = np.exp(z - z.max(axis=self.dim, keepdims=True))
        e /= e.sum(axis=self.dim, keepdims=True)
        self._out = e
        return e.copy()             # backward reads _out: editing the output must not change the gradient

    def backward(self, grad_output):
        self._start_backward(grad_output, self._out)
        y = self._out
        return y * (grad_output - (grad_output * y).sum(axis=self.dim, keepdims=True))

    def extra_repr(self):
        return f"dim={self.dim}"

    def get_config(self):
        return {"dim": self.dim}


class Identity(_Activation):
    """Returns its input unchanged (a placeholder, e.g. 'no activation' on the output layer)."""

    def __init__(self):
        super().__init__()
        self._like = None

    def forward(self, x):
        x = self._start_forward(x)
        self._like = x
        return x

    def backward(self, grad_output):
        self._start_backward(grad_output, self._like)
        return grad_output


# ---------------------------------------------------------------------------------------- GELU (ch. 10)
import math  # noqa: E402  (kept inside this block so the chapters' additions merge cleanly)

__all__ += ["GELU"]

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_SERIES_CUTOFF, _SERIES_TERMS, _CONTFRAC_TERMS, _ERF_IS_ONE = 1.5, 25, 50, 6.0
_ERF_BLOCK = 65536
# c_n = 2^n / (1·3·5···(2n+1)), the series' coefficients of x^(2n) (after the factor x), n = 0..25
_SERIES_COEFFICIENTS = [2.0**n / math.prod(range(1, 2 * n + 2, 2)) for n in range(_SERIES_TERMS + 1)]


def _erf(x):
    """The error function of an array, vectorised in NumPy (which has no erf ufunc), in float64.

    Agrees with ``math.erf`` to within 1e-15 (tests/test_minilm.py checks it on a dense grid). Two formulas:

    * |x| < 1.5, the power series  erf(x) = 2/sqrt(pi) exp(-x²) sum_n 2^n x^(2n+1) / (1·3·5···(2n+1)),
      summed by Horner's rule in x² (25 terms: the next one is below 1e-17 of the sum);
    * 1.5 <= |x| < 6, erf = 1 - erfc with erfc(x) = exp(-x²)/sqrt(pi) · x / (x² + 1/2 - 1·2/(x² + 5/2 - ...)),
      a continued fraction evaluated forwards with 50 terms; beyond 6, erfc < 1e-17 and erf = ±1.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.size > _ERF_BLOCK:                 # in blocks that stay in the CPU's cache: the loops below are
        flat = x.reshape(-1)                # memory-bound on large arrays
        out = np.empty_like(flat)
        for start in range(0, flat.size, _ERF_BLOCK):
            out[start:start + _ERF_BLOCK] = _erf(flat[start:start + _ERF_BLOCK])
        return out.reshape(x.shape)
    out = np.empty_like(x)
    ax = np.abs(x)
    small = ax < _SERIES_CUTOFF
    if small.any():
        xs = x[small]
        x2 = xs * xs
        acc = np.full_like(xs, _SERIES_COEFFICIENTS[-1])
        for c in _SERIES_COEFFICIENTS[-2::-1]:          # Horner's rule in x²: two passes per term
            acc *= x2
            acc += c
        out[small] = (2.0 / math.sqrt(math.pi)) * xs * np.exp(-x2) * acc
    middle = ~small & (ax < _ERF_IS_ONE)
    if middle.any():
        xm = ax[middle]
        x2 = xm * xm
        a, da = 0.0, 0.5
        p, p_last = np.ones_like(xm), np.zeros_like(xm)
        q, q_last = da + x2, np.ones_like(xm)
        for _ in range(_CONTFRAC_TERMS):
            a += da
            da += 2.0
            b = da + x2
            p, p_last = b * p - a * p_last, p
            q, q_last = b * q - a * q_last, q
        erfc = p / q * xm * np.exp(-x2) / math.sqrt(math.pi)
        out[middle] = np.copysign(1.0 - erfc, x[middle])
    large = ~small & ~middle
    out[large] = np.sign(x[large])       # NaN stays NaN (np.sign(nan) is nan)
    return out


class GELU(_Activation):
    """The Gaussian Error Linear Unit: GELU(z) = z · Phi(z), with Phi the standard normal CDF.

    A smooth ReLU: near z = 0 it bends gently instead of at an angle, and it is slightly negative for
    small negative z. ``approximate="none"`` (torch's default) computes Phi with the error function,
    ``Phi(z) = (1 + erf(z / sqrt 2)) / 2``; ``approximate="tanh"`` uses the cheaper approximation
    ``Phi(z) ~ (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3))) / 2`` (GPT-2's choice, and the one the
    course's GPT uses, because NumPy has no vectorised erf).

    Derivative: ``d/dz [z Phi(z)] = Phi(z) + z phi(z)``, with phi the normal density (exact form), or
    the derivative of the tanh formula (approximate form); both are computed in ``backward``.
    """

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ConfigError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate
        self._z = None

    def get_config(self):
        return {"approximate": self.approximate}

    def forward(self, z):
        z = self._start_forward(z)
        self._z = z.copy(order="K")     # backward reads it: a private copy, not the caller's array
        if self.approximate == "tanh":
            self._t = np.tanh(_SQRT_2_OVER_PI * (z + 0.044715 * (z * z * z)))   # z*z*z: z**3 is 100x slower
            return 0.5 * z * (1.0 + self._t)
        self._cdf = 0.5 * (1.0 + _erf(z / math.sqrt(2.0)).astype(z.dtype))   # Phi(z)
        return z * self._cdf

    def backward(self, grad_output):
        self._start_backward(grad_output, self._z)
        z = self._z
        if self.approximate == "tanh":
            t = self._t
            inner_slope = _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * z * z)
            return grad_output * (0.5 * (1.0 + t) + 0.5 * z * (1.0 - t * t) * inner_slope)
        pdf = np.exp(-0.5 * z * z) * (1.0 / math.sqrt(2.0 * math.pi))
        return grad_output * (self._cdf + z * pdf)

    def extra_repr(self):
        return f"approximate='{self.approximate}'"


# ---------------------------------------------------------------------------------------- SiLU (ch. 16)
__all__ += ["SiLU"]


class SiLU(_Activation):
    """SiLU(z) = z · sigma(z) (also called swish): the gate of Llama's SwiGLU feed-forward.

    Like GELU a smooth ReLU, but with the logistic sigma instead of the normal CDF, so NumPy computes it
    exactly. Derivative: ``sigma(z) + z sigma(z) (1 - sigma(z)) = sigma(z) (1 + z (1 - sigma(z)))``.
    """

    def __init__(self):
        super().__init__()
        self._z = None

    def forward(self, z):
        z = self._start_forward(z)
        e = np.exp(-np.abs(z))                              # in (0, 1]: no overflow (see Sigmoid)
        s = np.where(z >= 0, 1.0, e) / (1.0 + e)            # sigma(z)
        self._z, self._s = z.copy(order="K"), s.astype(z.dtype, copy=False)
        return z * self._s

    def backward(self, grad_output):
        self._start_backward(grad_output, self._z)
        s = self._s
        return grad_output * (s * (1.0 + self._z * (1.0 - s)))


# ============================================================================ ch09: MultiheadAttention
# torch keeps MultiheadAttention in torch/nn/modules/activation.py, so it lives here too.

from . import init as _init  # noqa: E402
from .functional import attend, attention_backward  # noqa: E402
from .linear import Linear  # noqa: E402
from .parameter import Parameter  # noqa: E402
from ..errors import DTypeError  # noqa: E402
from ..utils import as_rng  # noqa: E402

__all__ += ["MultiheadAttention"]


class MultiheadAttention(Module):
    """Multi-head attention with torch's parameters, defaults and shapes.

    ``MultiheadAttention(embed_dim, num_heads)`` projects the query, key and value with one stacked
    weight ``in_proj_weight`` (3E, E) = [W_q; W_k; W_v] and bias ``in_proj_bias`` (3E,), splits each
    into ``num_heads`` heads of width ``D = E // num_heads``, runs scaled dot-product attention in
    every head at once, merges the heads back and applies ``out_proj`` (a ``Linear(E, E)``).

    Shapes (``N`` batch, ``L`` query length, ``S`` key/value length, ``E`` embed_dim, ``H`` heads):
    ``query`` (L, N, E), ``key`` and ``value`` (S, N, E); with ``batch_first=True`` (N, L, E) and
    (N, S, E); without a batch dimension (L, E) and (S, E). Output: same layout as ``query``.

    ``forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False)`` returns ``(attn_output, attn_weights)``;
    ``attn_weights`` is (N, L, S) averaged over heads, (N, H, L, S) with
    ``average_attn_weights=False``, or ``None`` with ``need_weights=False``.

    Masks use **torch's MultiheadAttention convention, the opposite of scaled_dot_product_attention's**:
    a boolean ``attn_mask`` (L, S) or (N*H, L, S) is ``True`` where attention is **not allowed**; a
    boolean ``key_padding_mask`` (N, S) is ``True`` for keys to **ignore** (padding). Float masks are
    added to the scores. ``is_causal=True`` applies a causal mask by itself (torch only treats it as a
    hint and also wants ``attn_mask``; passing both works here as well). A query that may see no key at
    all gets an output row of zeros (torch gives NaN): see ``numpy_nn.functional``.

    ``backward(grad_output)`` returns ``(d_query, d_key, d_value)``; for self-attention
    (query = key = value = x) d loss / d x is their sum.

    Initialisation as in torch: ``in_proj_weight`` Xavier (Glorot) uniform, ``in_proj_bias`` and
    ``out_proj.bias`` zeros, ``out_proj.weight`` like ``Linear``'s default. ``dropout`` must be 0
    (attention dropout is not implemented).
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, batch_first=False, *, seed=None,
                 rng=None, dtype=np.float32):
        super().__init__()
        for name, value in (("embed_dim", embed_dim), ("num_heads", num_heads)):
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"MultiheadAttention: {name} must be a positive integer, got {value!r}")
        if embed_dim % num_heads:
            divisors = [h for h in range(1, embed_dim + 1) if embed_dim % h == 0]
            raise ConfigError(
                f"MultiheadAttention: embed_dim={embed_dim} is not divisible by num_heads={num_heads}; each "
                f"head gets embed_dim // num_heads features, so num_heads must divide embed_dim "
                f"(choose num_heads from {divisors})")
        if dropout != 0:
            raise ConfigError(f"MultiheadAttention: attention dropout is not implemented, dropout must be 0.0, "
                              f"got {dropout!r}")
        dtype = validation.float_dtype(dtype, "MultiheadAttention")
        self.embed_dim, self.num_heads = int(embed_dim), int(num_heads)
        self.head_dim = self.embed_dim // self.num_heads
        self.batch_first = validation.boolean(batch_first, "batch_first", "MultiheadAttention")
        bias = validation.boolean(bias, "bias", "MultiheadAttention")
        self.dropout = 0.0
        self.dtype = dtype

        rng = as_rng(seed, rng)
        E = self.embed_dim
        self.in_proj_weight = Parameter(_init.xavier_uniform((3 * E, E), rng).astype(dtype))   # (3E, E)
        self.in_proj_bias = Parameter(np.zeros(3 * E, dtype=dtype)) if bias else None          # (3E,)
        self.out_proj = Linear(E, E, bias=bias, rng=rng, dtype=dtype)
        if bias:
            self.out_proj.bias.data[:] = 0
        self._cache = None

    # ------------------------------------------------------------------ forward
    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        who = self._label()
        need_weights = validation.boolean(need_weights, "need_weights", who)
        average_attn_weights = validation.boolean(average_attn_weights, "average_attn_weights", who)
        is_causal = validation.boolean(is_causal, "is_causal", who)
        q_in, k_in, v_in, unbatched = self._check_inputs(query, key, value)
        N, L, E = q_in.shape
        S = k_in.shape[1]
        H, D = self.num_heads, self.head_dim
        mask = self._combined_mask(attn_mask, key_padding_mask, N, L, S, unbatched)   # (N|1, H|1, L, S)

        # 1. project: one stacked matmul when query, key and value are the same array (self-attention)
        W, b = self.in_proj_weight.data, self.in_proj_bias
        self_attention = query is key and key is value
        # backward reads the inputs: private (contiguous) copies, not views of the caller's arrays (in
        # the default layout the reshapes below would copy anyway)
        if self_attention:
            q_in = k_in = v_in = q_in.copy()
        else:
            q_in, k_in, v_in = (x.copy() for x in (q_in, k_in, v_in))
        if self_attention:
            qkv = q_in.reshape(N * L, E) @ W.T                          # (N*L, E) @ (E, 3E) -> (N*L, 3E)
            if b is not None:
                qkv += b.data
            q, k, v = np.split(qkv.reshape(N, L, 3 * E), 3, axis=-1)     # 3 x (N, L, E)
        else:
            q, k, v = (x @ W[i * E:(i + 1) * E].T for i, x in enumerate((q_in, k_in, v_in)))
            if b is not None:
                q, k, v = (t + b.data[i * E:(i + 1) * E] for i, t in enumerate((q, k, v)))

        # 2. split heads: (N, L, E) -> (N, L, H, D) -> (N, H, L, D)
        q, k, v = (t.reshape(N, t.shape[1], H, D).transpose(0, 2, 1, 3) for t in (q, k, v))
        # 3. attention in every head at once: (N, H, L, D) x (N, H, S, D) -> (N, H, L, D)
        heads, att_cache = attend(q, k, v, mask, is_causal=is_causal)
        # 4. merge heads: (N, H, L, D) -> (N, L, H, D) -> (N*L, E), then the output projection
        merged = heads.transpose(0, 2, 1, 3).reshape(N * L, E)
        out = self.out_proj(merged).reshape(N, L, E)

        self._cache = (q_in, k_in, v_in, att_cache, self_attention, unbatched)
        weights = None
        if need_weights:
            weights = att_cache.weights                                # (N, H, L, S)
            weights = weights.mean(axis=1) if average_attn_weights else weights.copy()
            if unbatched:
                weights = weights[0]
        return self._to_layout(out, unbatched), weights

    # ------------------------------------------------------------------ backward
    def backward(self, grad_output):
        """Return ``(d_query, d_key, d_value)`` in the layout of the inputs; accumulate parameter grads."""
        self._require_forward(self._cache)
        q_in, k_in, v_in, att_cache, self_attention, unbatched = self._cache
        N, L, E = q_in.shape
        H, D = self.num_heads, self.head_dim
        expected = (L, E) if unbatched else ((N, L, E) if self.batch_first else (L, N, E))
        self._check_grad_output(grad_output, expected, self.dtype)
        g = self._from_layout(grad_output, unbatched)                    # (N, L, E)

        # 4. output projection and merge, backwards: (N*L, E) -> (N, L, H, D) -> (N, H, L, D)
        d_merged = self.out_proj.backward(g.reshape(N * L, E))
        d_heads = d_merged.reshape(N, L, H, D).transpose(0, 2, 1, 3)
        # 3. attention
        dq, dk, dv = attention_backward(d_heads, att_cache)              # (N, H, L|S, D) each
        # 2. split, backwards: (N, H, L, D) -> (N, L, H, D), written straight into d_qkv (N, L, 3, H, D)
        if self_attention:
            d_qkv = np.empty((N, L, 3, H, D), dtype=self.dtype)
            for i, d in enumerate((dq, dk, dv)):
                d_qkv[:, :, i] = d.transpose(0, 2, 1, 3)
            d_qkv = d_qkv.reshape(N * L, 3 * E)
            dq, dk, dv = (d_qkv[:, i * E:(i + 1) * E] for i in range(3))    # (N*L, E) views
            inputs = (q_in.reshape(N * L, E),) * 3
        else:
            dq, dk, dv = (t.transpose(0, 2, 1, 3).reshape(-1, E) for t in (dq, dk, dv))   # (N*L|N*S, E)
            inputs = (q_in.reshape(-1, E), k_in.reshape(-1, E), v_in.reshape(-1, E))
        # 1. projections: y = x W_i^T + b_i  ->  dW_i = dy^T x,  db_i = sum dy,  dx = dy W_i
        W = self.in_proj_weight.data
        if self_attention:
            self.in_proj_weight.accumulate_grad(d_qkv.T @ inputs[0])          # (3E, N*L) @ (N*L, E)
        else:
            self.in_proj_weight.accumulate_grad(np.concatenate([d.T @ x for d, x in zip((dq, dk, dv), inputs)]))
        if self.in_proj_bias is not None:
            self.in_proj_bias.accumulate_grad(np.concatenate([d.sum(axis=0) for d in (dq, dk, dv)]))
        grads = (dq @ W[:E], dk @ W[E:2 * E], dv @ W[2 * E:])            # (N*L|N*S, E) each
        grads = (g.reshape(N, -1, E) for g in grads)
        return tuple(self._to_layout(d, unbatched) for d in grads)

    # ------------------------------------------------------------------ layouts
    def _to_layout(self, x, unbatched):
        """(N, L, E), the internal layout, -> the caller's layout."""
        if unbatched:
            return x[0]
        return x if self.batch_first else x.transpose(1, 0, 2)

    def _from_layout(self, x, unbatched):
        """The caller's layout -> (N, L, E)."""
        if unbatched:
            return x[None]
        return x if self.batch_first else x.transpose(1, 0, 2)

    # ------------------------------------------------------------------ checks
    def _layout_name(self):
        return "(batch, seq, embed)" if self.batch_first else "(seq, batch, embed)"

    def _layout_hint(self):
        """The usual cause of a batch mismatch: arrays in the other layout."""
        other = "(seq, batch, embed)" if self.batch_first else "(batch, seq, embed)"
        return (f". If your arrays are laid out as {other}, build the layer with batch_first="
                f"{not self.batch_first} (or transpose them with x.transpose(1, 0, 2))")

    def _check_inputs(self, query, key, value):
        who, E = self._label(), self.embed_dim
        arrays, checked = [], set()
        for name, x in (("query", query), ("key", key), ("value", value)):
            seen, x = id(x) in checked, check_float_array(x, who, argument=name)
            checked.add(id(x))
            if x.dtype != self.dtype:
                raise DTypeError(f"{who} has {self.dtype} weights but {name} is {x.dtype}: convert with "
                                 f"{name}.astype(np.{self.dtype}), or build the layer with dtype=np.{x.dtype}")
            if x.ndim not in (2, 3) or x.shape[-1] != E:
                raise ShapeError(
                    f"{who} expects {name} of shape {self._layout_name()} with embed={E} (or unbatched "
                    f"(seq, {E})), got {x.shape}")
            if not seen and not np.isfinite(x).all():                    # self-attention: check x once
                raise NonFiniteError(f"{who}: {name} contains NaN or inf")
            arrays.append(x)
        if len({x.ndim for x in arrays}) != 1:
            raise ShapeError(f"{who}: query, key and value must all be batched (3-D) or all unbatched (2-D), "
                             f"got shapes {[x.shape for x in arrays]}")
        unbatched = arrays[0].ndim == 2
        q, k, v = (self._from_layout(x, unbatched) for x in arrays)
        if k.shape[1] != v.shape[1]:
            raise ShapeError(f"{who}: key and value must have the same sequence length (one value per key), "
                             f"got key {key.shape} and value {value.shape} in layout {self._layout_name()}")
        if not q.shape[0] == k.shape[0] == v.shape[0]:
            raise ShapeError(
                f"{who} (batch_first={self.batch_first}) expects query, key and value in layout "
                f"{self._layout_name()} with the same batch size, got query {query.shape}, key {key.shape}, "
                f"value {value.shape}{self._layout_hint()}")
        for size, what in ((q.shape[0], "batch size"), (q.shape[1], "query length L"), (k.shape[1], "key length S")):
            if size == 0:
                raise ShapeError(
                    f"{who}: the {what} is 0 (query {query.shape}, key {key.shape}, value {value.shape} in "
                    f"layout {self._layout_name()}): attention needs at least one query and one key in "
                    f"every example; drop empty sequences (or batches) before the call")
        return q, k, v, unbatched

    def _combined_mask(self, attn_mask, key_padding_mask, N, L, S, unbatched):
        """torch's two masks as one float mask added to the scores, shape broadcastable to (N, H, L, S)."""
        who, H = self._label(), self.num_heads
        total = None
        if attn_mask is not None:
            m = self._mask_as_float(attn_mask, "attn_mask")
            if m.shape == (L, S):
                m = m[None, None]                                     # (1, 1, L, S)
            elif m.ndim == 3 and m.shape == (N * H, L, S):
                m = m.reshape(N, H, L, S)
            else:
                hint = ""
                if m.shape == (S, L) and L != S:
                    hint = ": it looks transposed (rows are queries, columns are keys)"
                elif m.shape == (N, N) and not unbatched:
                    hint = self._layout_hint()        # a (seq, seq) mask for arrays in the other layout
                raise ShapeError(
                    f"{who}: attn_mask must have shape (L, S) = {(L, S)} or (N*num_heads, L, S) = {(N * H, L, S)}, "
                    f"got {m.shape}{hint}")
            total = m
        if key_padding_mask is not None:
            m = self._mask_as_float(key_padding_mask, "key_padding_mask")
            expected = (S,) if unbatched else (N, S)
            if m.shape != expected:
                hint = ""
                if m.shape == expected[::-1] and not unbatched:
                    hint = self._padding_mask_hint(m)
                raise ShapeError(f"{who}: key_padding_mask must have shape (N, S) = {expected} (True marks padding "
                                 f"keys to ignore), got {m.shape}{hint}")
            m = m.reshape(-1, 1, 1, S)                                  # (N, 1, 1, S)
            total = m if total is None else total + m
        return total

    def _padding_mask_hint(self, mask):
        """A (batch, seq) key_padding_mask given the other way round: either the arrays are in the other
        layout (batch_first) or the mask is transposed. The shapes cannot tell, the padding can: padding
        comes at the end of each sequence, so it runs to the end of every row of a (batch, seq) mask."""
        pad = mask != 0                                    # True (-inf when float) marks padding keys
        def trailing(m):                                   # every row: real keys, then padding
            return bool(np.all(m[:, 1:] >= m[:, :-1]))

        rows, columns = pad.any() and trailing(pad), pad.any() and trailing(pad.T)
        other = "(batch, seq, embed)" if not self.batch_first else "(seq, batch, embed)"
        layout = (f"the arrays look like {other}: build the layer with batch_first={not self.batch_first} "
                  f"(or transpose them with x.transpose(1, 0, 2))")
        transposed = "it looks transposed; key_padding_mask is (batch, seq) whatever batch_first is"
        if rows and not columns:
            return f". Its rows hold the padding of each sequence, so {layout}"
        if columns and not rows:
            return f": {transposed} (use key_padding_mask.T)"
        return f": either {layout}, or the arrays are right and {transposed}"

    def _mask_as_float(self, mask, name):
        """torch's MultiheadAttention convention: boolean True = blocked -> -inf; a float mask is added."""
        mask = np.asarray(mask)
        if mask.dtype == bool:
            return np.where(mask, -np.inf, 0.0).astype(self.dtype)
        if mask.dtype.kind != "f":
            raise DTypeError(f"{self._label()}: {name} must be boolean (True = blocked, torch's convention for "
                             f"MultiheadAttention) or float (added to the scores), got dtype {mask.dtype}: "
                             f"use mask.astype(bool)")
        if np.isnan(mask).any() or np.isposinf(mask).any():
            raise NonFiniteError(f"{self._label()}: a float {name} may contain -inf but not NaN or +inf")
        return mask.astype(self.dtype, copy=False)

    def _label(self):
        return f"MultiheadAttention(embed_dim={self.embed_dim}, num_heads={self.num_heads})"

    def get_config(self):
        return {"embed_dim": self.embed_dim, "num_heads": self.num_heads, "bias": self.in_proj_bias is not None,
                "batch_first": self.batch_first, "dtype": self.dtype.name}

    def extra_repr(self):
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, batch_first={self.batch_first}"

    def __repr__(self):
        return (f"MultiheadAttention(\n  {self.extra_repr()}\n  (out_proj): "
                f"{self.out_proj!r}\n)")


# --- twins in torch and saving (nncourse.numpy_nn.registry) -----------------------------------------------
from .registry import (copy_into, numpy_dtype_of, register_twin, saveable, to_numpy,  # noqa: E402
                       torch_dtype_of)


def _no_arguments(torch_name, numpy_class):
    """An activation with nothing to copy: twin of ``torch_name`` both ways."""
    def to_torch(layer, where):
        import torch

        return getattr(torch.nn, torch_name)()
    register_twin(numpy_class, f"torch.nn.{torch_name}", from_torch=lambda layer, where, rng: numpy_class(),
                  to_torch=to_torch)
    saveable(numpy_class)


for _name, _class in (("Sigmoid", Sigmoid), ("Tanh", Tanh), ("ReLU", ReLU), ("Identity", Identity), ("SiLU", SiLU)):
    _no_arguments(_name, _class)
# Step has no torch counterpart: nncourse.torch_nn.Step declares the pair (torch_nn/activation.py).
saveable(Step)


def _leaky_relu_to_torch(layer, where):
    import torch

    return torch.nn.LeakyReLU(layer.negative_slope)


def _softmax_to_torch(layer, where):
    import torch

    return torch.nn.Softmax(dim=layer.dim)


def _gelu_to_torch(layer, where):
    import torch

    return torch.nn.GELU(approximate=layer.approximate)


register_twin(LeakyReLU, "torch.nn.LeakyReLU", to_torch=_leaky_relu_to_torch,
              from_torch=lambda layer, where, rng: LeakyReLU(layer.negative_slope))
# torch's dim=None means "the last dimension" for the 2-D batches used here
register_twin(Softmax, "torch.nn.Softmax", to_torch=_softmax_to_torch,
              from_torch=lambda layer, where, rng: Softmax(dim=-1 if layer.dim is None else layer.dim))
register_twin(GELU, "torch.nn.GELU", to_torch=_gelu_to_torch,
              from_torch=lambda layer, where, rng: GELU(layer.approximate))
for _class in (LeakyReLU, Softmax, GELU):
    saveable(_class)


def _attention_from_torch(layer, where, rng):
    """torch.nn.MultiheadAttention with one stacked in-projection (kdim = vdim = embed_dim)."""
    from ..errors import ConversionError

    unsupported = [name for name, bad in (
        ("kdim/vdim different from embed_dim", not layer._qkv_same_embed_dim),
        ("add_bias_kv", layer.bias_k is not None),
        ("add_zero_attn", layer.add_zero_attn),
        (f"dropout={layer.dropout}", layer.dropout != 0)) if bad]
    if unsupported:
        raise ConversionError(f"from_torch cannot translate {where} = {layer!r}: the NumPy MultiheadAttention "
                              f"does not support {', '.join(unsupported)}.")
    dtype = numpy_dtype_of(layer, where)
    has_bias = layer.in_proj_bias is not None
    twin = MultiheadAttention(layer.embed_dim, layer.num_heads, bias=has_bias, batch_first=layer.batch_first,
                              dtype=dtype)
    twin.in_proj_weight.data = to_numpy(layer.in_proj_weight, dtype)       # (3E, E)
    if has_bias:
        twin.in_proj_bias.data = to_numpy(layer.in_proj_bias, dtype)       # (3E,)
    twin.out_proj.weight.data = to_numpy(layer.out_proj.weight, dtype)     # (E, E)
    if has_bias:
        twin.out_proj.bias.data = to_numpy(layer.out_proj.bias, dtype)     # (E,)
    return twin


def _attention_to_torch(layer, where):
    import torch

    has_bias = layer.in_proj_bias is not None
    # skip_init: no random initialisation (it would draw from torch's global generator for nothing)
    twin = torch.nn.utils.skip_init(torch.nn.MultiheadAttention, layer.embed_dim, layer.num_heads, bias=has_bias,
                                    batch_first=layer.batch_first, dtype=torch_dtype_of(layer))
    copy_into(twin.in_proj_weight, layer.in_proj_weight.data)      # (3E, E)
    copy_into(twin.out_proj.weight, layer.out_proj.weight.data)    # (E, E)
    if has_bias:
        copy_into(twin.in_proj_bias, layer.in_proj_bias.data)      # (3E,)
        copy_into(twin.out_proj.bias, layer.out_proj.bias.data)    # (E,)
    return twin


register_twin(MultiheadAttention, "torch.nn.MultiheadAttention", from_torch=_attention_from_torch,
              to_torch=_attention_to_torch)
saveable(MultiheadAttention)
