"""Chapter 20: the semantic-search explorer (precomputed, so that it works in the static book)."""

from __future__ import annotations

import ipywidgets as W
import numpy as np
import pytest

from nncourse.errors import ConfigError, DTypeError, ShapeError
from nncourse.widgets.semantic_search import semantic_search_explorer, top_k


def _unit(rows, seed):
    x = np.random.default_rng(seed).normal(size=(rows, 8))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _images(widget):
    found, todo = [], [widget]
    while todo:
        w = todo.pop()
        if isinstance(w, W.Image):
            found.append(w)
        todo.extend(getattr(w, "children", ()))
    return found


def test_top_k_is_the_largest_cosines_best_first():
    q, s = _unit(3, 0), _unit(10, 1)
    idx, scores = top_k(q, s, k=4)
    full = q @ s.T
    for i in range(3):
        assert list(idx[i]) == list(np.argsort(-full[i])[:4])
        np.testing.assert_allclose(scores[i], np.sort(full[i])[::-1][:4])


def test_one_picture_per_query():
    s = _unit(10, 1)
    widget = semantic_search_explorer(["a", "b", "c"], [f"speech {i}" for i in range(10)], _unit(3, 0), s,
                                      targets=[1, 2, 3], k=3)
    images = _images(widget)
    assert len(images) == 3 and len({bytes(i.value) for i in images}) == 3
    assert all(bytes(i.value[:8]) == b"\x89PNG\r\n\x1a\n" for i in images)
    assert [c.description for c in widget.controls] == ["Query"]


@pytest.mark.parametrize("change, error, words", [
    (dict(queries="a"), DTypeError, "queries must be a non-empty list"),
    (dict(k=0), ConfigError, "k must be"),
    (dict(k=11), ConfigError, "more than the 10 speeches"),
    (dict(query_embeddings=np.ones((2, 7))), ShapeError, "width"),
    (dict(query_embeddings=np.full((2, 8), np.nan)), DTypeError, "NaN"),
    (dict(query_embeddings=np.ones((2, 8), int)), DTypeError, "float"),
    (dict(targets=[0, 10]), ShapeError, "targets"),
    (dict(speech_labels=["x"] * 9), ShapeError, "one row each"),
])
def test_bad_arguments(change, error, words):
    kwargs = dict(queries=["a", "b"], speech_labels=[f"s{i}" for i in range(10)], query_embeddings=_unit(2, 0),
                  speech_embeddings=_unit(10, 1), targets=None, k=3)
    kwargs.update(change)
    with pytest.raises(error, match=words):
        semantic_search_explorer(**kwargs)
