"""Checks for the chapter 13 exercises: autograd from scratch.

Use them at the end of each exercise::

    from nncourse.checks import ch13 as check
    check.add_backward(add_backward)

``add_backward`` and ``mul_backward`` (the gradients of ``a + b`` and ``a * b`` when NumPy broadcasts
``a`` and ``b``), ``tanh_backward``, ``topological_sort`` (of a graph of ``nncourse.autograd.Value``)
and ``exp_op`` (a new operation for ``nncourse.autograd.Tensor``). Expected values come from PyTorch's
autograd (imported only when a check runs); the wrong answers the checks recognise are written out in
NumPy next to their hints. Inputs are handed over read-only, so a function that changes its arguments
in place is told so.
"""

from __future__ import annotations


import numpy as np

from .framework import Tester, check

__all__ = ["add_backward", "mul_backward", "tanh_backward", "topological_sort", "exp_op"]

_INPLACE_HINT = ("build new arrays (grad * b, not grad *= b): leave the arrays you receive as they are, "
                 "because the caller still needs them.")


def _float64(*arrays):
    return [np.asarray(array, dtype=np.float64) for array in arrays]

#: (description, shape of a, shape of b): the shapes broadcast against each other
_BROADCAST_CASES = [("a (4, 3) + b (3,): a bias added to every row", (4, 3), (3,)),
                    ("a (2, 3, 4) + b (3, 1)", (2, 3, 4), (3, 1)),
                    ("a (2, 1) + b (1, 3): both are stretched", (2, 1), (1, 3)),
                    ("a (3,) + b (): a number added to a vector", (3,), ())]


def _numpy_result(t: Tester, value, what: str) -> np.ndarray:
    if value is None:
        t.fail(f"{what} returned None", "did you forget the return statement?")
    if isinstance(value, (int, float, np.floating)):
        value = np.asarray(value, dtype=np.float64)
    return t.ndarray(value, what, kind="float")


def _pair(t: Tester, result, what: str):
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        t.fail(f"{what} should return two arrays (grad_a, grad_b), yours returns {type(result).__name__}",
               "end with: return grad_a, grad_b")
    return tuple(_numpy_result(t, r, what) for r in result)


def _sum_leading_only(g, shape):
    """A typical half-done unbroadcast: it removes the prepended axes but keeps stretched 1s."""
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    return g


def _torch_grads(op, a, b, grad):
    import torch

    at, bt = torch.tensor(np.array(a), requires_grad=True), torch.tensor(np.array(b), requires_grad=True)
    op(at, bt).backward(torch.from_numpy(np.array(grad)))
    return at.grad.numpy(), bt.grad.numpy()


_SHAPE_HINT = ("a gradient has the shape of its input: sum the upstream gradient over the axes that "
               "broadcasting added in front, and (keepdims=True) over the axes where the input had size 1.")


# --------------------------------------------------------------------------------------------------
# Exercise 1: the backward pass of a + b with broadcasting
# --------------------------------------------------------------------------------------------------


@check("add_backward")
def add_backward(t: Tester, add_backward) -> None:
    """``add_backward(grad, a_shape, b_shape) -> (grad_a, grad_b)`` for ``out = a + b``."""
    t.callable(add_backward, "add_backward")
    rng = np.random.default_rng(130)
    for description, a_shape, b_shape in _BROADCAST_CASES:
        a, b = rng.normal(size=a_shape), rng.normal(size=b_shape)
        (grad,) = _float64(rng.normal(size=np.broadcast_shapes(a_shape, b_shape)))
        want_a, want_b = _torch_grads(lambda x, y: x + y, a, b, grad)
        got_a, got_b = _pair(t, t.call(add_backward, grad, a_shape, b_shape, mutation_hint=_INPLACE_HINT), "add_backward")
        t.in_order([got_a, got_b], [want_a, want_b], f"add_backward for {description}", "grad_a, grad_b")
        for got, want, shape, name in ((got_a, want_a, a_shape, "grad_a"), (got_b, want_b, b_shape, "grad_b")):
            t.close(got, want, f"{name} for {description}", shape_hint=_SHAPE_HINT, mistakes=[
                (grad, "that is the upstream gradient itself, with the output's shape: an input used many "
                       "times by broadcasting gets the SUM of the gradients of its uses."),
                (lambda: _sum_leading_only(grad, shape),
                 "the axes broadcasting added in front are summed, but an axis where the input had size 1 "
                 "(and was stretched) must be summed too, with keepdims=True."),
                (lambda: np.full(shape, grad.sum()) if shape else grad.sum(),
                 "every entry gets the sum over ALL of the gradient; sum only over the broadcast axes."),
                (lambda: np.broadcast_to(grad.mean(axis=tuple(range(grad.ndim - len(shape)))), shape)
                 if len(shape) < grad.ndim else grad.mean(),
                 "sum over the broadcast axes, do not average: each use adds its full gradient."),
            ])


# --------------------------------------------------------------------------------------------------
# Exercise 2: the backward pass of a * b with broadcasting
# --------------------------------------------------------------------------------------------------


def _unbroadcast(g, shape):
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g


@check("mul_backward")
def mul_backward(t: Tester, mul_backward) -> None:
    """``mul_backward(grad, a, b) -> (grad_a, grad_b)`` for ``out = a * b``."""
    t.callable(mul_backward, "mul_backward")
    rng = np.random.default_rng(131)
    for description, a_shape, b_shape in _BROADCAST_CASES:
        a, b, grad = _float64(rng.normal(size=a_shape), rng.normal(size=b_shape),
                             rng.normal(size=np.broadcast_shapes(a_shape, b_shape)))
        want_a, want_b = _torch_grads(lambda x, y: x * y, a, b, grad)
        got_a, got_b = _pair(t, t.call(mul_backward, grad, a, b, mutation_hint=_INPLACE_HINT),
                             "mul_backward")
        t.in_order([got_a, got_b], [want_a, want_b], f"mul_backward for {description}", "grad_a, grad_b")
        for got, want, mine, other, name in ((got_a, want_a, a, b, "grad_a"), (got_b, want_b, b, a, "grad_b")):
            shape = mine.shape
            t.close(got, want, f"{name} for {description}", shape_hint=_SHAPE_HINT, mistakes=[
                (lambda: _unbroadcast(grad * mine, shape),
                 f"d(a*b)/d{name[-1]} is the OTHER factor: {name} = grad * {'b' if name == 'grad_a' else 'a'}, "
                 f"then summed over the broadcast axes."),
                (lambda: grad * other, "right product, but it has the output's shape: sum it over the "
                                       "broadcast axes to get the input's shape."),
                (lambda: _unbroadcast(np.broadcast_to(other, grad.shape), shape),
                 "the upstream gradient is missing: multiply by grad (chain rule) before summing."),
                (lambda: _sum_leading_only(grad * other, shape),
                 "the axes added in front are summed, but the stretched size-1 axes must be summed too "
                 "(keepdims=True)."),
            ])


# --------------------------------------------------------------------------------------------------
# Exercise 3: tanh's backward
# --------------------------------------------------------------------------------------------------


@check("tanh_backward")
def tanh_backward(t: Tester, tanh_backward) -> None:
    """``tanh_backward(x, grad_out) -> grad_x`` for ``out = tanh(x)``."""
    import torch

    t.callable(tanh_backward, "tanh_backward")
    rng = np.random.default_rng(132)
    for description, shape in [("a (3, 4) batch", (3, 4)), ("a vector of 5", (5,)), ("one number", ())]:
        x, grad_out = _float64(rng.normal(0, 1.5, size=shape), rng.normal(size=shape))
        xt = torch.tensor(np.array(x), requires_grad=True)
        torch.tanh(xt).backward(torch.from_numpy(np.array(grad_out)))
        got = _numpy_result(t, t.call(tanh_backward, x, grad_out, mutation_hint=_INPLACE_HINT),
                            "tanh_backward")
        th = np.tanh(x)
        t.close(got, xt.grad.numpy(), f"tanh_backward for {description}", mistakes=[
            (grad_out * (1 - x ** 2), "the derivative is 1 - tanh(x)^2, the square of the OUTPUT tanh(x), "
                                      "not of the input x."),
            (1 - th ** 2, "that is the local derivative; the chain rule multiplies it by the upstream "
                          "gradient grad_out."),
            (grad_out * (1 - th), "square the tanh: 1 - tanh(x)**2."),
            (grad_out * th ** 2 - grad_out, "the sign is flipped: 1 - tanh(x)^2, not tanh(x)^2 - 1."),
            (grad_out / np.cosh(x), "1 / cosh(x)^2 (= 1 - tanh(x)^2): the cosh is squared."),
            (grad_out * (1 - np.tanh(th) ** 2), "tanh was applied twice: 1 - tanh(x)^2 uses tanh(x) once."),
        ])


# --------------------------------------------------------------------------------------------------
# Exercise 4: a topological sort of a Value graph
# --------------------------------------------------------------------------------------------------


def _graphs():
    """Three small graphs of Values: a chain, one with a node shared by two paths, a diamond of depth 3."""
    from ..autograd import Value

    a, b = Value(2.0, label="a"), Value(-1.0, label="b")
    chain = ((a * b).tanh() + 1.0).relu()
    x, w = Value(3.0, label="x"), Value(0.5, label="w")
    h = x * w
    shared = h * h + x                                   # h used twice, x used along two paths
    p = Value(1.5, label="p")
    q = p.tanh()
    r, s = q * p, q + p
    diamond = (r * s).exp() + q
    return [("a chain", chain), ("a graph where one node feeds two others", shared),
            ("a diamond of depth 4", diamond)]


def _reachable(root):
    seen, stack, nodes = set(), [root], []
    while stack:
        node = stack.pop()
        if id(node) not in seen:
            seen.add(id(node))
            nodes.append(node)
            stack.extend(node._parents)
    return nodes


@check("topological_sort")
def topological_sort(t: Tester, topological_sort) -> None:
    """``topological_sort(root) -> list``: every node ``root`` depends on, each after its ``_parents``."""
    t.callable(topological_sort, "topological_sort")
    for description, root in _graphs():
        order = t.call(topological_sort, root, copy_args=False, errors=[   # the very nodes: their order is the answer
            (RecursionError, "", "a recursion that never ends: mark a node as visited BEFORE visiting its "
                                 "parents, and visit only nodes not visited yet."),
            (AttributeError, "parents", "a Value keeps its inputs in node._parents (a tuple)."),
        ])
        what = f"topological_sort for {description}"
        if order is None:
            t.fail(f"{what} returned None", "did you forget the return statement? Return the list.")
        if not isinstance(order, list):
            t.fail(f"{what} should return a list, yours returns {type(order).__name__}",
                   "collect the nodes in a list with order.append(node) and return it.")
        everything = _reachable(root)
        ids = [id(n) for n in order]
        if len(ids) != len(set(ids)):
            t.fail(f"{what}: some nodes appear more than once in your list ({len(ids)} entries for "
                   f"{len(set(ids))} nodes)", "a node reached along two paths is listed twice: keep a set of "
                                              "visited nodes (by id) and skip a node already visited.")
        missing = [n for n in everything if id(n) not in set(ids)]
        if missing:
            leaves = all(not n._parents for n in missing)
            if any(n is root for n in missing):
                hint = ("the root itself belongs in the list, last: visit(root) appends it after its parents "
                        "like every other node (backward() walks the list from the end, starting at the root).")
            elif leaves:
                hint = ("the inputs (leaves, nodes without _parents) belong in the list too: append every node "
                        "you visit, not only those with parents.")
            else:
                hint = "visit every parent of every node (for parent in node._parents: visit(parent))."
            t.fail(f"{what}: {len(missing)} of the {len(everything)} nodes are missing from your list", hint)
        extra = len(set(ids) - {id(n) for n in everything})
        if extra:
            t.fail(f"{what}: your list holds {extra} object(s) that are not nodes of this graph",
                   "list the Value objects themselves, starting from root.")
        position = {i: k for k, i in enumerate(ids)}
        if order[0] is root and len(order) > 1:
            t.fail(f"{what}: your list starts with the root", "each node must come AFTER its inputs, so the "
                   "root comes last: append a node after visiting its parents (post-order), not before. "
                   "backward() walks the list in reverse itself.")
        for node in order:
            for parent in node._parents:
                if position[id(parent)] > position[id(node)]:
                    t.fail(f"{what}: a node comes before one of its inputs",
                           "append a node only after ALL of its parents have been visited and appended "
                           "(depth-first: first the parents, then the node).")
        t.ok()


# --------------------------------------------------------------------------------------------------
# Exercise 5: a new operation for Tensor
# --------------------------------------------------------------------------------------------------


@check("exp_op")
def exp_op(t: Tester, exp_op) -> None:
    """``exp_op(x) -> Tensor``: ``exp(x)`` recorded in the graph, built with ``Tensor.from_op``."""
    import torch

    from ..autograd import Tensor
    from ..errors import CourseError

    t.callable(exp_op, "exp_op")
    rng = np.random.default_rng(134)
    for description, shape in [("a (2, 3) tensor", (2, 3)), ("a vector of 4", (4,))]:
        x_np, w_np = rng.normal(size=shape), rng.normal(size=shape)
        x = Tensor(x_np.copy(), requires_grad=True)
        out = t.call(exp_op, x, copy_args=False)   # the very tensor: the result must point back to it
        what = f"exp_op for {description}"
        if isinstance(out, np.ndarray):
            t.fail(f"{what} should return a Tensor, yours returns a NumPy array",
                   "wrap the result: return Tensor.from_op(out, (x,), backward, 'exp').")
        t.expect_type(out, what, Tensor, "build the result with Tensor.from_op(out, (x,), backward, 'exp').")
        t.close(out.data, np.exp(x_np), f"the values of {what}", mistakes=[
            (x_np, "the forward pass must compute np.exp(x.data)."),
        ])
        if not out.requires_grad or not out._parents:
            t.fail(f"{what} is not part of the graph: its result does not remember x",
                   "Tensor(np.exp(x.data)) is a constant; use Tensor.from_op(out, (x,), backward, 'exp') so "
                   "the engine records the node and its backward function.")
        try:
            (out * Tensor(w_np)).sum().backward()
        except CourseError as error:
            t.fail(f"the engine could not run your backward function: {str(error).splitlines()[0]}",
                   "the backward function takes g (d loss / d out) and returns a TUPLE with one gradient per "
                   "input: lambda g: (g * out,).")
        except Exception as error:
            t.fail(f"your backward function raised {type(error).__name__}: {error}",
                   "it receives g, a NumPy array of the output's shape; use NumPy on arrays (x.data, not x).")
        xt = torch.tensor(x_np, requires_grad=True)
        (torch.exp(xt) * torch.from_numpy(w_np)).sum().backward()
        if x.grad is None:
            t.fail(f"after backward() x.grad is still None for {what}",
                   "return the gradient for x in the tuple: (g * out,), not (None,).")
        t.close(x.grad, xt.grad.numpy(), f"d loss / d x through {what}", mistakes=[
            (np.exp(x_np), "the chain rule multiplies the local derivative exp(x) by g, the upstream gradient."),
            (w_np * x_np, "the derivative of exp(x) is exp(x) itself, not x."),
            (w_np, "that passes g through unchanged; multiply it by exp(x), the local derivative."),
            (w_np * x_np * np.exp(x_np), "d exp(x)/dx = exp(x): no extra factor x (that is the power rule)."),
        ])
