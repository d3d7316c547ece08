"""The PyTorch twin of ``nncourse.models.AttentionTagger`` (same layers, same parameter names); the pair is
declared in ``models/attention_tagger.py``."""

import numpy as np
import torch

from ...torch_nn.dtypes import torch_dtype
from ...errors import ConfigError, DTypeError
from ..attention_tagger import AttentionTagger as NumpyAttentionTagger
from ..attention_tagger import check_config, check_tokens

__all__ = ["AttentionTagger", "attention_tagger_from_numpy"]


class AttentionTagger(torch.nn.Module):
    """Token + position embeddings -> self-attention layers with residuals -> Linear, in torch."""

    def __init__(self, vocab_size, max_length, embed_dim=32, num_heads=2, num_layers=1, num_classes=None,
                 *, dtype=torch.float32, device=None):
        super().__init__()
        check_config(vocab_size, max_length, embed_dim, num_heads, num_layers, num_classes, "AttentionTagger")
        dtype = torch_dtype(dtype)
        if device is not None:
            try:
                device = torch.device(device)
            except (RuntimeError, TypeError):
                raise ConfigError(f"AttentionTagger: device must be a torch device such as 'cpu' or 'cuda', got "
                                  f"{device!r}") from None
        num_classes = vocab_size if num_classes is None else num_classes
        kwargs = dict(dtype=dtype, device=device)
        self.token_embedding = torch.nn.Embedding(vocab_size, embed_dim, **kwargs)
        self.position_embedding = torch.nn.Embedding(max_length, embed_dim, **kwargs)
        self.layers = torch.nn.ModuleList(
            torch.nn.MultiheadAttention(embed_dim, num_heads, batch_first=True, **kwargs)
            for _ in range(num_layers))
        self.head = torch.nn.Linear(embed_dim, num_classes, **kwargs)
        self.attention_maps = []

    def forward(self, tokens):                       # (N, L) int64
        if not isinstance(tokens, torch.Tensor):
            raise DTypeError(f"AttentionTagger (torch): tokens must be a torch tensor of integer ids, got "
                             f"{type(tokens).__name__}; convert with torch.as_tensor(tokens)")
        check_tokens(tokens.detach().cpu().numpy(), self.token_embedding.num_embeddings,
                     self.position_embedding.num_embeddings)     # the NumPy twin's checks, the same words
        L = tokens.shape[1]
        positions = torch.arange(L, device=tokens.device)
        h = self.token_embedding(tokens) + self.position_embedding(positions)             # (N, L, E)
        self.attention_maps = []
        for attention in self.layers:
            a, weights = attention(h, h, h, average_attn_weights=False)                   # (N, H, L, L)
            h = h + a
            self.attention_maps.append(weights.detach().numpy())
        return self.head(h)                                                                # (N, L, C)


def attention_tagger_from_numpy(model):
    """A torch ``AttentionTagger`` with the NumPy model's weights (same names, same shapes)."""
    if not isinstance(model, NumpyAttentionTagger):
        raise ConfigError(f"attention_tagger_from_numpy: model must be a NumPy AttentionTagger, got "
                          f"{type(model).__name__}; for another NumPy model use nncourse.torch_nn.from_numpy(model)")
    # skip_init: no random initialisation (it would draw from torch's global generator for nothing)
    twin = torch.nn.utils.skip_init(AttentionTagger, model.vocab_size, model.max_length, model.embed_dim,
                                    model.num_heads, model.num_layers, model.num_classes,
                                    dtype=torch_dtype(model.dtype))
    twin.load_state_dict({name: torch.from_numpy(np.ascontiguousarray(value))
                          for name, value in model.state_dict().items()})
    twin.train(model.training)
    return twin
