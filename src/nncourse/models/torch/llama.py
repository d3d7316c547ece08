"""``Llama``: the PyTorch twin of ``nncourse.models.Llama`` (chapter 16).

Same signature, same module names (Hugging Face's), identical ``state_dict`` keys, and the same starting
weights for the same ``seed``: ``Llama(...)`` builds the NumPy model and copies its ``state_dict``. The
norms are ``torch.nn.RMSNorm`` (torch >= 2.4); the attention is written out (rotary positions in halves,
``repeat_interleave`` for the key/value groups, ``torch.nn.functional.scaled_dot_product_attention``), with
a KV cache of the same capacity and the same refusal past ``context_length``. autograd does the backward
pass. The pair is declared in ``models/llama.py``.
"""

import numpy as np
import torch

from ... import validation
from ...numpy_nn.functional import rotary_tables
from ...torch_nn.dtypes import numpy_dtype, torch_dtype
from .. import llama as numpy_llama

__all__ = ["Llama"]   # its KVCache is made by Llama.new_cache


def apply_rotary(x, cos, sin):
    """Rotate (..., T, D) in halves: pair i = (x[i], x[i + D/2]); cos, sin (T, D/2)."""
    half = x.shape[-1] // 2
    a, b = x[..., :half], x[..., half:]
    return torch.cat([a * cos - b * sin, b * cos + a * sin], dim=-1)


class KVCache:
    """Keys and values of every layer, (N, K, capacity, D) each, and the ``length`` stored."""

    def __init__(self, n_layers, batch_size, n_kv_heads, capacity, head_dim, dtype=torch.float32, device="cpu"):
        shape = (batch_size, n_kv_heads, capacity, head_dim)
        self.keys = [torch.zeros(shape, dtype=dtype, device=device) for _ in range(n_layers)]
        self.values = [torch.zeros(shape, dtype=dtype, device=device) for _ in range(n_layers)]
        self.lengths = [0] * n_layers
        self.batch_size, self.capacity = batch_size, capacity

    @property
    def length(self):
        return self.lengths[0]


class LlamaAttention(torch.nn.Module):
    def __init__(self, d_model, n_heads, n_kv_heads, rope_theta, dtype):
        super().__init__()
        self.n_heads, self.n_kv_heads, self.head_dim = n_heads, n_kv_heads, d_model // n_heads
        self.rope_theta = rope_theta
        D = self.head_dim
        self.q_proj = torch.nn.Linear(d_model, n_heads * D, bias=False, dtype=dtype)
        self.k_proj = torch.nn.Linear(d_model, n_kv_heads * D, bias=False, dtype=dtype)
        self.v_proj = torch.nn.Linear(d_model, n_kv_heads * D, bias=False, dtype=dtype)
        self.o_proj = torch.nn.Linear(n_heads * D, d_model, bias=False, dtype=dtype)

    def forward(self, x, cache=None, layer=0):
        N, T, C = x.shape
        H, K, D = self.n_heads, self.n_kv_heads, self.head_dim
        start = 0 if cache is None else cache.lengths[layer]
        q = self.q_proj(x).view(N, T, H, D).transpose(1, 2)             # (N, H, T, D)
        k = self.k_proj(x).view(N, T, K, D).transpose(1, 2)             # (N, K, T, D)
        v = self.v_proj(x).view(N, T, K, D).transpose(1, 2)
        cos, sin = rotary_tables(np.arange(start, start + T), D, self.rope_theta)     # float64 (T, D/2)
        cos = torch.from_numpy(cos).to(device=x.device, dtype=x.dtype)
        sin = torch.from_numpy(sin).to(device=x.device, dtype=x.dtype)
        q, k = apply_rotary(q, cos, sin), apply_rotary(k, cos, sin)
        if cache is not None:
            cache.keys[layer][:, :, start:start + T] = k
            cache.values[layer][:, :, start:start + T] = v
            cache.lengths[layer] = start + T
            k, v = cache.keys[layer][:, :, :start + T], cache.values[layer][:, :, :start + T]
        S = k.shape[2]
        k = k.repeat_interleave(H // K, dim=1)                          # (N, H, S, D): head h reads kv h // G
        v = v.repeat_interleave(H // K, dim=1)
        mask = torch.arange(S, device=x.device)[None, :] <= start + torch.arange(T, device=x.device)[:, None]  # (T, S)
        out = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)   # (N, H, T, D)
        return self.o_proj(out.transpose(1, 2).reshape(N, T, H * D))


class LlamaMLP(torch.nn.Module):
    def __init__(self, d_model, d_ff, dtype):
        super().__init__()
        self.gate_proj = torch.nn.Linear(d_model, d_ff, bias=False, dtype=dtype)
        self.up_proj = torch.nn.Linear(d_model, d_ff, bias=False, dtype=dtype)
        self.down_proj = torch.nn.Linear(d_ff, d_model, bias=False, dtype=dtype)
        self.act_fn = torch.nn.SiLU()

    def forward(self, x):
        return self.down_proj(self.act_fn(self.gate_proj(x)) * self.up_proj(x))


class LlamaDecoderLayer(torch.nn.Module):
    def __init__(self, d_model, n_heads, n_kv_heads, d_ff, rope_theta, norm_eps, dtype):
        super().__init__()
        self.input_layernorm = torch.nn.RMSNorm(d_model, eps=norm_eps, dtype=dtype)
        self.self_attn = LlamaAttention(d_model, n_heads, n_kv_heads, rope_theta, dtype)
        self.post_attention_layernorm = torch.nn.RMSNorm(d_model, eps=norm_eps, dtype=dtype)
        self.mlp = LlamaMLP(d_model, d_ff, dtype)

    def forward(self, x, cache=None, layer=0):
        h = x + self.self_attn(self.input_layernorm(x), cache, layer)
        return h + self.mlp(self.post_attention_layernorm(h))


class Llama(torch.nn.Module):
    """``Llama(vocab_size, context_length, d_model, n_heads, n_kv_heads, n_layers, d_ff, rope_theta=10000.0,
    norm_eps=1e-5, tie_embeddings=False, seed=None, dtype=torch.float32)``.

    ``forward(idx, cache=None)``: integer tokens (N, T) -> logits (N, T, vocab_size). ``generate(...)`` as
    in ``nncourse.models.Llama`` (sampling uses a ``torch.Generator`` seeded with ``seed``: the same
    distribution, not the same draws; greedy decoding gives the same tokens). ``dtype`` may be a NumPy or
    torch float dtype.
    """

    def __init__(self, vocab_size, context_length, d_model, n_heads, n_kv_heads, n_layers, d_ff,
                 rope_theta=10000.0, norm_eps=1e-5, tie_embeddings=False, seed=None, dtype=torch.float32):
        super().__init__()
        twin = numpy_llama.Llama(vocab_size, context_length, d_model, n_heads, n_kv_heads, n_layers, d_ff,
                                 rope_theta, norm_eps, tie_embeddings, seed,
                                 dtype=numpy_dtype(dtype))     # validates the arguments, draws the weights
        dtype = torch_dtype(dtype)
        for name, value in numpy_llama._config_of(twin).items():
            setattr(self, name, value)
        C = self.d_model
        # The layers are built on the "meta" device (shapes only, no memory, no random draws), then take the
        # twin's arrays as their storage (assign=True): one copy of the weights at any time, not two (a
        # 135 M model would otherwise peak at twice its size while loading).
        with torch.device("meta"):
            self.embed_tokens = torch.nn.Embedding(self.vocab_size, C, dtype=dtype)
            self.layers = torch.nn.ModuleList(
                LlamaDecoderLayer(C, self.n_heads, self.n_kv_heads, self.d_ff, self.rope_theta, self.norm_eps, dtype)
                for _ in range(self.n_layers))
            self.norm = torch.nn.RMSNorm(C, eps=self.norm_eps, dtype=dtype)
            if not self.tie_embeddings:
                self.lm_head = torch.nn.Linear(C, self.vocab_size, bias=False, dtype=dtype)
        state = {name: torch.from_numpy(np.require(entry[2], requirements=("C", "W")))    # the arrays, not copies
                 for name, entry in twin._state_entries().items()}
        del twin
        self.load_state_dict(state, assign=True)

    @property
    def head_dim(self):
        return self.d_model // self.n_heads

    def new_cache(self, batch_size=1):
        """An empty ``KVCache`` for ``batch_size`` sequences, with room for ``context_length`` positions."""
        batch_size = validation.positive_int(batch_size, "batch_size", "Llama.new_cache")
        numpy_llama.KVCache(self.n_layers, batch_size, self.n_kv_heads, 1, self.head_dim)   # the size checks
        if batch_size * self.context_length > 2**26:
            raise numpy_llama.ConfigError(f"Llama.new_cache: batch_size={batch_size} x context_length="
                                          f"{self.context_length} positions is too large; lower batch_size")
        weight = self.embed_tokens.weight
        return KVCache(self.n_layers, batch_size, self.n_kv_heads, self.context_length, self.head_dim,
                       weight.dtype, weight.device)

    def forward(self, idx, cache=None):
        idx = self._check_tokens(idx)
        N, T = idx.shape
        if cache is not None:
            if not isinstance(cache, KVCache) or cache.batch_size != N or len(cache.keys) != self.n_layers:
                raise numpy_llama.ConfigError(f"Llama: cache must be None or a KVCache from "
                                              f"model.new_cache(batch_size={N}), got {cache!r}")
            numpy_llama.check_context(cache.length, T, self.context_length)
        x = self.embed_tokens(idx)                                       # (N, T, C)
        for i, layer in enumerate(self.layers):
            x = layer(x, cache, i)
        x = self.norm(x)
        if self.tie_embeddings:
            return x @ self.embed_tokens.weight.T                        # (N, T, V)
        return self.lm_head(x)

    @torch.no_grad()
    def generate(self, idx, max_new_tokens, *, temperature=1.0, top_k=None, top_p=None, seed=None,
                 use_cache=True, stop_token=None):
        """Append up to ``max_new_tokens`` sampled tokens to each row of ``idx`` (N, T0); returns a tensor.
        The rules (top_k, top_p, stop_token, context_length) are those of ``nncourse.models.Llama.generate``."""
        idx = self._check_tokens(idx)
        max_new_tokens, stops = numpy_llama.check_generation(
            tuple(idx.shape), max_new_tokens, temperature, top_k, top_p, stop_token, use_cache, self.vocab_size,
            self.context_length)
        generator = torch.Generator()
        if seed is None:
            generator.seed()
        else:
            generator.manual_seed(validation.non_negative_int(seed, "seed", "Llama.generate"))
        stops = None if stops is None else torch.from_numpy(stops).to(idx.device)
        was_training = self.training
        self.eval()
        try:
            N = idx.shape[0]
            finished = torch.zeros(N, dtype=torch.bool, device=idx.device)
            cache = self.new_cache(N) if use_cache else None
            if max_new_tokens:
                logits = self(idx, cache)[:, -1, :]
            for step in range(max_new_tokens):
                if top_k == 1:
                    nxt = logits.argmax(dim=-1)
                else:       # sampled on the CPU, where the generator lives (the model may be on a GPU)
                    probs = _probabilities(logits.double().cpu(), temperature, top_k, top_p)
                    nxt = torch.multinomial(probs, 1, generator=generator)[:, 0].to(idx.device)
                nxt = torch.where(finished, idx[:, -1], nxt)
                idx = torch.cat([idx, nxt[:, None]], dim=1)
                if stops is not None:
                    finished |= torch.isin(nxt, stops)
                    if bool(finished.all()):
                        break
                if step + 1 < max_new_tokens:
                    logits = (self(nxt[:, None], cache) if use_cache else self(idx))[:, -1, :]
        finally:
            self.train(was_training)
        return idx

    def _check_tokens(self, idx):
        if isinstance(idx, (str, bytes)):
            raise numpy_llama.DTypeError(f"Llama expects integer token ids (N, T), got text {idx!r}: encode it "
                                         f"with the tokenizer first")
        if not isinstance(idx, torch.Tensor):
            array = numpy_llama.as_token_array(idx)
            numpy_llama.check_tokens(array, self.vocab_size, self.context_length, cast="idx.long()")
            idx = torch.from_numpy(array)
        numpy_llama.check_tokens(idx.detach().cpu().numpy(), self.vocab_size, self.context_length,
                                 cast="idx.long()")
        return idx.long().to(self.embed_tokens.weight.device)       # the tokens go where the model is


def _probabilities(logits, temperature, top_k, top_p):
    """torch's spelling of ``nncourse.models.llama.sampling_probabilities``."""
    z = logits / temperature
    if top_k is not None:
        kth = torch.topk(z, top_k, dim=-1).values[:, -1:]
        z = z.masked_fill(z < kth, float("-inf"))
    p = torch.softmax(z, dim=-1)
    if top_p is not None and top_p < 1:
        sorted_p, order = torch.sort(p, dim=-1, descending=True, stable=True)
        keep_sorted = (torch.cumsum(sorted_p, dim=-1) - sorted_p) < top_p
        keep = torch.zeros_like(keep_sorted).scatter(-1, order, keep_sorted)
        p = torch.where(keep, p, torch.zeros_like(p))
        p = p / p.sum(dim=-1, keepdim=True)
    return p
