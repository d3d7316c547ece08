"""Checks for the chapter 7 exercises: convolutional networks.

Use them at the end of each exercise::

    from nncourse.checks import ch07 as check
    check.output_size(output_size)

``output_size``, ``conv2d_forward``, ``maxpool_backward``, ``im2col`` and ``conv_backward_weight``.
The references are PyTorch's own functions (``torch.nn.functional.conv2d``, ``max_pool2d``,
``unfold`` and autograd), in float64, never the learner's code nor the course's layers. An input
changed in place, or a result that is not a NumPy float array, is reported by the framework's rules
(``Tester.call``, ``Tester.ndarray``).
"""

from __future__ import annotations

import numbers

import numpy as np

from .framework import Tester, check, fmt

__all__ = ["output_size", "conv2d_forward", "maxpool_backward", "im2col", "conv_backward_weight"]


def _ndarray(t, got, what):
    """The learner must return a NumPy float array (the framework's rule); returned unconverted, so that
    ``t.close`` sees its dtype."""
    t.ndarray(got, what)
    return got


def _torch():
    import torch

    return torch


# --------------------------------------------------------------------------------------------------
# Exercise 1: the output size
# --------------------------------------------------------------------------------------------------


@check("output_size")
def output_size(t: Tester, output_size, size_32) -> None:
    """``output_size(n, kernel_size, stride=1, padding=0) -> int``: floor((n + 2p - k) / s) + 1; and
    ``size_32``, the output size of a 3 x 3 convolution with stride 2 and padding 1 on a 32 x 32 image."""
    t.callable(output_size, "output_size")
    cases = [(28, 5, 1, 0), (28, 5, 1, 2), (7, 3, 2, 1), (28, 4, 3, 0), (10, 3, 3, 0), (5, 5, 1, 0),
             (32, 3, 2, 1), (14, 2, 2, 0), (9, 4, 2, 2)]
    for n, k, s, p in cases:
        what = f"output_size({n}, kernel_size={k}, stride={s}, padding={p})"
        got = t.call(output_size, n, k, stride=s, padding=p, errors=[
            (TypeError, "unexpected keyword", "keep the signature output_size(n, kernel_size, stride=1, padding=0)."),
        ])
        want = (n + 2 * p - k) // s + 1
        if isinstance(got, bool) or not isinstance(got, numbers.Integral):
            value = t.scalar(got, what)
            if value == want:
                t.fail(f"{what} returned {fmt(got)} ({type(got).__name__}), expected the int {want}",
                       "a size is a whole number: use floor division // instead of /, or wrap it in int().")
            if isinstance(got, float) and value == (n + 2 * p - k) / s + 1:
                t.fail(f"{what} should be {want}, yours returns {fmt(got)}",
                       "a window either fits or it does not: round down, with floor division (n + 2*p - k) // s + 1.")
        t.equal(int(t.scalar(got, what)), want, what, mistakes=[
            (-(-(n + 2 * p - k) // s) + 1, "round down, not up: a window that would stick out over the padded input "
                                           "does not count. Use floor division //."),
            # before "+ 1 missing": with a stride of 2 the two can coincide, and this one has its + 1
            ((n + 2 * p - k + 1) // s, "the + 1 belongs outside the division: (n + 2*p - k) // stride + 1 (the "
                                       "first window, then one more per full stride); you divide (n + 2*p - k + 1)."),
            ((n + 2 * p - k) // s, "count the first window too: + 1 (with k = n and no padding there is exactly one "
                                   "position)."),
            ((n + p - k) // s + 1, "the padding is added on both sides: n + 2*padding."),
            (n + 2 * p - k + 1, "the stride divides the number of steps: (n + 2*p - k) // stride + 1."),
            ((n - k) // s + 1, "add the padding: the kernel slides over the padded input of size n + 2*padding."),
            ((n + 2 * p) // s, "subtract the kernel size: the last window must start at least k - 1 pixels "
                               "before the end."),
        ])
    _size_32(t, size_32)


def _size_32(t: Tester, size_32) -> None:
    """The answer to the question: a 3 x 3 convolution, stride 2, padding 1, on a 32 x 32 image -> 16."""
    t.require(size_32, "size_32")
    n, k, s, p = 32, 3, 2, 1
    want = (n + 2 * p - k) // s + 1
    value = t.number(size_32, "size_32")
    if not value.is_integer():
        t.fail(f"size_32 should be {want}, yours is {fmt(size_32)}",
               "a window either fits or it does not: round down, with floor division (32 + 2*1 - 3) // 2 + 1.")
    if isinstance(size_32, bool) or not isinstance(size_32, numbers.Integral):
        if value == want:
            t.fail(f"size_32 is {fmt(size_32)} ({type(size_32).__name__}), expected the int {want}",
                   "a size is a whole number: use floor division // instead of /, or wrap it in int().")
    t.equal(int(value), want, "size_32 (a 3 x 3 convolution with stride 2 and padding 1 on a 32 x 32 image)", mistakes=[
        (-(-(n + 2 * p - k) // s) + 1, "round down, not up: a window that would stick out does not count."),
        ((n + 2 * p - k) // s, "15 is what you get without the + 1 (or without the padding): (32 + 2*1 - 3) // 2 + 1."),
        (n + 2 * p - k + 1, "use the stride: the window moves 2 pixels at a time, (32 + 2*1 - 3) // 2 + 1 (32 is "
                            "the size for stride 1)."),
        (n - k + 1, "use the stride and the padding: (32 + 2*1 - 3) // 2 + 1."),
    ], hint="use your output_size: output_size(32, 3, stride=2, padding=1).")


# --------------------------------------------------------------------------------------------------
# Exercise 2: a naive convolution
# --------------------------------------------------------------------------------------------------


def _conv_reference(x, w, b, stride, padding):
    torch = _torch()
    out = torch.nn.functional.conv2d(torch.from_numpy(x.copy()), torch.from_numpy(w.copy()),
                                     None if b is None else torch.from_numpy(b.copy()), stride=stride, padding=padding)
    return out.numpy()


@check("conv2d_forward")
def conv2d_forward(t: Tester, conv2d_forward) -> None:
    """``conv2d_forward(x, weight, bias, stride=1, padding=0)``: x (N, C, H, W), weight (O, C, kh, kw),
    bias (O,) -> (N, O, Ho, Wo), the cross-correlation of torch.nn.functional.conv2d."""
    t.callable(conv2d_forward, "conv2d_forward")
    rng = np.random.default_rng(70)
    cases = [((1, 1, 4, 4), (1, 1, 2, 2), 1, 0), ((2, 3, 5, 6), (4, 3, 3, 3), 1, 0),
             ((2, 2, 6, 5), (3, 2, 3, 2), 1, 1), ((1, 2, 7, 7), (2, 2, 3, 3), 2, 0),
             ((2, 1, 6, 6), (2, 1, 3, 3), 2, 1)]
    for x_shape, w_shape, stride, padding in cases:
        x, w, b = rng.normal(size=x_shape), rng.normal(size=w_shape), rng.normal(size=w_shape[0])
        what = f"conv2d_forward(x {x_shape}, weight {w_shape}, bias, stride={stride}, padding={padding})"
        got = _ndarray(t, t.call(conv2d_forward, x, w, b, stride=stride, padding=padding, errors=[
            (TypeError, "unexpected keyword", "keep the signature conv2d_forward(x, weight, bias, stride=1, padding=0)."),
            (ValueError, "broadcast", "each output value is np.sum(weight[o] * patch) with a patch of shape "
                                      "(C, kh, kw) taken from the padded input; check the slice bounds."),
        ]), what)
        want = _conv_reference(x, w, b, stride, padding)
        ho, wo = want.shape[2:]
        t.close(got, want, what, mistakes=[
            (lambda: _conv_reference(x, w, b, 1, padding)[:, :, :ho, :wo],
             "the window ignores the stride: output (i, j) reads x_pad[:, i*s:i*s+kh, j*s:j*s+kw], so it starts at "
             "i*stride, j*stride (yours moves one pixel at a time)."),
            (lambda: _conv_reference(x, w.transpose(0, 1, 3, 2).copy(), b, stride, padding) if w.shape[2] == w.shape[3]
             else None,
             "the kernel indices are swapped: weight[o, c, u, v] multiplies x_pad[n, c, i*s + u, j*s + v], with u "
             "the ROW offset and v the column offset."),
            (lambda: _conv_reference(x, w[:, :, ::-1, ::-1].copy(), b, stride, padding),
             "the kernel is flipped: deep-learning 'convolution' is a cross-correlation, "
             "sum(weight[o] * x_pad[:, i*s:i*s+kh, j*s:j*s+kw]) with the kernel as it is."),
            (lambda: _conv_reference(x, w, None, stride, padding), "add the bias: out[n, o] += bias[o]."),
            (lambda: _conv_reference(x, w, b * 0 + b.sum(), stride, padding),
             "each output channel o gets its own bias[o], not the sum of all biases."),
            (lambda: _conv_reference(x[:, :1].copy(), w[:, :1].copy(), b, stride, padding),
             "sum over all input channels: each kernel weight[o] spans every channel of the patch, "
             "np.sum(weight[o] * x_pad[n, :, rows, cols])."),
        ], shape_hint=(f"the output has shape (N, O, Ho, Wo) = {want.shape}: Ho = (H + 2*padding - kh) // stride + 1; "
                       f"pad with zeros first (np.pad(x, ((0, 0), (0, 0), (p, p), (p, p))) and step the window by "
                       f"the stride."))


# --------------------------------------------------------------------------------------------------
# Exercise 3: the max-pool backward pass
# --------------------------------------------------------------------------------------------------


def _maxpool_reference(x, g, k):
    torch = _torch()
    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    out = torch.nn.functional.max_pool2d(xt, k)
    out.backward(torch.from_numpy(g.copy()))
    return out.detach().numpy(), xt.grad.numpy()


def _windows(x, k):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // k, k, w // k, k)


def _partial_ties(x, k):
    """``x`` with its maximum repeated in every k x k window, at (0, 1), (1, 0) and (1, k - 1) of the
    window: reading order (row by row) picks (0, 1) first, column order (1, 0), and the last in
    reading order is (1, k - 1), so each way of breaking a tie gives its own gradient."""
    x = x.copy()
    win = _windows(x, k)                                   # a view: (n, c, H/k, k, W/k, k)
    top = np.abs(win).max(axis=(3, 5)) + 1.0               # above everything else in the window
    for row, col in [(0, 1), (1, 0), (1, k - 1)]:
        win[:, :, :, row, :, col] = top
    return x


@check("maxpool_backward")
def maxpool_backward(t: Tester, maxpool_backward) -> None:
    """``maxpool_backward(x, grad_output, kernel_size) -> grad_x``: max pooling with stride =
    kernel_size; each window's gradient goes to its maximum, the first one on ties (as PyTorch)."""
    t.callable(maxpool_backward, "maxpool_backward")
    rng = np.random.default_rng(71)
    for shape, k, ties in [((1, 1, 4, 4), 2, None), ((2, 3, 6, 4), 2, None), ((1, 2, 6, 6), 3, None),
                           ((2, 2, 4, 6), 2, "relu"), ((2, 2, 6, 6), 3, "partial")]:
        x = rng.normal(size=shape)
        if ties == "relu":              # as after a ReLU: many windows of zeros, and repeated values
            x = np.round(np.maximum(x, 0), 1)
        if ties == "partial":           # three equal maxima per window
            x = _partial_ties(x, k)
        out_shape = (shape[0], shape[1], shape[2] // k, shape[3] // k)
        g = rng.normal(size=out_shape)
        out, want = _maxpool_reference(x, g, k)
        what = (f"maxpool_backward(x {shape}, grad_output {out_shape}, kernel_size={k})"
                + {None: "", "relu": " with ties", "partial": " with three equal maxima per window"}[ties])
        got = _ndarray(t, t.call(maxpool_backward, x, g, k), what)
        up = np.repeat(np.repeat(g, k, axis=2), k, axis=3)                  # g copied onto every input
        is_max = x == np.repeat(np.repeat(out, k, axis=2), k, axis=3)
        win = _windows(x, k)
        is_min = x == np.repeat(np.repeat(win.min(axis=(3, 5)), k, axis=2), k, axis=3)
        first_hint = ("on a tie only the FIRST maximum of a window (in reading order, row by row) gets the gradient, "
                      "as in PyTorch; the other equal values get 0. np.argmax returns the first maximum.")
        last_max = lambda: _maxpool_reference(x[:, :, ::-1, ::-1], g[:, :, ::-1, ::-1], k)[1][:, :, ::-1, ::-1]  # noqa: E731
        # the first maximum column by column: transposing the image transposes every window
        column_order = lambda: _maxpool_reference(x.swapaxes(2, 3), g.swapaxes(2, 3), k)[1].swapaxes(2, 3)  # noqa: E731
        t.close(got, want, what, mistakes=[
            (last_max, first_hint),
            (column_order, "on a tie the first maximum in READING order gets the gradient: row by row, as "
                           "np.argmax(window) on the window flattened row by row (window.reshape(-1)) finds it, "
                           "not column by column."),
            (up * is_max, "on a tie only the FIRST maximum of a window (in reading order, row by row) gets the "
                          "gradient, as in PyTorch; the other equal values get 0. Keep track of the windows already "
                          "served." if ties else "route the gradient to the maximum only."),
            (up / (k * k), "that is the backward pass of average pooling: for max pooling the whole gradient goes "
                           "to the maximum of the window, the other values get 0."),
            (up, "only the maximum of each window influenced the output: the other values must get 0, "
                 "not a copy of the gradient."),
            (is_max.astype(float), "multiply by the upstream gradient: grad_x = grad_output at the maximum, "
                                   "not 1."),
            (up * is_min, "the gradient goes to the MAXIMUM of each window, not the minimum."),
        ], shape_hint=f"grad_x has the shape of x, {shape}: one value per input pixel.")


# --------------------------------------------------------------------------------------------------
# Exercise 4: im2col
# --------------------------------------------------------------------------------------------------


def _unfold(x, k):
    torch = _torch()
    return torch.nn.functional.unfold(torch.from_numpy(x.copy()), k).numpy()


@check("im2col")
def im2col(t: Tester, im2col) -> None:
    """``im2col(x, kernel_size) -> cols``: x (N, C, H, W), stride 1, no padding -> (N, C*k*k, Ho*Wo),
    row ``c*k*k + i*k + j`` and column ``y*Wo + x`` holding x[n, c, y + i, x + j] (torch's unfold)."""
    t.callable(im2col, "im2col")
    rng = np.random.default_rng(72)
    for shape, k in [((1, 1, 3, 3), 2), ((1, 1, 4, 5), 3), ((2, 3, 5, 4), 2), ((2, 2, 6, 6), 3)]:
        x = rng.normal(size=shape)
        n, c, h, w = shape
        ho, wo = h - k + 1, w - k + 1
        what = f"im2col(x {shape}, kernel_size={k})"
        got = _ndarray(t, t.call(im2col, x, k), what)
        want = _unfold(x, k)
        six = want.reshape(n, c, k, k, ho, wo)
        t.close(got, want, what, mistakes=[
            (lambda: six.transpose(0, 2, 3, 1, 4, 5).reshape(n, c * k * k, ho * wo),
             "order the rows channel first: row c*k*k + i*k + j (channel, then kernel row, then kernel column), "
             "the order of weight.reshape(O, -1)."),
            (lambda: six.transpose(0, 1, 3, 2, 4, 5).reshape(n, c * k * k, ho * wo),
             "the kernel offsets are swapped: row i*k + j holds x[..., y + i, x + j] with i the ROW offset."),
            (lambda: six.transpose(0, 1, 2, 3, 5, 4).reshape(n, c * k * k, ho * wo),
             "number the windows row by row: column y*Wo + x for the window at row y, column x."),
        ], shape_hint=(f"cols has shape (N, C*k*k, Ho*Wo) = {want.shape}: one ROW per position inside the window "
                       f"(C*k*k of them) and one COLUMN per window position (Ho*Wo)."
                       + (" Yours looks transposed: cols[n] should be (C*k*k, Ho*Wo)." if got.shape == want.transpose(0, 2, 1).shape else "")))
        if got.shape == want.shape:
            t.close(np.asarray(got).reshape(n, -1, ho, wo)[:, 0], x[:, 0, :ho, :wo],
                    f"the first row of {what}", hint=None)


# --------------------------------------------------------------------------------------------------
# Exercise 5: the weight gradient of a convolution
# --------------------------------------------------------------------------------------------------


def _weight_grad_reference(x, g, kernel_size):
    torch = _torch()
    o, c = g.shape[1], x.shape[1]
    w = torch.zeros((o, c, kernel_size, kernel_size), dtype=torch.float64, requires_grad=True)
    torch.nn.functional.conv2d(torch.from_numpy(x.copy()), w).backward(torch.from_numpy(g.copy()))
    return w.grad.numpy()


@check("conv_backward_weight")
def conv_backward_weight(t: Tester, conv_backward_weight) -> None:
    """``conv_backward_weight(x, grad_output, kernel_size) -> grad_weight (O, C, k, k)`` for a
    convolution with stride 1 and no padding: dL/dw[o, c, i, j] = sum over n, y, x of
    grad_output[n, o, y, x] * x[n, c, y + i, x + j]."""
    t.callable(conv_backward_weight, "conv_backward_weight")
    rng = np.random.default_rng(73)
    for x_shape, o, k in [((1, 1, 4, 4), 1, 2), ((2, 3, 5, 6), 4, 3), ((3, 2, 6, 5), 3, 2), ((2, 2, 5, 5), 2, 5)]:
        n, c, h, w = x_shape
        g_shape = (n, o, h - k + 1, w - k + 1)
        x, g = rng.normal(size=x_shape), rng.normal(size=g_shape)
        what = f"conv_backward_weight(x {x_shape}, grad_output {g_shape}, kernel_size={k})"
        got = _ndarray(t, t.call(conv_backward_weight, x, g, k), what)
        want = _weight_grad_reference(x, g, k)
        per_image = got.shape == (n,) + want.shape
        t.close(got, want, what, mistakes=[
            (lambda: _weight_grad_reference(x[:1], g[:1], k) if n > 1 else None,
             "the weight gradient is summed over the batch: every image adds its own term, "
             "sum over n of grad_output[n, o] * x[n, c, ...]; yours uses the first image only."),
            (lambda: _weight_grad_reference(x[-1:], g[-1:], k) if n > 1 else None,
             "the weight gradient is summed over the batch (+= for each image): yours keeps only the last "
             "image's term, as if each image overwrote the previous one."),
            (lambda: want.transpose(0, 1, 3, 2) if k > 1 else None,
             "the kernel indices are swapped: dL/dw[o, c, i, j] pairs grad_output[n, o, y, x] with "
             "x[n, c, y + i, x + j], i the ROW offset."),
            (lambda: want / n, "sum over the images of the batch, do not average: each image adds its own term "
                               "(the loss already contains the 1/N of the mean)."),
            (lambda: want[:, :, ::-1, ::-1], "the kernel is flipped: dL/dw[o, c, i, j] pairs grad_output[n, o, y, x] "
                                             "with x[n, c, y + i, x + j] (the same offsets as the forward pass)."),
            (lambda: want.transpose(1, 0, 2, 3), "the weight gradient has the weight's shape (O, C, k, k): "
                                                 "output channels first."),
            (lambda: np.broadcast_to(want[:, :1], want.shape), "each input channel c has its own weights: "
                                                               "dL/dw[o, c] uses x[:, c] only."),
        ], shape_hint=(f"the weight gradient is summed over the batch: add up the N per-image gradients (yours has "
                       f"one per image, shape {got.shape}); the result has the weight's shape {want.shape}."
                       if per_image else f"the gradient has the shape of the weight, (O, C, k, k) = {want.shape}."))
