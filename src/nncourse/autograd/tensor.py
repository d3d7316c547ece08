"""``Tensor``: the scalar engine of ``value.py`` over NumPy arrays, with PyTorch's rules.

A ``Tensor`` holds an array ``data`` of floats. An operation on tensors computes its result with
NumPy and, when an input ``requires_grad``, records a node of the graph: the inputs (``_parents``)
and a *backward function* that turns d loss / d output into d loss / d input for each input. Every
operation is written the same way, through ``Tensor.from_op``::

    def exp(x):
        out = np.exp(x.data)
        return Tensor.from_op(out, (x,), lambda g: (g * out,), op="exp")

``loss.backward()`` walks the graph once in reverse topological order. Gradients of the leaves that
``requires_grad`` are **added** to their ``.grad`` (zero them between steps with ``zero_grad()``),
inner nodes keep none. After the walk the graph is freed, as in torch: a second ``backward()``
through it raises ``CourseError`` unless the first one was asked to ``retain_graph=True``.

**Broadcasting.** ``a + b`` with ``a`` (3, 4) and ``b`` (4,) uses ``b`` once per row, so
d loss / d b is the *sum* over the rows of d loss / d (a + b). ``unbroadcast`` does this for every
elementwise operation: it sums the gradient over the axes that broadcasting added or stretched.

**In-place changes.** Every tensor has a version counter, as in torch: assigning ``t.data`` (which
``p.data -= lr * p.grad`` and ``SGD.step()`` do) increments it. An operation records the versions of
the tensors its backward function reads; if one changed before ``backward()``, the gradient would mix
old and new numbers, so ``backward()`` raises and says to call it before ``step()``.

**Values with no finite result are refused**, as ``log`` refuses x <= 0 (torch returns -inf or NaN
there): a division by zero, 0 to a negative power, a negative number to a fractional power. Where the
value is finite but the slope is not (``x ** 0.5`` at 0), the gradient is torch's (inf); the gradient
of ``x ** 0`` is 0 everywhere, also at 0, as in torch.
"""

import contextlib
import numbers

import numpy as np

from .. import validation
from ..errors import CourseError, DTypeError, ShapeError

__all__ = ["Tensor", "no_grad", "is_grad_enabled", "unbroadcast", "tensor"]

_grad_enabled = True


@contextlib.contextmanager
def no_grad():
    """Inside ``with no_grad():`` operations record no graph (evaluation, optimizer steps)."""
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, False
    try:
        yield
    finally:
        _grad_enabled = previous


def is_grad_enabled():
    return _grad_enabled


def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape``: the backward pass of NumPy broadcasting.

    Broadcasting prepends axes of size 1 and then stretches size-1 axes; an input used many times
    along an axis collects the sum of the gradients of all its uses.
    """
    grad = validation.as_array(grad, "grad", "unbroadcast")
    if grad.dtype.kind != "f":
        raise DTypeError(f"unbroadcast: grad must hold floating-point numbers (a gradient), got dtype "
                         f"{grad.dtype}; convert with grad.astype(np.float64)")
    if isinstance(shape, (str, bytes)) or not isinstance(shape, (tuple, list)) \
            or not all(validation._is_whole_number(n) and n >= 0 for n in shape):
        raise ShapeError(f"unbroadcast: shape must be a tuple of whole numbers >= 0, such as (3,) or x.shape, "
                         f"got {shape!r:.60}")
    shape = tuple(int(n) for n in shape)
    out = _unbroadcast(grad, shape)
    if out.shape != shape:
        raise ShapeError(f"unbroadcast: a grad of shape {grad.shape} cannot be summed down to shape {shape}: "
                         f"aligned from the right, each size of shape must equal grad's or be 1; pass the "
                         f"shape of the input that was broadcast to grad's shape")
    return out


def _unbroadcast(grad, shape):
    """``unbroadcast`` without the checks: the operations' backward functions call it on their own arrays."""
    while grad.ndim > len(shape):                         # axes that broadcasting prepended
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):                   # axes of size 1 that it stretched
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


class Tensor:
    """An array of floats that records the operations applied to it, for ``backward()``.

    ``Tensor(data, requires_grad=False)``: ``data`` is anything ``np.asarray`` turns into a float
    array (float64 or float32; integers are refused: gradients need floats).
    """

    __array_priority__ = 100     # numpy_array + tensor calls Tensor.__radd__, not NumPy's loop

    def __init__(self, data, requires_grad=False, *, _parents=(), _backward=None, _op=""):
        if isinstance(data, Tensor):
            data = data.data
        if not isinstance(data, np.ndarray):
            data = validation.as_array(data, "data", "Tensor") if isinstance(data, (list, tuple)) else np.asarray(data)
        if data.dtype.kind != "f":
            raise DTypeError(f"Tensor: data must hold floating-point numbers, got dtype {data.dtype}: convert with "
                             f"np.asarray(data, dtype=np.float64) (integer class labels and indices stay "
                             f"NumPy arrays)")
        self._data = data
        self._versions = [0]           # +1 each time data is assigned (or changed in place with -=); shared by views
        self.requires_grad = requires_grad if requires_grad is True or requires_grad is False else \
            validation.boolean(requires_grad, "requires_grad", "Tensor")
        self.grad = None
        self._parents = _parents
        self._backward = _backward     # g -> tuple of gradients, one per parent (None once freed)
        self._op = _op
        self._saved = ()               # (parent, its version) for each parent the backward function reads
        self._saves_output = False     # whether it also reads this tensor's own numbers (then at _own_version)
        self._own_version = 0

    @property
    def data(self):
        """The array of numbers. Assigning it (``p.data -= lr * p.grad`` too) counts as an in-place change."""
        return self._data

    @data.setter
    def data(self, value):
        self._data = value
        self._versions[0] += 1

    @property
    def _version(self):
        """How many times ``data`` was assigned; a view (``w.T``, ``x[1:]``) shares the count of its base."""
        return self._versions[0]

    @classmethod
    def from_op(cls, data, parents, backward, op="", *, saved=None):
        """The result of an operation on ``parents``: ``backward(g)`` returns one gradient per parent.

        No graph is recorded when no parent requires a gradient, or inside ``no_grad()``. ``saved``
        lists the parents whose numbers ``backward`` reads, and ``"out"`` for the result's own (leave
        it out: every parent and the result); ``backward()`` refuses to run if one of them was changed
        in place since.
        """
        if op.__class__ is not str:
            raise DTypeError(f"Tensor.from_op: op must be a str, the operation's name shown in the graph (such as "
                             f"'exp'), got {type(op).__name__} {op!r:.40}")
        parents = tuple(parents)
        if not (_grad_enabled and any([p.requires_grad for p in parents])):
            return cls(data)
        out = cls(data, requires_grad=True, _parents=parents, _backward=backward, _op=op)
        if out._data.base is not None:     # a view (w.T, x[1:], a reshape): changing the base changes it
            base = _base_array(out._data)
            for p in parents:
                if _base_array(p._data) is base:
                    out._versions = p._versions
                    break
        # (tensor, its version now) for each tensor backward reads; "out" stands for the result itself.
        # Plain loops, not generators: this runs once per operation on the training path.
        if saved is None:
            out._saved = tuple([(p, p._versions[0]) for p in parents])
            out._saves_output = True
        else:
            out._saved = tuple([(t, t._versions[0]) for t in saved if isinstance(t, Tensor)])
            out._saves_output = "out" in [t for t in saved if t.__class__ is str]
        out._own_version = out._versions[0]
        return out

    # ---------------------------------------------------------------- basics
    shape = property(lambda self: self.data.shape)
    ndim = property(lambda self: self.data.ndim)
    dtype = property(lambda self: self.data.dtype)
    size = property(lambda self: self.data.size)
    is_leaf = property(lambda self: not self._parents)

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        grad = f", grad_fn={self._op}" if self._parents else (", requires_grad=True" if self.requires_grad else "")
        return f"Tensor({np.array2string(self.data, precision=4, separator=', ')}{grad})"

    def numpy(self):
        return self.data

    def item(self):
        if self.data.size != 1:
            raise ShapeError(f"item() needs a tensor with one element, this one has shape {self.shape}; "
                             f"reduce it first, e.g. with .sum() or .mean()")
        return float(self.data)

    def detach(self):
        """The same numbers, cut from the graph (``requires_grad=False``)."""
        return Tensor(self.data)

    def zero_grad(self):
        self.grad = None

    def requires_grad_(self, flag=True):
        self.requires_grad = validation.boolean(flag, "requires_grad", "Tensor.requires_grad_")
        return self

    # ---------------------------------------------------------------- backward
    def backward(self, gradient=None, *, retain_graph=False):
        """Add d self / d leaf to ``leaf.grad`` for every leaf with ``requires_grad`` that self depends on.

        ``gradient`` (d loss / d self) may be left out only for a tensor with one element.
        """
        if not self.requires_grad:
            raise CourseError("backward(): this tensor does not require grad and has no graph: none of the "
                              "tensors it was computed from has requires_grad=True (or it was computed "
                              "inside no_grad()); create the parameters with Tensor(..., requires_grad=True)")
        if gradient is None:
            if self.data.size != 1:
                raise CourseError(f"backward(): the gradient can be created implicitly only for a tensor "
                                  f"with one element, this one has shape {self.shape}; reduce it to a "
                                  f"scalar loss first (.sum() or .mean()), or pass backward(gradient) "
                                  f"of that shape")
            gradient = np.ones_like(self.data)
        else:
            gradient = np.asarray(gradient.data if isinstance(gradient, Tensor) else gradient,
                                  dtype=self.dtype)
            if gradient.shape != self.shape:
                raise ShapeError(f"backward(gradient): gradient has shape {gradient.shape} but the tensor "
                                 f"has shape {self.shape}; they must match exactly")
        retain_graph = validation.boolean(retain_graph, "retain_graph", "backward")
        order = _topological_order(self)
        for node in order:                 # all checked before any gradient is written
            saved = (*node._saved, (node, node._own_version)) if node._saves_output else node._saved
            for t, version in saved:
                if t._version != version:
                    raise CourseError(
                        f"backward(): a tensor of shape {t.shape} that the '{node._op}' operation uses to compute "
                        f"its gradient was changed in place after the forward pass (version {version} then, "
                        f"{t._version} now), for example by optimizer.step() or p.data -= ...; the gradient would "
                        f"mix old and new numbers. Call backward() before step() (zero_grad, forward, backward, "
                        f"step), or run the forward pass again after the change")
        grads = {id(self): gradient}       # d self / d node for the nodes reached so far
        for node in reversed(order):
            g = grads.pop(id(node), None)
            if g is None:
                continue
            if not node._parents:          # a leaf: accumulate, as torch does
                node.grad = g.copy() if node.grad is None else node.grad + g
                continue
            if node._backward is None:
                raise CourseError(
                    f"backward(): trying to go backward through the graph a second time (the "
                    f"'{node._op}' node was freed by the first backward()); run the forward pass "
                    f"again (and zero_grad() before it), or call backward(retain_graph=True) the first time")
            for parent, pg in zip(node._parents, _call_backward(node, g)):
                if pg is None or not parent.requires_grad:
                    continue
                grads[id(parent)] = pg if id(parent) not in grads else grads[id(parent)] + pg
            if not retain_graph:
                node._backward = None      # free what the node saved for its backward pass

    # ---------------------------------------------------------------- elementwise arithmetic
    def __add__(self, other):
        a, b = self, _as_tensor(other, self)
        out = _broadcast(np.add, a, b, "+")
        return Tensor.from_op(out, (a, b), lambda g: (_unbroadcast(g, a.shape), _unbroadcast(g, b.shape)), "add",
                              saved=())

    def __sub__(self, other):
        a, b = self, _as_tensor(other, self)
        out = _broadcast(np.subtract, a, b, "-")
        return Tensor.from_op(out, (a, b), lambda g: (_unbroadcast(g, a.shape), _unbroadcast(-g, b.shape)), "sub",
                              saved=())

    def __mul__(self, other):
        a, b = self, _as_tensor(other, self)
        out = _broadcast(np.multiply, a, b, "*")
        return Tensor.from_op(out, (a, b),
                              lambda g: (_unbroadcast(g * b.data, a.shape), _unbroadcast(g * a.data, b.shape)),
                              "mul", saved=(a, b))

    def __truediv__(self, other):
        a, b = self, _as_tensor(other, self)
        if not b.data.all():
            raise CourseError(f"/: the divisor holds {int(b.size - np.count_nonzero(b.data))} zero(s) of its "
                              f"{b.size} entries, a division by zero (no finite value or gradient, as log refuses "
                              f"x <= 0); keep the divisor away from 0, e.g. a / (b + 1e-12), or mask those entries")
        out = _broadcast(np.divide, a, b, "/")
        return Tensor.from_op(out, (a, b),
                              lambda g: (_unbroadcast(g / b.data, a.shape),
                                         _unbroadcast(-g * out / b.data, b.shape)), "div")

    def __neg__(self):
        return Tensor.from_op(-self.data, (self,), lambda g: (-g,), "neg", saved=())

    def __pow__(self, exponent):
        if isinstance(exponent, bool) or not isinstance(exponent, numbers.Real):
            raise DTypeError(f"Tensor ** exponent: the exponent must be a plain number, got "
                             f"{type(exponent).__name__}; for x ** y with y a Tensor write (y * x.log()).exp()")
        if not np.isfinite(exponent):
            raise DTypeError(f"Tensor ** exponent: the exponent must be a finite number, got {exponent!r}")
        x = self.data
        if exponent < 0 and not x.all():
            raise CourseError(f"Tensor ** {exponent:g}: {int(x.size - np.count_nonzero(x))} entries are 0, and 0 to "
                              f"a negative power is a division by zero (no finite value, as log refuses x <= 0); "
                              f"keep the base away from 0, e.g. (x + 1e-12) ** {exponent:g}")
        if exponent != int(exponent) and (x < 0).any():
            raise CourseError(f"Tensor ** {exponent:g}: {int((x < 0).sum())} entries are negative, and a negative "
                              f"number to a fractional power has no real value; use an integer exponent, or apply "
                              f"it to abs(x) or to a positive quantity")

        def backward(g):                   # n x^(n-1); for n = 0 the slope is 0 everywhere, also at x = 0
            if exponent == 0:
                return (np.zeros_like(g),)
            with np.errstate(divide="ignore"):     # x ** 0.5 at 0: an infinite slope, as torch gives
                return (g * exponent * x ** (exponent - 1),)
        return Tensor.from_op(x ** exponent, (self,), backward, f"pow{exponent:g}", saved=(self,))

    def __radd__(self, other):
        return _as_tensor(other, self) + self

    def __rsub__(self, other):
        return _as_tensor(other, self) - self

    def __rmul__(self, other):
        return _as_tensor(other, self) * self

    def __rtruediv__(self, other):
        return _as_tensor(other, self) / self

    # ---------------------------------------------------------------- elementwise functions
    def exp(self):
        out = np.exp(self.data)
        return Tensor.from_op(out, (self,), lambda g: (g * out,), "exp", saved=("out",))

    def log(self):
        x = self.data
        if (x <= 0).any():
            raise CourseError(f"log(): {int((x <= 0).sum())} of the {x.size} entries are <= 0, where the "
                              f"logarithm is not defined; for a loss use log_softmax, or add a small "
                              f"constant (x + 1e-12).log()")
        return Tensor.from_op(np.log(x), (self,), lambda g: (g / x,), "log", saved=(self,))

    def tanh(self):
        out = np.tanh(self.data)
        return Tensor.from_op(out, (self,), lambda g: (g * (1 - out ** 2),), "tanh", saved=("out",))

    def sigmoid(self):
        x = self.data
        e = np.exp(-np.abs(x))                                 # never overflows
        out = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
        return Tensor.from_op(out, (self,), lambda g: (g * out * (1 - out),), "sigmoid", saved=("out",))

    def relu(self):
        x = self.data
        return Tensor.from_op(np.maximum(x, 0), (self,), lambda g: (g * (x > 0),), "relu", saved=(self,))

    # ---------------------------------------------------------------- matrix product
    def __matmul__(self, other):
        a, b = self, _as_tensor(other, self)
        if a.ndim < 2 or b.ndim < 2:
            raise ShapeError(f"@: both operands need at least 2 dimensions, got shapes {a.shape} and "
                             f"{b.shape}; make a vector a row with x.reshape(1, -1) or a column with "
                             f"x.reshape(-1, 1)")
        if a.shape[-1] != b.shape[-2]:
            raise ShapeError(f"@: shapes {a.shape} and {b.shape} do not fit: the last axis of the left "
                             f"operand ({a.shape[-1]}) must equal the second-to-last of the right one "
                             f"({b.shape[-2]}); transpose one of them (.T) if it is the wrong way round")
        out = _broadcast(np.matmul, a, b, "@")

        def backward(g):                   # C = A B: dA = dC B^T, dB = A^T dC (summed over batch axes)
            # Skip the product nobody needs (d loss / d data for the first layer), as torch does.
            da = _unbroadcast(g @ np.swapaxes(b.data, -1, -2), a.shape) if a.requires_grad else None
            db = _unbroadcast(np.swapaxes(a.data, -1, -2) @ g, b.shape) if b.requires_grad else None
            return da, db
        return Tensor.from_op(out, (a, b), backward, "matmul", saved=(a, b))

    # ---------------------------------------------------------------- reductions
    def sum(self, axis=None, keepdims=False):
        shape = self.shape
        axis = _axes(axis, self.ndim, shape, "sum")
        keepdims = keepdims if keepdims is True or keepdims is False else validation.boolean(keepdims, "keepdims",
                                                                                             "sum")
        out = self.data.sum(axis=axis, keepdims=keepdims)
        return Tensor.from_op(out, (self,), lambda g: (_expand(g, shape, axis, keepdims),), "sum", saved=())

    def mean(self, axis=None, keepdims=False):
        shape = self.shape
        axis = _axes(axis, self.ndim, shape, "mean")
        keepdims = keepdims if keepdims is True or keepdims is False else validation.boolean(keepdims, "keepdims",
                                                                                             "mean")
        out = self.data.mean(axis=axis, keepdims=keepdims)
        count = self.data.size / max(np.size(out), 1)     # how many entries each mean averages
        return Tensor.from_op(out, (self,), lambda g: (_expand(g, shape, axis, keepdims) / count,), "mean",
                              saved=())

    # ---------------------------------------------------------------- shapes
    def reshape(self, *shape):
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        old = self.shape
        try:
            out = self.data.reshape(shape)
        except ValueError:
            raise ShapeError(f"reshape: cannot reshape a tensor of shape {old} ({self.size} entries) into "
                             f"{tuple(shape)}; the number of entries must stay the same") from None
        return Tensor.from_op(out, (self,), lambda g: (g.reshape(old),), "reshape", saved=())

    def permute(self, *dims):
        dims = dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
        dims = tuple(_axis(d, self.ndim, self.shape, "permute", "dims") for d in dims)
        if sorted(dims) != list(range(self.ndim)):
            raise ShapeError(f"permute: {tuple(dims)} is not an ordering of the {self.ndim} axes of shape "
                             f"{self.shape}")
        inverse = np.argsort(np.arange(self.ndim)[list(dims)])
        return Tensor.from_op(self.data.transpose(dims), (self,), lambda g: (g.transpose(inverse),), "permute",
                              saved=())

    def transpose(self, dim0, dim1):
        """Swap two axes (torch's ``transpose``; NumPy's full reordering is ``permute``)."""
        dim0, dim1 = (_axis(d, self.ndim, self.shape, "transpose", n) for d, n in ((dim0, "dim0"), (dim1, "dim1")))
        return Tensor.from_op(np.swapaxes(self.data, dim0, dim1), (self,),
                              lambda g: (np.swapaxes(g, dim0, dim1),), "transpose", saved=())

    @property
    def T(self):
        if self.ndim != 2:
            raise ShapeError(f".T is for matrices, this tensor has shape {self.shape}; use "
                             f".transpose(dim0, dim1) or .permute(...)")
        return self.transpose(0, 1)

    # ---------------------------------------------------------------- indexing
    def __getitem__(self, index):
        """``x[rows]``, ``x[:, 1:3]``, ``weight[token_ids]`` (an embedding lookup)."""
        if isinstance(index, Tensor):
            raise DTypeError("index a Tensor with NumPy integer or boolean arrays, not with a Tensor: "
                             "use index.data, or keep indices as NumPy arrays")
        shape = self.shape
        try:
            out = self.data[index]
        except IndexError as error:
            raise ShapeError(f"indexing a tensor of shape {shape}: {error}; each index must lie in "
                             f"-size..size-1 of its axis (and there are {len(shape)} axes)") from None

        def backward(g):                   # every use of an entry adds to its gradient (np.add.at)
            full = np.zeros(shape, dtype=g.dtype)
            np.add.at(full, index, g)
            return (full,)
        return Tensor.from_op(out, (self,), backward, "index", saved=())

    def gather(self, dim, index):
        """``out[i][j] = self[i][index[i][j]]`` along ``dim`` (torch's ``gather``)."""
        index = validation.as_array(index, "index", "gather")
        if index.dtype.kind not in "iu":
            raise DTypeError(f"gather: index must hold integers, got dtype {index.dtype}; convert with "
                             f"index.astype(np.int64)")
        if index.ndim != self.ndim:
            raise ShapeError(f"gather: index must have as many dimensions as the tensor ({self.ndim}), got "
                             f"shape {index.shape}")
        dim = _axis(dim, self.ndim, self.shape, "gather", "dim")
        size = self.shape[dim]
        if index.size and (index.min() < 0 or index.max() >= size):
            raise CourseError(f"gather: index out of range along dim={dim}: that axis has {size} entries "
                              f"(0..{size - 1}), the index holds values from {index.min()} to {index.max()}; "
                              f"check dim and the index")
        if any(n != m for axis, (n, m) in enumerate(zip(index.shape, self.shape)) if axis != dim):
            raise ShapeError(f"gather: index of shape {index.shape} does not fit the tensor of shape {self.shape}: "
                             f"along every axis but dim={dim} it must have the tensor's size")
        shape = self.shape
        out = np.take_along_axis(self.data, index, axis=dim)

        def backward(g):
            full = np.zeros(shape, dtype=g.dtype)
            where = list(np.indices(index.shape, sparse=True))
            where[dim] = index
            np.add.at(full, tuple(where), g)
            return (full,)
        return Tensor.from_op(out, (self,), backward, "gather", saved=())

    # ---------------------------------------------------------------- functions with their own module
    def softmax(self, dim=-1):
        from .functional import softmax
        return softmax(self, dim)

    def log_softmax(self, dim=-1):
        from .functional import log_softmax
        return log_softmax(self, dim)

    def gelu(self, approximate="none"):
        from .functional import gelu
        return gelu(self, approximate)

    def masked_fill(self, mask, value):
        from .functional import masked_fill
        return masked_fill(self, mask, value)


def tensor(data, requires_grad=False):
    """``Tensor(np.asarray(data, dtype=float64))``: lists of Python numbers become float64 tensors."""
    data = validation.as_array(data, "data", "tensor") if isinstance(data, (list, tuple)) else np.asarray(data)
    if data.dtype.kind in "iub":
        data = data.astype(np.float64)
    return Tensor(data, requires_grad=requires_grad)


# -------------------------------------------------------------------- helpers
def _as_tensor(x, like):
    """Wrap a number or an array as a constant tensor; a Python number takes ``like``'s dtype."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, numbers.Number) and not isinstance(x, bool):
        return Tensor(np.asarray(x, dtype=like.dtype))
    x = np.asarray(x)
    return Tensor(x.astype(like.dtype) if x.dtype.kind in "iub" else x)


def _base_array(array):
    """The array that owns the memory ``array`` looks into (itself when it is not a view)."""
    while isinstance(array, np.ndarray) and array.base is not None and isinstance(array.base, np.ndarray):
        array = array.base
    return array


def _axis(axis, ndim, shape, who, name="axis"):
    """``axis`` as an int in 0..ndim-1, after checking it names an axis of a tensor of ``shape``;
    ``name`` is the argument's name in the messages (``dim`` for torch-style operations)."""
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, numbers.Integral):
        raise ShapeError(f"{who}: {name} must be a whole number (an axis), got {axis!r} ({type(axis).__name__}); "
                         f"write {name}=-1 for the last axis")
    if not -ndim <= axis < ndim:
        valid = f"0..{ndim - 1} or -{ndim}..-1" if ndim else "none: it is a scalar"
        raise ShapeError(f"{who}: axis {axis} is out of range for a tensor of shape {shape} ({ndim} axes, "
                         f"valid: {valid}); count the axes of the input and fix {name}")
    return int(axis) % ndim


def _axes(axis, ndim, shape, who):
    """``None``, one axis or a tuple of distinct axes, checked as ``_axis`` does."""
    if axis is None:
        return None
    if isinstance(axis, (tuple, list)):
        axes = tuple(_axis(a, ndim, shape, who) for a in axis)
        if len(set(axes)) != len(axes):
            raise ShapeError(f"{who}: axis {tuple(axis)} names the same axis twice; list each axis once")
        return axes
    return _axis(axis, ndim, shape, who)


def _broadcast(fn, a, b, symbol):
    """``fn(a.data, b.data)``, with a clear error when the shapes cannot be broadcast."""
    try:
        return fn(a.data, b.data)
    except ValueError:
        if symbol == "@":
            raise ShapeError(f"@: the batch axes of {a.shape} and {b.shape} cannot be broadcast together "
                             f"(the last two axes are the matrices)") from None
        raise ShapeError(f"{symbol}: shapes {a.shape} and {b.shape} cannot be broadcast together: aligned "
                         f"from the right, each pair of sizes must be equal or one of them 1; reshape one "
                         f"operand (e.g. x.reshape(-1, 1) for a column)") from None


def _expand(g, shape, axis, keepdims):
    """The backward of a sum over ``axis``: every summed entry gets the gradient of the sum."""
    if axis is not None and not keepdims:
        axes = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
        g = np.expand_dims(g, tuple(a % len(shape) for a in axes))
    return np.broadcast_to(g, shape)


def _call_backward(node, g):
    grads = node._backward(g)
    if not isinstance(grads, tuple) or len(grads) != len(node._parents):
        raise CourseError(f"the backward function of the '{node._op}' operation returned "
                          f"{type(grads).__name__} {'of length ' + str(len(grads)) if isinstance(grads, tuple) else ''}"
                          f"; it must return a tuple with one gradient per input ({len(node._parents)}), "
                          f"e.g. lambda g: (g * out,) for one input")
    for parent, pg in zip(node._parents, grads):
        if pg is not None and np.shape(pg) != parent.shape:
            raise ShapeError(f"the backward function of the '{node._op}' operation returned a gradient of "
                             f"shape {np.shape(pg)} for an input of shape {parent.shape}; each gradient "
                             f"must have its input's shape (sum over broadcast axes with unbroadcast)")
    return tuple(None if pg is None else np.asarray(pg, dtype=parent.dtype)
                 for parent, pg in zip(node._parents, grads))


def _topological_order(root):
    """Every node that ``root`` depends on, after all of its parents (an iterative depth-first search,
    so that a long chain of operations does not hit Python's recursion limit)."""
    order, visited, stack = [], set(), [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
        elif id(node) not in visited:
            visited.add(id(node))
            stack.append((node, True))
            stack.extend((p, False) for p in node._parents if p.requires_grad and id(p) not in visited)
    return order
