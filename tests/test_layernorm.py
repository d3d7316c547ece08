"""LayerNorm and GELU (chapter 10): gradient checks in float64, parity with torch, clear errors."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import nncourse.numpy_nn as nn
from nncourse.errors import ConfigError, DTypeError, ShapeError


def _random_affine(layer, rng):
    layer.weight.data = rng.normal(size=layer.weight.shape)
    layer.bias.data = rng.normal(size=layer.bias.shape)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), lead=st.lists(st.integers(1, 3), min_size=1, max_size=2),
       features=st.integers(3, 6), two_axes=st.booleans(), affine=st.booleans())
def test_layernorm_gradcheck(seed, lead, features, two_axes, affine):
    # never default_rng(0): gradcheck draws its upstream gradient R from it, and x ∝ R is the one
    # input whose d/dx is ~0 (nothing but rounding noise left to compare)
    rng = np.random.default_rng([seed, 10])
    normalized = (2, features) if two_axes else (features,)
    layer = nn.LayerNorm(normalized, elementwise_affine=affine, dtype=np.float64)
    if affine:
        _random_affine(layer, rng)
    x = rng.normal(size=(*lead, *normalized)) * 3 + 1
    result = nn.gradcheck(layer, x)
    assert result.passed, result


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), shape=st.lists(st.integers(1, 4), min_size=1, max_size=3))
def test_gelu_gradcheck(approximate, seed, shape):
    x = np.random.default_rng([seed, 10]).normal(size=shape) * 2
    result = nn.gradcheck(nn.GELU(approximate), x)
    assert result.passed, result


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("normalized", [(6,), (3, 4)])
def test_layernorm_matches_torch(affine, normalized):
    rng = np.random.default_rng(0)
    ours = nn.LayerNorm(normalized, eps=1e-5, elementwise_affine=affine, dtype=np.float64)
    theirs = torch.nn.LayerNorm(normalized, eps=1e-5, elementwise_affine=affine, dtype=torch.float64)
    if affine:
        _random_affine(ours, rng)
        with torch.no_grad():
            theirs.weight.copy_(torch.from_numpy(ours.weight.data))
            theirs.bias.copy_(torch.from_numpy(ours.bias.data))
    x = rng.normal(size=(2, 5, *normalized)) * 4 - 2
    g = rng.normal(size=x.shape)
    y = ours(x)
    gx = ours.backward(g)
    xt = torch.tensor(x, requires_grad=True)
    yt = theirs(xt)
    yt.backward(torch.from_numpy(g))
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gx, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    if affine:
        np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(ours.bias.grad, theirs.bias.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_layernorm_output_is_normalised_and_float32_by_default():
    x = np.random.default_rng(1).normal(3.0, 5.0, size=(4, 16)).astype(np.float32)
    y = nn.LayerNorm(16)(x)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.mean(axis=-1), 0, atol=1e-5)
    np.testing.assert_allclose(y.var(axis=-1), 1, atol=1e-3)
    assert [n for n, _ in nn.LayerNorm(16).named_parameters()] == ["weight", "bias"]


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gelu_matches_torch(approximate, dtype):
    x = np.random.default_rng(2).normal(size=(3, 7)).astype(dtype) * 3
    g = np.random.default_rng(3).normal(size=x.shape).astype(dtype)
    layer = nn.GELU(approximate)
    y, gx = layer(x), layer.backward(g)
    assert y.dtype == dtype and gx.dtype == dtype
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.nn.GELU(approximate)(xt)
    yt.backward(torch.from_numpy(g))
    tol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(gx, xt.grad.numpy(), rtol=tol, atol=tol)


def test_clear_errors():
    with pytest.raises(ShapeError, match=r"LayerNorm\(8\).*\(8,\).*\(2, 5\)"):
        nn.LayerNorm(8)(np.zeros((2, 5), np.float32))
    with pytest.raises(DTypeError, match=r"float32 weights but got float64"):
        nn.LayerNorm(5)(np.zeros((2, 5)))
    with pytest.raises(DTypeError, match="floating-point"):
        nn.LayerNorm(5)(np.zeros((2, 5), dtype=np.int64))
    with pytest.raises(ConfigError, match="eps"):
        nn.LayerNorm(5, eps=0)
    with pytest.raises(ConfigError, match="normalized_shape"):
        nn.LayerNorm(0)
    with pytest.raises(ConfigError, match=r"'none' or 'tanh'"):
        nn.GELU("fast")
    with pytest.raises(Exception, match="before forward"):
        nn.LayerNorm(3).backward(np.zeros((1, 3), np.float32))
