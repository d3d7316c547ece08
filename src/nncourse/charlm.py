"""Character-level language models of names (chapter 8), for the NumPy and the PyTorch back end.

Every model reads the characters of a name so far and scores the 27 possible next symbols (the
end token ``"."`` and a-z). The loss is the mean cross-entropy in **nats per character**, over every
letter *and* the end token of every name, so all models are measured on the same predictions.

Models, from a table of counts to an LSTM:

* ``BigramCounts``: the counting model, P(next | previous) from a 27 x 27 table;
* ``BigramNet``: the same model as a one-layer network, logits = one_hot(previous) @ W (an
  ``Embedding(27, 27)`` is exactly that product, without building the one-hot vectors);
* ``WindowMLP``: embeddings of the ``block_size`` previous characters, concatenated, a tanh hidden
  layer, then logits (Bengio et al., 2003);
* ``RecurrentLM``: an embedding, an ``RNN`` or ``LSTM`` (batch first) and a linear read-out at
  every time step.

The two first kinds see a fixed window (``kind = "window"``: inputs ``(N, block_size)``, targets
``(N,)``); the recurrent one sees whole names (``kind = "sequence"``: inputs and targets
``(B, T)``, padded targets ``PAD_TARGET``). ``torch_twin(model)`` builds the PyTorch twin with the
same weights, and ``train_lm`` trains either back end on the *same* batches.
"""

from __future__ import annotations

import math

import numpy as np

from . import numpy_nn as nn
from .data.names import PAD_TARGET, VOCAB, context_windows, count_predictions, padded_batch
from .errors import ConfigError, DivergenceError
from .utils import as_rng

__all__ = [
    "BigramCounts", "BigramNet", "WindowMLP", "RecurrentLM", "encode", "length_batches", "train_lm",
    "evaluate_lm", "sample_names", "softmax_with_temperature", "gradient_by_distance", "count_parameters",
    "torch_twin", "is_torch",
]


# ------------------------------------------------------------------------------------- counting
class BigramCounts:
    """The counting bigram model: P(next = j | previous = i) = (N[i, j] + alpha) / sum_j (N[i, j] + alpha).

    ``alpha`` (add-alpha smoothing) keeps unseen pairs from costing infinitely many nats.
    """

    kind = "counts"

    def __init__(self, alpha=1.0):
        self.alpha = float(alpha)
        self.counts = None
        self.probs = None

    def fit(self, names):
        X, Y = context_windows(names, 1)
        V = len(VOCAB)
        self.counts = np.bincount(X[:, 0] * V + Y, minlength=V * V).reshape(V, V)    # (27, 27)
        smoothed = self.counts + self.alpha
        self.probs = smoothed / smoothed.sum(axis=1, keepdims=True)
        return self

    def nll(self, names):
        """Mean negative log-likelihood in nats per character (float64)."""
        X, Y = context_windows(names, 1)
        return float(-np.log(self.probs[X[:, 0], Y]).mean())

    def next_logits(self, context):
        return np.log(self.probs[context[:, -1]])

    block_size = 1


# ------------------------------------------------------------------------------------- networks
class BigramNet(nn.Module):
    """The bigram model as a network: logits = one_hot(previous) @ W, with W an ``Embedding(27, 27)``."""

    kind = "window"
    block_size = 1

    def __init__(self, *, seed=0, dtype=np.float32):
        super().__init__()
        rng = as_rng(seed)
        self.table = nn.Embedding(len(VOCAB), len(VOCAB), rng=rng, dtype=dtype)
        self.table.weight.data[...] = 0           # start from the uniform guess: loss log 27

    def forward(self, X):                          # X (N, 1) int
        return self.table(X[:, 0])                 # (N, 27): row X of W, i.e. one_hot(X) @ W

    def backward(self, grad_logits):
        self.table.backward(grad_logits)


class WindowMLP(nn.Module):
    """Bengio et al. (2003): embed the ``block_size`` previous characters, concatenate, tanh layer, logits."""

    kind = "window"

    def __init__(self, block_size=3, embedding_dim=10, hidden=64, *, seed=0, dtype=np.float32):
        super().__init__()
        rng = as_rng(seed)
        self.block_size = int(block_size)
        self.embedding = nn.Embedding(len(VOCAB), embedding_dim, rng=rng, dtype=dtype)
        self.hidden = nn.Linear(block_size * embedding_dim, hidden, rng=rng, dtype=dtype)
        self.act = nn.Tanh()
        self.out = nn.Linear(hidden, len(VOCAB), rng=rng, dtype=dtype)

    def forward(self, X):                          # X (N, block) int
        e = self.embedding(X)                      # (N, block, E)
        self._e_shape = e.shape
        return self.out(self.act(self.hidden(e.reshape(len(X), -1))))    # (N, 27)

    def backward(self, grad_logits):
        g = self.hidden.backward(self.act.backward(self.out.backward(grad_logits)))
        self.embedding.backward(g.reshape(self._e_shape))


class RecurrentLM(nn.Module):
    """Embedding -> ``RNN`` (tanh or ``nonlinearity="relu"``), ``LSTM`` or ``GRU`` (batch first) -> Linear read-out
    at every step."""

    kind = "sequence"

    def __init__(self, cell="lstm", embedding_dim=16, hidden=64, num_layers=1, *, nonlinearity="tanh", seed=0,
                 dtype=np.float32):
        super().__init__()
        if cell not in ("rnn", "lstm", "gru"):
            raise ConfigError(f"RecurrentLM: cell must be 'rnn', 'lstm' or 'gru', got {cell!r}")
        rng = as_rng(seed)
        self.cell = cell
        self.embedding = nn.Embedding(len(VOCAB), embedding_dim, rng=rng, dtype=dtype)
        if cell in ("lstm", "gru"):
            layer = nn.LSTM if cell == "lstm" else nn.GRU
            self.rnn = layer(embedding_dim, hidden, num_layers=num_layers, batch_first=True, rng=rng, dtype=dtype)
        else:
            self.rnn = nn.RNN(embedding_dim, hidden, num_layers=num_layers, nonlinearity=nonlinearity,
                              batch_first=True, rng=rng, dtype=dtype)
        self.out = nn.Linear(hidden, len(VOCAB), rng=rng, dtype=dtype)

    def forward(self, inputs, state=None):         # inputs (B, T) int
        h, self.state = self.rnn(self.embedding(inputs), state)       # (B, T, H)
        self._h_shape = h.shape
        B, T, H = h.shape
        return self.out(h.reshape(B * T, H)).reshape(B, T, -1)        # (B, T, 27)

    def backward(self, grad_logits):               # (B, T, 27)
        B, T, V = grad_logits.shape
        g = self.out.backward(grad_logits.reshape(B * T, V)).reshape(self._h_shape)
        self.embedding.backward(self.rnn.backward(g))


def count_parameters(model):
    """Number of learned numbers (the counting model: its 27 x 27 table)."""
    if isinstance(model, BigramCounts):
        return model.probs.size
    return int(sum(p.numel() for p in model.parameters()))


# ------------------------------------------------------------------------------------- data
def encode(model, names):
    """``(inputs, targets)`` for ``model``: windows for window models, padded names for sequence models."""
    if model.kind == "sequence":
        return padded_batch(names)
    return context_windows(names, model.block_size)


def length_batches(names, batch_size, rng):
    """Batches of names of similar length (little padding), in a random order; a list of lists.

    The names are shuffled, sorted by length (stable, so equal lengths stay shuffled), cut into
    batches, and the batches shuffled.
    """
    names = [names[i] for i in rng.permutation(len(names))]
    names.sort(key=len)
    batches = [names[i:i + batch_size] for i in range(0, len(names), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def _window_batches(n, batch_size, rng):
    order = rng.permutation(n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def is_torch(model):
    return type(model).__module__.startswith("torch") or hasattr(model, "_is_torch_twin")


# ------------------------------------------------------------------------------------- training
def train_lm(model, names, *, epochs=1, batch_size=256, lr=1e-2, optimizer="adam", clip=None,
             max_steps=None, seed=0, on_step=None):
    """Train ``model`` (NumPy or its torch twin) on ``names``; returns the list of batch losses.

    The batches depend only on ``seed`` and the model's kind, so both back ends see the same ones.
    ``optimizer`` is ``"adam"`` or ``"sgd"``; ``clip`` (a max norm) clips the gradient with
    ``clip_grad_norm_``. ``on_step(step, loss, grad_norm)`` is called after each step, if given.
    A NaN/inf loss raises ``DivergenceError``.
    """
    torch_backend = is_torch(model)
    rng = as_rng(seed)
    if model.kind == "window":
        X, Y = encode(model, names)
    params = list(model.parameters())
    if torch_backend:
        import torch
        opt = (torch.optim.Adam if optimizer == "adam" else torch.optim.SGD)(params, lr=lr)
    else:
        opt = (nn.Adam if optimizer == "adam" else nn.SGD)(params, lr=lr)
    losses = []
    for epoch in range(epochs):
        if model.kind == "window":
            batches = [(X[i], Y[i]) for i in _window_batches(len(X), batch_size, rng)]
        else:
            batches = [padded_batch(b) for b in length_batches(list(names), batch_size, rng)]
        for inputs, targets in batches:
            if max_steps is not None and len(losses) >= max_steps:
                return losses
            opt.zero_grad()
            if torch_backend:
                loss, norm = _torch_step(model, inputs, targets, clip)
            else:
                loss, norm = _numpy_step(model, inputs, targets, clip)
            if not math.isfinite(loss):
                raise DivergenceError(f"train_lm: the loss became {loss} at epoch {epoch + 1}, step "
                                      f"{len(losses) + 1}: lower the learning rate or clip the gradient")
            opt.step()
            losses.append(loss)
            if on_step is not None:
                on_step(len(losses), loss, norm)
    return losses


def _masked_cross_entropy(logits, targets):
    """Mean cross-entropy over the positions whose target is not padding, and d loss / d logits."""
    V = logits.shape[-1]
    flat, flat_targets = logits.reshape(-1, V), targets.reshape(-1)
    mask = flat_targets != PAD_TARGET
    loss_fn = nn.CrossEntropyLoss()
    loss = loss_fn(flat[mask], flat_targets[mask])
    grad = np.zeros_like(flat)
    grad[mask] = loss_fn.backward()
    return loss, grad.reshape(logits.shape)


def _numpy_step(model, inputs, targets, clip):
    loss, grad = _masked_cross_entropy(model(inputs), targets)
    model.backward(grad)
    norm = nn.clip_grad_norm_(model.parameters(), clip if clip is not None else math.inf)
    return loss, norm


def _torch_step(model, inputs, targets, clip):
    import torch
    logits = model(torch.from_numpy(inputs))
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                             torch.from_numpy(targets).reshape(-1), ignore_index=PAD_TARGET)
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(list(model.parameters()), clip if clip is not None else math.inf)
    return loss.item(), float(norm)


def evaluate_lm(model, names, *, batch_size=2048):
    """Mean cross-entropy in nats per character over every prediction in ``names`` (a float)."""
    if isinstance(model, BigramCounts):
        return model.nll(names)
    names = list(names)
    total, count = 0.0, 0
    torch_backend = is_torch(model)
    if torch_backend:
        import torch
    for start in range(0, len(names), batch_size):
        chunk = names[start:start + batch_size]
        inputs, targets = encode(model, chunk)
        if torch_backend:
            with torch.no_grad():
                logits = model(torch.from_numpy(inputs)).numpy()
        else:
            logits = model(inputs)
        V = logits.shape[-1]
        flat, flat_t = logits.reshape(-1, V).astype(np.float64), targets.reshape(-1)
        mask = flat_t != PAD_TARGET
        flat, flat_t = flat[mask], flat_t[mask]
        shifted = flat - flat.max(axis=1, keepdims=True)
        nll = np.log(np.exp(shifted).sum(axis=1)) - shifted[np.arange(len(flat_t)), flat_t]
        total += nll.sum()
        count += len(flat_t)
    assert count == count_predictions(names)
    return float(total / count)


# ------------------------------------------------------------------------------------- sampling
def softmax_with_temperature(logits, temperature=1.0):
    """softmax(logits / temperature) along the last axis, in float64. Low temperature sharpens the
    distribution towards the most likely symbol, high temperature flattens it towards uniform."""
    if not temperature > 0:
        raise ConfigError(f"temperature must be positive, got {temperature!r}")
    z = np.asarray(logits, dtype=np.float64) / temperature
    z = z - z.max(axis=-1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=-1, keepdims=True)


def sample_names(model, n, *, temperature=1.0, seed=0, max_length=20):
    """``n`` new names drawn one character at a time (NumPy models and the counting model).

    Every name starts from the end token as context and stops at the end token (or ``max_length``).
    """
    rng = as_rng(seed)
    end = VOCAB.end_index
    done = np.zeros(n, dtype=bool)
    letters = np.zeros((n, max_length), dtype=np.int64)
    if model.kind == "sequence":
        previous, state = np.full((n, 1), end, dtype=np.int64), None
    else:
        context = np.full((n, model.block_size), end, dtype=np.int64)
    for t in range(max_length):
        if model.kind == "sequence":
            logits = model(previous, state)[:, -1]
            state = model.state
        elif isinstance(model, BigramCounts):
            logits = model.next_logits(context)
        else:
            logits = model(context)
        p = softmax_with_temperature(logits, temperature)            # (n, 27)
        u = rng.random((n, 1))
        nxt = np.minimum((p.cumsum(axis=1) < u).sum(axis=1), len(VOCAB) - 1)   # inverse-CDF draw
        nxt[done] = end
        letters[:, t] = nxt
        done |= nxt == end
        if done.all():
            break
        if model.kind == "sequence":
            previous = nxt[:, None]
        else:
            context = np.concatenate([context[:, 1:], nxt[:, None]], axis=1)
    return [VOCAB.decode(row).split(".")[0] for row in letters]


# ------------------------------------------------------------------------------------- gradients in time
def gradient_by_distance(model, names):
    """How much the loss at the *last* step of each name depends on the input ``d`` steps earlier.

    Runs a recurrent model on names of equal length, takes the loss at the last step only and
    returns ``norms[d]`` = mean over the batch of ‖d loss / d x_{T-1-d}‖ (the gradient reaching the
    embedding ``d`` steps back), for ``d = 0 .. T-1``.
    """
    lengths = {len(n) for n in names}
    if len(lengths) != 1:
        raise ConfigError("gradient_by_distance: pass names of one length (e.g. [n for n in names if len(n) == 10])")
    inputs, targets = padded_batch(names)
    logits = model(inputs)
    B, T, V = logits.shape
    grad = np.zeros_like(logits)
    _, g_last = _masked_cross_entropy(logits[:, -1:], targets[:, -1:])
    grad[:, -1:] = g_last
    for p in model.parameters():
        p.grad = None
    g = model.out.backward(grad.reshape(B * T, V)).reshape(model._h_shape)
    dx = model.rnn.backward(g)                                        # (B, T, E)
    model.zero_grad()
    norms = np.linalg.norm(dx.astype(np.float64), axis=2).mean(axis=0)   # (T,)
    return norms[::-1]                                                # index = distance from the end


# ------------------------------------------------------------------------------------- torch twins
def torch_twin(model):
    """The PyTorch twin of a NumPy language model, with the same weights (via ``from_numpy``)."""
    import torch
    from .torch_nn import from_numpy

    class _Twin(torch.nn.Module):
        _is_torch_twin = True

        def __init__(self, numpy_model):
            super().__init__()
            self.kind = numpy_model.kind
            self.block_size = getattr(numpy_model, "block_size", None)
            for name, child in numpy_model.named_children():
                if not isinstance(child, (nn.Tanh,)):
                    setattr(self, name, from_numpy(child))
            self._source = type(numpy_model).__name__

        def forward(self, x):
            if self._source == "BigramNet":
                return self.table(x[:, 0])
            if self._source == "WindowMLP":
                e = self.embedding(x)
                return self.out(torch.tanh(self.hidden(e.reshape(len(x), -1))))
            h, _ = self.rnn(self.embedding(x))
            return self.out(h)

    return _Twin(model)
