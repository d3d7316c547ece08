"""GGUF's block quantization, decoded by hand (chapter 17).

A quantized tensor is cut into blocks of ``QK = 32`` consecutive values (along a row). Each block keeps
one or two float16 numbers and 32 small integers:

* **Q8_0**, 34 bytes a block: a scale ``d`` (float16), then 32 signed bytes ``q``; value = ``d * q``.
* **Q4_1**, 20 bytes a block: a scale ``d`` and a minimum ``m`` (two float16), then 16 bytes holding
  32 unsigned 4-bit numbers ``q`` in 0..15; value = ``d * q + m``. The *low* nibbles of the 16 bytes are
  values 0..15 of the block, the *high* nibbles values 16..31 (not neighbours in pairs)::

      byte j = (q[j + 16] << 4) | q[j]          j = 0..15

So Q4_1 stores 32 values in 20 bytes, 5 bits a value (4 bits + 2 x 16 bits shared by 32), against 32
bits in float32. The arithmetic is done as ``gguf.quants`` does it, so the results are bit-identical:
the float16 numbers are widened to float32, ``d * q`` is rounded to float32, then ``m`` is added.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..errors import ConfigError, DataError, ShapeError

__all__ = ["dequantize_gguf_tensor", "dequantize_q4_0", "dequantize_q4_1", "dequantize_q8_0", "BLOCK_FORMATS",
           "GGML_TYPES", "QK", "Q4_0_BLOCK_BYTES", "Q4_1_BLOCK_BYTES", "Q8_0_BLOCK_BYTES"]

#: values per block
QK = 32
Q4_0_BLOCK_BYTES = 2 + QK // 2
Q4_1_BLOCK_BYTES = 2 + 2 + QK // 2
Q8_0_BLOCK_BYTES = 2 + QK
#: GGML's numbers for the tensor types this module reads (``gguf.GGMLQuantizationType``)
GGML_TYPES = {"F32": 0, "F16": 1, "Q4_0": 2, "Q4_1": 3, "Q8_0": 8}
#: name -> (values per block, bytes per block)
BLOCK_FORMATS = {"F32": (1, 4), "F16": (1, 2), "Q4_0": (QK, Q4_0_BLOCK_BYTES),
                 "Q4_1": (QK, Q4_1_BLOCK_BYTES), "Q8_0": (QK, Q8_0_BLOCK_BYTES)}


def _as_blocks(blocks, block_bytes, who):
    if isinstance(blocks, (bytes, bytearray, memoryview)):
        blocks = np.frombuffer(blocks, dtype=np.uint8)
    if not isinstance(blocks, np.ndarray):
        raise ConfigError(f"{who}: blocks must be a NumPy uint8 array of raw bytes (or a bytes object), got "
                          f"{type(blocks).__name__}; read them with np.frombuffer(data, np.uint8)")
    if blocks.dtype != np.uint8:
        raise ConfigError(f"{who}: blocks must hold raw bytes (dtype uint8), got dtype {blocks.dtype}; "
                          f"view the data as bytes first: blocks.view(np.uint8)")
    if not blocks.size:
        raise ShapeError(f"{who}: blocks is empty (shape {blocks.shape}); pass at least one {block_bytes}-byte block "
                         f"of raw bytes")
    if blocks.size % block_bytes:
        raise DataError(f"{who}: blocks holds {blocks.size} bytes, not a whole number of {block_bytes}-byte "
                        f"blocks; the data is truncated or is not in this format")
    return np.ascontiguousarray(blocks).reshape(-1, block_bytes)


def dequantize_q8_0(blocks) -> np.ndarray:
    """Q8_0 blocks (raw bytes, 34 a block) -> float32 values, shape ``(n_blocks, 32)``.

    >>> scale = np.array([0.5], np.float16).view(np.uint8)
    >>> block = np.concatenate([scale, np.arange(-16, 16, dtype=np.int8).view(np.uint8)])
    >>> dequantize_q8_0(block)[0, :4].tolist()
    [-8.0, -7.5, -7.0, -6.5]
    """
    blocks = _as_blocks(blocks, Q8_0_BLOCK_BYTES, "dequantize_q8_0")
    d = blocks[:, :2].copy().view(np.float16).astype(np.float32)          # (n, 1) scale
    q = blocks[:, 2:].view(np.int8).astype(np.float32)                      # (n, 32) signed bytes
    return q * d


def dequantize_q4_0(blocks) -> np.ndarray:
    """Q4_0 blocks (raw bytes, 18 a block: a float16 scale ``d``, 16 bytes of nibbles) -> float32 values,
    shape ``(n_blocks, 32)``; value = ``d * (q - 8)``, nibbles packed as in Q4_1 (low nibbles first).

    >>> d = np.array([0.5], np.float16).view(np.uint8)
    >>> values = dequantize_q4_0(np.concatenate([d, np.array([0x10 * 15 + 0] + [8] * 15, np.uint8)]))[0]
    >>> values[0].item(), values[1].item(), values[16].item()
    (-4.0, 0.0, 3.5)
    """
    blocks = _as_blocks(blocks, Q4_0_BLOCK_BYTES, "dequantize_q4_0")
    d = blocks[:, 0:2].copy().view(np.float16).astype(np.float32)         # (n, 1)
    packed = blocks[:, 2:]                                                  # (n, 16)
    q = np.concatenate([packed & 0x0F, packed >> 4], axis=1).astype(np.int8) - np.int8(8)
    return d * q.astype(np.float32)


def dequantize_q4_1(blocks) -> np.ndarray:
    """Q4_1 blocks (raw bytes, 20 a block) -> float32 values, shape ``(n_blocks, 32)``.

    >>> d_m = np.array([0.5, -1.0], np.float16).view(np.uint8)               # scale 0.5, minimum -1
    >>> nibbles = np.array([0x10 * 15 + 0] + [0] * 15, np.uint8)            # q[0] = 0, q[16] = 15
    >>> values = dequantize_q4_1(np.concatenate([d_m, nibbles]))[0]
    >>> values[0].item(), values[1].item(), values[16].item()
    (-1.0, -1.0, 6.5)
    """
    blocks = _as_blocks(blocks, Q4_1_BLOCK_BYTES, "dequantize_q4_1")
    d = blocks[:, 0:2].copy().view(np.float16).astype(np.float32)         # (n, 1)
    m = blocks[:, 2:4].copy().view(np.float16).astype(np.float32)         # (n, 1)
    packed = blocks[:, 4:]                                                  # (n, 16)
    q = np.concatenate([packed & 0x0F, packed >> 4], axis=1).astype(np.float32)   # low nibbles first
    return (d * q) + m


def _type_name(tensor_type):
    name = getattr(tensor_type, "name", None)
    if isinstance(name, str):
        return name
    by_number = {v: k for k, v in GGML_TYPES.items()}
    return by_number.get(int(tensor_type), f"GGML type {int(tensor_type)}")


def dequantize_gguf_tensor(tensor) -> np.ndarray:
    """A tensor of a ``gguf.GGUFReader`` as float32 values, shaped as NumPy/torch see it.

    GGUF lists a tensor's dimensions innermost first (``tensor.shape == [576, 1536]`` for a
    1536 x 576 weight matrix), so the result has ``tensor.shape`` reversed: a Linear layer's
    ``(out_features, in_features)``. Q4_1 and Q8_0 are decoded here; F32 and F16 are passed through
    (as float32); other formats raise a ``ConfigError`` that names them.
    """
    missing = [a for a in ("tensor_type", "shape", "data") if not hasattr(tensor, a)]
    if missing:
        raise ConfigError(f"dequantize_gguf_tensor: tensor must be one of gguf.GGUFReader(path).tensors "
                          f"(with tensor_type, shape and data), got {type(tensor).__name__}, which lacks {missing}")
    where = getattr(tensor, "name", "the tensor")
    try:
        kind = int(tensor.tensor_type)
        shape = tuple(int(n) for n in reversed(np.asarray(tensor.shape).tolist()))
    except (TypeError, ValueError):
        raise ConfigError(f"dequantize_gguf_tensor: {where} has tensor_type {tensor.tensor_type!r} and shape "
                          f"{tensor.shape!r}; pass a tensor read by gguf.GGUFReader") from None
    if isinstance(tensor.tensor_type, bool) or not all(isinstance(n, numbers.Integral) and n >= 1 for n in shape):
        raise ConfigError(f"dequantize_gguf_tensor: {where} has the shape {tensor.shape!r}; pass a tensor read by "
                          f"gguf.GGUFReader")
    name = _type_name(tensor.tensor_type)
    count = int(np.prod(shape))
    data = np.asarray(tensor.data)
    if kind == GGML_TYPES["F32"]:
        values = data.reshape(-1).view(np.float32) if data.dtype == np.uint8 else data.astype(np.float32, copy=False)
    elif kind == GGML_TYPES["F16"]:
        values = (data.reshape(-1).view(np.float16) if data.dtype == np.uint8 else data).astype(np.float32)
    elif kind in (GGML_TYPES["Q4_0"], GGML_TYPES["Q4_1"], GGML_TYPES["Q8_0"]):
        if shape[-1] % QK:
            raise DataError(f"dequantize_gguf_tensor: {where} is {name} but its rows have {shape[-1]} values, "
                            f"not a multiple of the block size {QK}; the file is damaged")
        decode = {GGML_TYPES["Q4_0"]: dequantize_q4_0, GGML_TYPES["Q4_1"]: dequantize_q4_1,
                  GGML_TYPES["Q8_0"]: dequantize_q8_0}[kind]
        values = decode(data.reshape(-1).view(np.uint8) if data.dtype != np.uint8 else data.reshape(-1))
    else:
        raise ConfigError(f"dequantize_gguf_tensor: {where} is stored as {name}, which this course does not decode "
                          f"yet; it reads {sorted(GGML_TYPES)} (use gguf.quants.dequantize(tensor.data, "
                          f"tensor.tensor_type) for the others)")
    if values.size != count:
        raise DataError(f"dequantize_gguf_tensor: {where} should hold {count} values ({name}, shape {shape}) but "
                        f"its data gives {values.size}; the file is truncated or damaged")
    return values.reshape(shape)
