"""Quantized weights (Part IV): GGUF's block formats from scratch in NumPy, reading and writing.

* ``blocks.py`` (chapter 17, extended in 19): ``dequantize_q4_0``, ``dequantize_q4_1`` and
  ``dequantize_q8_0`` turn blocks of raw bytes into float32 values, and ``dequantize_gguf_tensor`` does a
  whole tensor of a ``gguf.GGUFReader`` (Q4_0, Q4_1, Q8_0, and F32/F16 passed through), bit for bit what
  ``gguf.quants.dequantize`` gives.
* ``quantize.py`` (chapter 19): ``quantize(array, kind)`` writes "q8_0", "q4_0", "q4_1" (bytes
  bit-identical to ``gguf.quants.quantize``), per-channel "int8", and "f16"/"bf16" for comparison; the
  result's ``.dequantize()`` reads them back through the decoders of ``blocks.py``.

Nothing here imports ``gguf`` or torch: a tensor is anything with ``tensor_type``, ``shape`` and
``data`` (the raw bytes), as ``gguf.GGUFReader.tensors`` holds.
"""

from .blocks import (
    BLOCK_FORMATS, GGML_TYPES, Q4_0_BLOCK_BYTES, Q4_1_BLOCK_BYTES, Q8_0_BLOCK_BYTES, QK, dequantize_gguf_tensor,
    dequantize_q4_0, dequantize_q4_1, dequantize_q8_0,
)
from .quantize import QUANT_KINDS, QuantizedTensor, bytes_per_value, quantize

__all__ = ["dequantize_gguf_tensor", "dequantize_q4_0", "dequantize_q4_1", "dequantize_q8_0", "quantize",
           "QuantizedTensor", "bytes_per_value", "QUANT_KINDS", "BLOCK_FORMATS", "GGML_TYPES", "QK",
           "Q4_0_BLOCK_BYTES", "Q4_1_BLOCK_BYTES", "Q8_0_BLOCK_BYTES"]
