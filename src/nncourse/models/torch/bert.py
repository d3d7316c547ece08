"""``BertEncoder``: the PyTorch twin of ``nncourse.models.BertEncoder``, made of torch's own layers.

Same signature, same parameter names (Hugging Face's ``BertModel``'s) and the same starting weights for
the same ``seed``: it builds the NumPy model and copies its ``state_dict``. autograd does the backward
pass. The pair is declared in ``models/bert.py``.
"""

import math

import numpy as np
import torch

from ...torch_nn.dtypes import numpy_dtype, torch_dtype
from .. import bert as numpy_bert

__all__ = ["BertEncoder"]


class _Group(torch.nn.Module):
    def __init__(self, /, **children):
        super().__init__()
        for name, child in children.items():
            self.add_module(name, child)


class BertEncoder(torch.nn.Module):
    """``BertEncoder(vocab_size, context_length, d_model, n_heads, n_layers, d_ff, type_vocab_size=2,
    norm_eps=1e-12, seed=None, dtype=torch.float32)``; ``forward(input_ids, attention_mask=None,
    token_type_ids=None)`` -> hidden states (N, T, d_model); ``encode(sentences)`` -> (N, d_model) NumPy."""

    def __init__(self, vocab_size, context_length, d_model, n_heads, n_layers, d_ff, type_vocab_size=2,
                 norm_eps=1e-12, seed=None, *, dtype=torch.float32):
        super().__init__()
        twin = numpy_bert.BertEncoder(vocab_size, context_length, d_model, n_heads, n_layers, d_ff, type_vocab_size,
                                      norm_eps, seed, dtype=numpy_dtype(dtype))   # checks, draws the weights
        dtype = torch_dtype(dtype)
        for name, value in numpy_bert._config_of(twin).items():
            setattr(self, name, value)
        C, F = self.d_model, self.d_ff

        def linear(i, o):
            return torch.nn.Linear(i, o, dtype=dtype)

        def norm():
            return torch.nn.LayerNorm(C, eps=self.norm_eps, dtype=dtype)

        self.embeddings = _Group(word_embeddings=torch.nn.Embedding(self.vocab_size, C, dtype=dtype),
                                 position_embeddings=torch.nn.Embedding(self.context_length, C, dtype=dtype),
                                 token_type_embeddings=torch.nn.Embedding(self.type_vocab_size, C, dtype=dtype),
                                 LayerNorm=norm())
        layers = [_Group(attention=_Group(self=_Group(query=linear(C, C), key=linear(C, C), value=linear(C, C)),
                                          output=_Group(dense=linear(C, C), LayerNorm=norm())),
                         intermediate=_Group(dense=linear(C, F)),
                         output=_Group(dense=linear(F, C), LayerNorm=norm()))
                  for _ in range(self.n_layers)]
        self.encoder = _Group(layer=torch.nn.ModuleList(layers))
        self.load_state_dict({name: torch.from_numpy(array) for name, array in twin.state_dict().items()})
        self.tokenizer = None

    def forward(self, input_ids, attention_mask=None, token_type_ids=None):
        def as_numpy(t):
            return t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else t
        ids, mask, types = numpy_bert.check_encoder_inputs(as_numpy(input_ids), as_numpy(attention_mask),
                                                           as_numpy(token_type_ids), self.vocab_size,
                                                           self.context_length, self.type_vocab_size)
        device = self.embeddings.word_embeddings.weight.device
        ids, mask, types = (torch.from_numpy(a).to(device) for a in (ids, mask, types))
        N, T = ids.shape
        H, C = self.n_heads, self.d_model
        D = C // H
        emb = self.embeddings
        x = emb.word_embeddings(ids) + emb.position_embeddings(torch.arange(T, device=device)) \
            + emb.token_type_embeddings(types)
        x = emb.LayerNorm(x)
        keep = mask.bool()[:, None, None, :]                                  # (N, 1, 1, T)
        for layer in self.encoder.layer:
            att = layer.attention
            q, k, v = (getattr(att.self, name)(x).view(N, T, H, D).transpose(1, 2)
                       for name in ("query", "key", "value"))
            s = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(D))
            w = torch.softmax(s.masked_fill(~keep, float("-inf")), dim=-1)
            a = (w @ v).transpose(1, 2).reshape(N, T, C)
            y = att.output.LayerNorm(att.output.dense(a) + x)
            m = torch.nn.functional.gelu(layer.intermediate.dense(y))          # exact erf
            x = layer.output.LayerNorm(layer.output.dense(m) + y)
        return x

    @torch.no_grad()
    def encode(self, sentences, *, batch_size=32):
        """As ``nncourse.models.BertEncoder.encode``: (N, d_model) float32 unit vectors, a NumPy array."""
        if self.tokenizer is None:
            raise numpy_bert.ConfigError("BertEncoder.encode needs a tokenizer: set encoder.tokenizer = "
                                         "WordPieceTokenizer(...) or load the model with "
                                         "nncourse.pretrained.load_minilm(backend='torch')")
        numpy_bert.check_sentences(sentences)
        from ... import validation
        batch_size = validation.positive_int(batch_size, "batch_size", "BertEncoder.encode")
        if not sentences:
            return np.zeros((0, self.d_model), dtype=np.float32)
        ids, mask = self.tokenizer.batch(list(sentences))
        lengths = mask.sum(axis=1)
        order = np.argsort(-lengths, kind="stable")                # similar lengths together: less padding
        out = np.empty((len(sentences), self.d_model), dtype=np.float32)
        for start in range(0, len(sentences), batch_size):
            rows = order[start:start + batch_size]
            T = int(lengths[rows].max())
            i, m = ids[rows, :T], mask[rows, :T]
            hidden = self(i, m).double().cpu().numpy()
            out[rows] = numpy_bert.normalize(numpy_bert.mean_pool(hidden, m)).astype(np.float32)
        return out
