"""The autograd engines on hostile but legal input (issue 27): in-place changes between forward and backward,
powers at 0, NumPy scalars, graphs of 100,000 nodes, out-of-range axes, and the backward stepper's size."""

import math
import time

import numpy as np
import pytest
import torch

from nncourse.autograd import Tensor, Value, functional as F, nn as agnn, topological_order
from nncourse.errors import ConfigError, CourseError, DTypeError, NonFiniteError, ShapeError
from nncourse.widgets.backprop import backward_stepper, draw_graph


# ------------------------------------------------------------------ in-place changes (version counter)
def _model(seed=0):
    rng = np.random.default_rng(seed)
    return agnn.Sequential(agnn.Linear(rng.normal(size=(4, 3)), rng.normal(size=4)), agnn.Tanh(),
                           agnn.Linear(rng.normal(size=(2, 4)), rng.normal(size=2)))


def test_an_optimizer_step_between_forward_and_backward_is_refused_as_torch_does():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(5, 3)), np.array([0, 1, 0, 1, 1])
    model = _model()
    optimizer = agnn.SGD(model.parameters(), lr=0.1)
    loss = F.cross_entropy(model(Tensor(x)), y)
    optimizer.zero_grad()
    loss.backward(retain_graph=True)
    optimizer.step()                                   # changes the weights the graph used
    grads = [p.grad.copy() for p in model.parameters()]
    with pytest.raises(CourseError, match=r"changed in place after the forward pass.*optimizer\.step\(\).*"
                                          r"Call backward\(\) before step\(\).*forward pass again"):
        loss.backward()
    assert all(np.array_equal(g, p.grad) for g, p in zip(grads, model.parameters()))   # nothing accumulated

    # torch refuses the same order of calls
    w = torch.tensor(rng.normal(size=(2, 3)), requires_grad=True)
    out = (w * w).sum()                                # mul saves both inputs, as ours does
    with torch.no_grad():
        w -= 0.1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.backward()

    optimizer.zero_grad()                              # the fix: recompute the forward pass
    F.cross_entropy(model(Tensor(x)), y).backward()
    assert all(p.grad is not None for p in model.parameters())


def test_the_version_counter_follows_what_each_backward_reads():
    w = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    product = (w * 2.0).sum()
    w.data -= 1.0                                      # what p.data -= lr * p.grad does
    with pytest.raises(CourseError, match=r"shape \(3,\).*'mul' operation.*version 0 then, 1 now"):
        product.backward()
    w2 = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    total = (w2 + 1.0).sum()                           # addition reads no numbers: torch lets this pass too
    w2.data -= 1.0
    total.backward()
    np.testing.assert_array_equal(w2.grad, [1.0, 1.0])
    e = Tensor(np.array([0.5]), requires_grad=True).exp()
    out = e.sum()
    e.data = e.data * 2                                # exp's backward reads its own output
    with pytest.raises(CourseError, match="'exp' operation"):
        out.backward()


def test_a_value_changed_between_forward_and_backward_is_refused():
    w = Value(0.5)
    loss = (w * 3.0 - 1.0) ** 2
    w.data -= 0.1 * 3.0                                # a gradient step before backward()
    with pytest.raises(CourseError, match=r"changed after the forward pass.*wrong gradient.*Call backward\(\) "
                                          r"before updating.*recompute the forward pass"):
        loss.backward()
    loss = (w * 3.0 - 1.0) ** 2                        # recomputed: fine
    loss.backward()
    assert w.grad == pytest.approx(6 * (3 * w.data - 1))


# ------------------------------------------------------------------ powers at 0, division, fractional powers
POWERS = [0, 1, 2, 3, 0.5, 1.5, 2.5, 1 / 3]


@pytest.mark.parametrize("exponent", POWERS)
@pytest.mark.parametrize("x", [0.0, 2.0])
def test_every_power_rule_at_0_matches_torch(exponent, x):
    theirs = torch.tensor([x], dtype=torch.float64, requires_grad=True)
    (theirs ** exponent).sum().backward()
    want_value, want_grad = float((torch.tensor([x], dtype=torch.float64) ** exponent)[0]), float(theirs.grad[0])

    t = Tensor(np.array([x]), requires_grad=True)
    (t ** exponent).sum().backward()
    v = Value(x)
    out = v ** exponent
    out.backward()
    for value, grad in ((float(t.data[0] ** exponent), float(t.grad[0])), (out.data, v.grad)):
        assert value == pytest.approx(want_value)
        assert grad == pytest.approx(want_grad) if math.isfinite(want_grad) else grad == want_grad
    if exponent == 0:
        assert t.grad[0] == 0.0 and v.grad == 0.0       # 0 * x ** -1 is 0 here, not NaN


@pytest.mark.parametrize("exponent", [-1, -2, -0.5])
def test_zero_to_a_negative_power_is_refused_like_log_of_zero(exponent):
    assert not torch.isfinite(torch.tensor([0.0]) ** exponent).all()     # torch: inf, silently
    with pytest.raises(CourseError, match=r"0 to a negative power is a division by zero.*\(x \+ 1e-12\)"):
        Tensor(np.array([1.0, 0.0]), requires_grad=True) ** exponent
    with pytest.raises(CourseError, match=r"0 to a negative power is a division by zero"):
        Value(0.0) ** exponent
    with pytest.raises(CourseError, match="positive number"):
        Value(0.0).log()
    with pytest.raises(CourseError, match="<= 0.*log"):
        Tensor(np.array([0.0])).log()


def test_fractional_powers_of_negatives_are_refused():
    assert torch.isnan(torch.tensor([-2.0]) ** 0.5).all()                # torch: NaN, silently
    with pytest.raises(CourseError, match=r"negative number to a fractional power has no real value.*abs\(x\)"):
        Tensor(np.array([-2.0, 4.0])) ** 0.5
    with pytest.raises(CourseError, match=r"negative number \(-2\) to a fractional power"):
        Value(-2.0) ** 0.5
    assert (Value(-2.0) ** 3).data == -8.0 and float((Tensor(np.array([-2.0])) ** 2).data[0]) == 4.0


def test_division_by_zero_is_refused_in_both_engines():
    a = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    with pytest.raises(CourseError, match=r"divisor holds 1 zero\(s\).*division by zero.*b \+ 1e-12"):
        a / Tensor(np.array([1.0, 0.0]))
    with pytest.raises(CourseError, match="division by zero"):
        1.0 / Tensor(np.array([0.0]))
    with pytest.raises(CourseError, match=r"2 / 0 is a division by zero.*1e-12"):
        Value(2.0) / 0
    with pytest.raises(CourseError, match="division by zero"):
        1 / Value(0.0)


# ------------------------------------------------------------------ what Value accepts
def test_value_accepts_numpy_numbers():
    assert Value(np.float32(2.5)).data == 2.5 and Value(np.int64(3)).data == 3.0
    out = Value(np.float64(2.0)) * Value(np.int32(3)) ** np.int64(2)
    out.backward()
    assert out.data == 18.0 and isinstance(out.data, float)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -math.inf, np.float32("nan")])
def test_value_of_nan_or_inf_is_refused(bad):
    with pytest.raises(NonFiniteError, match=r"one finite number.*no useful gradient"):
        Value(bad)


def test_overflows_inside_value_operations_are_clear():
    with pytest.raises(NonFiniteError, match=r"exp\(1000\) overflows.*scale the input down"):
        Value(1000.0).exp()
    with pytest.raises(NonFiniteError, match=r"result of '\*'.*overflowed"):
        Value(1e200) * Value(1e200)
    with pytest.raises(DTypeError, match="True|bool"):
        Value(True)


# ------------------------------------------------------------------ deep graphs
def test_a_value_graph_of_100000_nodes_backpropagates_without_recursion():
    start = time.process_time()                         # CPU time: other processes on the machine do not count
    x = Value(0.5)
    total = x
    for _ in range(100_000):                            # a chain 100,000 nodes deep
        total = total + x
    assert len(topological_order(total)) == 100_001
    total.backward()
    assert x.grad == 100_001
    assert time.process_time() - start < 5


def test_a_tensor_graph_of_100000_nodes_backpropagates_without_recursion():
    start = time.process_time()
    x = Tensor(np.array([0.5]), requires_grad=True)
    total = x
    for _ in range(100_000):
        total = total + x
    total.sum().backward()
    assert x.grad[0] == 100_001
    assert time.process_time() - start < 5


def test_the_iterative_order_is_the_recursive_one():
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    c = a * b
    d = c + a
    e = d * c
    assert [id(n) for n in topological_order(e)] == [id(a), id(b), id(c), id(d), id(e)]


# ------------------------------------------------------------------ axes, indices, booleans
@pytest.mark.parametrize("call, words", [
    (lambda t: t.sum(axis=2), r"sum: axis 2 is out of range for a tensor of shape \(2, 3\).*0\.\.1 or -2\.\.-1"),
    (lambda t: t.mean(axis=-3), r"mean: axis -3 is out of range"),
    (lambda t: t.sum(axis=(0, 0)), r"names the same axis twice"),
    (lambda t: t.sum(axis=1.0), r"axis must be a whole number"),
    (lambda t: t.transpose(0, 5), r"transpose: axis 5 is out of range"),
    (lambda t: t.permute(0, 3), r"permute: axis 3 is out of range"),
    (lambda t: t[5], r"indexing a tensor of shape \(2, 3\).*out of bounds.*-size\.\.size-1"),
    (lambda t: t[:, [0, 7]], r"indexing a tensor of shape \(2, 3\)"),
    (lambda t: t.gather(2, np.zeros((2, 3), np.int64)), r"gather: axis 2 is out of range"),
    (lambda t: t.softmax(dim=2), r"softmax: axis 2 is out of range"),
    (lambda t: t.log_softmax(dim=-3), r"log_softmax: axis -3 is out of range"),
    (lambda t: F.cat([t, t], dim=2), r"cat: axis 2 is out of range"),
])
def test_out_of_range_axes_and_indices_are_clear_errors(call, words):
    t = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    with pytest.raises(ShapeError, match=words):
        call(t)


def test_negative_axes_still_work_like_torch():
    t = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    t.sum(axis=-1).sum().backward()
    np.testing.assert_array_equal(t.grad, np.ones((2, 3)))
    assert t.transpose(-1, -2).shape == (3, 2) and t.mean(axis=(0, -1)).shape == ()


@pytest.mark.parametrize("bad", ["False", "true", 1, None])
def test_requires_grad_must_be_a_real_boolean(bad):
    with pytest.raises(ConfigError, match=r"requires_grad must be True or False.*without quotes"):
        Tensor(np.ones(2), requires_grad=bad)
    with pytest.raises(ConfigError, match=r"requires_grad must be True or False"):
        Tensor(np.ones(2)).requires_grad_(bad)
    with pytest.raises(ConfigError, match=r"keepdims must be True or False"):
        Tensor(np.ones(2)).sum(keepdims=bad)
    assert Tensor(np.ones(2), requires_grad=np.bool_(True)).requires_grad is True


# ------------------------------------------------------------------ the backward stepper's size
def test_the_backward_stepper_refuses_a_40_term_loss_within_seconds():
    rng = np.random.default_rng(0)
    w = Value(0.3, label="w")
    loss = Value(0.0)
    for x, y in rng.normal(size=(40, 2)):
        loss = loss + (w * float(x) - float(y)) ** 2
    start = time.process_time()
    with pytest.raises(ConfigError, match=r"backward_stepper: the graph has \d+ nodes, more than max_nodes=30.*"
                                          r"smaller expression.*draw_graph\(root\).*raise max_nodes"):
        backward_stepper(loss)
    with pytest.raises(ConfigError, match=r"draw_graph: the graph has \d+ nodes.*one term of the loss"):
        draw_graph(loss)
    assert time.process_time() - start < 3


def test_the_backward_stepper_checks_its_arguments():
    a = Value(2.0) * Value(3.0)
    with pytest.raises(ConfigError, match="expects a Value"):
        backward_stepper(Tensor(np.ones(2)))
    with pytest.raises(ConfigError, match="static must be True or False"):
        backward_stepper(a, static="False")
    with pytest.raises(ConfigError, match="max_nodes must be a whole number >= 1"):
        backward_stepper(a, max_nodes=0)
    with pytest.raises(ConfigError, match=r"figsize must be \(width, height\)"):
        backward_stepper(a, figsize=8)
    start = time.process_time()
    w = Value(0.5)
    small = (w * 2.0 + 1.0).tanh()
    assert len(backward_stepper(small).stack.children) == 1 + len(topological_order(small))
    assert time.process_time() - start < 10
