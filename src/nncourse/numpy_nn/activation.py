"""Activation functions: modules without parameters, applied value by value (``Softmax``: row by row).

Each ``backward`` multiplies the incoming gradient by the derivative of the function (chain rule),
using what ``forward`` cached: usually the output itself, because sigma' = sigma (1 - sigma),
tanh' = 1 - tanh^2 and so on are cheapest written in terms of the output.
"""

import numbers

import numpy as np

from ..errors import ConfigError, ShapeError
from .module import Module, check_float_array

__all__ = ["Step", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "Softmax", "Identity"]


class _Activation(Module):
    """Shared plumbing: check the input is a float array; remember the output's shape and dtype."""

    def _start_forward(self, x):
        return check_float_array(x, self._label())

    def _start_backward(self, grad_output, cached, dtype=None):
        self._require_forward(cached)
        self._check_grad_output(grad_output, cached.shape, cached.dtype if dtype is None else dtype)


class Step(_Activation):
    """The Heaviside step of the perceptron: 1.0 where z >= 0, else 0.0.

    Not differentiable: its derivative is 0 almost everywhere (and undefined at 0), so ``backward``
    returns zeros and gradient descent cannot learn through it. Networks with a step are trained with
    the perceptron rule, not gradient descent.
    """

    def __init__(self):
        super().__init__()
        self._out = None

    def forward(self, z):
        z = self._start_forward(z)
        self._out = (z >= 0).astype(z.dtype)
        return self._out

    def backward(self, grad_output):
        self._start_backward(grad_output, self._out)
        return np.zeros_like(grad_output)


class Sigmoid(_Activation):
    """sigma(z) = 1 / (1 + exp(-z)), squashing any number into (0, 1).

    Computed as 1 / (1 + e) for z >= 0 and e / (1 + e) for z < 0 with e = exp(-|z|) <= 1, so exp
    never overflows, whatever the size of z.
    """

    def __init__(self):
        super().__init__()
        self._out = None

    def forward(self, z):
        z = self._start_forward(z)
        e = np.exp(-np.abs(z))                              # in (0, 1]: no overflow
        self._out = np.where(z >= 0, 1.0, e) / (1.0 + e)
        return self._out

    def backward(self, grad_output):
        self._start_backward(grad_output, self._out)
        s = self._out
        return grad_output * s * (1.0 - s)                  # sigma' = sigma (1 - sigma)


class Tanh(_Activation):
    """tanh(z), squashing into (-1, 1); zero-centred, unlike the sigmoid."""

    def __init__(self):
        super().__init__()
        self._out = None

    def forward(self, z):
        z = self._start_forward(z)
        self._out = np.tanh(z)
        return self._out

    def backward(self, grad_output):
        self._start_backward(grad_output, self._out)
        t = self._out
        return grad_output * (1.0 - t * t)                  # tanh' = 1 - tanh^2


class ReLU(_Activation):
    """max(0, z). Its derivative is 1 where z > 0 and 0 elsewhere (0 at z = 0, as in torch)."""

    def __init__(self):
        super().__init__()
        self._positive = None  # boolean mask z > 0
        self._dtype = None

    def forward(self, z):
        z = self._start_forward(z)
        self._positive, self._dtype = z > 0, z.dtype
        return np.maximum(z, 0)

    def backward(self, grad_output):
        self._start_backward(grad_output, self._positive, self._dtype)
        return grad_output * self._positive                 # bool mask keeps the float dtype


class LeakyReLU(_Activation):
    """z where z > 0, else ``negative_slope * z``: a small slope keeps 'dead' units learning."""

    def __init__(self, negative_slope=0.01):
        super().__init__()
        if isinstance(negative_slope, bool) or not isinstance(negative_slope, numbers.Real):
            raise ConfigError(f"LeakyReLU: negative_slope must be a number, got {negative_slope!r}")
        self.negative_slope = float(negative_slope)
        self._positive = None
        self._dtype = None

    def forward(self, z):
        z = self._start_forward(z)
        self._positive, self._dtype = z > 0, z.dtype
        return np.where(self._positive, z, z * self.negative_slope)

    def backward(self, grad_output):
        self._start_backward(grad_output, self._positive, self._dtype)
        return np.where(self._positive, grad_output, grad_output * self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class Softmax(_Activation):
    """softmax(z)_i = exp(z_i) / sum_j exp(z_j) along ``dim``: turns scores into probabilities.

    Stable: subtracting the row maximum first changes nothing mathematically but keeps exp <= 1.
    ``backward`` is the Jacobian-vector product  g -> y * (g - sum(g * y)),  never the full Jacobian.
    """

    def __init__(self, dim=-1):
        super().__init__()
        if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
            raise ConfigError(f"Softmax: dim must be an integer, got {dim!r}")
        self.dim = int(dim)
        self._out = None

    def forward(self, z):
        z = self._start_forward(z)
        if not -z.ndim <= self.dim < z.ndim:
            raise ShapeError(f"Softmax(dim={self.dim}) got input with {z.ndim} dimension(s), shape {z.shape}")
        e = np.exp(z - z.max(axis=self.dim, keepdims=True))
        e /= e.sum(axis=self.dim, keepdims=True)
        self._out = e
        return e

    def backward(self, grad_output):
        self._start_backward(grad_output, self._out)
        y = self._out
        return y * (grad_output - (grad_output * y).sum(axis=self.dim, keepdims=True))

    def extra_repr(self):
        return f"dim={self.dim}"


class Identity(_Activation):
    """Returns its input unchanged (a placeholder, e.g. 'no activation' on the output layer)."""

    def __init__(self):
        super().__init__()
        self._like = None

    def forward(self, x):
        x = self._start_forward(x)
        self._like = x
        return x

    def backward(self, grad_output):
        self._start_backward(grad_output, self._like)
        return grad_output


# ---------------------------------------------------------------------------------------- GELU (ch. 10)
import math  # noqa: E402  (kept inside this block so the chapters' additions merge cleanly)

__all__ += ["GELU"]

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_erf = np.frompyfunc(math.erf, 1, 1)   # exact erf, value by value (NumPy has no erf ufunc)


class GELU(_Activation):
    """The Gaussian Error Linear Unit: GELU(z) = z · Phi(z), with Phi the standard normal CDF.

    A smooth ReLU: near z = 0 it bends gently instead of at an angle, and it is slightly negative for
    small negative z. ``approximate="none"`` (torch's default) computes Phi with the error function,
    ``Phi(z) = (1 + erf(z / sqrt 2)) / 2``; ``approximate="tanh"`` uses the cheaper approximation
    ``Phi(z) ~ (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3))) / 2`` (GPT-2's choice, and the one the
    course's GPT uses, because NumPy has no vectorised erf).

    Derivative: ``d/dz [z Phi(z)] = Phi(z) + z phi(z)``, with phi the normal density (exact form), or
    the derivative of the tanh formula (approximate form); both are computed in ``backward``.
    """

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ConfigError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate
        self._z = None

    def forward(self, z):
        z = self._start_forward(z)
        self._z = z
        if self.approximate == "tanh":
            self._t = np.tanh(_SQRT_2_OVER_PI * (z + 0.044715 * z**3))
            return 0.5 * z * (1.0 + self._t)
        self._cdf = 0.5 * (1.0 + _erf(z / math.sqrt(2.0)).astype(z.dtype))   # Phi(z)
        return z * self._cdf

    def backward(self, grad_output):
        self._start_backward(grad_output, self._z)
        z = self._z
        if self.approximate == "tanh":
            t = self._t
            inner_slope = _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * z * z)
            return grad_output * (0.5 * (1.0 + t) + 0.5 * z * (1.0 - t * t) * inner_slope)
        pdf = np.exp(-0.5 * z * z) * (1.0 / math.sqrt(2.0 * math.pi))
        return grad_output * (self._cdf + z * pdf)

    def extra_repr(self):
        return f"approximate='{self.approximate}'"
