"""``Value``: automatic differentiation of scalar expressions, small enough to read in one sitting.

Every arithmetic operation on ``Value`` objects returns a new ``Value`` that remembers its inputs
(``_parents``) and how to send a gradient back to them (``_backward``). The expression is thus
recorded as a graph while it is computed. ``backward()`` then visits the graph from the output to
the inputs in reverse topological order and applies the chain rule at every node:

    d out / d input  +=  d out / d node  *  d node / d input

As in PyTorch, the gradients of the inputs (the leaves) **accumulate** over calls of ``backward``;
reset them with ``zero_grad()``. The gradients of inner nodes are recomputed by every call.
"""

import math

from ..errors import CourseError, DTypeError

__all__ = ["Value", "topological_order"]


class Value:
    """A scalar that records how it was computed, so that ``backward()`` can differentiate it."""

    def __init__(self, data, _parents=(), _op="", label=""):
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            raise DTypeError(f"Value holds one number (int or float), got {type(data).__name__}; "
                             f"for arrays use nncourse.autograd.Tensor")
        self.data = float(data)
        self.grad = 0.0                  # d (the output backward() was called on) / d self
        self._parents = _parents         # the Values this one was computed from
        self._op = _op                   # the operation that made it, for drawing the graph
        self._backward = lambda: None    # sends self.grad on to the parents (chain rule)
        self.label = label

    def __repr__(self):
        name = f"{self.label}=" if self.label else ""
        return f"Value({name}{self.data:.4g}, grad={self.grad:.4g})"

    # ---------------------------------------------------------------- operations
    def __add__(self, other):
        other = _as_value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():                 # d(a + b)/da = 1, d(a + b)/db = 1
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = _as_value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():                 # d(a b)/da = b, d(a b)/db = a
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __pow__(self, exponent):
        if isinstance(exponent, bool) or not isinstance(exponent, (int, float)):
            raise DTypeError("Value ** exponent: the exponent must be a plain int or float, got "
                             f"{type(exponent).__name__}; for x ** y with y a Value write (y * x.log()).exp()")
        out = Value(self.data ** exponent, (self,), f"**{exponent:g}")

        def _backward():                 # d(a^n)/da = n a^(n-1)
            self.grad += exponent * self.data ** (exponent - 1) * out.grad
        out._backward = _backward
        return out

    def exp(self):
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward():                 # d(e^a)/da = e^a
            self.grad += out.data * out.grad
        out._backward = _backward
        return out

    def log(self):
        if self.data <= 0:
            raise CourseError(f"Value.log: the logarithm needs a positive number, got {self.data:g}; "
                              f"add a small constant or check the expression that produced it")
        out = Value(math.log(self.data), (self,), "log")

        def _backward():                 # d(log a)/da = 1/a
            self.grad += out.grad / self.data
        out._backward = _backward
        return out

    def tanh(self):
        out = Value(math.tanh(self.data), (self,), "tanh")

        def _backward():                 # d(tanh a)/da = 1 - tanh(a)^2
            self.grad += (1 - out.data ** 2) * out.grad
        out._backward = _backward
        return out

    def relu(self):
        out = Value(max(self.data, 0.0), (self,), "relu")

        def _backward():                 # 1 where a > 0, else 0 (torch's choice at a = 0)
            self.grad += (self.data > 0) * out.grad
        out._backward = _backward
        return out

    # the rest is built from the operations above
    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-_as_value(other))

    def __truediv__(self, other):
        return self * _as_value(other) ** -1

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __rsub__(self, other):
        return _as_value(other) - self

    def __rtruediv__(self, other):
        return _as_value(other) / self

    # ---------------------------------------------------------------- backward
    def backward(self):
        """Fill ``.grad`` of every Value this one depends on with d self / d that Value."""
        order = topological_order(self)
        for node in order:
            if node._parents:            # inner nodes start again from 0; leaves accumulate
                node.grad = 0.0
        self.grad = 1.0                  # d self / d self
        for node in reversed(order):     # outputs before inputs
            node._backward()

    def zero_grad(self):
        """Reset the gradient of this Value and of every Value it was computed from."""
        for node in topological_order(self):
            node.grad = 0.0


def topological_order(root):
    """Every Value that ``root`` depends on, each listed after all of its parents (``root`` last)."""
    order, visited = [], set()

    def visit(node):
        if id(node) not in visited:
            visited.add(id(node))
            for parent in node._parents:
                visit(parent)
            order.append(node)
    visit(root)
    return order


def _as_value(x):
    return x if isinstance(x, Value) else Value(x)
