"""Chapter 16: the rotary-positions explorer (precomputed, so that it works in the static book)."""

from __future__ import annotations

import ipywidgets as W
import numpy as np
import pytest

from nncourse.errors import ConfigError
from nncourse.numpy_nn import functional as F
from nncourse.widgets.rotary import relative_scores, rotary_explorer


def _images(widget):
    found, todo = [], [widget]
    while todo:
        w = todo.pop()
        if isinstance(w, W.Image):
            found.append(w)
        todo.extend(getattr(w, "children", ()))
    return found


def test_relative_scores_depend_on_the_distance_only():
    rng = np.random.default_rng(0)
    q, k = rng.normal(size=8), rng.normal(size=8)
    per_pair, total = relative_scores(q, k, np.arange(-5, 6), theta=50.0)
    assert per_pair.shape == (11, 4) and total.shape == (11,)
    for d, value in zip(range(-5, 6), total):
        m, n = 20 + d, 20                                          # any other pair of positions at distance d
        direct = (F.rotary(q[None], [m], 50.0) @ F.rotary(k[None], [n], 50.0).T).item()
        assert abs(direct - value) < 1e-10
    np.testing.assert_allclose(per_pair.sum(axis=1), total)


def test_the_widget_has_one_picture_per_position_and_pair_and_two_linked_sliders():
    widget = rotary_explorer(positions=range(0, 4), pairs=(0, 3), head_dim=8)
    images = _images(widget)
    assert len(images) == 8
    assert len({bytes(i.value) for i in images}) == 8                 # every picture differs
    assert all(bytes(i.value[:8]) == b"\x89PNG\r\n\x1a\n" for i in images)
    assert [c.description for c in widget.controls] == ["Query position m", "Pair i"]
    assert len(widget.links) == 1 + 4                                 # outer stack + one per position


@pytest.mark.parametrize("kwargs,words", [
    (dict(head_dim=7), "even"),
    (dict(pairs=(0, 9)), "pairs must be < head_dim"),
    (dict(positions=()), "non-empty"),
    (dict(positions=range(0, 300)), "too many"),
    (dict(positions=(-1, 2)), "positions"),
    (dict(key_position=-3), "key_position"),
    (dict(theta="100"), "theta"),
])
def test_bad_arguments(kwargs, words):
    with pytest.raises(ConfigError, match=words):
        rotary_explorer(**kwargs)
