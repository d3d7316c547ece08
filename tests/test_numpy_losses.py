"""Loss functions of ``nncourse.numpy_nn``: values and gradients vs torch and vs finite differences."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings, strategies as st

from nncourse.numpy_nn import (
    BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss, gradcheck,
)

FAST = settings(max_examples=25, deadline=None)
seeds = st.integers(0, 2**32 - 1)
reductions = st.sampled_from(["mean", "sum"])


def _make_case(name, seed, n, c):
    """(output, target) for the loss ``name``, in float64, away from the kinks of |x|."""
    rng = np.random.default_rng(seed)
    if name in ("mse", "l1"):
        output = rng.standard_normal((n, c)) * 2
        target = output + np.where(rng.random((n, c)) < 0.5, -1, 1) * rng.uniform(0.01, 2, (n, c))
        return output, target
    if name == "bce":
        return rng.uniform(0.02, 0.98, (n, c)), rng.random((n, c))         # soft targets too
    if name == "bce_logits":
        return rng.standard_normal((n, c)) * 3, (rng.random((n, c)) < 0.5).astype(np.float64)
    if name == "nll":
        logits = rng.standard_normal((n, c))
        return logits - np.log(np.exp(logits).sum(axis=1, keepdims=True)), rng.integers(0, c, n)
    return rng.standard_normal((n, c)) * 3, rng.integers(0, c, n)            # cross entropy


def _ours(name, reduction, smoothing=0.0):
    return {
        "mse": lambda: MSELoss(reduction),
        "l1": lambda: L1Loss(reduction),
        "bce": lambda: BCELoss(reduction),
        "bce_logits": lambda: BCEWithLogitsLoss(reduction),
        "nll": lambda: NLLLoss(reduction),
        "ce": lambda: CrossEntropyLoss(reduction, label_smoothing=smoothing),
    }[name]()


def _torch_loss(name, reduction, output, target, smoothing=0.0):
    fn = {
        "mse": F.mse_loss,
        "l1": F.l1_loss,
        "bce": F.binary_cross_entropy,
        "bce_logits": F.binary_cross_entropy_with_logits,
        "nll": F.nll_loss,
        "ce": lambda o, t, reduction: F.cross_entropy(o, t, reduction=reduction, label_smoothing=smoothing),
    }[name]
    return fn(output, target, reduction=reduction)


LOSS_NAMES = ["mse", "l1", "bce", "bce_logits", "nll", "ce"]


@FAST
@given(seed=seeds, n=st.integers(1, 6), c=st.integers(1, 5), name=st.sampled_from(LOSS_NAMES),
       reduction=reductions, smoothing=st.sampled_from([0.0, 0.1, 0.5]))
def test_loss_value_and_gradient_match_torch(seed, n, c, name, reduction, smoothing):
    output, target = _make_case(name, seed, n, c)
    ours = _ours(name, reduction, smoothing)
    value = ours(output, target)
    grad = ours.backward()
    assert isinstance(value, float)
    assert grad.shape == output.shape and grad.dtype == output.dtype

    t_out = torch.tensor(output, requires_grad=True)
    t_target = torch.tensor(target)
    t_value = _torch_loss(name, reduction, t_out, t_target, smoothing)
    t_value.backward()
    np.testing.assert_allclose(value, t_value.item(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(grad, t_out.grad.numpy(), rtol=1e-9, atol=1e-12)


@FAST
@given(seed=seeds, n=st.integers(1, 6), c=st.integers(1, 5), name=st.sampled_from(LOSS_NAMES),
       reduction=reductions, smoothing=st.sampled_from([0.0, 0.2]))
def test_loss_gradient_matches_finite_differences(seed, n, c, name, reduction, smoothing):
    # With a single class, cross-entropy is constant (gradient exactly 0): finite differences then
    # measure nothing but rounding noise, so there is nothing to compare.
    assume(not (name == "ce" and c == 1))
    output, target = _make_case(name, seed, n, c)
    result = gradcheck(_ours(name, reduction, smoothing), output, target)
    assert result.max_relative_error < 1e-6, result


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_float32_in_float32_out(name):
    output, target = _make_case(name, 0, 8, 4)
    output = output.astype(np.float32)
    if name not in ("nll", "ce"):
        target = target.astype(np.float32)
    loss_fn = _ours(name, "mean")
    value = loss_fn(output, target)
    assert type(value) is float
    assert loss_fn.backward().dtype == np.float32


def test_float64_target_is_cast_to_the_output_dtype():
    output = np.ones((3, 1), np.float32)
    loss_fn = MSELoss()
    assert loss_fn(output, np.zeros((3, 1))) == pytest.approx(1.0)
    assert loss_fn.backward().dtype == np.float32


def test_l1_gradient_is_zero_where_output_equals_target():
    loss_fn = L1Loss(reduction="sum")
    loss_fn(np.array([[1.0, 2.0, 3.0]]), np.array([[1.0, 0.0, 5.0]]))
    np.testing.assert_array_equal(loss_fn.backward(), [[0.0, 1.0, -1.0]])


def test_bce_clamps_the_log_at_minus_100_like_torch():
    output = np.array([[0.0, 1.0, 0.5]])
    target = np.array([[1.0, 0.0, 1.0]])
    with np.errstate(divide="raise", invalid="raise"):
        value = BCELoss(reduction="sum")(output, target)
    expected = F.binary_cross_entropy(torch.tensor(output), torch.tensor(target), reduction="sum").item()
    assert value == pytest.approx(200 + np.log(2), rel=1e-12)
    assert value == pytest.approx(expected, rel=1e-12)


def test_bce_with_logits_and_cross_entropy_are_stable_for_huge_scores():
    z = np.array([[1000.0], [-1000.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value = BCEWithLogitsLoss()(z, np.array([[0.0], [1.0]]))
    assert value == pytest.approx(1000.0)
    logits = np.array([[1000.0, 0.0, -1000.0], [5.0, 5.0, 5.0]])
    loss_fn = CrossEntropyLoss()
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value = loss_fn(logits, np.array([1, 2]))
    assert value == pytest.approx((1000.0 + np.log(3)) / 2)
    assert np.isfinite(loss_fn.backward()).all()


def test_cross_entropy_gradient_rows_sum_to_zero_and_backward_can_be_called_twice():
    rng = np.random.default_rng(0)
    loss_fn = CrossEntropyLoss(label_smoothing=0.1)
    loss_fn(rng.standard_normal((5, 4)), rng.integers(0, 4, 5))
    first = loss_fn.backward()
    np.testing.assert_allclose(first.sum(axis=1), 0, atol=1e-15)
    first[:] = 0                                       # returned arrays are copies
    assert loss_fn.backward().any()


def test_sum_is_n_times_mean():
    output, target = _make_case("ce", 3, 7, 5)
    mean, total = CrossEntropyLoss("mean"), CrossEntropyLoss("sum")
    assert total(output, target) == pytest.approx(7 * mean(output, target), rel=1e-12)
    np.testing.assert_allclose(total.backward(), 7 * mean.backward(), rtol=1e-12)


def test_repr_mentions_non_default_options():
    assert repr(MSELoss()) == "MSELoss()"
    expected = "CrossEntropyLoss(reduction='sum', label_smoothing=0.1)"
    assert repr(CrossEntropyLoss("sum", label_smoothing=0.1)) == expected
