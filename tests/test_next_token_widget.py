"""Chapter 17's next-token explorer: every setting precomputed, the bars equal to the sampling rule."""

import re

import numpy as np
import pytest

from nncourse.errors import ConfigError, ShapeError
from nncourse.models.llama import sampling_probabilities
from nncourse.widgets.next_token import TEMPERATURES, TOP_KS, TOP_PS, next_token_explorer

_RNG = np.random.default_rng(0)
LOGITS = {"the cat": _RNG.normal(0, 2, 30), "a dog": _RNG.normal(0, 1, 30)}


def _leaf(box, *indices):
    node = box.stack
    for i in indices:
        node = node.children[i]
    return node.value


def test_every_setting_is_precomputed_and_linked():
    box = next_token_explorer(LOGITS, lambda i: f"t{i}", shown=4)
    assert [c.description for c in box.controls] == ["prompt", "temperature", "top-k", "top-p"]
    leaves = len(LOGITS) * len(TEMPERATURES) * len(TOP_KS) * len(TOP_PS)
    stacks = 1 + len(LOGITS) * (1 + len(TEMPERATURES) * (1 + len(TOP_KS)))
    assert len(box.links) == stacks and leaves == 72


@pytest.mark.parametrize("p, t, k, q", [(0, 1, 0, 0), (1, 0, 2, 1), (0, 2, 3, 2), (1, 1, 1, 2)])
def test_the_bars_show_the_sampling_distribution(p, t, k, q):
    box = next_token_explorer(LOGITS, lambda i: f"t{i}", shown=30)
    html = _leaf(box, p, t, k, q)
    shown = [float(x) for x in re.findall(r"<td style='padding-left:6px'>([0-9.]+)</td>", html)]
    want = sampling_probabilities(list(LOGITS.values())[p][None], TEMPERATURES[t], TOP_KS[k], TOP_PS[q])[0]
    assert shown == [round(float(v), 3) for v in np.sort(want[want > 0])[::-1]]
    assert f"{np.count_nonzero(want):,} token" in html
    if TOP_KS[k] == 1:
        assert "1 token can be drawn" in html


def test_bad_inputs():
    with pytest.raises(ConfigError, match="logits_by_prompt must be a non-empty dict"):
        next_token_explorer({}, str)
    with pytest.raises(ShapeError, match="one row of the vocabulary's length.*model\\(ids\\)\\[0, -1\\]"):
        next_token_explorer({"a": np.zeros((2, 3))}, str)
    with pytest.raises(ShapeError, match="vocabulary's length"):
        next_token_explorer({"a": np.zeros(3), "b": np.zeros(4)}, str)
    with pytest.raises(ConfigError, match="token_str must turn an id into text"):
        next_token_explorer(LOGITS, "tok")
    with pytest.raises(ConfigError, match="shown must be a whole number from 1 to 50"):
        next_token_explorer(LOGITS, str, shown=0)
