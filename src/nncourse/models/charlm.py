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


import numpy as np

from .. import numpy_nn as nn
from .. import validation
from ..data.names import PAD_TARGET, VOCAB, context_windows, count_predictions, padded_batch
from ..data.names import _check_names as check_names
from ..errors import ConfigError, DTypeError, ShapeError
from ..numpy_nn.registry import load_numpy_state, load_torch_state, register_twin, saveable
from ..train import fit, is_torch
from ..utils import as_rng

__all__ = [
    "BigramCounts", "BigramNet", "WindowMLP", "RecurrentLM", "encode", "length_batches", "train_lm",
    "evaluate_lm", "sample_names", "softmax_with_temperature", "gradient_by_distance", "count_parameters",
    "torch_twin", "is_torch", "next_char_probs",
]


# ------------------------------------------------------------------------------------- counting
class BigramCounts:
    """The counting bigram model: P(next = j | previous = i) = (N[i, j] + alpha) / sum_j (N[i, j] + alpha).

    ``alpha`` (add-alpha smoothing) keeps unseen pairs from costing infinitely many nats.
    """

    kind = "counts"

    def __init__(self, alpha=1.0):
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.floating, np.integer)) \
                or not 0 <= alpha < float("inf"):
            raise ConfigError(f"BigramCounts: alpha is the count added to every pair and must be a number >= 0 "
                              f"(1.0 = add-one smoothing, 0 = the raw counts), got {alpha!r}")
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
        """Log-probabilities of the next symbol after the last column of ``context`` (N, k) int."""
        who = "BigramCounts.next_logits"
        if self.probs is None:
            raise ConfigError(f"{who}: the model has not been fitted; call model.fit(names) first")
        context = check_ids(context, who, name="context", check_range=True)
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
        self.dtype = validation.float_dtype(dtype, "BigramNet")
        self.table = nn.Embedding(len(VOCAB), len(VOCAB), rng=rng, dtype=dtype)
        self.table.weight.data[...] = 0           # start from the uniform guess: loss log 27
        self._out_shape = None

    def get_config(self):
        return {"dtype": self.dtype.name}

    def forward(self, X):                          # X (N, 1) int
        X = check_ids(X, "BigramNet.forward", name="X", width=1)
        self._out_shape = (len(X), len(VOCAB))
        return self.table(X[:, 0])                 # (N, 27): row X of W, i.e. one_hot(X) @ W

    def backward(self, grad_logits):
        _check_backward(self, grad_logits, self._out_shape)
        self.table.backward(grad_logits)


class WindowMLP(nn.Module):
    """Bengio et al. (2003): embed the ``block_size`` previous characters, concatenate, tanh layer, logits."""

    kind = "window"

    def __init__(self, block_size=3, embedding_dim=10, hidden=64, *, seed=0, dtype=np.float32):
        super().__init__()
        rng = as_rng(seed)
        self.block_size = validation.positive_int(block_size, "block_size", "WindowMLP")
        self.embedding_dim = validation.positive_int(embedding_dim, "embedding_dim", "WindowMLP")
        self.hidden_size = validation.positive_int(hidden, "hidden", "WindowMLP")
        self.dtype = validation.float_dtype(dtype, "WindowMLP")
        self.embedding = nn.Embedding(len(VOCAB), embedding_dim, rng=rng, dtype=dtype)
        self.hidden = nn.Linear(block_size * embedding_dim, hidden, rng=rng, dtype=dtype)
        self.act = nn.Tanh()
        self.out = nn.Linear(hidden, len(VOCAB), rng=rng, dtype=dtype)
        self._e_shape = None

    def get_config(self):
        return {"block_size": self.block_size, "embedding_dim": self.embedding_dim, "hidden": self.hidden_size,
                "dtype": self.dtype.name}

    def forward(self, X):                          # X (N, block) int
        X = check_ids(X, "WindowMLP.forward", name="X", width=self.block_size)
        e = self.embedding(X)                      # (N, block, E)
        self._e_shape = e.shape
        return self.out(self.act(self.hidden(e.reshape(len(X), -1))))    # (N, 27)

    def backward(self, grad_logits):
        _check_backward(self, grad_logits, None if self._e_shape is None else (self._e_shape[0], len(VOCAB)))
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
        if not isinstance(nonlinearity, str) or nonlinearity not in ("tanh", "relu"):
            raise ConfigError(f"RecurrentLM: nonlinearity must be 'tanh' or 'relu' (the RNN cell's activation; "
                              f"LSTM and GRU cells keep their own), got {nonlinearity!r}; leave it at the "
                              f"default 'tanh' unless you want nonlinearity='relu'")
        if cell != "rnn" and nonlinearity != "tanh":
            raise ConfigError(f"RecurrentLM: nonlinearity={nonlinearity!r} applies to cell='rnn' only; an "
                              f"{cell.upper()} cell has its own sigmoid and tanh gates. Drop nonlinearity, or use "
                              f"cell='rnn'")
        rng = as_rng(seed)
        self.cell = cell
        self.embedding_dim = validation.positive_int(embedding_dim, "embedding_dim", "RecurrentLM")
        self.hidden_size = validation.positive_int(hidden, "hidden", "RecurrentLM")
        self.num_layers = validation.positive_int(num_layers, "num_layers", "RecurrentLM")
        self.nonlinearity = nonlinearity
        self.dtype = validation.float_dtype(dtype, "RecurrentLM")
        self.embedding = nn.Embedding(len(VOCAB), embedding_dim, rng=rng, dtype=dtype)
        if cell in ("lstm", "gru"):
            layer = nn.LSTM if cell == "lstm" else nn.GRU
            self.rnn = layer(embedding_dim, hidden, num_layers=num_layers, batch_first=True, rng=rng, dtype=dtype)
        else:
            self.rnn = nn.RNN(embedding_dim, hidden, num_layers=num_layers, nonlinearity=nonlinearity,
                              batch_first=True, rng=rng, dtype=dtype)
        self.out = nn.Linear(hidden, len(VOCAB), rng=rng, dtype=dtype)
        self._h_shape = None

    def get_config(self):
        return {"cell": self.cell, "embedding_dim": self.embedding_dim, "hidden": self.hidden_size,
                "num_layers": self.num_layers, "nonlinearity": self.nonlinearity, "dtype": self.dtype.name}

    def forward(self, inputs, state=None):         # inputs (B, T) int
        inputs = check_ids(inputs, "RecurrentLM.forward", name="inputs")
        h, self.state = self.rnn(self.embedding(inputs), state)       # (B, T, H)
        self._h_shape = h.shape
        B, T, H = h.shape
        return self.out(h.reshape(B * T, H)).reshape(B, T, -1)        # (B, T, 27)

    def backward(self, grad_logits):               # (B, T, 27)
        _check_backward(self, grad_logits, None if self._h_shape is None else (*self._h_shape[:2], len(VOCAB)))
        B, T, V = grad_logits.shape
        g = self.out.backward(grad_logits.reshape(B * T, V)).reshape(self._h_shape)
        self.embedding.backward(self.rnn.backward(g))


def check_ids(ids, who, *, name, width=None, check_range=False):
    """What the models of this chapter (both back ends, given a NumPy view) accept as input: character ids
    (N, width) with N >= 1, integers (``width`` None: any length >= 1). Cheap: type, dtype and shape only,
    plus the ids' range with ``check_range`` (the NumPy ``Embedding`` checks it itself). Returns an array."""
    ids = validation.as_array(ids, name, who)
    if ids.dtype.kind not in "iu":
        raise DTypeError(f"{who}: {name} must hold integer character ids (as VOCAB.encode and context_windows "
                         f"give them), got dtype {ids.dtype}: convert with {name}.astype(np.int64)")
    shape = f"(examples, {width})" if width is not None else "(rows, length)"
    if ids.ndim != 2 or (width is not None and ids.shape[1] != width) or ids.shape[1] == 0:
        hint = f": add a batch dimension with {name}[None, :]" if ids.ndim == 1 else ""
        raise ShapeError(f"{who}: {name} must have shape {shape}, got {ids.shape}{hint}")
    if len(ids) == 0:
        raise ShapeError(f"{who}: {name} holds no examples (shape {ids.shape}); pass at least one row")
    if check_range and (ids.min() < 0 or ids.max() >= len(VOCAB)):
        raise ConfigError(f"{who}: {name} holds the id {int(ids.min() if ids.min() < 0 else ids.max())}, but "
                          f"character ids run from 0 to {len(VOCAB) - 1}; encode names with VOCAB.encode")
    return ids


def _check_backward(model, grad_logits, shape):
    """A model's ``backward``: after a forward pass, with the gradient of its logits (finite, same shape and
    dtype). The NaN check sits here because a complete model is where a learner's own gradient comes in."""
    who = f"{type(model).__name__}.backward"
    model._require_forward(shape)
    model._check_grad_output(grad_logits, shape, model.dtype)
    validation.finite(grad_logits, who, argument="grad_logits")


_KINDS = ("counts", "window", "sequence")
_MODELS = "BigramCounts, BigramNet, WindowMLP or RecurrentLM"


def _check_model(model, who, *, torch_ok=True):
    """``model`` must be one of this chapter's language models (a torch twin too, with ``torch_ok``)."""
    if getattr(model, "kind", None) not in _KINDS or not (isinstance(model, BigramCounts)
                                                         or hasattr(model, "parameters")):
        raise ConfigError(f"{who}: model must be one of chapter 8's language models ({_MODELS}, NumPy or "
                          f"torch), got {type(model).__name__}; build one, e.g. charlm.WindowMLP(seed=0)")
    if not torch_ok and not isinstance(model, (BigramCounts, nn.Module)):
        raise ConfigError(f"{who}: model must be a NumPy model ({_MODELS}), got the torch model "
                          f"{type(model).__name__}; convert it back with nncourse.numpy_nn.from_torch(model)")
    return model


def count_parameters(model):
    """Number of learned numbers (the counting model: its 27 x 27 table)."""
    if isinstance(model, BigramCounts):
        return len(VOCAB) ** 2 if model.probs is None else model.probs.size
    if not callable(getattr(model, "parameters", None)):
        raise ConfigError(f"count_parameters: model must be a model with parameters (NumPy or torch) or a "
                          f"BigramCounts, got {type(model).__name__} {model!r:.40}")
    return int(sum(p.numel() for p in model.parameters()))


# ------------------------------------------------------------------------------------- data
def encode(model, names):
    """``(inputs, targets)`` for ``model``: windows for window models, padded names for sequence models."""
    _check_model(model, "encode")
    if model.kind == "sequence":
        return padded_batch(names)
    return context_windows(names, model.block_size)


def length_batches(names, batch_size, rng):
    """Batches of names of similar length (little padding), in a random order; a list of lists.

    The names are shuffled, sorted by length (stable, so equal lengths stay shuffled), cut into
    batches, and the batches shuffled.
    """
    names = check_names(names, "length_batches")
    batch_size = validation.positive_int(batch_size, "batch_size", "length_batches")
    if not isinstance(rng, np.random.Generator):
        raise ConfigError(f"length_batches: rng must be a numpy.random.Generator such as "
                          f"np.random.default_rng(0), got {type(rng).__name__} {rng!r:.40}")
    names = [names[i] for i in rng.permutation(len(names))]
    names.sort(key=len)
    batches = [names[i:i + batch_size] for i in range(0, len(names), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def _window_batches(n, batch_size, rng):
    order = rng.permutation(n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


# ------------------------------------------------------------------------------------- training
def train_lm(model, names, *, epochs=1, batch_size=256, lr=1e-2, optimizer="adam", clip=None,
             max_steps=None, seed=0, on_step=None):
    """Train ``model`` (NumPy or its torch twin) on ``names`` with ``fit``; returns the list of batch losses.

    The batches depend only on ``seed`` and the model's kind, so both back ends see the same ones.
    ``optimizer`` is ``"adam"`` or ``"sgd"``; ``clip`` (a max norm) clips the gradient with
    ``clip_grad_norm_``. ``on_step(step, loss, grad_norm)`` is called after each step, if given.
    A diverging run (NaN/inf, or an epoch's mean loss above 10x the reference) raises ``DivergenceError``.
    """
    batch_size = validation.positive_int(batch_size, "batch_size", "train_lm")
    if max_steps is not None:
        max_steps = validation.positive_int(max_steps, "max_steps", "train_lm")
    if optimizer not in ("adam", "sgd"):
        raise ConfigError(f"train_lm: optimizer must be 'adam' or 'sgd' (lower case), got {optimizer!r}; for "
                          f"another optimizer, build it yourself and train with nncourse.train.fit")
    if is_torch(model):
        import torch

        opt = (torch.optim.Adam if optimizer == "adam" else torch.optim.SGD)(model.parameters(), lr=lr)
        loss_fn = torch.nn.CrossEntropyLoss(ignore_index=PAD_TARGET)
    else:
        opt = (nn.Adam if optimizer == "adam" else nn.SGD)(model.parameters(), lr=lr)
        loss_fn = nn.CrossEntropyLoss(ignore_index=PAD_TARGET)           # padding counts for nothing
    if model.kind == "window":
        X, Y = encode(model, names)

        def batches(rng):
            return [(X[rows], Y[rows]) for rows in _window_batches(len(X), batch_size, rng)]
    else:
        names = list(names)

        def batches(rng):
            return [padded_batch(b) for b in length_batches(list(names), batch_size, rng)]
    history = fit(model, loss_fn, opt, batches=batches, epochs=epochs, steps=max_steps, clip=clip, seed=seed,
                  on_step=on_step, quiet=True, who="train_lm")
    return history.step_losses


def evaluate_lm(model, names, *, batch_size=2048):
    """Mean cross-entropy in nats per character over every prediction in ``names`` (a float)."""
    batch_size = validation.positive_int(batch_size, "batch_size", "evaluate_lm")
    _check_model(model, "evaluate_lm")
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
    who = "softmax_with_temperature"
    temperature = validation.positive_float(temperature, "temperature", who)
    logits = validation.as_array(logits, "logits", who)
    if logits.dtype.kind != "f":
        raise DTypeError(f"{who}: logits must be floats (a model's output), got dtype {logits.dtype}: "
                         f"convert with logits.astype(np.float64)")
    if logits.size == 0:
        raise ShapeError(f"{who}: logits is empty (shape {logits.shape}); pass at least one score")
    validation.finite(logits, who, argument="logits")
    z = logits.astype(np.float64) / temperature
    z = z - z.max(axis=-1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=-1, keepdims=True)


def sample_names(model, n, *, temperature=1.0, seed=0, max_length=20):
    """``n`` new names drawn one character at a time (NumPy models and the counting model).

    Every name starts from the end token as context and stops at the end token (or ``max_length``).
    """
    n = validation.positive_int(n, "n (how many names to draw)", "sample_names")
    max_length = validation.positive_int(max_length, "max_length", "sample_names")
    _check_model(model, "sample_names", torch_ok=False)
    validation.positive_float(temperature, "temperature", "sample_names")
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


def next_char_probs(model, prefix, *, temperature=1.0):
    """P(next symbol | the name so far is ``prefix``), a float64 array of 27 (NumPy models, counting model)."""
    who = "next_char_probs"
    _check_model(model, who, torch_ok=False)
    validation.text(prefix, "prefix", who, allow_empty=True)
    validation.positive_float(temperature, "temperature", who)
    code = VOCAB.encode(prefix)
    if model.kind == "sequence":
        logits = model(np.concatenate([[VOCAB.end_index], code])[None, :])[0, -1]
    else:
        context = np.concatenate([np.full(model.block_size, VOCAB.end_index), code])[-model.block_size:]
        logits = model.next_logits(context[None]) if isinstance(model, BigramCounts) else model(context[None])
        logits = logits[0]
    return softmax_with_temperature(logits, temperature)


# ------------------------------------------------------------------------------------- gradients in time
def gradient_by_distance(model, names):
    """How much the loss at the *last* step of each name depends on the input ``d`` steps earlier.

    Runs a recurrent model on names of equal length, takes the loss at the last step only and
    returns ``norms[d]`` = mean over the batch of ‖d loss / d x_{T-1-d}‖ (the gradient reaching the
    embedding ``d`` steps back), for ``d = 0 .. T-1``.
    """
    if not isinstance(model, RecurrentLM):
        raise ConfigError(f"gradient_by_distance: model must be a NumPy RecurrentLM (the gradient is followed "
                          f"back through its recurrent layer), got {type(model).__name__}; build one with "
                          f"charlm.RecurrentLM('rnn', seed=0)")
    lengths = {len(n) for n in names}
    if len(lengths) != 1:
        raise ConfigError("gradient_by_distance: pass names of one length (e.g. [n for n in names if len(n) == 10])")
    inputs, targets = padded_batch(names)
    logits = model(inputs)
    B, T, V = logits.shape
    grad = np.zeros_like(logits)
    loss_fn = nn.CrossEntropyLoss(ignore_index=PAD_TARGET)
    loss_fn(logits[:, -1].reshape(B, V), targets[:, -1])                  # the loss at the last step only
    grad[:, -1] = loss_fn.backward()
    for p in model.parameters():
        p.grad = None
    g = model.out.backward(grad.reshape(B * T, V)).reshape(model._h_shape)
    dx = model.rnn.backward(g)                                        # (B, T, E)
    model.zero_grad()
    norms = np.linalg.norm(dx.astype(np.float64), axis=2).mean(axis=0)   # (T,)
    return norms[::-1]                                                # index = distance from the end


# ------------------------------------------------------------------------------------- torch twins
def torch_twin(model):
    """The PyTorch twin of a NumPy language model, with the same weights (``nncourse.models.torch.charlm``)."""
    from ..torch_nn import from_numpy

    if not isinstance(model, (BigramNet, WindowMLP, RecurrentLM)):
        why = ("the counting model has no weights to copy" if isinstance(model, BigramCounts) else
               "it is a torch model already" if hasattr(model, "state_dict") and not isinstance(model, nn.Module)
               else "the twins exist for these three models only")
        raise ConfigError(f"torch_twin: model must be a NumPy BigramNet, WindowMLP or RecurrentLM, got "
                          f"{type(model).__name__} ({why}); for another NumPy model use "
                          f"nncourse.torch_nn.from_numpy(model)")
    return from_numpy(model)


def _to_torch(layer, where):
    from .torch import charlm as torch_charlm

    twin = getattr(torch_charlm, type(layer).__name__)(**layer.get_config())
    return load_numpy_state(twin, layer)


def _from_torch(layer, where, rng):
    twin = globals()[type(layer).__name__](**layer.config)     # the torch twin keeps the NumPy config
    return load_torch_state(twin, layer)


for _class in (BigramNet, WindowMLP, RecurrentLM):
    register_twin(_class, f"nncourse.models.torch.charlm.{_class.__name__}", from_torch=_from_torch,
                  to_torch=_to_torch)
    saveable(_class)
