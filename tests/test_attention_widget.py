"""The attention-map explorer (chapter 9): static (precomputed, for the book) and live."""

import ipywidgets as W
import numpy as np
import pytest

from nncourse import torch_nn
from nncourse.errors import ConfigError
from nncourse.models import AttentionTagger
from nncourse.widgets import attention_explorer
from nncourse.widgets.attention import attention_maps_for


@pytest.fixture(scope="module")
def model():
    return AttentionTagger(10, 6, 8, 2, num_layers=2, seed=0)


def test_static_explorer_has_one_picture_per_sequence_layer_and_head(model):
    sequences = np.array([[1, 2, 3, 4, 5, 6], [6, 5, 4, 3, 2, 1], [0, 0, 1, 1, 2, 2]])
    box = attention_explorer(model, sequences)
    inputs, layers, heads = box.controls
    assert [o[0] for o in inputs.options] == ["1 2 3 4 5 6", "6 5 4 3 2 1", "0 0 1 1 2 2"]
    assert [o[0] for o in layers.options] == ["0", "1"]
    assert [o[0] for o in heads.options] == ["head 0", "head 1", "mean of heads"]
    images = [img.value for s in box.stack.children for t in s.children for img in t.children]
    assert len(images) == 3 * 2 * 3 and all(bytes(v[:4]) == b"\x89PNG" for v in images)
    assert len(set(images)) == len(images)           # every combination its own picture
    assert len(box.links) == 1 + 3 + 3 * 2             # one jslink per Stack


def test_maps_come_from_either_back_end_and_agree(model):
    tokens = np.array([3, 1, 4, 1, 5, 9])
    maps, prediction = attention_maps_for(model, tokens)
    t_maps, t_prediction = attention_maps_for(torch_nn.from_numpy(model), tokens)
    assert maps.shape == (2, 2, 6, 6) and np.allclose(maps.sum(axis=-1), 1, atol=1e-5)
    np.testing.assert_allclose(maps, t_maps, atol=1e-5)
    np.testing.assert_array_equal(prediction, t_prediction)


def test_live_explorer_redraws_and_reports_bad_input(model):
    box = attention_explorer(model, np.array([[1, 2, 3, 4, 5, 6]]), static=False)
    text, layer, head, message, image = box.children
    first = image.value
    text.value = "9 9 8"
    assert message.value == "" and image.value != first
    head.value = 2
    layer.value = 1
    text.value = "1 2 x"
    assert "invalid literal" in message.value
    text.value = "1 2 3 4 5 6 7 8"                       # longer than max_length
    assert "length <= 6" in message.value
    assert isinstance(box, W.VBox)


def test_explorer_rejects_bad_sequences(model):
    with pytest.raises(ConfigError, match="int array"):
        attention_explorer(model, np.zeros((2, 6)))
    with pytest.raises(ConfigError, match="int array"):
        attention_explorer(model, np.array([1, 2, 3]))
