"""The exercise checks of chapters 4-6 (backpropagation, optimizers, MNIST).

For every check: the solution from the solution notebook passes (the functions are taken from the
notebook itself), the untouched stub (or the placeholder ``...``) is reported as "not implemented
yet", and at least two plausible wrong answers fail with the hint meant for them. No test loads MNIST:
from solutions/06_mnist.ipynb only the function definitions and constant answers are taken.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import functools
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch
from torch import nn

from nncourse.checks import ch04, ch05, ch06
from check_helpers import assert_hint, run, stub

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = {"ch04": "04_backpropagation", "ch05": "05_optimizers", "ch06": "06_mnist"}


# --------------------------------------------------------------------------------------------------
# The reference solutions: the solution notebooks' own code
# --------------------------------------------------------------------------------------------------


def _is_check_cell(source: str) -> bool:
    lines = [line for line in source.splitlines() if line.strip()]
    return bool(lines) and all(line.startswith("check.") for line in lines)


def _definitions_only(tree: ast.Module) -> ast.Module:
    """Imports, function definitions and assignments of plain arithmetic (no data, no training)."""
    keep = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef)):
            keep.append(node)
        elif isinstance(node, ast.Assign) and not any(isinstance(n, (ast.Name, ast.Call))
                                                      for n in ast.walk(node.value)):
            keep.append(node)
    return ast.Module(body=keep, type_ignores=[])


@functools.lru_cache(maxsize=None)
def solution(chapter: str) -> dict:
    """Run the code cells of the chapter's solution notebook (not the check cells); return the namespace.

    For chapter 6 only the definitions run (see ``_definitions_only``).
    """
    import nbformat

    name = NOTEBOOKS[chapter]
    nb = nbformat.read(str(ROOT / "solutions" / f"{name}.ipynb"), as_version=4)
    namespace: dict = {"__name__": f"solution_{name}"}
    with contextlib.redirect_stdout(io.StringIO()):
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or _is_check_cell(cell.source):
                continue
            source = "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                               for line in cell.source.splitlines())
            tree = ast.parse(source)
            if chapter == "ch06":
                tree = _definitions_only(tree)
            exec(compile(tree, f"<solutions/{name}.ipynb cell {index}>", "exec"), namespace)
    return namespace


def ref(chapter: str, name: str):
    return solution(chapter)[name]




# --------------------------------------------------------------------------------------------------
# Every check: the solution passes, the stub is "not implemented yet"
# --------------------------------------------------------------------------------------------------

FUNCTION_CHECKS = [
    (ch04.dense_backward, "ch04", ["dense_backward"]),
    (ch04.sigmoid_backward, "ch04", ["sigmoid_backward"]),
    (ch04.relu_backward, "ch04", ["relu_backward"]),
    (ch04.numerical_gradient, "ch04", ["numerical_gradient"]),
    (ch05.sgd_momentum_step, "ch05", ["sgd_momentum_step"]),
    (ch05.adam_step, "ch05", ["adam_step"]),
    (ch05.bowl_gradient, "ch05", ["bowl_grad"]),
    (ch05.race, "ch05", ["race"]),
    (ch06.predict_proba, "ch06", ["predict_proba"]),
    (ch06.build_mlp, "ch06", ["build_mlp"]),
    (ch06.train_loop, "ch06", ["train"]),
    (ch06.count_parameters, "ch06", ["count_parameters"]),
]
VALUE_CHECKS = [
    (ch04.gradient_check, "ch04", ["errors"]),
    (ch04.hand_gradient, "ch04", ["dL_dw", "dL_db"]),
    (ch05.divergence, "ch05", ["lr_edge", "lr_diverge", "lr_stable"]),
    (ch06.n_parameters, "ch06", ["n_by_hand"]),
]
ALL_CHECKS = FUNCTION_CHECKS + VALUE_CHECKS


def _id(case) -> str:
    return case[0].check_name


@pytest.mark.parametrize("case", ALL_CHECKS, ids=_id)
def test_check_accepts_the_solution(case):
    check_fn, chapter, names = case
    result = run(check_fn, *(ref(chapter, name) for name in names))
    assert result, str(result)
    assert result.tests >= 1


def test_lr_results_accepts_the_solution_notebooks_numbers():
    """The accuracies stored in the solution notebook's output (the check itself needs no data)."""
    lr_accuracy = {0.003: 0.197, 0.03: 0.732, 0.3: 0.878, 3.0: 0.115}
    assert run(ch06.lr_results, lr_accuracy)


@pytest.mark.parametrize("case", FUNCTION_CHECKS, ids=_id)
def test_function_check_reports_the_stub(case, capsys):
    check_fn = case[0]
    result = check_fn(stub)
    assert result.status == "not implemented" and not result
    assert capsys.readouterr().out.startswith(f"… {check_fn.check_name}: not implemented yet")


@pytest.mark.parametrize("case", VALUE_CHECKS + [(ch06.lr_results, "ch06", ["lr_accuracy"])], ids=_id)
def test_value_check_reports_the_placeholder(case):
    check_fn, _, names = case
    result = run(check_fn, *([...] * len(names)))
    assert result.status == "not implemented", str(result)
    assert f"{names[0]} is still ..." in result.message


def test_registry_lists_exactly_the_exported_checks():
    from nncourse.checks import framework

    checks = framework.registry()
    for module in (ch04, ch05, ch06):
        assert set(checks[module.__name__]) == set(module.__all__)


def test_a_stub_called_by_a_finished_function_is_named():
    def race():
        return {"sgd": stub()}

    result = run(ch05.race, race)
    assert result.status == "not implemented"
    assert "it calls stub, which is not implemented yet" in result.message


# --------------------------------------------------------------------------------------------------
# Chapter 4: backpropagation
# --------------------------------------------------------------------------------------------------


def _dense(grad_x=None, grad_W=None, grad_b=None):
    """A dense_backward with some of its three formulas replaced."""
    def dense_backward(x, W, g):
        return ((grad_x or (lambda: g @ W))(),
                (grad_W or (lambda: g.T @ x))(),
                (grad_b or (lambda: g.sum(axis=0)))())
    return dense_backward


def _dense_transposed_W(x, W, g):
    return g @ W, x.T @ g, g.sum(axis=0)


def _dense_no_bias(x, W, g):
    return g @ W, g.T @ x, np.zeros(W.shape[0])


def _dense_mean_bias(x, W, g):
    return g @ W, g.T @ x, g.mean(axis=0)


def _dense_divided_by_n(x, W, g):
    return g @ W, g.T @ x / len(x), g.sum(axis=0)


def _dense_transposed_x(x, W, g):
    return g @ W.T, g.T @ x, g.sum(axis=0)


def _dense_two_values(x, W, g):
    return g.T @ x, g.sum(axis=0)


def _dense_in_place(x, W, g):
    g *= 2.0
    return g @ W / 2, g.T @ x / 2, g.sum(axis=0) / 2


@pytest.mark.parametrize("wrong, hints", [
    (_dense_transposed_W, ["off by a transpose", "grad_out.T @ x"]),
    (_dense_no_bias, ["the bias gets a gradient too"]),
    (_dense_mean_bias, ["sum over the batch, don't average"]),
    (_dense_divided_by_n, ["already contains the 1/N", "do not divide by N again"]),
    (_dense_transposed_x, ["the backward pass multiplies by W: grad_out @ W"]),
    (_dense_two_values, ["should return three arrays", "return grad_x, grad_W, grad_b"]),
    (_dense_in_place, ["_dense_in_place changed its input g in place", "new arrays"]),
])
def test_dense_backward_mistakes(wrong, hints):
    assert_hint(run(ch04.dense_backward, wrong), *hints)


def test_dense_backward_unrecognised_mistake_still_gets_the_formula():
    def wrong(x, W, g):
        return x @ W.T, g.T @ x, g.sum(axis=0)  # grad_x computed like a forward pass

    assert_hint(run(ch04.dense_backward, wrong), "grad_x should be", "grad_x = grad_out @ W")


def _sig(z):
    return 1.0 / (1.0 + np.exp(-z))


@pytest.mark.parametrize("wrong, hint", [
    (lambda z, g: g * _sig(z), "not by σ(z) itself"),
    (lambda z, g: _sig(z) * (1 - _sig(z)), "multiply the local derivative by the gradient that arrives from above"),
    (lambda z, g: g * z * (1 - z), "apply the formula to s = σ(z), not to z"),
    (lambda z, g: -g * _sig(z) * (1 - _sig(z)), "wrong sign"),
])
def test_sigmoid_backward_mistakes(wrong, hint):
    assert_hint(run(ch04.sigmoid_backward, wrong), hint)


def _relu_backward_in_place(z, g):
    g[z <= 0] = 0.0
    return g


@pytest.mark.parametrize("wrong, hint", [
    (lambda z, g: g * np.maximum(z, 0.0), "not by relu(z) itself"),
    (lambda z, g: (z > 0).astype(float), "that is only the local derivative"),
    (lambda z, g: g * (z >= 0), "at exactly z = 0 PyTorch"),
    (lambda z, g: np.maximum(g, 0.0), "the mask comes from the forward input z"),
    (lambda z, g: z > 0, "returns booleans"),
    (_relu_backward_in_place, "_relu_backward_in_place changed its input g in place"),
])
def test_relu_backward_mistakes(wrong, hint):
    assert_hint(run(ch04.relu_backward, wrong), hint)


def _forward_difference(f, x, eps=1e-6):
    grad = np.zeros_like(x, dtype=float)
    for index in np.ndindex(x.shape):
        plus = x.astype(float)
        plus[index] += eps
        grad[index] = (f(plus) - f(x)) / eps
    return grad


def _divided_by_eps(f, x, eps=1e-6):
    grad = np.zeros_like(x, dtype=float)
    for index in np.ndindex(x.shape):
        plus, minus = x.astype(float), x.astype(float)
        plus[index] += eps
        minus[index] -= eps
        grad[index] = (f(plus) - f(minus)) / eps
    return grad


def _not_restored(f, x, eps=1e-6):
    grad = np.zeros_like(x, dtype=float)
    for index in np.ndindex(x.shape):
        x[index] += eps
        f_plus = f(x)
        x[index] -= 2 * eps
        grad[index] = (f_plus - f(x)) / (2 * eps)
    return grad


def _all_at_once(f, x, eps=1e-6):
    return np.full(x.shape, (f(x + eps) - f(x - eps)) / (2 * eps))


@pytest.mark.parametrize("wrong, hint", [
    (_forward_difference, "that is the forward difference"),
    (_divided_by_eps, "divide by the distance between the two points, 2·eps"),
    (_not_restored, "_not_restored changed its input x in place"),
    (_all_at_once, "nudge one entry at a time"),
])
def test_numerical_gradient_mistakes(wrong, hint):
    assert_hint(run(ch04.numerical_gradient, wrong), hint)


@pytest.mark.parametrize("errors, hint", [
    ({"x": 1e-10, "W": 1e-10, "b": 0.58}, "an error near 1 means grad_b is wrong"),
    ({"x": 0.0, "W": 0.0, "b": 0.0}, "did you compare the backward pass with itself?"),
    ({"x": 1e-10, "W": 1e-10}, "errors has no entry for 'b'"),
    ([1e-10, 1e-10, 1e-10], "errors should be a dict"),
    ({"x": -1e-10, "W": 1e-10, "b": 1e-10}, "a relative error is a number ≥ 0"),
])
def test_gradient_check_mistakes(errors, hint):
    assert_hint(run(ch04.gradient_check, errors), hint)


@pytest.mark.parametrize("dL_dw, dL_db, hint", [
    (2 * (0.5 - 1) * 3, -0.25, "you left out σ'(z)"),
    (2 * (0.5 - 1) * 0.5 * 3, -0.25, "not σ(z) = 0.5"),
    (2 * (0.5 - 1) * 0.25, -0.25, "the last link is ∂z/∂w = x = 3"),
    (0.75, -0.25, "mind the sign"),
    ((0.5 - 1) * 0.25 * 3, -0.25, "you lost the factor 2"),
    (-0.75, -0.75, "∂z/∂b = 1, not x"),
    (-0.75, -1.0, "you left out σ'(z) = 0.25"),
])
def test_hand_gradient_mistakes(dL_dw, dL_db, hint):
    assert_hint(run(ch04.hand_gradient, dL_dw, dL_db), hint)


def test_hand_gradient_accepts_numpy_numbers():
    assert run(ch04.hand_gradient, np.float64(-0.75), np.array([-0.25]))


# --------------------------------------------------------------------------------------------------
# Chapter 5: optimizers
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("wrong, hint", [
    (lambda p, g, v, lr, mu: (p - (mu * v + lr * g), mu * v + lr * g), "that is the other convention"),
    (lambda p, g, v, lr, mu: (p + lr * (mu * v + g), mu * v + g), "wrong sign in the update"),
    (lambda p, g, v, lr, mu: (p - lr * (mu * v + (1 - mu) * g), mu * v + (1 - mu) * g), "that is a moving average"),
    (lambda p, g, v, lr, mu: (p - lr * g, mu * v + g), "update with the new velocity"),
    (lambda p, g, v, lr, mu: (p - lr * v, mu * v + g), "not the old one"),
    (lambda p, g, v, lr, mu: p - lr * (mu * v + g), "the step should return two arrays"),
])
def test_sgd_momentum_step_mistakes(wrong, hint):
    assert_hint(run(ch05.sgd_momentum_step, wrong), hint)


def _adam(correct=True, eps_inside=False, return_hat=False, v_from_g=False, t_offset=0):
    def adam_step(p, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        t = t + t_offset
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * (g if v_from_g else g**2)
        m_hat = m / (1 - beta1**t) if correct else m
        v_hat = v / (1 - beta2**t) if correct else v
        step = m_hat / (np.sqrt(v_hat + eps) if eps_inside else np.sqrt(v_hat) + eps)
        if return_hat:
            return p - lr * step, m_hat, v_hat
        return p - lr * step, m, v
    return adam_step


@pytest.mark.parametrize("wrong, hint", [
    (_adam(correct=False), "you left out the bias correction"),
    (_adam(eps_inside=True), "eps goes outside the square root"),
    (_adam(return_hat=True), "return the raw moment m"),
    (_adam(v_from_g=True), "v averages the squared gradient"),
    (_adam(t_offset=-1), "use t as given for the bias correction (1 − β₁ᵗ), not t − 1"),
    (_adam(t_offset=1), "the first step is t = 1"),
])
def test_adam_step_mistakes(wrong, hint):
    assert_hint(run(ch05.adam_step, wrong), hint)


def test_adam_step_matches_torch_over_several_steps():
    """The reference of the check agrees with torch.optim.Adam (so the check teaches torch's rule)."""
    rng = np.random.default_rng(0)
    p0, grads = rng.normal(size=4), rng.normal(size=(5, 4))
    param = torch.tensor(p0, requires_grad=True)
    opt = torch.optim.Adam([param], lr=0.01, betas=(0.8, 0.99), eps=1e-6)
    p, m, v = p0.copy(), np.zeros(4), np.zeros(4)
    for t, g in enumerate(grads, start=1):
        param.grad = torch.tensor(g)
        opt.step()
        p, m, v = ch05._adam(p, g, m, v, t, lr=0.01, b1=0.8, b2=0.99, eps=1e-6)
    np.testing.assert_allclose(p, param.detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("wrong, hint", [
    (lambda p: 2 * np.array([1.0, 20.0]) * p, "the ½ in front cancels the 2"),
    (lambda p: p.copy(), "each coordinate has its own curvature"),
    (lambda p: np.array([20.0 * p[0], p[1]]), "the factor 20 belongs to the second coordinate"),
])
def test_bowl_gradient_mistakes(wrong, hint):
    assert_hint(run(ch05.bowl_gradient, wrong), hint)


def _race_with(**variant):
    return lambda: ch05._race(**variant)


def _race_without_start():
    return {name: path[1:] for name, path in ch05._race().items()}


@pytest.mark.parametrize("wrong, hint", [
    (_race_with(reset_velocity=True), "keep the velocity from step to step"),
    (_race_with(adam_fixed_t=True), "count the steps: t = 1, 2, 3"),
    (_race_without_start, "the start and the point after each of the"),
    (lambda: [ch05._race()["sgd"]], "should return a dict"),
    (lambda: {"sgd": ch05._race()["sgd"]}, "has no path for 'momentum', 'adam'"),
])
def test_race_mistakes(wrong, hint):
    assert_hint(run(ch05.race, wrong), hint)


@pytest.mark.parametrize("answers, hint", [
    ((2.0, 0.11, 0.09), "that is the edge of the flat direction"),
    ((1 / 20, 0.11, 0.09), "lr > 2/λ"),
    ((0.1, 0.09, 0.05), "that does not diverge"),
    ((0.1, 0.1, 0.05), "exactly at the edge"),
    ((0.1, 0.11, 0.2), "should be smaller than lr_diverge"),
    ((0.1, 0.2, 0.105), "it diverges too"),
    ((0.1, 0.11, -0.01), "a learning rate must be positive"),
])
def test_divergence_mistakes(answers, hint):
    assert_hint(run(ch05.divergence, *answers), hint)


# --------------------------------------------------------------------------------------------------
# Chapter 6: MNIST
# --------------------------------------------------------------------------------------------------


def _logits(model, X):
    with torch.no_grad():
        return model(torch.from_numpy(X))


@pytest.mark.parametrize("wrong, hint", [
    (lambda model, X: _logits(model, X).numpy(), "those are the logits, not probabilities"),
    (lambda model, X: torch.exp(_logits(model, X)).numpy(), "normalise: divide each row by its sum"),
    (lambda model, X: torch.softmax(_logits(model, X), dim=0).numpy(), "not over the batch (dim=0)"),
    (lambda model, X: torch.sigmoid(_logits(model, X)).numpy(), "the sigmoid treats every class on its own"),
    (lambda model, X: torch.log_softmax(_logits(model, X), dim=1).numpy(), "those are log-probabilities"),
    (lambda model, X: _logits(model, X).argmax(dim=1).numpy(), "the predicted class (argmax) comes later"),
    (lambda model, X: model(X), "give it a tensor, torch.from_numpy(X)"),
])
def test_predict_proba_mistakes(wrong, hint):
    assert_hint(run(ch06.predict_proba, wrong), hint)


def test_predict_proba_rejects_a_tensor():
    def as_tensor(model, X):
        with torch.no_grad():
            return torch.softmax(model(torch.from_numpy(X)), dim=1)

    assert_hint(run(ch06.predict_proba, as_tensor), "is a torch.Tensor, expected a NumPy array", ".numpy()")


def _mlp(relu_last=False, softmax_last=False, one_fewer=False, relu=True, seeded=True, ignore_width=False):
    def build_mlp(n_hidden, width=64, seed=0):
        if seeded:
            torch.manual_seed(seed)
        width = 64 if ignore_width else width
        layers, n_in = [], 784
        for _ in range(n_hidden - (1 if one_fewer else 0)):
            layers.append(nn.Linear(n_in, width))
            if relu:
                layers.append(nn.ReLU())
            n_in = width
        layers.append(nn.Linear(n_in, 10))
        if relu_last:
            layers.append(nn.ReLU())
        if softmax_last:
            layers.append(nn.Softmax(dim=1))
        return nn.Sequential(*layers)
    return build_mlp


@pytest.mark.parametrize("wrong, hint", [
    (_mlp(relu_last=True), "ends with ReLU after its last Linear layer"),
    (_mlp(softmax_last=True), "nn.CrossEntropyLoss applies the softmax itself"),
    (_mlp(one_fewer=True), "n_hidden = 1 needs 2 Linear layers"),
    (_mlp(relu=False), "put an nn.ReLU() after every hidden Linear layer"),
    (_mlp(seeded=False), "call torch.manual_seed(seed)"),
    (_mlp(ignore_width=True), "use the width argument"),
    (lambda n_hidden, width=64, seed=0: [nn.Linear(784, 10)], "should return a torch.nn.Module"),
])
def test_build_mlp_mistakes(wrong, hint):
    assert_hint(run(ch06.build_mlp, wrong), hint)


def _train(zero_grad=True, reduction="mean", step=True, drop_last=False, one_epoch=False, returns=True):
    def train(model, X, y, lr, epochs=3, batch_size=64):
        optimizer = torch.optim.SGD(model.parameters(), lr=lr)
        loss_fn = nn.CrossEntropyLoss(reduction=reduction)
        losses = []
        for _ in range(1 if one_epoch else epochs):
            batch_losses = []
            for start in range(0, len(X), batch_size):
                if drop_last and start + batch_size > len(X):
                    break
                if zero_grad:
                    optimizer.zero_grad()
                loss = loss_fn(model(torch.from_numpy(X[start:start + batch_size])),
                               torch.from_numpy(y[start:start + batch_size]))
                loss.backward()
                if step:
                    optimizer.step()
                batch_losses.append(loss.item())
            losses.append(float(np.mean(batch_losses)))
        return losses if returns else None
    return train


def _train_a_copy(model, X, y, lr, epochs=3, batch_size=64):
    return _train()(copy.deepcopy(model), X, y, lr, epochs, batch_size)


@pytest.mark.parametrize("wrong, hint", [
    (_train(zero_grad=False), "call optimizer.zero_grad() before every backward pass"),
    (_train(reduction="sum"), "use the mean loss over the batch"),
    (_train(step=False), "are unchanged"),
    (_train_a_copy, "train the model you receive, in place"),
    (_train(drop_last=True), "keep the last, smaller batch"),
    (_train(one_epoch=True), "repeat the pass over the data for `epochs` epochs"),
    (_train(returns=False), "train returned None"),
])
def test_train_loop_mistakes(wrong, hint):
    assert_hint(run(ch06.train_loop, wrong), hint)


@pytest.mark.parametrize("lr_accuracy, hint", [
    ({0.003: 19.7, 0.03: 73.2, 0.3: 87.8, 3.0: 11.5}, "not percentages"),
    ({0.003: 0.5, 0.03: 0.5, 0.3: 0.5, 3.0: 0.5}, "pass the learning rate on"),
    ({0.003: 0.9, 0.03: 0.85, 0.3: 0.6, 3.0: 0.1}, "the smallest learning rate, 0.003, gives the best accuracy"),
    ({0.01: 0.5, 0.1: 0.8}, "expected [0.003, 0.03, 0.3, 3.0]"),
    ([0.2, 0.7, 0.9, 0.1], "should be a dict"),
])
def test_lr_results_mistakes(lr_accuracy, hint):
    assert_hint(run(ch06.lr_results, lr_accuracy), hint)


@pytest.mark.parametrize("wrong, hint", [
    (lambda model: len(list(model.parameters())), "that counts the parameter tensors"),
    (lambda model: sum(p.numel() for p in model.parameters() if p.dim() > 1), "biases are parameters too"),
    (lambda model: sum(p.numel() for p in model.parameters() if p.requires_grad), "trainable or not"),
    (lambda model: sum(p.shape[0] for p in model.parameters()), "p.numel() multiplies them all"),
])
def test_count_parameters_mistakes(wrong, hint):
    assert_hint(run(ch06.count_parameters, wrong), hint)


@pytest.mark.parametrize("answer, hint", [
    (784 * 64 + 64 * 64 + 64 * 10, "you forgot the biases"),
    (784 * 64 + 64 + 64 * 10 + 10, "that counts build_mlp(1)"),
    (784 * 64 + 784 + 64 * 64 + 64 + 64 * 10 + 64, "one bias per output neuron"),
    (784 + 64 + 64 + 10, "that counts neurons"),
])
def test_n_parameters_mistakes(answer, hint):
    assert_hint(run(ch06.n_parameters, answer), hint)


def test_n_parameters_accepts_numpy_integers_and_whole_floats():
    assert run(ch06.n_parameters, np.int64(55050))
    assert run(ch06.n_parameters, 55050.0)
