"""``GPT``: a decoder-only transformer language model, written from scratch in NumPy.

::

    idx (N, T) integer tokens
      -> wte[idx] + wpe[0..T-1]            token and position embeddings        (N, T, C)
      -> dropout -> n_layers x TransformerBlock (causal self-attention + MLP)   (N, T, C)
      -> ln_f -> lm_head                    final LayerNorm, Linear(C, V)       (N, T, V) logits

``logits[n, t]`` scores the token that follows ``idx[n, :t+1]``: position t never sees the future.
No weight tying: ``lm_head.weight`` is its own (V, C) matrix, not ``wte.weight``; with a vocabulary of
27 letters tying would save only V·C parameters, and separate matrices keep ``state_dict`` the same
in both back ends (torch's ``state_dict`` lists a tied matrix twice).

Initialisation (GPT-2's): every weight matrix and embedding ~ N(0, 0.02²), biases zero, LayerNorm
weight one; the two projections that write into the residual stream (``attn.out_proj`` and
``mlp.2``) use 0.02 / sqrt(2 · n_layers), so the stream's variance does not grow with depth.
"""

import numbers

import numpy as np

from .. import validation
from ..errors import ConfigError, DTypeError, ShapeError, TargetError
from ..numpy_nn import Dropout, Embedding, LayerNorm, Linear, Module, Sequential, TransformerBlock
from ..numpy_nn.registry import load_numpy_state, load_torch_state, numpy_dtype_of, saveable, torch_dtype_of, twin_of
from ..utils import as_rng

__all__ = ["GPT", "sampling_probabilities"]

#: The smallest sampling temperature: below it, logits / temperature overflows float64 (use top_k=1 to
#: always take the most likely token).
MIN_TEMPERATURE = 1e-6


def _from_torch(layer, where, rng):
    twin = GPT(layer.vocab_size, layer.context_length, layer.d_model, layer.n_heads, layer.n_layers,
               layer.drop.p, seed=rng, dtype=numpy_dtype_of(layer, where))
    return load_torch_state(twin, layer)


def _to_torch(layer, where):
    from .torch.gpt import GPT as TorchGPT

    twin = TorchGPT(layer.vocab_size, layer.context_length, layer.d_model, layer.n_heads, layer.n_layers,
                    layer.dropout, seed=0, dtype=torch_dtype_of(layer))
    return load_numpy_state(twin, layer)


@saveable
@twin_of("nncourse.models.torch.gpt.GPT", from_torch=_from_torch, to_torch=_to_torch)
class GPT(Module):
    """``GPT(vocab_size, context_length, d_model, n_heads, n_layers, dropout=0.0, seed=None)``.

    ``forward(idx)`` takes integer tokens (N, T) with T <= context_length and returns logits
    (N, T, vocab_size); ``backward(grad_logits)`` fills every parameter's ``.grad``;
    ``generate(idx, max_new_tokens, ...)`` samples a continuation. The same ``seed`` gives the same
    starting weights as ``nncourse.torch_nn.GPT``.
    """

    def __init__(self, vocab_size, context_length, d_model, n_heads, n_layers, dropout=0.0, seed=None,
                 *, dtype=np.float32):
        super().__init__()
        for name, value in (("vocab_size", vocab_size), ("context_length", context_length), ("n_layers", n_layers)):
            validation.positive_int(value, name, "GPT")
        validation.divisible(d_model, n_heads, "GPT", width_name="d_model", heads_name="n_heads")
        validation.probability(dropout, "dropout", "GPT")
        dtype = validation.float_dtype(dtype, "GPT")
        self.vocab_size, self.context_length = int(vocab_size), int(context_length)
        self.d_model, self.n_heads, self.n_layers = int(d_model), int(n_heads), int(n_layers)
        self.dropout, self.seed, self.dtype = float(dropout), seed, dtype
        rng = as_rng(seed)
        V, T, C = self.vocab_size, self.context_length, self.d_model

        # seed=0: their own draws are overwritten by _init_weights (and must not consume rng's)
        self.wte = Embedding(V, C, seed=0, dtype=dtype)                    # token embedding (V, C)
        self.wpe = Embedding(T, C, seed=0, dtype=dtype)                    # position embedding (T, C)
        self.drop = Dropout(dropout, rng=rng)
        self.blocks = Sequential(*(TransformerBlock(C, n_heads, dropout, rng=rng, dtype=dtype)
                                   for _ in range(n_layers)))
        self.ln_f = LayerNorm(C, dtype=dtype)
        self.lm_head = Linear(C, V, bias=False, init="zeros", dtype=dtype)
        self._init_weights(rng)
        self._shape = None

    def get_config(self):
        return {"vocab_size": self.vocab_size, "context_length": self.context_length, "d_model": self.d_model,
                "n_heads": self.n_heads, "n_layers": self.n_layers, "dropout": self.dropout,
                "dtype": self.dtype.name}

    @classmethod
    def from_config(cls, config):
        """A model built from ``get_config()``'s dict (the weights are the loader's job)."""
        who = f"{cls.__name__}.from_config"
        if not isinstance(config, dict):
            raise ConfigError(f"{who}: config must be a dict such as model.get_config(), got "
                              f"{type(config).__name__} {config!r:.40}")
        required = ("vocab_size", "context_length", "d_model", "n_heads", "n_layers")
        known = required + ("dropout", "dtype")
        missing = [name for name in required if name not in config]
        unknown = sorted(str(name) for name in config if name not in known)
        if missing or unknown:
            raise ConfigError(f"{who}: config " + (f"lacks {', '.join(missing)}" if missing else "")
                              + ("; " if missing and unknown else "")
                              + (f"has unknown keys {', '.join(unknown)}" if unknown else "")
                              + f"; pass the dict that model.get_config() returns (keys {', '.join(known)})")
        return cls(**config, seed=0)

    def _init_weights(self, rng):
        """GPT-2's scheme (see the module docstring), drawn in ``named_parameters`` order."""
        residual_std = 0.02 / np.sqrt(2 * self.n_layers)
        for name, param in self.named_parameters():
            if name.endswith("bias"):
                param.data[...] = 0.0
            elif ".ln_" in name or name.startswith("ln_"):
                param.data[...] = 1.0
            else:
                std = residual_std if name.endswith(("attn.out_proj.weight", "mlp.2.weight")) else 0.02
                param.data[...] = rng.normal(0.0, std, size=param.shape)

    # ------------------------------------------------------------------ forward and backward
    def forward(self, idx):
        idx = self._check_tokens(idx)
        N, T = idx.shape
        self._shape = (N, T)
        x = self.wte(idx) + self.wpe(np.arange(T))                        # (N, T, C) + (T, C)
        x = self.drop(x)
        x = self.blocks(x)                                                # (N, T, C)
        x = self.ln_f(x).reshape(N * T, self.d_model)                     # Linear wants 2-D
        return self.lm_head(x).reshape(N, T, self.vocab_size)             # (N, T, V)

    def backward(self, grad_logits):
        """Fill every parameter's ``.grad`` from d loss / d logits (N, T, V); returns None (the
        tokens are integers: there is no gradient with respect to the input)."""
        self._require_forward(self._shape)
        N, T = self._shape
        self._check_grad_output(grad_logits, (N, T, self.vocab_size), self.dtype)
        validation.finite(grad_logits, "GPT.backward", argument="grad_logits")
        g = self.lm_head.backward(grad_logits.reshape(N * T, self.vocab_size))   # (N*T, C)
        g = self.ln_f.backward(g.reshape(N, T, self.d_model))
        g = self.blocks.backward(g)
        g = self.drop.backward(g)                                         # (N, T, C)
        self.wte.backward(g)                                              # each token's row
        self.wpe.backward(g.sum(axis=0))                                  # position t: sum over batch
        return None

    # ------------------------------------------------------------------ sampling
    def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None, seed=None):
        """Append ``max_new_tokens`` sampled tokens to each row of ``idx`` (N, T0); returns (N, T0 + new).

        Each step feeds the last ``context_length`` tokens, divides the last position's logits by
        ``temperature`` (< 1: sharper, > 1: flatter), keeps only the ``top_k`` largest if given, and
        draws from the softmax with ``numpy.random.default_rng(seed)``. Runs in evaluation mode.
        """
        idx = self._check_tokens(idx, check_length=False)
        max_new_tokens = _check_sampling(max_new_tokens, temperature, top_k, self.vocab_size)
        rng = as_rng(seed)
        was_training = self.training
        self.eval()
        try:
            for _ in range(max_new_tokens):
                logits = self(idx[:, -self.context_length:])[:, -1, :].astype(np.float64)   # (N, V)
                probs = sampling_probabilities(logits, temperature, top_k)
                nxt = _sample_rows(probs, rng)                                              # (N,)
                idx = np.concatenate([idx, nxt[:, None]], axis=1)
        finally:
            self.train(was_training)
        return idx

    # ------------------------------------------------------------------ checks
    def _check_tokens(self, idx, check_length=True):
        idx = validation.as_array(idx, "idx (the token ids)", "GPT")
        check_tokens(idx, self.vocab_size, self.context_length, check_length=check_length)
        return idx.astype(np.int64, copy=False)

    def _label(self):
        return "GPT"

    def extra_repr(self):
        return (f"vocab_size={self.vocab_size}, context_length={self.context_length}, d_model={self.d_model}, "
                f"n_heads={self.n_heads}, n_layers={self.n_layers}")


def check_tokens(idx, vocab_size, context_length, *, check_length=True, cast="idx.astype(np.int64)"):
    """What both GPT twins accept as tokens (a NumPy view of them): int ids (N, T), T <= context_length,
    every id in [0, vocab_size). ``cast`` is how the caller's back end spells the integer cast."""
    if idx.dtype.kind not in "iu":
        raise DTypeError(f"GPT expects integer token ids (N, T), got dtype {idx.dtype}: "
                         f"encode text with VOCAB.encode(...) or use {cast}")
    if idx.ndim != 2 or idx.shape[1] == 0:
        hint = ": add a batch dimension with idx[None, :]" if idx.ndim == 1 else ""
        raise ShapeError(f"GPT expects tokens of shape (batch, seq), got {idx.shape}{hint}")
    if idx.shape[0] == 0:
        raise ShapeError(f"GPT: idx holds no sequences (tokens of shape {idx.shape}); pass at least one row of "
                         f"token ids")
    if check_length and idx.shape[1] > context_length:
        raise ShapeError(
            f"GPT: the sequence has {idx.shape[1]} tokens but context_length is "
            f"{context_length} (there are only that many position embeddings). Pass at most "
            f"the last {context_length} tokens, idx[:, -{context_length}:], or build the "
            f"model with a larger context_length.")
    if idx.size and (idx.min() < 0 or idx.max() >= vocab_size):
        bad = int(idx.min()) if idx.min() < 0 else int(idx.max())
        raise TargetError(f"GPT: token id {bad} is out of range: ids must be in "
                          f"[0, {vocab_size - 1}] for vocab_size={vocab_size}")


def _check_sampling(max_new_tokens, temperature, top_k, vocab_size):
    """The checks both back ends' ``generate`` make (so the twins fail the same way); returns
    ``max_new_tokens`` as an int."""
    max_new_tokens = validation.non_negative_int(max_new_tokens, "max_new_tokens", "GPT.generate")
    if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real) or not temperature > 0:
        raise ConfigError(f"generate: temperature must be a number > 0 (1.0 = the model's own "
                          f"probabilities), got {temperature!r}")
    if not MIN_TEMPERATURE <= temperature < float("inf"):
        raise ConfigError(f"generate: temperature={temperature!r} is too small: logits / temperature overflows and "
                          f"the probabilities become NaN. Use a temperature >= {MIN_TEMPERATURE:g}, or top_k=1 to "
                          f"always take the most likely token")
    if top_k is not None and (not isinstance(top_k, numbers.Integral) or isinstance(top_k, bool)
                              or not 1 <= top_k <= vocab_size):
        raise ConfigError(f"generate: top_k must be None or an integer in [1, {vocab_size}], got {top_k!r}")
    return max_new_tokens


def sampling_probabilities(logits, temperature=1.0, top_k=None):
    """The distribution one sampling step draws from: softmax(logits / temperature), with every
    logit below the ``top_k``-th largest set to -inf first (rows of ``logits`` (N, V), float64)."""
    who = "sampling_probabilities"
    logits = validation.as_array(logits, "logits", who)
    if logits.ndim != 2 or logits.shape[0] == 0 or logits.shape[1] == 0:
        raise ShapeError(f"{who}: logits must have shape (rows, vocabulary) with at least one row, got "
                         f"{logits.shape}")
    if logits.dtype.kind != "f":
        raise DTypeError(f"{who}: logits must be floats (a model's output), got dtype {logits.dtype}")
    validation.finite(logits, who, argument="logits")
    temperature = validation.positive_float(temperature, "temperature", who)
    if top_k is not None:
        top_k = min(validation.positive_int(top_k, "top_k", who), logits.shape[1])
    z = logits / temperature
    if top_k is not None:
        kth = np.sort(z, axis=-1)[:, -top_k][:, None]                  # the k-th largest of each row
        z = np.where(z < kth, -np.inf, z)
    z = z - z.max(axis=-1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=-1, keepdims=True)


def _sample_rows(probs, rng):
    """One index per row of ``probs`` (N, V), by inverting the cumulative distribution."""
    u = rng.random((probs.shape[0], 1))
    cdf = np.cumsum(probs, axis=-1)
    return np.minimum((cdf < u * cdf[:, -1:]).sum(axis=-1), probs.shape[1] - 1).astype(np.int64)
