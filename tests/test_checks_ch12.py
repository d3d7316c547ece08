"""The exercise checks of chapter 12 (deep networks).

For every check: the solution from solutions/12_deep_networks.ipynb passes (the functions are taken from
the notebook itself), the stub and the placeholder ``...`` are "not implemented yet", and plausible
wrong answers fail with the hint meant for them.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from nncourse.checks import ch12
from check_helpers import assert_hint, run, solution_namespace, stub

ROOT = Path(__file__).resolve().parents[1]


def solution() -> dict:
    return solution_namespace("12_deep_networks")


CHECKS = ["init_std", "batchnorm_forward", "running_stats_update", "batchnorm_backward", "residual_block_backward"]


@pytest.mark.parametrize("name", CHECKS)
def test_solution_passes_stub_and_placeholder_do_not(name):
    check_fn = getattr(ch12, name)
    assert run(check_fn, solution()[name]), name
    assert run(check_fn, stub).status == "not implemented"
    assert run(check_fn, ...).status == "not implemented"


# ------------------------------------------------------------------------------- init_std

def _init(xavier, he):
    return lambda init, fan_in, fan_out: xavier(fan_in, fan_out) if init == "xavier" else he(fan_in, fan_out)


_HE = lambda i, o: math.sqrt(2 / i)            # noqa: E731
_XAVIER = lambda i, o: math.sqrt(2 / (i + o))  # noqa: E731


@pytest.mark.parametrize("wrong, needles", [
    (_init(lambda i, o: 2 / (i + o), _HE), ["variance", "square root"]),
    (_init(lambda i, o: math.sqrt(6 / (i + o)), _HE), ["uniform"]),
    (_init(lambda i, o: math.sqrt(1 / (i + o)), _HE), ["a 2 is missing"]),
    (_init(lambda i, o: math.sqrt(1 / i), _HE), ["LeCun"]),
    (_init(_XAVIER, lambda i, o: math.sqrt(1 / i)), ["ReLU zeroes half", "2 / fan_in"]),
    (_init(_XAVIER, lambda i, o: math.sqrt(2 / o)), ["counts the inputs", "fan_in"]),
    (_init(_XAVIER, lambda i, o: math.sqrt(2) / i), ["whole fraction"]),
    (_init(_XAVIER, lambda i, o: 2 / i), ["variance 2 / fan_in"]),
    (_init(_XAVIER, _XAVIER), ["that is Xavier's rule", "He (for ReLU) uses sqrt(2 / fan_in)"]),
    (_init(_HE, _HE), ["that is He's rule", "Xavier uses both fans"]),
])
def test_init_std_names_the_mistake(wrong, needles):
    assert_hint(run(ch12.init_std, wrong), *needles)


def test_init_std_refuses_an_array():
    assert_hint(run(ch12.init_std, lambda init, i, o: np.array([math.sqrt(2 / i)])), "should return a number")


# ------------------------------------------------------------------------------- batchnorm_forward

def _bn(x, gamma, beta, mean, var, eps):
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


@pytest.mark.parametrize("wrong, needles", [
    (lambda x, g, b, rm, rv, training, eps=1e-5: _bn(x, g, b, rm, rv, eps),
     ["in training mode", "statistics of the batch"]),
    (lambda x, g, b, rm, rv, training, eps=1e-5: _bn(x, g, b, x.mean(0), x.var(0), eps),
     ["evaluation mode", "running_mean"]),
    (lambda x, g, b, rm, rv, training, eps=1e-5: _bn(x, g, b, x.mean(0), x.var(0, ddof=1), eps) if training
     else _bn(x, g, b, rm, rv, eps), ["biased variance"]),
    (lambda x, g, b, rm, rv, training, eps=1e-5: g * (x - x.mean(0)) / (x.std(0) + eps) + b if training
     else _bn(x, g, b, rm, rv, eps), ["inside the square root"]),
    (lambda x, g, b, rm, rv, training, eps=1e-5: _bn(x, g, b, x.mean(1, keepdims=True), x.var(1, keepdims=True), eps)
     if training else _bn(x, g, b, rm, rv, eps), ["LayerNorm", "axis 0"]),
    (lambda x, g, b, rm, rv, training, eps=1e-5: _bn(x, 1.0, 0.0, x.mean(0), x.var(0), eps) if training
     else _bn(x, 1.0, 0.0, rm, rv, eps), ["gamma and beta are missing"]),
    (lambda x, g, b, rm, rv, training, eps=1e-5: _bn(x, b, g, x.mean(0), x.var(0), eps) if training
     else _bn(x, b, g, rm, rv, eps), ["gamma and beta are swapped"]),
])
def test_batchnorm_forward_names_the_mistake(wrong, needles):
    assert_hint(run(ch12.batchnorm_forward, wrong), *needles)


def test_batchnorm_forward_refuses_to_change_the_running_statistics_in_place():
    def in_place(x, g, b, rm, rv, training, eps=1e-5):
        rm *= 0.9
        return _bn(x, g, b, x.mean(0), x.var(0), eps)
    assert_hint(run(ch12.batchnorm_forward, in_place), "changed its input rm in place", "leave rm as it was")


def test_batchnorm_forward_that_centres_x_in_place_is_told_about_x():
    def centre_in_place(x, g, b, rm, rv, training, eps=1e-5):
        mu, var = (x.mean(0), x.var(0)) if training else (rm, rv)
        x -= mu
        return g * x / np.sqrt(var + eps) + b
    result = run(ch12.batchnorm_forward, centre_in_place)
    assert_hint(result, "changed its input x in place", "leave x as it was")
    assert "running_mean" not in f"{result.message} {result.hint}"


# ------------------------------------------------------------------------------- running_stats_update

@pytest.mark.parametrize("wrong, needles", [
    (lambda rm, rv, x, m=0.1: ((1 - m) * rm + m * x.mean(0), (1 - m) * rv + m * x.var(0)), ["unbiased", "ddof=1"]),
    (lambda rm, rv, x, m=0.1: (m * rm + (1 - m) * x.mean(0), m * rv + (1 - m) * x.var(0, ddof=1)),
     ["weighs the *new* batch"]),
    (lambda rm, rv, x, m=0.1: (x.mean(0), x.var(0, ddof=1)), ["moving average"]),
    (lambda rm, rv, x, m=0.1: (rm + m * x.mean(0), rv), ["multiplied by (1 - momentum)"]),
    (lambda rm, rv, x, m=0.1: ((1 - m) * rm + m * x.mean(0), (1 - m) * rv + m * x.std(0, ddof=1)),
     ["not standard deviations"]),
    (lambda rm, rv, x, m=0.1: ((1 - m) * rm + m * x.mean(0), (1 - m) * rv + m * x.var(0, ddof=1),
                               None), ["should return 2 arrays"]),
    (lambda rm, rv, x, m=0.1: ((1 - m) * rv + m * x.var(0, ddof=1), (1 - m) * rm + m * x.mean(0)),
     ["returns new_var, new_mean", "wrong order", "return new_mean, new_var"]),
])
def test_running_stats_update_names_the_mistake(wrong, needles):
    assert_hint(run(ch12.running_stats_update, wrong), *needles)


# ------------------------------------------------------------------------------- batchnorm_backward

def _bn_backward(x, gamma, grad_out, eps=1e-5, *, mean_term=True, var_term=True, use_gamma=True, axis=0,
                 gamma_sum=True, beta_sum=True):
    r = 1 / np.sqrt(x.var(axis=0) + eps)
    x_hat = (x - x.mean(axis=0)) * r
    g = grad_out * gamma if use_gamma else grad_out
    inner = g.copy()
    if mean_term:
        inner = inner - g.mean(axis=axis, keepdims=True)
    if var_term:
        inner = inner - x_hat * (g * x_hat).mean(axis=axis, keepdims=True)
    grad_gamma = (grad_out * x_hat).sum(0) if gamma_sum else grad_out * x_hat
    grad_beta = grad_out.sum(0) if beta_sum else grad_out
    return r * inner, grad_gamma, grad_beta


@pytest.mark.parametrize("kwargs, needles", [
    ({"mean_term": False, "var_term": False}, ["as constants"]),
    ({"mean_term": False}, ["the mean depends on x too"]),
    ({"var_term": False}, ["the variance depends on x too"]),
    ({"use_gamma": False}, ["gamma is missing"]),
    ({"axis": 1}, ["axis 0", "LayerNorm"]),
    ({"gamma_sum": False}, ["grad_gamma has gamma's shape"]),
    ({"beta_sum": False}, ["grad_beta has beta's shape"]),
])
def test_batchnorm_backward_names_the_mistake(kwargs, needles):
    assert_hint(run(ch12.batchnorm_backward, lambda x, g, go, eps=1e-5: _bn_backward(x, g, go, eps, **kwargs)),
                *needles)


@pytest.mark.parametrize("order, needles", [
    ((0, 2, 1), ["returns grad_x, grad_beta, grad_gamma", "return grad_x, grad_gamma, grad_beta"]),
    ((2, 1, 0), ["returns grad_beta, grad_gamma, grad_x", "wrong order"]),
])
def test_batchnorm_backward_in_another_order(order, needles):
    def wrong(x, gamma, grad_out, eps=1e-5):
        grads = _bn_backward(x, gamma, grad_out, eps)
        return tuple(grads[k] for k in order)
    assert_hint(run(ch12.batchnorm_backward, wrong), *needles)


def test_batchnorm_backward_with_sums_instead_of_means():
    def wrong(x, gamma, grad_out, eps=1e-5):
        r = 1 / np.sqrt(x.var(axis=0) + eps)
        x_hat = (x - x.mean(axis=0)) * r
        g = grad_out * gamma
        grad_x = r * (g - g.sum(axis=0) - x_hat * (g * x_hat).sum(axis=0))
        return grad_x, (grad_out * x_hat).sum(0), grad_out.sum(0)
    assert_hint(run(ch12.batchnorm_backward, wrong), "*means* over the batch, not sums")


def test_batchnorm_backward_with_x_instead_of_x_hat_for_gamma():
    def wrong(x, gamma, grad_out, eps=1e-5):
        gx, _, gb = _bn_backward(x, gamma, grad_out, eps)
        return gx, (grad_out * x).sum(0), gb
    assert_hint(run(ch12.batchnorm_backward, wrong), "x_hat, not x")


# ------------------------------------------------------------------------------- residual_block_backward

def _block(x, W1, W2, grad_y, *, identity=True, branch=True, outer_relu=True, transposed=False, inner_mask=True,
           multiply=False):
    z1 = x @ W1.T
    s = x + np.maximum(z1, 0) @ W2.T
    g = grad_y * (s > 0) if outer_relu else grad_y
    A, B = (W2.T, W1.T) if transposed else (W2, W1)
    mask = (z1 > 0) if inner_mask else 1.0
    b = ((g @ A) * mask) @ B
    if multiply:
        return g * b
    return (g if identity else 0) + (b if branch else 0)


@pytest.mark.parametrize("kwargs, needles", [
    ({"identity": False}, ["only the branch's gradient"]),
    ({"branch": False}, ["only the identity path"]),
    ({"outer_relu": False}, ["ReLU after the sum is missing"]),
    ({"transposed": True}, ["multiplied back by W, not W.T"]),
    ({"inner_mask": False}, ["inner ReLU's mask is missing"]),
    ({"multiply": True}, ["add up; they do not multiply"]),
])
def test_residual_block_backward_names_the_mistake(kwargs, needles):
    assert_hint(run(ch12.residual_block_backward, lambda x, W1, W2, gy: _block(x, W1, W2, gy, **kwargs)), *needles)


def test_residual_block_backward_refuses_a_list():
    assert_hint(run(ch12.residual_block_backward, lambda x, W1, W2, gy: _block(x, W1, W2, gy).tolist()),
                "NumPy array")
