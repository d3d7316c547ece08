"""``TransformerBlock``: the PyTorch twin of ``numpy_nn.TransformerBlock``, made of torch's own layers.

Same parameter names and shapes (``state_dict`` keys are identical), so ``from_numpy`` / ``from_torch``
copy the weights by name.
"""

import torch

from ..errors import DTypeError, ShapeError
from ..numpy_nn import TransformerBlock as NumpyTransformerBlock
from ..numpy_nn.registry import load_numpy_state, load_torch_state, numpy_dtype_of, register_twin, torch_dtype_of

__all__ = ["TransformerBlock"]


class TransformerBlock(torch.nn.Module):
    """Pre-LayerNorm block: ``x + attn(ln_1(x))`` (causal), then ``x + mlp(ln_2(x))``."""

    def __init__(self, d_model, n_heads, dropout=0.0, *, dtype=torch.float32):
        super().__init__()
        from .. import validation
        from .dtypes import torch_dtype
        validation.divisible(d_model, n_heads, "TransformerBlock", width_name="d_model", heads_name="n_heads")
        validation.probability(dropout, "dropout", "TransformerBlock")
        dtype = torch_dtype(dtype)
        C = d_model
        self.ln_1 = torch.nn.LayerNorm(C, dtype=dtype)
        self.attn = torch.nn.MultiheadAttention(C, n_heads, batch_first=True, dtype=dtype)
        self.ln_2 = torch.nn.LayerNorm(C, dtype=dtype)
        self.mlp = torch.nn.Sequential(torch.nn.Linear(C, 4 * C, dtype=dtype),
                                       torch.nn.GELU(approximate="tanh"),
                                       torch.nn.Linear(4 * C, C, dtype=dtype))
        self.drop_attn = torch.nn.Dropout(dropout)
        self.drop_mlp = torch.nn.Dropout(dropout)
        self.keep_attention = False
        self.attention_weights = None

    def forward(self, x):
        self._check_input(x)
        T = x.shape[1]
        mask = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1)     # True = may NOT attend
        h = self.ln_1(x)
        a, weights = self.attn(h, h, h, attn_mask=mask, is_causal=True, need_weights=self.keep_attention,
                               average_attn_weights=False)
        self.attention_weights = None if weights is None else weights.detach()
        x = x + self.drop_attn(a)
        return x + self.drop_mlp(self.mlp(self.ln_2(x)))

    def _check_input(self, x):
        """What numpy_nn.TransformerBlock refuses, refused here too (torch's own errors do not name the input)."""
        C, dtype = self.ln_1.normalized_shape[0], self.ln_1.weight.dtype
        label = f"TransformerBlock(d_model={C}, n_heads={self.attn.num_heads})"
        if not isinstance(x, torch.Tensor):
            raise DTypeError(f"{label} expects a torch tensor as input, got {type(x).__name__}; convert with "
                             f"torch.as_tensor(x, dtype={dtype})")
        if not x.is_floating_point():
            raise DTypeError(f"{label} expects a floating-point input, got a {x.dtype} tensor: token ids go through "
                             f"an embedding first; for numbers convert with x.to({dtype})")
        if x.ndim != 3 or x.shape[-1] != C:
            raise ShapeError(f"{label} expects input of shape (batch, seq, {C}), got {tuple(x.shape)}")
        if 0 in x.shape:
            raise ShapeError(f"{label} got an empty input of shape {tuple(x.shape)}: pass at least one sequence "
                             f"of at least one position")


def _from_torch(layer, where, rng):
    twin = NumpyTransformerBlock(layer.attn.embed_dim, layer.attn.num_heads, layer.drop_attn.p, rng=rng,
                                 dtype=numpy_dtype_of(layer, where))
    return load_torch_state(twin, layer)


def _to_torch(layer, where):
    twin = TransformerBlock(layer.d_model, layer.n_heads, layer.drop_attn.p, dtype=torch_dtype_of(layer))
    return load_numpy_state(twin, layer)


register_twin(NumpyTransformerBlock, TransformerBlock, from_torch=_from_torch, to_torch=_to_torch)
