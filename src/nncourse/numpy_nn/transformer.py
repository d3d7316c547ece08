"""``TransformerBlock``: one pre-LayerNorm decoder block of a GPT, with causal self-attention.

::

    x ──┬──────────────────────────────(+)──┬─────────────────────────────(+)──> out
        └─ ln_1 ─ attn (causal) ─ drop ──┘  └─ ln_2 ─ Linear ─ GELU ─ Linear ─ drop ─┘

Each branch *adds* its result to the stream ``x`` (a residual connection), so the block computes
``x + f(x)``. The backward pass is where that pays off: the derivative of ``x + f(x)`` is
``1 + f'(x)``, so the gradient that arrives at the output goes back **unchanged** along the stream
and the branch's gradient is *added* to it (gradients add where the stream splits). A stack of
blocks therefore always has a direct path for the gradient from the loss to the first layer.

Shapes: ``N`` batch, ``T`` sequence length (``T <= context_length`` of the model), ``C = d_model``.
"""


import numpy as np

from .. import validation
from ..errors import ShapeError
from ..utils import as_rng
from .activation import GELU, MultiheadAttention
from .container import Sequential
from .dropout import Dropout
from .linear import Linear
from .module import Module, check_float_array
from .normalization import LayerNorm
from .registry import saveable

__all__ = ["TransformerBlock"]


@saveable   # its torch twin declares the pair (nncourse.torch_nn.transformer)
class TransformerBlock(Module):
    """``x + attn(ln_1(x))``, then ``x + mlp(ln_2(x))``; the attention is causal (position t only
    sees positions 0..t). ``mlp`` is ``Linear(C, 4C)``, ``GELU(approximate="tanh")``, ``Linear(4C, C)``.

    ``d_model`` must be divisible by ``n_heads``. ``dropout`` applies to the output of each branch,
    just before it is added to the stream (attention-weight dropout is not implemented). Set
    ``keep_attention = True`` to keep the attention weights of the last forward pass in
    ``attention_weights`` (N, n_heads, T, T), for plotting.
    """

    def __init__(self, d_model, n_heads, dropout=0.0, *, seed=None, rng=None, dtype=np.float32):
        super().__init__()
        validation.divisible(d_model, n_heads, "TransformerBlock", width_name="d_model", heads_name="n_heads")
        dtype = validation.float_dtype(dtype, "TransformerBlock")
        validation.probability(dropout, "dropout", "TransformerBlock")   # named here, not as Dropout's p
        rng = as_rng(seed, rng)
        self.d_model, self.n_heads = int(d_model), int(n_heads)
        self.dtype = dtype
        C = self.d_model
        self.ln_1 = LayerNorm(C, dtype=dtype)
        self.attn = MultiheadAttention(C, n_heads, batch_first=True, rng=rng, dtype=dtype)
        self.ln_2 = LayerNorm(C, dtype=dtype)
        self.mlp = Sequential(Linear(C, 4 * C, rng=rng, dtype=dtype), GELU("tanh"),
                              Linear(4 * C, C, rng=rng, dtype=dtype))
        self.drop_attn = Dropout(dropout, rng=rng)
        self.drop_mlp = Dropout(dropout, rng=rng)
        self.keep_attention = False
        self.attention_weights = None
        self._shape = None

    def get_config(self):
        return {"d_model": self.d_model, "n_heads": self.n_heads, "dropout": self.drop_attn.p, "dtype": self.dtype.name}

    def forward(self, x):
        x = check_float_array(x, self._label())
        if x.ndim != 3 or x.shape[-1] != self.d_model:
            raise ShapeError(f"{self._label()} expects input of shape (batch, seq, {self.d_model}), got {x.shape}")
        if 0 in x.shape:
            raise ShapeError(f"{self._label()} got an empty input of shape {x.shape}: pass at least one sequence "
                             f"of at least one position")
        N, T, C = x.shape
        self._shape = x.shape
        # 1. attention branch: every position mixes in the positions before it
        h = self.ln_1(x)                                                       # (N, T, C)
        a, weights = self.attn(h, h, h, need_weights=self.keep_attention, is_causal=True,
                               average_attn_weights=False)                     # (N, T, C)
        self.attention_weights = weights                                       # (N, H, T, T) or None
        x = x + self.drop_attn(a)
        # 2. MLP branch: the same two-layer network at every position (Linear wants 2-D: N*T rows)
        h = self.ln_2(x).reshape(N * T, C)
        m = self.mlp(h).reshape(N, T, C)
        return x + self.drop_mlp(m)

    def backward(self, grad_output):
        """The residual rule, twice (in reverse order): out = x + f(x)  =>  dx = g + f'(x)ᵀ g."""
        self._require_forward(self._shape)
        N, T, C = self._shape
        self._check_grad_output(grad_output, self._shape, self.dtype)
        g = grad_output                                                         # d loss / d out
        # 2. MLP branch: the stream passes g through unchanged, the branch adds its own gradient
        g_m = self.drop_mlp.backward(g).reshape(N * T, C)
        g_h = self.mlp.backward(g_m).reshape(N, T, C)
        g = g + self.ln_2.backward(g_h)
        # 1. attention branch: self-attention uses h three times (query, key, value): add the three
        g_a = self.drop_attn.backward(g)
        d_query, d_key, d_value = self.attn.backward(g_a)
        g = g + self.ln_1.backward(d_query + d_key + d_value)
        return g

    def _label(self):
        return f"TransformerBlock(d_model={getattr(self, 'd_model', '?')}, n_heads={getattr(self, 'n_heads', '?')})"
