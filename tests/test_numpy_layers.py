"""Layers, activations and containers of ``nncourse.numpy_nn``: gradients, values, bookkeeping."""

import copy
import warnings

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings, strategies as st

from nncourse.numpy_nn import (
    ACTIVATIONS, Dropout, Identity, LeakyReLU, Linear, Module, Parameter, ReLU, Sequential, Sigmoid,
    Softmax, Step, Tanh, gradcheck, init, mlp,
)

FAST = settings(max_examples=25, deadline=None)
seeds = st.integers(0, 2**32 - 1)
batch_sizes = st.integers(1, 5)
widths = st.integers(1, 6)


def away_from_zero(x, margin=1e-3):
    """Move entries near 0 to +-0.5, so finite differences never straddle a kink (ReLU, |x|, step)."""
    return np.where(np.abs(x) < margin, np.copysign(0.5, x), x)


def random_input(seed, shape, dtype=np.float64):
    return away_from_zero(np.random.default_rng(seed).standard_normal(shape) * 2).astype(dtype)


# ---------------------------------------------------------------------------- gradient checks

@FAST
@given(seed=seeds, n=batch_sizes, n_in=widths, n_out=widths, bias=st.booleans(),
       init_name=st.sampled_from(["torch", "uniform", "xavier", "he", "he_uniform", "xavier_normal"]))
def test_linear_gradients_match_finite_differences(seed, n, n_in, n_out, bias, init_name):
    layer = Linear(n_in, n_out, bias=bias, init=init_name, seed=seed, dtype=np.float64)
    result = gradcheck(layer, random_input(seed, (n, n_in)))
    expected = {"input", "weight", "bias"} if bias else {"input", "weight"}
    assert set(result.errors) == expected
    assert result.max_relative_error < 1e-6, result


ACTIVATION_MODULES = [Step, Sigmoid, Tanh, ReLU, LeakyReLU, lambda: LeakyReLU(0.2), Identity,
                      Softmax, lambda: Softmax(dim=0)]


@FAST
@given(seed=seeds, n=batch_sizes, width=widths, make=st.sampled_from(ACTIVATION_MODULES))
def test_activation_gradients_match_finite_differences(seed, n, width, make):
    result = gradcheck(make(), random_input(seed, (n, width)))
    assert result.max_relative_error < 1e-6, result


@FAST
@given(seed=seeds, n=batch_sizes, width=widths, p=st.sampled_from([0.0, 0.2, 0.5, 0.9]))
def test_dropout_gradient_in_training_mode_matches_finite_differences(seed, n, width, p):
    layer = Dropout(p, seed=seed)
    result = gradcheck(layer, random_input(seed, (n, width)))
    assert result.max_relative_error < 1e-6, result


@FAST
@given(seed=seeds, n=batch_sizes, sizes=st.lists(st.integers(1, 5), min_size=2, max_size=4),
       activation=st.sampled_from(["sigmoid", "tanh", "relu", "leaky_relu", "identity"]),
       output_activation=st.sampled_from([None, "sigmoid", "softmax"]),
       dropout=st.sampled_from([0.0, 0.3]))
def test_whole_mlp_gradients_match_finite_differences(seed, n, sizes, activation, output_activation,
                                                      dropout):
    model = mlp(sizes, activation, output_activation=output_activation, dropout=dropout, seed=seed,
                dtype=np.float64)
    x = random_input(seed, (n, sizes[0]))
    eps = 1e-5
    if activation in ("relu", "leaky_relu"):
        # Piecewise linear: central differences are exact between kinks, so a larger eps only cuts
        # rounding noise (leaky slopes of 0.01 shrink some gradients to ~1e-4 of the output, where
        # noise ~1e-16 / eps would reach a relative 1e-6 at eps = 1e-5). Draws with a pre-activation
        # near a kink are skipped: a nudge could cross it, and the difference would be meaningless.
        eps = 1e-4
        assume(all(np.abs(z).min() > 1e-2 for z in _pre_activations(model, x)))
    # eps = 1e-5 otherwise: through several saturated layers some gradients are ~1e-4 of the
    # function value, and with eps = 1e-6 rounding noise alone can then reach a relative 1e-6.
    result = gradcheck(model, x, eps=eps)
    assert set(result.errors) == {"input"} | {name for name, _ in model.named_parameters()}
    assert result.max_relative_error < 1e-6, result


def _pre_activations(model, x):
    """The output of every Linear layer for input ``x``, computed on a copy of ``model`` (so its
    Dropout layers draw the same masks that gradcheck's own copy will draw)."""
    outputs = []
    for layer in copy.deepcopy(model):
        x = layer(x)
        if isinstance(layer, Linear):
            outputs.append(x)
    return outputs


def test_step_backward_is_zero_and_forward_is_heaviside():
    step = Step()
    z = np.array([[-2.0, -1e-9, 0.0, 3.0]])
    np.testing.assert_array_equal(step(z), [[0.0, 0.0, 1.0, 1.0]])
    np.testing.assert_array_equal(step.backward(np.ones_like(z)), np.zeros_like(z))


# ---------------------------------------------------------------------------- values vs torch

TORCH_PAIRS = [
    (Sigmoid, torch.nn.Sigmoid),
    (Tanh, torch.nn.Tanh),
    (ReLU, torch.nn.ReLU),
    (lambda: LeakyReLU(0.1), lambda: torch.nn.LeakyReLU(0.1)),
    (Softmax, lambda: torch.nn.Softmax(dim=-1)),
    (lambda: Softmax(dim=0), lambda: torch.nn.Softmax(dim=0)),
    (Identity, torch.nn.Identity),
]


@pytest.mark.parametrize("make_ours, make_torch", TORCH_PAIRS)
def test_activation_forward_and_backward_match_torch(make_ours, make_torch):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((7, 5)) * 4
    upstream = rng.standard_normal((7, 5))
    ours = make_ours()
    y = ours(x)
    grad = ours.backward(upstream)
    tx = torch.tensor(x, requires_grad=True)
    ty = make_torch()(tx)
    ty.backward(torch.tensor(upstream))
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(grad, tx.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_linear_forward_and_backward_match_torch():
    rng = np.random.default_rng(1)
    ours = Linear(6, 4, seed=3, dtype=np.float64)
    theirs = torch.nn.Linear(6, 4, dtype=torch.float64)
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(ours.weight.data))
        theirs.bias.copy_(torch.from_numpy(ours.bias.data))
    x = rng.standard_normal((5, 6))
    upstream = rng.standard_normal((5, 4))
    tx = torch.tensor(x, requires_grad=True)
    ty = theirs(tx)
    ty.backward(torch.tensor(upstream))
    np.testing.assert_allclose(ours(x), ty.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.backward(upstream), tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.bias.grad, theirs.bias.grad.numpy(), rtol=1e-12)


def test_sigmoid_is_stable_for_huge_inputs():
    z = np.array([[-1000.0, -80.0, 0.0, 80.0, 1000.0]])
    for dtype in (np.float32, np.float64):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with np.errstate(over="raise", invalid="raise", divide="raise"):
                s = Sigmoid()(z.astype(dtype))
        assert np.isfinite(s).all()
        assert s[0, 0] == 0.0 and s[0, -1] == 1.0 and s[0, 2] == 0.5
    expected = torch.sigmoid(torch.tensor(z)).numpy()
    np.testing.assert_allclose(Sigmoid()(z), expected, rtol=1e-12, atol=0)


def test_softmax_is_stable_and_rows_sum_to_one():
    z = np.array([[1000.0, 1001.0, 999.0], [-1000.0, -1000.0, -1000.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        p = Softmax()(z)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(p[1], 1 / 3, rtol=1e-12)
    np.testing.assert_allclose(p, torch.softmax(torch.tensor(z), dim=-1).numpy(), rtol=1e-12)


# ---------------------------------------------------------------------------- dtypes

@pytest.mark.parametrize("make", [Step, Sigmoid, Tanh, ReLU, LeakyReLU, Softmax, Identity,
                                  lambda: Dropout(0.5, seed=0)])
def test_activations_keep_float32(make):
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    layer = make()
    y = layer(x)
    assert y.dtype == np.float32
    assert layer.backward(np.ones_like(y)).dtype == np.float32


def test_float32_network_stays_float32_through_forward_and_backward():
    model = mlp([5, 4, 3], "sigmoid", dropout=0.2, seed=0)
    x = np.random.default_rng(0).standard_normal((6, 5)).astype(np.float32)
    out = model(x)
    assert out.dtype == np.float32
    grad_x = model.backward(np.ones_like(out))
    assert grad_x.dtype == np.float32
    assert all(p.data.dtype == np.float32 and p.grad.dtype == np.float32 for p in model.parameters())


# ---------------------------------------------------------------------------- Linear and init

def test_linear_shapes_and_torch_default_bounds():
    layer = Linear(50, 20, seed=0)
    assert layer.weight.shape == (20, 50) and layer.bias.shape == (20,)
    assert layer.weight.dtype == np.float32
    bound = 1 / np.sqrt(50)
    assert np.abs(layer.weight.data).max() <= bound and np.abs(layer.bias.data).max() <= bound
    # the draws fill the interval (not all zeros, not a constant)
    assert np.abs(layer.weight.data).max() > 0.9 * bound
    assert layer(np.zeros((3, 50), np.float32)).shape == (3, 20)


def test_linear_without_bias_has_only_a_weight():
    layer = Linear(3, 2, bias=False, seed=0)
    assert layer.bias is None
    assert [name for name, _ in layer.named_parameters()] == ["weight"]
    x = np.ones((1, 3), np.float32)
    np.testing.assert_allclose(layer(x), x @ layer.weight.data.T)


def test_linear_seed_and_rng_are_reproducible():
    a, b = Linear(4, 3, seed=7), Linear(4, 3, seed=7)
    c = Linear(4, 3, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    np.testing.assert_array_equal(a.weight.data, c.weight.data)
    assert not np.array_equal(a.weight.data, Linear(4, 3, seed=8).weight.data)


def test_initialisers_follow_their_rules():
    rng = np.random.default_rng(0)
    shape = (300, 200)  # (out, in)
    fan_in, fan_out = 200, 300
    assert np.abs(init.get("uniform")(shape, rng)).max() <= 0.12
    glorot = np.sqrt(6 / (fan_in + fan_out))
    xavier = init.get("xavier")(shape, rng)
    assert np.abs(xavier).max() <= glorot and np.abs(xavier).max() > 0.95 * glorot
    assert init.get("glorot") is init.get("xavier") and init.get("kaiming") is init.get("he")
    np.testing.assert_allclose(init.get("he")(shape, rng).std(), np.sqrt(2 / fan_in), rtol=0.03)
    np.testing.assert_allclose(init.get("he_uniform")(shape, rng).std(), np.sqrt(2 / fan_in), rtol=0.03)
    np.testing.assert_allclose(init.get("xavier_normal")(shape, rng).std(), np.sqrt(2 / (fan_in + fan_out)),
                               rtol=0.03)
    assert not init.get("zeros")(shape, rng).any()
    # bias: drawn for torch/uniform, zero for the others
    assert np.abs(Linear(200, 300, init="torch", seed=0).bias.data).max() > 0
    assert not Linear(200, 300, init="he", seed=0).bias.data.any()


# ---------------------------------------------------------------------------- Dropout

def test_dropout_training_zeroes_about_p_and_rescales_survivors():
    x = np.ones((200, 100), np.float32)
    layer = Dropout(0.3, seed=0)
    y = layer(x)
    dropped = (y == 0).mean()
    assert 0.28 < dropped < 0.32
    np.testing.assert_allclose(y[y != 0], 1 / 0.7, rtol=1e-6)
    assert abs(y.mean() - 1) < 0.02
    # backward uses the same mask
    grad = layer.backward(np.ones_like(y))
    np.testing.assert_array_equal(grad, y)


def test_dropout_eval_is_identity_and_train_switches_back():
    layer = Dropout(0.5, seed=0)
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    layer.eval()
    assert not layer.training
    np.testing.assert_array_equal(layer(x), x)
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), np.ones_like(x))
    layer.train()
    assert layer.training
    assert (layer(np.ones((50, 50), np.float32)) == 0).any()


def test_train_and_eval_reach_nested_modules():
    model = Sequential(Linear(2, 2), Sequential(Dropout(0.5), ReLU()))
    model.eval()
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


# ---------------------------------------------------------------------------- gradient bookkeeping

def test_gradients_accumulate_until_zero_grad():
    model = mlp([3, 4, 2], seed=0, dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((5, 3))
    upstream = np.random.default_rng(1).standard_normal((5, 2))
    model(x)
    model.backward(upstream)
    first = {name: p.grad.copy() for name, p in model.named_parameters()}
    model(x)
    model.backward(upstream)
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad, 2 * first[name], rtol=1e-12)
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_need_input_grad_false_skips_only_the_input_gradient():
    x = np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32)
    upstream = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    full, lean = mlp([6, 5, 3], seed=2), mlp([6, 5, 3], seed=2)
    full(x)
    lean(x)
    assert full.backward(upstream).shape == (4, 6)
    assert lean.backward(upstream, need_input_grad=False) is None
    for (name, p), q in zip(full.named_parameters(), lean.parameters()):
        np.testing.assert_allclose(p.grad, q.grad, rtol=1e-6, err_msg=name)


def test_parameter_basics():
    p = Parameter(np.zeros((3, 2), np.float32))
    assert p.shape == (3, 2) and p.dtype == np.float32 and p.numel() == 6 and p.grad is None
    p.accumulate_grad(np.ones((3, 2), np.float32))
    p.accumulate_grad(np.ones((3, 2), np.float32))
    np.testing.assert_array_equal(p.grad, 2)


# ---------------------------------------------------------------------------- containers, names, state

def test_sequential_names_indexing_and_repr():
    model = mlp([784, 256, 128, 10], seed=0)
    assert [type(m).__name__ for m in model] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert len(model) == 5 and isinstance(model[0], Linear) and isinstance(model[-1], Linear)
    assert isinstance(model[:2], Sequential) and len(model[:2]) == 2
    names = [name for name, _ in model.named_parameters()]
    assert names == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    assert sum(p.numel() for p in model.parameters()) == 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10
    text = repr(model)
    assert text.startswith("Sequential(\n  (0): Linear(in_features=784, out_features=256, bias=True)\n  (1): ReLU()")
    assert text.endswith("(4): Linear(in_features=128, out_features=10, bias=True)\n)")


def test_state_dict_round_trip():
    source, target = mlp([4, 5, 3], seed=0), mlp([4, 5, 3], seed=1)
    x = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)
    assert not np.allclose(source(x), target(x))
    state = source.state_dict()
    assert list(state) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    target.load_state_dict(state)
    np.testing.assert_array_equal(source(x), target(x))
    # the state dict is a copy: changing it changes neither model
    state["0.weight"][:] = 0
    assert source[0].weight.data.any() and target[0].weight.data.any()


def test_custom_module_registers_parameters_and_submodules():
    class Affine(Module):
        def __init__(self):
            super().__init__()
            self.scale = Parameter(np.ones(3))
            self.inner = Linear(3, 3, dtype=np.float64)

    names = [name for name, _ in Affine().named_parameters()]
    assert names == ["scale", "inner.weight", "inner.bias"]


# ---------------------------------------------------------------------------- mlp builder

def test_mlp_structure_and_options():
    model = mlp([2, 8, 8, 1], "tanh", output_activation="sigmoid", dropout=0.25, seed=0, dtype=np.float64)
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Linear", "Tanh", "Dropout", "Linear", "Tanh", "Dropout", "Linear", "Sigmoid"]
    assert all(p.dtype == np.float64 for p in model.parameters())
    assert isinstance(mlp([2, 3, 1], ReLU)[1], ReLU)
    assert set(ACTIVATIONS) == {"step", "sigmoid", "tanh", "relu", "leaky_relu", "identity"}
    for name, cls in ACTIVATIONS.items():
        assert isinstance(mlp([2, 3, 1], name)[1], cls)


def test_mlp_is_reproducible_and_dropout_does_not_change_initial_weights():
    a, b = mlp([6, 5, 4, 2], seed=3), mlp([6, 5, 4, 2], seed=3)
    with_dropout = mlp([6, 5, 4, 2], dropout=0.5, seed=3)
    for p, q, r in zip(a.parameters(), b.parameters(), with_dropout.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
        np.testing.assert_array_equal(p.data, r.data)
    c = mlp([6, 5, 4, 2], seed=4)
    assert not np.array_equal(a[0].weight.data, c[0].weight.data)
    # each Linear has its own stream: two equal-sized layers do not start equal
    same = mlp([5, 5, 5], seed=0)
    assert not np.array_equal(same[0].weight.data, same[2].weight.data)


def test_module_to_casts_parameters():
    model = mlp([3, 2], seed=0)
    model.double()
    assert model[0].weight.dtype == np.float64 and model[0].dtype == np.float64
    assert model(np.ones((1, 3))).dtype == np.float64
