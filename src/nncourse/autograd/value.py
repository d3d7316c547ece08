"""``Value``: automatic differentiation of scalar expressions, small enough to read in one sitting.

Every arithmetic operation on ``Value`` objects returns a new ``Value`` that remembers its inputs
(``_parents``) and how to send a gradient back to them (``_backward``). The expression is thus
recorded as a graph while it is computed. ``backward()`` then visits the graph from the output to
the inputs in reverse topological order and applies the chain rule at every node:

    d out / d input  +=  d out / d node  *  d node / d input

As in PyTorch, the gradients of the inputs (the leaves) **accumulate** over calls of ``backward``;
reset them with ``zero_grad()``. The gradients of inner nodes are recomputed by every call.

A Value holds one finite number (NumPy numbers are welcome; NaN and infinity are refused). An
operation with no finite result is refused as ``log`` of x <= 0 is: a division by zero, 0 to a
negative power, a negative number to a fractional power. ``backward()`` refuses a graph whose inputs
changed after the forward pass (``w.data -= lr * w.grad`` before ``backward()``): its gradient would
be wrong.
"""

import math
import numbers

import numpy as np

from ..errors import CourseError, DTypeError, NonFiniteError

__all__ = ["Value", "topological_order"]


class Value:
    """A scalar that records how it was computed, so that ``backward()`` can differentiate it."""

    def __init__(self, data, _parents=(), _op="", label=""):
        if isinstance(data, (bool, np.bool_)) or not isinstance(data, numbers.Real):
            raise DTypeError(f"Value: data must be one number (int or float), got {type(data).__name__} "
                             f"{data!r:.40}; write Value(2.5) without quotes, and for arrays use "
                             f"nncourse.autograd.Tensor")
        if not math.isfinite(data):
            raise NonFiniteError(f"Value: data must be one finite number, got {float(data)}"
                                 + (f" (the result of '{_op}', which overflowed)" if _op else "")
                                 + "; NaN and infinity have no useful gradient: find where the value comes "
                                   "from, or scale the inputs down")
        self.data = float(data)
        self.grad = 0.0                  # d (the output backward() was called on) / d self
        self._parents = _parents         # the Values this one was computed from
        self._seen = tuple(p.data for p in _parents)   # their values now, to notice a change before backward
        self._op = _op                   # the operation that made it, for drawing the graph
        self._backward = lambda: None    # sends self.grad on to the parents (chain rule)
        if label.__class__ is not str:
            raise DTypeError(f"Value: label must be a str (the name shown in the graph, such as 'w'), got "
                             f"{type(label).__name__} {label!r:.40}; write label='...', or leave it out")
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
        if isinstance(exponent, (bool, np.bool_)) or not isinstance(exponent, numbers.Real) \
                or not math.isfinite(exponent):
            raise DTypeError("Value ** exponent: the exponent must be a plain int or float (finite), got "
                             f"{exponent!r}; for x ** y with y a Value write (y * x.log()).exp()")
        exponent = float(exponent) if not isinstance(exponent, numbers.Integral) else int(exponent)
        _check_power(self.data, exponent, "Value")
        out = Value(self.data ** exponent, (self,), f"**{exponent:g}")

        def _backward():                 # d(a^n)/da = n a^(n-1), and 0 for n = 0 (torch's value at a = 0)
            if exponent != 0:            # at a = 0 with 0 < n < 1 the slope is infinite (torch: inf)
                slope = exponent * self.data ** (exponent - 1) if self.data != 0 or exponent >= 1 else math.inf
                self.grad += slope * out.grad
        out._backward = _backward
        return out

    def exp(self):
        if self.data > 709.78:           # math.exp overflows a float above log(1.8e308)
            raise NonFiniteError(f"Value.exp: exp({self.data:g}) overflows a float (the largest is exp(709.78)); "
                                 f"scale the input down, or subtract the largest exponent first as softmax does")
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
        other = _as_value(other)
        if other.data == 0:
            raise CourseError(f"Value division: {self.data:g} / 0 is a division by zero (no finite value or "
                              f"gradient); keep the divisor away from 0, e.g. a / (b + 1e-12)")
        return self * other ** -1

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
        """Fill ``.grad`` of every Value this one depends on with d self / d that Value.

        If a Value's ``data`` was changed after it was used (an update ``w.data -= lr * w.grad`` before
        this call), the recorded graph no longer describes the numbers: that raises ``CourseError``.
        """
        order = topological_order(self)
        for node in order:
            if any(p.data != seen for p, seen in zip(node._parents, node._seen)):
                changed = next(p for p, seen in zip(node._parents, node._seen) if p.data != seen)
                raise CourseError(
                    f"backward(): {changed!r} was changed after the forward pass used it (its data was "
                    f"{node._seen[node._parents.index(changed)]:.6g} then), so the recorded graph would give a "
                    f"wrong gradient. Call backward() before updating the weights (the order is zero_grad, "
                    f"forward, backward, step), or recompute the forward pass after the change")
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
    """Every Value that ``root`` depends on, each listed after all of its parents (``root`` last).

    A depth-first search, written with an explicit stack rather than recursion so that a long chain
    (a loss summed over thousands of terms) does not hit Python's recursion limit; it lists the nodes
    in the same order as the recursive version: ``visit(parents...)``, then the node.
    """
    if not isinstance(root, Value):
        raise DTypeError(f"topological_order expects a Value, got {type(root).__name__}")
    order, visited = [], {id(root)}
    stack = [(root, iter(root._parents))]
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if id(parent) not in visited:
                visited.add(id(parent))
                stack.append((parent, iter(parent._parents)))
                break
        else:                            # every parent is listed: the node comes next
            stack.pop()
            order.append(node)
    return order


def _check_power(base, exponent, who):
    """Refuse the powers with no finite value, as ``log`` refuses x <= 0: 0 to a negative power (a division
    by zero) and a negative number to a fractional power (no real result)."""
    if base == 0 and exponent < 0:
        raise CourseError(f"{who} ** {exponent:g}: 0 to a negative power is a division by zero (no finite value "
                          f"or gradient); keep the base away from 0, e.g. (x + 1e-12) ** {exponent:g}")
    if base < 0 and exponent != int(exponent):
        raise CourseError(f"{who} ** {exponent:g}: a negative number ({base:g}) to a fractional power has no real "
                          f"value; use an integer exponent, or apply it to abs(x) or to a positive quantity")


def _as_value(x):
    return x if isinstance(x, Value) else Value(x)
