"""Quantized weights (Part IV): reading the block formats of GGUF files, from scratch in NumPy.

* ``blocks.py`` (chapter 17): ``dequantize_q4_1`` and ``dequantize_q8_0`` turn blocks of raw bytes
  into float32 values, and ``dequantize_gguf_tensor`` does a whole tensor of a ``gguf.GGUFReader``
  (Q4_1, Q8_0, and F32/F16 passed through), bit for bit what ``gguf.quants.dequantize`` gives.

Nothing here imports ``gguf`` or torch: a tensor is anything with ``tensor_type``, ``shape`` and
``data`` (the raw bytes), as ``gguf.GGUFReader.tensors`` holds.
"""

from .blocks import (
    BLOCK_FORMATS, GGML_TYPES, Q4_1_BLOCK_BYTES, Q8_0_BLOCK_BYTES, QK, dequantize_gguf_tensor, dequantize_q4_1,
    dequantize_q8_0,
)

__all__ = ["dequantize_gguf_tensor", "dequantize_q4_1", "dequantize_q8_0", "BLOCK_FORMATS", "GGML_TYPES", "QK",
           "Q4_1_BLOCK_BYTES", "Q8_0_BLOCK_BYTES"]
