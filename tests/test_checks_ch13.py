"""The exercise checks of chapter 13 (autograd from scratch).

For every check: the solution from solutions/13_autograd.ipynb passes (the functions are taken from
the notebook itself), the stub and the placeholder ``...`` are "not implemented yet", and plausible
wrong answers fail with the hint meant for them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nncourse.autograd import Tensor
from nncourse.checks import ch13
from check_helpers import assert_hint, run, solution_namespace, stub

ROOT = Path(__file__).resolve().parents[1]


def solution() -> dict:
    return solution_namespace("13_autograd")


CHECKS = ["add_backward", "mul_backward", "tanh_backward", "topological_sort", "exp_op"]


@pytest.mark.parametrize("name", CHECKS)
def test_solution_passes_stub_and_placeholder_do_not(name):
    check_fn = getattr(ch13, name)
    assert run(check_fn, solution()[name]), name
    assert run(check_fn, stub).status == "not implemented"
    assert run(check_fn, ...).status == "not implemented"


def _leading_only(g, shape):
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    return g


def _unbroadcast(g, shape):
    return solution()["add_backward"](g, shape, shape)[0]


# ------------------------------------------------------------------ add_backward
@pytest.mark.parametrize("wrong, needles", [
    (lambda g, a, b: (g, g), ["upstream gradient itself", "SUM"]),
    (lambda g, a, b: (_leading_only(g, a), _leading_only(g, b)), ["size 1", "keepdims=True"]),
    (lambda g, a, b: tuple(np.full(s, g.sum()) if s else g.sum() for s in (a, b)), ["ALL of the gradient"]),
    (lambda g, a, b: tuple(np.broadcast_to(g.mean(axis=tuple(range(g.ndim - len(s)))), s)
                           if len(s) < g.ndim else g.mean() for s in (a, b)), ["do not average"]),
    (lambda g, a, b: _unbroadcast(g, a), ["two arrays", "return grad_a, grad_b"]),
    (lambda g, a, b: ([1, 2], [3]), ["NumPy array"]),
    (lambda g, a, b: solution()["add_backward"](g, a, b)[::-1], ["returns grad_b, grad_a", "wrong order"]),
])
def test_add_backward_mistakes(wrong, needles):
    assert_hint(run(ch13.add_backward, wrong), *needles)


def test_add_backward_in_place_is_rejected():
    def in_place(g, a, b):
        g *= 2.0   # a real change: the check compares the arguments with copies taken before the call
        return g, g
    assert_hint(run(ch13.add_backward, in_place), "in place", "new arrays")


# ------------------------------------------------------------------ mul_backward
@pytest.mark.parametrize("wrong, needles", [
    (lambda g, a, b: (_unbroadcast(g * a, np.shape(a)), _unbroadcast(g * b, np.shape(b))), ["OTHER factor"]),
    (lambda g, a, b: (g * b, g * a), ["output's shape", "sum it"]),
    (lambda g, a, b: (_unbroadcast(np.broadcast_to(b, g.shape), np.shape(a)),
                      _unbroadcast(np.broadcast_to(a, g.shape), np.shape(b))), ["upstream gradient is missing"]),
    (lambda g, a, b: (_leading_only(g * b, np.shape(a)), _leading_only(g * a, np.shape(b))),
     ["size-1 axes", "keepdims=True"]),
    (lambda g, a, b: None, ["two arrays"]),
    (lambda g, a, b: solution()["mul_backward"](g, a, b)[::-1], ["returns grad_b, grad_a", "return grad_a, grad_b"]),
])
def test_mul_backward_mistakes(wrong, needles):
    assert_hint(run(ch13.mul_backward, wrong), *needles)


# ------------------------------------------------------------------ tanh_backward
@pytest.mark.parametrize("wrong, needles", [
    (lambda x, g: g * (1 - x ** 2), ["OUTPUT tanh(x)", "not of the input"]),
    (lambda x, g: 1 - np.tanh(x) ** 2, ["local derivative", "grad_out"]),
    (lambda x, g: g * (1 - np.tanh(x)), ["square the tanh"]),
    (lambda x, g: g * np.tanh(x) ** 2 - g, ["sign is flipped"]),
    (lambda x, g: g / np.cosh(x), ["cosh is squared"]),
    (lambda x, g: g * (1 - np.tanh(np.tanh(x)) ** 2), ["applied twice"]),
    (lambda x, g: None, ["return statement"]),
])
def test_tanh_backward_mistakes(wrong, needles):
    assert_hint(run(ch13.tanh_backward, wrong), *needles)


# ------------------------------------------------------------------ topological_sort
def _no_visited_set(root):
    order = []

    def visit(node):
        for parent in node._parents:
            visit(parent)
        order.append(node)
    visit(root)
    return order


def _pre_order(root):
    order, visited = [], set()

    def visit(node):
        if id(node) not in visited:
            visited.add(id(node))
            order.append(node)                       # before its parents
            for parent in node._parents:
                visit(parent)
    visit(root)
    return order


def _without_leaves(root):
    return [n for n in solution()["topological_sort"](root) if n._parents]


def _breadth_first_reversed(root):
    """Reversed BFS: puts a shared node too late when it is reached by a short and a long path."""
    order, queue, seen = [], [root], set()
    while queue:
        node = queue.pop(0)
        if id(node) not in seen:
            seen.add(id(node))
            order.append(node)
            queue.extend(node._parents)
    return order[::-1]


def _endless(root):
    def visit(node):
        visit(node)
    visit(root)


@pytest.mark.parametrize("wrong, needles", [
    (_no_visited_set, ["more than once", "set of visited nodes"]),
    (_pre_order, ["starts with the root", "post-order"]),
    (_without_leaves, ["missing", "leaves"]),
    (_breadth_first_reversed, ["before one of its inputs", "ALL of its parents"]),
    (lambda root: tuple(solution()["topological_sort"](root)), ["should return a list"]),
    (lambda root: None, ["return statement"]),
    (_endless, ["visited BEFORE"]),
    (lambda root: [root.data], ["missing"]),
    (lambda root: solution()["topological_sort"](root)[:-1], ["missing", "the root itself belongs in the list"]),
])
def test_topological_sort_mistakes(wrong, needles):
    assert_hint(run(ch13.topological_sort, wrong), *needles)


# ------------------------------------------------------------------ exp_op
def _graph(data, x, backward):
    return Tensor.from_op(data, (x,), backward, "exp")


@pytest.mark.parametrize("wrong, needles", [
    (lambda x: _graph(np.exp(x.data), x, lambda g: (np.exp(x.data),)), ["multiplies the local derivative", "by g"]),
    (lambda x: _graph(np.exp(x.data), x, lambda g: (g * x.data,)), ["exp(x) itself, not x"]),
    (lambda x: _graph(np.exp(x.data), x, lambda g: (g,)), ["passes g through unchanged"]),
    (lambda x: _graph(np.exp(x.data), x, lambda g: (g * x.data * np.exp(x.data),)), ["power rule"]),
    (lambda x: _graph(np.exp(x.data), x, lambda g: g * np.exp(x.data)), ["TUPLE", "(g * out,)"]),
    (lambda x: Tensor(np.exp(x.data)), ["not part of the graph", "Tensor.from_op"]),
    (lambda x: np.exp(x.data), ["should return a Tensor", "NumPy array"]),
    (lambda x: _graph(x.data.copy(), x, lambda g: (g,)), ["np.exp(x.data)"]),
])
def test_exp_op_mistakes(wrong, needles):
    assert_hint(run(ch13.exp_op, wrong), *needles)
