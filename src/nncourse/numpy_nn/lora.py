"""``LoRALinear``: a frozen ``Linear`` plus a trainable low-rank update (chapter 18).

LoRA (low-rank adaptation) leaves a pretrained weight ``W`` (O × I) untouched and learns two small
matrices instead, ``A`` (r × I) and ``B`` (O × r), with r much smaller than I and O::

    y = x @ W.T + b  +  (alpha / r) · (x @ A.T) @ B.T

``B`` starts at zero, so at the start the layer computes exactly what the base did; ``A`` starts random
(torch's ``Linear`` initialisation, U(-1/sqrt(I), 1/sqrt(I))), so that B's first gradient is not zero.
Only ``lora_A`` and ``lora_B`` train: ``r · (I + O)`` numbers instead of ``I · O``. The base's weight
and bias have ``requires_grad=False``, so the backward pass neither computes nor stores their gradient.
``merge()`` folds the update into one plain ``Linear`` (``W + (alpha / r) · B @ A``), so the adapted
model costs nothing extra at inference.

Names follow Hugging Face PEFT: ``base_layer``, ``lora_A``, ``lora_B`` (PEFT keeps A and B as ``Linear``
layers with one more level, ``lora_A.default.weight``; here they are parameters). The torch twin is
``nncourse.torch_nn.LoRALinear``, with the same ``state_dict`` names; it declares the pair (and the
converters) in its own file, since ``numpy_nn`` names nothing above it.
"""

import numbers

import numpy as np

from .. import validation
from ..errors import ConfigError, DTypeError, ShapeError
from ..utils import as_rng
from .linear import Linear
from .module import Module
from .parameter import Parameter
from .registry import saveable

__all__ = ["LoRALinear", "lora_init"]


def lora_init(in_features, out_features, r, seed, dtype):
    """The starting ``(A, B)`` of a LoRA adapter: A (r, in) ~ U(-1/sqrt(in), 1/sqrt(in)) drawn from
    ``seed``, B (out, r) zeros. Both back ends call it, so the same seed starts them at the same numbers."""
    in_features = validation.positive_int(in_features, "in_features", "lora_init")
    out_features = validation.positive_int(out_features, "out_features", "lora_init")
    r = validation.positive_int(r, "r", "lora_init")
    dtype = validation.float_dtype(dtype, "lora_init")
    rng = as_rng(seed)
    bound = 1.0 / np.sqrt(in_features)
    A = rng.uniform(-bound, bound, size=(r, in_features)).astype(dtype)
    B = np.zeros((out_features, r), dtype=dtype)
    return A, B


def check_lora_arguments(base, r, alpha, dropout, who, linear_class, linear_name):
    """The shared checks of both back ends' ``LoRALinear``; returns ``(r, alpha, dropout)`` cleaned."""
    if isinstance(base, LoRALinear) or type(base).__name__ == "LoRALinear":
        raise ConfigError(f"{who}: base is already a LoRALinear; wrap the plain layer once (or merge() first)")
    if not isinstance(base, linear_class):
        raise ConfigError(f"{who}: base must be a {linear_name}, got {type(base).__name__}; LoRA wraps one "
                          f"linear layer (for a whole model use nncourse.finetune.apply_lora)")
    r = validation.positive_int(r, "r", who)
    limit = min(base.in_features, base.out_features)
    if r > limit:
        raise ConfigError(f"{who}: r={r} is larger than min(in_features, out_features) = {limit}; a rank above "
                          f"that adds parameters without adding anything a full update could not do: pick r <= "
                          f"{limit} (4 to 16 is usual)")
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not np.isfinite(alpha) or alpha <= 0:
        raise ConfigError(f"{who}: alpha must be a finite number > 0 (the update is scaled by alpha / r; "
                          f"alpha = 2·r is common), got {alpha!r}")
    dropout = validation.probability(dropout, "dropout", who)
    return r, float(alpha), float(dropout)


@saveable
class LoRALinear(Module):
    """``LoRALinear(base, r, alpha, dropout=0.0, seed=None)``: ``base(x) + (alpha / r) · dropout(x) @ A.T @ B.T``.

    ``base`` is a ``numpy_nn.Linear``; it is frozen in place (``requires_grad=False``) and kept as
    ``base_layer``. ``lora_A`` (r, in) starts random from ``seed``, ``lora_B`` (out, r) at zero.
    ``dropout`` (PEFT's ``lora_dropout``) drops inputs of the update path only, in training mode.

    >>> from nncourse.numpy_nn import Linear
    >>> layer = LoRALinear(Linear(6, 4, seed=0), r=2, alpha=4, seed=0)
    >>> [(name, p.requires_grad) for name, p in layer.named_parameters()]
    [('lora_A', True), ('lora_B', True), ('base_layer.weight', False), ('base_layer.bias', False)]
    """

    can_skip_input_grad = True

    def __init__(self, base, r, alpha, dropout=0.0, seed=None):
        super().__init__()
        r, alpha, dropout = check_lora_arguments(base, r, alpha, dropout, "LoRALinear", Linear, "numpy_nn.Linear")
        self.r, self.alpha, self.dropout_p = r, alpha, dropout
        self.scaling = alpha / r
        self.in_features, self.out_features = base.in_features, base.out_features
        self.dtype = base.dtype
        rng = as_rng(seed)
        A, B = lora_init(self.in_features, self.out_features, r, rng, self.dtype)
        self.lora_A = Parameter(A)                      # (r, I)
        self.lora_B = Parameter(B)                      # (O, r): zero, so the layer starts as the base
        base.requires_grad_(False)                      # the pretrained weight stays as it is
        self.base_layer = base
        self._rng = rng                                 # then the dropout masks
        self._cache = None

    def get_config(self):
        return {"base": self.base_layer, "r": self.r, "alpha": self.alpha, "dropout": self.dropout_p}

    def forward(self, x):
        out = self.base_layer(x)                        # (N, O); checks x's shape, dtype and values
        x = self.base_layer._x                          # the base's private copy of x
        mask = None
        if self.training and self.dropout_p > 0:
            keep = 1.0 - self.dropout_p
            mask = (self._rng.random(x.shape) < keep).astype(x.dtype) / x.dtype.type(keep)
            x = x * mask
        u = x @ self.lora_A.data.T                      # (N, I) @ (I, r) -> (N, r): the narrow middle
        out += self.scaling * (u @ self.lora_B.data.T)  # (N, r) @ (r, O) -> (N, O)
        self._cache = (x, u, mask)
        return out

    def backward(self, grad_output, *, need_input_grad=True):
        """g = d loss / d y (N, O). With s = alpha / r and u = x A^T:
        d/dB = s · g^T u (O, r), d/du = s · g B (N, r), d/dA = (d/du)^T x (r, I),
        d/dx = g W + (d/du) A. The frozen base computes only its d/dx part."""
        self._require_forward(self._cache)
        x, u, mask = self._cache
        g = grad_output
        self._check_grad_output(g, (x.shape[0], self.out_features), self.dtype)
        s = self.dtype.type(self.scaling)
        dx = self.base_layer.backward(g, need_input_grad=need_input_grad)   # no weight gradient: frozen
        if self.lora_B.requires_grad:
            self.lora_B.accumulate_grad(s * (g.T @ u))                       # (O, N) @ (N, r)
        du = s * (g @ self.lora_B.data)                                      # (N, O) @ (O, r) -> (N, r)
        if self.lora_A.requires_grad:
            self.lora_A.accumulate_grad(du.T @ x)                            # (r, N) @ (N, I)
        if not need_input_grad:
            return None
        dx_lora = du @ self.lora_A.data                                      # (N, r) @ (r, I)
        if mask is not None:
            dx_lora *= mask
        return dx + dx_lora

    def fast_forward(self, x):
        """The same output without checks, dropout or a cache (generation with a KV cache).
        Only one cheap test guards it (an array of this layer's dtype holding values); NaN flows through."""
        if type(x) is not np.ndarray or x.dtype != self.dtype or not x.size:
            self._refuse_fast_input(x)
        out = x @ self.base_layer.weight.data.T
        if self.base_layer.bias is not None:
            out = out + self.base_layer.bias.data
        return out + self.scaling * ((x @ self.lora_A.data.T) @ self.lora_B.data.T)

    def _refuse_fast_input(self, x):
        who = "LoRALinear.fast_forward"
        x = validation.as_array(x, "x", who)
        if x.dtype != self.dtype:
            raise DTypeError(f"{who}: x must be a {self.dtype} array (this layer's dtype), got dtype {x.dtype}; "
                             f"convert it first: x.astype(np.{self.dtype.name})")
        if not x.size:
            raise ShapeError(f"{who}: x is empty (shape {x.shape}); pass at least one row of {self.in_features} "
                             f"features")
        raise ShapeError(f"{who}: x must be a NumPy array, got {type(x).__name__}; pass np.asarray(x)")

    def delta_weight(self):
        """The update the adapter adds to the base's weight: ``(alpha / r) · B @ A`` (O, I)."""
        return (self.scaling * (self.lora_B.data @ self.lora_A.data)).astype(self.dtype)

    def merge(self):
        """A plain ``Linear`` computing the same function: weight ``W + (alpha / r) · B @ A``, the base's bias.
        The new layer is trainable and independent of this one (its arrays are copies)."""
        base = self.base_layer
        merged = Linear(self.in_features, self.out_features, bias=base.bias is not None, init="zeros",
                        dtype=self.dtype)
        merged.weight.data = base.weight.data + self.delta_weight()
        if base.bias is not None:
            merged.bias.data = base.bias.data.copy()
        return merged

    def _label(self):
        return f"LoRALinear({self.in_features} → {self.out_features}, r={self.r})"

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, r={self.r}, alpha={self.alpha}"
