"""The scalar engine ``nncourse.autograd.Value`` against torch.autograd in float64.

Hypothesis builds random expression graphs (each new node reads any earlier node, so nodes are
shared and gradients must add up along several paths); every gradient must equal torch's to 1e-10.
"""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from nncourse.autograd import Value, topological_order
from nncourse.errors import CourseError, DTypeError

# Each op takes one or two operands and is written once for both engines; the inputs of exp, log
# and / are kept in ranges where the result is finite and well conditioned.
UNARY = {
    "tanh": lambda a: a.tanh(),
    "relu": lambda a: a.relu(),
    "exp_tanh": lambda a: a.tanh().exp(),
    "log_square": lambda a: (a * a + 1).log(),
    "square": lambda a: a ** 2,
    "cube": lambda a: a ** 3,
    "neg": lambda a: -a,
    "affine": lambda a: 0.5 * a - 1.5,
}
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 1),
    "rsub": lambda a, b: 2.0 - a * b,
}


@st.composite
def expression(draw):
    leaves = draw(st.lists(st.floats(-2, 2, allow_nan=False).filter(lambda v: abs(v) > 1e-3),
                           min_size=1, max_size=4))
    steps = []
    for _ in range(draw(st.integers(1, 12))):
        n = len(leaves) + len(steps)
        if draw(st.booleans()):
            steps.append((draw(st.sampled_from(sorted(UNARY))), draw(st.integers(0, n - 1))))
        else:
            steps.append((draw(st.sampled_from(sorted(BINARY))), draw(st.integers(0, n - 1)),
                          draw(st.integers(0, n - 1))))
    return leaves, steps


def build(leaves, steps, make):
    nodes = [make(v) for v in leaves]
    for name, *args in steps:
        op = UNARY.get(name) or BINARY[name]
        nodes.append(op(*(nodes[i] for i in args)))
    return nodes


@settings(max_examples=60, deadline=None)
@given(expression())
def test_random_graphs_match_torch(graph):
    leaves, steps = graph
    ours = build(leaves, steps, Value)
    theirs = build(leaves, steps, lambda v: torch.tensor(v, dtype=torch.float64, requires_grad=True))
    out = ours[-1] + ours[-1] * ours[len(leaves) - 1] if len(ours) > 1 else ours[-1]
    out_t = theirs[-1] + theirs[-1] * theirs[len(leaves) - 1] if len(theirs) > 1 else theirs[-1]
    out.backward()
    out_t.backward()
    assert math.isclose(out.data, out_t.item(), rel_tol=1e-12, abs_tol=1e-12)
    for v, t in zip(ours[:len(leaves)], theirs[:len(leaves)]):
        expected = 0.0 if t.grad is None else t.grad.item()
        assert math.isclose(v.grad, expected, rel_tol=1e-10, abs_tol=1e-10), (v.grad, expected)


def test_a_shared_node_adds_the_gradients_of_its_uses():
    a = Value(3.0)
    y = a * a + a          # dy/da = 2a + 1
    y.backward()
    assert a.grad == 7.0


def test_gradients_accumulate_across_backward_calls_like_torch():
    a, b = Value(2.0), Value(-1.0)
    y = a * b + a.tanh()
    y.backward()
    first = a.grad
    y.backward()           # leaves accumulate; inner nodes are recomputed, so the leaves get exactly 2x
    assert a.grad == pytest.approx(2 * first, rel=1e-15)
    y.zero_grad()
    assert a.grad == 0.0 and b.grad == 0.0
    at = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    bt = torch.tensor(-1.0, dtype=torch.float64, requires_grad=True)
    yt = at * bt + at.tanh()
    yt.backward(retain_graph=True)
    yt.backward()
    assert 2 * first == pytest.approx(at.grad.item(), rel=1e-15)


def test_topological_order_puts_each_node_after_its_parents_and_root_last():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = c + a
    e = d * c
    order = topological_order(e)
    assert order[-1] is e and len(order) == len({id(n) for n in order}) == 5
    position = {id(n): i for i, n in enumerate(order)}
    for node in order:
        assert all(position[id(p)] < position[id(node)] for p in node._parents)


def test_relu_gradient_at_zero_is_zero_like_torch():
    a = Value(0.0)
    a.relu().backward()
    assert a.grad == 0.0


def test_non_number_is_refused():
    with pytest.raises(DTypeError, match="one number.*Tensor"):
        Value(np.ones(3))
    with pytest.raises(DTypeError, match="one number"):
        Value("3")


def test_value_exponent_is_refused_with_the_rewrite():
    with pytest.raises(DTypeError, match=r"exponent must be a plain int or float.*exp\(\)"):
        Value(2.0) ** Value(3.0)


def test_log_of_a_non_positive_number():
    with pytest.raises(CourseError, match="positive number, got -1"):
        Value(-1.0).log()
