"""nncourse.quantization: Q4_1 and Q8_0 blocks decoded by hand, against gguf.quants (bit for bit).

Hand-made blocks here; every tensor of the SmolLM2 file is compared in tests/test_smollm2.py.
"""

from types import SimpleNamespace

import numpy as np
import pytest

from nncourse.errors import ConfigError, DataError
from nncourse.quantization import (
    GGML_TYPES, Q4_1_BLOCK_BYTES, Q8_0_BLOCK_BYTES, QK, dequantize_gguf_tensor, dequantize_q4_1, dequantize_q8_0,
)

gguf = pytest.importorskip("gguf", reason="pip install gguf (requirements.txt)")


def q4_1_block(d, m, q):
    """One Q4_1 block written by hand: float16 d and m, then q[j] | q[j + 16] << 4."""
    q = np.asarray(q, np.uint8)
    packed = (q[:16] | (q[16:] << 4)).astype(np.uint8)
    return np.concatenate([np.array([d, m], np.float16).view(np.uint8), packed])


def q8_0_block(d, q):
    return np.concatenate([np.array([d], np.float16).view(np.uint8), np.asarray(q, np.int8).view(np.uint8)])


def test_a_q4_1_block_by_hand():
    q = np.arange(32) % 16
    block = q4_1_block(0.25, -2.0, q)
    assert block.size == Q4_1_BLOCK_BYTES == 20
    assert block[4] == 0x00 | (q[16] << 4) and block[5] == 0x01 | (q[17] << 4)   # low nibble first, high second
    values = dequantize_q4_1(block)
    assert values.shape == (1, QK) and values.dtype == np.float32
    assert values[0].tolist() == [0.25 * k - 2.0 for k in q]
    assert values[0, 15] == 0.25 * 15 - 2.0 and values[0, 16] == -2.0          # q[16] = 0: the high nibbles restart


def test_a_q8_0_block_by_hand():
    q = np.arange(-16, 16)
    block = q8_0_block(0.5, q)
    assert block.size == Q8_0_BLOCK_BYTES == 34
    assert dequantize_q8_0(block)[0].tolist() == [0.5 * k for k in q]
    assert dequantize_q8_0(q8_0_block(1.0, [-128] + [127] * 31))[0, :2].tolist() == [-128.0, 127.0]


@pytest.mark.parametrize("kind", ["Q4_1", "Q8_0"])
def test_random_blocks_are_bit_identical_to_gguf(kind):
    rng = np.random.default_rng(0)
    qtype = getattr(gguf.GGMLQuantizationType, kind)
    size = Q4_1_BLOCK_BYTES if kind == "Q4_1" else Q8_0_BLOCK_BYTES
    raw = rng.integers(0, 256, size=(500, size), dtype=np.uint8)
    halves = rng.standard_normal((500, 2)).astype(np.float16).view(np.uint8)   # finite scales and minima
    raw[:, :4 if kind == "Q4_1" else 2] = halves[:, :4 if kind == "Q4_1" else 2]
    ours = (dequantize_q4_1 if kind == "Q4_1" else dequantize_q8_0)(raw).reshape(-1)
    theirs = gguf.quants.dequantize(raw, qtype).reshape(-1)
    assert ours.dtype == theirs.dtype == np.float32 and ours.tobytes() == theirs.tobytes()


def test_quantize_then_dequantize_round_trip_is_within_half_a_step():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 64)).astype(np.float32)
    for kind, steps in (("Q4_1", 15), ("Q8_0", 127)):
        qtype = getattr(gguf.GGMLQuantizationType, kind)
        raw = gguf.quants.quantize(x, qtype)
        tensor = SimpleNamespace(name="w", tensor_type=qtype, shape=np.array([64, 4]), data=raw)
        back = dequantize_gguf_tensor(tensor)
        assert back.shape == (4, 64)
        blocks = x.reshape(-1, QK)
        spread = (blocks.max(1) - blocks.min(1)) if kind == "Q4_1" else 2 * np.abs(blocks).max(1)
        step = spread / steps
        error = np.abs(back.reshape(-1, QK) - blocks).max(1)
        assert (error <= 0.51 * step + 1e-2 * step + 1e-3).all(), kind
        assert error.max() > 0                                           # it is lossy


def test_f32_and_f16_pass_through_with_the_shape_reversed():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    t32 = SimpleNamespace(name="n", tensor_type=gguf.GGMLQuantizationType.F32, shape=np.array([3, 2]), data=x)
    assert dequantize_gguf_tensor(t32).tolist() == x.tolist()
    t16 = SimpleNamespace(name="h", tensor_type=gguf.GGMLQuantizationType.F16, shape=np.array([3, 2]),
                          data=x.astype(np.float16))
    out = dequantize_gguf_tensor(t16)
    assert out.dtype == np.float32 and out.tolist() == x.tolist()


def test_bad_inputs_are_named():
    with pytest.raises(ConfigError, match="blocks must hold raw bytes.*uint8.*view"):
        dequantize_q4_1(np.zeros(20, np.float32))
    with pytest.raises(DataError, match="21 bytes, not a whole number of 20-byte blocks.*truncated"):
        dequantize_q4_1(np.zeros(21, np.uint8))
    with pytest.raises(ConfigError, match="blocks must be a NumPy uint8 array.*got list"):
        dequantize_q8_0([0] * 34)
    assert dequantize_q8_0(bytes(34)).shape == (1, 32)
    with pytest.raises(ConfigError, match="tensor must be one of gguf.GGUFReader.*lacks"):
        dequantize_gguf_tensor(np.zeros(3))
    q5_0 = SimpleNamespace(name="blk.0.w", tensor_type=gguf.GGMLQuantizationType.Q5_0, shape=np.array([32, 1]),
                           data=np.zeros((1, 22), np.uint8))          # chapter 19 added Q4_0; Q5_0 is still unread
    with pytest.raises(ConfigError, match="blk.0.w is stored as Q5_0, which this course does not decode.*Q4_1"):
        dequantize_gguf_tensor(q5_0)
    short = SimpleNamespace(name="w", tensor_type=gguf.GGMLQuantizationType.Q8_0, shape=np.array([64, 2]),
                            data=np.zeros((2, 34), np.uint8))
    with pytest.raises(DataError, match="should hold 128 values.*gives 64.*truncated"):
        dequantize_gguf_tensor(short)
    odd = SimpleNamespace(name="w", tensor_type=GGML_TYPES["Q4_1"], shape=np.array([48, 1]),
                          data=np.zeros((1, 30), np.uint8))
    with pytest.raises(DataError, match="48 values, not a multiple of the block size 32"):
        dequantize_gguf_tensor(odd)
