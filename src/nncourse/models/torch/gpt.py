"""``GPT``: the PyTorch twin of ``nncourse.models.GPT``, made of torch's own layers.

Same signature, same parameter names and shapes (``state_dict`` keys are identical), and the same
starting weights for the same ``seed``: ``GPT(...)`` builds the NumPy ``GPT(...)`` and copies its
``state_dict``, as ``torch_nn.mlp`` does. autograd does the backward pass. The pair is declared in
``models/gpt.py``.
"""

import numpy as np
import torch

from ... import validation
from ...torch_nn import TransformerBlock
from ...torch_nn.dtypes import numpy_dtype, torch_dtype
from .. import gpt as numpy_gpt

__all__ = ["GPT"]


class GPT(torch.nn.Module):
    """``GPT(vocab_size, context_length, d_model, n_heads, n_layers, dropout=0.0, seed=None)``.

    ``forward(idx)``: integer tokens (N, T) -> logits (N, T, vocab_size). ``generate(...)`` as in
    ``numpy_nn.GPT`` (sampling uses a ``torch.Generator`` seeded with ``seed``). ``dtype`` may be a
    NumPy or torch float dtype.
    """

    def __init__(self, vocab_size, context_length, d_model, n_heads, n_layers, dropout=0.0, seed=None,
                 *, dtype=torch.float32):
        super().__init__()
        twin = numpy_gpt.GPT(vocab_size, context_length, d_model, n_heads, n_layers, dropout, seed,
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
        max_new_tokens = numpy_gpt._check_sampling(max_new_tokens, temperature, top_k, self.vocab_size)
        generator = torch.Generator()
        if seed is None:
            generator.seed()                     # fresh entropy, like numpy.random.default_rng(None)
        else:
            generator.manual_seed(validation.non_negative_int(seed, "seed", "GPT.generate"))
        was_training = self.training
        self.eval()
        try:
            for _ in range(max_new_tokens):
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
            idx = torch.from_numpy(validation.as_array(idx, "idx (the token ids)", "GPT"))
        numpy_gpt.check_tokens(idx.detach().cpu().numpy(), self.vocab_size, self.context_length,
                               check_length=check_length, cast="idx.long()")
        return idx.long()

