"""``Conv2d``: a 2-D convolution (torch keeps it in ``torch/nn/modules/conv.py``), plus ``im2col`` / ``col2im``.

Shapes use ``N`` (batch), ``C`` (in_channels), ``O`` (out_channels), ``H, W`` (input height and
width), ``kh, kw`` (kernel), ``Ho, Wo`` (output), ``K = C*kh*kw`` (numbers under one window) and
``P = Ho*Wo`` (output positions). Images are NCHW, as in torch.

Like torch (and every deep-learning library), ``Conv2d`` computes a *cross-correlation*: the kernel
slides over the image without being flipped::

    out[n, o, y, x] = bias[o] + sum_{c, i, j} weight[o, c, i, j] * xpad[n, c, y*s + i, x*s + j]

How it is computed (vectorised, no loop over pixels):

* im2col: for each of the ``kh*kw`` kernel offsets ``(i, j)``, one strided slice of the input is
  copied into a buffer of shape ``(C, kh, kw, Ho, Wo, N)``, i.e. a matrix ``cols (K, P*N)`` whose
  column ``(p, n)`` holds the ``K`` numbers under the window at output position ``p`` of image ``n``.
  The batch index is innermost in memory, so every slice copy moves long contiguous runs.
  Positions that fall into the zero padding are never written, so the input is never padded in
  memory (no ``np.pad`` copy).
* The convolution is then a matrix product, ``weight (O, K) @ cols (K, P*N)``, whose result
  ``(O, P*N)`` is returned as an ``(N, O, Ho, Wo)`` view of memory ordered ``(O, Ho, Wo, N)``. ReLU,
  BatchNorm and MaxPool2d keep that memory order, so the gradient comes back in it and the next
  convolution reads its input without a transposing copy.
* Backward, two more matrix products: ``d weight = G @ cols.T`` and ``d cols = weight.T @ G`` with
  ``G (O, P*N)`` the upstream gradient; col2im adds the ``kh*kw`` slices of ``d cols`` back where
  they came from (overlapping windows add up).
* **The input gradient is a convolution too.** With stride 1, pixel ``x[c, u, v]`` meets weight
  ``weight[o, c, i, j]`` in output ``out[o, u + p - i, v + p - j]``, so::

      d x[c, u, v] = sum_{o, i, j} weight[o, c, kh-1-i, kw-1-j] * Gpad[o, u + i, v + j]

  a convolution of ``G`` (padded by ``kh-1-p``, ``kw-1-p``) with the kernel turned by 180° and its
  in/out channels swapped. Computed like the forward pass (im2col of ``G``, one matrix product), it
  replaces col2im's ``kh*kw`` read-add-write passes by plain copies. ``Conv2d`` takes this road when
  the stride is 1 and ``G``'s columns are no larger than ``d cols`` (``O*H*W <= C*Ho*Wo``: "same"
  padding with as many outputs as inputs, chapter 12's ResNet), and col2im otherwise (strides, or a
  layer that shrinks its input such as LeNet's 5 × 5 without padding).
* **In bands of output rows.** ``cols`` is ``kh*kw`` times larger than the input (14 MB for a batch of
  64 images of 8 × 28 × 28 under a 3 × 3 kernel): written to memory, read back by the product, written
  again as ``d cols`` and read back by col2im, the array is mostly waiting for memory. Since the
  column ``(p, n)`` is ordered by output row first, the columns of a few output rows are one
  contiguous range of ``cols``. Conv2d therefore handles ``band`` output rows at a time: their columns
  (about 1 MB) are built, multiplied and, in backward, rebuilt from the stored input, multiplied
  twice and added back, while they are still in the CPU's cache. The matrix products are the same
  sums split into column ranges, so the result is the same up to rounding order.
  ``benchmarks/bench_conv.py`` measures it.

The public ``im2col`` / ``col2im`` use the same code and present the columns in torch's ``unfold``
layout ``(N, K, P)``.
"""

import math
import numbers

import numpy as np

from .. import validation
from ..errors import ConfigError, DTypeError, NonFiniteError, ShapeError
from ..validation import boolean
from ..utils import as_rng
from . import init as initializers
from .module import Module, check_float_array
from .parameter import Parameter

__all__ = ["Conv2d", "conv_output_size", "im2col", "col2im"]


def pair(value, name, who, *, minimum=1):
    """``3 -> (3, 3)``, ``(3, 5) -> (3, 5)``; anything else (or below ``minimum``) -> ``ConfigError``."""
    values = value if isinstance(value, (tuple, list)) else (value, value)
    if len(values) != 2 or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool)
                                   and v >= minimum for v in values):
        raise ConfigError(f"{who}: {name} must be an int >= {minimum} or a pair of them, got {value!r}")
    return int(values[0]), int(values[1])


def conv_output_size(size, kernel_size, stride=1, padding=0):
    """``floor((size + 2*padding - kernel_size) / stride) + 1``: the output length along one axis.

    Each argument is checked: whole numbers, ``size``, ``kernel_size`` and ``stride`` >= 1 (a stride
    of 0 never moves the window), ``padding`` >= 0, and a kernel that fits in the padded input.
    """
    who = "conv_output_size"
    size = validation.positive_int(size, "size", who)
    kernel_size = validation.positive_int(kernel_size, "kernel_size", who)
    stride = validation.positive_int(stride, "stride (1 moves the window one pixel at a time)", who)
    padding = validation.non_negative_int(padding, "padding", who)
    _check_kernel_fits(size, kernel_size, padding, who)
    return (size + 2 * padding - kernel_size) // stride + 1


def _check_kernel_fits(size, kernel_size, padding, who, *, shape=None):
    """A window must fit inside the padded input, or there is no output position at all."""
    if size + 2 * padding < kernel_size:
        where = f" (input of shape {shape})" if shape is not None else ""
        raise ShapeError(
            f"{who}: the kernel ({kernel_size}) is larger than the padded input ({size} + 2·{padding} = "
            f"{size + 2 * padding}){where}, so no window fits: use a smaller kernel_size, more padding, "
            f"or a larger input"
        )


def _check_images(x, who, kernel_size, padding):
    """``x`` must be a finite 4-D float array (N, C, H, W) in which the kernel fits."""
    x = check_float_array(x, who)
    if x.ndim != 4:
        raise ShapeError(f"{who} expects images of shape (batch, channels, height, width), got input of shape "
                         f"{x.shape}: reshape to 4-D (a single image: x[None]; grayscale: x[:, None])")
    if 0 in x.shape:
        raise ShapeError(f"{who} got an empty input of shape {x.shape}: every axis needs at least one entry")
    for axis in (0, 1):
        _check_kernel_fits(x.shape[2 + axis], kernel_size[axis], padding[axis], who, shape=x.shape)
    return validation.finite(x, who)


def _offset_slices(size, out_size, offset, stride, padding, out_start=0):
    """For kernel offset ``offset`` along one axis: ``(output slice, input slice)`` of the output
    positions ``out_start <= y < out_size`` whose input index ``y*stride + offset - padding`` lies
    inside the image (the rest is padding). The output slice counts from ``out_start``."""
    shift = offset - padding                             # input index of output position 0
    first = max(out_start, -(shift // stride))          # first y with y*stride + shift >= 0
    last = min(out_size, (size - 1 - shift) // stride + 1)   # one past the last valid output index
    if last <= first:
        return None
    start = first * stride + shift
    return (slice(first - out_start, last - out_start),
            slice(start, start + (last - first - 1) * stride + 1, stride))


def _plan(in_hw, out_hw, kernel_size, stride, padding, rows=None):
    """The pairs ``((i, j), out_rows, out_cols, in_rows, in_cols)`` im2col and col2im use, one per kernel
    offset that reaches the image. ``rows = (y0, y1)`` restricts the plan to output rows y0..y1-1
    (a band; its output slices then count from y0)."""
    y0, y1 = (0, out_hw[0]) if rows is None else rows
    plan = []
    for i in range(kernel_size[0]):
        rows = _offset_slices(in_hw[0], y1, i, stride[0], padding[0], out_start=y0)
        for j in range(kernel_size[1]):
            cols = _offset_slices(in_hw[1], out_hw[1], j, stride[1], padding[1])
            if rows is not None and cols is not None:
                plan.append(((i, j), rows[0], cols[0], rows[1], cols[1]))
    return plan


def _output_hw(in_hw, kernel_size, stride, padding):
    return tuple(conv_output_size(in_hw[a], kernel_size[a], stride[a], padding[a]) for a in (0, 1))


def channels_last_batch(x):
    """``x (N, C, H, W)`` as a C-contiguous ``(C, H, W, N)`` array: the batch index innermost.

    No copy when ``x`` already lives in that memory order (the outputs of ``Conv2d``, ``ReLU`` and
    ``MaxPool2d`` inside a network do); otherwise one copy.
    """
    return np.ascontiguousarray(x.transpose(1, 2, 3, 0))


def _fill_columns(x_chwn, columns, kernel_size, stride, padding, rows=None, out_height=None):
    """Copy the windows of ``x_chwn (C, H, W, N)`` into ``columns (C, kh, kw, B, Wo, N)``, one strided
    slice per kernel offset ``(i, j)``; entries that fall into the padding are not touched (leave
    them 0). With the batch innermost, each slice copies runs of ``Wo*N`` contiguous numbers.
    ``rows = (y0, y1)``: only the band of output rows y0..y1-1 (``B = y1 - y0``; ``out_height`` is
    the whole output's Ho); by default all of them (``B = Ho``)."""
    c, h, w, n = x_chwn.shape
    out_hw = (out_height or columns.shape[3], columns.shape[4])
    for (i, j), out_rows, out_cols, in_rows, in_cols in _plan((h, w), out_hw, kernel_size, stride, padding, rows):
        columns[:, i, j, out_rows, out_cols, :] = x_chwn[:, in_rows, in_cols, :]
    return columns


def _add_columns(columns, grad_x_chwn, kernel_size, stride, padding, rows=None, out_height=None):
    """The adjoint of ``_fill_columns``: add ``columns (C, kh, kw, B, Wo, N)`` back onto the pixels
    they were copied from, in ``grad_x_chwn (C, H, W, N)``."""
    c, h, w, n = grad_x_chwn.shape
    out_hw = (out_height or columns.shape[3], columns.shape[4])
    for (i, j), out_rows, out_cols, in_rows, in_cols in _plan((h, w), out_hw, kernel_size, stride, padding, rows):
        grad_x_chwn[:, in_rows, in_cols, :] += columns[:, i, j, out_rows, out_cols, :]
    return grad_x_chwn


def _zero_padded_buffer(buffer, shape, dtype):
    """``buffer`` if it already has this shape and dtype, else a new array of zeros. im2col writes only
    the entries inside the image, always the same ones for the same shape, so the padding entries of a
    reused buffer stay 0 for good."""
    if buffer is None or buffer.shape != shape or buffer.dtype != dtype:
        buffer = np.zeros(shape, dtype=dtype)
    return buffer


def turned_kernel(weight):
    """``weight (O, C, kh, kw)`` turned by 180° with its channels swapped: ``(C, O, kh, kw)``, C-contiguous.
    The kernel of the convolution that gives a stride-1 layer's input gradient (module docstring)."""
    return np.ascontiguousarray(weight[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))


#: a band's columns take about this many bytes: small enough to stay in a CPU's L2/L3 cache
BAND_BYTES = 1 << 20


def _bands(out_height, row_bytes):
    """Split output rows 0..Ho-1 into bands ``(y0, y1)`` of about ``BAND_BYTES`` of columns each."""
    size = max(1, BAND_BYTES // max(row_bytes, 1))
    return [(y0, min(out_height, y0 + size)) for y0 in range(0, out_height, size)]


def _arguments(kernel_size, stride, padding, who):
    return (pair(kernel_size, "kernel_size", who), pair(stride, "stride", who),
            pair(padding, "padding", who, minimum=0))


def im2col(x, kernel_size, stride=1, padding=0):
    """Unfold ``x (N, C, H, W)`` into ``cols (N, C*kh*kw, Ho*Wo)``: one column per window position.

    ``cols[n, (c, i, j), (y, x)] = xpad[n, c, y*sh + i, x*sw + j]`` (zero where the window covers
    padding), the layout of ``torch.nn.functional.unfold``. The numbers are stored as
    ``(C, kh, kw, Ho, Wo, N)`` and the result is a transposed view of them: that is the layout in
    which ``Conv2d`` multiplies the columns of a whole batch with one matrix product.
    """
    kernel_size, stride, padding = _arguments(kernel_size, stride, padding, "im2col")
    x = _check_images(x, "im2col", kernel_size, padding)
    n, c, h, w = x.shape
    ho, wo = _output_hw((h, w), kernel_size, stride, padding)
    columns = np.zeros((c, *kernel_size, ho, wo, n), dtype=x.dtype)
    _fill_columns(channels_last_batch(x), columns, kernel_size, stride, padding)
    k = c * kernel_size[0] * kernel_size[1]
    return columns.reshape(k, ho * wo, n).transpose(2, 0, 1)       # (N, K, P), a view


def col2im(cols, input_shape, kernel_size, stride=1, padding=0):
    """The adjoint of ``im2col``: add every column entry back onto the input pixel it was copied from.

    ``cols (N, C*kh*kw, Ho*Wo) -> (N, C, H, W)``. One slice-add per kernel offset (``kh*kw`` of them),
    never a loop over pixels; where windows overlap, their contributions add up.
    """
    kernel_size, stride, padding = _arguments(kernel_size, stride, padding, "col2im")
    try:
        n, c, h, w = (validation.positive_int(v, "input_shape", "col2im") for v in input_shape)
    except (TypeError, ValueError):
        raise ShapeError(f"col2im: input_shape must be the 4 sizes (N, C, H, W) of the images im2col "
                         f"unfolded, got {input_shape!r}") from None
    for axis in (0, 1):
        _check_kernel_fits((h, w)[axis], kernel_size[axis], padding[axis], "col2im", shape=(n, c, h, w))
    ho, wo = _output_hw((h, w), kernel_size, stride, padding)
    cols = check_float_array(cols, "col2im", argument="cols")
    expected = (n, c * kernel_size[0] * kernel_size[1], ho * wo)
    if cols.shape != expected:
        raise ShapeError(f"col2im: for input_shape {(n, c, h, w)} with kernel_size {kernel_size}, stride "
                         f"{stride} and padding {padding}, cols must have shape {expected} (N, C·kh·kw, Ho·Wo) "
                         f"as im2col returns it, got {cols.shape}: pass the same sizes to both")
    columns = cols.transpose(1, 2, 0).reshape(c, *kernel_size, ho, wo, n)
    grad_x = np.zeros((c, h, w, n), dtype=columns.dtype)
    _add_columns(columns, grad_x, kernel_size, stride, padding)
    return grad_x.transpose(3, 0, 1, 2)                              # (N, C, H, W), a view


class Conv2d(Module):
    """A 2-D convolution over NCHW images: ``out = weight ⋆ x + bias``, as ``torch.nn.Conv2d``.

    ``weight`` has shape ``(out_channels, in_channels, kh, kw)`` and ``bias`` ``(out_channels,)``.
    ``kernel_size``, ``stride`` and ``padding`` take an int or a pair ``(height, width)``. The default
    initialisation is torch's: weight and bias from U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with
    ``fan_in = in_channels * kh * kw``. Other ``init`` names (``numpy_nn.init``) see the weight as
    a matrix ``(out_channels, in_channels*kh*kw)``, so ``"he"`` matches torch's Kaiming normal.
    """

    # the first layer of a network can skip d loss / d input (see Sequential.backward)
    can_skip_input_grad = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True, *,
                 init="torch", seed=None, rng=None, dtype=np.float32):
        super().__init__()
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"Conv2d: {name} must be a positive integer, got {value!r}")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = pair(kernel_size, "kernel_size", "Conv2d")
        self.stride = pair(stride, "stride", "Conv2d")
        self.padding = pair(padding, "padding", "Conv2d", minimum=0)
        dtype = validation.float_dtype(dtype, "Conv2d")
        bias = validation.boolean(bias, "bias", "Conv2d")
        self.dtype = dtype
        self.init = init if isinstance(init, str) else getattr(init, "__name__", "custom")

        rng = as_rng(seed, rng)
        matrix_shape = (self.out_channels, self.in_channels * self.kernel_size[0] * self.kernel_size[1])
        weight = initializers.weight(init, matrix_shape, rng, "Conv2d")  # (O, K), fan_in = K as in torch
        self.weight = Parameter(np.asarray(weight, dtype=dtype).reshape(
            self.out_channels, self.in_channels, *self.kernel_size))  # (O, C, kh, kw)
        self.bias = (Parameter(np.asarray(initializers.bias(init, matrix_shape, rng), dtype=dtype))
                     if bias else None)
        self._cols = None          # (K, P*N): the unfolded input of the last forward pass
        self._input_shape = None
        self._buffer = None        # reused zero-padded im2col buffer (its padding entries stay zero)
        self._grad_columns = None  # reused buffer for one band of d cols
        self._grad_buffer = None   # reused zero-padded im2col buffer of G (the input gradient as a convolution)

    def get_config(self):
        return {"in_channels": self.in_channels, "out_channels": self.out_channels,
                "kernel_size": list(self.kernel_size), "stride": list(self.stride), "padding": list(self.padding),
                "bias": self.bias is not None, "dtype": self.dtype.name}

    # ------------------------------------------------------------------ forward and backward
    def forward(self, x):
        x = self._check_input(x)
        n, c, h, w = x.shape
        ho, wo = _output_hw((h, w), self.kernel_size, self.stride, self.padding)
        self._buffer = _zero_padded_buffer(self._buffer, (c, *self.kernel_size, ho, wo, n), x.dtype)
        cols = _fill_columns(channels_last_batch(x), self._buffer, self.kernel_size, self.stride, self.padding)
        self._cols = cols.reshape(-1, ho * wo * n)                # (K, P*N): every window of the batch
        self._input_shape = x.shape
        out = self._weight_matrix() @ self._cols                  # (O, K) @ (K, P*N): ONE matrix product
        if self.bias is not None:
            out += self.bias.data[:, None]                        # (O, 1) broadcast over all positions
        # (O, Ho, Wo, N) in memory, returned as an (N, O, Ho, Wo) view: no copy
        return out.reshape(self.out_channels, ho, wo, n).transpose(3, 0, 1, 2)

    def backward(self, grad_output, *, need_input_grad=True):
        """Given g = d loss / d out (N, O, Ho, Wo), as a matrix G (O, P*N): accumulate
        d weight = G @ cols.T and d bias = the row sums of G; return d loss / d x = col2im(weight.T @ G).

        ``d cols = weight.T @ G`` is as large as ``cols``; it is computed band by band (a range of
        output rows is a range of columns of G), each band added back by col2im while it is still in
        the cache. ``need_input_grad=False`` (the first layer of a network) skips d x and returns None.
        """
        need_input_grad = boolean(need_input_grad, "need_input_grad", "Conv2d.backward")
        self._require_forward(self._cols)
        n, c, h, w = self._input_shape
        ho, wo = _output_hw((h, w), self.kernel_size, self.stride, self.padding)
        self._check_grad_output(grad_output, (n, self.out_channels, ho, wo), self.dtype)
        # (O, P*N); no copy when grad_output has the memory order of this layer's output
        g = channels_last_batch(grad_output).reshape(self.out_channels, ho * wo * n)
        self.weight.accumulate_grad((g @ self._cols.T).reshape(self.weight.shape))    # (O, K)
        if self.bias is not None:
            self.bias.accumulate_grad(g.sum(axis=1))                                  # (O,)
        if not need_input_grad:
            return None
        if self._input_grad_is_a_convolution((h, w), (ho, wo)):
            return self._input_grad_as_convolution(g.reshape(self.out_channels, ho, wo, n), (n, c, h, w))
        weight_t = self._weight_matrix().T                         # (K, O)
        grad_x = np.zeros((c, h, w, n), dtype=g.dtype)             # batch innermost, like the columns
        k = self._cols.shape[0]
        for y0, y1 in _bands(ho, k * wo * n * g.itemsize):
            grad_cols = self._band_buffer((c, *self.kernel_size, y1 - y0, wo, n), g.dtype)
            np.matmul(weight_t, g[:, y0 * wo * n:y1 * wo * n], out=grad_cols.reshape(k, -1))  # (K, B*Wo*N)
            _add_columns(grad_cols, grad_x, self.kernel_size, self.stride, self.padding,
                         rows=(y0, y1), out_height=ho)
        return grad_x.transpose(3, 0, 1, 2)                        # (N, C, H, W), a view

    def _transposed_padding(self):
        """The padding of the input gradient's convolution: ``kernel - 1 - padding`` on each axis."""
        return tuple(k - 1 - p for k, p in zip(self.kernel_size, self.padding))

    def _input_grad_is_a_convolution(self, in_hw, out_hw):
        """Stride 1, padding < kernel, and G's columns (O*H*W per offset) no larger than d cols (C*Ho*Wo)."""
        return (self.stride == (1, 1) and min(self._transposed_padding()) >= 0
                and self.out_channels * in_hw[0] * in_hw[1] <= self.in_channels * out_hw[0] * out_hw[1])

    def _input_grad_as_convolution(self, g_ohwn, input_shape):
        """d x = G ⋆ rot180(weight) with padding ``kernel - 1 - padding`` (module docstring), for stride 1.

        ``g_ohwn`` is G as ``(O, Ho, Wo, N)`` (batch innermost); returns ``(N, C, H, W)``, a view of memory
        ordered ``(C, H, W, N)`` like the input.
        """
        n, c, h, w = input_shape
        self._grad_buffer = _zero_padded_buffer(self._grad_buffer, (self.out_channels, *self.kernel_size, h, w, n),
                                                g_ohwn.dtype)                # im2col of G: (O, kh, kw, H, W, N)
        cols = _fill_columns(g_ohwn, self._grad_buffer, self.kernel_size, (1, 1), self._transposed_padding())
        grad_x = turned_kernel(self.weight.data).reshape(c, -1) @ cols.reshape(-1, h * w * n)   # (C, H*W*N)
        return grad_x.reshape(c, h, w, n).transpose(3, 0, 1, 2)            # (N, C, H, W), a view

    def _band_buffer(self, shape, dtype):
        """A C-contiguous array of ``shape`` in a reused buffer (grown when a larger band needs it)."""
        size = math.prod(shape)
        buffer = self._grad_columns
        if buffer is None or buffer.size < size or buffer.dtype != dtype:
            buffer = self._grad_columns = np.empty(size, dtype=dtype)
        return buffer[:size].reshape(shape)

    def _weight_matrix(self):
        return self.weight.data.reshape(self.out_channels, -1)              # (O, K), a view

    # ------------------------------------------------------------------ input checks
    def _check_input(self, x):
        x = check_float_array(x, self._label())
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ShapeError(self._shape_message(x.shape))
        if x.shape[0] == 0:
            raise ShapeError(f"{self._label()} got an empty batch (input of shape {x.shape}): "
                             f"pass at least one image")
        (kh, kw), (ph, pw) = self.kernel_size, self.padding
        if x.shape[2] + 2 * ph < kh or x.shape[3] + 2 * pw < kw:
            raise ShapeError(
                f"{self._label()}: the {kh}×{kw} kernel is larger than the padded input "
                f"({x.shape[2]}+2·{ph})×({x.shape[3]}+2·{pw}) = {x.shape[2] + 2 * ph}×{x.shape[3] + 2 * pw} "
                f"(input of shape {x.shape}): use a smaller kernel, more padding, or fewer pooling layers before "
                f"this one"
            )
        if x.dtype != self.dtype:
            raise DTypeError(
                f"{self._label()} has {self.dtype} weights but got {x.dtype} input: convert the input "
                f"with x.astype(np.{self.dtype}), or build the layer with dtype=np.{x.dtype}"
            )
        if not np.isfinite(x.sum()) and not np.isfinite(x).all():   # the sum is a cheap first test
            bad = tuple(int(i) for i in np.argwhere(~np.isfinite(x))[0])
            raise NonFiniteError(
                f"{self._label()} got input containing NaN or inf (first at index {bad}). If this is the "
                f"network's input, clean the data; if it comes from an earlier layer, training has "
                f"probably diverged: lower the learning rate"
            )
        return x

    def _shape_message(self, shape):
        c = self.in_channels
        expected = (f"{self._label()} expects images of shape (batch, {c}, height, width) (NCHW), got input of "
                    f"shape {shape}")
        if len(shape) == 4 and shape[3] == c and shape[1] != c:
            return (f"{expected}: the channels seem to be last (NHWC); move them to axis 1 with "
                    f"x.transpose(0, 3, 1, 2)")
        if len(shape) == 4:
            return (f"{expected}: the input has {shape[1]} channels but the layer was built for "
                    f"in_channels={c} (check in_channels, or the previous layer's out_channels)")
        if len(shape) == 2 and c == 1 and math.isqrt(shape[1]) ** 2 == shape[1]:
            side = math.isqrt(shape[1])
            return (f"{expected}: these look like flattened {side}×{side} images; reshape them to "
                    f"(N, 1, {side}, {side}) with x.reshape(-1, 1, {side}, {side})")
        if len(shape) == 3 and shape[0] == c:
            return f"{expected}: a single image needs a batch dimension, use x[None] (shape (1, {c}, H, W))"
        if len(shape) == 3 and c == 1:
            return f"{expected}: grayscale images need a channel axis, use x[:, None] (shape (N, 1, H, W))"
        return f"{expected}: reshape the input to 4-D (batch, channels, height, width)"

    def _label(self):
        (kh, kw) = self.kernel_size
        return f"Conv2d({self.in_channels} → {self.out_channels}, {kh}×{kw})"

    def extra_repr(self):
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.bias is None:
            text += ", bias=False"
        return text


# --- twin in torch and saving (nncourse.numpy_nn.registry) ------------------------------------------------
from ..errors import ConversionError  # noqa: E402
from .registry import copy_into, numpy_dtype_of, register_twin, saveable, to_numpy, torch_dtype_of  # noqa: E402


def _conv2d_from_torch(layer, where, rng):
    if layer.dilation != (1, 1) or layer.groups != 1 or layer.padding_mode != "zeros" or isinstance(layer.padding, str):
        raise ConversionError(
            f"from_torch cannot translate {where} = {layer!r}: the NumPy Conv2d has numeric zero padding, "
            f"no dilation and no groups (dilation={layer.dilation}, groups={layer.groups}, "
            f"padding={layer.padding!r}, padding_mode={layer.padding_mode!r})."
        )
    dtype = numpy_dtype_of(layer, where)
    twin = Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size, stride=layer.stride,
                  padding=layer.padding, bias=layer.bias is not None, init="zeros", dtype=dtype)
    twin.weight.data = to_numpy(layer.weight, dtype)            # (out, in, kh, kw), same layout in both
    if layer.bias is not None:
        twin.bias.data = to_numpy(layer.bias, dtype)            # (out,)
    return twin


def _conv2d_to_torch(layer, where):
    import torch

    twin = torch.nn.utils.skip_init(torch.nn.Conv2d, layer.in_channels, layer.out_channels, layer.kernel_size,
                                    stride=layer.stride, padding=layer.padding, bias=layer.bias is not None,
                                    dtype=torch_dtype_of(layer))
    copy_into(twin.weight, layer.weight.data)      # (out, in, kh, kw), same layout
    if layer.bias is not None:
        copy_into(twin.bias, layer.bias.data)      # (out,)
    return twin


register_twin(Conv2d, "torch.nn.Conv2d", from_torch=_conv2d_from_torch, to_torch=_conv2d_to_torch)
saveable(Conv2d)
