"""Conv2d, MaxPool2d and Flatten: gradient checks, parity with torch, conversion, saving, clear errors.

Gradient checks run in float64 over random shapes, kernel sizes, strides and paddings (hypothesis).
Parity: the NumPy layer and its torch twin (``torch_nn.from_numpy``) agree on the output, d input,
d weight and d bias, alone and inside a LeNet-style ``Sequential``; float64 within 1e-10, float32
within 1e-4 relative. A short training run with ``fit`` follows the same trajectory in both back ends.
"""

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from nncourse import numpy_nn as nn
from nncourse import torch_nn
from nncourse.errors import ConfigError, DTypeError, NonFiniteError, ShapeError
from nncourse.io import load_numpy_model, save_numpy_model
from nncourse.numpy_nn import col2im, conv_output_size, gradcheck, im2col
from nncourse.train import evaluate, fit

FAST = settings(max_examples=25, deadline=None)
seeds = st.integers(0, 2**32 - 1)


def lenet(dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Conv2d(1, 4, 5, padding=2, rng=rng, dtype=dtype), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, rng=rng, dtype=dtype), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(6 * 3 * 3, 10, rng=rng, dtype=dtype),
    )


@st.composite
def conv_settings(draw):
    """A random Conv2d with an input it fits: kernel, stride and padding each an int or a pair."""
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    h = draw(st.integers(max(1, kh - 2 * ph), 7))
    w = draw(st.integers(max(1, kw - 2 * pw), 7))
    square = draw(st.booleans()) and kh == kw and sh == sw and ph == pw
    kernel, stride, padding = (kh, sh, ph) if square else ((kh, kw), (sh, sw), (ph, pw))
    return dict(n=draw(st.integers(1, 3)), c=draw(st.integers(1, 3)), o=draw(st.integers(1, 3)),
                h=h, w=w, kernel=kernel, stride=stride, padding=padding, bias=draw(st.booleans()))


# --- gradient checks (float64) ---------------------------------------------------------------------------

@FAST
@given(seed=seeds, s=conv_settings())
def test_conv2d_gradients_match_finite_differences(seed, s):
    rng = np.random.default_rng(seed)
    layer = nn.Conv2d(s["c"], s["o"], s["kernel"], stride=s["stride"], padding=s["padding"], bias=s["bias"],
                      rng=rng, dtype=np.float64)
    x = rng.normal(size=(s["n"], s["c"], s["h"], s["w"]))
    result = gradcheck(layer, x)
    assert result.passed, result
    assert set(result.errors) == {"input", "weight"} | ({"bias"} if s["bias"] else set())


@FAST
@given(seed=seeds, n=st.integers(1, 3), c=st.integers(1, 3), h=st.integers(3, 7), w=st.integers(3, 7),
       kernel=st.integers(1, 3), stride=st.integers(1, 3), padding=st.integers(0, 1))
def test_maxpool2d_gradients_match_finite_differences(seed, n, c, h, w, kernel, stride, padding):
    padding = min(padding, kernel // 2)
    rng = np.random.default_rng(seed)
    x = rng.permutation(n * c * h * w).reshape(n, c, h, w) / 7.0    # distinct values: no ties
    result = gradcheck(nn.MaxPool2d(kernel, stride, padding), x)
    assert result.passed, result


@FAST
@given(seed=seeds, shape=st.lists(st.integers(1, 4), min_size=2, max_size=4), start=st.integers(0, 3),
       end=st.integers(-1, 3))
def test_flatten_matches_torch_and_its_gradient_is_a_reshape(seed, shape, start, end):
    x = np.random.default_rng(seed).normal(size=shape)
    s, e = start, end if end >= 0 else len(shape) + end
    layer = nn.Flatten(start, end)
    if not (start < len(shape) and e < len(shape) and s <= e):
        with pytest.raises(ShapeError, match="cannot flatten dimensions"):
            layer(x)
        return
    out = layer(x)
    assert out.shape == torch.nn.Flatten(start, end)(torch.from_numpy(x)).shape
    assert gradcheck(layer, x).passed


def test_lenet_gradients_match_finite_differences():
    model = lenet(np.float64, seed=3)
    x = np.random.default_rng(0).normal(size=(2, 1, 16, 16))     # 16 -> pool 8 -> conv 6 -> pool 3
    result = gradcheck(model, x)
    assert result.passed, result


# --- im2col / col2im ----------------------------------------------------------------------------------------

@FAST
@given(seed=seeds, s=conv_settings())
def test_col2im_is_the_adjoint_of_im2col(seed, s):
    """<im2col(x), c> == <x, col2im(c)> for every x and c: col2im routes each column entry back."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(s["n"], s["c"], s["h"], s["w"]))
    cols = im2col(x, s["kernel"], s["stride"], s["padding"])
    c = rng.normal(size=cols.shape)
    back = col2im(c, x.shape, s["kernel"], s["stride"], s["padding"])
    assert back.shape == x.shape
    assert np.isclose(np.sum(cols * c), np.sum(x * back))
    unfold = torch.nn.functional.unfold(torch.from_numpy(x), s["kernel"], padding=s["padding"], stride=s["stride"])
    np.testing.assert_array_equal(cols, unfold.numpy())          # same layout as torch's unfold


def test_output_size_formula():
    assert conv_output_size(28, 5, 1, 2) == 28
    assert conv_output_size(28, 5) == 24
    assert conv_output_size(7, 3, 2, 1) == 4
    assert conv_output_size(14, 2, 2) == 7


# --- parity with torch -------------------------------------------------------------------------------------

def assert_close(actual, expected, dtype, what):
    expected = np.asarray(expected)
    if dtype == np.float64:
        np.testing.assert_allclose(actual, expected, rtol=1e-10, atol=1e-10, err_msg=what)
    else:
        scale = max(float(np.abs(expected).max(initial=0.0)), 1e-2)
        np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-4 * scale, err_msg=what)


def check_parity(model, x, dtype):
    """Forward, d input and every parameter gradient of ``model`` and ``from_numpy(model)`` agree."""
    twin = torch_nn.from_numpy(model)
    out = model(x)
    upstream = np.random.default_rng(1).normal(size=out.shape).astype(dtype)
    model.zero_grad()
    grad_x = model.backward(upstream)
    x_t = torch.tensor(x, requires_grad=True)
    out_t = twin(x_t)
    out_t.backward(torch.from_numpy(upstream))
    assert_close(out, out_t.detach().numpy(), dtype, "output")
    assert_close(grad_x, x_t.grad.numpy(), dtype, "d input")
    torch_params = dict(twin.named_parameters())
    assert set(torch_params) == {name for name, _ in model.named_parameters()}
    for name, param in model.named_parameters():
        assert param.grad.dtype == dtype
        assert_close(param.grad, torch_params[name].grad.numpy(), dtype, f"d {name}")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@settings(max_examples=15, deadline=None)
@given(seed=seeds, s=conv_settings())
def test_conv2d_parity_with_torch(dtype, seed, s):
    rng = np.random.default_rng(seed)
    layer = nn.Conv2d(s["c"], s["o"], s["kernel"], stride=s["stride"], padding=s["padding"], bias=s["bias"],
                      rng=rng, dtype=dtype)
    check_parity(layer, rng.normal(size=(s["n"], s["c"], s["h"], s["w"])).astype(dtype), dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kernel, stride, padding", [(2, None, 0), (3, 2, 1), ((3, 2), (1, 2), (1, 0)), (2, 1, 1)])
def test_maxpool2d_parity_with_torch_including_ties(dtype, kernel, stride, padding):
    # values rounded to one decimal: many windows hold ties; both route the gradient to the first maximum
    x = np.round(np.random.default_rng(0).normal(size=(3, 2, 7, 6)), 1).astype(dtype)
    x[0, 0] = 0.0                                       # a whole map of ties, as after a dead ReLU
    check_parity(nn.MaxPool2d(kernel, stride, padding), x, dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lenet_parity_with_torch(dtype):
    x = np.random.default_rng(2).normal(size=(5, 1, 16, 16)).astype(dtype)
    check_parity(lenet(dtype, seed=4), x, dtype)


def test_default_initialisation_follows_torch_rule():
    layer = nn.Conv2d(3, 64, (5, 4), seed=0, dtype=np.float64)
    bound = 1 / np.sqrt(3 * 5 * 4)                       # fan_in = in_channels * kh * kw
    assert layer.weight.shape == (64, 3, 5, 4) and layer.bias.shape == (64,)
    for p in (layer.weight.data, layer.bias.data):
        assert np.abs(p).max() <= bound and np.abs(p).max() > 0.9 * bound
    reference = torch.nn.Conv2d(3, 64, (5, 4))
    assert reference.weight.abs().max().item() <= bound + 1e-7   # torch's own rule, the same bound
    assert nn.Conv2d(3, 64, 5, seed=0).weight.dtype == np.float32
    np.testing.assert_array_equal(nn.Conv2d(2, 3, 3, seed=7).weight.data,
                                  nn.Conv2d(2, 3, 3, rng=np.random.default_rng(7)).weight.data)


def test_first_layer_skips_the_input_gradient():
    model = lenet(np.float64)
    x = np.random.default_rng(0).normal(size=(2, 1, 16, 16))
    out = model(x)
    assert model.backward(np.ones_like(out), need_input_grad=False) is None
    skipped = {name: p.grad.copy() for name, p in model.named_parameters()}
    model.zero_grad()
    model(x)
    model.backward(np.ones_like(out))
    for name, p in model.named_parameters():
        np.testing.assert_array_equal(p.grad, skipped[name], err_msg=name)


# --- conversion and saving ----------------------------------------------------------------------------------

def test_from_torch_and_back_keeps_every_layer_and_weight():
    torch.manual_seed(0)
    torch_model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 3, (3, 5), stride=(1, 2), padding=(1, 2)), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(3, 2, 3, bias=False), torch.nn.Flatten(), torch.nn.Linear(2 * 2 * 2, 4))
    model = nn.from_torch(torch_model)
    assert [type(layer).__name__ for layer in model] == ["Conv2d", "ReLU", "MaxPool2d", "Conv2d", "Flatten", "Linear"]
    assert model[0].kernel_size == (3, 5) and model[0].stride == (1, 2) and model[0].padding == (1, 2)
    assert model[3].bias is None and model[2].stride == (2, 2)
    x = np.random.default_rng(0).normal(size=(2, 1, 9, 17)).astype(np.float32)
    np.testing.assert_allclose(model(x), torch_model(torch.from_numpy(x)).detach().numpy(), atol=1e-5)
    back = torch_nn.from_numpy(model)
    for (name, p), (_, q) in zip(torch_model.named_parameters(), back.named_parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy(), err_msg=name)
    single = nn.from_torch(torch.nn.Conv2d(2, 3, 3).double())
    assert isinstance(single, nn.Conv2d) and single.dtype == np.float64
    assert isinstance(torch_nn.from_numpy(nn.MaxPool2d(3, 1, 1)), torch.nn.MaxPool2d)


def test_from_torch_refuses_what_the_numpy_layers_do_not_have():
    from nncourse.errors import ConversionError

    for layer in (torch.nn.Conv2d(1, 2, 3, dilation=2), torch.nn.Conv2d(2, 2, 3, groups=2),
                  torch.nn.Conv2d(1, 2, 3, padding="same"), torch.nn.MaxPool2d(2, ceil_mode=True)):
        with pytest.raises(ConversionError, match="cannot translate"):
            nn.from_torch(layer)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_save_and_load_a_cnn(tmp_path, dtype):
    model = nn.Sequential(nn.Conv2d(1, 3, (3, 5), stride=(1, 2), padding=(1, 2), seed=1, dtype=dtype), nn.ReLU(),
                          nn.MaxPool2d(3, 2, 1), nn.Conv2d(3, 2, 2, bias=False, seed=2, dtype=dtype),
                          nn.Flatten(), nn.Linear(2 * 4 * 5, 3, seed=3, dtype=dtype))
    model.eval()
    loaded = load_numpy_model(save_numpy_model(model, tmp_path / "cnn"))
    assert repr(loaded) == repr(model)
    x = np.random.default_rng(0).normal(size=(2, 1, 11, 19)).astype(dtype)
    np.testing.assert_array_equal(loaded(x), model(x))
    assert loaded[0].weight.dtype == dtype and not loaded.training


# --- training: both back ends, same trajectory ------------------------------------------------------------

def test_fit_trains_a_cnn_the_same_in_both_back_ends_in_float64():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(48, 1, 16, 16))
    y = rng.integers(0, 10, size=48)
    model = lenet(np.float64, seed=1)
    twin = torch_nn.from_numpy(model)
    kwargs = dict(epochs=3, batch_size=16, seed=5, quiet=True, validation_data=(X[:16], y[:16]))
    h_np = fit(model, nn.CrossEntropyLoss(), nn.SGD(model.parameters(), lr=0.1, momentum=0.9), (X, y), **kwargs)
    h_t = fit(twin, torch.nn.CrossEntropyLoss(), torch.optim.SGD(twin.parameters(), lr=0.1, momentum=0.9),
              (X, y), **kwargs)
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(h_np[key], h_t[key], rtol=1e-9, err_msg=key)
    assert h_np["loss"][-1] < h_np["loss"][0]
    for (name, p), (_, q) in zip(model.named_parameters(), twin.named_parameters()):
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-9, atol=1e-12, err_msg=name)
    assert evaluate(model, nn.CrossEntropyLoss(), X, y)[1] == evaluate(twin, torch.nn.CrossEntropyLoss(), X, y)[1]


# --- clear errors --------------------------------------------------------------------------------------------

def test_channels_last_images_are_explained():
    with pytest.raises(ShapeError, match=r"channels seem to be last \(NHWC\).*x\.transpose\(0, 3, 1, 2\)"):
        nn.Conv2d(3, 8, 3)(np.zeros((2, 28, 28, 3), dtype=np.float32))


def test_flattened_mnist_rows_are_explained():
    with pytest.raises(ShapeError, match=r"flattened 28×28 images.*\(N, 1, 28, 28\)"):
        nn.Conv2d(1, 8, 5)(np.zeros((64, 784), dtype=np.float32))


def test_a_kernel_larger_than_the_padded_input_is_explained():
    with pytest.raises(ShapeError, match=r"5×5 kernel is larger than the padded input.*4×4"):
        nn.Conv2d(1, 2, 5, padding=1)(np.zeros((1, 1, 2, 2), dtype=np.float32))
    with pytest.raises(ShapeError, match=r"window is larger than the padded input"):
        nn.MaxPool2d(3)(np.zeros((1, 1, 2, 2), dtype=np.float32))


def test_a_channel_count_that_does_not_match_is_explained():
    with pytest.raises(ShapeError, match=r"has 3 channels but the layer was built for in_channels=8"):
        nn.Conv2d(8, 16, 3)(np.zeros((2, 3, 10, 10), dtype=np.float32))


def test_other_bad_inputs_and_settings_are_explained():
    conv = nn.Conv2d(1, 2, 3)
    with pytest.raises(ShapeError, match=r"single image needs a batch dimension"):
        nn.Conv2d(3, 2, 3)(np.zeros((3, 8, 8), dtype=np.float32))
    with pytest.raises(ShapeError, match=r"grayscale images need a channel axis, use x\[:, None\]"):
        conv(np.zeros((4, 8, 8), dtype=np.float32))
    with pytest.raises(DTypeError, match=r"float32 weights but got float64 input"):
        conv(np.zeros((1, 1, 8, 8)))
    with pytest.raises(DTypeError, match="floating-point"):
        conv(np.zeros((1, 1, 8, 8), dtype=np.uint8))
    x = np.zeros((1, 1, 8, 8), dtype=np.float32)
    x[0, 0, 3, 4] = np.nan
    with pytest.raises(NonFiniteError, match=r"NaN or inf \(first at index \(0, 0, 3, 4\)\)"):
        conv(x)
    with pytest.raises(ConfigError, match="kernel_size must be an int >= 1 or a pair"):
        nn.Conv2d(1, 2, 0)
    with pytest.raises(ConfigError, match="padding must be an int >= 0"):
        nn.Conv2d(1, 2, 3, padding=-1)
    with pytest.raises(ConfigError, match="stride must be"):
        nn.MaxPool2d(2, stride=(1, 2, 3))
    with pytest.raises(ConfigError, match="at most half the kernel size"):
        nn.MaxPool2d(2, padding=2)
    with pytest.raises(ConfigError, match="in_channels must be a positive integer"):
        nn.Conv2d(0, 2, 3)
    with pytest.raises(ShapeError, match=r"MaxPool2d\(2×2\) expects images.*x\[:, None\]"):
        nn.MaxPool2d(2)(np.zeros((2, 8, 8)))
    conv(np.zeros((2, 1, 8, 8), dtype=np.float32))
    with pytest.raises(ShapeError, match=r"grad_output of shape \(2, 2, 6, 6\)"):
        conv.backward(np.zeros((2, 2, 5, 5), dtype=np.float32))
    with pytest.raises(Exception, match="before forward"):
        nn.MaxPool2d(2).backward(np.zeros((1, 1, 1, 1)))


# --- bad arguments to conv_output_size, im2col and col2im (issue 17 §2) ----------------------------------------

@pytest.mark.parametrize("args, error, words", [
    ((28, 5, 0), ConfigError, "stride .* must be a whole number >= 1"),
    ((28, 5, -1), ConfigError, "stride"),
    ((28, 5, 1, -1), ConfigError, "padding must be a whole number >= 0"),
    ((28, 0), ConfigError, "kernel_size must be a whole number >= 1"),
    ((28, 2.5), ConfigError, "kernel_size"),
    ((0, 3), ConfigError, "size must be a whole number >= 1"),
    ((4, 7), ShapeError,
     "kernel .7. is larger than the padded input .4 \\+ 2·0 = 4.*smaller kernel_size, more padding"),
    ((4, 7, 1, 1), ShapeError, "4 \\+ 2·1 = 6"),
])
def test_conv_output_size_checks_its_arguments(args, error, words):
    with pytest.raises(error, match=words):
        conv_output_size(*args)


def test_conv_output_size_accepts_a_kernel_that_just_fits():
    assert conv_output_size(4, 6, 1, 1) == 1 and conv_output_size(np.int64(28), 5) == 24


@pytest.mark.parametrize("kwargs, error, words", [
    ({"kernel_size": 3, "stride": 0}, ConfigError, "stride must be an int >= 1"),
    ({"kernel_size": 7}, ShapeError, "larger than the padded input.*input of shape \\(2, 1, 5, 5\\)"),
    ({"kernel_size": (3, 9), "padding": 1}, ShapeError, "kernel .9. is larger"),
    ({"kernel_size": 3, "padding": -1}, ConfigError, "padding must be an int >= 0"),
])
def test_im2col_checks_its_arguments(kwargs, error, words):
    x = np.zeros((2, 1, 5, 5))
    with pytest.raises(error, match=words):
        im2col(x, **kwargs)


def test_im2col_checks_the_images():
    with pytest.raises(ShapeError, match="x\\[None\\]"):
        im2col(np.zeros((1, 5, 5)), 3)
    with pytest.raises(DTypeError, match="floating-point"):
        im2col(np.zeros((1, 1, 5, 5), dtype=np.int64), 3)
    x = np.zeros((1, 1, 5, 5))
    x[0, 0, 2, 2] = np.nan
    with pytest.raises(NonFiniteError, match="NaN"):
        im2col(x, 3)
    with pytest.raises(ShapeError, match="empty"):
        im2col(np.zeros((0, 1, 5, 5)), 3)


def test_col2im_checks_its_arguments():
    cols = im2col(np.ones((2, 1, 5, 5)), 3)
    with pytest.raises(ConfigError, match="stride"):
        col2im(cols, (2, 1, 5, 5), 3, stride=0)
    with pytest.raises(ShapeError, match="kernel .7. is larger"):
        col2im(cols, (2, 1, 5, 5), 7)
    with pytest.raises(ShapeError, match="cols must have shape \\(2, 9, 9\\).*got \\(2, 9, 4\\).*same sizes"):
        col2im(cols[:, :, :4], (2, 1, 5, 5), 3)
    with pytest.raises(ShapeError, match="input_shape must be the 4 sizes"):
        col2im(cols, (2, 5, 5), 3)
    with pytest.raises(ShapeError, match="input_shape must be the 4 sizes"):
        col2im(cols, (2, 1, 0, 5), 3)


@pytest.mark.parametrize("stride, padding", [(1, 1), (2, 1), (1, 0), (2, 2)])
def test_banded_backward_gives_torchs_gradient(monkeypatch, stride, padding):
    """Backward works on bands of output rows (to stay in the cache); with one row per band the
    input gradient must still be torch's."""
    from nncourse.numpy_nn import conv

    monkeypatch.setattr(conv, "BAND_BYTES", 1)        # one output row per band
    rng = np.random.default_rng(5)
    layer = nn.Conv2d(3, 4, 3, stride=stride, padding=padding, seed=1, dtype=np.float64)
    twin = torch_nn.from_numpy(layer)
    x = rng.normal(size=(2, 3, 7, 6))
    out = layer(x)
    g = rng.normal(size=out.shape)
    gx = layer.backward(g)
    xt = torch.tensor(x, requires_grad=True)
    twin(xt).backward(torch.from_numpy(g))
    np.testing.assert_allclose(gx, xt.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.weight.grad, twin.weight.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("c, o, kernel, stride, padding, as_convolution", [
    (3, 4, 3, 1, 1, False),       # more outputs than inputs: G's columns would be larger, col2im
    (4, 4, 3, 1, 1, True),        # "same" padding, as many outputs as inputs (the ResNet's 3x3 layers)
    (5, 3, (3, 5), 1, (1, 2), True),
    (4, 1, 3, 1, 0, True),        # no padding: G is padded by kernel - 1 = 2 on every side
    (4, 4, 3, 2, 1, False),       # stride 2: col2im
    (4, 4, 1, 1, 1, False),       # padding > kernel - 1 has no transposed convolution: col2im
])
def test_both_input_gradient_routes_give_torchs_gradient_call_after_call(c, o, kernel, stride, padding,
                                                                           as_convolution):
    """d x is computed either as a convolution of G with the turned kernel (stride 1) or by col2im;
    each must be torch's gradient, also on later calls that reuse the zero-padded buffer with other
    numbers, and after a change of batch size."""
    rng = np.random.default_rng(11)
    layer = nn.Conv2d(c, o, kernel, stride=stride, padding=padding, seed=2, dtype=np.float64)
    twin = torch_nn.from_numpy(layer)
    for n in (2, 2, 3):
        x = rng.normal(size=(n, c, 7, 6))
        out = layer(x)
        assert layer._input_grad_is_a_convolution(x.shape[2:], out.shape[2:]) is as_convolution
        g = rng.normal(size=out.shape)
        layer.zero_grad()
        gx = layer.backward(g)
        xt = torch.tensor(x, requires_grad=True)
        twin.zero_grad()
        twin(xt).backward(torch.from_numpy(g))
        np.testing.assert_allclose(gx, xt.grad.numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(layer.weight.grad, twin.weight.grad.numpy(), rtol=1e-12, atol=1e-12)
