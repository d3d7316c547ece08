"""RMSNorm (chapter 16): gradient check, parity with torch.nn.RMSNorm forward and backward, conversion and
saving both ways, frozen weight, and clear errors."""

import numpy as np
import pytest
import torch

import nncourse.numpy_nn as nn
from nncourse import io, torch_nn
from nncourse.errors import ConfigError, DTypeError, NonFiniteError, ShapeError


@pytest.mark.parametrize("shape,normalized", [((3, 5), 5), ((2, 3, 4), (3, 4)), ((1, 1, 6), 6)])
@pytest.mark.parametrize("affine", [True, False])
def test_gradcheck(shape, normalized, affine):
    layer = nn.RMSNorm(normalized, eps=1e-5, elementwise_affine=affine, dtype=np.float64)
    if affine:
        layer.weight.data = np.random.default_rng(1).normal(size=layer.weight.shape)
    x = np.random.default_rng(7).normal(size=shape)   # not seed 0: gradcheck's R would equal x (a zero gradient)
    result = nn.gradcheck(layer, x)
    assert result.passed, result


@pytest.mark.parametrize("eps", [None, 1e-5, 0.1])
def test_matches_torch_forward_and_backward(eps):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4, 7, 16)) * rng.uniform(0.1, 10, size=(4, 7, 1))
    ours = nn.RMSNorm(16, eps=eps, dtype=np.float64)
    ours.weight.data = rng.normal(size=16)
    theirs = torch.nn.RMSNorm(16, eps=eps, dtype=torch.float64)
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(ours.weight.data))
    xt = torch.from_numpy(x).requires_grad_(True)
    y_t = theirs(xt)
    g = rng.normal(size=x.shape)
    (y_t * torch.from_numpy(g)).sum().backward()
    y = ours(x)
    dx = ours.backward(g)
    np.testing.assert_allclose(y, y_t.detach().numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), rtol=0, atol=1e-11)


def test_rms_of_the_output_is_one_before_the_weight():
    x = np.random.default_rng(0).normal(3.0, 5.0, size=(10, 64)).astype(np.float32)
    y = nn.RMSNorm(64, eps=1e-6)(x)
    np.testing.assert_allclose(np.sqrt((y * y).mean(-1)), 1.0, rtol=1e-5)
    assert abs(y.mean()) > 0.1            # not centred, unlike LayerNorm


def test_converts_and_saves_both_ways(tmp_path):
    layer = nn.RMSNorm(6, eps=1e-6, dtype=np.float64)
    layer.weight.data = np.arange(6.0)
    back = nn.from_torch(torch_nn.from_numpy(layer))
    assert isinstance(back, nn.RMSNorm) and back.eps == 1e-6
    np.testing.assert_array_equal(back.weight.data, layer.weight.data)
    loaded = io.load_numpy_model(io.save_numpy_model(nn.Sequential(layer), tmp_path / "rms"))
    x = np.random.default_rng(0).normal(size=(2, 6))
    np.testing.assert_array_equal(loaded(x), layer(x))


def test_frozen_weight_gets_no_gradient_but_input_gradient_flows():
    layer = nn.RMSNorm(4, dtype=np.float64)
    layer.weight.requires_grad = False
    x = np.random.default_rng(0).normal(size=(3, 4))
    layer(x)
    dx = layer.backward(np.ones((3, 4)))
    assert layer.weight.grad is None and dx.shape == (3, 4)


@pytest.mark.parametrize("kwargs,error,words", [
    (dict(normalized_shape=0), ConfigError, "normalized_shape"),
    (dict(normalized_shape="4"), ConfigError, "normalized_shape"),
    (dict(normalized_shape=4, eps=-1.0), ConfigError, "eps"),
    (dict(normalized_shape=4, eps=float("nan")), ConfigError, "eps"),
    (dict(normalized_shape=4, eps="1e-5"), ConfigError, "eps"),
    (dict(normalized_shape=4, elementwise_affine="False"), ConfigError, "elementwise_affine"),
    (dict(normalized_shape=4, dtype=np.int32), DTypeError, "dtype"),
])
def test_bad_arguments(kwargs, error, words):
    with pytest.raises(error, match=words):
        nn.RMSNorm(**kwargs)


@pytest.mark.parametrize("x,error,words", [
    (np.ones((2, 5), np.float32), ShapeError, "RMSNorm"),
    (np.ones((2, 4), np.int64), DTypeError, "floating-point"),
    (np.ones((2, 4), np.float64), DTypeError, "astype"),
    (np.full((2, 4), np.nan, np.float32), NonFiniteError, "NaN"),
    (np.ones((0, 4), np.float32), ShapeError, "empty"),
])
def test_bad_inputs(x, error, words):
    with pytest.raises(error, match=words):
        nn.RMSNorm(4)(x)


def test_backward_before_forward_is_refused():
    with pytest.raises(Exception, match="before forward"):
        nn.RMSNorm(4).backward(np.ones((1, 4), np.float32))
