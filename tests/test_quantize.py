"""nncourse.quantization.quantize: our bytes and values against gguf.quants, bit for bit, and the edges."""

import numpy as np
import pytest

from nncourse.errors import ConfigError, DTypeError, NonFiniteError, ShapeError
from nncourse.quantization import (
    QK, QuantizedTensor, bytes_per_value, dequantize_gguf_tensor, dequantize_q4_0, quantize,
)

gguf = pytest.importorskip("gguf", reason="pip install gguf (requirements.txt)")
GGUF_KINDS = ["q8_0", "q4_0", "q4_1"]


def qtype(kind):
    return getattr(gguf.GGMLQuantizationType, kind.upper())


def awkward_weights(seed=0):
    """Rows that stress the rounding: normal weights, zeros, an outlier, tiny, large, constant, ties."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((12, 4 * QK)).astype(np.float32) * 0.05
    x[1] = 0.0                                        # a row of zeros: scale 0
    x[2, 7] = 3.0                                     # one outlier in a block
    x[3] *= 1e-30                                     # tiny, still normal float32
    x[4] *= 1e5                                       # large, the float16 scales still fit (q4_1's min too)
    x[5] = 0.25                                       # a constant row: max == min
    x[6] = np.arange(4 * QK) % 17 - 8                 # integers: exact halves after scaling
    x[7] = -np.abs(x[7])                              # all negative
    x[8, :QK] = 1e-40                                 # subnormal: 1/d overflows float32 in the reference
    x[9] = np.float32(65504.0) * np.sign(x[9])        # float16's largest value
    return x


@pytest.mark.parametrize("kind", GGUF_KINDS + ["bf16"])
def test_bytes_are_bit_identical_to_gguf(kind):
    x = awkward_weights()
    normal = np.delete(x, 8, axis=0)                  # the subnormal row: the reference's result is undefined
    ours = quantize(normal, kind)
    theirs = gguf.quants.quantize(normal, qtype(kind))
    assert ours.raw.dtype == np.uint8 and ours.raw.tobytes() == theirs.tobytes()
    assert ours.nbytes == theirs.nbytes
    back = gguf.quants.dequantize(theirs, qtype(kind)).reshape(normal.shape)
    assert ours.dequantize().dtype == np.float32 and ours.dequantize().tobytes() == back.tobytes()


@pytest.mark.parametrize("kind", GGUF_KINDS)
def test_dequantization_of_random_bytes_is_bit_identical_to_gguf(kind):
    rng = np.random.default_rng(1)
    size = {"q8_0": 34, "q4_0": 18, "q4_1": 20}[kind]
    raw = rng.integers(0, 256, size=(300, size), dtype=np.uint8)
    halves = (rng.standard_normal((300, 2)) * 0.1).astype(np.float16).view(np.uint8)
    raw[:, :4 if kind == "q4_1" else 2] = halves[:, :4 if kind == "q4_1" else 2]
    tensor = QuantizedTensor(kind, (300, QK), raw)
    theirs = gguf.quants.dequantize(raw, qtype(kind)).reshape(300, QK)
    assert tensor.dequantize().tobytes() == theirs.tobytes()


def test_q4_0_in_a_gguf_tensor_and_by_hand():
    x = np.linspace(-1, 1, 2 * QK, dtype=np.float32).reshape(2, QK)
    raw = gguf.quants.quantize(x, gguf.GGMLQuantizationType.Q4_0)
    from types import SimpleNamespace
    tensor = SimpleNamespace(name="w", tensor_type=gguf.GGMLQuantizationType.Q4_0, shape=np.array([QK, 2]), data=raw)
    assert dequantize_gguf_tensor(tensor).tobytes() == quantize(x, "q4_0").dequantize().tobytes()
    block = np.concatenate([np.array([-0.125], np.float16).view(np.uint8), np.full(16, 0x8F, np.uint8)])
    assert dequantize_q4_0(block)[0].tolist() == [-0.125 * 7] * 16 + [0.0] * 16   # low nibbles 15, high 8


@pytest.mark.parametrize("kind", GGUF_KINDS + ["int8", "f16", "bf16"])
def test_edges_come_back_finite_and_close(kind):
    x = awkward_weights()
    if kind == "f16":
        x[3] = 0.0                                                       # below float16's smallest: zeros
    back = quantize(x, kind).dequantize()
    assert back.shape == x.shape and np.isfinite(back).all()
    assert (back[1] == 0).all()                                          # zeros stay zeros
    assert np.abs(back[8, :QK]).max() <= 1e-39                                # subnormal: a tiny result, no garbage
    steps = {"q8_0": 127, "q4_0": 8, "q4_1": 15, "int8": 127, "f16": 1000, "bf16": 128}[kind]
    rows = np.arange(len(x)) != 2                                        # the outlier row is the exception
    if kind in GGUF_KINDS:                                               # scales below float16's range: 0
        assert (back[3] == 0).all() and np.abs(x[3]).max() > 0
        rows &= np.arange(len(x)) != 3
    spread = np.abs(x[rows]).max(axis=1, keepdims=True) * (2 if kind == "q4_1" else 1)
    assert (np.abs(back[rows] - x[rows]) <= spread / steps * 1.01).all()
    assert np.abs(back[6] - x[6]).max() <= 8 / steps * 1.01


def test_int8_is_per_channel_and_symmetric():
    x = np.array([[1.0, -0.5, 0.25, 0.0], [100.0, 50.0, -127.0, 1.0]], np.float32)
    t = quantize(x, "int8")
    assert t.scales.tolist() == pytest.approx([1 / 127, 1.0])
    assert t.values.tolist() == [[127, -64, 32, 0], [100, 50, -127, 1]]        # half away from zero: -63.5 -> -64
    assert t.nbytes == 8 + 2 * 4 and t.raw.dtype == np.uint8
    assert bytes_per_value("int8", row_length=4) == 2.0
    assert quantize(np.ones(5, np.float32) * 2, "int8").dequantize().tolist() == [2.0] * 5   # 1-D: one channel


def test_blocks_beat_one_scale_when_there_is_an_outlier():
    rng = np.random.default_rng(2)
    x = (rng.standard_normal((64, 256)) * 0.02).astype(np.float32)
    x[0, 0] = 2.0
    per_tensor = quantize(x.reshape(1, -1), "int8").dequantize().reshape(x.shape)
    blocks = quantize(x, "q8_0").dequantize()
    assert np.abs(blocks - x).mean() < np.abs(per_tensor - x).mean() / 10


def test_bytes_per_value():
    assert [bytes_per_value(k) for k in ("f32", "f16", "bf16", "q8_0", "q4_1", "q4_0")] == \
        [4.0, 2.0, 2.0, 34 / 32, 20 / 32, 18 / 32]
    for kind in GGUF_KINDS:
        t = quantize(np.zeros((3, 64), np.float32), kind)
        assert t.nbytes == 3 * 64 * bytes_per_value(kind) and t.bits_per_value == 8 * bytes_per_value(kind)
    with pytest.raises(ConfigError, match="row_length must be.*row_length=w.shape"):
        bytes_per_value("int8")
    with pytest.raises(ConfigError, match="kind must be one of.*'q8_0'.*got 'q3'"):
        bytes_per_value("q3")


def test_nan_and_infinity_are_refused():
    x = np.zeros((2, QK), np.float32)
    for bad in (np.nan, np.inf):
        x[1, 3] = bad
        for kind in GGUF_KINDS + ["int8", "f16", "bf16"]:
            with pytest.raises(NonFiniteError, match=f"1 NaN or infinite.*{kind}.*diverged"):
                quantize(x, kind)


@pytest.mark.parametrize("kind, value, words", [
    ("q8_0", 1e7, "scale max\\|x\\|/127 would be .*beyond float16's largest 65504.*up to about 8.32e\\+06"),
    ("q4_0", 1e6, "scale x_max/-8 would be.*up to about 5.24e\\+05"),
    ("q4_1", 1e5, "minimum would be.*float16's largest"),
    ("f16", 1e5, "beyond float16's largest 65504; use kind='bf16'"),
    ("bf16", 3.4e38, "round to infinity in bfloat16"),
])
def test_values_beyond_the_scale_format_are_refused(kind, value, words):
    x = np.ones((1, QK), np.float32)
    x[0, 0] = -value
    with pytest.raises(NonFiniteError, match=words):
        quantize(x, kind)
    with pytest.raises(NonFiniteError, match="a range float32 cannot hold"):
        quantize(np.array([[3e38, -3e38] * 16], np.float32), "q4_1")


def test_shapes_not_in_whole_blocks_are_refused_with_the_shape_and_block_size():
    for kind in GGUF_KINDS:
        with pytest.raises(ShapeError, match=r"shape \(3, 40\): 40 is not a whole number of 32-value blocks.*int8"):
            quantize(np.zeros((3, 40), np.float32), kind)
    assert quantize(np.zeros((3, 40), np.float32), "int8").nbytes == 120 + 12          # int8 has no blocks
    with pytest.raises(ShapeError, match=r"at least one row.*got shape \(\)"):
        quantize(np.array(1.0, np.float32), "int8")
    with pytest.raises(ShapeError, match=r"got shape \(0, 32\)"):
        quantize(np.zeros((0, 32), np.float32), "q8_0")


@pytest.mark.parametrize("array, words", [
    (np.arange(32), "must hold floats.*got dtype int64.*astype\\(np.float32\\)"),
    (np.ones(32, bool), "must hold floats.*got dtype bool"),
    ([0.5] * 32, "must be a NumPy float array, got list.*np.asarray"),
    ("0.5", "must be a NumPy float array, got str"),
])
def test_hostile_arrays_are_refused(array, words):
    with pytest.raises(DTypeError, match=words):
        quantize(array, "q8_0")


def test_torch_tensors_get_a_fix_and_float16_and_float64_are_accepted():
    torch = pytest.importorskip("torch")
    with pytest.raises(DTypeError, match="got Tensor; pass tensor.detach\\(\\).cpu\\(\\).numpy\\(\\)"):
        quantize(torch.zeros(32), "q8_0")
    x = np.linspace(-1, 1, 32)
    assert quantize(x, "q8_0").raw.tobytes() == quantize(x.astype(np.float32), "q8_0").raw.tobytes()
    assert quantize(x.astype(np.float16), "q4_1").nbytes == 20


@pytest.mark.parametrize("kind", [None, 8, "q5_k", "", b"q8_0", "int4"])
def test_unknown_kinds_are_refused(kind):
    with pytest.raises(ConfigError, match="kind must be one of \\['bf16', 'f16', 'int8', 'q4_0', 'q4_1', 'q8_0'\\]"):
        quantize(np.zeros(32, np.float32), kind)
    assert quantize(np.zeros(32, np.float32), "Q8_0").kind == "q8_0"            # case does not matter


def test_a_quantized_tensor_refuses_bytes_that_do_not_fit_its_shape():
    with pytest.raises(ShapeError, match=r"q4_1 of shape \(2, 32\) takes 40 bytes, but raw holds 39.*truncated"):
        QuantizedTensor("q4_1", (2, 32), np.zeros(39, np.uint8))
    with pytest.raises(ShapeError, match=r"shape must be a tuple.*got \[2, 32\]"):
        QuantizedTensor("q4_1", [2, 32], np.zeros(40, np.uint8))
    with pytest.raises(DTypeError, match="raw must be a NumPy uint8 array.*got float32"):
        QuantizedTensor("q4_1", (2, 32), np.zeros(10, np.float32))
    with pytest.raises(ShapeError, match="'int8' needs values.*and scales"):
        QuantizedTensor("int8", (2, 32), np.zeros(72, np.uint8))
