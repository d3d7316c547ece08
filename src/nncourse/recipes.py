"""Tested training recipes for MNIST, in one place, for both back ends.

A *recipe* is every choice besides the data that decides how well a network learns: the architecture,
how the weights start, the optimizer and its learning rate, the batch size, the number of epochs and
the learning-rate schedule. The chapter, the benchmarks and the tests all import it from here, so the
numbers they print come from the same settings::

    from nncourse.data import load_mnist
    from nncourse.recipes import mnist_recipe
    from nncourse.train import fit, evaluate

    mnist = load_mnist()
    model, loss_fn, optimizer, scheduler, fit_kwargs = mnist_recipe("mlp", backend="numpy")
    history = fit(model, loss_fn, optimizer, (mnist.X_train, mnist.y_train), **fit_kwargs)
    evaluate(model, loss_fn, mnist.X_test, mnist.y_test)          # (loss, accuracy)

``fit_kwargs`` holds ``epochs``, ``batch_size``, ``seed`` and the ``scheduler``. With the same ``seed``
the torch back end starts from the same weights and sees the same batches as the NumPy one.

The MLP recipe (784-256-128-10, ReLU):

* **He initialisation** (normal, std sqrt(2 / fan_in)): keeps the size of the signal roughly constant
  through ReLU layers, so all layers learn from the first step;
* **SGD with momentum 0.9, learning rate 0.05, batches of 32**: the classic, well-understood optimizer;
  momentum averages the noisy mini-batch gradients;
* **10 epochs, cosine schedule**: the learning rate glides from 0.05 down to 0 along half a cosine,
  big steps early, small careful steps at the end, which is worth about half a point of accuracy here;
* **label smoothing 0.1**: the target of each digit is 91 % on its class and 1 % on each other class
  instead of 100 % / 0 %, so the network is not pushed to ever more extreme scores on the 8,000 images it
  has already learned (it reaches 100 % training accuracy after a few epochs). Worth another 0.4 point
  here, and it makes the result steadier from seed to seed. The price: the reported loss cannot fall
  to 0 (its floor is about 0.5, the entropy of the smoothed target); for the plain cross-entropy of a
  trained model, evaluate it with ``CrossEntropyLoss()``.

Softmax regression (784-10, no hidden layer) uses the same optimizer settings and starts from zero
weights: its loss is convex, so there is no symmetry to break and any start reaches the same minimum.

Measured on the offline sample (8,000 train / 2,000 test), 10 epochs, seeds 0..5, NumPy back end:
MLP 97.25 % to 97.5 % test accuracy (mean 97.41 %; 96.7 % to 97.35 %, mean 97.05 %, without label
smoothing); softmax regression 93.35 % to 93.5 %. See
``benchmarks/README.md`` for both back ends, timings and the full-MNIST figures.
"""

from collections import namedtuple
from dataclasses import asdict, dataclass

import numpy as np

from . import validation
from .errors import ConfigError, DTypeError, ShapeError

__all__ = ["Recipe", "CNNRecipe", "Training", "MNIST_RECIPES", "mnist_recipe", "BACKENDS"]

BACKENDS = ("numpy", "torch")

Training = namedtuple("Training", ["model", "loss_fn", "optimizer", "scheduler", "fit_kwargs"])
Training.__doc__ = """What ``Recipe.build`` returns: everything ``fit`` needs besides the data.

Unpack it as ``model, loss_fn, optimizer, scheduler, fit_kwargs = ...`` and call
``fit(model, loss_fn, optimizer, (X, y), **fit_kwargs)``; ``fit_kwargs`` already holds the scheduler.
"""


@dataclass(frozen=True)
class Recipe:
    """The settings of one training recipe (immutable: make a changed copy with ``dataclasses.replace``).

    ``sizes``: layer widths, input first; ``init``: a ``numpy_nn.init`` name; ``lr``, ``momentum``:
    SGD's; ``schedule``: ``"cosine"`` (anneal to 0 over ``epochs``) or ``"constant"``;
    ``label_smoothing``: passed to ``CrossEntropyLoss`` (both back ends).
    """

    name: str
    sizes: tuple
    activation: str = "relu"
    init: str = "he"
    lr: float = 0.05
    momentum: float = 0.9
    batch_size: int = 32
    epochs: int = 10
    schedule: str = "cosine"
    label_smoothing: float = 0.0
    seed: int = 0

    def __post_init__(self):
        who = type(self).__name__
        validation.text(self.name, "name", who)
        if (not isinstance(self.sizes, (tuple, list)) or len(self.sizes) < 2
                or not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 1
                           for n in self.sizes)):
            raise ConfigError(f"{who}: sizes must be a tuple of at least two whole numbers >= 1, input first "
                              f"(e.g. (784, 256, 10)), got {self.sizes!r}")
        object.__setattr__(self, "sizes", tuple(int(n) for n in self.sizes))
        validation.text(self.activation, "activation", who)
        validation.text(self.init, "init", who)
        validation.positive_float(self.lr, "lr", who)
        validation.probability(self.momentum, "momentum", who)
        validation.positive_int(self.batch_size, "batch_size", who)
        validation.positive_int(self.epochs, "epochs", who)
        if self.schedule not in ("cosine", "constant"):
            raise ConfigError(f"{who}: schedule must be 'cosine' or 'constant', got {self.schedule!r}")
        validation.probability(self.label_smoothing, "label_smoothing", who)
        validation.non_negative_int(self.seed, "seed", who)

    def build(self, backend="numpy", *, seed=None):
        """Fresh model, loss, optimizer and scheduler for ``backend`` (``"numpy"`` or ``"torch"``).

        ``seed`` (default: the recipe's) fixes the initial weights and the order of the batches; both
        back ends start from the same weights for the same seed.
        """
        backend = _check_backend(backend)
        if self.schedule not in ("cosine", "constant"):
            raise ConfigError(f"Recipe {self.name!r}: schedule must be 'cosine' or 'constant', got {self.schedule!r}")
        seed = self.seed if seed is None else validation.non_negative_int(seed, "seed", f"{type(self).__name__}.build")
        from . import numpy_nn as nn

        model = self.numpy_model(seed)
        if backend == "numpy":
            loss_fn = nn.CrossEntropyLoss(label_smoothing=self.label_smoothing)
            optimizer = nn.SGD(model.parameters(), lr=self.lr, momentum=self.momentum)
            schedulers = nn.lr_scheduler
        else:
            import torch

            from . import torch_nn

            model = torch_nn.from_numpy(model)     # same starting weights as the NumPy model
            loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=self.label_smoothing)
            optimizer = torch.optim.SGD(model.parameters(), lr=self.lr, momentum=self.momentum)
            schedulers = torch.optim.lr_scheduler
        scheduler = (schedulers.CosineAnnealingLR(optimizer, T_max=self.epochs)
                     if self.schedule == "cosine" else None)
        fit_kwargs = {"epochs": self.epochs, "batch_size": self.batch_size, "seed": seed,
                      "scheduler": scheduler}
        return Training(model, loss_fn, optimizer, scheduler, fit_kwargs)

    def numpy_model(self, seed):
        """The untrained NumPy network (the torch one is its ``torch_nn.from_numpy`` twin)."""
        seed = validation.non_negative_int(seed, "seed", f"{type(self).__name__}.numpy_model")
        from . import numpy_nn as nn

        return nn.mlp(list(self.sizes), self.activation, init=self.init, seed=seed, dtype=np.float32)

    def prepare(self, X):
        """The images ``X`` in the shape this network reads: rows of 784 pixels for an MLP."""
        X = self._images(X, self.sizes[0])
        return X.reshape(len(X), -1)

    def _images(self, X, pixels):
        """``X`` as a float array of at least one image of ``pixels`` numbers, checked for NaN and shape."""
        who = f"{type(self).__name__}.prepare"
        if hasattr(X, "detach") and hasattr(X, "cpu"):
            X = X.detach().cpu().numpy()
        X = validation.as_array(X, "X", who)
        if X.ndim == 0 or len(X) == 0:
            raise ShapeError(f"{who}: X holds no images (shape {X.shape}); pass at least one image, one row of "
                             f"{pixels} pixels each")
        if X.dtype.kind != "f":
            raise DTypeError(f"{who}: X holds {X.dtype} values, but the network reads floating-point pixels; "
                             f"scale raw bytes first: X.astype(np.float32) / 255 (load_mnist does this)")
        if X[0].size != pixels:
            raise ShapeError(f"{who}: X has shape {X.shape}, {X[0].size} numbers per image, but {self.name!r} reads "
                             f"{pixels} pixels per image; pass X shaped (images, {pixels}) (or (images, 28, 28))")
        validation.finite(X, who, argument="input X")
        return X

    def describe(self):
        """One line for a notebook or a benchmark, e.g. ``mlp 784-256-128-10 relu, he init, ...``."""
        layers = "-".join(str(s) for s in self.sizes)
        act = f" {self.activation}" if len(self.sizes) > 2 else ""
        schedule = ", cosine schedule" if self.schedule == "cosine" else ""
        smoothing = f", label smoothing {self.label_smoothing:g}" if self.label_smoothing else ""
        return (f"{self.name} {layers}{act}, {self.init} init, SGD lr {self.lr:g} momentum {self.momentum:g}, "
                f"batch {self.batch_size}, {self.epochs} epochs{schedule}{smoothing}, seed {self.seed}")

    def as_dict(self):
        return asdict(self)


@dataclass(frozen=True)
class CNNRecipe(Recipe):
    """A LeNet-style convolutional network: ``len(channels)`` blocks of Conv2d (``kernel_size``, the
    first one padded to keep 28×28) -> ReLU -> MaxPool2d(2), then Flatten -> Linear to 10 classes.

    ``sizes`` is ``(input channels, *channels, classes)``; the images go in as ``(N, 1, 28, 28)``
    (``prepare`` reshapes rows of 784 pixels).
    """

    kernel_size: int = 5
    image_size: int = 28

    def __post_init__(self):
        super().__post_init__()
        validation.positive_int(self.kernel_size, "kernel_size", type(self).__name__)
        validation.positive_int(self.image_size, "image_size", type(self).__name__)

    def numpy_model(self, seed):
        seed = validation.non_negative_int(seed, "seed", f"{type(self).__name__}.numpy_model")
        from . import numpy_nn as nn

        rng = np.random.default_rng(seed)
        in_channels, *channels, classes = self.sizes
        layers, side = [], self.image_size
        for index, out_channels in enumerate(channels):
            padding = self.kernel_size // 2 if index == 0 else 0
            layers += [nn.Conv2d(in_channels, out_channels, self.kernel_size, padding=padding,
                                 init=self.init, rng=rng),
                       nn.ReLU(), nn.MaxPool2d(2)]
            side = (side + 2 * padding - self.kernel_size + 1) // 2
            in_channels = out_channels
        layers += [nn.Flatten(), nn.Linear(in_channels * side * side, classes, init=self.init, rng=rng)]
        return nn.Sequential(*layers)

    def prepare(self, X):
        """Rows of 784 pixels -> images ``(N, 1, 28, 28)`` (NCHW), as ``Conv2d`` reads them."""
        X = self._images(X, self.sizes[0] * self.image_size * self.image_size)
        return X.reshape(len(X), self.sizes[0], self.image_size, self.image_size)

    def describe(self):
        conv = f"conv {self.kernel_size}×{self.kernel_size}, max-pool 2"
        text = super().describe().replace(f" {self.activation},", f" {self.activation} ({conv}),", 1)
        return text


MNIST_RECIPES = {
    "mlp": Recipe("mlp", (784, 256, 128, 10), init="he", label_smoothing=0.1),
    "softmax": Recipe("softmax", (784, 10), init="zeros"),
    "cnn": CNNRecipe("cnn", (1, 16, 32, 10), init="he", label_smoothing=0.1),
}


def _check_backend(backend):
    if backend not in BACKENDS:
        raise ConfigError(f"backend must be one of {', '.join(map(repr, BACKENDS))}, got {backend!r}")
    return backend


def mnist_recipe(kind="mlp", backend="numpy", *, seed=None):
    """The tested MNIST recipe ``kind`` (``"mlp"`` or ``"softmax"``) built for ``backend``.

    Returns ``Training(model, loss_fn, optimizer, scheduler, fit_kwargs)``; see the module docstring.
    The settings themselves are ``MNIST_RECIPES[kind]``.
    """
    if kind not in MNIST_RECIPES:
        raise ConfigError(f"kind must be one of {', '.join(map(repr, MNIST_RECIPES))}, got {kind!r}")
    return MNIST_RECIPES[kind].build(backend, seed=seed)
