"""Contract-sweep recipes for chapter 19's public callables (quantize, its result, to_onnx).

``to_onnx``'s valid call exports a small GPT (seconds); its hostile values are refused before any
export starts, and tests/test_export_onnx.py covers them with the words of each error."""

import numpy as np
from contract import Call, recipe


def _weights():
    return np.linspace(-1, 1, 64, dtype=np.float32).reshape(2, 32)


@recipe("nncourse.quantization.quantize")
def _():
    return Call(_weights(), "q8_0", kinds={"array": "array", "kind": "text"})


@recipe("nncourse.quantization.bytes_per_value")
def _():
    return Call("int8", row_length=32, kinds={"kind": "text", "row_length": "count"})


@recipe("nncourse.quantization.dequantize_q4_0")
def _():
    return Call(np.zeros(18, np.uint8), kinds={"blocks": "array"})


@recipe("nncourse.quantization.QuantizedTensor")
def _():
    from nncourse.quantization import quantize
    t = quantize(_weights(), "q4_1")
    return Call("q4_1", (2, 32), t.raw.copy(), kinds={"kind": "text", "shape": "object", "raw": "array",
                                                    "values": "skip: None for the GGUF kinds",
                                                    "scales": "skip: None for the GGUF kinds"})


@recipe("nncourse.quantization.QuantizedTensor.dequantize")
def _():
    from nncourse.quantization import quantize
    return Call(quantize(_weights(), "int8"))


@recipe("nncourse.export.to_onnx")
def _():
    import torch
    from nncourse.models.torch import GPT
    import tempfile
    from pathlib import Path
    path = Path(tempfile.mkdtemp(prefix="nncourse-onnx-")) / "gpt.onnx"
    return Call(GPT(11, 8, 8, 2, 1, seed=0), path, torch.zeros((2, 3), dtype=torch.long),
                kinds={"model": "object", "path": "path", "example_input": "array"})


@recipe("nncourse.widgets.quantization.quantization_explorer")
def _():
    table = {"f32": {"bytes_per_param": 4.0, "perplexity": 30.0}, "q8_0": {"bytes_per_param": 1.07, "perplexity": 30.1}}
    return Call(np.linspace(-1, 1, 128, dtype=np.float32).reshape(2, 64), table, formats=("q8_0", "q4_1"),
                kinds={"weights": "array", "table": "object", "formats": "object", "block": "count"})


@recipe("nncourse.widgets.quantization.block_levels")
def _():
    return Call(np.linspace(-1, 1, 32, dtype=np.float32), "q4_1", kinds={"block": "array", "kind": "text"})
