"""Rotary positions (chapter 16): the relative property, the two conventions and the permutation between
them, the backward pass, agreement with a torch rotate_half reference, and clear errors."""

import numpy as np
import pytest
import torch

from nncourse.errors import ConfigError, DTypeError, NonFiniteError, ShapeError
from nncourse.numpy_nn import functional as F


def _x(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


@pytest.mark.parametrize("interleaved", [False, True])
@pytest.mark.parametrize("theta", [10000.0, 100000.0, 7.5])
def test_score_depends_only_on_the_distance(interleaved, theta):
    D = 16
    q, k = _x((1, D), 1), _x((1, D), 2)
    for m, n in [(5, 2), (9, 0), (0, 4)]:
        scores = []
        for shift in (0, 1, 37, 1000):
            qm = F.rotary(q, [m + shift], theta, interleaved=interleaved)
            kn = F.rotary(k, [n + shift], theta, interleaved=interleaved)
            scores.append((qm @ kn.T).item())
        np.testing.assert_allclose(scores, scores[0], rtol=1e-10, atol=1e-10)
    # ... and it does depend on the distance
    a = (F.rotary(q, [3], theta) @ F.rotary(k, [0], theta).T).item()
    b = (F.rotary(q, [4], theta) @ F.rotary(k, [0], theta).T).item()
    assert abs(a - b) > 1e-6


def test_rotation_keeps_lengths_and_position_zero_is_identity():
    x = _x((2, 5, 8))
    y = F.rotary(x, np.arange(5))
    np.testing.assert_allclose(np.linalg.norm(y, axis=-1), np.linalg.norm(x, axis=-1), rtol=1e-12)
    np.testing.assert_array_equal(F.rotary(x[:, :1], [0]), x[:, :1])


def test_the_conventions_are_one_permutation_apart():
    D = 12
    p = F.rotary_permutation(D)
    assert p.tolist() == [0, 2, 4, 6, 8, 10, 1, 3, 5, 7, 9, 11]
    x = _x((3, 7, D))
    pos = np.arange(4, 11)
    np.testing.assert_allclose(F.rotary(x[..., p], pos), F.rotary(x, pos, interleaved=True)[..., p], atol=1e-14)
    # they differ without the permutation
    assert np.abs(F.rotary(x, pos) - F.rotary(x, pos, interleaved=True)).max() > 0.1


def test_projection_rows_reordered_per_head_give_the_same_scores():
    H, D, C = 3, 8, 10
    Wq = _x((H * D, C), 4)
    x = _x((5, C), 5)
    pos = np.arange(5)
    Wh = F.interleaved_to_halves(Wq, H)
    np.testing.assert_array_equal(F.halves_to_interleaved(Wh, H), Wq)
    q_inter = (x @ Wq.T).reshape(5, H, D).transpose(1, 0, 2)            # (H, T, D)
    q_halves = (x @ Wh.T).reshape(5, H, D).transpose(1, 0, 2)
    s_inter = F.rotary(q_inter, pos, interleaved=True)
    s_halves = F.rotary(q_halves, pos)
    np.testing.assert_allclose(s_halves, s_inter[..., F.rotary_permutation(D)], atol=1e-13)
    # the scores q·k (the same reordering on both sides) are equal
    np.testing.assert_allclose(s_halves @ s_halves.swapaxes(-1, -2), s_inter @ s_inter.swapaxes(-1, -2), atol=1e-12)
    # the toolchain's reshape recipe gives the same rows
    recipe = Wq.reshape(H, D // 2, 2, C).swapaxes(1, 2).reshape(-1, C)
    np.testing.assert_array_equal(Wh, recipe)


def test_matches_a_torch_rotate_half_reference():
    D, T, theta = 8, 6, 500.0
    x = _x((2, T, D))
    inv = 1.0 / (theta ** (torch.arange(0, D, 2, dtype=torch.float64) / D))
    ang = torch.arange(T, dtype=torch.float64)[:, None] * inv[None, :]
    emb = torch.cat([ang, ang], dim=-1)
    xt = torch.from_numpy(x)
    ref = xt * emb.cos() + torch.from_numpy(F.rotate_half(x)) * emb.sin()
    np.testing.assert_allclose(F.rotary(x, np.arange(T), theta), ref.numpy(), atol=1e-13)


@pytest.mark.parametrize("interleaved", [False, True])
def test_backward_is_the_transpose(interleaved):
    x, g = _x((2, 5, 6), 0), _x((2, 5, 6), 1)
    pos = np.array([0, 3, 4, 10, 11])
    lhs = np.sum(F.rotary(x, pos, interleaved=interleaved) * g)
    rhs = np.sum(x * F.rotary_backward(g, pos, interleaved=interleaved))
    assert abs(lhs - rhs) < 1e-12
    np.testing.assert_allclose(F.rotary_backward(F.rotary(x, pos, interleaved=interleaved), pos,
                                                 interleaved=interleaved), x, atol=1e-13)


def test_frequencies():
    w = F.rotary_frequencies(8, 10000.0)
    np.testing.assert_allclose(w, [1.0, 0.1, 0.01, 0.001])
    cos, sin = F.rotary_tables([0, 2], 8)
    np.testing.assert_allclose(cos[1], np.cos(2 * w))
    assert cos.shape == sin.shape == (2, 4)


@pytest.mark.parametrize("call,error,words", [
    (lambda: F.rotary(np.ones((3, 5)), np.arange(3)), ShapeError, "even"),
    (lambda: F.rotary(np.ones((3, 4)), np.arange(2)), ShapeError, "positions"),
    (lambda: F.rotary(np.ones((3, 4)), np.arange(3.0)), DTypeError, "integers"),
    (lambda: F.rotary(np.ones((3, 4)), [-1, 0, 1]), ConfigError, ">= 0"),
    (lambda: F.rotary(np.ones((3, 4)), np.arange(3), theta=0.5), ConfigError, "theta"),
    (lambda: F.rotary(np.ones((3, 4)), np.arange(3), theta=float("inf")), ConfigError, "theta"),
    (lambda: F.rotary(np.ones((3, 4)), np.arange(3), interleaved="no"), ConfigError, "interleaved"),
    (lambda: F.rotary(np.ones(4), [0]), ShapeError, "T, D"),
    (lambda: F.rotary(np.ones((3, 4), np.int64), np.arange(3)), DTypeError, "float"),
    (lambda: F.rotary(torch.ones(3, 4), np.arange(3)), DTypeError, "NumPy"),
    (lambda: F.rotary(np.full((1, 4), np.nan), [0]), NonFiniteError, "NaN"),
    (lambda: F.rotary_permutation(7), ConfigError, "even"),
    (lambda: F.rotary_frequencies(0), ConfigError, "head_dim"),
    (lambda: F.interleaved_to_halves(np.ones((10, 4)), 3), ShapeError, "n_kv_heads"),
    (lambda: F.interleaved_to_halves(np.ones(10), 2), ShapeError, "2-D"),
    (lambda: F.rotary_tables([[0, 1]], 4), ShapeError, "1-D"),
    (lambda: F.rotary_tables([[0, 1], [2]], 4), ShapeError, "ragged"),
])
def test_bad_inputs(call, error, words):
    with pytest.raises(error, match=words):
        call()
