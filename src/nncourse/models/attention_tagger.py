"""``AttentionTagger``: the smallest attention model that learns a sequence task (chapter 9).

For tokens ``x`` of shape (N, L) (integers), it computes, with ``E = embed_dim``::

    h = token_embedding[x] + position_embedding[0..L-1]      (N, L, E)
    for each layer:  h = h + MultiheadAttention(h, h, h)       (N, L, E), a residual connection
    logits = head(h)                                           (N, L, num_classes)

so every position gets its own prediction (it "tags" each position). Without the position embedding
the attention layers could not tell positions apart (self-attention is permutation-equivariant), and
a task such as reversing a sequence would be impossible.

The parameter names are those of the torch twin ``nncourse.torch_nn.AttentionTagger``
(``token_embedding.weight``, ``position_embedding.weight``, ``layers.0.in_proj_weight``, ...,
``head.weight``), so ``state_dict`` moves between the two back ends unchanged.

Both embeddings are ``numpy_nn.Embedding`` (chapter 8): a row lookup and its scatter-add backward.
"""

import time

import numpy as np

from ..errors import ConfigError, DTypeError, ShapeError, TargetError
from .. import validation as validation_module
from ..numpy_nn import Adam, CrossEntropyLoss, Embedding, Linear, Module, MultiheadAttention, Sequential
from ..numpy_nn.registry import load_torch_state, numpy_dtype_of, saveable, twin_of
from ..train import fit, is_torch
from ..utils import as_rng

__all__ = ["AttentionTagger", "train_tagger", "exact_match", "predict_tokens", "TrainingLog"]


def _from_torch(layer, where, rng):
    """The torch ``AttentionTagger`` -> the NumPy one (same ``state_dict`` names)."""
    attention = layer.layers[0]
    twin = AttentionTagger(layer.token_embedding.num_embeddings, layer.position_embedding.num_embeddings,
                           attention.embed_dim, attention.num_heads, len(layer.layers), layer.head.out_features,
                           dtype=numpy_dtype_of(layer, where))
    return load_torch_state(twin, layer)


def _to_torch(layer, where):
    from .torch.attention_tagger import attention_tagger_from_numpy

    return attention_tagger_from_numpy(layer)


@saveable
@twin_of("nncourse.models.torch.attention_tagger.AttentionTagger", from_torch=_from_torch, to_torch=_to_torch)
class AttentionTagger(Module):
    """Token + learned position embeddings -> ``num_layers`` x (self-attention + residual) -> Linear.

    ``forward(tokens)`` takes int tokens (N, L) with ``L <= max_length`` and returns float logits
    (N, L, num_classes); ``attention_maps`` then holds one (N, num_heads, L, L) array per layer.
    ``backward(grad_logits)`` accumulates every parameter's gradient (the tokens get none).
    """

    def __init__(self, vocab_size, max_length, embed_dim=32, num_heads=2, num_layers=1, num_classes=None,
                 *, seed=None, rng=None, dtype=np.float32):
        super().__init__()
        check_config(vocab_size, max_length, embed_dim, num_heads, num_layers, num_classes, "AttentionTagger")
        dtype = validation_module.float_dtype(dtype, "AttentionTagger")
        rng = as_rng(seed, rng)
        self.vocab_size, self.max_length = int(vocab_size), int(max_length)
        self.num_classes = self.vocab_size if num_classes is None else int(num_classes)
        self.embed_dim, self.num_heads, self.num_layers = int(embed_dim), int(num_heads), int(num_layers)
        self.dtype = np.dtype(dtype)
        self.token_embedding = Embedding(self.vocab_size, embed_dim, rng=rng, dtype=dtype)
        self.position_embedding = Embedding(self.max_length, embed_dim, rng=rng, dtype=dtype)
        self.layers = Sequential(*(MultiheadAttention(embed_dim, num_heads, batch_first=True, rng=rng, dtype=dtype)
                                   for _ in range(num_layers)))
        self.head = Linear(embed_dim, self.num_classes, rng=rng, dtype=dtype)
        self.attention_maps = []
        self._shape = None

    def get_config(self):
        return {"vocab_size": self.vocab_size, "max_length": self.max_length, "embed_dim": self.embed_dim,
                "num_heads": self.num_heads, "num_layers": self.num_layers, "num_classes": self.num_classes,
                "dtype": self.dtype.name}

    def forward(self, tokens):
        tokens = self._check_tokens(tokens)
        N, L = tokens.shape
        h = self.token_embedding(tokens) + self.position_embedding(np.arange(L))    # (N, L, E)
        self.attention_maps = []
        for attention in self.layers:
            a, weights = attention(h, h, h, average_attn_weights=False)            # (N, L, E), (N, H, L, L)
            h = h + a
            self.attention_maps.append(weights)
        self._shape = (N, L)
        return self.head(h.reshape(N * L, -1)).reshape(N, L, -1)                   # (N, L, C)

    def backward(self, grad_output):
        self._require_forward(self._shape)
        N, L = self._shape
        self._check_grad_output(grad_output, (N, L, self.num_classes), self.dtype)
        validation_module.finite(grad_output, "AttentionTagger.backward", argument="grad_output")
        g = self.head.backward(grad_output.reshape(N * L, -1)).reshape(N, L, -1)  # d h, (N, L, E)
        for attention in reversed(list(self.layers)):
            g = g + sum(attention.backward(g))        # residual: h + a(h) -> g + (dq + dk + dv)
        self.token_embedding.backward(g)
        self.position_embedding.backward(g.sum(axis=0))           # (L, E): the same rows for every example
        return None

    def _check_tokens(self, tokens):
        tokens = validation_module.as_array(tokens, "tokens", "AttentionTagger")
        check_tokens(tokens, self.vocab_size, self.max_length)
        return tokens

    def __repr__(self):
        return (f"AttentionTagger(vocab_size={self.vocab_size}, max_length={self.max_length}, "
                f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, num_layers={self.num_layers})")


def check_config(vocab_size, max_length, embed_dim, num_heads, num_layers, num_classes, who):
    """The sizes both twins check the same way (whole numbers >= 1; the heads divide embed_dim)."""
    for name, value in (("vocab_size", vocab_size), ("max_length", max_length), ("num_layers", num_layers)):
        validation_module.positive_int(value, name, who)
    validation_module.divisible(embed_dim, num_heads, who)
    if num_classes is not None:
        validation_module.positive_int(num_classes, "num_classes", who)


def check_tokens(tokens, vocab_size, max_length):
    """What both AttentionTagger twins accept (a NumPy view of the tokens): int ids (N, L), L <= max_length."""
    if tokens.dtype.kind not in "iu":
        raise TargetError(f"AttentionTagger expects integer tokens, got dtype {tokens.dtype}")
    if tokens.ndim != 2 or not 1 <= tokens.shape[1] <= max_length:
        raise ShapeError(f"AttentionTagger expects tokens of shape (batch, length) with length <= "
                         f"{max_length}, got {tokens.shape}")
    if tokens.shape[0] == 0:
        raise ShapeError(f"AttentionTagger: tokens holds no sequences (shape {tokens.shape}); pass at least one row")
    if tokens.size and (tokens.min() < 0 or tokens.max() >= vocab_size):
        raise TargetError(f"AttentionTagger: tokens must lie in 0..{vocab_size - 1}, got values from "
                          f"{tokens.min()} to {tokens.max()}")


# ------------------------------------------------------------------------------------------ training
class TrainingLog(dict):
    """Per-epoch lists ``"loss"`` (mean training loss) and ``"test_exact_match"``, plus ``seconds``; with
    ``eval_every``, also ``"steps"`` and ``"step_exact_match"``."""

    @property
    def epochs(self):
        return len(self["loss"])


def predict_tokens(model, tokens, batch_size=1000):
    """The most likely class at every position, int64 (N, L), for either back end."""
    who = "predict_tokens"
    if not callable(model) or not hasattr(model, "parameters"):
        raise ConfigError(f"{who}: model must be an AttentionTagger (NumPy or torch), got {type(model).__name__}")
    tokens = validation_module.as_array(tokens, "tokens", who)
    if tokens.ndim != 2 or len(tokens) == 0:
        raise ShapeError(f"{who}: tokens must have shape (sequences, length) with at least one sequence, got "
                         f"{tokens.shape}")
    batch_size = validation_module.positive_int(batch_size, "batch_size", who)
    out = []
    for start in range(0, len(tokens), batch_size):
        chunk = tokens[start:start + batch_size]
        if is_torch(model):
            import torch

            with torch.no_grad():
                logits = model(torch.from_numpy(chunk)).numpy()
        else:
            logits = model(chunk)
        out.append(logits.argmax(axis=-1))
    return np.concatenate(out).astype(np.int64)


def exact_match(model, X, y):
    """Fraction of sequences whose every position is predicted correctly."""
    X = validation_module.as_array(X, "X", "exact_match")
    if X.dtype.kind not in "iu":
        raise DTypeError(f"exact_match: X must hold integer tokens, got dtype {X.dtype}: pass the task's tokens "
                         f"(X_test) or convert with X.astype(np.int64)")
    if X.ndim != 2 or len(X) == 0:
        raise ShapeError(f"exact_match: X must have shape (sequences, length) with at least one sequence, got "
                         f"{X.shape}")
    predicted, y = predict_tokens(model, X), validation_module.as_array(y, "y", "exact_match")
    if y.dtype.kind not in "iu":
        raise TargetError(f"exact_match: y must hold integer classes (one per position), got dtype {y.dtype}")
    if y.shape != predicted.shape:
        raise ShapeError(f"exact_match: the targets y have shape {y.shape} but the model predicts {predicted.shape} "
                         f"(one class per position of X): pass y with the shape of X, e.g. the task's y_test")
    return float((predicted == y).all(axis=1).mean())


def train_tagger(model, X, y, *, epochs=20, batch_size=64, lr=1e-2, seed=0, validation=None,
                 stop_at_exact_match=None, eval_every=None):
    """Train with Adam and cross-entropy at every position; both back ends, the same batches (``fit``).

    ``X``, ``y``: int64 (n, L). ``validation=(X_test, y_test)`` adds the held-out exact match after every
    epoch; ``stop_at_exact_match=1.0`` stops once it is reached. ``eval_every=k`` also measures it every
    ``k`` steps (``log["steps"]``, ``log["step_exact_match"]``, starting with step 0). Returns a
    ``TrainingLog``.
    """
    if eval_every is not None and validation is None:
        raise ConfigError("train_tagger: eval_every needs validation=(X_test, y_test)")
    validation_module.positive_int(batch_size, "batch_size", "train_tagger")
    if not hasattr(model, "parameters") or not callable(model):
        raise ConfigError(f"train_tagger: model must be an AttentionTagger (NumPy or torch), got "
                          f"{type(model).__name__}")
    if eval_every is not None:
        validation_module.positive_int(eval_every, "eval_every", "train_tagger")
    if stop_at_exact_match is not None:
        validation_module.probability(stop_at_exact_match, "stop_at_exact_match", "train_tagger", allow_one=True)
    if validation is not None and not (isinstance(validation, (tuple, list)) and len(validation) == 2):
        raise ConfigError(f"train_tagger: validation must be a pair (X_test, y_test), got "
                          f"{type(validation).__name__}")
    if validation is not None:
        X_test = validation_module.as_array(validation[0], "validation's X_test", "train_tagger")
        y_test = validation_module.as_array(validation[1], "validation's y_test", "train_tagger")
        if X_test.shape != y_test.shape:
            raise ShapeError(f"train_tagger: validation=(X_test, y_test) must hold two arrays of one shape (a target "
                             f"for every token), got {X_test.shape} and {y_test.shape}; pass the task's "
                             f"(task.X_test, task.y_test)")
    X = validation_module.as_array(X, "X", "train_tagger")
    y = validation_module.as_array(y, "y", "train_tagger")
    if is_torch(model):
        import torch

        optimizer, loss_fn = torch.optim.Adam(model.parameters(), lr=lr), torch.nn.CrossEntropyLoss()
    else:
        optimizer, loss_fn = Adam(model.parameters(), lr=lr), CrossEntropyLoss()
    log = TrainingLog(loss=[], test_exact_match=[], steps=[], step_exact_match=[])

    def measure_step(step, loss=None, norm=None):
        if step % eval_every == 0:
            log["steps"].append(step)
            log["step_exact_match"].append(exact_match(model, *validation))

    def after_epoch(epoch, history):
        log["loss"].append(history["loss"][-1])
        if validation is not None:
            log["test_exact_match"].append(exact_match(model, *validation))
            return stop_at_exact_match is not None and log["test_exact_match"][-1] >= stop_at_exact_match
        return False

    if eval_every is not None:
        measure_step(0)
    start = time.perf_counter()
    fit(model, loss_fn, optimizer, (X, y), epochs=epochs, batch_size=batch_size, seed=seed, quiet=True,
        on_step=measure_step if eval_every is not None else None, on_epoch=after_epoch, who="train_tagger")
    log.seconds = time.perf_counter() - start
    return log
