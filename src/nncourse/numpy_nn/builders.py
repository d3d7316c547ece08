"""``mlp``: build a multi-layer perceptron from a list of layer sizes.

``mlp([784, 256, 128, 10])`` is ``Linear(784, 256), ReLU(), Linear(256, 128), ReLU(), Linear(128, 10)``:
no activation after the last layer, because ``CrossEntropyLoss`` wants raw scores.
"""

import numbers

import numpy as np

from ..errors import ConfigError
from .activation import Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Step, Tanh
from .container import Sequential
from .dropout import Dropout
from .linear import Linear
from .module import Module

__all__ = ["mlp", "ACTIVATIONS"]

ACTIVATIONS = {
    "step": Step,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "identity": Identity,
}

# The output layer may also end in a softmax (probabilities instead of raw scores).
_OUTPUT_ACTIVATIONS = {**ACTIVATIONS, "softmax": Softmax}


def _activation_class(activation, argument, choices):
    """Turn a name (``"relu"``) or a Module class (``ReLU``) into a Module class."""
    if isinstance(activation, type) and issubclass(activation, Module):
        return activation
    if isinstance(activation, str) and activation.lower() in choices:
        return choices[activation.lower()]
    valid = ", ".join(repr(name) for name in choices)
    raise ConfigError(f"mlp: unknown {argument} {activation!r}; valid names are {valid} (or a Module class)")


def mlp(sizes, activation="relu", *, output_activation=None, init="torch", dropout=0.0, seed=0,
        dtype=np.float32):
    """A ``Sequential`` of ``Linear`` layers with ``activation`` between them.

    ``sizes`` lists the width of every layer, input first: ``[2, 8, 1]`` has one hidden layer of 8.
    ``dropout > 0`` adds a ``Dropout`` after each hidden activation. ``output_activation`` (a name, a
    Module class, or ``None`` for raw scores) goes after the last ``Linear``.

    Reproducible: one Generator is made from ``seed`` and each ``Linear`` gets its own child stream
    (``Generator.spawn``), in layer order; the ``Dropout`` layers get streams spawned after those, so
    adding dropout does not change the initial weights.
    """
    sizes = list(sizes) if isinstance(sizes, (list, tuple, range, np.ndarray)) else sizes
    if (not isinstance(sizes, list) or len(sizes) < 2
            or not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 1 for s in sizes)):
        raise ConfigError(
            f"mlp: sizes must be a list of at least two positive integers (input, ..., output), got {sizes!r}"
        )
    if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0.0 <= dropout < 1.0:
        raise ConfigError(f"mlp: dropout must be a probability in [0, 1), got {dropout!r}")
    hidden_cls = _activation_class(activation, "activation", ACTIVATIONS)
    output_cls = None if output_activation is None else _activation_class(
        output_activation, "output_activation", _OUTPUT_ACTIVATIONS)

    if not (seed is None or isinstance(seed, np.random.Generator)
            or isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed >= 0):
        raise ConfigError(f"mlp: seed must be a whole number >= 0 (the same seed gives the same weights), None "
                          f"(fresh randomness) or a numpy.random.Generator, got {seed!r}"
                          + (f"; write seed={seed.strip()} without quotes"
                             if isinstance(seed, str) and seed.strip().isdigit() else "; for example seed=0"))
    root = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    n_linear = len(sizes) - 1
    linear_rngs = root.spawn(n_linear)
    dropout_rngs = root.spawn(n_linear - 1) if dropout > 0 else []

    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Linear(int(n_in), int(n_out), init=init, rng=linear_rngs[i], dtype=dtype))
        if i < n_linear - 1:
            layers.append(hidden_cls())
            if dropout > 0:
                layers.append(Dropout(dropout, rng=dropout_rngs[i]))
    if output_cls is not None:
        layers.append(output_cls())
    return Sequential(*layers)
