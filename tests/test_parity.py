"""The NumPy network and its PyTorch twin compute the same numbers.

For multi-layer perceptrons of 1 to 4 layers, every hidden activation and every loss, both back ends
must agree on the output, the loss and every parameter gradient; and after 5 steps of each optimizer
(with and without a learning-rate schedule) on the parameters themselves.

Tolerances: float64 within 1e-9 (of max(1, |expected|)), float32 within 1e-4 relative (to the
largest expected value, floored at 1e-2 so that values near zero are compared absolutely).
"""

import itertools

import numpy as np
import pytest
import torch

import nncourse.numpy_nn as nn
from nncourse import torch_nn

HIDDEN_ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "identity"]
DEPTHS = [1, 2, 3, 4]
DTYPES = [np.float64, np.float32]
N_IN, N_OUT, BATCH = 3, 3, 8

# loss name -> (output activation of the mlp, kind of target)
LOSSES = {
    "mse": (None, "real"),
    "mse_on_softmax": ("softmax", "probabilities"),
    "l1": (None, "real"),
    "bce": ("sigmoid", "binary"),
    "bce_with_logits": (None, "binary"),
    "cross_entropy": (None, "class"),
    "nll": ("softmax", "class"),  # NLL on log(softmax(z)): the log is taken between model and loss
}

NUMPY_LOSSES = {"mse": nn.MSELoss, "mse_on_softmax": nn.MSELoss, "l1": nn.L1Loss, "bce": nn.BCELoss,
                "bce_with_logits": nn.BCEWithLogitsLoss, "cross_entropy": nn.CrossEntropyLoss,
                "nll": nn.NLLLoss}
TORCH_LOSSES = {"mse": torch.nn.MSELoss, "mse_on_softmax": torch.nn.MSELoss, "l1": torch.nn.L1Loss,
                "bce": torch.nn.BCELoss, "bce_with_logits": torch.nn.BCEWithLogitsLoss,
                "cross_entropy": torch.nn.CrossEntropyLoss, "nll": torch.nn.NLLLoss}


def sizes_for(depth):
    """``depth`` Linear layers: [3, 3] for one layer up to [3, 6, 5, 4, 3] for four."""
    hidden = [6, 5, 4][: depth - 1]
    return [N_IN, *hidden, N_OUT]


def make_data(loss_name, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(BATCH, N_IN)).astype(dtype)
    kind = LOSSES[loss_name][1]
    if kind == "real":
        y = rng.normal(size=(BATCH, N_OUT)).astype(dtype)
    elif kind == "probabilities":
        y = rng.dirichlet(np.ones(N_OUT), size=BATCH).astype(dtype)
    elif kind == "binary":
        y = rng.integers(0, 2, size=(BATCH, N_OUT)).astype(dtype)
    else:
        y = rng.integers(0, N_OUT, size=BATCH)  # int64 class indices
    return x, y


def make_models(depth, activation, loss_name, dtype, seed=0):
    """The same mlp in both back ends (the torch one built by ``torch_nn.mlp`` with the same seed)."""
    kwargs = dict(output_activation=LOSSES[loss_name][0], seed=seed, dtype=dtype)
    return (nn.mlp(sizes_for(depth), activation, **kwargs),
            torch_nn.mlp(sizes_for(depth), activation, **kwargs))


def numpy_forward_backward(model, loss_name, x, y):
    """Output, loss; fills every p.grad (the NumPy way: an explicit backward pass)."""
    loss_fn = NUMPY_LOSSES[loss_name]()
    out = model(x)
    if loss_name == "nll":
        loss = loss_fn(np.log(out), y)
        grad_out = loss_fn.backward() / out  # d log(p) / dp = 1 / p
    else:
        loss = loss_fn(out, y)
        grad_out = loss_fn.backward()
    model.backward(grad_out)
    return out, loss


def torch_forward_backward(model, loss_name, x, y):
    loss_fn = TORCH_LOSSES[loss_name]()
    out = model(torch.from_numpy(x))
    scores = torch.log(out) if loss_name == "nll" else out
    loss = loss_fn(scores, torch.from_numpy(y))
    loss.backward()
    return out.detach().numpy(), loss.item()


def assert_close(actual, expected, dtype, what):
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, what
    largest = float(np.max(np.abs(expected)))
    if dtype == np.float64:
        tolerance = 1e-9 * max(1.0, largest)
    else:
        tolerance = 1e-4 * max(1e-2, largest)
    error = float(np.max(np.abs(actual - expected)))
    assert error <= tolerance, f"{what}: max |numpy - torch| = {error:.3g} > {tolerance:.3g}"


def assert_same_parameters(numpy_model, torch_model, dtype, what="parameter"):
    numpy_params = dict(numpy_model.named_parameters())
    torch_params = dict(torch_model.named_parameters())
    assert numpy_params.keys() == torch_params.keys()
    for name, p in numpy_params.items():
        assert p.data.dtype == dtype, name
        assert_close(p.data, torch_params[name].detach().numpy(), dtype, f"{what} {name}")


# ----------------------------------------------------------------- output, loss and gradients


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("loss_name", list(LOSSES))
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
@pytest.mark.parametrize("depth", DEPTHS)
def test_output_loss_and_gradients_match(depth, activation, loss_name, dtype):
    numpy_model, torch_model = make_models(depth, activation, loss_name, dtype)
    x, y = make_data(loss_name, dtype)

    out, loss = numpy_forward_backward(numpy_model, loss_name, x, y)
    torch_out, torch_loss = torch_forward_backward(torch_model, loss_name, x, y)

    assert out.dtype == dtype
    assert_close(out, torch_out, dtype, "output")
    assert_close(loss, torch_loss, dtype, "loss")
    torch_grads = {name: t.grad.numpy() for name, t in torch_model.named_parameters()}
    numpy_grads = {name: p.grad for name, p in numpy_model.named_parameters()}
    assert numpy_grads.keys() == torch_grads.keys()
    assert len(numpy_grads) == 2 * depth
    for name, grad in numpy_grads.items():
        assert grad.dtype == dtype, name
        assert_close(grad, torch_grads[name], dtype, f"gradient of {name}")


# ----------------------------------------------------------------- 5 optimizer steps

OPTIMIZERS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.2)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.01)),
    ("Adagrad", dict(lr=0.05, lr_decay=0.1, initial_accumulator_value=0.1, weight_decay=0.01)),
    ("Adadelta", dict(lr=1.0, rho=0.8, weight_decay=0.01)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.95), amsgrad=True, weight_decay=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
]
SCHEDULERS = [
    None,
    ("StepLR", dict(step_size=2, gamma=0.5)),
    ("ExponentialLR", dict(gamma=0.8)),
    ("CosineAnnealingLR", dict(T_max=4, eta_min=1e-3)),
]


def _id(config):
    if config is None:
        return "constant_lr"
    name, kwargs = config
    return name + "(" + ",".join(f"{k}={v}" for k, v in kwargs.items()) + ")"


# Each optimizer x schedule x dtype runs on a different network from the grid above, so that
# together they touch every depth, activation and loss without multiplying the cases.
NETWORKS = list(itertools.product(DEPTHS, HIDDEN_ACTIVATIONS, LOSSES))
TRAINING_CASES = [
    pytest.param(opt, sched, dtype, NETWORKS[(97 * i) % len(NETWORKS)],
                 id=f"{_id(opt)}-{_id(sched)}-{np.dtype(dtype).name}")
    for i, (opt, sched, dtype) in enumerate(itertools.product(OPTIMIZERS, SCHEDULERS, DTYPES))
]


@pytest.mark.parametrize("optimizer, scheduler, dtype, network", TRAINING_CASES)
def test_parameters_after_five_steps_match(optimizer, scheduler, dtype, network):
    depth, activation, loss_name = network
    numpy_model, torch_model = make_models(depth, activation, loss_name, dtype, seed=7)
    x, y = make_data(loss_name, dtype, seed=7)
    start = {name: p.data.copy() for name, p in numpy_model.named_parameters()}

    name, kwargs = optimizer
    numpy_opt = getattr(nn, name)(numpy_model.parameters(), **kwargs)
    torch_opt = getattr(torch.optim, name)(torch_model.parameters(), **kwargs)
    if scheduler is not None:
        sched_name, sched_kwargs = scheduler
        numpy_sched = getattr(nn.lr_scheduler, sched_name)(numpy_opt, **sched_kwargs)
        torch_sched = getattr(torch.optim.lr_scheduler, sched_name)(torch_opt, **sched_kwargs)

    for _ in range(5):
        numpy_opt.zero_grad()
        torch_opt.zero_grad()
        _, loss = numpy_forward_backward(numpy_model, loss_name, x, y)
        _, torch_loss = torch_forward_backward(torch_model, loss_name, x, y)
        assert_close(loss, torch_loss, dtype, "loss during training")
        numpy_opt.step()
        torch_opt.step()
        if scheduler is not None:
            numpy_sched.step()
            torch_sched.step()
            assert numpy_sched.get_last_lr()[0] == pytest.approx(torch_sched.get_last_lr()[0],
                                                                 rel=1e-12)

    assert_same_parameters(numpy_model, torch_model, dtype, "after 5 steps:")
    moved = max(np.max(np.abs(p.data - start[n])) for n, p in numpy_model.named_parameters())
    assert moved > 1e-4, "the optimizer did not change the weights: the comparison proves nothing"


# ----------------------------------------------------------------- same seed, same network


@pytest.mark.parametrize("dtype", [np.float32, np.float64, torch.float32, torch.float64])
@pytest.mark.parametrize("init", ["torch", "xavier", "he"])
def test_mlp_same_seed_same_weights(init, dtype):
    sizes = [4, 7, 5, 2]
    numpy_model = nn.mlp(sizes, "tanh", init=init, seed=11, dtype=torch_nn.numpy_dtype(dtype))
    torch_model = torch_nn.mlp(sizes, "tanh", init=init, seed=11, dtype=dtype)
    assert isinstance(torch_model, torch.nn.Sequential)
    numpy_params = dict(numpy_model.named_parameters())
    torch_params = dict(torch_model.named_parameters())
    assert list(numpy_params) == list(torch_params) == [
        "0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    for name, p in numpy_params.items():
        t = torch_params[name].detach().numpy()
        assert t.dtype == p.data.dtype == torch_nn.numpy_dtype(dtype)
        np.testing.assert_array_equal(p.data, t, err_msg=name)
        assert torch_params[name].requires_grad

    other = torch_nn.mlp(sizes, "tanh", init=init, seed=12, dtype=dtype)
    assert not torch.equal(other[0].weight, torch_model[0].weight), "the seed must matter"


def test_mlp_layers_match_in_both_back_ends():
    numpy_model = nn.mlp([2, 8, 8, 3], "leaky_relu", output_activation="softmax", dropout=0.25)
    torch_model = torch_nn.mlp([2, 8, 8, 3], "leaky_relu", output_activation="softmax", dropout=0.25)
    numpy_kinds = [type(layer).__name__ for layer in numpy_model]
    torch_kinds = [type(layer).__name__ for layer in torch_model]
    assert numpy_kinds == torch_kinds
    assert numpy_kinds == ["Linear", "LeakyReLU", "Dropout", "Linear", "LeakyReLU", "Dropout",
                           "Linear", "Softmax"]
    assert torch_model[2].p == 0.25


def test_torch_activation_class_is_accepted():
    numpy_model = nn.mlp([2, 4, 1], "tanh", seed=3)
    torch_model = torch_nn.mlp([2, 4, 1], torch.nn.Tanh, seed=3)
    assert isinstance(torch_model[1], torch.nn.Tanh)
    np.testing.assert_array_equal(numpy_model[0].weight.data, torch_model[0].weight.detach().numpy())


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
def test_round_trip_numpy_torch_numpy(dtype):
    original = nn.mlp([3, 5, 4, 2], "relu", output_activation="sigmoid", dropout=0.1, seed=5,
                      dtype=dtype)
    back = nn.from_torch(torch_nn.from_numpy(original))
    assert isinstance(back, nn.Sequential)
    assert [type(layer) for layer in back] == [type(layer) for layer in original]
    assert back[2].p == original[2].p
    before, after = original.state_dict(), back.state_dict()
    assert list(before) == list(after)
    for name in before:
        assert after[name].dtype == dtype
        np.testing.assert_array_equal(after[name], before[name], err_msg=name)
    # the copy is independent: training it leaves the original alone
    back[0].weight.data += 1.0
    assert not np.array_equal(back[0].weight.data, original[0].weight.data)


def test_round_trip_torch_numpy_torch():
    torch.manual_seed(0)
    original = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2),
                                   torch.nn.Softmax(dim=1))
    back = torch_nn.from_numpy(nn.from_torch(original))
    x = torch.randn(6, 3)
    torch.testing.assert_close(back(x), original(x), rtol=0, atol=0)
