"""Chapter 12: the signal through a deep MLP (nncourse.models.deep_signal) and the depth explorer widget."""

import ipywidgets as W
import numpy as np
import pytest

from nncourse.models.deep_signal import INITS, init_std, signal_through_depth
from nncourse.errors import ConfigError
from nncourse.widgets import depth_explorer
from nncourse.widgets.depth import shown_layers


def test_init_std_follows_the_variance_rules():
    assert init_std("he", 200, 50) == pytest.approx(np.sqrt(2 / 200))
    assert init_std("xavier", 200, 50) == pytest.approx(np.sqrt(2 / 250))
    assert init_std("normal", 9, 9) == 1.0 and init_std("small", 9, 9) == 0.01
    with pytest.raises(ConfigError, match="init must be one of"):
        init_std("glorot_uniform", 3, 3)


def test_he_keeps_relu_and_xavier_keeps_tanh_alive_while_the_others_fail():
    he = signal_through_depth(30, "relu", "he", width=128, batch=128)
    small = signal_through_depth(30, "relu", "small", width=128, batch=128)
    big = signal_through_depth(30, "relu", "normal", width=128, batch=128)
    assert 0.2 < he.act_std[-1] < 5                           # the second moment is kept
    assert small.act_std[-1] < 1e-20 and big.act_std[-1] > 1e20        # (64 * 1e-4)^15 and 64^15
    tanh_normal = signal_through_depth(10, "tanh", "normal", width=128, batch=128)
    saturated = np.mean(np.abs(tanh_normal.activations[-1]) > 0.99)
    assert saturated > 0.8                                     # N(0, 1) saturates tanh
    xavier = signal_through_depth(10, "tanh", "xavier", width=128, batch=128)
    assert np.mean(np.abs(xavier.activations[-1]) > 0.99) < 0.01


def test_the_gradient_std_is_that_of_the_chain_rule():
    """Compare with autograd: d sum(h_L * R) / d h_l for a small network in torch."""
    import torch

    s = signal_through_depth(4, "tanh", "xavier", width=5, batch=3, seed=2)
    rng = np.random.default_rng(2)
    h = torch.tensor(rng.standard_normal((3, 5)), requires_grad=True)
    std = init_std("xavier", 5, 5)
    Ws = [torch.tensor(rng.standard_normal((5, 5)) * std) for _ in range(4)]
    hs = []
    for weight in Ws:
        h = torch.tanh(h @ weight.T)
        h.retain_grad()
        hs.append(h)
    R = torch.tensor(rng.standard_normal((3, 5)))
    (hs[-1] * R).sum().backward()
    np.testing.assert_allclose(s.grad_std, [float(x.grad.std(unbiased=False)) for x in hs], rtol=1e-12)
    np.testing.assert_allclose(s.act_std, [float(x.detach().std(unbiased=False)) for x in hs], rtol=1e-12)


def test_bad_arguments():
    with pytest.raises(ConfigError, match="activation must be one of"):
        signal_through_depth(3, "gelu", "he")
    with pytest.raises(ConfigError, match="depth must be a whole number"):
        signal_through_depth(0, "relu", "he")
    with pytest.raises(ConfigError, match="unknown init"):
        depth_explorer(inits=("he", "lecun"))


def test_shown_layers_start_at_one_and_end_at_the_depth():
    assert shown_layers(5) == [1, 2, 3, 4, 5]
    assert shown_layers(50)[0] == 1 and shown_layers(50)[-1] == 50 and len(shown_layers(50)) == 6


def test_explorer_has_one_picture_per_depth_activation_and_init():
    box = depth_explorer(depths=(3, 6), activations=("tanh", "relu"), inits=("small", "he"), width=16, batch=16)
    depth_w, activation_w, init_w = box.controls
    assert isinstance(depth_w, W.SelectionSlider) and isinstance(activation_w, W.ToggleButtons)
    assert [o[0] for o in init_w.options] == [INITS["small"], INITS["he"]]
    pictures = [bytes(leaf.value) for d in box.stack.children for a in d.children for leaf in a.children]
    assert len(pictures) == 8 and len(set(pictures)) == 8
    assert all(p.startswith(b"\x89PNG") for p in pictures)
    assert len(box.links) == 1 + 2 + 4                         # depth -> outer, activation -> 2, init -> 4
