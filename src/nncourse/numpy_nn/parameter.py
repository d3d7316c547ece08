"""``Parameter``: an array the network learns, together with its gradient.

A parameter is just two arrays side by side:

* ``data``, the current value (a weight matrix, a bias vector);
* ``grad``, d loss / d data, filled in by a backward pass (``None`` before the first one).

As in PyTorch, backward passes *add* to ``grad`` instead of overwriting it, so gradients from several
backward passes accumulate until ``zero_grad()`` resets them to ``None``.

``requires_grad`` (``True`` by default, as in torch) freezes a parameter when set to ``False``: backward
passes neither compute nor store its gradient (for a 135M-parameter model the weight gradients alone are
538 MB), and optimizers leave it unchanged. ``named_parameters()`` still lists it, as torch does.
"""

import numpy as np

from ..errors import ConfigError, DTypeError, ShapeError

__all__ = ["Parameter"]


class Parameter:
    """A learnable array ``data`` and its gradient ``grad`` (``None`` until a backward pass).

    >>> p = Parameter(np.zeros((3, 2), dtype=np.float32))
    >>> p.shape, p.dtype, p.numel(), p.grad is None
    ((3, 2), dtype('float32'), 6, True)
    """

    def __init__(self, data, requires_grad=True):
        try:
            data = np.asarray(data)
        except ValueError:     # a ragged list
            raise ShapeError("Parameter expects a rectangular array as data, got a ragged list (rows of different "
                             "lengths)") from None
        if data.dtype.kind != "f":
            raise DTypeError(
                f"Parameter expects a floating-point array, got dtype {data.dtype}: "
                f"convert it with data.astype(np.float32)"
            )
        self.data = data
        self.grad = None
        self.requires_grad = requires_grad

    @property
    def requires_grad(self):
        """``False`` freezes the parameter: no gradient is computed or stored, no optimizer moves it."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        if not isinstance(value, (bool, np.bool_)):
            raise ConfigError(f"Parameter: requires_grad must be True or False, got {value!r} "
                              f"({type(value).__name__}); write requires_grad=False without quotes")
        self._requires_grad = bool(value)
        if not value:
            self.grad = None        # a frozen parameter holds no gradient (torch keeps a stale one; we drop it)

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` in place and return the parameter (torch's ``Tensor.requires_grad_``)."""
        self.requires_grad = requires_grad
        return self

    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self):
        return self.data.ndim

    def numel(self):
        """Number of scalar values in the parameter (``torch.Tensor.numel``)."""
        return self.data.size

    def accumulate_grad(self, grad):
        """Add ``grad`` to ``self.grad`` (the torch rule: gradients accumulate across backward passes).

        On the first call the array ``grad`` itself becomes ``self.grad`` (no copy), so pass a freshly
        computed array that nothing else holds on to. A frozen parameter (``requires_grad=False``)
        ignores the call; layers check ``requires_grad`` first so that they do not compute it at all.
        """
        if not self._requires_grad:
            return
        dtype = getattr(grad, "dtype", None)      # O(1): the type only, never the values (every backward calls this)
        if getattr(dtype, "kind", None) != "f":   # a list, an integer array, a torch tensor
            got = f"dtype {dtype}" if isinstance(grad, (np.ndarray, np.generic)) else type(grad).__name__
            raise DTypeError(
                f"Parameter.accumulate_grad: grad must be a NumPy float array shaped like the parameter "
                f"{self.data.shape}, got {got}; compute the gradient with NumPy in the parameter's dtype "
                f"({self.data.dtype})"
            )
        if grad.shape != self.data.shape:
            # NumPy would broadcast a (1, n) gradient onto an (m, n) one without a word.
            raise ShapeError(
                f"Parameter of shape {self.data.shape} got a gradient of shape {grad.shape}: grad must have "
                f"exactly its parameter's shape (check the backward formula's transposes and sums over the batch)"
            )
        if self.grad is None:
            self.grad = grad
        else:
            self.grad += grad

    def zero_grad(self):
        """Forget the gradient (``grad = None``, torch's default ``set_to_none=True``)."""
        self.grad = None

    def __repr__(self):
        frozen = "" if self._requires_grad else ", requires_grad=False"
        return f"Parameter containing:\n{self.data!r}{frozen}"
