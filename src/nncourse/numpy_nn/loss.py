"""Loss functions: one number that says how wrong the output is, and its gradient.

Usage, as in the training loop::

    loss = loss_fn(output, target)    # a Python float
    grad = loss_fn.backward()         # d loss / d output, same shape and dtype as output
    model.backward(grad)

``reduction="mean"`` (default) averages over every value (``CrossEntropyLoss``/``NLLLoss``: over the
examples); ``reduction="sum"`` adds them up. The formulas and edge cases follow PyTorch.
"""

import numbers

import numpy as np

from .. import validation
from ..errors import ConfigError, CourseError, DTypeError, ShapeError, TargetError
from .module import Module, check_float_array

__all__ = ["MSELoss", "L1Loss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss"]

REDUCTIONS = ("mean", "sum")


class _Loss(Module):
    """Shared plumbing: ``reduction``, input checks, and the cached gradient for ``backward``."""

    def __init__(self, reduction="mean"):
        super().__init__()
        if not isinstance(reduction, str):
            # CrossEntropyLoss(logits, target) makes a *new loss* with reduction=logits.
            raise ConfigError(
                f"{type(self).__name__}: reduction must be 'mean' or 'sum', got a {type(reduction).__name__}. "
                f"It looks like data was passed to the class itself: create the loss first, then call it: "
                f"loss_fn = {type(self).__name__}(); loss = loss_fn(output, target)."
            )
        if reduction not in REDUCTIONS:
            raise ConfigError(
                f"{type(self).__name__}: reduction must be one of {', '.join(map(repr, REDUCTIONS))}, "
                f"got {reduction!r}"
            )
        self.reduction = reduction
        self._grad = None  # d loss / d output, computed by forward (it needs the same intermediates)

    def __call__(self, output, target):
        return self.forward(output, target)

    def backward(self):
        """d loss / d output for the last call (a fresh array each time: safe to modify)."""
        self._require_forward(self._grad)
        return self._grad.copy()

    def _scale(self, count):
        """The factor that turns a sum into the chosen reduction (1/count for the mean)."""
        return 1.0 / count if self.reduction == "mean" else 1.0

    def _check_output(self, output, target=None):
        name = type(self).__name__
        if not isinstance(output, np.ndarray):   # a ragged list: a named error instead of NumPy's
            output = validation.as_array(output, "output", name)
        if target is not None and not isinstance(target, np.ndarray):
            target = validation.as_array(target, "target", name)
        if (output.dtype.kind in "iub" and target is not None
                and np.asarray(target).dtype.kind == "f"):
            raise DTypeError(
                f"{name} got integer values as output and floats as target: the arguments look swapped. "
                f"Call loss_fn(output, target): the model's output (float scores) first, then the "
                f"targets, as in torch."
            )
        output = check_float_array(output, name, argument="output")
        if output.size == 0:
            raise ShapeError(f"{type(self).__name__} got an empty output (shape {output.shape}): "
                             f"pass at least one example")
        # a NaN score gives a NaN loss that says nothing about where it came from: refuse it, as every layer does
        return validation.finite(output, name, argument="output (the model's scores)")

    def _same_shape_target(self, output, target):
        """For element-wise losses: target must have the output's shape; cast it to the output's dtype."""
        output = self._check_output(output, target)
        target = np.asarray(target)
        if target.dtype.kind not in "fiub":
            raise DTypeError(f"{type(self).__name__}: target must be numeric, got dtype {target.dtype}")
        if target.shape != output.shape:
            hint = ""
            if target.size == output.size:
                hint = f": reshape it with target.reshape{output.shape}"
            raise ShapeError(
                f"{type(self).__name__}: output has shape {output.shape} but target has shape "
                f"{target.shape}; they must match{hint}"
            )
        if target.dtype.kind == "f":
            validation.finite(target, type(self).__name__, argument="target")
        return output, target.astype(output.dtype, copy=False)

    def extra_repr(self):
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """Mean squared error: mean((output - target)^2). Gradient: 2 (output - target) / n."""

    def forward(self, output, target):
        output, target = self._same_shape_target(output, target)
        diff = output - target
        scale = self._scale(diff.size)
        self._grad = diff * (2.0 * scale)
        return float(np.sum(diff * diff)) * scale


class L1Loss(_Loss):
    """Mean absolute error: mean(|output - target|). Gradient: sign(output - target) / n (0 at 0)."""

    def forward(self, output, target):
        output, target = self._same_shape_target(output, target)
        diff = output - target
        scale = self._scale(diff.size)
        self._grad = np.sign(diff) * scale
        return float(np.sum(np.abs(diff))) * scale


class BCELoss(_Loss):
    """Binary cross-entropy on probabilities p in [0, 1] (apply ``Sigmoid`` first):
    -[t log p + (1 - t) log(1 - p)], each log clamped at -100 like torch so p = 0 or 1 gives a large
    finite loss instead of infinity. Prefer ``BCEWithLogitsLoss`` on raw scores: it is more stable."""

    _EPSILON = 1e-12  # torch's floor for p (1 - p) in the gradient

    def forward(self, output, target):
        output, target = self._same_shape_target(output, target)
        if output.min() < 0 or output.max() > 1:
            raise CourseError(
                f"BCELoss expects probabilities in [0, 1], got values from {output.min():.4g} to "
                f"{output.max():.4g}: put a Sigmoid before it, or use BCEWithLogitsLoss on the raw scores"
            )
        if target.min() < 0 or target.max() > 1:
            raise TargetError(
                f"BCELoss expects targets in [0, 1], got values from {target.min():.4g} to {target.max():.4g}"
            )
        p, t = output, target
        with np.errstate(divide="ignore"):
            log_p = np.maximum(np.log(p), -100)
            log_1mp = np.maximum(np.log1p(-p), -100)
        scale = self._scale(p.size)
        self._grad = (p - t) / np.maximum((1 - p) * p, p.dtype.type(self._EPSILON))
        self._grad *= scale
        return -float(np.sum(t * log_p + (1 - t) * log_1mp)) * scale


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy in one stable formula, on raw scores z:
    loss = max(z, 0) - z t + log(1 + exp(-|z|)), gradient = sigmoid(z) - t."""

    def forward(self, output, target):
        z, t = self._same_shape_target(output, target)
        e = np.exp(-np.abs(z))                                   # in (0, 1]: no overflow
        scale = self._scale(z.size)
        sigmoid = np.where(z >= 0, 1.0, e) / (1.0 + e)
        self._grad = (sigmoid - t) * scale
        return float(np.sum(np.maximum(z, 0) - z * t + np.log1p(e))) * scale


def _check_class_targets(loss_name, output, target):
    """Class-index targets: integers of shape (N,) with 0 <= t < C for output (N, C)."""
    if output.ndim != 2:
        raise ShapeError(
            f"{loss_name} expects output of shape (batch, classes), got {output.shape}"
            + (": add a batch dimension with output.reshape(1, -1)" if output.ndim == 1 else "")
        )
    n, c = output.shape
    target = np.asarray(target)
    if target.dtype.kind not in "iu":
        raise TargetError(
            f"{loss_name} expects integer class indices as target, got dtype {target.dtype}: "
            f"convert with target.astype(np.int64)"
        )
    if target.shape != (n,):
        if target.shape in ((n, 1), (1, n)):
            hint = ": flatten it with target.ravel()"
        elif target.shape == (n, c):
            hint = ": it looks one-hot encoded; use class indices target.argmax(axis=1)"
        else:
            hint = ""
        raise TargetError(
            f"{loss_name} expects target of shape ({n},) (one class index per example), got {target.shape}{hint}"
        )
    low, high = target.min(), target.max()
    if low < 0 or high >= c:
        bad = int(np.argmax((target < 0) | (target >= c)))
        raise TargetError(
            f"{loss_name}: class indices must be in 0..{c - 1} for an output with {c} classes, "
            f"got {int(target[bad])} at position {bad}"
        )
    return target


class CrossEntropyLoss(_Loss):
    """Softmax + negative log-likelihood on raw scores (logits) of shape (N, C) and integer targets (N,).

    With log p = z - logsumexp(z) computed stably (subtract the row maximum), the loss of one example
    is -log p[target]. With ``label_smoothing`` = eps, the target becomes the mixture
    (1 - eps) one_hot + eps / C, as in torch. Gradient: softmax(z) - smoothed one-hot.

    Rows whose target is ``ignore_index`` (default -100, as in torch: the padding of a batch of
    sequences) count for nothing: no loss, a zero gradient, and the mean is taken over the other rows.
    When *every* target is ignored, torch's mean is NaN (0 / 0); this one raises ``TargetError``
    instead, because a NaN loss would read as a diverging run (the sum is 0, as in torch).
    """

    def __init__(self, reduction="mean", label_smoothing=0.0, ignore_index=-100):
        super().__init__(reduction)
        if (isinstance(label_smoothing, bool) or not isinstance(label_smoothing, numbers.Real)
                or not 0.0 <= label_smoothing <= 1.0):
            raise ConfigError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], got {label_smoothing!r}")
        if isinstance(ignore_index, bool) or not isinstance(ignore_index, numbers.Integral):
            raise ConfigError(f"CrossEntropyLoss: ignore_index must be a whole number (torch's default is -100), "
                              f"got {ignore_index!r}")
        self.label_smoothing = float(label_smoothing)
        self.ignore_index = int(ignore_index)

    def forward(self, output, target):
        z = self._check_output(output, target)
        target = np.asarray(target)
        keep = target != self.ignore_index if target.ndim == 1 and target.dtype.kind in "iu" else None
        if keep is None or keep.all():
            return self._forward_rows(z, target)
        if not keep.any():
            if self.reduction == "mean":
                raise TargetError(
                    f"CrossEntropyLoss: every target of this batch is ignore_index={self.ignore_index} (padding), "
                    f"so the mean loss is 0 / 0 (torch returns NaN). Leave out batches without a single real "
                    f"target, or use reduction='sum'")
            self._grad = np.zeros_like(z)
            return 0.0
        loss = self._forward_rows(z[keep], target[keep])   # the real targets only
        grad = np.zeros_like(z)
        grad[keep] = self._grad
        self._grad = grad
        return loss

    def _forward_rows(self, z, target):
        """The loss of rows ``z`` (N, C) with targets (N,), none of them ignored; sets ``_grad``."""
        target = _check_class_targets("CrossEntropyLoss", z, target)
        n, c = z.shape
        rows = np.arange(n)
        eps = self.label_smoothing

        shifted = z - z.max(axis=1, keepdims=True)        # (N, C), largest entry 0 in each row
        probs = np.exp(shifted)                            # (N, C)
        sum_exp = probs.sum(axis=1)                        # (N,)
        log_sum_exp = np.log(sum_exp)                      # (N,)
        nll = log_sum_exp - shifted[rows, target]          # -log p[target], (N,)
        per_example = nll if eps == 0 else (1 - eps) * nll + eps * (log_sum_exp - shifted.mean(axis=1))

        scale = self._scale(n)
        probs /= sum_exp[:, None]                          # softmax, in place
        probs[rows, target] -= 1 - eps                     # minus the (smoothed) one-hot target
        if eps:
            probs -= eps / c
        probs *= scale
        self._grad = probs
        return float(np.sum(per_example)) * scale

    def extra_repr(self):
        parts = [super().extra_repr()]
        if self.label_smoothing:
            parts.append(f"label_smoothing={self.label_smoothing}")
        if self.ignore_index != -100:
            parts.append(f"ignore_index={self.ignore_index}")
        return ", ".join(p for p in parts if p)


class NLLLoss(_Loss):
    """Negative log-likelihood on log-probabilities (N, C) (e.g. after a log-softmax) and integer
    targets (N,): loss = -mean(logp[i, target_i]). Gradient: -1/N at each target entry, 0 elsewhere."""

    def forward(self, output, target):
        logp = self._check_output(output, target)
        target = _check_class_targets("NLLLoss", logp, target)
        rows = np.arange(logp.shape[0])
        scale = self._scale(logp.shape[0])
        grad = np.zeros_like(logp)
        grad[rows, target] = -scale
        self._grad = grad
        return -float(np.sum(logp[rows, target])) * scale
