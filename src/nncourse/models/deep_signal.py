"""How the activations and the gradients of a deep MLP change from layer to layer (chapter 12).

``signal_through_depth(depth, activation, init)`` sends a batch of N(0, 1) inputs through ``depth``
layers ``h <- activation(h @ W.T)`` of the same width (no biases), then an upstream gradient of N(0, 1)
numbers back down, and returns each layer's activations and the standard deviations of the
activations and of the gradients ``d loss / d h`` per layer.

Why the initialization decides what happens: with independent zero-mean weights of variance ``v`` and
``n`` inputs per unit, ``z_j = sum_i w_ji h_i`` has ``Var(z) = n * v * E[h^2]``. So each layer
multiplies the second moment of the signal by ``n * v`` times what the activation keeps of it:

* ``tanh`` is the identity near 0, so ``E[h^2] ~ Var(z)``: keep ``n * v = 1`` (Xavier/Glorot uses
  ``v = 2 / (n_in + n_out)``, the compromise between the forward and the backward pass);
* ``relu`` zeroes half of a symmetric ``z``, so ``E[h^2] = Var(z) / 2``: keep ``n * v = 2``
  (He/Kaiming: ``v = 2 / n_in``);
* ``N(0, 1)`` (``v = 1``) multiplies by ``n``: tanh saturates at +-1 and its gradient vanishes,
  relu explodes; a small constant (std 0.01, ``n * v = 0.0256`` for n = 256) shrinks the signal
  geometrically to 0.

The gradient flows through the transposed weights and is multiplied by the activation's slope, so it
obeys the same rule with ``n_out`` in place of ``n_in``.
"""

from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from ..utils import as_rng
from ..validation import positive_int

__all__ = ["INITS", "ACTIVATIONS", "init_std", "signal_through_depth", "Signal"]

#: the weight initialisations compared, by name -> a short description for legends
INITS = {"normal": "N(0, 1)", "small": "N(0, 0.01²)", "xavier": "Xavier/Glorot", "he": "He/Kaiming"}
ACTIVATIONS = ("tanh", "relu", "sigmoid")


def init_std(init, fan_in, fan_out):
    """The standard deviation of the weights under ``init`` for a layer with these fans."""
    fan_in = positive_int(fan_in, "fan_in", "init_std")
    fan_out = positive_int(fan_out, "fan_out", "init_std")
    if init == "normal":
        return 1.0
    if init == "small":
        return 0.01
    if init == "xavier":
        return float(np.sqrt(2.0 / (fan_in + fan_out)))
    if init == "he":
        return float(np.sqrt(2.0 / fan_in))
    raise ConfigError(f"init must be one of {', '.join(map(repr, INITS))}, got {init!r}")


def _activation(name, z):
    """``(h, slope)``: the activation of ``z`` and its derivative."""
    if name == "tanh":
        h = np.tanh(z)
        return h, 1.0 - h * h
    if name == "relu":
        return np.maximum(z, 0.0), (z > 0).astype(z.dtype)
    if name == "sigmoid":
        h = 1.0 / (1.0 + np.exp(-z))
        return h, h * (1.0 - h)
    raise ConfigError(f"activation must be one of {', '.join(map(repr, ACTIVATIONS))}, got {name!r}")


@dataclass
class Signal:
    """``activations[l]`` (batch, width) after layer ``l + 1``; ``act_std[l]`` and ``grad_std[l]`` their
    standard deviation and that of ``d loss / d activations[l]``."""

    activation: str
    init: str
    activations: list
    act_std: np.ndarray
    grad_std: np.ndarray


def signal_through_depth(depth, activation, init, *, width=256, batch=512, seed=0):
    """Forward a batch of N(0, 1) inputs through ``depth`` layers, and an N(0, 1) gradient back (float64)."""
    depth = positive_int(depth, "depth", "signal_through_depth")
    width = positive_int(width, "width", "signal_through_depth")
    batch = positive_int(batch, "batch", "signal_through_depth")
    rng = as_rng(seed)
    h = rng.standard_normal((batch, width))
    std = init_std(init, width, width)
    weights, slopes, activations = [], [], []
    for _ in range(depth):
        W = rng.standard_normal((width, width)) * std            # (out, in)
        h, slope = _activation(activation, h @ W.T)
        weights.append(W)
        slopes.append(slope)
        activations.append(h)
    g = rng.standard_normal((batch, width))                      # d loss / d (last activations)
    grad_std = np.empty(depth)
    for layer in reversed(range(depth)):
        grad_std[layer] = g.std()
        g = (g * slopes[layer]) @ weights[layer]                 # back through the slope and W
    act_std = np.array([a.std() for a in activations])
    return Signal(activation, init, activations, act_std, grad_std)
