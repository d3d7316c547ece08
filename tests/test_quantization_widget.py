"""The quantization explorer (chapter 19): precomputed pictures, and its grids checked against quantize."""

import numpy as np
import pytest

from nncourse.errors import ConfigError, DTypeError, NonFiniteError, ShapeError
from nncourse.quantization import quantize
from nncourse.widgets.quantization import FORMATS, block_levels, quantization_explorer

TABLE = {"f32": {"bytes_per_param": 4.0, "perplexity": 30.0}, "q8_0": {"bytes_per_param": 1.07, "perplexity": 30.1},
         "q4_1": {"bytes_per_param": 0.63, "perplexity": 31.0}}


def weights(seed=0):
    return (np.random.default_rng(seed).standard_normal((8, 64)) * 0.05).astype(np.float32)


@pytest.mark.parametrize("kind", FORMATS)
def test_every_stored_value_of_a_block_lies_on_its_grid(kind):
    block = weights()[0, :32]
    levels = block_levels(block, kind)
    stored = quantize(block, kind).dequantize()
    assert len(levels) >= {"q4_0": 16, "q4_1": 16, "q8_0": 255, "int8": 255}.get(kind, 64)
    gaps = np.abs(stored[:, None] - levels[None, :]).min(axis=1)
    assert gaps.max() <= 1e-6 * max(1.0, np.abs(levels).max())


def test_the_widget_precomputes_one_picture_per_format():
    box = quantization_explorer(weights(), TABLE, block=3)
    (buttons,) = box.controls
    assert [o[0] for o in buttons.options] == list(FORMATS)
    pictures = list(box.stack.children)
    assert len(pictures) == len(FORMATS)
    assert all(p.value[:8] == b"\x89PNG\r\n\x1a\n" for p in pictures)
    assert len({p.value for p in pictures}) == len(FORMATS)          # each format draws its own picture


def test_hostile_inputs_are_refused():
    with pytest.raises(DTypeError, match="weights must be a float32.*got float64"):
        quantization_explorer(weights().astype(np.float64), TABLE)
    with pytest.raises(ShapeError, match="whole blocks of 32.*got shape \\(8, 40\\)"):
        quantization_explorer(weights()[:, :40].copy(), TABLE)
    with pytest.raises(ConfigError, match="table must map formats.*RESULTS\\['llama'\\]"):
        quantization_explorer(weights(), {"q8_0": 1.0})
    with pytest.raises(ConfigError, match="formats must be a few of"):
        quantization_explorer(weights(), TABLE, formats=["q2_k"])
    with pytest.raises(ConfigError, match="block must be a whole number in 0..15"):
        quantization_explorer(weights(), TABLE, block=16)
    with pytest.raises(ShapeError, match="block must be a NumPy array of 32 values, got \\(64,\\)"):
        block_levels(weights()[0], "q8_0")
    with pytest.raises(ConfigError, match="kind must be one of"):
        block_levels(weights()[0, :32], "q2")
    bad = weights()
    bad[0, 0] = np.nan
    with pytest.raises(NonFiniteError, match="NaN"):
        quantization_explorer(bad, TABLE)
