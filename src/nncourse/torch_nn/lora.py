"""``LoRALinear``: the PyTorch twin of ``numpy_nn.LoRALinear`` (chapter 18).

A frozen ``torch.nn.Linear`` (``base_layer``) plus ``(alpha / r) · dropout(x) @ A.T @ B.T``, with the same
parameter names (``lora_A``, ``lora_B``, ``base_layer.weight``) and, for the same ``seed``, the same
starting numbers as the NumPy layer (both draw A with ``numpy_nn.lora.lora_init``). Autograd computes the
backward pass; the base's parameters have ``requires_grad=False``, so it keeps no gradient for them.
"""

import numpy as np
import torch

from ..numpy_nn import Linear as NumpyLinear
from ..numpy_nn.lora import LoRALinear as NumpyLoRALinear
from ..numpy_nn.lora import check_lora_arguments, lora_init
from ..numpy_nn.registry import copy_into, numpy_dtype_of, register_twin, to_numpy, torch_dtype_of
from ..utils import as_rng

__all__ = ["LoRALinear"]


class LoRALinear(torch.nn.Module):
    """``LoRALinear(base, r, alpha, dropout=0.0, seed=None)``: ``base(x) + (alpha / r) · dropout(x) @ A.T @ B.T``.

    ``base`` is a ``torch.nn.Linear``, frozen in place. Works on inputs of any leading shape (..., in).
    """

    def __init__(self, base, r, alpha, dropout=0.0, seed=None):
        super().__init__()
        r, alpha, dropout = check_lora_arguments(base, r, alpha, dropout, "torch_nn.LoRALinear", torch.nn.Linear,
                                                 "torch.nn.Linear")
        self.r, self.alpha, self.dropout_p = r, alpha, dropout
        self.scaling = alpha / r
        self.in_features, self.out_features = base.in_features, base.out_features
        dtype = base.weight.dtype
        np_dtype = np.float64 if dtype == torch.float64 else np.float32
        A, B = lora_init(self.in_features, self.out_features, r, as_rng(seed), np_dtype)
        base.requires_grad_(False)
        self.base_layer = base
        self.lora_A = torch.nn.Parameter(torch.from_numpy(A).to(dtype=dtype, device=base.weight.device))
        self.lora_B = torch.nn.Parameter(torch.from_numpy(B).to(dtype=dtype, device=base.weight.device))
        self.dropout = torch.nn.Dropout(dropout)

    def forward(self, x):
        update = (self.dropout(x) @ self.lora_A.T) @ self.lora_B.T        # (..., r) then (..., out)
        return self.base_layer(x) + self.scaling * update

    def delta_weight(self):
        """``(alpha / r) · B @ A`` (out, in), detached."""
        return (self.scaling * (self.lora_B @ self.lora_A)).detach()

    @torch.no_grad()
    def merge(self):
        """A plain ``torch.nn.Linear`` with weight ``W + (alpha / r) · B @ A`` and the base's bias (trainable)."""
        base = self.base_layer
        merged = torch.nn.utils.skip_init(torch.nn.Linear, self.in_features, self.out_features,
                                          bias=base.bias is not None, dtype=base.weight.dtype,
                                          device=base.weight.device)
        merged.weight.copy_(base.weight + self.delta_weight())
        if base.bias is not None:
            merged.bias.copy_(base.bias)
        return merged

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, r={self.r}, alpha={self.alpha}"


def _from_torch(layer, where, rng):
    """A ``torch_nn.LoRALinear`` -> a ``numpy_nn.LoRALinear`` with the same base, A and B."""
    dtype = numpy_dtype_of(layer.base_layer, where)
    torch_base = layer.base_layer
    base = NumpyLinear(torch_base.in_features, torch_base.out_features, bias=torch_base.bias is not None,
                       init="zeros", dtype=dtype)
    base.weight.data = to_numpy(torch_base.weight, dtype)
    if torch_base.bias is not None:
        base.bias.data = to_numpy(torch_base.bias, dtype)
    twin = NumpyLoRALinear(base, layer.r, layer.alpha, layer.dropout_p, seed=0)
    twin.lora_A.data = to_numpy(layer.lora_A, dtype)
    twin.lora_B.data = to_numpy(layer.lora_B, dtype)
    return twin


def _to_torch(layer, where):
    """A ``numpy_nn.LoRALinear`` -> a ``torch_nn.LoRALinear`` with the same base, A and B."""
    np_base = layer.base_layer
    base = torch.nn.utils.skip_init(torch.nn.Linear, layer.in_features, layer.out_features,
                                    bias=np_base.bias is not None, dtype=torch_dtype_of(np_base))
    copy_into(base.weight, np_base.weight.data)
    if np_base.bias is not None:
        copy_into(base.bias, np_base.bias.data)
    twin = LoRALinear(base, layer.r, layer.alpha, layer.dropout_p, seed=0)
    with torch.no_grad():
        copy_into(twin.lora_A, layer.lora_A.data)
        copy_into(twin.lora_B, layer.lora_B.data)
    return twin


register_twin(NumpyLoRALinear, LoRALinear, from_torch=_from_torch, to_torch=_to_torch)
