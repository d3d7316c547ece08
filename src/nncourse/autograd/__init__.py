"""Automatic differentiation from scratch (chapter 13): how ``loss.backward()`` works.

- ``value.py``: ``Value``, a scalar engine of about a hundred lines (read it first);
- ``tensor.py``: ``Tensor``, the same idea over NumPy arrays, with broadcasting, ``no_grad`` and
  torch's rules (gradients accumulate in leaves, a graph is freed by its backward pass);
- ``functional.py``: softmax, log_softmax, GELU, masked_fill, cat, embedding, cross_entropy;
- ``nn.py``: a few layers and SGD on top of ``Tensor``, and ``from_numpy`` to copy a ``numpy_nn`` MLP.

Only NumPy is imported: torch is what the tests compare against, never what the engine uses.
"""

from .value import Value, topological_order  # noqa: F401
from .tensor import Tensor, tensor, no_grad, is_grad_enabled, unbroadcast  # noqa: F401
from . import functional, nn  # noqa: F401
from .functional import (softmax, log_softmax, gelu, masked_fill, cat, embedding,  # noqa: F401
                         cross_entropy, linear)
