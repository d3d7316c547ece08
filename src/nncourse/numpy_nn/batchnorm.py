"""``BatchNorm1d`` and ``BatchNorm2d``: normalise each channel over the batch (torch keeps them in
``torch/nn/modules/batchnorm.py``).

For one channel c, the ``m`` numbers that share it in a batch (``m = N`` for ``(N, C)`` input,
``N*L`` for ``(N, C, L)``, ``N*H*W`` for images) are normalised together::

    mu    = mean(x)                          over the batch (and positions), one number per channel
    var   = mean((x - mu)^2)                 the *biased* variance (divide by m)
    x_hat = (x - mu) / sqrt(var + eps)       mean 0, variance 1 in every channel
    y     = weight * x_hat + bias            weight (gamma) and bias (beta): one number per channel

That is the training mode. The output of one example then depends on the other examples of its
batch, so a trained network cannot use batch statistics to classify one image. During training the
layer therefore keeps running estimates of each channel's mean and variance, exactly as torch does::

    running_mean = (1 - momentum) * running_mean + momentum * mu
    running_var  = (1 - momentum) * running_var  + momentum * var * m / (m - 1)   # unbiased here

(``momentum=None``: a plain average of all batches so far, ``momentum = 1 / num_batches_tracked``).
In evaluation mode (``model.eval()``) the layer normalises with these fixed estimates instead: the
output of an example no longer depends on its batch. Forgetting ``model.eval()`` before testing is
the classic batch-norm bug (chapter 12 runs it).
"""

import numpy as np

from ..errors import DTypeError, NonFiniteError, ShapeError
from .. import validation
from .module import Module, check_float_array
from .parameter import Parameter
from .registry import load_numpy_state, numpy_dtype_of, saveable, to_numpy, torch_dtype_of, twin_of

__all__ = ["BatchNorm1d", "BatchNorm2d"]


class _BatchNorm(Module):
    """What BatchNorm1d and BatchNorm2d share; they differ only in the input shapes they accept."""

    #: the numbers of dimensions accepted, and how to describe them in an error
    _ndims = ()
    _layout = ""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, *,
                 dtype=np.float32):
        super().__init__()
        who = type(self).__name__
        self.num_features = validation.positive_int(num_features, "num_features", who)
        self.eps = validation.positive_float(eps, "eps", who)
        if momentum is not None:
            momentum = validation.probability(momentum, "momentum", who, allow_one=True)
        self.momentum = momentum
        self.affine = validation.boolean(affine, "affine", who)
        self.track_running_stats = validation.boolean(track_running_stats, "track_running_stats", who)
        self.dtype = validation.float_dtype(dtype, who)
        c = self.num_features
        if self.affine:
            self.weight = Parameter(np.ones(c, dtype=self.dtype))    # gamma
            self.bias = Parameter(np.zeros(c, dtype=self.dtype))     # beta
        else:
            self.weight = self.bias = None
        if self.track_running_stats:
            self.register_buffer("running_mean", np.zeros(c, dtype=self.dtype))
            self.register_buffer("running_var", np.ones(c, dtype=self.dtype))
            self.register_buffer("num_batches_tracked", np.zeros((), dtype=np.int64))
        self._cache = None   # (x_hat, rstd, used_batch_statistics) of the last forward pass

    def get_config(self):
        return {"num_features": self.num_features, "eps": self.eps, "momentum": self.momentum,
                "affine": self.affine, "track_running_stats": self.track_running_stats,
                "dtype": np.dtype(self.dtype).name}

    def reset_running_stats(self):
        """Back to the state of a new layer: mean 0, variance 1, no batch seen."""
        if self.track_running_stats:
            self.running_mean = np.zeros(self.num_features, dtype=self.dtype)
            self.running_var = np.ones(self.num_features, dtype=self.dtype)
            self.num_batches_tracked = np.zeros((), dtype=np.int64)

    # ------------------------------------------------------------------ forward and backward
    def _reduce_axes(self, x):
        """Every axis but the channel axis 1: (0,) for (N, C), (0, 2) for (N, C, L), (0, 2, 3) for images."""
        return (0, *range(2, x.ndim))

    def _channel_shape(self, x):
        """(1, C, 1, ...) so that one number per channel broadcasts over the batch and positions."""
        return (1, self.num_features) + (1,) * (x.ndim - 2)

    def forward(self, x):
        x = self._check_input(x)
        axes, shape = self._reduce_axes(x), self._channel_shape(x)
        use_batch_statistics = self.training or not self.track_running_stats
        if use_batch_statistics:
            m = x.size // self.num_features                       # numbers per channel
            if m == 1:
                raise ShapeError(self._single_value_message(x.shape))
            with np.errstate(over="ignore", invalid="ignore"):     # an overflow is reported just below
                mu = x.mean(axis=axes)                             # (C,)
                centred = x - mu.reshape(shape)
                var = (centred * centred).mean(axis=axes)           # (C,), biased: divide by m
            if not (np.isfinite(mu).all() and np.isfinite(var).all()):   # 2C numbers: cheap
                raise NonFiniteError(self._overflow_message(mu, var))
            if self.training and self.track_running_stats:
                self._update_running_stats(mu, var, m)
        else:                                                      # evaluation: fixed estimates
            mu, var = self.running_mean, self.running_var
            centred = x - mu.reshape(shape)
        rstd = (1.0 / np.sqrt(var + self.eps)).astype(self.dtype)   # (C,): reciprocal std
        x_hat = centred * rstd.reshape(shape)
        self._cache = (x_hat, rstd, use_batch_statistics)
        if not self.affine:
            return x_hat
        return x_hat * self.weight.data.reshape(shape) + self.bias.data.reshape(shape)

    def _update_running_stats(self, mu, var, m):
        """torch's update: an exponential moving average of mu and of the *unbiased* variance."""
        self.num_batches_tracked = np.array(self.num_batches_tracked + 1)   # a 0-d int64 array, as torch's
        factor = 1.0 / int(self.num_batches_tracked) if self.momentum is None else self.momentum
        unbiased = var * (m / (m - 1))                              # Bessel's correction
        self.running_mean = ((1 - factor) * self.running_mean + factor * mu).astype(self.dtype)
        self.running_var = ((1 - factor) * self.running_var + factor * unbiased).astype(self.dtype)

    def backward(self, grad_output):
        """d loss / d x, and the gradients of weight and bias.

        With ``g = d loss / d x_hat = grad_output * weight`` and means taken per channel over the
        ``m`` numbers of the batch, the chain rule through ``x_hat = (x - mu) * rstd`` gives::

            d x_hat / d x_j contributes  g_j * rstd                       (the direct path)
            through mu:                 -rstd * mean(g)                   (mu moves with every x_j)
            through var:                -rstd * x_hat_j * mean(g * x_hat) (d var / d x_j = 2 (x_j - mu) / m)

            dx = rstd * (g - mean(g) - x_hat * mean(g * x_hat))

        The output cannot change when a channel's inputs are all shifted or all scaled, and the two
        subtracted terms remove exactly those parts of g. In evaluation mode mu and var are
        constants and ``dx = g * rstd``. d weight = sum(grad_output * x_hat), d bias = sum(grad_output),
        summed over the batch and the positions.
        """
        self._require_forward(self._cache)
        x_hat, rstd, used_batch_statistics = self._cache
        self._check_grad_output(grad_output, x_hat.shape, x_hat.dtype)
        axes, shape = self._reduce_axes(x_hat), self._channel_shape(x_hat)
        if self.affine:
            self.weight.accumulate_grad((grad_output * x_hat).sum(axis=axes))     # (C,)
            self.bias.accumulate_grad(grad_output.sum(axis=axes))                 # (C,)
            g = grad_output * self.weight.data.reshape(shape)
        else:
            g = grad_output
        if not used_batch_statistics:
            return g * rstd.reshape(shape)
        mean_g = g.mean(axis=axes).reshape(shape)
        mean_gx = (g * x_hat).mean(axis=axes).reshape(shape)
        return rstd.reshape(shape) * (g - mean_g - x_hat * mean_gx)

    def _single_value_message(self, shape):
        if self.training:
            return (f"{self._label()} in training mode got one value per channel (input of shape {shape}): "
                    f"the variance of a single number is 0, so there is nothing to normalise with. Use a "
                    f"batch of at least 2, or call model.eval() to use the running statistics")
        return (f"{self._label()} has track_running_stats=False, so even in evaluation mode it normalises with "
                f"the batch's own statistics, and input of shape {shape} has one value per channel (variance 0, "
                f"every output would equal the bias). Pass a batch of at least 2, or build the layer with "
                f"track_running_stats=True and train it so that eval() has running statistics to use")

    def _overflow_message(self, mu, var):
        bad = np.flatnonzero(~(np.isfinite(mu) & np.isfinite(var)))
        kept = " (running statistics unchanged)" if self.training and self.track_running_stats else ""
        return (f"{self._label()}: the batch statistics of channel(s) {bad[:5].tolist()} overflow {self.dtype} "
                f"(mean {mu[bad[0]]}, variance {var[bad[0]]}): the inputs are too large to square in "
                f"{self.dtype}{kept}. Scale or standardise the input (or find where such values come from), or "
                f"build the model with dtype=np.float64")

    def _check_loaded_buffer(self, attribute, value, where):
        """Running statistics must be finite (and the variance >= 0): NaN ones would poison every output."""
        if attribute in ("running_mean", "running_var"):
            if not np.isfinite(value).all():
                raise NonFiniteError(f"{where} holds NaN or infinite running statistics, which would turn every "
                                     f"output in evaluation mode into NaN; load the state of a run that had not "
                                     f"diverged, or call reset_running_stats() and train again")
            if attribute == "running_var" and (value < 0).any():
                raise NonFiniteError(f"{where} holds negative variances ({value.min()}); a variance is >= 0: "
                                     f"load the state saved by the layer itself, or call reset_running_stats()")

    # ------------------------------------------------------------------ input checks
    def _check_input(self, x):
        x = check_float_array(x, self._label())
        if x.ndim not in self._ndims:
            raise ShapeError(self._ndim_message(x.shape))
        if x.shape[1] != self.num_features:
            raise ShapeError(
                f"{self._label()} expects {self.num_features} channels on axis 1 but got input of shape "
                f"{x.shape} ({x.shape[1]} channels): build it with num_features={x.shape[1]}, or check the "
                f"previous layer's output size (out_channels / out_features)"
            )
        if x.shape[0] == 0:
            raise ShapeError(f"{self._label()} got an empty batch (input of shape {x.shape}): "
                             f"pass at least one example")
        if x.dtype != self.dtype:
            raise DTypeError(
                f"{self._label()} has {self.dtype} weights but got {x.dtype} input: convert the input "
                f"with x.astype(np.{self.dtype}), or call .to(np.{x.dtype}) on the layer"
            )
        validation.finite(x, self._label())
        return x

    def _ndim_message(self, shape):
        return (f"{self._label()} expects input of shape {self._layout}, got {shape} ({len(shape)}-D): "
                f"{self._ndim_hint(shape)}")

    def _ndim_hint(self, shape):
        return "reshape the input"

    def _label(self):
        return f"{type(self).__name__}({self.num_features})"

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


def _from_torch(layer, where, rng):
    """A torch BatchNorm1d/2d -> its NumPy twin, parameters and running statistics copied."""
    if layer.affine:
        dtype = numpy_dtype_of(layer, where)
    elif layer.track_running_stats:
        dtype = to_numpy(layer.running_mean, None).dtype.type
    else:
        dtype = np.float32   # nothing in the layer carries a dtype
    cls = BatchNorm2d if type(layer).__name__ == "BatchNorm2d" else BatchNorm1d
    twin = cls(layer.num_features, eps=layer.eps, momentum=layer.momentum, affine=layer.affine,
               track_running_stats=layer.track_running_stats, dtype=dtype)
    own = twin.state_dict()
    twin.load_state_dict({name: to_numpy(tensor, own[name].dtype) for name, tensor in layer.state_dict().items()})
    twin.train(layer.training)
    return twin


def _to_torch(layer, where):
    """A NumPy BatchNorm1d/2d -> torch's, parameters and running statistics copied."""
    import torch

    cls = getattr(torch.nn, type(layer).__name__)
    twin = cls(layer.num_features, eps=layer.eps, momentum=layer.momentum, affine=layer.affine,
               track_running_stats=layer.track_running_stats, dtype=torch_dtype_of(layer))
    load_numpy_state(twin, layer)
    twin.train(layer.training)
    return twin


@saveable
@twin_of("torch.nn.BatchNorm1d", from_torch=_from_torch, to_torch=_to_torch)
class BatchNorm1d(_BatchNorm):
    """Batch normalisation of ``(N, C)`` features or ``(N, C, L)`` sequences, with torch's arguments.

    ``weight`` starts at ones and ``bias`` at zeros (shape ``(C,)``, absent if ``affine=False``);
    buffers ``running_mean`` (zeros), ``running_var`` (ones) and ``num_batches_tracked`` (absent if
    ``track_running_stats=False``, and then evaluation mode uses the batch statistics too).
    """

    _ndims = (2, 3)
    _layout = "(batch, num_features) or (batch, num_features, length)"
    get_config = _BatchNorm.get_config   # @saveable looks for it on the class itself

    def _ndim_hint(self, shape):
        if len(shape) == 4:
            return "images (N, C, H, W) go through BatchNorm2d"
        if len(shape) == 1:
            return "a single example needs a batch dimension, but training mode needs at least 2 examples"
        return "flatten the extra axes first"


@saveable
@twin_of("torch.nn.BatchNorm2d", from_torch=_from_torch, to_torch=_to_torch)
class BatchNorm2d(_BatchNorm):
    """Batch normalisation of images ``(N, C, H, W)``: one mean and variance per channel, over the
    batch and all pixels. Arguments, parameters and buffers as ``BatchNorm1d``."""

    _ndims = (4,)
    _layout = "(batch, num_features, height, width)"
    get_config = _BatchNorm.get_config   # @saveable looks for it on the class itself

    def _ndim_hint(self, shape):
        if len(shape) in (2, 3):
            return "features (N, C) or sequences (N, C, L) go through BatchNorm1d"
        return "reshape the input to 4-D (batch, channels, height, width)"
