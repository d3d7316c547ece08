"""The exercise checks (nncourse.checks): the framework, and the checks of chapters 1-3.

For every check: the solution from the solution notebook passes (the functions are taken from the
notebook itself by running its code cells), the untouched stub is reported as "not implemented
yet", and plausible wrong answers fail with the hint meant for them.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest

from nncourse.checks import Tester, check, ch01, ch02, ch03, fmt
from nncourse.checks import framework
from check_helpers import assert_hint, run, stub

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------------------------------
# The reference solutions: the solution notebooks' own code
# --------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def solution(name: str) -> dict:
    """Run the code cells of solutions/NAME.ipynb (except the check cells); return the namespace."""
    import nbformat

    nb = nbformat.read(str(ROOT / "solutions" / f"{name}.ipynb"), as_version=4)
    namespace: dict = {"__name__": f"solution_{name}"}
    with contextlib.redirect_stdout(io.StringIO()):
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            lines = [line for line in cell.source.splitlines() if line.strip()]
            if lines and all(line.startswith("check.") for line in lines):
                continue
            exec(compile(cell.source, f"<solutions/{name}.ipynb cell {index}>", "exec"), namespace)
    return namespace


def ref(chapter: str, name: str):
    return solution({"ch01": "01_perceptron", "ch02": "02_forward_pass", "ch03": "03_loss_functions"}[chapter])[name]




# --------------------------------------------------------------------------------------------------
# The framework
# --------------------------------------------------------------------------------------------------


@check("demo_square")
def _demo_square(t: Tester, square) -> None:
    t.callable(square, "square")
    x = np.array([1.0, -2.0, 3.0])
    t.close(t.call(square, x), x**2, "square([1, -2, 3])", mistakes=[(2 * x, "that is 2x, not x squared.")])
    t.close(t.call(square, np.array([0.5])), [0.25], "square([0.5])")


def test_passing_check_prints_one_line_and_is_truthy(capsys):
    result = _demo_square(lambda x: x * x)
    assert result and result.passed and result.status == "passed"
    assert result.tests == 2
    assert capsys.readouterr().out == "✓ demo_square: passed (2 tests)\n"
    assert repr(result) == "CheckResult(name='demo_square', status='passed', tests=2)"


def test_result_hides_itself_in_notebooks_because_it_already_printed():
    result = _demo_square(lambda x: x * x, quiet=True)
    assert result._ipython_display_() is None  # IPython then shows no Out[...] for it


def test_plausible_mistake_gives_its_hint(capsys):
    result = _demo_square(lambda x: 2 * x)
    assert not result and result.status == "failed"
    out = capsys.readouterr().out.splitlines()
    assert out == ["✗ demo_square: square([1, -2, 3]) should be [1, 4, 9], yours returns [2, -4, 6]",
                   "  Hint: that is 2x, not x squared."]


def test_stub_is_not_implemented_yet(capsys):
    result = _demo_square(stub)
    assert result.status == "not implemented" and not result
    assert capsys.readouterr().out == "… demo_square: not implemented yet\n"


def test_placeholder_value_is_not_implemented_yet():
    for placeholder in (..., None):
        result = run(_demo_square, placeholder)
        assert result.status == "not implemented"
        assert result.message.startswith("not implemented yet")


def test_stub_in_a_helper_is_named():
    def helper(x):
        raise NotImplementedError

    def square(x):
        return helper(x)

    result = run(_demo_square, square)
    assert result.status == "not implemented"
    assert "it calls helper, which is not implemented yet" in result.message


def test_learner_exception_is_reported_with_its_line_not_a_traceback(capsys):
    # Compile the learner's code under the kind of file name ipykernel gives a notebook cell.
    namespace: dict = {}
    import linecache

    source = "def square(x):\n    y = x * x\n    return y / 0 if isinstance(y, int) else undefined_name\n"
    filename = "/tmp/ipykernel_4242/1234567.py"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)  # as IPython does
    exec(compile(source, filename, "exec"), namespace)
    result = _demo_square(namespace["square"])
    out = capsys.readouterr().out
    assert result.status == "error" and not result
    assert out.startswith("✗ demo_square: your function raised NameError: name 'undefined_name' is not defined "
                          '(line 3 of the cell starting "def square(x):": return y / 0')
    assert result.cell_source == source and result.cell_label == 'the cell starting "def square(x):"'
    assert "Traceback" not in out and len(out.splitlines()) == 1


def test_learner_exception_in_a_file_names_the_file():
    def square(x):
        return x / 0 if False else {}["missing"]

    result = run(_demo_square, square)
    assert result.status == "error"
    assert "your function raised KeyError: 'missing'" in result.message
    assert "of test_checks.py" in result.message


def test_not_a_function():
    result = run(_demo_square, 4.0)
    assert_hint(result, "expected a function for square, got float 4.0", "without calling it")


def test_check_called_the_wrong_way():
    result = run(_demo_square, lambda x: x, "extra argument")
    assert_hint(result, "called the wrong way", "demo_square(square)")


def test_wrong_return_type_and_shape_are_explained():
    assert_hint(run(_demo_square, lambda x: None), "returned None", "return statement")
    assert_hint(run(_demo_square, lambda x: "text"), "expected a NumPy array")
    assert_hint(run(_demo_square, lambda x: np.outer(x, x)), "should have shape (3,), yours has shape (3, 3)")
    assert_hint(run(_demo_square, lambda x: (x * x, x)), "returned a tuple of 2 values")


def test_weakness_of_a_check_is_reported_not_raised(capsys):
    @check("demo_broken")
    def broken(t: Tester, value) -> None:
        raise RuntimeError("a bug in the checker")

    result = broken(1)
    out = capsys.readouterr().out
    assert "could not check your answer (RuntimeError: a bug in the checker)" in out
    assert "Traceback" not in out and not result


def test_torch_tensors_are_accepted():
    torch = pytest.importorskip("torch")
    assert run(_demo_square, lambda x: torch.as_tensor(x) ** 2)


def test_numpy_warnings_are_silenced(recwarn):
    @check("demo_overflow")
    def overflow(t: Tester, fn) -> None:
        t.close(t.call(fn, np.array([1000.0])), [np.inf], "exp(1000)")

    assert run(overflow, np.exp)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_results_are_recorded_for_the_command_line(tmp_path, monkeypatch):
    record = tmp_path / "record.jsonl"
    monkeypatch.setenv(framework.RECORD_ENV, str(record))
    run(_demo_square, lambda x: x * x)
    run(_demo_square, stub)
    entries = [json.loads(line) for line in record.read_text(encoding="utf-8").splitlines()]
    assert [e["status"] for e in entries] == ["passed", "not implemented"]
    assert entries[0]["module"] == __name__ and entries[0]["name"] == "demo_square"
    assert entries[0]["lines"] == ["✓ demo_square: passed (2 tests)"]


def test_registry_lists_the_chapter_checks():
    checks = framework.registry()
    assert set(checks["nncourse.checks.ch01"]) == set(ch01.__all__)
    assert set(checks["nncourse.checks.ch02"]) == set(ch02.__all__)
    assert set(checks["nncourse.checks.ch03"]) == set(ch03.__all__)


def test_fmt_is_short_and_deterministic():
    assert fmt(np.array([0.5, 1.0, -0.0, np.nan, np.inf])) == "[0.5, 1, 0, nan, inf]"
    assert fmt(np.array([[1.0, 2.0], [3.0, 4.0]])) == "[[1, 2], [3, 4]]"
    assert fmt(np.arange(20.0)) == "an array of shape (20,): [0, 1, 2, ..., 17, 18, 19]"
    assert fmt(np.array([True, False])) == "[1, 0]"
    assert fmt(0.25) == "0.25" and fmt(7850) == "7850" and fmt(2.0) == "2.0" and fmt(...) == "..."
    assert fmt(1 / 3) == "0.3333"


def test_chapter_modules_load_lazily():
    import nncourse.checks as checks

    assert checks.ch02 is ch02
    with pytest.raises(AttributeError, match="no checks for chapter 99"):
        checks.ch99


# --------------------------------------------------------------------------------------------------
# Every check accepts the notebook's solution and reports the untouched stub
# --------------------------------------------------------------------------------------------------

FUNCTION_CHECKS = [
    (ch01, "step"), (ch01, "perceptron_update"), (ch01, "train_perceptron"), (ch01, "is_separable"),
    (ch02, "dense_forward"), (ch02, "sigmoid"), (ch02, "sigmoid_derivative"), (ch02, "relu"),
    (ch02, "softmax"), (ch02, "mlp_forward"),
    (ch03, "mse"), (ch03, "binary_cross_entropy"), (ch03, "cross_entropy"), (ch03, "cross_entropy_grad"),
]


def _chapter(module) -> str:
    return module.__name__.rsplit(".", 1)[1]


@pytest.mark.parametrize("module,name", FUNCTION_CHECKS, ids=lambda v: getattr(v, "__name__", v))
def test_function_check_accepts_the_solution(module, name):
    result = run(getattr(module, name), ref(_chapter(module), name))
    assert result, str(result)
    assert result.tests >= 2


@pytest.mark.parametrize("module,name", FUNCTION_CHECKS, ids=lambda v: getattr(v, "__name__", v))
def test_function_check_reports_the_stub(module, name, capsys):
    result = getattr(module, name)(stub)
    assert result.status == "not implemented"
    assert capsys.readouterr().out == f"… {name}: not implemented yet\n"


VALUE_CHECKS = [
    (ch01.trained_gates, ("ch01", ["w_and", "b_and", "w_or", "b_or"])),
    (ch01.n_separable, ("ch01", ["n_separable"])),
    (ch02.parameter_counts, ("ch02", ["n_single", "n_deep"])),
    (ch02.torch_models, ("ch02", ["single", "deep"])),
    (ch03.fixed_model, ("ch03", ["build_model"])),
]


@pytest.mark.parametrize("check_fn,names", VALUE_CHECKS, ids=lambda v: getattr(v, "__name__", "args"))
def test_value_check_accepts_the_solution_and_reports_placeholders(check_fn, names):
    chapter, variables = names
    assert run(check_fn, *[ref(chapter, v) for v in variables])
    placeholder = run(check_fn, *[... for _ in variables])
    assert placeholder.status == "not implemented"
    assert placeholder.message == f"not implemented yet ({variables[0]} is still ...)" or \
        placeholder.message == "not implemented yet"


def test_fixed_model_stub_is_not_implemented():
    assert run(ch03.fixed_model, stub).status == "not implemented"


def test_a_stub_further_down_is_named():
    # train_perceptron written, but perceptron_update still the stub it calls
    namespace = dict(solution("01_perceptron"))
    namespace["perceptron_update"] = stub
    train = type(ref("ch01", "train_perceptron"))(ref("ch01", "train_perceptron").__code__, namespace)
    result = run(ch01.train_perceptron, train)
    assert result.status == "not implemented"
    assert "it calls stub" in result.message


# --------------------------------------------------------------------------------------------------
# Chapter 1: plausible wrong answers
# --------------------------------------------------------------------------------------------------


def _step_if(z):
    if z >= 0:
        return 1.0
    return 0.0


def _step_in_place(z):
    z[z >= 0] = 1.0
    z[z < 0] = 0.0
    return z


STEP_MISTAKES = [
    (lambda z: np.where(z > 0, 1.0, 0.0), "use z >= 0, not z > 0"),
    (np.sign, "not -1, 0, +1 (that is np.sign)"),
    (lambda z: z >= 0, "astype(float)"),
    (_step_if, "an `if` on an array is ambiguous"),
    (_step_in_place, "_step_in_place changed its input z in place"),
]


@pytest.mark.parametrize("wrong,hint", STEP_MISTAKES)
def test_step_mistakes(wrong, hint):
    assert_hint(run(ch01.step, wrong), hint)


def _predict(w, x, b, strict=True):
    z = w @ x + b
    return float(z >= 0) if strict else float(z > 0)


UPDATE_MISTAKES = [
    (lambda w, b, x, y, lr=1.0: (w - lr * (y - _predict(w, x, b)) * x, b - lr * (y - _predict(w, x, b))),
     "wrong sign"),
    (lambda w, b, x, y, lr=1.0: (w + (y - _predict(w, x, b)) * x, b + (y - _predict(w, x, b))),
     "you forgot the learning rate"),
    (lambda w, b, x, y, lr=1.0: (w + lr * (y - _predict(w, x, b)) * x, b), "the bias learns too"),
    (lambda w, b, x, y, lr=1.0: (w + lr * (y - _predict(w, x, b)) * x, b + (y - _predict(w, x, b))),
     "the bias update needs the learning rate too"),
    (lambda w, b, x, y, lr=1.0: (w + lr * (y - _predict(w, x, b, strict=False)) * x,
                                 b + lr * (y - _predict(w, x, b, strict=False))), "use z >= 0"),
    (lambda w, b, x, y, lr=1.0: (w + lr * y * x, b + lr * y), "multiply by the error y − ŷ, not by y"),
    (lambda w, b, x, y, lr=1.0: w + lr * (y - _predict(w, x, b)) * x, "should return two values"),
]


@pytest.mark.parametrize("wrong,hint", UPDATE_MISTAKES)
def test_perceptron_update_mistakes(wrong, hint):
    assert_hint(run(ch01.perceptron_update, wrong), hint)


def _update(w, b, x, y, lr=1.0):
    error = y - _predict(w, x, b)
    return w + lr * error * x, b + lr * error


def _train_one_epoch(X, y, lr=1.0, epochs=10):
    w, b = np.zeros(X.shape[1]), 0.0
    for x_i, y_i in zip(X, y):
        w, b = _update(w, b, x_i, y_i, lr)
    return w, b


def _train_discarding_updates(X, y, lr=1.0, epochs=10):
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(epochs):
        for x_i, y_i in zip(X, y):
            _update(w, b, x_i, y_i, lr)  # the new weights are thrown away
    return w, b


def _train_without_lr(X, y, lr=1.0, epochs=10):
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(epochs):
        for x_i, y_i in zip(X, y):
            w, b = _update(w, b, x_i, y_i)
    return w, b


def _train_two_inputs_only(X, y, lr=1.0, epochs=10):
    w, b = np.zeros(2), 0.0
    for _ in range(epochs):
        for x_i, y_i in zip(X, y):
            w, b = _update(w, b, x_i, y_i, lr)
    return w, b


def _train_ignoring_epochs(X, y, lr=1.0, epochs=10):
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(10):
        for x_i, y_i in zip(X, y):
            w, b = _update(w, b, x_i, y_i, lr)
    return w, b


TRAIN_MISTAKES = [
    (_train_one_epoch, "one pass over the data is not enough"),
    (_train_discarding_updates, "the weights never change"),
    (_train_without_lr, "pass the learning rate on"),
    (_train_two_inputs_only, "np.zeros(X.shape[1])"),
    (_train_ignoring_epochs, "at most `epochs` epochs"),
]


@pytest.mark.parametrize("wrong,hint", TRAIN_MISTAKES)
def test_train_perceptron_mistakes(wrong, hint):
    assert_hint(run(ch01.train_perceptron, wrong), hint)


def test_trained_gates_mistakes():
    w_and, b_and, w_or, b_or = (ref("ch01", n) for n in ("w_and", "b_and", "w_or", "b_or"))
    assert_hint(run(ch01.trained_gates, w_or, b_or, w_and, b_and), "did you swap y_and and y_or")
    assert_hint(run(ch01.trained_gates, np.zeros(2), 0.0, w_or, b_or), "untrained zero weights")
    assert_hint(run(ch01.trained_gates, np.zeros(3), 0.0, w_or, b_or), "should have shape (2,)")


def _separable_any(X, y, weights=(-1.0, 0.0, 1.0), biases=(-1.5, -0.5, 0.5, 1.5)):
    import itertools

    for w in itertools.product(weights, repeat=X.shape[1]):
        for b in biases:
            if np.any(np.where(X @ np.array(w) + b >= 0, 1.0, 0.0) == y):
                return True
    return False


def _separable_two_inputs(X, y, weights=(-1.0, 0.0, 1.0), biases=(-1.5, -0.5, 0.5, 1.5)):
    for w1 in weights:
        for w2 in weights:
            for b in biases:
                if np.all(np.where(X @ np.array([w1, w2]) + b >= 0, 1.0, 0.0) == y):
                    return True
    return False


def _separable_returns_weights(X, y, weights=(-1.0, 0.0, 1.0), biases=(-1.5, -0.5, 0.5, 1.5)):
    return np.array([1.0, 1.0])


SEPARABLE_MISTAKES = [
    (_separable_any, "gets every row right"),
    (_separable_two_inputs, "itertools.product(weights, repeat=X.shape[1])"),
    (_separable_returns_weights, "should return True or False"),
    (lambda X, y, weights=(), biases=(): False, "return True as soon as"),
]


@pytest.mark.parametrize("wrong,hint", SEPARABLE_MISTAKES)
def test_is_separable_mistakes(wrong, hint):
    assert_hint(run(ch01.is_separable, wrong), hint)


@pytest.mark.parametrize("wrong,hint", [(16, "XOR and XNOR cannot be separated"), (2, "NOT separable"),
                                        (4, "all 16 truth tables"), (13, "loop over all 16 label vectors")])
def test_n_separable_mistakes(wrong, hint):
    assert_hint(run(ch01.n_separable, wrong), hint)


def test_n_separable_accepts_numpy_integers_and_whole_floats():
    assert run(ch01.n_separable, np.int64(14)) and run(ch01.n_separable, 14.0)


# --------------------------------------------------------------------------------------------------
# Chapter 2: plausible wrong answers
# --------------------------------------------------------------------------------------------------


def _dense_in_place(x, W, b):
    x @= np.eye(x.shape[1])  # harmless values, but it writes into x
    out = x @ W.T
    out += b
    return out


DENSE_MISTAKES = [
    (lambda x, W, b: x @ W.T, "you forgot the bias"),
    (lambda x, W, b: x @ W + b, "multiply by its transpose, x @ W.T + b"),
    (lambda x, W, b: W @ x.T + b[:, None], "your output is (out, batch), transposed"),
    (lambda x, W, b: x @ W.T - b, "add the bias, don't subtract it"),
    (lambda x, W, b: x @ W.T + b[:, None] if x.shape[0] == W.shape[0] else x @ W.T + b.sum(),
     "should be"),
]


@pytest.mark.parametrize("wrong,hint", DENSE_MISTAKES)
def test_dense_forward_mistakes(wrong, hint):
    assert_hint(run(ch02.dense_forward, wrong), hint)


def test_dense_forward_square_case_catches_the_missing_transpose():
    # x @ W runs when in == out; the square case recognises it as off by a transpose.
    def sometimes_transposed(x, W, b):
        return x @ W + b if W.shape[0] == W.shape[1] else x @ W.T + b

    assert_hint(run(ch02.dense_forward, sometimes_transposed), "off by a transpose")


SIGMOID_MISTAKES = [
    (lambda z: 1 / (1 + np.exp(z)), "wrong sign in the exponent"),
    (lambda z: 1 / 1 + np.exp(-z), "mind the brackets"),
    (np.tanh, "that is tanh"),
    (lambda z: np.exp(z) / (1 + np.exp(z)), "exp(z) overflows for large z"),
]


@pytest.mark.parametrize("wrong,hint", SIGMOID_MISTAKES)
def test_sigmoid_mistakes(wrong, hint):
    assert_hint(run(ch02.sigmoid, wrong), hint)


def _sig(z):
    return 1 / (1 + np.exp(-z))


SIGMOID_DERIVATIVE_MISTAKES = [
    (_sig, "that is σ(z) itself"),
    (lambda z: z * (1 - z), "apply the formula to σ(z), not to z"),
    (lambda z: 1 - _sig(z), "that is 1 − σ(z)"),
    (lambda z: _sig(z) * (1 + _sig(z)), "a minus, not a plus"),
]


@pytest.mark.parametrize("wrong,hint", SIGMOID_DERIVATIVE_MISTAKES)
def test_sigmoid_derivative_mistakes(wrong, hint):
    assert_hint(run(ch02.sigmoid_derivative, wrong), hint)


def test_sigmoid_derivative_message_names_the_value_at_zero():
    result = run(ch02.sigmoid_derivative, _sig)
    assert "should be [0.04518, 0.1966, 0.25, 0.235, 0.105, 0], yours returns [0.04743, 0.2689, 0.5," in result.message


def _relu_in_place(z):
    z[z < 0] = 0
    return z


RELU_MISTAKES = [
    (lambda z: (z > 0).astype(float), "that is the mask"),
    (lambda z: z > 0, "returns booleans (a mask)"),
    (np.abs, "not their absolute value"),
    (lambda z: np.minimum(z, 0), "that keeps the negative part"),
    (lambda z: max(z, 0), "use np.maximum(z, 0)"),
    (_relu_in_place, "changed its input z in place"),
]


@pytest.mark.parametrize("wrong,hint", RELU_MISTAKES)
def test_relu_mistakes(wrong, hint):
    assert_hint(run(ch02.relu, wrong), hint)


def _softmax_naive(z):
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _softmax_global_max(z):
    e = np.exp(z - z.max())
    return e / e.sum(axis=1, keepdims=True)


def _softmax_axis0(z):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def _softmax_whole_batch(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def _softmax_no_keepdims(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1)


SOFTMAX_MISTAKES = [
    (_softmax_naive, "Subtract each row's maximum first"),
    (_softmax_global_max, "not the maximum of the whole batch"),
    (_softmax_axis0, "normalise over axis=1, the classes, not axis=0"),
    (_softmax_whole_batch, "you divided by the sum over the whole batch"),
    (_softmax_no_keepdims, "keepdims=True"),
    (lambda z: np.exp(z - z.max(axis=1, keepdims=True)), "normalise: divide by the row sums"),
]


@pytest.mark.parametrize("wrong,hint", SOFTMAX_MISTAKES)
def test_softmax_mistakes(wrong, hint):
    assert_hint(run(ch02.softmax, wrong), hint)


def test_softmax_square_case_catches_missing_keepdims_when_it_broadcasts():
    def no_keepdims_on_square(z):
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1) if z.shape[0] == z.shape[1] else e / e.sum(axis=1, keepdims=True)

    assert_hint(run(ch02.softmax, no_keepdims_on_square), "without keepdims=True the (3,) row sums")


PARAMETER_COUNT_MISTAKES = [
    ((7840, 235146), "you forgot the biases"),
    ((7850, 234752), "you forgot the biases"),
    ((794, 235146), "that counts neurons"),
    ((7850, 784 * 256 * 128 * 10), "don't multiply them"),
    ((784 * 11, 235146), "one bias per output neuron, not per input"),
    ((7850, 1), "count in·out weights plus out biases"),
    ((7850.0, "235146"), "should be a whole number"),
]


@pytest.mark.parametrize("answers,hint", PARAMETER_COUNT_MISTAKES)
def test_parameter_count_mistakes(answers, hint):
    assert_hint(run(ch02.parameter_counts, *answers), hint)


def _torch_mistakes():
    from torch import nn

    class NoReLU(nn.Module):  # a module of one's own: judged by its behaviour
        def __init__(self):
            super().__init__()
            self.a, self.b, self.c = nn.Linear(784, 256), nn.Linear(256, 128), nn.Linear(128, 10)

        def forward(self, x):
            return self.c(self.b(self.a(x)))

    good_single = nn.Sequential(nn.Linear(784, 10))
    good_deep = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    return [
        ((nn.Sequential(nn.Linear(10, 784)), good_deep), "your layers are reversed"),
        ((good_single, nn.Sequential(nn.Linear(784, 256), nn.Linear(256, 128), nn.Linear(128, 10))),
         "collapse into one linear map"),
        ((good_single, nn.Sequential(*good_deep, nn.Softmax(dim=1))), "no activation after the last layer"),
        ((nn.Sequential(nn.Linear(784, 10, bias=False)), good_deep), "without a bias"),
        ((good_single, nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))),
         "expected the Linear layers Linear(784, 256), Linear(256, 128), Linear(128, 10)"),
        ((good_single, "deep"), "should be a torch.nn.Module"),
        ((good_single, NoReLU()), "computes an affine function"),
    ]


def test_torch_models_mistakes():
    pytest.importorskip("torch")
    for answers, hint in _torch_mistakes():
        assert_hint(run(ch02.torch_models, *answers), hint)


def _mlp(x, weights, biases, relu_last=False, relu_hidden=True, softmax=False):
    h = x
    for i, (W, b) in enumerate(zip(weights, biases)):
        h = h @ W.T + b
        last = i == len(weights) - 1
        if (relu_hidden and not last) or (relu_last and last):
            h = np.maximum(h, 0)
    if softmax:
        e = np.exp(h - h.max(axis=1, keepdims=True))
        h = e / e.sum(axis=1, keepdims=True)
    return h


MLP_MISTAKES = [
    (lambda x, W, b: _mlp(x, W, b, relu_last=True), "no ReLU after the last layer"),
    (lambda x, W, b: _mlp(x, W, b, relu_hidden=False), "apply relu after every hidden layer"),
    (lambda x, W, b: _mlp(x, W, b, softmax=True), "return the logits"),
    (lambda x, W, b: _mlp(x, W[:1], b[:1]), "use every layer"),
    (lambda x, W, b: _mlp(x, [w.T for w in W], b), "h = h @ W.T + b, layer after layer"),
]


@pytest.mark.parametrize("wrong,hint", MLP_MISTAKES)
def test_mlp_forward_mistakes(wrong, hint):
    assert_hint(run(ch02.mlp_forward, wrong), hint)


# --------------------------------------------------------------------------------------------------
# Chapter 3: plausible wrong answers
# --------------------------------------------------------------------------------------------------

MSE_MISTAKES = [
    (lambda p, t: np.sum((p - t) ** 2), "that is the sum of squared errors"),
    (lambda p, t: np.mean(np.abs(p - t)), "that is the mean absolute error"),
    (lambda p, t: 0.5 * np.mean((p - t) ** 2), "that is half the MSE"),
    (lambda p, t: np.sqrt(np.mean((p - t) ** 2)), "leave out the square root"),
    (lambda p, t: np.mean(p - t), "square the differences before averaging"),
    (lambda p, t: np.sum((p - t) ** 2) / len(p) if p.ndim > 1 and p.shape[1] > 1 else np.mean((p - t) ** 2),
     "not the number of rows"),
    (lambda p, t: (p - t) ** 2, "should be a single number"),
]


@pytest.mark.parametrize("wrong,hint", MSE_MISTAKES)
def test_mse_mistakes(wrong, hint):
    assert_hint(run(ch03.mse, wrong), hint)


def _bce_terms(p, y):
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return y * np.log(p) + (1 - y) * np.log(1 - p)


BCE_MISTAKES = [
    (lambda p, y: np.mean(_bce_terms(p, y)), "the loss should be positive"),
    (lambda p, y: -np.mean(y * np.log(np.clip(p, 1e-7, 1))), "you kept only the y·log p term"),
    (lambda p, y: -np.sum(_bce_terms(p, y)), "take the mean"),
    (lambda p, y: -np.mean(y * np.log(1 - p) + (1 - y) * np.log(p)), "p and 1 − p are swapped"),
    (lambda p, y: -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)), "clip first"),
    (lambda p, y: -np.mean(y * np.log10(np.clip(p, 1e-7, 1 - 1e-7)) + (1 - y) * np.log10(np.clip(1 - p, 1e-7, 1))),
     "use the natural logarithm"),
    (lambda p, y: -np.mean(_bce_terms(np.clip(p, 0.01, 0.99), y)), "not more"),
]


@pytest.mark.parametrize("wrong,hint", BCE_MISTAKES)
def test_binary_cross_entropy_mistakes(wrong, hint):
    assert_hint(run(ch03.binary_cross_entropy, wrong), hint)


def _log_softmax(z):
    s = z - z.max(axis=1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=1, keepdims=True))


def _ce_naive(z, t):
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    return -np.mean(np.log(p[np.arange(len(t)), t]))


CE_MISTAKES = [
    (_ce_naive, "Compute the log-softmax directly"),
    (lambda z, t: -np.sum(_log_softmax(z)[np.arange(len(t)), t]), "that is the sum over the batch"),
    (lambda z, t: np.mean(_log_softmax(z)[np.arange(len(t)), t]), "wrong sign"),
    (lambda z, t: -np.mean(_log_softmax(z)[:, t]), "pick one entry per row"),
    (lambda z, t: -np.mean(z[np.arange(len(t)), t]), "the inputs are logits, not log-probabilities"),
    (lambda z, t: -np.mean(np.log(z[np.arange(len(t)), t])), "the inputs are logits, not probabilities"),
    (lambda z, t: -np.mean(_log_softmax(z.T).T[np.arange(len(t)), t]), "not axis=0"),
    (lambda z, t: -np.mean(_log_softmax(z)[t]), "pick one entry per row"),
]


@pytest.mark.parametrize("wrong,hint", CE_MISTAKES)
def test_cross_entropy_mistakes(wrong, hint):
    assert_hint(run(ch03.cross_entropy, wrong), hint)


def _softmax_rows(z):
    return np.exp(_log_softmax(z))


GRAD_MISTAKES = [
    (lambda z, t: _softmax_rows(z) - np.eye(z.shape[1])[t], "carries a factor 1/N"),
    (lambda z, t: (np.eye(z.shape[1])[t] - _softmax_rows(z)) / len(t), "wrong sign"),
    (lambda z, t: _softmax_rows(z) / len(t), "subtract the one-hot targets"),
    (lambda z, t: (_softmax_rows(z) - np.eye(z.shape[1])[t]) / z.shape[1], "not by the number of classes"),
    (lambda z, t: (_softmax_naive(z) - np.eye(z.shape[1])[t]) / len(t), "compute softmax stably"),
    (lambda z, t: (_softmax_rows(z) - np.eye(z.shape[1])[t]).T / len(t), "same shape as the logits"),
]


@pytest.mark.parametrize("wrong,hint", GRAD_MISTAKES)
def test_cross_entropy_grad_mistakes(wrong, hint):
    assert_hint(run(ch03.cross_entropy_grad, wrong), hint)


def _model_builders():
    import torch
    from torch import nn

    def with_softmax(seed=0):
        torch.manual_seed(seed)
        return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3), nn.Softmax(dim=1))

    def with_log_softmax(seed=0):
        torch.manual_seed(seed)
        return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3), nn.LogSoftmax(dim=1))

    class SoftmaxInForward(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden, self.out = nn.Linear(4, 16), nn.Linear(16, 3)

        def forward(self, x):
            return torch.softmax(self.out(torch.relu(self.hidden(x))), dim=1)

    def custom_softmax(seed=0):
        torch.manual_seed(seed)
        model = SoftmaxInForward()
        return model

    def softmax_then_relu(seed=0):  # squashed output that does not end with Softmax
        torch.manual_seed(seed)
        return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3), nn.Sigmoid())

    def dropped_hidden_layer(seed=0):
        torch.manual_seed(seed)
        return nn.Sequential(nn.Linear(4, 3))

    def returns_loss_and_model(seed=0):
        return nn.CrossEntropyLoss()

    return [
        (with_softmax, "remove the Softmax layer"),
        (with_log_softmax, "LogSoftmax belongs with nn.NLLLoss"),
        (custom_softmax, "it still returns probabilities"),
        (softmax_then_relu, "applies Sigmoid after its last Linear layer"),
        (dropped_hidden_layer, "keep Linear(4, 16), ReLU, Linear(16, 3)"),
    ]


def test_fixed_model_mistakes():
    pytest.importorskip("torch")
    for builder, hint in _model_builders():
        assert_hint(run(ch03.fixed_model, builder), hint)


def test_fixed_model_squashed_output_is_caught_by_training():
    torch = pytest.importorskip("torch")
    from torch import nn

    class Squashed(nn.Module):  # logits squeezed into (0, 1) by a sigmoid inside forward
        def __init__(self):
            super().__init__()
            self.layers = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))

        def forward(self, x):
            return torch.sigmoid(self.layers(x))

    def build(seed=0):
        torch.manual_seed(seed)
        return Squashed()

    assert_hint(run(ch03.fixed_model, build), "training loss is still", "squashes the output")


def test_models_of_ones_own_are_judged_by_behaviour():
    torch = pytest.importorskip("torch")
    from torch import nn

    class Deep(nn.Module):  # functional ReLUs, layers registered last-first: still right
        def __init__(self):
            super().__init__()
            self.out = nn.Linear(128, 10)
            self.hidden2 = nn.Linear(256, 128)
            self.hidden1 = nn.Linear(784, 256)

        def forward(self, x):
            return self.out(torch.relu(self.hidden2(torch.relu(self.hidden1(x)))))

    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.act = nn.Identity()
            self.first, self.second = nn.Linear(4, 16), nn.Linear(16, 3)

        def forward(self, x):
            return self.second(torch.relu(self.first(x)))

    def build(seed=0):
        torch.manual_seed(seed)
        return Classifier()

    single = nn.Sequential(nn.Linear(784, 10))
    assert run(ch02.torch_models, single, Deep())  # registration order is not the running order
    assert run(ch03.fixed_model, build)


def test_fixed_model_not_a_module():
    assert_hint(run(ch03.fixed_model, lambda seed=0: "model"), "should return a torch.nn.Module")


# --------------------------------------------------------------------------------------------------
# Every check has at least two plausible wrong answers in this file
# --------------------------------------------------------------------------------------------------


def test_every_check_has_at_least_two_wrong_answers():
    counts = {
        "step": len(STEP_MISTAKES), "perceptron_update": len(UPDATE_MISTAKES), "train_perceptron": len(TRAIN_MISTAKES),
        "trained_gates": 3, "is_separable": len(SEPARABLE_MISTAKES), "n_separable": 4,
        "dense_forward": len(DENSE_MISTAKES) + 1, "sigmoid": len(SIGMOID_MISTAKES),
        "sigmoid_derivative": len(SIGMOID_DERIVATIVE_MISTAKES), "relu": len(RELU_MISTAKES),
        "softmax": len(SOFTMAX_MISTAKES) + 1, "parameter_counts": len(PARAMETER_COUNT_MISTAKES),
        "torch_models": 7, "mlp_forward": len(MLP_MISTAKES), "mse": len(MSE_MISTAKES),
        "binary_cross_entropy": len(BCE_MISTAKES), "cross_entropy": len(CE_MISTAKES),
        "cross_entropy_grad": len(GRAD_MISTAKES), "fixed_model": 7,
    }
    every = {name for module in (ch01, ch02, ch03) for name in module.__all__}
    assert set(counts) == every
    assert min(counts.values()) >= 2


def test_messages_have_no_multiline_arrays():
    result = run(ch02.dense_forward, lambda x, W, b: W @ x.T + b[:, None])
    assert "\n" not in result.message and re.search(r"\[\[.*\], \[.*\]\]", result.message)
