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

import math
import numbers
import time

import numpy as np

from ..errors import ConfigError, DivergenceError, NonFiniteError, ShapeError, TargetError
from ..numpy_nn import Adam, CrossEntropyLoss, Embedding, Linear, Module, MultiheadAttention, Sequential
from ..utils import as_rng

__all__ = ["AttentionTagger", "train_tagger", "exact_match", "predict_tokens", "TrainingLog"]


class AttentionTagger(Module):
    """Token + learned position embeddings -> ``num_layers`` x (self-attention + residual) -> Linear.

    ``forward(tokens)`` takes int tokens (N, L) with ``L <= max_length`` and returns float logits
    (N, L, num_classes); ``attention_maps`` then holds one (N, num_heads, L, L) array per layer.
    ``backward(grad_logits)`` accumulates every parameter's gradient (the tokens get none).
    """

    def __init__(self, vocab_size, max_length, embed_dim=32, num_heads=2, num_layers=1, num_classes=None,
                 *, seed=None, rng=None, dtype=np.float32):
        super().__init__()
        for name, value in (("vocab_size", vocab_size), ("max_length", max_length), ("embed_dim", embed_dim),
                            ("num_heads", num_heads), ("num_layers", num_layers)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ConfigError(f"AttentionTagger: {name} must be a positive integer, got {value!r}")
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
        g = self.head.backward(grad_output.reshape(N * L, -1)).reshape(N, L, -1)  # d h, (N, L, E)
        for attention in reversed(list(self.layers)):
            g = g + sum(attention.backward(g))        # residual: h + a(h) -> g + (dq + dk + dv)
        self.token_embedding.backward(g)
        self.position_embedding.backward(g.sum(axis=0))           # (L, E): the same rows for every example
        return None

    def _check_tokens(self, tokens):
        tokens = np.asarray(tokens)
        if tokens.dtype.kind not in "iu":
            raise TargetError(f"AttentionTagger expects integer tokens, got dtype {tokens.dtype}")
        if tokens.ndim != 2 or not 1 <= tokens.shape[1] <= self.max_length:
            raise ShapeError(f"AttentionTagger expects tokens of shape (batch, length) with length <= "
                             f"{self.max_length}, got {tokens.shape}")
        if tokens.size and (tokens.min() < 0 or tokens.max() >= self.vocab_size):
            raise TargetError(f"AttentionTagger: tokens must lie in 0..{self.vocab_size - 1}, got values from "
                              f"{tokens.min()} to {tokens.max()}")
        return tokens

    def __repr__(self):
        return (f"AttentionTagger(vocab_size={self.vocab_size}, max_length={self.max_length}, "
                f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, num_layers={self.num_layers})")


# ------------------------------------------------------------------------------------------ training
class TrainingLog(dict):
    """Per-epoch lists ``"loss"`` (mean training loss) and ``"test_exact_match"``, plus ``seconds``; with
    ``eval_every``, also ``"steps"`` and ``"step_exact_match"``."""

    @property
    def epochs(self):
        return len(self["loss"])


def _is_torch(model):
    return not isinstance(model, Module)


def predict_tokens(model, tokens, batch_size=1000):
    """The most likely class at every position, int64 (N, L), for either back end."""
    tokens = np.asarray(tokens)
    out = []
    for start in range(0, len(tokens), batch_size):
        chunk = tokens[start:start + batch_size]
        if _is_torch(model):
            import torch

            with torch.no_grad():
                logits = model(torch.from_numpy(chunk)).numpy()
        else:
            logits = model(chunk)
        out.append(logits.argmax(axis=-1))
    return np.concatenate(out).astype(np.int64)


def exact_match(model, X, y):
    """Fraction of sequences whose every position is predicted correctly."""
    return float((predict_tokens(model, X) == y).all(axis=1).mean())


def train_tagger(model, X, y, *, epochs=20, batch_size=64, lr=1e-2, seed=0, validation=None,
                 stop_at_exact_match=None, eval_every=None):
    """Train with Adam and cross-entropy at every position; both back ends, the same batches.

    ``X``, ``y``: int64 (n, L). ``validation=(X_test, y_test)`` adds the held-out exact match after every
    epoch; ``stop_at_exact_match=1.0`` stops once it is reached. ``eval_every=k`` also measures it every
    ``k`` steps (``log["steps"]``, ``log["step_exact_match"]``, starting with step 0). Returns a
    ``TrainingLog``.
    """
    rng = as_rng(seed)
    torch_backend = _is_torch(model)
    if torch_backend:
        import torch

        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        loss_fn = torch.nn.CrossEntropyLoss()
    else:
        optimizer = Adam(model.parameters(), lr=lr)
        loss_fn = CrossEntropyLoss()

    def step(xb, yb):
        """One update on a mini-batch; returns the loss as a float."""
        if torch_backend:
            logits = model(torch.from_numpy(xb))
            loss = loss_fn(logits.reshape(-1, logits.shape[-1]), torch.from_numpy(yb).reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return loss.item()
        with np.errstate(over="ignore", invalid="ignore"):   # reported below as a DivergenceError
            logits = model(xb)                                             # (B, L, C)
            loss = loss_fn(logits.reshape(-1, logits.shape[-1]), yb.reshape(-1))
            optimizer.zero_grad()
            model.backward(loss_fn.backward().reshape(logits.shape))
            optimizer.step()
        return loss

    log = TrainingLog(loss=[], test_exact_match=[], steps=[], step_exact_match=[])
    if eval_every is not None and validation is None:
        raise ConfigError("train_tagger: eval_every needs validation=(X_test, y_test)")

    def measure_step(step_count):
        if eval_every is not None and step_count % eval_every == 0:
            log["steps"].append(step_count)
            log["step_exact_match"].append(exact_match(model, *validation))

    steps = 0
    measure_step(steps)
    start = time.perf_counter()
    for _ in range(epochs):
        order = rng.permutation(len(X))
        total, count = 0.0, 0
        for first in range(0, len(X), batch_size):
            idx = order[first:first + batch_size]
            xb, yb = X[idx], y[idx]
            try:
                loss = step(xb, yb)
            except NonFiniteError as error:          # NaN/inf inside the network: training blew up
                raise DivergenceError(f"train_tagger: the network produced NaN or inf in epoch "
                                      f"{len(log['loss']) + 1}; lower the learning rate (lr={lr}). ({error})") from None
            if not math.isfinite(loss):
                raise DivergenceError(f"train_tagger: the loss became {loss} in epoch {len(log['loss']) + 1}; "
                                      f"lower the learning rate (lr={lr})")
            total, count = total + loss * len(idx), count + len(idx)
            steps += 1
            measure_step(steps)
        log["loss"].append(total / count)
        if validation is not None:
            log["test_exact_match"].append(exact_match(model, *validation))
            if stop_at_exact_match is not None and log["test_exact_match"][-1] >= stop_at_exact_match:
                break
    log.seconds = time.perf_counter() - start
    return log
