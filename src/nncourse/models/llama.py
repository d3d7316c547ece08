"""``Llama``: a decoder-only language model of today's design (chapter 16), written from scratch in NumPy.

::

    idx (N, T) integer tokens
      -> embed_tokens[idx]                          token embedding, no position embedding   (N, T, C)
      -> n_layers x DecoderBlock                    RMSNorm, GQA with rotary positions, SwiGLU (N, T, C)
      -> norm -> lm_head                            final RMSNorm, bias-free Linear(C, V)    (N, T, V) logits

Module names are Hugging Face's ``LlamaForCausalLM`` (without its ``model.`` prefix), so a pretrained
checkpoint loads by name (chapter 17): ``embed_tokens.weight``, ``layers.{i}.input_layernorm.weight``,
``layers.{i}.self_attn.{q,k,v,o}_proj.weight``, ``layers.{i}.post_attention_layernorm.weight``,
``layers.{i}.mlp.{gate,up,down}_proj.weight``, ``norm.weight``, ``lm_head.weight``.

**Tied embeddings.** With ``tie_embeddings=True`` the output layer reuses the embedding matrix,
``logits = h @ embed_tokens.weight.T``, and the model has **no** ``lm_head`` module: ``state_dict`` has no
``lm_head.weight`` key (as Hugging Face's saved files), in both twins, and the one matrix collects the
gradient of both its uses.

**Rotary convention.** Queries and keys are rotated in halves (pair i = features i and i + D/2, Hugging
Face's ``rotate_half``). A checkpoint made for interleaved pairs (GGUF files) needs its q/k rows reordered
with ``numpy_nn.functional.interleaved_to_halves`` first.

Initialisation: every projection and the embedding ~ N(0, 0.02²), RMSNorm weights one; the two
projections that write into the residual stream (``o_proj`` and ``down_proj``) use 0.02 / sqrt(2 · n_layers),
as the course's GPT does.

**Context length.** Rotary positions have no table to run out of, but the model refuses sequences longer
than ``context_length`` (its KV cache has that capacity), with the same error with and without the cache.
"""

import numbers

import numpy as np

from .. import validation
from ..errors import ConfigError, CourseError, DTypeError, NonFiniteError, ShapeError, TargetError
from ..numpy_nn import DecoderBlock, Embedding, KVCache, Linear, Module, RMSNorm, Sequential
from ..numpy_nn.decoder import _rms_norm
from ..numpy_nn.registry import load_numpy_state, load_torch_state, numpy_dtype_of, saveable, torch_dtype_of, twin_of
from ..utils import as_rng
from .gpt import MIN_TEMPERATURE
from .gpt import sampling_probabilities as _gpt_probabilities

__all__ = ["Llama", "sampling_probabilities", "kv_cache_bytes"]


def _config_of(layer):
    return dict(vocab_size=layer.vocab_size, context_length=layer.context_length, d_model=layer.d_model,
                n_heads=layer.n_heads, n_kv_heads=layer.n_kv_heads, n_layers=layer.n_layers, d_ff=layer.d_ff,
                rope_theta=layer.rope_theta, norm_eps=layer.norm_eps, tie_embeddings=layer.tie_embeddings)


def _from_torch(layer, where, rng):
    twin = Llama(**_config_of(layer), seed=0, dtype=numpy_dtype_of(layer, where))
    return load_torch_state(twin, layer)


def _to_torch(layer, where):
    from .torch.llama import Llama as TorchLlama

    twin = TorchLlama(**_config_of(layer), seed=0, dtype=torch_dtype_of(layer))
    return load_numpy_state(twin, layer)


@saveable
@twin_of("nncourse.models.torch.llama.Llama", from_torch=_from_torch, to_torch=_to_torch)
class Llama(Module):
    """``Llama(vocab_size, context_length, d_model, n_heads, n_kv_heads, n_layers, d_ff, rope_theta=10000.0,
    norm_eps=1e-5, tie_embeddings=False, seed=None, dtype=np.float32)``.

    ``forward(idx, cache=None)``: integer tokens (N, T) -> logits (N, T, vocab_size); with a ``KVCache``
    (``new_cache``) the tokens continue the stored ones. ``backward(grad_logits)`` fills every trainable
    parameter's ``.grad``. ``generate(...)`` samples a continuation. The same ``seed`` gives the same
    starting weights as ``nncourse.models.torch.Llama``.
    """

    def __init__(self, vocab_size, context_length, d_model, n_heads, n_kv_heads, n_layers, d_ff,
                 rope_theta=10000.0, norm_eps=1e-5, tie_embeddings=False, seed=None, dtype=np.float32):
        super().__init__()
        who = "Llama"
        for name, value in (("vocab_size", vocab_size), ("context_length", context_length), ("n_layers", n_layers),
                            ("d_ff", d_ff), ("n_kv_heads", n_kv_heads)):
            validation.positive_int(value, name, who)
        validation.divisible(d_model, n_heads, who, width_name="d_model", heads_name="n_heads")
        if n_heads % n_kv_heads:
            options = [k for k in range(1, n_heads + 1) if n_heads % k == 0]
            raise ConfigError(f"Llama: n_kv_heads={n_kv_heads} must divide n_heads={n_heads} (each key/value head "
                              f"serves a group of query heads); pick n_kv_heads from {options}")
        if (d_model // n_heads) % 2:
            raise ConfigError(f"Llama: the head size d_model // n_heads = {d_model // n_heads} must be even (rotary "
                              f"positions turn features in pairs); change d_model or n_heads")
        if isinstance(rope_theta, bool) or not isinstance(rope_theta, numbers.Real) \
                or not 1 < rope_theta < float("inf"):
            raise ConfigError(f"Llama: rope_theta must be a finite number > 1 (10000.0 in Llama 2, 100000.0 in "
                              f"SmolLM2), got {rope_theta!r}")
        norm_eps = validation.positive_float(norm_eps, "norm_eps", who)
        if norm_eps >= 1:
            raise ConfigError(f"Llama: norm_eps must be a small number > 0 such as 1e-5, got {norm_eps!r}")
        tie_embeddings = validation.boolean(tie_embeddings, "tie_embeddings", who)
        dtype = validation.float_dtype(dtype, who)
        if int(n_layers) > 1000 or int(vocab_size) * int(d_model) > 2**31 or int(d_model) * int(d_ff) > 2**31:
            raise ConfigError(f"Llama: vocab_size={vocab_size}, d_model={d_model}, d_ff={d_ff}, n_layers={n_layers} "
                              f"is too large for a NumPy model; use the sizes of a real checkpoint at most")
        self.vocab_size, self.context_length = int(vocab_size), int(context_length)
        self.d_model, self.n_heads, self.n_kv_heads = int(d_model), int(n_heads), int(n_kv_heads)
        self.n_layers, self.d_ff = int(n_layers), int(d_ff)
        self.rope_theta, self.norm_eps, self.tie_embeddings = float(rope_theta), norm_eps, tie_embeddings
        self.seed, self.dtype = seed, dtype
        rng = as_rng(seed)
        V, C = self.vocab_size, self.d_model
        out_std = 0.02 / np.sqrt(2 * self.n_layers)

        self.embed_tokens = Embedding(V, C, seed=0, dtype=dtype)                 # (V, C)
        self.embed_tokens.weight.data[...] = rng.normal(0.0, 0.02, size=(V, C))
        self.layers = Sequential(*(DecoderBlock(C, n_heads, n_kv_heads, d_ff, rope_theta, norm_eps, rng=rng,
                                                dtype=dtype, std=0.02, out_std=out_std)
                                   for _ in range(self.n_layers)))
        self.norm = RMSNorm(C, eps=norm_eps, dtype=dtype)
        if not tie_embeddings:
            self.lm_head = Linear(C, V, bias=False, init="zeros", dtype=dtype)   # (V, C)
            self.lm_head.weight.data[...] = rng.normal(0.0, 0.02, size=(V, C))
        self._shape = None

    @property
    def head_dim(self):
        return self.d_model // self.n_heads

    def get_config(self):
        return {**_config_of(self), "dtype": self.dtype.name}

    @classmethod
    def from_config(cls, config):
        who = "Llama.from_config"
        required = ("vocab_size", "context_length", "d_model", "n_heads", "n_kv_heads", "n_layers", "d_ff")
        optional = ("rope_theta", "norm_eps", "tie_embeddings", "dtype")
        if not isinstance(config, dict):
            raise ConfigError(f"{who}: config must be a dict such as model.get_config() returns, got "
                              f"{type(config).__name__} {config!r:.40}; pass config=model.get_config()")
        missing = [key for key in required if key not in config]
        unknown = [key for key in config if key not in required + optional]
        if missing or unknown:
            raise ConfigError(f"{who}: config is missing {missing} and has unknown keys {unknown}; pass the dict "
                              f"model.get_config() returns (keys {list(required + optional)})")
        return cls(**config, seed=0)

    def new_cache(self, batch_size=1):
        """An empty ``KVCache`` for ``batch_size`` sequences, with room for ``context_length`` positions."""
        return KVCache(self.n_layers, batch_size, self.n_kv_heads, self.context_length, self.head_dim, self.dtype)

    # ------------------------------------------------------------------ forward and backward
    def forward(self, idx, cache=None):
        idx = self._check_tokens(idx)
        N, T = idx.shape
        if cache is not None:
            self._check_cache(cache, N, T)
        if cache is not None:
            return self._cached_forward(idx, cache)
        x = self.embed_tokens(idx)                                        # (N, T, C): no position added
        for block in self.layers:
            x = block(x)                                                  # (N, T, C)
        x = self.norm(x).reshape(N * T, self.d_model)                     # (N·T, C)
        self._shape = (N, T)
        self._h = x
        if self.tie_embeddings:
            logits = x @ self.embed_tokens.weight.data.T                  # (N·T, C) @ (C, V)
        else:
            logits = self.lm_head(x)                                      # (N·T, V)
        return logits.reshape(N, T, self.vocab_size)

    def _cached_forward(self, idx, cache):
        """``forward`` with a KV cache (generation): the same numbers, without the layers' checks and caches,
        which would cost more than the maths of one token. Nothing is kept for a backward pass."""
        N, T = idx.shape
        x = self.embed_tokens.weight.data[idx]                            # (N, T, C)
        for block, layer_cache in zip(self.layers, cache.layers):
            x = block(x, cache=layer_cache)
        x = _rms_norm(x, self.norm).reshape(N * T, self.d_model)
        self._shape, self._h = None, x
        weight = self.embed_tokens.weight.data if self.tie_embeddings else self.lm_head.weight.data
        return (x @ weight.T).reshape(N, T, self.vocab_size)

    def backward(self, grad_logits):
        """Fill every trainable parameter's ``.grad`` from d loss / d logits (N, T, V); returns None."""
        if self._shape is None and getattr(self, "_h", None) is not None:
            raise CourseError("Llama.backward() after a forward with a KV cache: caches are for generation only; "
                              "run model(idx) without a cache to train")
        self._require_forward(self._shape)
        N, T = self._shape
        self._check_grad_output(grad_logits, (N, T, self.vocab_size), self.dtype)
        validation.finite(grad_logits, "Llama.backward", argument="grad_logits")
        g = grad_logits.reshape(N * T, self.vocab_size)
        if self.tie_embeddings:
            E = self.embed_tokens.weight
            if E.requires_grad:
                E.accumulate_grad(g.T @ self._h)                          # (V, N·T) @ (N·T, C): the output use
            g = g @ E.data                                                # (N·T, C)
        else:
            g = self.lm_head.backward(g)                                  # (N·T, C)
        g = self.norm.backward(g.reshape(N, T, self.d_model))
        for block in reversed(list(self.layers)):                         # the blocks in reverse order
            g = block.backward(g)                                         # (N, T, C)
        self.embed_tokens.backward(g)                                     # the input use: each token's row
        return None

    # ------------------------------------------------------------------ sampling
    def generate(self, idx, max_new_tokens, *, temperature=1.0, top_k=None, top_p=None, seed=None,
                 use_cache=True, stop_token=None):
        """Append up to ``max_new_tokens`` sampled tokens to each row of ``idx`` (N, T0); returns (N, T0 + n).

        Each step takes the last position's logits, divides them by ``temperature``, keeps the ``top_k``
        largest and/or the smallest set whose probability reaches ``top_p`` (nucleus sampling), and draws
        from the softmax with ``numpy.random.default_rng(seed)``. ``top_k=1`` is greedy (the arg-max,
        the lowest id on a tie). With ``use_cache=True`` the prompt runs once and each new token costs one
        position (a ``KVCache``); ``use_cache=False`` reruns the whole sequence at every step. Both give
        the same tokens.

        ``T0 + max_new_tokens`` must not exceed ``context_length`` (both paths refuse alike, before any work:
        no sliding window). ``stop_token`` is ``None``, a token id, or a collection of ids: a row that
        produces one stops there and is padded with that same id while other rows go on; generation ends
        when every row has stopped, so the result can be shorter than ``T0 + max_new_tokens``.
        Runs in evaluation mode.
        """
        idx = self._check_tokens(idx)
        max_new_tokens, stops = check_generation(idx.shape, max_new_tokens, temperature, top_k, top_p, stop_token,
                                                 use_cache, self.vocab_size, self.context_length)
        rng = as_rng(seed)
        was_training = self.training
        self.eval()
        try:
            N = idx.shape[0]
            finished = np.zeros(N, dtype=bool)
            cache = self.new_cache(N) if use_cache else None
            if max_new_tokens:
                logits = self.forward(idx, cache=cache)[:, -1, :]                          # (N, V): prefill
            for step in range(max_new_tokens):
                if top_k == 1:                                                 # greedy: the arg-max
                    nxt = np.argmax(logits, axis=-1)
                else:
                    probs = sampling_probabilities(logits.astype(np.float64), temperature, top_k, top_p)
                    nxt = _sample_rows(probs, rng)                             # (N,)
                nxt = np.where(finished, idx[:, -1], nxt).astype(np.int64)    # a stopped row repeats its stop id
                idx = np.concatenate([idx, nxt[:, None]], axis=1)
                if stops is not None:
                    finished |= np.isin(nxt, stops)
                    if finished.all():
                        break
                if step + 1 < max_new_tokens:
                    logits = (self.forward(nxt[:, None], cache=cache) if use_cache else self.forward(idx))[:, -1, :]
        finally:
            self.train(was_training)
            self._shape, self._h = None, None
        return idx

    # ------------------------------------------------------------------ checks
    def _check_tokens(self, idx):
        if isinstance(idx, (str, bytes)):
            raise DTypeError(f"Llama expects integer token ids (N, T), got text {idx!r}: encode it with the "
                             f"tokenizer first")
        idx = as_token_array(idx)
        check_tokens(idx, self.vocab_size, self.context_length)
        return idx.astype(np.int64, copy=False)

    def _check_cache(self, cache, N, T):
        if not isinstance(cache, KVCache):
            raise ConfigError(f"Llama: cache must be None or a KVCache from model.new_cache(batch_size), got "
                              f"{type(cache).__name__}")
        if len(cache.layers) != self.n_layers or cache.batch_size != N or cache.layers[0].keys.shape[1:] != (
                self.n_kv_heads, cache.capacity, self.head_dim) or cache.dtype != self.dtype:
            raise ConfigError(f"Llama: this cache was made for another model or batch ({cache!r}); make one with "
                              f"model.new_cache(batch_size={N})")
        check_context(cache.length, T, self.context_length)

    def _label(self):
        return "Llama"

    def extra_repr(self):
        return (f"vocab_size={self.vocab_size}, context_length={self.context_length}, d_model={self.d_model}, "
                f"n_heads={self.n_heads}, n_kv_heads={self.n_kv_heads}, n_layers={self.n_layers}, d_ff={self.d_ff}, "
                f"tie_embeddings={self.tie_embeddings}")


# ------------------------------------------------------------------ shared by both twins
def as_token_array(idx):
    """``idx`` as a NumPy array, or ``ShapeError`` for a ragged list of rows."""
    try:
        return np.asarray(idx)
    except ValueError:
        raise ShapeError("Llama expects token ids of shape (batch, seq), got rows of different lengths: pad or "
                         "crop them to one length, or generate one row at a time") from None


def check_context(stored, new, context_length, *, stored_as="already stored"):
    """The one refusal past ``context_length``, for a forward pass, a cached step and ``generate``
    (``stored_as="in the prompt"``)."""
    if stored + new > context_length:
        raise ShapeError(
            f"Llama: {stored + new} positions ({stored} {stored_as} + {new} new) exceed context_length="
            f"{context_length}. The model never slides its window (that would shift every rotary position): "
            f"pass at most {context_length} tokens in all (crop the prompt, idx[:, -k:], or ask for fewer "
            f"max_new_tokens), or build the model with a larger context_length")


def check_tokens(idx, vocab_size, context_length, *, cast="idx.astype(np.int64)"):
    """What both Llama twins accept as tokens (a NumPy view): int ids (N, T), 1 <= T <= context_length,
    every id in [0, vocab_size)."""
    if idx.dtype.kind not in "iu":
        raise DTypeError(f"Llama expects integer token ids (N, T), got dtype {idx.dtype}: encode text with the "
                         f"tokenizer, or use {cast}")
    if idx.ndim != 2 or 0 in idx.shape:
        hint = ": add a batch dimension with idx[None, :]" if idx.ndim == 1 and idx.size else ""
        raise ShapeError(f"Llama expects token ids of shape (batch, seq) with at least one token, got shape "
                         f"{idx.shape}{hint}")
    check_context(0, idx.shape[1], context_length)
    if idx.min() < 0 or idx.max() >= vocab_size:
        bad = int(idx.min()) if idx.min() < 0 else int(idx.max())
        raise TargetError(f"Llama: token id {bad} is out of range: ids must be in [0, {vocab_size - 1}] for "
                          f"vocab_size={vocab_size}")


def check_generation(shape, max_new_tokens, temperature, top_k, top_p, stop_token, use_cache, vocab_size,
                     context_length):
    """The checks both twins' ``generate`` make, in the same order; returns ``(max_new_tokens, stop ids or
    None)``."""
    who = "Llama.generate"
    max_new_tokens = validation.non_negative_int(max_new_tokens, "max_new_tokens", who)
    if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real) \
            or not MIN_TEMPERATURE <= temperature < float("inf"):
        raise ConfigError(f"{who}: temperature must be a finite number >= {MIN_TEMPERATURE:g} (1.0 = the model's own "
                          f"probabilities; use top_k=1 for greedy decoding), got {temperature!r}")
    if top_k is not None and (not isinstance(top_k, numbers.Integral) or isinstance(top_k, bool)
                              or not 1 <= top_k <= vocab_size):
        raise ConfigError(f"{who}: top_k must be None or a whole number in [1, {vocab_size}], got {top_k!r}")
    if top_p is not None and (isinstance(top_p, bool) or not isinstance(top_p, numbers.Real)
                              or not 0 < top_p <= 1):
        raise ConfigError(f"{who}: top_p must be None or a number in (0, 1] (0.9 keeps the most likely tokens "
                          f"that make up 90 % of the probability), got {top_p!r}")
    validation.boolean(use_cache, "use_cache", who)
    stops = None
    if stop_token is not None:
        if isinstance(stop_token, numbers.Integral) and not isinstance(stop_token, bool):
            ids = [stop_token]
        elif isinstance(stop_token, (str, bytes, dict)) or not hasattr(stop_token, "__iter__"):
            raise ConfigError(f"{who}: stop_token must be None, a token id or a collection of ids (e.g. "
                              f"{{1, 2}}), got {stop_token!r}; encode a text stop marker with the tokenizer first")
        else:
            ids = list(np.asarray(stop_token).ravel()) if isinstance(stop_token, np.ndarray) else list(stop_token)
        if not ids or not all(isinstance(i, numbers.Integral) and not isinstance(i, bool) and 0 <= i < vocab_size
                              for i in ids):
            raise ConfigError(f"{who}: stop_token must hold token ids in [0, {vocab_size - 1}], got {stop_token!r}")
        stops = np.array(sorted({int(i) for i in ids}), dtype=np.int64)
    check_context(shape[1], max_new_tokens, context_length, stored_as="in the prompt")
    return max_new_tokens, stops


def sampling_probabilities(logits, temperature=1.0, top_k=None, top_p=None):
    """The distribution one sampling step draws from (rows of ``logits`` (N, V), float64):
    softmax(logits / temperature) restricted to the ``top_k`` largest, then to the nucleus: the most
    likely tokens, in order, up to and including the one whose cumulative probability reaches ``top_p``
    (the most likely token always stays), renormalised."""
    who = "sampling_probabilities"
    if not isinstance(logits, np.ndarray) or logits.ndim != 2 or logits.dtype.kind != "f" or 0 in logits.shape:
        got = f"shape {logits.shape}, dtype {logits.dtype}" if isinstance(logits, np.ndarray) else type(logits).__name__
        raise ShapeError(f"{who}: logits must be a non-empty float array (N, V), one row per sequence, got {got}: "
                         f"take the last position with logits[:, -1, :]")
    if np.isnan(logits).any() or np.isposinf(logits).any():
        raise NonFiniteError(f"{who}: logits contain NaN or +inf; the model has diverged or was fed bad weights")
    check_generation((logits.shape[0], 0), 0, temperature, top_k, top_p, None, True, logits.shape[1], 0)
    p = _gpt_probabilities(logits.astype(np.float64), temperature, top_k)   # (N, V)
    if top_p is not None and top_p < 1:
        order = np.argsort(-p, axis=-1, kind="stable")                  # most likely first
        sorted_p = np.take_along_axis(p, order, axis=-1)
        before = np.cumsum(sorted_p, axis=-1) - sorted_p                # mass of the tokens ranked above
        keep_sorted = before < top_p                                    # the first always stays (before = 0)
        keep = np.zeros_like(keep_sorted)
        np.put_along_axis(keep, order, keep_sorted, axis=-1)
        p = np.where(keep, p, 0.0)
        p = p / p.sum(axis=-1, keepdims=True)
    return p


def _sample_rows(probs, rng):
    """One index per row of ``probs`` (N, V), by inverting the cumulative distribution."""
    u = rng.random((probs.shape[0], 1))
    cdf = np.cumsum(probs, axis=-1)
    return np.minimum((cdf < u * cdf[:, -1:]).sum(axis=-1), probs.shape[1] - 1).astype(np.int64)


def kv_cache_bytes(n_layers, n_kv_heads, head_dim, context_length, batch_size=1, bytes_per_number=2):
    """Memory of a full KV cache: ``2 · n_layers · batch_size · n_kv_heads · context_length · head_dim ·
    bytes_per_number`` (2 for keys and values; 2 bytes in bfloat16, 4 in float32)."""
    who = "kv_cache_bytes"
    numbers_ = [validation.positive_int(v, n, who) for n, v in (
        ("n_layers", n_layers), ("n_kv_heads", n_kv_heads), ("head_dim", head_dim),
        ("context_length", context_length), ("batch_size", batch_size), ("bytes_per_number", bytes_per_number))]
    total = 2
    for value in numbers_:
        total *= value
    return total
