"""Models that leave PyTorch (chapter 19): ``to_onnx`` writes chapter 10's GPT as an ONNX file.

ONNX is a file format for computation graphs (operators such as ``MatMul``, ``Softmax``, ``Gather``
with their weights), read by ONNX Runtime and by other runtimes, languages and accelerators. Since
torch 2.9 ``torch.onnx.export`` traces the model with ``torch.export`` (the "dynamo" exporter, which
needs ``onnxscript``). A dimension is dynamic only if it is declared in ``dynamic_shapes`` and is not 1
in the example: an example of size 1 gets that size baked into the graph. So the example input must
have a batch >= 2 and a length >= 2.

The file is written next to ``path`` under a temporary name, checked with ``onnx.checker``, run with
ONNX Runtime on the example and compared with torch, and only then renamed to ``path``: a failed
export leaves any older file at ``path`` as it was.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from .errors import ConversionError, DataError, DTypeError, NonFiniteError, ShapeError
from .utils import publish, unwritable_folder_message

__all__ = ["to_onnx", "OPSET"]

#: the ONNX operator set the files are written with (pinned: a newer torch would otherwise change it)
OPSET = 18
#: the largest difference between ONNX Runtime's logits and torch's that the check accepts
TOLERANCE = 1e-4
WHO = "to_onnx"


def _check_model(model):
    from .models.torch import GPT

    if not isinstance(model, GPT):
        name = type(model).__name__
        fix = ("build the torch twin: nncourse.models.torch.GPT(...) and load_state_dict(numpy_model.state_dict())"
               if name == "GPT" else "pass chapter 10's nncourse.models.torch.GPT")
        raise ConversionError(f"{WHO}: model must be a torch nncourse.models.torch.GPT, got {type(model).__module__}."
                              f"{name}; {fix}")
    import torch

    for name, parameter in model.state_dict().items():
        if not bool(torch.isfinite(parameter).all()):
            raise NonFiniteError(f"{WHO}: the model's {name} holds NaN or infinity (a diverged run?); such a file "
                                 f"would be useless, so it is not written: export a model that trained normally")


def _check_path(path):
    if not isinstance(path, (str, os.PathLike)):
        raise ConversionError(f"{WHO}: path must be a file name such as 'gpt.onnx', got {type(path).__name__}")
    path = Path(path)
    if str(path) in ("", ".") or path.is_dir():
        raise DataError(f"{WHO}: path {str(path)!r} is a folder; pass a file name inside it, such as "
                        f"{str(path / 'gpt.onnx')!r}")
    if path.suffix != ".onnx":
        raise DataError(f"{WHO}: path must end in .onnx, got {str(path)!r}; write to "
                        f"{str(path.with_name(path.name + '.onnx'))!r}")
    if path.parent.exists() and not path.parent.is_dir():
        raise DataError(f"{WHO}: path {str(path)!r} lies inside {str(path.parent)!r}, which is a file, not a folder; "
                        f"choose a path in a folder")
    return path


def _check_example(model, example_input):
    import torch

    if isinstance(example_input, np.ndarray):
        example_input = torch.from_numpy(example_input)
    if not isinstance(example_input, torch.Tensor):
        raise ShapeError(f"{WHO}: example_input must be a tensor of token ids, shape (batch, length), got "
                         f"{type(example_input).__name__}; pass torch.randint(0, vocab_size, (2, 8))")
    if example_input.ndim != 2 or example_input.shape[0] < 2 or example_input.shape[1] < 2:
        raise ShapeError(f"{WHO}: example_input must have shape (batch, length) with batch >= 2 and length >= 2 "
                         f"(a dimension of size 1 would be fixed in the graph), got shape "
                         f"{tuple(example_input.shape)}; pass torch.randint(0, vocab_size, (2, 8))")
    if example_input.dtype.is_floating_point or example_input.dtype.is_complex or example_input.dtype == torch.bool:
        raise DTypeError(f"{WHO}: example_input must hold integer token ids, got dtype {example_input.dtype}; "
                         f"pass torch.randint(0, vocab_size, (2, 8)) or example_input.long()")
    return model._check_tokens(example_input)        # token ids in range, length <= context: as forward checks


def _graph(model):
    """GPT.forward without its Python-side input checks (they read the tokens as NumPy, which a traced
    graph cannot do): the same modules, the same arithmetic."""
    import torch

    class Graph(torch.nn.Module):
        def __init__(self, gpt):
            super().__init__()
            self.gpt = gpt

        def forward(self, idx):
            gpt = self.gpt
            positions = torch.arange(idx.shape[1], device=idx.device)
            x = gpt.wte(idx) + gpt.wpe(positions)
            return gpt.lm_head(gpt.ln_f(gpt.blocks(x)))

    return Graph(model)


def _export(model, example, temporary):
    import torch

    graph = _graph(model).eval()
    context = int(model.context_length)
    batch = torch.export.Dim("batch", min=1)
    length = torch.export.Dim("length", min=1, max=context)
    try:
        import onnxscript  # noqa: F401  (the dynamo exporter needs it)
    except ImportError:
        raise ConversionError(f"{WHO}: torch's ONNX exporter needs the onnxscript package; pip install onnxscript "
                              f"onnx onnxruntime (requirements.txt lists them)") from None
    try:
        program = torch.onnx.export(graph, (example,), dynamo=True, opset_version=OPSET,
                                    dynamic_shapes=({0: batch, 1: length},), input_names=["tokens"],
                                    output_names=["logits"], external_data=False, verbose=False)
        program.save(str(temporary), external_data=False)
    except Exception as error:   # a torch/onnxscript failure, reported as the course's error
        raise ConversionError(f"{WHO}: torch.onnx.export failed on this model ({type(error).__name__}: "
                              f"{str(error).splitlines()[0] if str(error) else ''}); the file was not written") \
            from error


def _verify(temporary, model, example):
    """Load the written file back: the ONNX checker, then one ONNX Runtime run against torch."""
    import onnx
    import onnxruntime
    import torch

    try:
        onnx.checker.check_model(str(temporary), full_check=True)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.log_severity_level = 3
        session = onnxruntime.InferenceSession(str(temporary), options, providers=["CPUExecutionProvider"])
        got = session.run(None, {session.get_inputs()[0].name: example.numpy().astype(np.int64)})[0]
    except Exception as error:
        raise ConversionError(f"{WHO}: the written file does not load back ({type(error).__name__}: {error}); "
                              f"it was not kept") from error
    with torch.no_grad():
        expected = model.eval()(example).numpy()
    difference = float(np.max(np.abs(got - expected)))
    if got.shape != expected.shape or not difference <= TOLERANCE:
        raise ConversionError(f"{WHO}: ONNX Runtime's output differs from torch's by {difference:.3g} (shape "
                              f"{got.shape} vs {expected.shape}), more than {TOLERANCE:g}; the file was not kept")


def to_onnx(model, path, example_input):
    """Write chapter 10's torch ``GPT`` to ``path`` (``.onnx``) with dynamic batch and length; returns the path.

    ``example_input``: token ids, shape (batch >= 2, length >= 2), length <= the model's context. The
    graph has one input ``tokens`` (int64, ``(batch, length)``) and one output ``logits``
    (``(batch, length, vocab_size)``), opset ``OPSET``. The model is exported in eval mode (no dropout)
    and left in the mode it was in.
    """
    _check_model(model)
    path = _check_path(path)
    was_training = model.training
    try:
        example = _check_example(model, example_input)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
            os.close(handle)
        except OSError as error:
            raise DataError(unwritable_folder_message(path.parent, error, what="the ONNX file",
                                                      fix="write it into another folder")) from None
        temporary = Path(temporary)
        try:
            _export(model, example, temporary)
            _verify(temporary, model, example)
            publish(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
    finally:
        model.train(was_training)
    return path
