"""nncourse.export.to_onnx: chapter 10's GPT as an ONNX file, run by ONNX Runtime, against torch.

One export (about 10 s) is shared by the tests of a written file; the hostile inputs fail before any
export starts.
"""

import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx", reason="pip install onnx onnxruntime onnxscript (requirements.txt)")
ort = pytest.importorskip("onnxruntime", reason="pip install onnxruntime (requirements.txt)")
pytest.importorskip("onnxscript", reason="pip install onnxscript (requirements.txt)")

from nncourse import export as export_module  # noqa: E402
from nncourse.errors import ConversionError, DataError, NonFiniteError, ShapeError  # noqa: E402
from nncourse.export import OPSET, to_onnx  # noqa: E402
from nncourse.models.torch import GPT  # noqa: E402

VOCAB, CONTEXT = 29, 16


def tokens(shape, seed=0):
    return torch.randint(0, VOCAB, shape, generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    model = GPT(VOCAB, CONTEXT, 24, 2, 2, dropout=0.1, seed=3)
    model.train()
    path = to_onnx(model, tmp_path_factory.mktemp("onnx") / "gpt.onnx", tokens((2, 5)))
    return model, path


def run(path, idx):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return session.run(None, {"tokens": idx.numpy()})[0]


def test_the_file_is_a_valid_onnx_model_with_the_pinned_opset(exported):
    model, path = exported
    graph = onnx.load(str(path))
    onnx.checker.check_model(graph, full_check=True)
    assert [o.version for o in graph.opset_import if o.domain in ("", "ai.onnx")] == [OPSET]
    assert [i.name for i in graph.graph.input] == ["tokens"] and [o.name for o in graph.graph.output] == ["logits"]
    dims = graph.graph.input[0].type.tensor_type.shape.dim
    assert all(d.dim_param and not d.dim_value for d in dims)          # both axes symbolic, none baked in
    assert {"MatMul", "Softmax", "LayerNormalization", "Gather"} <= {n.op_type for n in graph.graph.node}
    assert model.training                                                  # left in the mode it was in
    assert not [p for p in path.parent.iterdir() if p.name != "gpt.onnx"]  # no temporary file left


@pytest.mark.parametrize("shape", [(1, 1), (1, CONTEXT), (3, 1), (4, CONTEXT), (5, 7)])
def test_onnxruntime_matches_torch_at_other_batches_and_lengths(exported, shape):
    model, path = exported
    idx = tokens(shape, seed=sum(shape))
    with torch.no_grad():
        expected = model.eval()(idx).numpy()
    model.train()
    got = run(path, idx)
    assert got.shape == (*shape, VOCAB)
    assert np.max(np.abs(got - expected)) <= 1e-5


def test_a_failed_export_leaves_the_old_file_as_it_was(exported, tmp_path, monkeypatch):
    model, _ = exported
    target = tmp_path / "gpt.onnx"
    target.write_bytes(b"the old file")

    def broken(*args):
        raise ConversionError("to_onnx: simulated: the written file does not load back")

    monkeypatch.setattr(export_module, "_verify", broken)
    with pytest.raises(ConversionError, match="does not load back"):
        to_onnx(model, target, tokens((2, 3)))
    assert target.read_bytes() == b"the old file"
    assert sorted(os.listdir(tmp_path)) == ["gpt.onnx"]


def test_hostile_models_are_refused():
    from nncourse.models import GPT as NumpyGPT

    with pytest.raises(ConversionError, match="model must be a torch.*got nncourse.models.gpt.GPT.*torch twin"):
        to_onnx(NumpyGPT(VOCAB, CONTEXT, 8, 2, 1, seed=0), "x.onnx", tokens((2, 3)))
    with pytest.raises(ConversionError, match="model must be a torch.*got .*Linear.*chapter 10"):
        to_onnx(torch.nn.Linear(2, 2), "x.onnx", tokens((2, 3)))
    model = GPT(VOCAB, CONTEXT, 8, 2, 1, seed=0)
    with torch.no_grad():
        model.lm_head.weight[0, 0] = float("nan")
    with pytest.raises(NonFiniteError, match="lm_head.weight holds NaN.*not written"):
        to_onnx(model, "x.onnx", tokens((2, 3)))


def test_hostile_paths_are_refused(tmp_path):
    model = GPT(VOCAB, CONTEXT, 8, 2, 1, seed=0)
    with pytest.raises(DataError, match="is a folder; pass a file name inside it"):
        to_onnx(model, tmp_path, tokens((2, 3)))
    with pytest.raises(DataError, match="must end in .onnx.*gpt.txt.onnx"):
        to_onnx(model, tmp_path / "gpt.txt", tokens((2, 3)))
    (tmp_path / "afile").write_text("x")
    with pytest.raises(DataError, match="which is a file, not a folder"):
        to_onnx(model, tmp_path / "afile" / "gpt.onnx", tokens((2, 3)))
    with pytest.raises(ConversionError, match="path must be a file name.*got int"):
        to_onnx(model, 3, tokens((2, 3)))


@pytest.mark.parametrize("example, words", [
    (torch.zeros((1, 4), dtype=torch.long), "batch >= 2 and length >= 2.*size 1 would be fixed.*got shape \\(1, 4\\)"),
    (torch.zeros((3, 1), dtype=torch.long), "batch >= 2 and length >= 2.*got shape \\(3, 1\\)"),
    (torch.zeros(6, dtype=torch.long), "shape \\(batch, length\\).*got shape \\(6,\\)"),
    ([[1, 2], [3, 4]], "example_input must be a tensor of token ids.*got list"),
])
def test_hostile_example_inputs_are_refused(example, words):
    model = GPT(VOCAB, CONTEXT, 8, 2, 1, seed=0)
    with pytest.raises(ShapeError, match=words):
        to_onnx(model, "never-written.onnx", example)
    assert not os.path.exists("never-written.onnx")


def test_token_ids_and_lengths_are_checked_as_forward_checks_them(tmp_path):
    model = GPT(VOCAB, CONTEXT, 8, 2, 1, seed=0)
    with pytest.raises(Exception) as caught:
        to_onnx(model, tmp_path / "g.onnx", torch.full((2, 3), VOCAB))
    assert "vocab" in str(caught.value).lower() and type(caught.value).__module__ == "nncourse.errors"
    with pytest.raises(Exception) as caught:
        to_onnx(model, tmp_path / "g.onnx", tokens((2, CONTEXT + 1)))
    assert "context" in str(caught.value).lower() and type(caught.value).__module__ == "nncourse.errors"
    assert not list(tmp_path.iterdir())
