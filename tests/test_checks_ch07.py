"""The exercise checks of chapter 7 (convolutional networks).

For every check: the solution from solutions/07_cnn.ipynb passes (the functions are taken from the
notebook itself), the untouched stub is reported as "not implemented yet", and plausible wrong
answers fail with the hint meant for them. Also: changing an input in place, returning a list, a
tensor or integers is rejected with a clear message (the framework's rules).
"""

from __future__ import annotations

import contextlib
import functools
import io
from pathlib import Path

import numpy as np
import pytest
import torch

from nncourse.checks import ch07
from check_helpers import assert_hint, run, stub

ROOT = Path(__file__).resolve().parents[1]


@functools.lru_cache(maxsize=None)
def solution() -> dict:
    """Run the code cells of solutions/07_cnn.ipynb (not the check cells); return the namespace."""
    import nbformat

    nb = nbformat.read(str(ROOT / "solutions" / "07_cnn.ipynb"), as_version=4)
    namespace: dict = {"__name__": "solution_07_cnn"}
    with contextlib.redirect_stdout(io.StringIO()):
        for cell in nb.cells:
            if cell.cell_type != "code" or cell.source.lstrip().startswith("check."):
                continue
            source = "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                               for line in cell.source.splitlines())
            exec(compile(source, "<solutions/07_cnn.ipynb>", "exec"), namespace)
    return namespace


CHECKS = ["output_size", "conv2d_forward", "maxpool_backward", "im2col", "conv_backward_weight"]


def _answers(name, fn):
    """What the notebook passes to the check: output_size also gets the answer size_32."""
    return (fn, solution()["size_32"]) if name == "output_size" else (fn,)


@pytest.mark.parametrize("name", CHECKS)
def test_the_solution_passes_and_the_stub_is_not_implemented(name):
    check = getattr(ch07, name)
    result = run(check, *_answers(name, solution()[name]))
    assert result, str(result)
    assert result.tests >= 4
    stubbed = run(check, *_answers(name, stub))
    assert not stubbed and stubbed.status == "not implemented", str(stubbed)
    assert run(check, *_answers(name, ...)).status == "not implemented"


def test_the_solution_answers_the_question():
    assert solution()["size_32"] == 16


def _right_size(n, k, stride=1, padding=0):
    return (n + 2 * padding - k) // stride + 1


@pytest.mark.parametrize("size_32, needles", [
    (15, ["15 is what you get without the + 1"]),
    (17, ["round down, not up"]),
    (16.5, ["round down", "floor division"]),
    (16.0, ["a size is a whole number"]),
    (32, ["use the stride"]),
    (30, ["the stride and the padding"]),
    (np.float64(16), ["a size is a whole number"]),
    (torch.tensor(16), ["torch.Tensor", "expected a number"]),
    (12, ["output_size(32, 3, stride=2, padding=1)"]),
])
def test_size_32_is_checked(size_32, needles):
    assert_hint(run(ch07.output_size, _right_size, size_32), *needles)


def test_size_32_left_as_the_placeholder_is_not_implemented():
    result = run(ch07.output_size, _right_size, ...)
    assert result.status == "not implemented" and "size_32 is still ..." in result.message


# --- output_size ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("wrong, needles", [
    (lambda n, k, stride=1, padding=0: -(-(n + 2 * padding - k) // stride) + 1, ["round down, not up"]),
    (lambda n, k, stride=1, padding=0: (n + 2 * padding - k) // stride, ["count the first window too: + 1"]),
    (lambda n, k, stride=1, padding=0: (n + padding - k) // stride + 1, ["both sides: n + 2*padding"]),
    (lambda n, k, stride=1, padding=0: n + 2 * padding - k + 1, ["the stride divides"]),
    (lambda n, k, stride=1, padding=0: (n - k) // stride + 1, ["add the padding"]),
    (lambda n, k, stride=1, padding=0: (n + 2 * padding) // stride, ["subtract the kernel size"]),
    (lambda n, k, stride=1, padding=0: (n + 2 * padding - k) / stride + 1, ["floor division"]),
    (lambda n, k, stride=1, padding=0: float((n + 2 * padding - k) // stride + 1), ["a size is a whole number"]),
])
def test_output_size_wrong_answers(wrong, needles):
    assert_hint(run(ch07.output_size, wrong, 16), *needles)


def test_a_plus_one_inside_the_division_is_not_told_to_add_one():
    result = run(ch07.output_size, lambda n, k, stride=1, padding=0: (n + 2 * padding - k + 1) // stride, 16)
    assert_hint(result, "the + 1 belongs outside the division")
    assert "count the first window" not in result.hint


# --- conv2d_forward -------------------------------------------------------------------------------------

def _conv(x, w, b, stride, padding):
    out = torch.nn.functional.conv2d(torch.from_numpy(x.copy()), torch.from_numpy(w.copy()),
                                     None if b is None else torch.from_numpy(b.copy()), stride=stride, padding=padding)
    return out.numpy()


def _ignores_stride(x, w, b, stride, padding):
    """The right output size, but every window starts at (i, j) instead of (i*stride, j*stride)."""
    right = _conv(x, w, b, stride, padding)
    return _conv(x, w, b, 1, padding)[:, :, :right.shape[2], :right.shape[3]]


@pytest.mark.parametrize("wrong, needles", [
    (lambda x, w, b, stride=1, padding=0: _conv(x, w[:, :, ::-1, ::-1], b, stride, padding),
     ["kernel is flipped", "cross-correlation"]),
    (lambda x, w, b, stride=1, padding=0: _conv(x, w, None, stride, padding), ["add the bias"]),
    (lambda x, w, b, stride=1, padding=0: _conv(x, w, np.full_like(b, b.sum()), stride, padding),
     ["its own bias[o]"]),
    (lambda x, w, b, stride=1, padding=0: _conv(x[:, :1], w[:, :1], b, stride, padding),
     ["sum over all input channels"]),
    (lambda x, w, b, stride=1, padding=0: _conv(x, w, b, stride, 0), ["pad with zeros first"]),
    (lambda x, w, b, stride=1, padding=0: _conv(x, w, b, 1, padding), ["step the window by the stride"]),
    (lambda x, w, b, stride=1, padding=0: _ignores_stride(x, w, b, stride, padding), ["the window ignores the stride"]),
    (lambda x, w, b, stride=1, padding=0: _conv(x, w.transpose(0, 1, 3, 2), b, stride, padding)
     if w.shape[2] == w.shape[3] else _conv(x, w, b, stride, padding), ["kernel indices are swapped"]),
    (lambda x, w, b, stride=1, padding=0: _conv(x, w, b, stride, padding).tolist(), ["expected a NumPy array"]),
    (lambda x, w, b, stride=1, padding=0: torch.from_numpy(_conv(x, w, b, stride, padding)),
     ["torch.Tensor", "expected a NumPy array"]),
    (lambda x, w, b, stride=1, padding=0: _conv(x, w, b, stride, padding).astype(int), ["floating-point"]),
])
def test_conv2d_forward_wrong_answers(wrong, needles):
    assert_hint(run(ch07.conv2d_forward, wrong), *needles)


def test_conv2d_forward_that_changes_its_input_is_rejected():
    def in_place(x, w, b, stride=1, padding=0):
        mean = x.mean()
        x -= mean                                          # the caller's x changes
        return _conv(x + mean, w, b, stride, padding)      # ... although the result is right

    assert_hint(run(ch07.conv2d_forward, in_place), "in_place changed its input x in place", "new array")


def test_conv2d_forward_crash_is_reported_not_raised():
    def crashes(x, w, b, stride=1, padding=0):
        return x[0, 0, 0, 0] + np.zeros(3) + np.zeros(4)

    result = run(ch07.conv2d_forward, crashes)
    assert not result and "raised ValueError" in result.message


# --- maxpool_backward ---------------------------------------------------------------------------------

def _pool_pieces(x, g, k):
    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    out = torch.nn.functional.max_pool2d(xt, k)
    out.backward(torch.from_numpy(g.copy()))
    up = np.repeat(np.repeat(g, k, axis=2), k, axis=3)
    outs = np.repeat(np.repeat(out.detach().numpy(), k, axis=2), k, axis=3)
    return xt.grad.numpy(), up, outs


def _all_ties(x, g, k):
    _, up, outs = _pool_pieces(x, g, k)
    return up * (x == outs)


def _average(x, g, k):
    return _pool_pieces(x, g, k)[1] / (k * k)


def _copied(x, g, k):
    return _pool_pieces(x, g, k)[1]


def _mask_only(x, g, k):
    _, _, outs = _pool_pieces(x, g, k)
    return (x == outs).astype(float)


def _last_tie(x, g, k):
    # the LAST maximum of each window on ties: flip the windows, take torch's first, flip back
    flipped = x[:, :, ::-1, ::-1].copy()
    grad, _, _ = _pool_pieces(flipped, g[:, :, ::-1, ::-1].copy(), k)
    return grad[:, :, ::-1, ::-1] if x.shape[2] % k == 0 else grad


def _minimum(x, g, k):
    n, c, h, w = x.shape
    mins = x.reshape(n, c, h // k, k, w // k, k).min(axis=(3, 5))
    up = np.repeat(np.repeat(g, k, axis=2), k, axis=3)
    return up * (x == np.repeat(np.repeat(mins, k, axis=2), k, axis=3))


def _column_order(x, g, k):
    """On a tie, the first maximum column by column (np.argmax of window.T.reshape(-1))."""
    n, c, h, w = x.shape
    grad = np.zeros_like(x)
    for index in np.ndindex(n, c, h // k, w // k):
        i0, i1, i, j = index
        window = x[i0, i1, i * k:(i + 1) * k, j * k:(j + 1) * k]
        col, row = divmod(int(np.argmax(window.T.reshape(-1))), k)
        grad[i0, i1, i * k + row, j * k + col] = g[index]
    return grad


@pytest.mark.parametrize("wrong, needles", [
    (_column_order, ["READING order", "not column by column"]),
    (_all_ties, ["only the FIRST maximum"]),
    (_last_tie, ["only the FIRST maximum"]),
    (_average, ["average pooling"]),
    (_copied, ["must get 0, not a copy"]),
    (_mask_only, ["multiply by the upstream gradient"]),
    (_minimum, ["MAXIMUM of each window, not the minimum"]),
    (lambda x, g, k: g, ["grad_x has the shape of x"]),
    (lambda x, g, k: _pool_pieces(x, g, k)[0].tolist(), ["expected a NumPy array"]),
])
def test_maxpool_backward_wrong_answers(wrong, needles):
    assert_hint(run(ch07.maxpool_backward, wrong), *needles)


def test_maxpool_backward_that_writes_into_x_is_rejected():
    def in_place(x, g, k):
        grad = _pool_pieces(x, g, k)[0]
        x[...] = 0.0
        return grad

    assert_hint(run(ch07.maxpool_backward, in_place), "in_place changed its input x in place")


# --- im2col -------------------------------------------------------------------------------------------

def _six(x, k):
    n, c, h, w = x.shape
    ho, wo = h - k + 1, w - k + 1
    cols = torch.nn.functional.unfold(torch.from_numpy(x.copy()), k).numpy()
    return cols.reshape(n, c, k, k, ho, wo), (n, c * k * k, ho * wo)


@pytest.mark.parametrize("wrong, needles", [
    (lambda x, k: (lambda s, shape: s.transpose(0, 2, 3, 1, 4, 5).reshape(shape))(*_six(x, k)),
     ["order the rows channel first"]),
    (lambda x, k: (lambda s, shape: s.transpose(0, 1, 3, 2, 4, 5).reshape(shape))(*_six(x, k)),
     ["kernel offsets are swapped"]),
    (lambda x, k: (lambda s, shape: s.transpose(0, 1, 2, 3, 5, 4).reshape(shape))(*_six(x, k)),
     ["number the windows row by row"]),
    (lambda x, k: (lambda s, shape: s.reshape(shape).transpose(0, 2, 1))(*_six(x, k)),
     ["looks transposed"]),
    (lambda x, k: (lambda s, shape: s.reshape(shape)[0])(*_six(x, k)), ["(N, C*k*k, Ho*Wo)"]),
    (lambda x, k: (lambda s, shape: torch.from_numpy(s.reshape(shape)))(*_six(x, k)), ["expected a NumPy array"]),
])
def test_im2col_wrong_answers(wrong, needles):
    assert_hint(run(ch07.im2col, wrong), *needles)


# --- conv_backward_weight -------------------------------------------------------------------------------

def _weight_grad(x, g, k):
    w = torch.zeros((g.shape[1], x.shape[1], k, k), dtype=torch.float64, requires_grad=True)
    torch.nn.functional.conv2d(torch.from_numpy(x.copy()), w).backward(torch.from_numpy(g.copy()))
    return w.grad.numpy()


@pytest.mark.parametrize("wrong, needles", [
    (lambda x, g, k: _weight_grad(x, g, k) / len(x), ["do not average"]),
    (lambda x, g, k: _weight_grad(x[:1], g[:1], k), ["summed over the batch", "first image only"]),
    (lambda x, g, k: _weight_grad(x[-1:], g[-1:], k), ["summed over the batch", "overwrote"]),
    (lambda x, g, k: np.stack([_weight_grad(x[i:i + 1], g[i:i + 1], k) for i in range(len(x))]),
     ["summed over the batch", "one per image"]),
    (lambda x, g, k: _weight_grad(x, g, k).transpose(0, 1, 3, 2), ["kernel indices are swapped"]),
    (lambda x, g, k: _weight_grad(x, g, k)[:, :, ::-1, ::-1], ["kernel is flipped"]),
    (lambda x, g, k: _weight_grad(x, g, k).transpose(1, 0, 2, 3), ["output channels first"]),
    (lambda x, g, k: np.broadcast_to(_weight_grad(x, g, k)[:, :1], _weight_grad(x, g, k).shape).copy(),
     ["each input channel c has its own weights"]),
    (lambda x, g, k: _weight_grad(x, g, k)[0], ["the shape of the weight"]),
    (lambda x, g, k: _weight_grad(x, g, k).astype(np.int64), ["floating-point"]),
])
def test_conv_backward_weight_wrong_answers(wrong, needles):
    assert_hint(run(ch07.conv_backward_weight, wrong), *needles)
