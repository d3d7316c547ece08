"""``Dropout``: inverted dropout (torch keeps it in ``torch/nn/modules/dropout.py``)."""

import numbers

import numpy as np

from .. import validation
from ..errors import ConfigError
from ..utils import as_rng
from .module import Module, check_float_array
from .registry import saveable, twin_of

__all__ = ["Dropout"]


def _to_torch(layer, where):
    import torch

    return torch.nn.Dropout(layer.p)


# from torch: rng seeds the NumPy masks (they cannot match torch's anyway)
@saveable
@twin_of("torch.nn.Dropout", from_torch=lambda layer, where, rng: Dropout(layer.p, rng=rng), to_torch=_to_torch)
class Dropout(Module):
    """Inverted dropout: in training mode each value is zeroed with probability ``p`` and the survivors
    are scaled by ``1 / (1 - p)``, so the expected output equals the input; in eval mode it is the
    identity (nothing to rescale at test time)."""

    def __init__(self, p=0.5, *, seed=None, rng=None):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p < 1.0:
            raise ConfigError(f"Dropout: p is the probability of dropping a value and must be in [0, 1), got {p!r}")
        self.p = float(p)
        self.rng = as_rng(seed, rng)
        self._mask = None  # (N, ...) zeros and 1/(1-p), or the string "identity"

    def get_config(self):
        return {"p": self.p}

    def forward(self, x):
        x = validation.finite(check_float_array(x, self._label()), self._label())
        if not self.training or self.p == 0.0:
            self._mask = "identity"
            self._shape, self._dtype = x.shape, x.dtype
            return x
        draw_dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.float64
        keep = self.rng.random(x.shape, dtype=draw_dtype) >= self.p   # True with probability 1 - p
        mask = keep.astype(x.dtype)
        mask *= x.dtype.type(1.0 / (1.0 - self.p))                # stay in x's dtype
        self._mask = mask
        self._shape, self._dtype = x.shape, x.dtype
        return x * mask

    def backward(self, grad_output):
        self._require_forward(self._mask)
        self._check_grad_output(grad_output, self._shape, self._dtype)
        if isinstance(self._mask, str):
            return grad_output
        return grad_output * self._mask

    def _label(self):
        return f"Dropout(p={self.p})"

    def extra_repr(self):
        return f"p={self.p}"
