"""``GPT``: the PyTorch twin of ``numpy_nn.GPT``, made of torch's own layers.

Same signature, same parameter names and shapes (``state_dict`` keys are identical), and the same
starting weights for the same ``seed``: ``GPT(...)`` builds ``numpy_nn.GPT(...)`` and copies its
``state_dict``, as ``torch_nn.mlp`` does. autograd does the backward pass.
"""

import numpy as np
import torch

from .. import numpy_nn
from ..errors import DTypeError, ShapeError, TargetError
from .dtypes import numpy_dtype, torch_dtype

__all__ = ["GPT", "TransformerBlock"]


class TransformerBlock(torch.nn.Module):
    """Pre-LayerNorm block: ``x + attn(ln_1(x))`` (causal), then ``x + mlp(ln_2(x))``."""

    def __init__(self, d_model, n_heads, dropout=0.0, *, dtype=torch.float32):
        super().__init__()
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
        T = x.shape[1]
        mask = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1)     # True = may NOT attend
        h = self.ln_1(x)
        a, weights = self.attn(h, h, h, attn_mask=mask, is_causal=True, need_weights=self.keep_attention,
                               average_attn_weights=False)
        self.attention_weights = None if weights is None else weights.detach()
        x = x + self.drop_attn(a)
        return x + self.drop_mlp(self.mlp(self.ln_2(x)))


class GPT(torch.nn.Module):
    """``GPT(vocab_size, context_length, d_model, n_heads, n_layers, dropout=0.0, seed=None)``.

    ``forward(idx)``: integer tokens (N, T) -> logits (N, T, vocab_size). ``generate(...)`` as in
    ``numpy_nn.GPT`` (sampling uses a ``torch.Generator`` seeded with ``seed``). ``dtype`` may be a
    NumPy or torch float dtype.
    """

    def __init__(self, vocab_size, context_length, d_model, n_heads, n_layers, dropout=0.0, seed=None,
                 *, dtype=torch.float32):
        super().__init__()
        twin = numpy_nn.GPT(vocab_size, context_length, d_model, n_heads, n_layers, dropout, seed,
                            dtype=numpy_dtype(dtype))            # validates the arguments, draws the weights
        dtype = torch_dtype(dtype)
        self.vocab_size, self.context_length = twin.vocab_size, twin.context_length
        self.d_model, self.n_heads, self.n_layers = twin.d_model, twin.n_heads, twin.n_layers
        V, T, C = self.vocab_size, self.context_length, self.d_model
        self.wte = torch.nn.Embedding(V, C, dtype=dtype)
        self.wpe = torch.nn.Embedding(T, C, dtype=dtype)
        self.drop = torch.nn.Dropout(dropout)
        self.blocks = torch.nn.Sequential(*(TransformerBlock(C, n_heads, dropout, dtype=dtype)
                                            for _ in range(n_layers)))
        self.ln_f = torch.nn.LayerNorm(C, dtype=dtype)
        self.lm_head = torch.nn.Linear(C, V, bias=False, dtype=dtype)
        self.load_state_dict({name: torch.from_numpy(array) for name, array in twin.state_dict().items()})

    def forward(self, idx):
        idx = self._check_tokens(idx)
        T = idx.shape[1]
        x = self.wte(idx) + self.wpe(torch.arange(T, device=idx.device))   # (N, T, C)
        x = self.blocks(self.drop(x))
        return self.lm_head(self.ln_f(x))                                  # (N, T, V)

    @torch.no_grad()
    def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None, seed=None):
        """Append ``max_new_tokens`` sampled tokens to each row of ``idx`` (N, T0); returns a tensor."""
        idx = self._check_tokens(idx, check_length=False)
        numpy_nn.gpt._check_sampling(temperature, top_k, self.vocab_size)
        generator = torch.Generator()
        if seed is None:
            generator.seed()                     # fresh entropy, like numpy.random.default_rng(None)
        else:
            generator.manual_seed(int(seed))
        was_training = self.training
        self.eval()
        try:
            for _ in range(int(max_new_tokens)):
                logits = self(idx[:, -self.context_length:])[:, -1, :] / temperature     # (N, V)
                if top_k is not None:
                    kth = torch.topk(logits, top_k, dim=-1).values[:, -1:]
                    logits = logits.masked_fill(logits < kth, float("-inf"))
                probs = torch.softmax(logits, dim=-1)
                nxt = torch.multinomial(probs, 1, generator=generator)                   # (N, 1)
                idx = torch.cat([idx, nxt], dim=1)
        finally:
            self.train(was_training)
        return idx

    def _check_tokens(self, idx, check_length=True):
        if isinstance(idx, np.ndarray):
            idx = torch.from_numpy(idx)
        if not isinstance(idx, torch.Tensor):
            idx = torch.as_tensor(idx)
        if idx.is_floating_point() or idx.dtype == torch.bool:
            raise DTypeError(f"GPT expects integer token ids (N, T), got dtype {idx.dtype}: "
                             f"use idx.long()")
        if idx.ndim != 2 or idx.shape[1] == 0:
            raise ShapeError(f"GPT expects tokens of shape (batch, seq), got {tuple(idx.shape)}")
        if check_length and idx.shape[1] > self.context_length:
            raise ShapeError(
                f"GPT: the sequence has {idx.shape[1]} tokens but context_length is {self.context_length}. "
                f"Pass at most the last {self.context_length} tokens, idx[:, -{self.context_length}:], "
                f"or build the model with a larger context_length.")
        if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= self.vocab_size):
            bad = int(idx.min()) if int(idx.min()) < 0 else int(idx.max())
            raise TargetError(f"GPT: token id {bad} is out of range: ids must be in "
                              f"[0, {self.vocab_size - 1}] for vocab_size={self.vocab_size}")
        return idx.long()

