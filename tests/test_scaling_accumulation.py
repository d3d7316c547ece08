"""Gradient accumulation: K micro-batches with their losses scaled by N_k / N give the large batch's
gradient (and the same optimizer step), in torch and in numpy_nn; without the scaling it is K times larger."""

import numpy as np
import pytest
import torch

import nncourse.numpy_nn as nn
import nncourse.torch_nn as tnn
from nncourse.errors import ConfigError, ShapeError
from nncourse.scaling.accumulation import accumulate_gradients, accumulated_step, micro_batches


def _data(n=24, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 5)), rng.integers(0, 3, size=n)


@pytest.mark.parametrize("micro", [1, 4, 5, 7, 24, 100])
def test_torch_accumulation_equals_the_large_batch(micro):
    x, y = (torch.from_numpy(a) for a in _data())
    big = tnn.mlp([5, 8, 3], "tanh", seed=1, dtype=torch.float64)
    small = tnn.mlp([5, 8, 3], "tanh", seed=1, dtype=torch.float64)
    loss_fn = torch.nn.CrossEntropyLoss()
    opt_big = torch.optim.Adam(big.parameters(), lr=0.01)
    opt_small = torch.optim.Adam(small.parameters(), lr=0.01)
    for _ in range(3):
        opt_big.zero_grad()
        want = loss_fn(big(x), y)
        want.backward()
        opt_big.step()
        got = accumulated_step(small, loss_fn, opt_small, x, y, micro)
        assert got == pytest.approx(float(want.detach()), abs=1e-12)
    for a, b in zip(big.parameters(), small.parameters()):
        assert float((a - b).detach().abs().max()) <= 1e-12


def test_numpy_accumulation_equals_the_large_batch_and_sum_needs_no_scaling():
    x, y = _data(n=10)
    for reduction in ("mean", "sum"):
        model = nn.mlp([5, 6, 3], "relu", seed=2, dtype=np.float64)
        loss_fn = nn.CrossEntropyLoss(reduction=reduction)
        model.zero_grad()
        total = accumulate_gradients(model, loss_fn, x, y, 3)
        acc = [p.grad.copy() for p in model.parameters()]
        model.zero_grad()
        want = loss_fn(model(x), y)
        model.backward(loss_fn.backward())
        assert total == pytest.approx(want, abs=1e-12)
        assert max(float(np.abs(a - p.grad).max()) for a, p in zip(acc, model.parameters())) <= 1e-12


def test_without_the_scaling_the_gradient_is_k_times_too_large():
    x, y = (torch.from_numpy(a) for a in _data())
    model = tnn.mlp([5, 8, 3], "tanh", seed=1, dtype=torch.float64)
    loss_fn = torch.nn.CrossEntropyLoss()
    model.zero_grad()
    for part in micro_batches(24, 6):                  # 4 equal micro-batches, no 1/4
        loss_fn(model(x[part]), y[part]).backward()
    unscaled = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    loss_fn(model(x), y).backward()
    for u, p in zip(unscaled, model.parameters()):
        torch.testing.assert_close(u, 4 * p.grad, rtol=1e-12, atol=1e-12)


def test_micro_batches_and_bad_inputs():
    assert micro_batches(7, 3) == [slice(0, 3), slice(3, 6), slice(6, 7)]
    with pytest.raises(ConfigError, match="micro_batch_size must be an integer >= 1"):
        micro_batches(7, 0)
    with pytest.raises(ShapeError, match="empty batch"):
        micro_batches(0, 2)
    x, y = _data(n=4)
    with pytest.raises(ShapeError, match="x has 4 rows but y has 3"):
        accumulate_gradients(nn.mlp([5, 3], seed=0, dtype=np.float64), nn.CrossEntropyLoss(), x, y[:3], 2)
