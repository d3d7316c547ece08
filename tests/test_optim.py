"""Optimizers and learning-rate schedulers of ``nncourse.numpy_nn`` against ``torch.optim``.

Here the optimizers work on bare parameters with made-up gradients, so that a mismatch points at
the optimizer alone; tests/test_parity.py runs them on whole networks.
"""

import math

import numpy as np
import pytest
import torch

from nncourse.errors import ConfigError
from nncourse.numpy_nn import lr_scheduler, optim
from nncourse.numpy_nn.parameter import Parameter

# (name, keyword arguments): torch's defaults first, then options that switch on every branch.
OPTIMIZER_CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.8, dampening=0.3, weight_decay=0.05)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.8, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, eps=1e-6)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.3)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.7, eps=1e-5, weight_decay=0.1)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.95), weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict()),
    ("AdamW", dict(lr=0.01, betas=(0.5, 0.9), weight_decay=0.2, amsgrad=True)),
]
OPTIMIZER_NAMES = ["SGD", "RMSprop", "Adagrad", "Adadelta", "Adam", "AdamW"]


def config_id(config):
    name, kwargs = config
    return name + "(" + ",".join(f"{k}={v}" for k, v in kwargs.items()) + ")"


def make_pair(name, kwargs, arrays):
    """The same optimizer over the same starting values, in NumPy and in torch."""
    params = [Parameter(a.copy()) for a in arrays]
    tensors = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    numpy_opt = getattr(optim, name)(params, **kwargs)
    torch_opt = getattr(torch.optim, name)(tensors, **kwargs, foreach=False)
    return params, tensors, numpy_opt, torch_opt


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("config", OPTIMIZER_CONFIGS, ids=config_id)
def test_optimizer_matches_torch_on_random_gradients(config, dtype):
    name, kwargs = config
    rng = np.random.default_rng(1)
    arrays = [rng.normal(size=(4, 3)).astype(dtype), rng.normal(size=(4,)).astype(dtype)]
    params, tensors, numpy_opt, torch_opt = make_pair(name, kwargs, arrays)
    for step in range(12):
        numpy_opt.zero_grad()
        torch_opt.zero_grad()
        for i, (p, t) in enumerate(zip(params, tensors)):
            if i == 1 and step % 4 == 2:
                continue  # the bias gets no gradient on this step: both must skip it
            g = rng.normal(size=p.shape).astype(dtype)
            p.grad = g.copy()
            t.grad = torch.tensor(g.copy())
        numpy_opt.step()
        torch_opt.step()
    tol = 1e-12 if dtype == np.float64 else 1e-5
    for p, t in zip(params, tensors):
        assert p.data.dtype == dtype
        np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=tol, atol=tol)
        # the parameters moved, so the comparison above compared something
        assert not np.allclose(p.data, arrays[params.index(p)])


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_defaults_are_torchs(name):
    p = Parameter(np.zeros(3))
    ours = getattr(optim, name)([p]).param_groups[0]
    theirs = getattr(torch.optim, name)([torch.zeros(3, requires_grad=True)]).defaults
    assert set(ours) - {"params"} <= set(theirs)
    for key, value in ours.items():
        if key != "params":
            assert value == theirs[key], key


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_param_groups_and_state(name):
    p, q = Parameter(np.ones((2, 2))), Parameter(np.ones(2))
    opt = getattr(optim, name)([p, q], lr=0.05)
    assert isinstance(opt.param_groups, list) and len(opt.param_groups) == 1
    assert opt.param_groups[0]["lr"] == 0.05
    assert opt.param_groups[0]["params"] == [p, q]
    assert opt.state == {}
    p.grad = np.full((2, 2), 0.5)
    opt.step()
    assert q not in opt.state, "a parameter without a gradient gets no state"
    np.testing.assert_array_equal(q.data, np.ones(2))
    assert not np.allclose(p.data, 1.0)
    assert name in repr(opt) and "lr: 0.05" in repr(opt)


def test_sgd_single_step_is_p_minus_lr_times_grad():
    rng = np.random.default_rng(0)
    start, grad = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    p = Parameter(start.copy())
    p.grad = grad.copy()
    optim.SGD([p], lr=0.25).step()
    np.testing.assert_allclose(p.data, start - 0.25 * grad, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(p.grad, grad)  # the optimizer must not change the gradient


def test_sgd_momentum_accumulates_velocity():
    p = Parameter(np.zeros(1))
    opt = optim.SGD([p], lr=1.0, momentum=0.5)
    for _ in range(3):
        p.grad = np.ones(1)
        opt.step()
    # velocities 1, 1.5, 1.75 -> position -(1 + 1.5 + 1.75)
    np.testing.assert_allclose(p.data, [-(1 + 1.5 + 1.75)])
    np.testing.assert_allclose(opt.state[p]["momentum_buffer"], [1.75])


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_float32_stays_float32(name):
    p = Parameter(np.ones((3, 3), dtype=np.float32))
    opt = getattr(optim, name)([p], lr=0.1)
    for _ in range(3):
        p.grad = np.full((3, 3), 0.3, dtype=np.float32)
        opt.step()
    assert p.data.dtype == np.float32
    assert all(v.dtype == np.float32 for v in opt.state[p].values() if isinstance(v, np.ndarray))


def test_step_updates_the_array_in_place():
    data = np.ones(4)
    p = Parameter(data)
    p.grad = np.ones(4)
    optim.Adam([p], lr=0.1).step()
    assert p.data is data
    assert np.all(data < 1)


def test_zero_grad_sets_none_or_zeros():
    p, q = Parameter(np.ones(2)), Parameter(np.ones(2))
    p.grad, q.grad = np.ones(2), None
    opt = optim.SGD([p, q], lr=0.1)
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad, np.zeros(2))
    assert q.grad is None
    opt.zero_grad()
    assert p.grad is None and q.grad is None


def test_accepts_a_generator_of_parameters():
    params = [Parameter(np.ones(2)), Parameter(np.ones(3))]
    opt = optim.SGD((p for p in params), lr=0.1)
    assert opt.param_groups[0]["params"] == params


# ------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
@pytest.mark.parametrize("lr", [0, 0.0, -0.1, float("nan"), float("inf")])
def test_non_positive_or_non_finite_lr_is_rejected(name, lr):
    with pytest.raises(ConfigError, match="lr"):
        getattr(optim, name)([Parameter(np.ones(2))], lr=lr)


@pytest.mark.parametrize("lr", ["0.1", None, True])
def test_lr_of_the_wrong_type_is_rejected(lr):
    with pytest.raises(ConfigError, match="lr"):
        optim.SGD([Parameter(np.ones(2))], lr=lr)


@pytest.mark.parametrize(
    "name, kwargs, mentioned",
    [
        ("SGD", dict(momentum=-0.1), "momentum"),
        ("SGD", dict(weight_decay=-1e-4), "weight_decay"),
        ("SGD", dict(nesterov=True), "nesterov"),
        ("SGD", dict(nesterov=True, momentum=0.9, dampening=0.1), "dampening"),
        ("SGD", dict(dampening=1.5), "dampening"),
        ("RMSprop", dict(momentum=-0.5), "momentum"),
        ("RMSprop", dict(alpha=1.5), "alpha"),
        ("RMSprop", dict(eps=-1e-8), "eps"),
        ("RMSprop", dict(weight_decay=-1), "weight_decay"),
        ("Adagrad", dict(lr_decay=-0.1), "lr_decay"),
        ("Adagrad", dict(initial_accumulator_value=-1), "initial_accumulator_value"),
        ("Adagrad", dict(weight_decay=-1), "weight_decay"),
        ("Adadelta", dict(rho=1.1), "rho"),
        ("Adadelta", dict(weight_decay=-1), "weight_decay"),
        ("Adam", dict(betas=(1.0, 0.999)), r"betas\[0\]"),
        ("Adam", dict(betas=(0.9, -0.1)), r"betas\[1\]"),
        ("Adam", dict(betas=0.9), "betas"),
        ("Adam", dict(weight_decay=-0.1), "weight_decay"),
        ("AdamW", dict(betas=(0.9, 1.0)), r"betas\[1\]"),
        ("AdamW", dict(weight_decay=-0.1), "weight_decay"),
    ],
)
def test_bad_hyper_parameter_is_named(name, kwargs, mentioned):
    with pytest.raises(ConfigError, match=mentioned) as info:
        getattr(optim, name)([Parameter(np.ones(2))], lr=0.1, **kwargs)
    assert name in str(info.value)


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_empty_parameter_list_is_rejected(name):
    with pytest.raises(ConfigError, match="empty"):
        getattr(optim, name)([], lr=0.1)
    with pytest.raises(ConfigError, match="empty"):
        getattr(optim, name)(iter(()), lr=0.1)


def test_wrong_kinds_of_params_are_explained():
    p = Parameter(np.ones(2))
    with pytest.raises(ConfigError, match="list"):
        optim.SGD(p, lr=0.1)  # a single parameter, not a list
    with pytest.raises(ConfigError, match="torch"):
        optim.SGD([torch.ones(2, requires_grad=True)], lr=0.1)
    with pytest.raises(ConfigError, match="iterable"):
        optim.SGD(3, lr=0.1)
    with pytest.raises(ConfigError, match="more than once"):
        optim.SGD([p, p], lr=0.1)

    class FakeModel:
        def parameters(self):
            yield p

    with pytest.raises(ConfigError, match=r"model.parameters\(\)"):
        optim.SGD(FakeModel(), lr=0.1)


# ------------------------------------------------------------------------------- schedulers

SCHEDULER_CONFIGS = [
    ("StepLR", dict(step_size=3)),
    ("StepLR", dict(step_size=2, gamma=0.5)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=7)),
    ("CosineAnnealingLR", dict(T_max=5, eta_min=0.01)),
]


@pytest.mark.parametrize("config", SCHEDULER_CONFIGS, ids=config_id)
def test_scheduler_matches_torch(config):
    name, kwargs = config
    numpy_opt = optim.SGD([Parameter(np.ones(2))], lr=0.3)
    torch_opt = torch.optim.SGD([torch.ones(2, requires_grad=True)], lr=0.3)
    ours = getattr(lr_scheduler, name)(numpy_opt, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, name)(torch_opt, **kwargs)
    seen = set()
    for epoch in range(25):  # beyond T_max too: the cosine goes back up, in both
        assert ours.last_epoch == theirs.last_epoch == epoch
        assert isinstance(ours.get_last_lr(), list)
        assert ours.get_last_lr()[0] == pytest.approx(theirs.get_last_lr()[0], rel=1e-12, abs=1e-15)
        assert numpy_opt.param_groups[0]["lr"] == ours.get_last_lr()[0]
        seen.add(round(ours.get_last_lr()[0], 12))
        numpy_opt.step()  # (no gradients: nothing moves; the usual call order, without warnings)
        torch_opt.step()
        ours.step()
        theirs.step()
    assert len(seen) > 3  # the schedule really changed the learning rate


def test_scheduler_formulas():
    opt = optim.SGD([Parameter(np.ones(2))], lr=1.0)
    sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    lrs = [sched.get_last_lr()[0]]
    for _ in range(5):
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    assert lrs == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]

    opt = optim.SGD([Parameter(np.ones(2))], lr=2.0)
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=4, eta_min=1.0)
    for _ in range(2):
        sched.step()
    assert sched.get_last_lr()[0] == pytest.approx(1.5)  # halfway between 2.0 and 1.0
    for _ in range(2):
        sched.step()
    assert sched.get_last_lr()[0] == pytest.approx(1.0)


def test_scheduled_lr_is_used_by_the_optimizer():
    p = Parameter(np.zeros(1))
    opt = optim.SGD([p], lr=1.0)
    sched = lr_scheduler.ExponentialLR(opt, gamma=0.5)
    sched.step()
    sched.step()  # lr is now 0.25
    p.grad = np.ones(1)
    opt.step()
    np.testing.assert_allclose(p.data, [-0.25])


@pytest.mark.parametrize(
    "name, kwargs, mentioned",
    [
        ("StepLR", dict(step_size=0), "step_size"),
        ("StepLR", dict(step_size=1.5), "step_size"),
        ("StepLR", dict(step_size=2, gamma=0), "gamma"),
        ("ExponentialLR", dict(gamma=-0.5), "gamma"),
        ("CosineAnnealingLR", dict(T_max=0), "T_max"),
        ("CosineAnnealingLR", dict(T_max=10, eta_min=-0.1), "eta_min"),
    ],
)
def test_scheduler_bad_arguments(name, kwargs, mentioned):
    opt = optim.SGD([Parameter(np.ones(2))], lr=0.1)
    with pytest.raises(ConfigError, match=mentioned):
        getattr(lr_scheduler, name)(opt, **kwargs)


def test_scheduler_needs_an_optimizer():
    with pytest.raises(ConfigError, match="optimizer"):
        lr_scheduler.StepLR([Parameter(np.ones(2))], step_size=2)


def test_cosine_reaches_eta_min_at_t_max():
    opt = optim.SGD([Parameter(np.ones(2))], lr=0.1)
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=0.001)
    for _ in range(10):
        sched.step()
    assert math.isclose(sched.get_last_lr()[0], 0.001, rel_tol=1e-12)
