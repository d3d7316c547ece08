"""Quantizing float weights into fewer bits (chapter 19): the writing side of ``blocks.py``.

``quantize(array, kind)`` returns a ``QuantizedTensor``; ``.dequantize()`` gives float32 values back,
``.nbytes`` is what it costs to store, ``.raw`` is the stored bytes (GGUF's block layout for the GGUF
kinds). The kinds:

* ``"q8_0"``: blocks of 32 values, one float16 scale ``d = max|x| / 127`` each, ``q = round(x / d)``
  in -127..127 (rounding half away from zero). 34 bytes a block: 8.5 bits a value.
* ``"q4_0"``: blocks of 32, ``d = x_max / -8`` where ``x_max`` is the value of largest magnitude (with its
  sign), ``q = trunc(x / d + 8.5)`` clipped to 0..15; value = ``d * (q - 8)``. 18 bytes: 4.5 bits.
* ``"q4_1"``: blocks of 32, ``d = (max - min) / 15``, ``m = min``, ``q = trunc((x - m) / d + 0.5)`` in
  0..15; value = ``d * q + m``. 20 bytes: 5 bits.
* ``"int8"``: per channel (row), symmetric: ``scale = max|row| / 127`` (float32), ``q = round(x / scale)``.
  ``raw`` is the int8 values then the float32 scales.
* ``"f16"``, ``"bf16"``: the float formats, for comparison (``bf16`` rounds to nearest even, as GGUF does).

The GGUF kinds follow ``gguf.quants`` (the reference in ``ggml-quants.c``) operation for operation, so
the bytes are bit-identical. Two places differ on purpose, where the reference gives garbage: values
so large that a block's float16 scale overflows are refused (``NonFiniteError``, naming the limit), and
values so small that ``1 / d`` overflows float32 are divided in float64 instead of multiplied by
infinity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError, DTypeError, NonFiniteError, ShapeError
from .blocks import QK, dequantize_q4_0, dequantize_q4_1, dequantize_q8_0

__all__ = ["quantize", "QuantizedTensor", "QUANT_KINDS", "bytes_per_value"]

#: kind -> (values per block, bytes per block); "int8" adds one float32 scale per row (see bytes_per_value)
QUANT_KINDS = {"q8_0": (QK, 2 + QK), "q4_0": (QK, 2 + QK // 2), "q4_1": (QK, 4 + QK // 2),
               "int8": (1, 1), "f16": (1, 2), "bf16": (1, 2)}
GGUF_KINDS = ("q8_0", "q4_0", "q4_1")
FLOAT16_MAX = float(np.finfo(np.float16).max)


def bytes_per_value(kind: str, row_length: int | None = None) -> float:
    """Bytes a format spends per stored value (``"f32"`` gives 4.0). For ``"int8"`` pass ``row_length``:
    its float32 scale is shared by one row."""
    kind = _check_kind(kind, "bytes_per_value", allow_f32=True)
    if kind == "f32":
        return 4.0
    per_block, nbytes = QUANT_KINDS[kind]
    if kind == "int8":
        if row_length is None or isinstance(row_length, bool) or not isinstance(row_length, (int, np.integer)) \
                or row_length < 1:
            raise ConfigError(f"bytes_per_value: for 'int8' row_length must be the number of values sharing one "
                              f"scale (a whole number >= 1), got {row_length!r}; pass row_length=w.shape[-1]")
        return 1.0 + 4.0 / int(row_length)
    return nbytes / per_block


@dataclass(frozen=True, eq=False)
class QuantizedTensor:
    """A quantized array: ``kind``, the original ``shape``, and the stored bytes ``raw`` (uint8).

    For ``"int8"``, ``values`` (int8, the array's shape) and ``scales`` (float32, one per row) are kept
    too, and ``raw`` is their bytes one after the other.
    """

    kind: str
    shape: tuple
    raw: np.ndarray
    values: np.ndarray | None = None
    scales: np.ndarray | None = None

    def __post_init__(self):
        who = "QuantizedTensor"
        kind = _check_kind(self.kind, who)
        shape = self.shape
        if not isinstance(shape, tuple) or not shape or not all(
                isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 1 for n in shape):
            raise ShapeError(f"{who}: shape must be a tuple of whole numbers >= 1, got {shape!r}; build one with "
                             f"quantize(array, kind)")
        if not isinstance(self.raw, np.ndarray) or self.raw.dtype != np.uint8:
            got = getattr(self.raw, "dtype", type(self.raw).__name__)
            raise DTypeError(f"{who}: raw must be a NumPy uint8 array of stored bytes, got {got}; build one with "
                             f"quantize(array, kind)")
        if self.raw.ndim != 1 and (self.raw.ndim != len(shape) or self.raw.shape[:-1] != tuple(shape[:-1])):
            raise ShapeError(f"{who}: raw must be the stored bytes as a 1-D array, or one row of bytes per row of "
                             f"shape {shape} (raw.shape[:-1] == shape[:-1]), got raw of shape {self.raw.shape}; "
                             f"pass raw.reshape(-1) or build one with quantize(array, kind)")
        count = int(np.prod(shape))
        rows = shape[0] if len(shape) > 1 else 1
        per_block, block_bytes = QUANT_KINDS[kind]
        expected = count + 4 * rows if kind == "int8" else count // per_block * block_bytes
        if (kind in GGUF_KINDS and shape[-1] % QK) or self.raw.nbytes != expected:
            raise ShapeError(f"{who}: {kind} of shape {shape} takes {expected} bytes, but raw holds {self.raw.nbytes}; "
                             f"the bytes are truncated or belong to another shape or kind")
        if kind == "int8" and not (isinstance(self.values, np.ndarray) and self.values.dtype == np.int8
                                   and self.values.shape == shape and isinstance(self.scales, np.ndarray)
                                   and self.scales.dtype == np.float32 and self.scales.shape == (rows,)):
            raise ShapeError(f"{who}: 'int8' needs values (int8, shape {shape}) and scales (float32, shape "
                             f"({rows},)); build one with quantize(array, 'int8')")
        object.__setattr__(self, "kind", kind)

    @property
    def nbytes(self) -> int:
        """Bytes the stored form takes (scales included)."""
        return int(self.raw.nbytes)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    @property
    def bits_per_value(self) -> float:
        return 8.0 * self.nbytes / self.size

    def dequantize(self) -> np.ndarray:
        """The stored values as float32, in the original shape."""
        if self.kind == "int8":
            rows = self.values.reshape(self.shape[0], -1) if len(self.shape) > 1 else self.values.reshape(1, -1)
            return (rows.astype(np.float32) * self.scales[:, None]).reshape(self.shape)
        if self.kind == "f16":
            return self.raw.view(np.float16).astype(np.float32).reshape(self.shape)
        if self.kind == "bf16":
            return (self.raw.view(np.uint16).astype(np.uint32) << 16).view(np.float32).reshape(self.shape)
        decode = {"q8_0": dequantize_q8_0, "q4_0": dequantize_q4_0, "q4_1": dequantize_q4_1}[self.kind]
        return decode(self.raw.reshape(-1)).reshape(self.shape)

    def __repr__(self):
        return (f"QuantizedTensor(kind={self.kind!r}, shape={self.shape}, nbytes={self.nbytes}, "
                f"bits_per_value={self.bits_per_value:.3g})")


def _check_kind(kind, who, allow_f32=False):
    known = sorted(QUANT_KINDS) + (["f32"] if allow_f32 else [])
    if not isinstance(kind, str) or kind.lower() not in known:
        raise ConfigError(f"{who}: kind must be one of {known}, got {kind!r}; for example kind='q8_0'")
    return kind.lower()


def _check_array(array, kind, who):
    if not isinstance(array, np.ndarray):
        fix = ("pass tensor.detach().cpu().numpy()" if hasattr(array, "detach")
               else "pass np.asarray(values, dtype=np.float32)")
        raise DTypeError(f"{who}: array must be a NumPy float array, got {type(array).__name__}; {fix}")
    if array.dtype not in (np.float16, np.float32, np.float64):
        raise DTypeError(f"{who}: array must hold floats (float16, float32 or float64), got dtype {array.dtype}; "
                         f"convert it first: array.astype(np.float32)")
    if array.ndim == 0 or array.size == 0:
        raise ShapeError(f"{who}: array must hold at least one row of values, got shape {array.shape}; pass a "
                         f"weight matrix or a 1-D array")
    if not np.all(np.isfinite(array)):
        bad = int(array.size - np.count_nonzero(np.isfinite(array)))
        raise NonFiniteError(f"{who}: array contains {bad} NaN or infinite value(s), which no {kind} block can "
                             f"store; find where they come from (a diverged run?) before quantizing")
    if kind in GGUF_KINDS and array.shape[-1] % QK:
        raise ShapeError(f"{who}: {kind} stores blocks of {QK} values along the last axis, but array has shape "
                         f"{array.shape}: {array.shape[-1]} is not a whole number of {QK}-value blocks; pad the rows "
                         f"to a multiple of {QK} or use kind='int8'")
    return array.astype(np.float32, copy=False)


def _roundf(n):
    """Round half away from zero, as C's roundf (and ``gguf.quants.np_roundf``)."""
    a = np.abs(n)
    floored = np.floor(a)
    return np.sign(n) * (floored + np.floor(2 * (a - floored)))


def _scaled(blocks, d, who, kind):
    """``blocks * (1 / d)`` as the reference computes it; where ``1 / d`` overflows float32 (a block of
    subnormal values), ``blocks / d`` in float64 instead of a product with infinity."""
    with np.errstate(divide="ignore", over="ignore"):
        inverse = np.where(d == 0, 0, 1 / d)
    scaled = blocks * inverse
    bad = ~np.isfinite(inverse[:, 0])
    if bad.any():
        scaled[bad] = (blocks[bad].astype(np.float64) / d[bad].astype(np.float64)).astype(np.float32)
    return scaled


def _half(values, what, kind, who, limit):
    with np.errstate(over="ignore"):
        half = values.astype(np.float16)
    if not np.all(np.isfinite(half)):
        largest = float(np.max(np.abs(values)))
        raise NonFiniteError(f"{who}: a {kind} block's {what} would be {largest:.3g}, beyond float16's largest "
                             f"{FLOAT16_MAX:g}, so it cannot be stored; {kind} holds values up to about {limit:.3g} "
                             f"in magnitude: scale the array down (and the scale back up after) or use kind='int8'")
    return half.view(np.uint8)


def _q8_0(blocks, who):
    d = np.abs(blocks).max(axis=1, keepdims=True) / np.float32(127)
    qs = _roundf(_scaled(blocks, d, who, "q8_0"))
    d_bytes = _half(d, "scale max|x|/127", "q8_0", who, FLOAT16_MAX * 127)
    return np.concatenate([d_bytes, qs.astype(np.int8).view(np.uint8)], axis=1)


def _q4_0(blocks, who):
    largest = np.take_along_axis(blocks, np.abs(blocks).argmax(axis=-1, keepdims=True), axis=-1)
    d = largest / np.float32(-8)
    qs = np.trunc(_scaled(blocks, d, who, "q4_0") + np.float32(8.5), dtype=np.float32)
    qs = np.clip(qs, 0, 15).astype(np.uint8)
    packed = qs[:, :QK // 2] | (qs[:, QK // 2:] << np.uint8(4))
    return np.concatenate([_half(d, "scale x_max/-8", "q4_0", who, FLOAT16_MAX * 8), packed], axis=1)


def _q4_1(blocks, who):
    high = blocks.max(axis=-1, keepdims=True)
    low = blocks.min(axis=-1, keepdims=True)
    with np.errstate(over="ignore"):
        d = (high - low) / np.float32(15)
    if not np.all(np.isfinite(d)):
        raise NonFiniteError(f"{who}: a q4_1 block spans {float(np.max(high)):.3g} to {float(np.min(low)):.3g}, "
                             f"a range float32 cannot hold; scale the array down before quantizing")
    qs = np.trunc(_scaled(blocks - low, d, who, "q4_1") + np.float32(0.5), dtype=np.float32)
    qs = np.clip(qs, 0, 15).astype(np.uint8)
    packed = qs[:, :QK // 2] | (qs[:, QK // 2:] << np.uint8(4))
    d_bytes = _half(d, "scale (max-min)/15", "q4_1", who, FLOAT16_MAX)
    m_bytes = _half(low, "minimum", "q4_1", who, FLOAT16_MAX)
    return np.concatenate([d_bytes, m_bytes, packed], axis=1)


def _int8(x):
    rows = x.reshape(x.shape[0], -1) if x.ndim > 1 else x.reshape(1, -1)
    scales = (np.abs(rows).max(axis=1) / np.float32(127)).astype(np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(scales[:, None] > 0, _roundf(rows.astype(np.float64) / scales[:, None]), 0)
    values = np.clip(q, -127, 127).astype(np.int8).reshape(x.shape)
    return values, scales


def _bf16(x):
    n = x.view(np.uint32).astype(np.uint64)
    return ((n + (0x7FFF + ((n >> 16) & 1))) >> 16).astype(np.uint16).view(np.uint8)


def quantize(array, kind) -> QuantizedTensor:
    """Quantize a float array into ``kind`` (see the module's docstring); returns a ``QuantizedTensor``.

    >>> x = np.linspace(-1, 1, 32, dtype=np.float32)
    >>> t = quantize(x, "q8_0")
    >>> t.nbytes, t.raw.shape
    (34, (34,))
    >>> float(np.abs(t.dequantize() - x).max()) < 1 / 127
    True
    """
    who = "quantize"
    kind = _check_kind(kind, who)
    x = _check_array(array, kind, who)
    shape = tuple(int(n) for n in x.shape)
    if kind == "int8":
        values, scales = _int8(x)
        raw = np.concatenate([values.reshape(-1).view(np.uint8), scales.view(np.uint8)])
        return QuantizedTensor(kind, shape, raw, values, scales)
    if kind == "f16":
        with np.errstate(over="ignore"):
            half = x.astype(np.float16)
        if not np.all(np.isfinite(half)):
            raise NonFiniteError(f"{who}: array holds values up to {float(np.abs(x).max()):.3g}, beyond float16's "
                                 f"largest {FLOAT16_MAX:g}; use kind='bf16' (float32's range) or scale it down")
        return QuantizedTensor(kind, shape, half.view(np.uint8).reshape(-1))
    if kind == "bf16":
        raw = _bf16(np.ascontiguousarray(x).reshape(-1))
        if not np.all(np.isfinite((raw.view(np.uint16).astype(np.uint32) << 16).view(np.float32))):
            raise NonFiniteError(f"{who}: array holds values up to {float(np.abs(x).max()):.3g}, which round to "
                                 f"infinity in bfloat16; scale the array down before quantizing")
        return QuantizedTensor(kind, shape, raw)
    blocks = np.ascontiguousarray(x).reshape(-1, QK)
    encode = {"q8_0": _q8_0, "q4_0": _q4_0, "q4_1": _q4_1}[kind]
    raw = encode(blocks, who)
    return QuantizedTensor(kind, shape, raw.reshape(*shape[:-1], -1))
