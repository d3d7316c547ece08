"""``BertEncoder``: a BERT-style transformer encoder (chapter 20), written from scratch in NumPy.

::

    input_ids (N, T), attention_mask (N, T), token_type_ids (N, T)
      -> word[ids] + position[0..T-1] + token_type[types] -> LayerNorm            (N, T, C)
      -> n_layers x layer:                                                       (N, T, C)
             a = attention(x)  (every position sees every *real* position: no causal mask)
             y = LayerNorm(x + dense(a))                 post-LayerNorm: the norm comes after the sum
             out = LayerNorm(y + dense(GELU(dense(y))))  GELU with the exact erf
      -> hidden states (N, T, C)

The **encoder differs from the GPT decoder by its mask**: no causal mask, so position t reads the
positions after it too; only padding is hidden (``attention_mask == 0``: the key is never attended to).
The norms sit *after* each residual sum (BERT's "post-LN"), with eps 1e-12 by default.

Module names are Hugging Face's ``BertModel`` (``embeddings.word_embeddings.weight``,
``encoder.layer.{i}.attention.self.query.weight``, ``encoder.layer.{i}.output.LayerNorm.bias``...), so a
pretrained checkpoint loads by name (``nncourse.pretrained.load_minilm``). The pooler is left out.

``encode(sentences)`` (with a tokenizer attached: ``encoder.tokenizer = WordPieceTokenizer(...)``)
returns sentence embeddings: the mean of the hidden states over the real tokens, L2-normalised.

Initialisation (BERT's): weights and embeddings ~ N(0, 0.02²), biases zero, LayerNorm weight one.
"""

import math

import numpy as np

from .. import validation
from ..errors import ConfigError, DTypeError, ShapeError, TargetError
from ..numpy_nn import GELU, Embedding, LayerNorm, Linear, Module
from ..numpy_nn.module import check_float_array
from ..numpy_nn.activation import _erf
from ..numpy_nn.functional import attend, attention_backward
from ..numpy_nn.registry import load_numpy_state, load_torch_state, numpy_dtype_of, saveable, torch_dtype_of, twin_of
from ..utils import as_rng

__all__ = ["BertEncoder", "mean_pool", "check_encoder_inputs"]


def _config_of(layer):
    return dict(vocab_size=layer.vocab_size, context_length=layer.context_length, d_model=layer.d_model,
                n_heads=layer.n_heads, n_layers=layer.n_layers, d_ff=layer.d_ff,
                type_vocab_size=layer.type_vocab_size, norm_eps=layer.norm_eps)


def _from_torch(layer, where, rng):
    twin = BertEncoder(**_config_of(layer), seed=0, dtype=numpy_dtype_of(layer, where))
    return load_torch_state(twin, layer)


def _to_torch(layer, where):
    from .torch.bert import BertEncoder as TorchBertEncoder

    twin = TorchBertEncoder(**_config_of(layer), seed=0, dtype=torch_dtype_of(layer))
    return load_numpy_state(twin, layer)


class _Group(Module):
    """A named box of sub-modules (``attention``, ``output``...): it gives the parameters Hugging Face's
    names; ``BertEncoder`` runs the maths itself."""

    def __init__(self, /, **children):
        super().__init__()
        for name, child in children.items():
            setattr(self, name, child)


class _Layers(Module):
    """``encoder.layer``: the blocks, named "0", "1", ..."""

    def __init__(self, layers):
        super().__init__()
        for i, layer in enumerate(layers):
            self.add_module(str(i), layer)


@saveable
@twin_of("nncourse.models.torch.bert.BertEncoder", from_torch=_from_torch, to_torch=_to_torch)
class BertEncoder(Module):
    """``BertEncoder(vocab_size, context_length, d_model, n_heads, n_layers, d_ff, type_vocab_size=2,
    norm_eps=1e-12, seed=None, dtype=np.float32)``.

    ``forward(input_ids, attention_mask=None, token_type_ids=None)`` -> hidden states (N, T, d_model);
    ``backward(grad_hidden)`` fills every parameter's ``.grad``; ``encode(sentences)`` -> (N, d_model)
    unit vectors. The same ``seed`` gives the same starting weights as ``nncourse.models.torch.BertEncoder``.
    """

    def __init__(self, vocab_size, context_length, d_model, n_heads, n_layers, d_ff, type_vocab_size=2,
                 norm_eps=1e-12, seed=None, *, dtype=np.float32):
        super().__init__()
        for name, value in (("vocab_size", vocab_size), ("context_length", context_length), ("n_layers", n_layers),
                            ("d_ff", d_ff), ("type_vocab_size", type_vocab_size)):
            validation.positive_int(value, name, "BertEncoder")
        validation.divisible(d_model, n_heads, "BertEncoder", width_name="d_model", heads_name="n_heads")
        norm_eps = validation.positive_float(norm_eps, "norm_eps", "BertEncoder")
        dtype = validation.float_dtype(dtype, "BertEncoder")
        for name, rows, cols in (("vocab_size x d_model", vocab_size, d_model), ("d_model x d_ff", d_model, d_ff),
                                 ("context_length x d_model", context_length, d_model)):
            if rows * cols > 2**31:
                raise ConfigError(f"BertEncoder: {name} = {rows} x {cols} weights is more than a NumPy model can "
                                  f"hold (2**31): use the sizes of a real checkpoint at most")
        self.vocab_size, self.context_length = int(vocab_size), int(context_length)
        self.d_model, self.n_heads, self.n_layers = int(d_model), int(n_heads), int(n_layers)
        self.d_ff, self.type_vocab_size, self.norm_eps = int(d_ff), int(type_vocab_size), norm_eps
        self.seed, self.dtype = seed, dtype
        rng = as_rng(seed)
        C, F = self.d_model, self.d_ff

        def linear(i, o):
            return Linear(i, o, init="zeros", dtype=dtype)

        def norm():
            return LayerNorm(C, eps=norm_eps, dtype=dtype)

        self.embeddings = _Group(word_embeddings=Embedding(self.vocab_size, C, seed=0, dtype=dtype),
                                 position_embeddings=Embedding(self.context_length, C, seed=0, dtype=dtype),
                                 token_type_embeddings=Embedding(self.type_vocab_size, C, seed=0, dtype=dtype),
                                 LayerNorm=norm())
        layers = []
        for _ in range(self.n_layers):
            layers.append(_Group(
                attention=_Group(self=_Group(query=linear(C, C), key=linear(C, C), value=linear(C, C)),
                                 output=_Group(dense=linear(C, C), LayerNorm=norm())),
                intermediate=_Group(dense=linear(C, F), intermediate_act_fn=GELU()),
                output=_Group(dense=linear(F, C), LayerNorm=norm())))
        self.encoder = _Group(layer=_Layers(layers))
        self._init_weights(rng)
        self.tokenizer = None
        self._cache = None

    @property
    def layers(self):
        return list(self.encoder.layer.children())

    def get_config(self):
        return {**_config_of(self), "dtype": self.dtype.name}

    @classmethod
    def from_config(cls, config):
        """A fresh ``BertEncoder`` from a ``get_config()`` dict (new weights, seed 0)."""
        return cls(**check_config(config, "BertEncoder.from_config"), seed=0)

    def _init_weights(self, rng):
        for name, param in self.named_parameters():
            if "LayerNorm" in name:
                param.data[...] = 1.0 if name.endswith("weight") else 0.0
            elif name.endswith("bias"):
                param.data[...] = 0.0
            else:
                param.data[...] = rng.normal(0.0, 0.02, size=param.shape)

    # ------------------------------------------------------------------ forward and backward
    def forward(self, input_ids, attention_mask=None, token_type_ids=None):
        ids, mask, types = check_encoder_inputs(input_ids, attention_mask, token_type_ids, self.vocab_size,
                                                self.context_length, self.type_vocab_size)
        N, T = ids.shape
        C, H = self.d_model, self.n_heads
        D = C // H
        emb = self.embeddings
        x = emb.word_embeddings(ids) + emb.position_embeddings(np.arange(T)) + emb.token_type_embeddings(types)
        x = emb.LayerNorm(x)                                                   # (N, T, C)
        keep = mask.astype(bool)[:, None, None, :]                             # (N, 1, 1, T): real keys only
        caches = []
        for layer in self.layers:
            att = layer.attention
            h = x.reshape(N * T, C)
            q, k, v = (getattr(att.self, name)(h).reshape(N, T, H, D).transpose(0, 2, 1, 3)
                       for name in ("query", "key", "value"))                  # (N, H, T, D) each
            a, cache = attend(q, k, v, attn_mask=keep)                         # no causal mask: bidirectional
            caches.append(cache)
            a = a.transpose(0, 2, 1, 3).reshape(N * T, C)
            y = att.output.LayerNorm(att.output.dense(a).reshape(N, T, C) + x)            # post-LN
            m = layer.intermediate.intermediate_act_fn(layer.intermediate.dense(y.reshape(N * T, C)))
            x = layer.output.LayerNorm(layer.output.dense(m).reshape(N, T, C) + y)
        self._cache = (N, T, caches)
        return x

    def backward(self, grad_hidden):
        """Fill every parameter's ``.grad`` from d loss / d hidden states (N, T, d_model); returns None."""
        self._require_forward(self._cache)
        N, T, caches = self._cache
        C, H = self.d_model, self.n_heads
        D = C // H
        self._check_grad_output(grad_hidden, (N, T, C), self.dtype)
        validation.finite(grad_hidden, "BertEncoder.backward", argument="grad_hidden")
        g = grad_hidden
        for layer, cache in zip(reversed(self.layers), reversed(caches)):
            att = layer.attention
            g_sum = layer.output.LayerNorm.backward(g)                          # out = LN(dense(m) + y)
            g_m = layer.output.dense.backward(g_sum.reshape(N * T, C))
            g_i = layer.intermediate.intermediate_act_fn.backward(g_m)
            g_y = g_sum + layer.intermediate.dense.backward(g_i).reshape(N, T, C)
            g_sum = att.output.LayerNorm.backward(g_y)                          # y = LN(dense(a) + x)
            g_a = att.output.dense.backward(g_sum.reshape(N * T, C))
            g_a = g_a.reshape(N, T, H, D).transpose(0, 2, 1, 3)
            d_q, d_k, d_v = attention_backward(np.ascontiguousarray(g_a), cache)
            g = g_sum
            for name, d in (("query", d_q), ("key", d_k), ("value", d_v)):
                d = np.ascontiguousarray(d.transpose(0, 2, 1, 3).reshape(N * T, C))
                g = g + getattr(att.self, name).backward(d).reshape(N, T, C)
        emb = self.embeddings
        g = emb.LayerNorm.backward(g)
        emb.word_embeddings.backward(g)
        emb.position_embeddings.backward(g.sum(axis=0))
        emb.token_type_embeddings.backward(g)
        self._cache = None
        return None

    # ------------------------------------------------------------------ sentence embeddings
    def encode(self, sentences, *, batch_size=32):
        """Sentence embeddings (N, d_model), float32 unit vectors: the tokenizer's ids (truncated at its
        ``max_length``), the hidden states, their mean over the real tokens, divided by its length."""
        if self.tokenizer is None:
            raise ConfigError("BertEncoder.encode needs a tokenizer: set encoder.tokenizer = WordPieceTokenizer(...) "
                              "or load the model with nncourse.pretrained.load_minilm()")
        check_sentences(sentences)
        batch_size = validation.positive_int(batch_size, "batch_size", "BertEncoder.encode")
        if not sentences:
            return np.zeros((0, self.d_model), dtype=np.float32)
        ids, mask = self.tokenizer.batch(list(sentences))          # checks every sentence first
        if ids.shape[1] > self.context_length:
            raise ShapeError(f"BertEncoder.encode: the tokenizer's max_length gives {ids.shape[1]} tokens but "
                             f"context_length is {self.context_length}: set tokenizer.max_length <= "
                             f"{self.context_length}")
        lengths = mask.sum(axis=1)
        order = np.argsort(-lengths, kind="stable")                # similar lengths together: less padding
        out = np.empty((len(sentences), self.d_model), dtype=np.float32)
        for start in range(0, len(sentences), batch_size):
            rows = order[start:start + batch_size]
            T = int(lengths[rows].max())
            hidden = self._hidden_fast(ids[rows, :T], mask[rows, :T])
            out[rows] = normalize(mean_pool(hidden, mask[rows, :T])).astype(np.float32)
        return out

    def _hidden_fast(self, ids, mask):
        """``forward`` for inference: the same maths, without the layers' checks and caches."""
        N, T = ids.shape
        C, H = self.d_model, self.n_heads
        D = C // H
        emb = self.embeddings
        x = (emb.word_embeddings.weight.data[ids] + emb.position_embeddings.weight.data[:T]
             + emb.token_type_embeddings.weight.data[np.zeros_like(ids)])
        x = _layer_norm(x, emb.LayerNorm)
        bias = np.where(mask.astype(bool), 0.0, -np.inf).astype(x.dtype)[:, None, None, :]
        scale = x.dtype.type(1.0 / math.sqrt(D))
        for layer in self.layers:
            att = layer.attention
            h = x.reshape(N * T, C)
            q, k, v = (_linear(h, getattr(att.self, name)).reshape(N, T, H, D).transpose(0, 2, 1, 3)
                       for name in ("query", "key", "value"))
            s = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
            s = np.exp(s - s.max(axis=-1, keepdims=True))
            w = s / s.sum(axis=-1, keepdims=True)
            a = (w @ v).transpose(0, 2, 1, 3).reshape(N * T, C)
            y = _layer_norm(_linear(a, att.output.dense).reshape(N, T, C) + x, att.output.LayerNorm)
            i = _linear(y.reshape(N * T, C), layer.intermediate.dense)
            m = i * (0.5 * (1.0 + _erf(i / math.sqrt(2.0)).astype(i.dtype)))
            x = _layer_norm(_linear(m, layer.output.dense).reshape(N, T, C) + y, layer.output.LayerNorm)
        return x

    def _label(self):
        return "BertEncoder"

    def extra_repr(self):
        return (f"vocab_size={self.vocab_size}, context_length={self.context_length}, d_model={self.d_model}, "
                f"n_heads={self.n_heads}, n_layers={self.n_layers}, d_ff={self.d_ff}")


def _linear(x, layer):
    return x @ layer.weight.data.T + layer.bias.data


def _layer_norm(x, norm):
    mu = x.mean(axis=-1, keepdims=True)
    centred = x - mu
    var = (centred * centred).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(var + x.dtype.type(norm.eps)) * norm.weight.data + norm.bias.data


def check_sentences(sentences):
    """``encode``'s argument: a list (or tuple) of str, never one bare str."""
    if isinstance(sentences, str):
        raise DTypeError("BertEncoder.encode: sentences must be a list of str, got one str: wrap it in a list, "
                         "[sentence]")
    if not isinstance(sentences, (list, tuple)):
        raise DTypeError(f"BertEncoder.encode: sentences must be a list of str, got {type(sentences).__name__}")


def mean_pool(hidden, mask):
    """The mean of ``hidden`` (N, T, C) over the positions where ``mask`` (N, T) is 1 -> (N, C)."""
    hidden = check_float_array(hidden, "mean_pool", argument="hidden")
    validation.finite(hidden, "mean_pool", argument="hidden")
    mask = validation.as_array(mask, "mask", "mean_pool")
    if hidden.ndim != 3 or mask.shape != hidden.shape[:2]:
        raise ShapeError(f"mean_pool: hidden must be (N, T, C) and mask (N, T), got hidden {hidden.shape} and mask "
                         f"{mask.shape}: pass the attention mask of the same batch")
    if mask.dtype.kind not in "iub" or not np.isin(mask, (0, 1)).all():
        raise DTypeError(f"mean_pool: mask must hold 0 (padding) and 1 (a real token) only, got dtype {mask.dtype}")
    m = mask.astype(hidden.dtype)[:, :, None]                              # (N, T, 1)
    return (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)


_CONFIG_KEYS = ("vocab_size", "context_length", "d_model", "n_heads", "n_layers", "d_ff")


def check_config(config, who):
    """``config`` as a dict of ``BertEncoder``'s arguments (what ``get_config()`` returns)."""
    if not isinstance(config, dict):
        raise ConfigError(f"{who}: config must be a dict like encoder.get_config() returns, got "
                          f"{type(config).__name__} {config!r:.40}; pass the dict, e.g. "
                          f"BertEncoder.from_config(encoder.get_config())")
    missing = [key for key in _CONFIG_KEYS if key not in config]
    if missing:
        raise ConfigError(f"{who}: config is missing {', '.join(missing)}; pass the whole dict that "
                          f"encoder.get_config() returns")
    unknown = [key for key in config if key not in _CONFIG_KEYS + ("type_vocab_size", "norm_eps", "dtype")]
    if unknown:
        raise ConfigError(f"{who}: config has unknown key(s) {', '.join(map(str, unknown))}; keep only the keys "
                          f"that encoder.get_config() returns")
    return config


def normalize(x):
    """Each row divided by its length (a zero row stays zero)."""
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def check_encoder_inputs(input_ids, attention_mask, token_type_ids, vocab_size, context_length, type_vocab_size):
    """What both ``BertEncoder`` twins accept (NumPy views): int ids (N, T), T <= context_length; a 0/1 (or
    bool) mask of the same shape with at least one 1 per row (default all ones); int token types
    (default zeros). Returns the three as int64 arrays."""
    who = "BertEncoder"
    vocab_size = validation.positive_int(vocab_size, "vocab_size", who)
    context_length = validation.positive_int(context_length, "context_length", who)
    type_vocab_size = validation.positive_int(type_vocab_size, "type_vocab_size", who)
    ids = validation.as_array(input_ids, "input_ids", who)
    if ids.dtype.kind not in "iu":
        raise DTypeError(f"BertEncoder: input_ids must be integer token ids (N, T), got dtype {ids.dtype}: "
                         f"make them with tokenizer.batch(sentences)")
    if ids.ndim != 2 or ids.shape[1] == 0 or ids.shape[0] == 0:
        hint = ": add a batch dimension with input_ids[None, :]" if ids.ndim == 1 else ""
        raise ShapeError(f"BertEncoder: input_ids must have shape (batch, seq) with both >= 1, got {ids.shape}{hint}")
    if ids.shape[1] > context_length:
        raise ShapeError(f"BertEncoder: input_ids has {ids.shape[1]} tokens but context_length is {context_length} "
                         f"(there are only that many position embeddings): truncate to {context_length}")
    if ids.min() < 0 or ids.max() >= vocab_size:
        bad = int(ids.min()) if ids.min() < 0 else int(ids.max())
        raise TargetError(f"BertEncoder: input_ids holds token id {bad}, out of range: ids must be in "
                          f"[0, {vocab_size - 1}] for vocab_size={vocab_size}")
    if attention_mask is None:
        mask = np.ones(ids.shape, dtype=np.int64)
    else:
        mask = validation.as_array(attention_mask, "attention_mask", who)
        if mask.shape != ids.shape:
            raise ShapeError(f"BertEncoder: attention_mask must have input_ids' shape {ids.shape}, got {mask.shape}")
        if mask.dtype.kind not in "iub" or not np.isin(mask, (0, 1)).all():
            raise DTypeError(f"BertEncoder: attention_mask must hold 0 (padding) and 1 (a real token) only, got "
                             f"dtype {mask.dtype}: use the mask that tokenizer.batch returns")
        if not mask.any(axis=1).all():
            raise DTypeError("BertEncoder: a row of attention_mask is all 0: every sentence needs at least one "
                             "real token ([CLS])")
        mask = mask.astype(np.int64)
    if token_type_ids is None:
        types = np.zeros(ids.shape, dtype=np.int64)
    else:
        types = validation.as_array(token_type_ids, "token_type_ids", who)
        if types.shape != ids.shape or types.dtype.kind not in "iu":
            raise ShapeError(f"BertEncoder: token_type_ids must be integers of input_ids' shape {ids.shape}, got "
                             f"{types.dtype} {types.shape}")
        if types.min() < 0 or types.max() >= type_vocab_size:
            raise TargetError(f"BertEncoder: token_type_ids must be in [0, {type_vocab_size - 1}], got "
                              f"{int(types.min())}..{int(types.max())}")
        types = types.astype(np.int64)
    return ids.astype(np.int64), mask, types

