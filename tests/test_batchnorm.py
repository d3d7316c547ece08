"""BatchNorm1d and BatchNorm2d (chapter 12): gradient checks in float64, parity with torch in both modes,
running statistics, conversion both ways, saving, and clear errors."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import nncourse.numpy_nn as nn
from nncourse import io
from nncourse.errors import ConfigError, DTypeError, NonFiniteError, ShapeError
from nncourse.torch_nn import from_numpy


def _layer(kind, c, **kwargs):
    return getattr(nn, kind)(c, dtype=np.float64, **kwargs)


def _random_affine(layer, rng):
    if layer.affine:
        layer.weight.data = rng.normal(size=layer.weight.shape) + 1
        layer.bias.data = rng.normal(size=layer.bias.shape)


# ------------------------------------------------------------------------------- gradient checks

@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(3, 5), c=st.integers(1, 3),
       spatial=st.lists(st.integers(1, 3), min_size=0, max_size=2), affine=st.booleans(),
       training=st.booleans())
def test_batchnorm_gradcheck(seed, n, c, spatial, affine, training):
    # never default_rng(0): gradcheck draws its upstream gradient from it. At least 3 values per
    # channel: with 2, training mode outputs +-1 whatever x is, so the true gradient is ~0 (only eps
    # is left) and finite differences compare rounding noise with rounding noise
    rng = np.random.default_rng([seed, 12])
    kind = "BatchNorm2d" if len(spatial) == 2 else "BatchNorm1d"
    layer = _layer(kind, c, affine=affine)
    _random_affine(layer, rng)
    if not training:        # evaluation mode normalises with running statistics: make them non-trivial
        layer.running_mean = rng.normal(size=c)
        layer.running_var = rng.uniform(0.5, 2.0, size=c)
        layer.eval()
    x = rng.normal(size=(n, c, *spatial)) * 3 + 1
    result = nn.gradcheck(layer, x)
    assert result.passed, result


# ------------------------------------------------------------------------------- parity with torch

def _torch_twin(ours):
    twin = from_numpy(ours)
    assert type(twin).__name__ == type(ours).__name__
    return twin


@pytest.mark.parametrize("kind, shape", [("BatchNorm1d", (6, 3)), ("BatchNorm1d", (4, 3, 5)),
                                         ("BatchNorm2d", (4, 3, 5, 5))])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("track", [True, False])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm_matches_torch_over_several_steps(kind, shape, affine, track, momentum):
    rng = np.random.default_rng(1)
    ours = _layer(kind, shape[1], affine=affine, track_running_stats=track, momentum=momentum)
    _random_affine(ours, rng)
    theirs = _torch_twin(ours)
    for step in range(5):
        training = step < 3                      # three steps in training mode, then evaluation
        ours.train(training)
        theirs.train(training)
        x = rng.normal(size=shape) * (step + 1) + step
        g = rng.normal(size=shape)
        ours.zero_grad()
        y = ours(x)
        gx = ours.backward(g)
        xt = torch.tensor(x, requires_grad=True)
        theirs.zero_grad()
        yt = theirs(xt)
        yt.backward(torch.from_numpy(g))
        np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(gx, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
        if affine:
            np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(ours.bias.grad, theirs.bias.grad.numpy(), rtol=1e-10, atol=1e-12)
        theirs_state = theirs.state_dict()
        assert list(ours.state_dict()) == list(theirs_state)          # same names, same order
        for name, value in ours.state_dict().items():
            np.testing.assert_allclose(value, theirs_state[name].numpy(), rtol=1e-12, atol=1e-15, err_msg=name)


def test_the_running_statistics_follow_torchs_rule():
    layer = nn.BatchNorm1d(2, momentum=0.25, dtype=np.float64)
    x = np.array([[1.0, 10.0], [3.0, 20.0], [5.0, 60.0]])
    layer(x)
    mean, unbiased = x.mean(axis=0), x.var(axis=0, ddof=1)
    np.testing.assert_allclose(layer.running_mean, 0.25 * mean)
    np.testing.assert_allclose(layer.running_var, 0.75 * 1 + 0.25 * unbiased)   # unbiased in the estimate
    assert int(layer.num_batches_tracked) == 1 and layer.num_batches_tracked.dtype == np.int64
    layer.eval()
    layer(x)                                                                      # evaluation: no update
    assert int(layer.num_batches_tracked) == 1


def test_momentum_none_is_the_cumulative_average():
    layer = nn.BatchNorm1d(1, momentum=None, dtype=np.float64)
    batches = [np.array([[1.0], [3.0]]), np.array([[5.0], [9.0]]), np.array([[0.0], [4.0]])]
    for x in batches:
        layer(x)
    np.testing.assert_allclose(layer.running_mean, [np.mean([b.mean() for b in batches])])
    np.testing.assert_allclose(layer.running_var, [np.mean([b.var(ddof=1) for b in batches])])


def test_training_mode_normalises_with_the_biased_batch_variance():
    layer = nn.BatchNorm2d(3, eps=1e-12, dtype=np.float64)
    x = np.random.default_rng(3).normal(size=(5, 3, 4, 4)) * 7 + 2
    y = layer(x)
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, rtol=1e-9)             # biased: exactly 1


def test_float32_layer_keeps_float32_and_counters_stay_integer():
    layer = nn.BatchNorm2d(2)
    y = layer(np.random.default_rng(0).normal(size=(3, 2, 2, 2)).astype(np.float32))
    assert y.dtype == np.float32 and layer.running_var.dtype == np.float32
    layer.double()
    assert layer.running_mean.dtype == np.float64 and layer.num_batches_tracked.dtype == np.int64


# ------------------------------------------------------------------------------- conversion and saving

@pytest.mark.parametrize("kind", ["BatchNorm1d", "BatchNorm2d"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_from_torch_copies_parameters_statistics_and_mode(kind, dtype):
    torch.manual_seed(0)
    theirs = getattr(torch.nn, kind)(4, momentum=0.3, dtype=dtype)
    shape = (5, 4, 3, 3) if kind == "BatchNorm2d" else (5, 4)
    for _ in range(2):
        theirs(torch.randn(shape, dtype=dtype))
    with torch.no_grad():
        theirs.weight.uniform_(0.5, 1.5)
    ours = nn.from_torch(torch.nn.Sequential(theirs).eval())[0]
    assert type(ours).__name__ == kind and not ours.training and ours.momentum == 0.3
    assert ours.dtype == {torch.float32: np.float32, torch.float64: np.float64}[dtype]
    assert int(ours.num_batches_tracked) == 2
    x = torch.randn(shape, dtype=dtype)
    tol = 1e-12 if dtype == torch.float64 else 1e-5
    np.testing.assert_allclose(ours(x.numpy()), theirs(x).detach().numpy(), rtol=tol, atol=tol)


def test_from_torch_without_affine_keeps_the_dtype_of_the_statistics():
    ours = nn.from_torch(torch.nn.BatchNorm1d(3, affine=False, dtype=torch.float64))
    assert ours.dtype == np.float64 and ours.weight is None


def test_save_and_load_keep_statistics_and_mode(tmp_path):
    model = nn.Sequential(nn.BatchNorm1d(3, momentum=None, dtype=np.float64),
                          nn.BatchNorm2d(2, affine=False, track_running_stats=False, dtype=np.float64))
    rng = np.random.default_rng(4)
    model[0](rng.normal(size=(6, 3)))
    model[0](rng.normal(size=(6, 3)))
    model[0].weight.data[:] = [0.5, 2.0, 3.0]
    model.eval()
    path = io.save_numpy_model(model, tmp_path / "bn")
    loaded = io.load_numpy_model(path)
    assert not loaded.training and loaded[0].momentum is None and not loaded[1].track_running_stats
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(loaded.state_dict()[name], value)
    assert loaded[0].num_batches_tracked.dtype == np.int64 and int(loaded[0].num_batches_tracked) == 2
    x = rng.normal(size=(4, 3))
    np.testing.assert_array_equal(loaded[0](x), model[0](x))


# ------------------------------------------------------------------------------- bad input

def test_a_batch_of_one_in_training_mode_is_a_clear_error():
    layer = nn.BatchNorm1d(3)
    with pytest.raises(ShapeError, match="one value per channel.*batch of at least 2.*model.eval"):
        layer(np.ones((1, 3), dtype=np.float32))
    layer.eval()
    assert layer(np.ones((1, 3), dtype=np.float32)).shape == (1, 3)      # evaluation mode: fine
    image = nn.BatchNorm2d(3)
    assert image(np.ones((1, 3, 2, 2), dtype=np.float32)).shape == (1, 3, 2, 2)   # 4 values per channel


def test_wrong_channel_count_names_num_features():
    with pytest.raises(ShapeError, match="expects 4 channels.*num_features=3"):
        nn.BatchNorm2d(4)(np.ones((2, 3, 5, 5), dtype=np.float32))


@pytest.mark.parametrize("kind, shape, words", [
    ("BatchNorm1d", (2, 3, 4, 4), "BatchNorm2d"),
    ("BatchNorm1d", (3,), "batch dimension"),
    ("BatchNorm2d", (2, 3), "BatchNorm1d"),
    ("BatchNorm2d", (2, 3, 4), "BatchNorm1d"),
])
def test_wrong_number_of_dimensions_points_to_the_right_layer(kind, shape, words):
    with pytest.raises(ShapeError, match=words):
        getattr(nn, kind)(3)(np.ones(shape, dtype=np.float32))


def test_wrong_dtype_and_nan_are_clear_errors():
    layer = nn.BatchNorm1d(2)
    with pytest.raises(DTypeError, match="float32 weights but got float64.*astype"):
        layer(np.ones((3, 2)))
    with pytest.raises(DTypeError, match="floating-point"):
        layer(np.ones((3, 2), dtype=np.int64))
    x = np.ones((3, 2), dtype=np.float32)
    x[1, 1] = np.nan
    with pytest.raises(NonFiniteError, match="NaN"):
        layer(x)


@pytest.mark.parametrize("kwargs, words", [
    ({"num_features": 0}, "num_features must be a whole number"),
    ({"num_features": 3, "eps": 0}, "eps must be a finite number > 0"),
    ({"num_features": 3, "momentum": 1.5}, "momentum must be a number in"),
    ({"num_features": 3, "affine": "False"}, "without quotes"),
    ({"num_features": 3, "dtype": np.int32}, "np.float32 or np.float64"),
])
def test_bad_constructor_arguments(kwargs, words):
    with pytest.raises((ConfigError, DTypeError), match=words):
        nn.BatchNorm1d(**kwargs)


def test_backward_before_forward_and_wrong_gradient_shape():
    layer = nn.BatchNorm1d(2, dtype=np.float64)
    with pytest.raises(Exception, match="before forward"):
        layer.backward(np.ones((3, 2)))
    layer(np.random.default_rng(0).normal(size=(3, 2)))
    with pytest.raises(ShapeError, match="grad_output of shape"):
        layer.backward(np.ones((2, 2)))
