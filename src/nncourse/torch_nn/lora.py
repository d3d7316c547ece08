"""``LoRALinear``: the PyTorch twin of ``numpy_nn.LoRALinear`` (chapter 18).

A frozen ``torch.nn.Linear`` (``base_layer``) plus ``(alpha / r) · dropout(x) @ A.T @ B.T``, with the same
parameter names (``lora_A``, ``lora_B``, ``base_layer.weight``) and, for the same ``seed``, the same
starting numbers as the NumPy layer (both draw A with ``numpy_nn.lora.lora_init``). Autograd computes the
backward pass; the base's parameters have ``requires_grad=False``, so it keeps no gradient for them.
"""

import numpy as np
import torch

from ..numpy_nn.lora import check_lora_arguments, lora_init
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
