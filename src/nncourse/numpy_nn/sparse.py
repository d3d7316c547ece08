"""``Embedding``: a lookup table of learned vectors, one row per symbol (torch keeps it in
``torch/nn/modules/sparse.py``).

An embedding is a ``Linear`` layer applied to one-hot vectors, without building them: multiplying
the one-hot row of symbol ``k`` by the weight matrix just picks row ``k``. So the forward pass is an
index, ``weight[x]``, and the backward pass adds each incoming gradient row to the row it came from
(a "scatter-add": a symbol used five times in the batch collects five gradients).
"""

import numbers

import numpy as np

from .. import validation
from ..errors import ConfigError, CourseError, DTypeError
from ..utils import as_rng
from .module import Module
from .parameter import Parameter

__all__ = ["Embedding"]


class Embedding(Module):
    """``Embedding(num_embeddings, embedding_dim)``: integer input of any shape -> ``(..., embedding_dim)``.

    ``weight`` has shape ``(num_embeddings, embedding_dim)`` and starts from N(0, 1), as in torch.
    ``backward(grad_output)`` accumulates into ``weight.grad`` and returns ``None``: the input is a
    tensor of indices, which has no gradient.
    """

    def __init__(self, num_embeddings, embedding_dim, *, seed=None, rng=None, dtype=np.float32):
        super().__init__()
        for name, value in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"Embedding: {name} must be a positive integer, got {value!r}")
        dtype = validation.float_dtype(dtype, "Embedding")
        self.num_embeddings = int(num_embeddings)
        self.embedding_dim = int(embedding_dim)
        self.dtype = dtype
        rng = as_rng(seed, rng)
        self.weight = Parameter(rng.standard_normal((self.num_embeddings, self.embedding_dim)).astype(dtype))
        self._indices = None

    def get_config(self):
        return {"num_embeddings": self.num_embeddings, "embedding_dim": self.embedding_dim, "dtype": self.dtype.name}

    def forward(self, x):
        x = self._check_indices(x)
        self._indices = x.copy()    # a private copy: editing the caller's array must not move the gradient
        return self.weight.data[x]                      # (...,) -> (..., D): one row per index

    def backward(self, grad_output):
        """Scatter-add ``grad_output`` (..., D) into the rows of ``weight.grad``; return ``None``."""
        self._require_forward(self._indices)
        self._check_grad_output(grad_output, self._indices.shape + (self.embedding_dim,), self.dtype)
        if not self.weight.requires_grad:               # frozen: no (V, D) gradient is built
            return None
        grad = np.zeros_like(self.weight.data)          # (V, D)
        np.add.at(grad, self._indices.ravel(), grad_output.reshape(-1, self.embedding_dim))
        self.weight.accumulate_grad(grad)
        return None

    def _check_indices(self, x):
        if not isinstance(x, np.ndarray):
            x = validation.as_array(x, "input", self._label())
        if x.dtype.kind not in "iu":
            hint = (": it looks like one-hot or float data; pass the indices, e.g. x.argmax(-1) or "
                    "x.astype(np.int64)" if x.dtype.kind == "f" else "")
            raise DTypeError(f"{self._label()} expects integer indices (dtype int64), got dtype {x.dtype}{hint}")
        if x.size and x.min() < 0:
            bad = tuple(int(i) for i in np.argwhere(x < 0)[0])
            raise CourseError(
                f"{self._label()}: index {int(x[bad])} (at position {bad}) is out of range: ids must be >= 0 "
                f"(0..{self.num_embeddings - 1}), NumPy-style negative indexing from the end is not allowed. "
                f"Check the encoding: a padding or 'unknown' marker such as -1 or -100 must be replaced "
                f"by a real id before the lookup"
            )
        if x.size and x.max() >= self.num_embeddings:
            bad = x[x >= self.num_embeddings].ravel()[0]
            raise CourseError(
                f"{self._label()}: index {bad} is out of range; indices must be in 0..{self.num_embeddings - 1}. "
                f"Build the layer with num_embeddings at least the vocabulary size ({int(x.max()) + 1} "
                f"for this input), or check the encoding"
            )
        return x

    def _label(self):
        return f"Embedding({self.num_embeddings}, {self.embedding_dim})"

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}"


# --- twin in torch and saving (nncourse.numpy_nn.registry) ------------------------------------------------
from ..errors import ConversionError  # noqa: E402
from .registry import copy_into, numpy_dtype_of, register_twin, saveable, to_numpy, torch_dtype_of  # noqa: E402


def _embedding_from_torch(layer, where, rng):
    if layer.padding_idx is not None or layer.max_norm is not None:
        raise ConversionError(f"from_torch cannot translate {where} = {layer!r}: the NumPy Embedding has no "
                              f"padding_idx or max_norm; build the torch layer without them")
    dtype = numpy_dtype_of(layer, where)
    twin = Embedding(layer.num_embeddings, layer.embedding_dim, dtype=dtype)
    twin.weight.data = to_numpy(layer.weight, dtype)            # (num_embeddings, embedding_dim)
    return twin


def _embedding_to_torch(layer, where):
    import torch

    twin = torch.nn.utils.skip_init(torch.nn.Embedding, layer.num_embeddings, layer.embedding_dim,
                                    dtype=torch_dtype_of(layer))
    copy_into(twin.weight, layer.weight.data)      # (num_embeddings, embedding_dim)
    return twin


register_twin(Embedding, "torch.nn.Embedding", from_torch=_embedding_from_torch, to_torch=_embedding_to_torch)
saveable(Embedding)
