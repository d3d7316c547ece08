"""``LayerNorm``: normalise each example's features to mean 0 and variance 1, then scale and shift
(torch keeps it in ``torch/nn/modules/normalization.py``).

For one vector x of D features (the last ``len(normalized_shape)`` axes of the input)::

    mu    = mean(x)                       one number per vector
    var   = mean((x - mu)^2)              the *biased* variance, as in torch
    x_hat = (x - mu) / sqrt(var + eps)    mean 0, variance 1
    y     = weight * x_hat + bias         weight (gamma) and bias (beta) have shape normalized_shape

Unlike batch normalisation nothing is shared between examples (or between positions of a
sequence), so training and evaluation compute the same thing and a batch of one works.
"""

import numbers

import numpy as np

from .. import validation
from ..errors import ConfigError, DTypeError, ShapeError
from .module import Module, check_float_array
from .parameter import Parameter

__all__ = ["LayerNorm"]


def _normalized_shape(normalized_shape, who):
    """``normalized_shape`` (an int or a tuple of ints, the trailing sizes normalised) as a tuple of ints >= 1."""
    if isinstance(normalized_shape, numbers.Integral) and not isinstance(normalized_shape, bool):
        normalized_shape = (normalized_shape,)
    try:
        if isinstance(normalized_shape, str) or not all(
                isinstance(n, numbers.Integral) and not isinstance(n, bool) for n in normalized_shape):
            raise TypeError
        shape = tuple(int(n) for n in normalized_shape)
    except TypeError:
        raise ConfigError(f"{who}: normalized_shape must be an int or a tuple of ints, "
                          f"got {normalized_shape!r}") from None
    if not shape or any(n < 1 for n in shape):
        raise ConfigError(f"{who}: normalized_shape must be positive sizes, got {normalized_shape!r}")
    return shape


class LayerNorm(Module):
    """Layer normalisation over the last ``len(normalized_shape)`` axes, with torch's arguments.

    ``normalized_shape`` is an int (the number of features D) or a tuple; ``weight`` starts at ones
    and ``bias`` at zeros, both of shape ``normalized_shape`` (absent if ``elementwise_affine=False``).
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, *, dtype=np.float32):
        super().__init__()
        shape = _normalized_shape(normalized_shape, "LayerNorm")
        if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not 0 < eps < float("inf"):
            raise ConfigError(f"LayerNorm: eps must be a small finite number > 0 (e.g. 1e-5), got {eps!r}")
        dtype = validation.float_dtype(dtype, "LayerNorm")
        self.normalized_shape = shape
        self.eps = float(eps)
        self.elementwise_affine = validation.boolean(elementwise_affine, "elementwise_affine", "LayerNorm")
        self.dtype = dtype
        if self.elementwise_affine:
            self.weight = Parameter(np.ones(shape, dtype=dtype))    # gamma
            self.bias = Parameter(np.zeros(shape, dtype=dtype))     # beta
        else:
            self.weight = self.bias = None
        self._cache = None  # (x_hat, rstd) of the last forward pass

    @property
    def _axes(self):
        """The normalised axes, counted from the end: (-1,) for a vector of features."""
        return tuple(range(-len(self.normalized_shape), 0))

    def get_config(self):
        return {"normalized_shape": list(self.normalized_shape), "eps": self.eps,
                "elementwise_affine": self.elementwise_affine, "dtype": self.dtype.name}

    def forward(self, x):
        x = self._check_input(x)
        axes = self._axes
        mu = x.mean(axis=axes, keepdims=True)                   # (..., 1)
        centred = x - mu                                        # (..., D)
        var = (centred * centred).mean(axis=axes, keepdims=True)
        rstd = 1.0 / np.sqrt(var + self.eps)                    # (..., 1): reciprocal std
        x_hat = centred * rstd                                  # (..., D)
        self._cache = (x_hat, rstd)
        if not self.elementwise_affine:
            return x_hat.copy()     # x_hat is backward's cache: editing the output must not change it
        return x_hat * self.weight.data + self.bias.data

    def backward(self, grad_output):
        """d loss / d x, and the gradients of weight and bias.

        With g = d loss / d x_hat = grad_output * weight, the mean and the variance depend on every
        x_i, which gives the three terms::

            dx = rstd * (g - mean(g) - x_hat * mean(g * x_hat))

        (the mean removes the part of g that only shifts all features, the last term the part that
        only scales them: LayerNorm's output cannot change under either).
        """
        self._require_forward(self._cache)
        x_hat, rstd = self._cache
        self._check_grad_output(grad_output, x_hat.shape, x_hat.dtype)
        axes = self._axes
        batch_axes = tuple(range(x_hat.ndim - len(self.normalized_shape)))
        if self.elementwise_affine:
            if self.weight.requires_grad:
                self.weight.accumulate_grad((grad_output * x_hat).sum(axis=batch_axes))
            if self.bias.requires_grad:
                self.bias.accumulate_grad(grad_output.sum(axis=batch_axes))
            g = grad_output * self.weight.data
        else:
            g = grad_output
        mean_g = g.mean(axis=axes, keepdims=True)
        mean_gx = (g * x_hat).mean(axis=axes, keepdims=True)
        return rstd * (g - mean_g - x_hat * mean_gx)

    def _check_input(self, x):
        x = check_float_array(x, self._label())
        k = len(self.normalized_shape)
        if x.ndim <= k - 1 or x.shape[x.ndim - k:] != self.normalized_shape:
            raise ShapeError(
                f"{self._label()} normalises the last axes of shape {self.normalized_shape}, but got input "
                f"of shape {x.shape}: the input must end with {self.normalized_shape} "
                f"(build LayerNorm({x.shape[-1] if x.ndim else '?'}) for inputs with that many features)"
            )
        if self.elementwise_affine and x.dtype != self.dtype:   # without weights, any float dtype works
            raise DTypeError(
                f"{self._label()} has {self.dtype} weights but got {x.dtype} input: convert the input "
                f"with x.astype(np.{self.dtype}), or call .to(np.{x.dtype}) on the layer"
            )
        return validation.finite(x, self._label())

    def _label(self):
        return f"LayerNorm({', '.join(map(str, self.normalized_shape))})"

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


# --- twin in torch and saving (nncourse.numpy_nn.registry) ------------------------------------------------
from ..errors import ConversionError  # noqa: E402
from .registry import copy_into, numpy_dtype_of, register_twin, saveable, to_numpy, torch_dtype_of  # noqa: E402


def _layer_norm_from_torch(layer, where, rng):
    if layer.elementwise_affine and layer.bias is None:
        raise ConversionError(f"from_torch cannot translate {where} = {layer!r}: the NumPy LayerNorm has a bias "
                              f"whenever it has a weight (torch's bias=False is not supported); build the torch "
                              f"layer with bias=True (the default), or elementwise_affine=False")
    dtype = numpy_dtype_of(layer, where)      # float32 without weights: then any float input is accepted
    twin = LayerNorm(tuple(layer.normalized_shape), eps=layer.eps, elementwise_affine=layer.elementwise_affine,
                     dtype=dtype)
    if layer.elementwise_affine:
        twin.weight.data = to_numpy(layer.weight, dtype)
        twin.bias.data = to_numpy(layer.bias, dtype)
    return twin


def _layer_norm_to_torch(layer, where):
    import torch

    twin = torch.nn.LayerNorm(layer.normalized_shape, eps=layer.eps, elementwise_affine=layer.elementwise_affine,
                              dtype=torch_dtype_of(layer))
    if layer.elementwise_affine:
        copy_into(twin.weight, layer.weight.data)
        copy_into(twin.bias, layer.bias.data)
    return twin


register_twin(LayerNorm, "torch.nn.LayerNorm", from_torch=_layer_norm_from_torch, to_torch=_layer_norm_to_torch)
saveable(LayerNorm)


# ============================================================================ ch16: RMSNorm
# torch keeps RMSNorm in torch/nn/modules/normalization.py (torch >= 2.4), so it lives here too.
__all__ += ["RMSNorm"]


class RMSNorm(Module):
    """Root-mean-square normalisation (Zhang & Sennrich, 2019), with ``torch.nn.RMSNorm``'s arguments.

    For one vector x of D features (the last ``len(normalized_shape)`` axes)::

        rms   = sqrt(mean(x^2) + eps)         one number per vector
        x_hat = x / rms                       no centring: the mean is not subtracted
        y     = weight * x_hat                weight (gamma) starts at ones; there is no bias

    LayerNorm without the mean and without the bias: one reduction instead of two, and the same effect
    in practice (the scale of the residual stream is what needs controlling). ``eps=None`` means
    ``numpy.finfo(dtype).eps``, as in torch; Llama models pass ``eps=1e-5`` or ``1e-6``.
    """

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, *, dtype=np.float32):
        super().__init__()
        shape = _normalized_shape(normalized_shape, "RMSNorm")
        if int(np.prod(shape, dtype=object)) > 2**31:
            raise ConfigError(f"RMSNorm: normalized_shape={normalized_shape!r} is too large (more than 2**31 "
                              f"weights); pass the number of features of one vector, e.g. d_model")
        if eps is not None and (isinstance(eps, bool) or not isinstance(eps, numbers.Real)
                                or not 0 < eps < float("inf")):
            raise ConfigError(f"RMSNorm: eps must be None (the dtype's machine epsilon, as in torch) or a small "
                              f"number > 0 such as 1e-5, got {eps!r}")
        dtype = validation.float_dtype(dtype, "RMSNorm")
        self.normalized_shape = shape
        self.eps = None if eps is None else float(eps)
        self.elementwise_affine = validation.boolean(elementwise_affine, "elementwise_affine", "RMSNorm")
        self.dtype = dtype
        self.weight = Parameter(np.ones(shape, dtype=dtype)) if self.elementwise_affine else None   # gamma
        self._cache = None  # (x_hat, rstd) of the last forward pass

    @property
    def _axes(self):
        return tuple(range(-len(self.normalized_shape), 0))

    def get_config(self):
        return {"normalized_shape": list(self.normalized_shape), "eps": self.eps,
                "elementwise_affine": self.elementwise_affine, "dtype": self.dtype.name}

    def forward(self, x):
        x = self._check_input(x)
        eps = np.finfo(x.dtype).eps if self.eps is None else self.eps
        ms = (x * x).mean(axis=self._axes, keepdims=True)       # (..., 1): mean of the squares
        rstd = 1.0 / np.sqrt(ms + x.dtype.type(eps))            # (..., 1): 1 / rms
        x_hat = x * rstd                                        # (..., D)
        self._cache = (x_hat, rstd)
        if not self.elementwise_affine:
            return x_hat.copy()     # x_hat is backward's cache: editing the output must not change it
        return x_hat * self.weight.data

    def backward(self, grad_output):
        """d loss / d x, and the gradient of weight.

        With g = d loss / d x_hat = grad_output * weight, and x_hat = x · rstd where rstd depends on
        every x_i (d rstd / d x_i = -rstd³ x_i / D)::

            dx = rstd * (g - x_hat * mean(g * x_hat))

        LayerNorm's formula without the ``- mean(g)`` term, because nothing was centred.
        """
        self._require_forward(self._cache)
        x_hat, rstd = self._cache
        self._check_grad_output(grad_output, x_hat.shape, x_hat.dtype)
        validation.finite(grad_output, self._label(), argument="grad_output")
        if self.elementwise_affine:
            if self.weight.requires_grad:
                batch_axes = tuple(range(x_hat.ndim - len(self.normalized_shape)))
                self.weight.accumulate_grad((grad_output * x_hat).sum(axis=batch_axes))
            g = grad_output * self.weight.data
        else:
            g = grad_output
        mean_gx = (g * x_hat).mean(axis=self._axes, keepdims=True)     # (..., 1)
        return rstd * (g - x_hat * mean_gx)

    def _check_input(self, x):
        x = check_float_array(x, self._label())
        k = len(self.normalized_shape)
        if x.ndim <= k - 1 or x.shape[x.ndim - k:] != self.normalized_shape:
            raise ShapeError(
                f"{self._label()} normalises the last axes of shape {self.normalized_shape}, but got input "
                f"of shape {x.shape}: the input must end with {self.normalized_shape} "
                f"(build RMSNorm({x.shape[-1] if x.ndim else '?'}) for inputs with that many features)")
        if x.size == 0:
            raise ShapeError(f"{self._label()} got an empty input of shape {x.shape}: pass at least one vector")
        if self.elementwise_affine and x.dtype != self.dtype:
            raise DTypeError(
                f"{self._label()} has {self.dtype} weights but got {x.dtype} input: convert the input "
                f"with x.astype(np.{self.dtype}), or call .to(np.{x.dtype}) on the layer")
        return validation.finite(x, self._label())

    def _label(self):
        return f"RMSNorm({', '.join(map(str, self.normalized_shape))})"

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


def _rms_norm_from_torch(layer, where, rng):
    dtype = numpy_dtype_of(layer, where)
    twin = RMSNorm(tuple(layer.normalized_shape), eps=layer.eps, elementwise_affine=layer.elementwise_affine,
                   dtype=dtype)
    if layer.elementwise_affine:
        twin.weight.data = to_numpy(layer.weight, dtype)
    return twin


def _rms_norm_to_torch(layer, where):
    import torch

    twin = torch.nn.RMSNorm(layer.normalized_shape, eps=layer.eps, elementwise_affine=layer.elementwise_affine,
                            dtype=torch_dtype_of(layer))
    if layer.elementwise_affine:
        copy_into(twin.weight, layer.weight.data)
    return twin


register_twin(RMSNorm, "torch.nn.RMSNorm", from_torch=_rms_norm_from_torch, to_torch=_rms_norm_to_torch)
saveable(RMSNorm)
