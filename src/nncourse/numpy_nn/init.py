"""Weight initialisers, by name.

Each initialiser takes the weight's ``shape = (out_features, in_features)`` and a
``numpy.random.Generator`` and returns a float64 array of that shape (the layer casts it to its own
dtype). ``fan_in = in_features`` is the number of inputs feeding each neuron, ``fan_out = out_features``.

==================  ===========================================================  ==================
name                weights                                                      bias
==================  ===========================================================  ==================
``"torch"``         U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (``torch.nn.Linear``)     same distribution
``"uniform"``       U(-eps, eps), eps = 0.12 (the classic lecture notes)         same distribution
``"xavier"``        U(-a, a), a = sqrt(6 / (fan_in + fan_out)) (Glorot uniform)  zeros
``"glorot"``        same as ``"xavier"``                                         zeros
``"xavier_normal"`` N(0, 2 / (fan_in + fan_out))                                 zeros
``"he"``            N(0, 2 / fan_in) (He / Kaiming normal, for ReLU)             zeros
``"kaiming"``       same as ``"he"``                                             zeros
``"he_uniform"``    U(-a, a), a = sqrt(6 / fan_in)                               zeros
``"zeros"``         zeros (every neuron stays identical: a lesson, not a choice)  zeros
==================  ===========================================================  ==================

``get(name)`` returns the weight function; ``bias(name, weight_shape, rng)`` draws the bias that goes
with it. Like ``torch.nn.Linear``, a layer draws its weight first and its bias second from one rng.
"""

import math
import numbers

import numpy as np

from .. import validation
from ..errors import ConfigError, NonFiniteError, ShapeError

__all__ = [
    "torch_default",
    "uniform",
    "xavier_uniform",
    "xavier_normal",
    "he_normal",
    "he_uniform",
    "zeros",
    "get",
    "weight",
    "bias",
    "INITIALIZERS",
]


def _fans(shape, who="initialisers", name="shape"):
    """``(fan_in, fan_out)`` of a weight of shape ``(out_features, in_features)``."""
    try:
        fan_out, fan_in = shape
    except (TypeError, ValueError):
        raise ConfigError(f"{who}: initialisers expect {name} = (out_features, in_features), got {shape!r}; "
                          f"pass {name}=(out_features, in_features), two whole numbers >= 1") from None
    for fan_name, fan in (("fan_in (in_features)", fan_in), ("fan_out (out_features)", fan_out)):
        if isinstance(fan, bool) or not isinstance(fan, numbers.Integral) or fan < 1:
            raise ConfigError(f"{who}: initialisers need a weight shape (out_features, in_features) of whole "
                              f"numbers >= 1, but {name}={shape!r} gives {fan_name} = {fan!r} (a neuron with no "
                              f"inputs has no weights to draw); pass {name}=(out_features, in_features) with "
                              f"both >= 1")
    return int(fan_in), int(fan_out)


def _check_rng(rng, who, *, optional=False):
    """``rng`` must be a ``numpy.random.Generator`` (``None`` too where it is not used)."""
    if optional and rng is None:
        return
    if not isinstance(rng, np.random.Generator):
        raise ConfigError(f"{who}: rng must be a numpy.random.Generator, got {type(rng).__name__} {rng!r:.40}; "
                          f"pass rng=np.random.default_rng(seed) (a seed such as 0 is not a Generator)")


def torch_default(shape, rng):
    """U(-1/sqrt(fan_in), 1/sqrt(fan_in)): what ``torch.nn.Linear`` does by default."""
    fan_in, _ = _fans(shape, "torch_default")
    _check_rng(rng, "torch_default")
    bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
    return rng.uniform(-bound, bound, size=shape)


def uniform(shape, rng, eps=0.12):
    """U(-eps, eps) with a fixed small ``eps`` (0.12 in the classic notes), whatever the layer size."""
    _fans(shape, "uniform")
    _check_rng(rng, "uniform")
    validation.finite_number(eps, "eps", "uniform", minimum=0.0)   # checked, used as given: the same draw
    return rng.uniform(-eps, eps, size=shape)


def xavier_uniform(shape, rng, gain=1.0):
    """Glorot uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)); keeps variances level."""
    fan_in, fan_out = _fans(shape, "xavier_uniform")
    _check_rng(rng, "xavier_uniform")
    validation.finite_number(gain, "gain", "xavier_uniform", minimum=0.0)   # checked, used as given
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-bound, bound, size=shape)


def xavier_normal(shape, rng, gain=1.0):
    """Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(shape, "xavier_normal")
    _check_rng(rng, "xavier_normal")
    validation.finite_number(gain, "gain", "xavier_normal", minimum=0.0)   # checked, used as given
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return rng.normal(0.0, std, size=shape)


def he_normal(shape, rng):
    """He (Kaiming) normal: N(0, 2 / fan_in). ReLU zeroes half its inputs; the 2 makes up for it."""
    fan_in, _ = _fans(shape, "he_normal")
    _check_rng(rng, "he_normal")
    return rng.normal(0.0, math.sqrt(2.0 / fan_in), size=shape)


def he_uniform(shape, rng):
    """He (Kaiming) uniform: U(-a, a) with a = sqrt(6 / fan_in) (same variance as ``he_normal``)."""
    fan_in, _ = _fans(shape, "he_uniform")
    _check_rng(rng, "he_uniform")
    bound = math.sqrt(6.0 / fan_in)
    return rng.uniform(-bound, bound, size=shape)


def zeros(shape, rng=None):
    """All zeros. Every hidden neuron then computes the same thing and gets the same update forever."""
    _fans(shape, "zeros")
    _check_rng(rng, "zeros", optional=True)   # unused, but a wrong one is a mistake worth naming
    return np.zeros(shape)


INITIALIZERS = {
    "torch": torch_default,
    "uniform": uniform,
    "xavier": xavier_uniform,
    "glorot": xavier_uniform,
    "xavier_normal": xavier_normal,
    "he": he_normal,
    "kaiming": he_normal,
    "he_uniform": he_uniform,
    "zeros": zeros,
}


def get(name):
    """The weight initialiser called ``name``; unknown names raise ``ConfigError`` listing valid ones."""
    if callable(name):
        return name
    try:
        return INITIALIZERS[name]
    except (KeyError, TypeError):
        valid = ", ".join(repr(n) for n in INITIALIZERS)
        raise ConfigError(f"unknown init {name!r}; valid names are {valid}") from None


def weight(init, shape, rng, who):
    """The weight drawn by ``init`` (a name or a function ``init(shape, rng)``) for ``who``, as float64.

    A custom initialiser is checked: it must return numbers of exactly ``shape``, all finite.
    """
    if not isinstance(rng, np.random.Generator):
        raise ConfigError(f"{who}: rng must be a numpy.random.Generator, got {type(rng).__name__}; pass "
                          f"np.random.default_rng(seed), or seed= to the layer")
    drawn = get(init)(shape, rng)
    name = getattr(init, "__name__", repr(init)) if callable(init) else repr(init)
    try:
        drawn = np.asarray(drawn, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(f"{who}: init={name} returned {type(drawn).__name__}, not an array of numbers; "
                          f"a custom initialiser must return an array of shape {tuple(shape)}") from None
    if drawn.shape != tuple(shape):
        raise ShapeError(f"{who}: init={name} returned an array of shape {drawn.shape}, but the weight has shape "
                         f"{tuple(shape)}; a custom initialiser init(shape, rng) must return exactly that shape "
                         f"(for example rng.normal(0, 0.1, size=shape))")
    if not np.all(np.isfinite(drawn)):
        raise NonFiniteError(f"{who}: init={name} returned NaN or infinite weights; a custom initialiser must "
                             f"return finite numbers (check its scale: a division by a zero fan-in gives inf)")
    return drawn


def bias(name, weight_shape, rng):
    """The bias vector (length ``out_features``) that goes with initialiser ``name``.

    ``"torch"`` and ``"uniform"`` draw the bias like the weights; the others start it at zero.
    """
    fn = get(name)
    fan_in, out_features = _fans(weight_shape, "bias", "weight_shape")
    _check_rng(rng, "bias")
    if fn is torch_default:
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        return rng.uniform(-bound, bound, size=out_features)
    if fn is uniform:
        return uniform((out_features, 1), rng).reshape(out_features)
    return np.zeros(out_features)
