"""``clip_grad_norm_`` agrees with ``torch.nn.utils.clip_grad_norm_`` (total norm and clipped grads)."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import nncourse.numpy_nn as nn
from nncourse import torch_nn
from nncourse.errors import ConfigError, NonFiniteError


def make_pair(shapes, scale, seed, dtype=np.float64):
    rng = np.random.default_rng(seed)
    grads = [rng.normal(scale=scale, size=s).astype(dtype) for s in shapes]
    ours = []
    theirs = []
    for g in grads:
        p = nn.Parameter(np.zeros(g.shape, dtype=dtype))
        p.grad = g.copy()
        ours.append(p)
        t = torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.from_numpy(g).dtype))
        t.grad = torch.from_numpy(g.copy())
        theirs.append(t)
    return ours, theirs


@settings(max_examples=40, deadline=None)
@given(shapes=st.lists(st.tuples(st.integers(1, 4), st.integers(1, 5)), min_size=1, max_size=4),
       scale=st.sampled_from([1e-3, 0.1, 1.0, 30.0]),
       max_norm=st.floats(0.05, 20.0),
       norm_type=st.sampled_from([1.0, 2.0, 3.0, float("inf")]),
       seed=st.integers(0, 10_000))
def test_matches_torch(shapes, scale, max_norm, norm_type, seed):
    ours, theirs = make_pair(shapes, scale, seed)
    total = nn.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    expected = torch_nn.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(total, float)
    np.testing.assert_allclose(total, float(expected), rtol=1e-12)
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-12, atol=1e-15)
    clipped = nn.clip_grad_norm_(ours, np.inf, norm_type=norm_type)   # measure only
    assert clipped == pytest.approx(min(total, max_norm), rel=1e-5, abs=1e-9)


def test_float32_and_small_gradients_untouched():
    ours, theirs = make_pair([(3, 4), (4,)], 1.0, 0, dtype=np.float32)
    before = [p.grad.copy() for p in ours]
    total = nn.clip_grad_norm_(ours, 1e6)
    assert total == pytest.approx(float(torch_nn.clip_grad_norm_(theirs, 1e6)), rel=1e-6)
    for p, b in zip(ours, before):
        assert p.grad.dtype == np.float32
        np.testing.assert_array_equal(p.grad, b)


def test_clipped_norm_is_max_norm_and_direction_kept():
    ours, _ = make_pair([(5, 5), (5,)], 10.0, 1)
    flat_before = np.concatenate([p.grad.ravel() for p in ours])
    nn.clip_grad_norm_(ours, 1.0)
    flat = np.concatenate([p.grad.ravel() for p in ours])
    assert np.linalg.norm(flat) == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(flat / np.linalg.norm(flat), flat_before / np.linalg.norm(flat_before))


def test_skips_parameters_without_grad_and_accepts_a_module():
    model = nn.Linear(3, 2, seed=0, dtype=np.float64)
    assert nn.clip_grad_norm_(model.parameters(), 1.0) == 0.0
    model.weight.grad = np.full((2, 3), 2.0)
    assert nn.clip_grad_norm_(model.parameters(), 100.0) == pytest.approx(np.sqrt(24.0))
    assert nn.clip_grad_norm_(model.weight, 100.0) == pytest.approx(np.sqrt(24.0))


def test_clear_errors():
    p = nn.Parameter(np.zeros(2))
    p.grad = np.array([np.nan, 1.0])
    with pytest.raises(NonFiniteError, match="diverged"):
        nn.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    with pytest.raises(ConfigError, match="norm_type must be positive"):
        nn.clip_grad_norm_([p], 1.0, norm_type=0)
    with pytest.raises(ConfigError, match="max_norm must be a number"):
        nn.clip_grad_norm_([p], "1")
    with pytest.raises(ConfigError, match="numpy_nn Parameters"):
        nn.clip_grad_norm_([np.zeros(2)], 1.0)
