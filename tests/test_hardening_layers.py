"""Named errors for the NumPy layers, losses, initialisers, schedulers, functional ops, gradcheck and torch_nn
(issue 27, section 4: the contract sweep's cases in numpy_nn and torch_nn). Each test asserts the error class and
the words that name the argument and the fix."""

import math

import numpy as np
import pytest
import torch

from nncourse import numpy_nn as nn
from nncourse import torch_nn
from nncourse.errors import ConfigError, ConversionError, CourseError, DTypeError, ShapeError
from nncourse.numpy_nn import functional as F
from nncourse.numpy_nn import init, lr_scheduler


# ------------------------------------------------------------------ initialisers
@pytest.mark.parametrize("name", ["he_normal", "he_uniform", "torch_default", "uniform", "xavier_uniform",
                                  "xavier_normal"])
@pytest.mark.parametrize("rng", [0, "3", 2.5, None])
def test_initialisers_refuse_a_seed_where_a_generator_is_expected(name, rng):
    with pytest.raises(ConfigError, match=rf"{name}: rng must be a numpy.random.Generator.*default_rng\(seed\)"):
        getattr(init, name)((3, 4), rng)


def test_zeros_takes_no_rng_or_a_generator_and_refuses_anything_else():
    assert init.zeros((2, 3)).shape == (2, 3)
    assert init.zeros((2, 3), np.random.default_rng(0)).shape == (2, 3)
    with pytest.raises(ConfigError, match="zeros: rng must be a numpy.random.Generator"):
        init.zeros((2, 3), "3")


@pytest.mark.parametrize("name", ["xavier_uniform", "xavier_normal"])
@pytest.mark.parametrize("gain", [float("nan"), float("inf"), -1.0, "0.1"])
def test_xavier_refuses_a_gain_that_is_not_a_finite_non_negative_number(name, gain):
    with pytest.raises(ConfigError, match=rf"{name}: gain must be a finite number >= 0.*write gain="):
        getattr(init, name)((3, 4), np.random.default_rng(0), gain=gain)


@pytest.mark.parametrize("eps", [float("nan"), float("inf"), -1.0, "0.1"])
def test_uniform_refuses_a_bad_eps(eps):
    with pytest.raises(ConfigError, match=r"uniform: eps must be a finite number >= 0"):
        init.uniform((3, 4), np.random.default_rng(0), eps=eps)


def test_initialisers_draw_what_their_formula_says():
    # the checks only look: gain and eps are used as given, so the draw is the formula's, number for number
    for gain in [2.0, np.float32(2.0), 2]:
        bound = gain * math.sqrt(6.0 / 7)                 # as init writes it (a float32 gain stays float32)
        want = np.random.default_rng(0).uniform(-bound, bound, size=(3, 4))
        np.testing.assert_array_equal(init.xavier_uniform((3, 4), np.random.default_rng(0), gain=gain), want)
    want = np.random.default_rng(0).uniform(-0.12, 0.12, size=(3, 4))
    np.testing.assert_array_equal(init.uniform((3, 4), np.random.default_rng(0)), want)


@pytest.mark.parametrize("weight_shape", [[float("nan"), 4], [], [[1.0, 2.0], [3.0]], [2.5, 4], (0, 3)])
def test_bias_names_weight_shape(weight_shape):
    with pytest.raises(ConfigError, match=r"bias: initialisers .*weight_shape.*\(out_features, in_features\)"):
        init.bias("torch", weight_shape, np.random.default_rng(0))


def test_bias_accepts_numpy_integers_and_refuses_a_seed():
    shape = (np.int64(3), np.int64(4))
    assert init.bias("torch", shape, np.random.default_rng(0)).shape == (3,)
    with pytest.raises(ConfigError, match="bias: rng must be a numpy.random.Generator"):
        init.bias("he", (3, 4), 0)


# ------------------------------------------------------------------ losses
@pytest.mark.parametrize("loss", [nn.MSELoss(), nn.L1Loss(), nn.BCELoss(), nn.BCEWithLogitsLoss()])
def test_elementwise_losses_name_a_ragged_output_or_target(loss):
    good = np.full((2, 2), 0.5)
    with pytest.raises(ShapeError, match=r"output must be a rectangular array.*same length"):
        loss([[0.5, 0.5], [0.5]], good)
    with pytest.raises(ShapeError, match=r"target must be a rectangular array.*same length"):
        loss(good, [[1.0, 0.0], [1.0]])


@pytest.mark.parametrize("loss", [nn.CrossEntropyLoss(), nn.NLLLoss()])
def test_class_losses_name_a_ragged_output_or_target(loss):
    with pytest.raises(ShapeError, match=r"output must be a rectangular array"):
        loss([[0.1, 0.2], [0.3]], np.array([0, 1]))
    with pytest.raises(ShapeError, match=r"target must be a rectangular array"):
        loss(np.zeros((2, 2)), [[0, 1], [1]])


def test_integer_targets_of_elementwise_losses_are_cast_as_before():
    output = np.array([[0.2], [0.9]], dtype=np.float32)
    assert nn.BCELoss()(output, np.array([[0], [1]])) == nn.BCELoss()(output, np.array([[0.0], [1.0]], np.float32))
    assert nn.MSELoss()(output, np.array([[0], [1]])) == nn.MSELoss()(output, np.array([[0.0], [1.0]], np.float32))


# ------------------------------------------------------------------ layers
def test_conv_and_pool_shape_errors_name_the_input():
    with pytest.raises(ShapeError, match=r"Conv2d.*expects images of shape.*got input of shape \(1, 2, 1, 5, 5\)"):
        nn.Conv2d(1, 2, 3, seed=0)(np.zeros((1, 2, 1, 5, 5), np.float32))
    with pytest.raises(ShapeError, match=r"MaxPool2d.*got input of shape \(1, 2, 1, 4, 4\): reshape the input"):
        nn.MaxPool2d(2)(np.zeros((1, 2, 1, 4, 4), np.float32))


def test_flatten_reshapes_an_empty_batch_like_torch():
    x = np.zeros((0, 2, 3, 4), np.float32)
    out = nn.Flatten()(x)
    assert out.shape == tuple(torch.nn.Flatten()(torch.from_numpy(x)).shape) == (0, 24)


def test_flatten_backward_refuses_a_list_or_integers():
    layer = nn.Flatten()
    out = layer(np.ones((2, 3, 4), np.float32))
    with pytest.raises(DTypeError, match=r"Flatten.backward expects grad_output as a NumPy float array.*got list"):
        layer.backward(out.tolist())
    with pytest.raises(DTypeError, match=r"Flatten.backward expects grad_output.*got dtype int64"):
        layer.backward(np.ones(out.shape, np.int64))


def test_layernorm_refuses_an_infinite_eps():
    with pytest.raises(ConfigError, match=r"LayerNorm: eps must be a small finite number > 0 \(e.g. 1e-5\), got inf"):
        nn.LayerNorm(3, eps=float("inf"))


@pytest.mark.parametrize("make", [lambda: nn.LSTM(3, 4, seed=0), lambda: nn.GRU(3, 4, seed=0),
                                  lambda: nn.RNN(3, 4, seed=0)])
def test_recurrent_layers_name_their_input(make):
    layer = make()
    with pytest.raises(DTypeError, match=r"expects float input vectors, got dtype int64.*Embedding"):
        layer(np.zeros((2, 1, 3), np.int64))
    with pytest.raises(ShapeError, match=r"input must be a rectangular array.*same length"):
        layer([[1.0, 2.0], [3.0]])


def test_embedding_names_a_ragged_input():
    with pytest.raises(ShapeError, match=r"Embedding\(5, 3\): input must be a rectangular array"):
        nn.Embedding(5, 3, seed=0)([[1, 2], [3]])


def test_transformer_block_names_its_dropout_and_an_empty_input():
    for bad in [float("nan"), -1.0, "0.1"]:
        with pytest.raises(ConfigError, match=r"TransformerBlock: dropout must be a number in \[0, 1\)"):
            nn.TransformerBlock(8, 2, dropout=bad)
    with pytest.raises(ShapeError, match=r"TransformerBlock.*got an empty input of shape \(0, 4, 8\)"):
        nn.TransformerBlock(8, 2, seed=0)(np.zeros((0, 4, 8), np.float32))


# ------------------------------------------------------------------ Parameter, Module, Sequential, Optimizer
def test_accumulate_grad_names_grad():
    p = nn.Parameter(np.zeros((2, 3), np.float32))
    with pytest.raises(DTypeError, match=r"accumulate_grad: grad must be a NumPy float array.*got list"):
        p.accumulate_grad([[1.0, 2.0], [3.0]])
    with pytest.raises(DTypeError, match=r"accumulate_grad: grad must be a NumPy float array.*got dtype int64"):
        p.accumulate_grad(np.ones((2, 3), np.int64))
    with pytest.raises(ShapeError, match=r"gradient of shape \(0, 3\): grad must have exactly its parameter's shape"):
        p.accumulate_grad(np.ones((0, 3), np.float32))
    with pytest.raises(DTypeError, match=r"accumulate_grad: grad must be a NumPy float array.*got Tensor"):
        p.accumulate_grad(torch.ones(2, 3))
    assert p.grad is None                          # nothing was added
    p.accumulate_grad(np.ones((2, 3), np.float32))
    assert p.grad.sum() == 6


@pytest.mark.parametrize("config", [{}, "config", None, {"layers": "relu"}])
def test_sequential_from_config_names_config(config):
    with pytest.raises(ConfigError, match=r"Sequential.from_config: config must be a dict \{'layers'.*get_config"):
        nn.Sequential.from_config(config)


def test_sequential_from_config_still_rebuilds():
    model = nn.Sequential(nn.Linear(3, 2, seed=0), nn.ReLU())
    again = nn.Sequential.from_config(model.get_config())
    assert [type(m) for m in again.children()] == [nn.Linear, nn.ReLU]


def test_optimizer_names_bad_defaults():
    params = list(nn.Linear(3, 2, seed=0).parameters())
    with pytest.raises(ConfigError, match=r"Optimizer: defaults must be a dict of hyper-parameters.*NoneType"):
        nn.Optimizer(params, None)
    with pytest.raises(ConfigError, match=r"Optimizer: defaults\['lr'\] must be a finite number, got nan"):
        nn.Optimizer(params, {"lr": float("nan")})
    assert nn.Optimizer(params, {"lr": 0.1, "betas": (0.9, 0.999), "amsgrad": False}).defaults["lr"] == 0.1


# ------------------------------------------------------------------ functional, gradcheck, conversion
def test_attention_backward_names_cache_and_grad_output():
    q = np.random.default_rng(0).normal(size=(2, 3, 4))
    out, cache = F.attention_forward(q, q, q)
    with pytest.raises(ConfigError, match=r"attention_backward: cache must be the AttentionCache.*attention_forward"):
        F.attention_backward(np.ones_like(out), None)
    with pytest.raises(ConfigError, match=r"cache must be the AttentionCache.*got tuple"):
        F.attention_backward(np.ones_like(out), (q, q))
    with pytest.raises(DTypeError, match=r"grad_output must hold floating-point numbers.*astype\(np.float64\)"):
        F.attention_backward(np.ones(out.shape, np.int64), cache)


def test_padding_mask_names_ragged_lengths():
    with pytest.raises(ShapeError, match=r"padding_mask: lengths must be a rectangular array"):
        F.padding_mask([[1, 2], [3]])


def test_gradcheck_names_module_or_loss_and_integer_inputs():
    with pytest.raises(CourseError, match=r"gradcheck: module_or_loss must be a Module or a loss.*got str"):
        nn.gradcheck("linear", np.zeros((2, 3)))
    with pytest.raises(DTypeError, match=r"gradcheck: inputs must hold floating-point numbers.*astype\(np.float64\)"):
        nn.gradcheck(nn.Linear(3, 2, seed=0), np.ones((2, 3), np.int64))
    with pytest.raises(ShapeError, match=r"gradcheck: inputs must be a rectangular array"):
        nn.gradcheck(nn.Linear(3, 2, seed=0), [[1.0, 2.0, 3.0], [1.0]])
    assert nn.gradcheck(nn.Linear(3, 2, seed=0), np.ones((2, 3), np.float32)).passed


def test_relative_error_refuses_integer_gradients():
    for name, args in [("analytic", (np.array([1, 2]), np.array([1.0, 2.0]))),
                       ("numeric", (np.array([1.0, 2.0]), np.array([1, 2])))]:
        with pytest.raises(DTypeError, match=rf"relative_error: {name} must be a gradient of floating-point"):
            nn.relative_error(*args)
    assert nn.relative_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0


def test_from_torch_names_torch_module():
    with pytest.raises(ConversionError, match=r"from_torch: torch_module must be a torch.nn.Module, got Sequential"):
        nn.from_torch(nn.Sequential(nn.Linear(3, 2, seed=0)))


# ------------------------------------------------------------------ schedulers, mlp
def _sgd():
    return nn.SGD(nn.Linear(2, 1, seed=0).parameters(), lr=0.1)


def test_sequential_lr_names_schedulers_and_milestones():
    opt = _sgd()
    first = lr_scheduler.LinearLR(opt, 0.5, total_iters=2)
    with pytest.raises(ConfigError, match=r"every scheduler in schedulers must belong to the same optimizer"):
        lr_scheduler.SequentialLR(opt, [first, lr_scheduler.StepLR(_sgd(), 2)], milestones=[2])
    with pytest.raises(ConfigError, match=r"milestones must hold 1 epoch\(s\) for 2 schedulers.*got 0"):
        lr_scheduler.SequentialLR(opt, [first, lr_scheduler.StepLR(opt, 2)], milestones=[])


@pytest.mark.parametrize("build", [nn.mlp, torch_nn.mlp])
@pytest.mark.parametrize("seed", ["3", 2.5, -1, True])
def test_mlp_names_a_bad_seed(build, seed):
    fix = "without quotes" if isinstance(seed, str) else "for example seed=0"
    with pytest.raises(ConfigError, match=rf"mlp: seed must be a whole number >= 0.*{fix}"):
        build([2, 3, 1], seed=seed)


def test_mlp_takes_numpy_integer_seeds_and_generators():
    a = nn.mlp([2, 3, 1], seed=np.int64(5))
    b = nn.mlp([2, 3, 1], seed=5)
    c = nn.mlp([2, 3, 1], seed=np.random.default_rng(5))
    np.testing.assert_array_equal(a[0].weight.data, b[0].weight.data)
    np.testing.assert_array_equal(a[0].weight.data, c[0].weight.data)


# ------------------------------------------------------------------ torch_nn
def test_torch_step_refuses_what_numpy_step_refuses():
    for z in [torch.ones(2, 3, dtype=torch.int64), [[1.0, 2.0], [3.0]]]:
        with pytest.raises(DTypeError, match=r"Step expects a floating-point input tensor"):
            torch_nn.Step()(z)
    with pytest.raises(DTypeError, match=r"Step expects a floating-point input"):
        nn.Step()(np.ones((2, 3), np.int64))
    assert torch_nn.Step()(torch.tensor([-1.0, 0.0, 2.0])).tolist() == [0.0, 1.0, 1.0]


def test_torch_transformer_block_names_its_input():
    block = torch_nn.TransformerBlock(8, 2)
    with pytest.raises(DTypeError, match=r"TransformerBlock\(d_model=8, n_heads=2\) expects a floating-point input"):
        block(torch.ones(1, 4, 8, dtype=torch.int64))
    with pytest.raises(ShapeError, match=r"expects input of shape \(batch, seq, 8\), got \(1, 2, 4, 8\)"):
        block(torch.ones(1, 2, 4, 8))
    with pytest.raises(DTypeError, match=r"expects a torch tensor as input, got list"):
        block([[1.0, 2.0], [3.0]])
    assert block(torch.ones(2, 4, 8)).shape == (2, 4, 8)


@pytest.mark.parametrize("convert", [torch_nn.numpy_dtype, torch_nn.torch_dtype])
@pytest.mark.parametrize("argument", ["", b"dtype", None])
def test_dtype_translators_name_a_bad_argument_label(convert, argument):
    with pytest.raises(ConfigError, match=rf"{convert.__name__}: argument must"):
        convert(np.float32, argument)
