"""Translating networks between the back ends: ``torch_nn.from_numpy`` and ``numpy_nn.from_torch``."""

import numpy as np
import pytest
import torch

import nncourse.numpy_nn as nn
from nncourse import torch_nn
from nncourse.errors import ConversionError, DTypeError

# numpy layer -> (torch class, attributes that must carry over)
LAYER_PAIRS = [
    (lambda: nn.Sigmoid(), torch.nn.Sigmoid, {}),
    (lambda: nn.Tanh(), torch.nn.Tanh, {}),
    (lambda: nn.ReLU(), torch.nn.ReLU, {}),
    (lambda: nn.LeakyReLU(0.2), torch.nn.LeakyReLU, {"negative_slope": 0.2}),
    (lambda: nn.Softmax(dim=0), torch.nn.Softmax, {"dim": 0}),
    (lambda: nn.Identity(), torch.nn.Identity, {}),
    (lambda: nn.Step(), torch_nn.Step, {}),
    (lambda: nn.Dropout(0.3), torch.nn.Dropout, {"p": 0.3}),
]
LAYER_IDS = ["Sigmoid", "Tanh", "ReLU", "LeakyReLU", "Softmax", "Identity", "Step", "Dropout"]


@pytest.mark.parametrize("make_layer, torch_class, attributes", LAYER_PAIRS, ids=LAYER_IDS)
def test_each_layer_goes_both_ways(make_layer, torch_class, attributes):
    layer = make_layer()
    twin = torch_nn.from_numpy(layer)
    assert type(twin) is torch_class
    back = nn.from_torch(twin)
    assert type(back) is type(layer)
    for name, value in attributes.items():
        assert getattr(twin, name) == value
        assert getattr(back, name) == value


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_weights_are_copied(dtype, bias):
    layer = nn.Linear(4, 3, bias=bias, seed=2, dtype=dtype)
    twin = torch_nn.from_numpy(layer)
    assert type(twin) is torch.nn.Linear
    assert (twin.in_features, twin.out_features) == (4, 3)
    assert twin.weight.dtype == torch_nn.torch_dtype(dtype)
    np.testing.assert_array_equal(twin.weight.detach().numpy(), layer.weight.data)
    assert (twin.bias is None) == (not bias)
    if bias:
        np.testing.assert_array_equal(twin.bias.detach().numpy(), layer.bias.data)

    back = nn.from_torch(twin)
    assert back.weight.data.dtype == dtype
    np.testing.assert_array_equal(back.weight.data, layer.weight.data)
    assert (back.bias is None) == (not bias)

    # copies, not shared memory: changing one back end leaves the others alone
    with torch.no_grad():
        twin.weight.add_(1.0)
    assert not np.array_equal(twin.weight.detach().numpy(), layer.weight.data)
    np.testing.assert_array_equal(back.weight.data, layer.weight.data)


@pytest.mark.parametrize("activation", ["step", "sigmoid", "tanh", "relu", "leaky_relu", "identity"])
def test_converted_network_computes_the_same_function(activation):
    model = nn.mlp([3, 6, 4, 2], activation, output_activation="softmax", seed=4, dtype=np.float64)
    twin = torch_nn.from_numpy(model)
    x = np.random.default_rng(4).normal(size=(10, 3))
    np.testing.assert_allclose(twin(torch.from_numpy(x)).detach().numpy(), model(x),
                               rtol=1e-12, atol=1e-14)


def test_torch_step_is_a_threshold_with_zero_gradient():
    z = torch.tensor([[-2.0, -1e-9, 0.0, 3.5]], dtype=torch.float64, requires_grad=True)
    out = torch_nn.Step()(z)
    assert out.dtype == torch.float64
    assert out.tolist() == [[0.0, 0.0, 1.0, 1.0]]
    (out * torch.arange(1.0, 5.0, dtype=torch.float64)).sum().backward()
    assert z.grad is not None and torch.equal(z.grad, torch.zeros_like(z))
    # the NumPy Step agrees, forward and backward
    numpy_step = nn.Step()
    np.testing.assert_array_equal(numpy_step(z.detach().numpy()), out.detach().numpy())
    np.testing.assert_array_equal(numpy_step.backward(np.ones((1, 4))), np.zeros((1, 4)))


def test_nested_sequential_and_names():
    model = nn.Sequential(nn.Linear(2, 3, seed=0), nn.Sequential(nn.ReLU(), nn.Linear(3, 1, seed=1)))
    twin = torch_nn.from_numpy(model)
    assert isinstance(twin[1], torch.nn.Sequential)
    assert [name for name, _ in twin.named_parameters()] == [
        name for name, _ in model.named_parameters()] == ["0.weight", "0.bias", "1.1.weight", "1.1.bias"]
    back = nn.from_torch(twin)
    assert isinstance(back[1], nn.Sequential)
    np.testing.assert_array_equal(back[1][1].weight.data, model[1][1].weight.data)


@pytest.mark.parametrize("training", [True, False])
def test_training_mode_is_kept(training):
    model = nn.mlp([2, 4, 1], dropout=0.5).train(training)
    twin = torch_nn.from_numpy(model)
    assert twin.training == training and twin[2].training == training
    back = nn.from_torch(twin)
    assert back.training == training and back[2].training == training


def test_torch_softmax_without_dim_becomes_last_dim():
    assert nn.from_torch(torch.nn.Softmax()).dim == -1


def test_from_torch_seeds_dropout():
    twin = torch.nn.Sequential(torch.nn.Linear(2, 50), torch.nn.Dropout(0.5))
    x = np.ones((4, 2), dtype=np.float32)
    a, b = nn.from_torch(twin, seed=1), nn.from_torch(twin, seed=1)
    np.testing.assert_array_equal(a(x), b(x))
    c = nn.from_torch(twin, seed=2)
    assert not np.array_equal(a(x), c(x))


def test_dtype_helpers():
    assert torch_nn.numpy_dtype(torch.float64) == np.float64
    assert torch_nn.numpy_dtype("float32") == np.float32
    assert torch_nn.torch_dtype(np.float64) is torch.float64
    assert torch_nn.torch_dtype(torch.float32) is torch.float32
    with pytest.raises(DTypeError, match="float16"):
        torch_nn.numpy_dtype(torch.float16)
    with pytest.raises(DTypeError, match="int64"):
        torch_nn.torch_dtype(np.int64)
    with pytest.raises(DTypeError, match="dtype"):
        torch_nn.mlp([2, 1], dtype="not a dtype")


# ------------------------------------------------------------------------------- what cannot go


@pytest.mark.parametrize(
    "layer, name",
    [
        (torch.nn.Conv1d(1, 2, 3), "Conv1d"),
        (torch.nn.LogSoftmax(dim=1), "LogSoftmax"),
        (torch.nn.AvgPool2d(2), "AvgPool2d"),
        (torch.nn.GroupNorm(1, 3), "GroupNorm"),   # BatchNorm1d has a twin since chapter 12
    ],
)
def test_from_torch_names_the_unsupported_layer(layer, name):
    model = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.ReLU(), layer)
    with pytest.raises(ConversionError) as info:
        nn.from_torch(model)
    message = str(info.value)
    assert name in message
    assert "model.2" in message  # where it sits
    assert "torch.nn.Linear" in message and "Step" in message  # what is supported


def test_from_torch_rejects_half_precision_and_non_modules():
    with pytest.raises(ConversionError, match="float16"):
        nn.from_torch(torch.nn.Linear(2, 2).half())
    with pytest.raises(ConversionError, match="torch.nn.Module"):
        nn.from_torch(nn.Linear(2, 2))


def test_from_numpy_names_the_unsupported_layer():
    class Square(nn.Module):
        def forward(self, x):
            return x * x

    with pytest.raises(ConversionError) as info:
        torch_nn.from_numpy(nn.Sequential(nn.Linear(2, 2), Square()))
    message = str(info.value)
    assert "Square" in message and "model.1" in message
    assert "Linear" in message and "Dropout" in message
    with pytest.raises(ConversionError, match="Square"):
        torch_nn.from_numpy(Square())
    with pytest.raises(ConversionError, match="numpy_nn"):
        torch_nn.from_numpy(torch.nn.Linear(2, 2))
