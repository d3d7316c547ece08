"""Gradient checking: compare a hand-written ``backward`` with finite differences.

For a scalar function f, the central difference

    df/dx_i ~ (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)

is accurate to about eps^2, so in float64 with eps = 1e-6 it agrees with a correct analytic gradient
to roughly 1e-9 (relative). A bug in ``backward`` usually shows up as a relative error near 1.
"""

from dataclasses import dataclass, field
import copy

import numpy as np

from .. import validation
from ..errors import ConfigError, CourseError, DTypeError, ShapeError
from .module import Module

__all__ = ["gradcheck", "numerical_gradient", "relative_error", "GradcheckResult"]

TOLERANCE = 1e-6
_TINY = 1e-10  # gradients smaller than this (in norm) are zero up to rounding noise


def numerical_gradient(f, x, eps=1e-6):
    """d f / d x by central differences, for any function returning a scalar.

    ``f`` is called as ``f(x)``; ``x`` (a float64 array) is perturbed *in place* one entry at a time
    and restored, so ``f`` may also read ``x`` through a closure (e.g. a layer's weight array).
    """
    who = "numerical_gradient"
    if not callable(f):
        raise ConfigError(f"{who}: f must be a function returning a number, got {type(f).__name__}")
    validation.positive_float(eps, "eps", who)
    if not isinstance(x, np.ndarray):
        x = validation.as_array(x, "x", who).astype(np.float64)
    if x.size == 0:
        raise ShapeError(f"{who}: x is empty; there is nothing to differentiate")
    validation.finite(x, who, argument="x")
    if x.dtype != np.float64:
        raise DTypeError(
            f"numerical_gradient needs a float64 array (finite differences of size eps={eps} are lost "
            f"in {x.dtype}), got {x.dtype}: use x.astype(np.float64)"
        )
    grad = np.zeros_like(x)
    flat_x, flat_grad = x.reshape(-1), grad.reshape(-1)   # views: writing to them writes to x / grad
    for i in range(flat_x.size):
        original = flat_x[i]
        flat_x[i] = original + eps
        f_plus = float(f(x))
        flat_x[i] = original - eps
        f_minus = float(f(x))
        flat_x[i] = original
        flat_grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def relative_error(analytic, numeric):
    """``|a - n| / max(|a| + |n|, tiny)`` with ``|.|`` the Euclidean norm over the whole array.

    Taking norms of whole arrays (instead of the worst single entry) keeps entries whose true
    gradient is ~0 from turning rounding noise into a large ratio. ``tiny = 1e-10``: when both
    gradients are smaller than that they are both zero up to rounding, and the error is ~0.
    """
    who = "relative_error"
    a = validation.as_array(analytic, "analytic", who)
    n = validation.as_array(numeric, "numeric", who)
    for name, array in (("analytic", a), ("numeric", n)):
        if array.dtype.kind != "f":
            raise DTypeError(f"{who}: {name} must be a gradient of floating-point numbers, got dtype {array.dtype}; "
                             f"compute both gradients in float64 (pass them as they come, without astype(int))")
    a, n = a.astype(np.float64), n.astype(np.float64)
    if a.shape != n.shape or a.size == 0:
        raise ShapeError(f"{who}: analytic and numeric must be non-empty arrays of the same shape, got {a.shape} "
                         f"and {n.shape}")
    validation.finite(a, who, argument="analytic gradient")
    validation.finite(n, who, argument="numeric gradient")
    return float(np.linalg.norm(a - n) / max(np.linalg.norm(a) + np.linalg.norm(n), _TINY))


@dataclass
class GradcheckResult:
    """Relative error of each gradient: ``errors["input"]`` and one entry per parameter name."""

    errors: dict = field(default_factory=dict)
    tolerance: float = TOLERANCE

    @property
    def max_relative_error(self):
        return max(self.errors.values(), default=0.0)

    @property
    def passed(self):
        return self.max_relative_error < self.tolerance

    def __bool__(self):
        return self.passed

    def __repr__(self):
        details = ", ".join(f"{name}: {err:.2e}" for name, err in self.errors.items())
        verdict = "passed" if self.passed else "FAILED"
        return f"GradcheckResult({verdict}, max_relative_error={self.max_relative_error:.2e}; {details})"


def gradcheck(module_or_loss, inputs, target=None, *, eps=1e-6):
    """Check ``backward`` of a layer, a network or a loss against finite differences, in float64.

    * A module (``Linear``, ``Sequential``, an activation...): the scalar checked is
      ``sum(module(x) * R)`` for a fixed random ``R``, whose gradient w.r.t. the output is ``R``.
      Both d/dx and d/d(every parameter) are checked. The module is copied and cast to float64, so
      the original is untouched; random layers (``Dropout``) replay the same mask at every call.
    * A loss (``target`` given): the scalar is ``loss_fn(inputs, target)``, checked w.r.t. ``inputs``.
    """
    if not isinstance(module_or_loss, Module):
        raise CourseError(f"gradcheck: module_or_loss must be a Module or a loss (an instance, such as "
                          f"nn.Linear(3, 2) or nn.MSELoss()), got {type(module_or_loss).__name__}")
    inputs = validation.as_array(inputs, "inputs", "gradcheck")
    if inputs.dtype.kind != "f":
        raise DTypeError(f"gradcheck: inputs must hold floating-point numbers, got dtype {inputs.dtype}; a "
                         f"gradient with respect to integers (indices, labels) does not exist. Pass float inputs "
                         f"such as inputs.astype(np.float64) (gradcheck works on a float64 copy)")
    x = np.array(inputs, dtype=np.float64)  # a float64 copy: the caller's array is never modified
    if hasattr(module_or_loss, "reduction"):  # a loss
        return _gradcheck_loss(module_or_loss, x, target, eps)
    return _gradcheck_module(module_or_loss, x, eps)


def _gradcheck_loss(loss_fn, x, target, eps):
    loss_fn = copy.deepcopy(loss_fn)
    loss_fn(x, target)
    analytic = loss_fn.backward()
    numeric = numerical_gradient(lambda z: loss_fn(z, target), x, eps)
    return GradcheckResult({"input": relative_error(analytic, numeric)})


def _gradcheck_module(module, x, eps):
    module = copy.deepcopy(module).to(np.float64)
    restore_randomness = _freeze_random_state(module)

    def scalar(_=None):
        restore_randomness()
        return float(np.sum(module(x) * upstream))

    restore_randomness()
    out = module(x)
    upstream = np.random.default_rng(0).standard_normal(out.shape)   # the fixed R
    module.zero_grad()
    grad_x = module.backward(upstream)

    errors = {"input": relative_error(grad_x, numerical_gradient(scalar, x, eps))}
    for name, param in module.named_parameters():
        errors[name] = relative_error(param.grad, numerical_gradient(scalar, param.data, eps))
    return GradcheckResult(errors)


def _freeze_random_state(module):
    """Return a function that puts every Generator inside ``module`` back to its current state."""
    generators = [value for m in module.modules() for value in vars(m).values()
                  if isinstance(value, np.random.Generator)]
    states = [g.bit_generator.state for g in generators]

    def restore():
        for g, state in zip(generators, states):
            g.bit_generator.state = state

    return restore
