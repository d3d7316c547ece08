"""The package's shape: no import cycle among nncourse's modules, numpy_nn at the bottom, and every layer
and model declaring its twin and how it is saved in its own file (no central tables)."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nncourse

PACKAGE = Path(nncourse.__file__).parent


def _module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_package(name):
    return (PACKAGE.parent / Path(*name.split(".")) / "__init__.py").exists()


def _resolve(module, level, current):
    """The absolute name of ``from <level dots><module> import ...`` written in module ``current``."""
    if level == 0:
        return module
    base = current.split(".")
    base = base if _is_package(current) else base[:-1]
    base = base[:len(base) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def _module_level_imports(path, name):
    """The nncourse modules ``name`` imports when it is imported (not those imported inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()

    def visit(nodes):
        for node in nodes:
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                target = _resolve(node.module, node.level, name)
                found.add(target)
                for alias in node.names:          # "from . import registry" imports a submodule
                    if _is_package(target) or (PACKAGE.parent / Path(*target.split(".")) / f"{alias.name}.py").exists():
                        found.add(f"{target}.{alias.name}")
            elif isinstance(node, (ast.If, ast.Try, ast.With)):
                visit(node.body)
                visit(getattr(node, "orelse", []))
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)
                visit(getattr(node, "finalbody", []))
            elif isinstance(node, (ast.For, ast.While)):
                visit(node.body)

    visit(tree.body)
    return {m for m in found if m == "nncourse" or m.startswith("nncourse.")}


def _known(name, modules):
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name


def import_graph():
    modules = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        targets = {_known(target, modules) for target in _module_level_imports(path, name)}
        graph[name] = {t for t in targets if t and t != name}
    # importing a.b.c first imports its packages a and a.b
    for name in modules:
        parent = name.rpartition(".")[0]
        if parent:
            graph[name].add(parent)
    return graph


def _cycles(graph):
    """Strongly connected components with more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def connect(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in graph:
        if v not in index:
            connect(v)
    return found


def _without_package_edges(graph):
    """A package importing its own submodules (``numpy_nn/__init__`` -> ``numpy_nn.linear``) and the
    submodule's implicit import of its package are one unit, not a cycle; keep every other edge."""
    def inside(a, b):
        return b.startswith(a + ".")
    return {v: {w for w in ws if not inside(v, w) and not inside(w, v)} for v, ws in graph.items()}


def test_the_import_graph_is_read_correctly():
    graph = import_graph()
    assert "nncourse.numpy_nn.module" in graph["nncourse.numpy_nn.linear"]
    assert "nncourse.numpy_nn" in graph["nncourse.models.gpt"]
    assert "nncourse.torch_nn" in graph["nncourse.models.torch.gpt"]


def test_no_import_cycle_between_modules():
    cycles = _cycles(_without_package_edges(import_graph()))
    assert not cycles, f"import cycles among nncourse's modules: {cycles}"


def test_the_cycle_detector_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_numpy_nn_imports_nothing_above_it():
    above = ("nncourse.torch_nn", "nncourse.models", "nncourse.train", "nncourse.widgets", "nncourse.checks",
             "nncourse.io", "nncourse.data")
    for name, targets in import_graph().items():
        if name.startswith("nncourse.numpy_nn"):
            bad = sorted(t for t in targets if t.startswith(above))
            assert not bad, f"{name} imports {bad}"
    models = ("GPT", "AttentionTagger", "BigramNet", "WindowMLP", "RecurrentLM", "Llama")
    for path in (PACKAGE / "numpy_nn").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            # a model's name in the code, or a class looked up by its name ("nncourse.torch_nn.GPT")
            if isinstance(node, ast.Name) or isinstance(node, ast.Attribute):
                name = node.id if isinstance(node, ast.Name) else node.attr
                assert name not in models + ("torch_nn", "models"), f"numpy_nn/{path.name} names {name}"
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert not node.value.startswith(("nncourse.torch_nn", "nncourse.models")) and \
                    node.value not in models, f"numpy_nn/{path.name} looks up {node.value!r}, a thing above it"


def test_importing_numpy_nn_loads_neither_torch_nor_the_models():
    code = ("import sys, json, nncourse.numpy_nn; "
            "print(json.dumps(sorted(m for m in sys.modules if m == 'torch' or m.startswith(('torch.', "
            "'nncourse.models', 'nncourse.torch_nn')))))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == []


def test_the_check_above_would_see_torch():
    code = "import sys, json, nncourse.torch_nn; print(json.dumps('torch' in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) is True


def test_the_convert_modules_hold_no_table_of_layers():
    for path in (PACKAGE / "numpy_nn" / "convert.py", PACKAGE / "torch_nn" / "convert.py", PACKAGE / "io.py"):
        text = path.read_text(encoding="utf-8")
        for word in ("_CONVERTERS", "_layer_classes", "_REQUIRED_KEYS", "GPT"):
            assert word not in text, f"{path.name} still holds {word}"


def test_each_model_has_its_torch_twin_under_the_same_name():
    import nncourse.models as models
    import nncourse.models.torch as torch_models
    from nncourse.torch_nn import from_numpy

    builds = {"GPT": lambda: models.GPT(7, 4, 8, 2, 1, seed=0),
              "AttentionTagger": lambda: models.AttentionTagger(5, 4, 4, 2, seed=0),
              "BigramNet": lambda: models.BigramNet(seed=0),
              "WindowMLP": lambda: models.WindowMLP(3, 4, 8, seed=0),
              "RecurrentLM": lambda: models.RecurrentLM("gru", 4, 8, seed=0),
              "Llama": lambda: models.Llama(7, 4, 8, 2, 1, 1, 12, seed=0)}
    for name, build in builds.items():
        twin = from_numpy(build())
        assert type(twin) is getattr(torch_models, name)
        assert type(twin).__name__ == name


@pytest.mark.parametrize("name", ["Linear", "Conv2d", "Embedding", "LayerNorm", "LSTM", "GRU", "RNN",
                                  "MultiheadAttention", "TransformerBlock", "GPT", "AttentionTagger",
                                  "RecurrentLM", "WindowMLP", "BigramNet", "Sequential", "Dropout", "GELU",
                                  "RMSNorm", "SiLU", "SwiGLU", "GroupedQueryAttention", "DecoderBlock", "Llama"])
def test_every_layer_and_model_is_saveable(name):
    import nncourse.models  # noqa: F401  the models register themselves when imported
    from nncourse.numpy_nn import registry

    assert registry.saveable_class(name) is not None


def test_a_model_round_trips_through_io_and_both_converters(tmp_path):
    from nncourse import io
    from nncourse.models import RecurrentLM
    from nncourse.numpy_nn import from_torch
    from nncourse.torch_nn import from_numpy

    model = RecurrentLM("lstm", 4, 8, num_layers=2, seed=0, dtype=np.float64)
    loaded = io.load_numpy_model(io.save_numpy_model(model, tmp_path / "lm"))
    back = from_torch(from_numpy(loaded))
    tokens = np.array([[0, 3, 5, 1]])
    np.testing.assert_array_equal(back(tokens), model(tokens))


# The architecture JSON exactly as the release before the registry wrote it (format version 1).
OLD_GPT = ('{"format": "nncourse.numpy_model", "model": {"context_length": 4, "d_model": 8, "dropout": 0.1, '
           '"dtype": "float64", "n_heads": 2, "n_layers": 1, "type": "GPT", "vocab_size": 7}, "training": true, '
           '"version": 1}')
OLD_SEQUENTIAL = (
    '{"format": "nncourse.numpy_model", "model": {"layers": [{"bias": true, "dtype": "float32", "in_channels": 1, '
    '"kernel_size": [3, 3], "out_channels": 2, "padding": [1, 1], "stride": [1, 1], "type": "Conv2d"}, '
    '{"type": "ReLU"}, {"kernel_size": [2, 2], "padding": [0, 0], "stride": [2, 2], "type": "MaxPool2d"}, '
    '{"end_dim": -1, "start_dim": 1, "type": "Flatten"}, {"p": 0.1, "type": "Dropout"}, {"bias": true, '
    '"dtype": "float32", "in_features": 8, "out_features": 3, "type": "Linear"}, {"negative_slope": 0.2, '
    '"type": "LeakyReLU"}, {"dim": -1, "type": "Softmax"}, {"type": "Step"}, {"type": "Sigmoid"}, '
    '{"type": "Tanh"}, {"type": "Identity"}], "type": "Sequential"}, "training": true, "version": 1}')


def _old_file(path, text, model):
    np.savez(path, architecture=np.array(text), **model.state_dict())
    return path


def test_files_of_format_version_1_still_load_and_are_written_the_same(tmp_path):
    from nncourse import io
    from nncourse import numpy_nn as nn
    from nncourse.models import GPT

    gpt = GPT(7, 4, 8, 2, 1, dropout=0.1, seed=0, dtype=np.float64)
    seq = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1, seed=0), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                        nn.Dropout(0.1), nn.Linear(8, 3, seed=1), nn.LeakyReLU(0.2), nn.Softmax(dim=-1), nn.Step(),
                        nn.Sigmoid(), nn.Tanh(), nn.Identity())
    x = np.random.default_rng(0).normal(size=(2, 1, 4, 4)).astype(np.float32)
    for model, text, example in ((gpt, OLD_GPT, np.array([[1, 2, 3]])), (seq, OLD_SEQUENTIAL, x)):
        loaded = io.load_numpy_model(_old_file(tmp_path / f"{type(model).__name__}.npz", text, model))
        assert type(loaded) is type(model)
        loaded.eval()
        model.eval()
        np.testing.assert_array_equal(loaded(example), model(example))
        model.train()
        written = io.save_numpy_model(model, tmp_path / f"new_{type(model).__name__}")
        assert json.loads(str(np.load(written)["architecture"])) == json.loads(text)
