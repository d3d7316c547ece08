"""Train one playground network: ``train_playground(settings) -> PlaygroundResult``.

This is a pure function of the settings: the same ``PlaygroundSettings`` always give the same data,
the same starting weights, the same mini-batches and therefore the same numbers. The widgets only
call it and draw what it returns, so anything you see in the playground can be reproduced in code::

    >>> from nncourse.widgets import PlaygroundSettings, train_playground
    >>> r = train_playground(PlaygroundSettings(dataset="circles", epochs=50))
    >>> r.test_accuracy                                        # doctest: +SKIP
    0.98

Training is ``nncourse.train.fit`` (the course's one loop); this module adds what the playground draws:
the losses on the whole training and test sets after every epoch, the decision boundary, and a
message instead of an exception when the learning rate is so large that the loss blows up.
"""

from __future__ import annotations

import functools
import inspect
import math
import time
from dataclasses import dataclass, field

import numpy as np

from .. import validation
from ..errors import ConfigError, DivergenceError, NonFiniteError
from ..numpy_nn.loss import CrossEntropyLoss
from ..train import DIVERGENCE_FACTOR, fit
from ..train.divergence import is_diverged
from .settings import PlaygroundSettings

__all__ = ["PlaygroundResult", "train_playground", "make_data", "divergence_message", "GRID_SIZE",
           "DIVERGENCE_FACTOR"]

#: The decision boundary is drawn from a GRID_SIZE x GRID_SIZE grid of predictions: coarse enough to
#: be cheap (3,600 points), fine enough to look smooth when drawn with bilinear interpolation.
GRID_SIZE = 60

# playground name -> (nncourse.data function, noise scale). The playground's noise slider runs from
# 0 (clean) to 0.5 (very noisy) for every data set; the scale turns it into that generator's noise
# (its spread is measured in different units: spirals are thin, blobs are far apart).
_DATA_FUNCTIONS = {"xor": ("xor_blobs", 2.0), "circles": ("circles", 0.5),
                   "moons": ("two_moons", 1.0), "spiral": ("spirals", 0.25), "blobs": ("blobs", 4.0)}

#: The playground calls a run "diverged" by the rule ``fit`` uses (``nncourse.train.divergence``): NaN/inf,
#: or a loss above DIVERGENCE_FACTOR times the reference, here measured on the whole training set after
#: every epoch against its value before training.


@dataclass
class PlaygroundResult:
    """Everything the playground draws after one training run.

    ``grid`` holds the predicted probability of class 1 on a ``GRID_SIZE`` x ``GRID_SIZE`` grid
    spanning ``extent = (x_min, x_max, y_min, y_max)`` (row 0 is ``y_min``); it is all NaN if training
    diverged. ``train_loss``/``test_loss`` have one value per finished epoch (plus the value before
    training at index 0).
    """

    settings: PlaygroundSettings
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    grid: np.ndarray
    extent: tuple
    train_loss: list = field(default_factory=list)
    test_loss: list = field(default_factory=list)
    train_accuracy: float = float("nan")
    test_accuracy: float = float("nan")
    diverged: bool = False
    diverged_epoch: int | None = None
    message: str = ""
    seconds: float = 0.0
    model: object = None

    def summary(self) -> str:
        """One line: the outcome, as the playground prints it."""
        if self.diverged:
            return self.message
        return (f"epoch {len(self.train_loss) - 1}: train loss {self.train_loss[-1]:.3f}, "
                f"test loss {self.test_loss[-1]:.3f}, train accuracy {self.train_accuracy:.0%}, "
                f"test accuracy {self.test_accuracy:.0%}")


def format_number(x: float) -> str:
    """A short, readable float: 3.0, 0.3, 0.0316, 1e-04 (a float always shows as a float)."""
    text = f"{x:.3g}"
    return text if any(c in text for c in ".en") else text + ".0"


def divergence_message(epoch: int, learning_rate: float) -> str:
    """What the playground says instead of raising when the loss blows up."""
    validation.non_negative_int(epoch, "epoch", "divergence_message")
    validation.positive_float(learning_rate, "learning_rate", "divergence_message")
    return (f"Training diverged at epoch {epoch}: the learning rate {format_number(learning_rate)} "
            f"is too large \u2014 try {format_number(learning_rate / 10)}")


# ---------------------------------------------------------------------------------------------- data

def _call_data(name, n, noise, seed):
    """Call ``nncourse.data.<name>`` with whatever its size/noise/seed arguments are called."""
    from .. import data
    fn = getattr(data, name, None)
    if fn is None:
        raise ConfigError(f"nncourse.data has no function {name!r} (needed by the playground)")
    params = inspect.signature(fn).parameters
    kwargs = {}
    for key in ("n", "n_samples", "samples", "n_points"):
        if key in params:
            kwargs[key] = n
            break
    if "noise" in params:
        kwargs["noise"] = noise
    if "seed" in params:
        kwargs["seed"] = seed
    return fn(**kwargs)


def make_data(dataset: str, samples: int, noise: float, test_fraction: float, seed: int):
    """The playground's points: ``(X_train, y_train, X_test, y_test)`` (float32 X, int64 y), after checking
    the arguments (the cached ``_make_data`` does the work)."""
    who = "make_data"
    if not isinstance(dataset, str) or dataset not in _DATA_FUNCTIONS:
        raise ConfigError(f"{who}: dataset must be one of {sorted(_DATA_FUNCTIONS)}, got {dataset!r}")
    validation.positive_int(samples, "samples", who)
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not 0 <= noise < math.inf:
        raise ConfigError(f"{who}: noise must be a finite number >= 0, got {noise!r}")
    validation.probability(test_fraction, "test_fraction", who)
    validation.non_negative_int(seed, "seed", who)
    return _make_data(dataset, samples, noise, test_fraction, seed)


@functools.lru_cache(maxsize=32)
def _make_data(dataset: str, samples: int, noise: float, test_fraction: float, seed: int):
    """The playground's points: ``(X_train, y_train, X_test, y_test)`` (float32 X, int64 y).

    Cached, because most clicks (learning rate, layers, ...) change the network, not the data.
    The arrays are read-only so that a cached copy cannot be changed by accident.
    """
    from ..data import train_test_split
    name, scale = _DATA_FUNCTIONS[dataset]
    X, y = _call_data(name, samples, noise * scale, seed)
    X_train, X_test, y_train, y_test = _split(train_test_split(X, y, test_fraction=test_fraction,
                                                               seed=seed))
    out = (np.ascontiguousarray(X_train, dtype=np.float32), np.asarray(y_train, dtype=np.int64),
           np.ascontiguousarray(X_test, dtype=np.float32), np.asarray(y_test, dtype=np.int64))
    for a in out:
        a.flags.writeable = False
    return out


def _split(parts):
    """Accept both sklearn's order (Xtr, Xte, ytr, yte) and (Xtr, ytr, Xte, yte)."""
    a, b, c, d = parts
    if np.ndim(b) == 2:          # (X_train, X_test, y_train, y_test)
        return a, b, c, d
    return a, c, b, d            # (X_train, y_train, X_test, y_test)


def grid_points(X: np.ndarray, size: int = GRID_SIZE, pad: float = 0.1):
    """A ``size * size`` grid of points covering ``X`` (with a margin) and its ``extent``."""
    lo, hi = X.min(axis=0), X.max(axis=0)
    margin = (hi - lo) * pad
    lo, hi = lo - margin, hi + margin
    xs = np.linspace(lo[0], hi[0], size, dtype=np.float32)
    ys = np.linspace(lo[1], hi[1], size, dtype=np.float32)
    gx, gy = np.meshgrid(xs, ys)
    points = np.column_stack([gx.ravel(), gy.ravel()])
    return points, (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))


# ------------------------------------------------------------------------------------------ training

def layer_sizes(s: PlaygroundSettings) -> list[int]:
    """``[2, neurons, ..., neurons, 2]``: two inputs, ``hidden_layers`` hidden layers, two classes."""
    return [2] + [s.neurons] * s.hidden_layers + [2]


def _numpy_optimizer(s: PlaygroundSettings, params):
    from ..numpy_nn import optim
    return _build_optimizer(optim, s, params)


def _torch_optimizer(s: PlaygroundSettings, params):
    import torch
    return _build_optimizer(torch.optim, s, params)


def _build_optimizer(optim, s: PlaygroundSettings, params):
    """The same optimizer from either library (their constructors share torch's names)."""
    params = list(params)
    wd = s.l2
    if s.optimizer == "sgd":
        return optim.SGD(params, lr=s.learning_rate, weight_decay=wd)
    if s.optimizer == "momentum":
        return optim.SGD(params, lr=s.learning_rate, momentum=0.9, weight_decay=wd)
    if s.optimizer == "nesterov":
        return optim.SGD(params, lr=s.learning_rate, momentum=0.9, nesterov=True, weight_decay=wd)
    if s.optimizer == "rmsprop":
        return optim.RMSprop(params, lr=s.learning_rate, weight_decay=wd)
    if s.optimizer == "adagrad":
        return optim.Adagrad(params, lr=s.learning_rate, weight_decay=wd)
    if s.optimizer == "adam":
        return optim.Adam(params, lr=s.learning_rate, weight_decay=wd)
    raise ConfigError(f"unknown optimizer {s.optimizer!r}")


class _NumpyBackend:
    """The network, its loss and optimizer in ``nncourse.numpy_nn``."""

    def __init__(self, s):
        from ..numpy_nn import CrossEntropyLoss, mlp
        self.model = mlp(layer_sizes(s), activation=s.activation, seed=s.seed)
        self.loss_fn = CrossEntropyLoss()
        self.optimizer = _numpy_optimizer(s, self.model.parameters())

    def logits(self, X) -> np.ndarray:
        return np.asarray(self.model(X), dtype=np.float64)


class _TorchBackend:
    """The same with PyTorch; the network starts from the NumPy network's weights (same seed)."""

    def __init__(self, s):
        import torch
        from .. import torch_nn
        self.torch = torch
        self.model = torch_nn.mlp(layer_sizes(s), activation=s.activation, seed=s.seed)
        self.loss_fn = torch.nn.CrossEntropyLoss()
        self.optimizer = _torch_optimizer(s, self.model.parameters())

    def _tensor(self, a):
        # the cached data arrays are read-only; torch wants memory it may write to
        return self.torch.from_numpy(a if a.flags.writeable else a.copy())

    def logits(self, X) -> np.ndarray:
        with self.torch.no_grad():
            return self.model(self._tensor(X)).double().numpy()


_BACKENDS = {"numpy": _NumpyBackend, "torch": _TorchBackend}


class _Diverged(Exception):
    """Raised from fit's epoch callback when the playground's measurement says the run blew up."""


def _accuracy(logits: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.argmax(logits, axis=1) == y))


def train_playground(settings: PlaygroundSettings | None = None, **changes) -> PlaygroundResult:
    """Train the network described by ``settings`` and return what the playground shows.

    Mini-batches are drawn by shuffling the training points each epoch with a generator seeded
    from ``settings.seed``, so both back ends see the same batches. The losses after each epoch are
    measured on the whole training and test sets. If a loss becomes NaN or infinite, training stops
    and ``result.diverged`` is True with a message suggesting a smaller learning rate (no exception:
    diverging is something to see and learn from, not a bug). It also counts as diverged when the
    training loss grows past ``DIVERGENCE_FACTOR`` (10) times its value before training.

    Keyword arguments change single settings: ``train_playground(learning_rate=1.0)``.
    """
    if settings is None:
        settings = PlaygroundSettings()
    if not isinstance(settings, PlaygroundSettings):
        raise ConfigError(f"train_playground expects PlaygroundSettings, got {type(settings).__name__} as settings: "
                          f"write train_playground(PlaygroundSettings(learning_rate=0.03, ...))")
    if changes:
        settings = settings.replace(**changes)
    s = settings
    start = time.perf_counter()
    X_train, y_train, X_test, y_test = make_data(s.dataset, s.samples, s.noise, s.test_fraction, s.seed)
    points, extent = grid_points(np.concatenate([X_train, X_test]))
    backend = _BACKENDS[s.backend](s)
    shuffle = np.random.default_rng([s.seed, 2024])    # its own stream: data and weights use `seed`
    n = len(X_train)
    batch = min(s.batch_size, n)

    result = PlaygroundResult(s, X_train, y_train, X_test, y_test,
                              grid=np.full((GRID_SIZE, GRID_SIZE), np.nan), extent=extent)
    X_all = np.concatenate([X_train, X_test])
    loss_of = CrossEntropyLoss()   # the same loss for both back ends, on their logits as NumPy arrays

    def measure():
        """Train and test loss from one forward pass over all the points; also the logits.

        NaN/inf logits make the loss raise NonFiniteError, which counts as divergence below."""
        logits = backend.logits(X_all)
        return loss_of(logits[:n], y_train), loss_of(logits[n:], y_test), logits
    finished = {"epochs": 0, "measuring": False}   # which epoch blew up, for the message

    def after_epoch(epoch, history):
        """fit calls this after every epoch: measure both losses on all the points, as the playground draws."""
        nonlocal logits
        finished.update(epochs=epoch - 1, measuring=True)
        train_loss, test_loss, logits = measure()
        if not (math.isfinite(train_loss) and math.isfinite(test_loss)):
            raise _Diverged
        result.train_loss.append(train_loss)       # keep the jump: it shows on the curve
        result.test_loss.append(test_loss)
        if is_diverged(train_loss, result.train_loss[0]):
            raise _Diverged
        finished.update(epochs=epoch, measuring=False)
        return False

    with np.errstate(over="ignore", invalid="ignore"):   # overflow is reported as divergence
        logits = None
        try:
            train_loss, test_loss, logits = measure()
            result.train_loss.append(train_loss)
            result.test_loss.append(test_loss)
            fit(backend.model, backend.loss_fn, backend.optimizer, (X_train, y_train), epochs=s.epochs,
                batch_size=batch, seed=shuffle, quiet=True, on_epoch=after_epoch, who="train_playground")
        except (_Diverged, DivergenceError, FloatingPointError, NonFiniteError, OverflowError):
            # NonFiniteError: a numpy_nn layer refused an inf/NaN coming out of the layer before it
            result.diverged = True
            # the epoch that blew up: 0 if before training, else the one being trained or measured
            result.diverged_epoch = 0 if not result.train_loss else finished["epochs"] + 1
            result.message = divergence_message(result.diverged_epoch, s.learning_rate)
        else:
            grid_logits = backend.logits(points)
            # probability of class 1 from two logits: softmax == sigmoid of the difference
            p1 = 1.0 / (1.0 + np.exp(grid_logits[:, 0] - grid_logits[:, 1]))
            result.grid = p1.reshape(GRID_SIZE, GRID_SIZE)
            result.train_accuracy = _accuracy(logits[:n], y_train)
            result.test_accuracy = _accuracy(logits[n:], y_test)
    result.model = backend.model
    result.seconds = time.perf_counter() - start
    return result
