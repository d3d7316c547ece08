"""``Step``: the one activation of the course that torch does not have, as a torch module."""

import torch

from .. import numpy_nn
from ..errors import DTypeError
from ..numpy_nn.registry import register_twin

__all__ = ["Step"]


class _StepFunction(torch.autograd.Function):
    """1.0 where z >= 0 else 0.0, with gradient 0 (as ``numpy_nn.Step``: it is not differentiable)."""

    @staticmethod
    def forward(ctx, z):
        return (z >= 0).to(z.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        return torch.zeros_like(grad_output)


class Step(torch.nn.Module):
    """The Heaviside step of the perceptron, as a torch module.

    Its gradient is zero everywhere (like ``numpy_nn.Step``), so a network with a step does not
    learn by gradient descent: that is the lesson of chapter 1, not a bug.
    """

    def forward(self, z):
        if not isinstance(z, torch.Tensor) or not z.is_floating_point():
            got = f"a {z.dtype} tensor" if isinstance(z, torch.Tensor) else type(z).__name__
            raise DTypeError(f"Step expects a floating-point input tensor, as numpy_nn.Step does, got {got}; "
                             f"convert it with torch.as_tensor(z, dtype=torch.float32)")
        return _StepFunction.apply(z)


register_twin(numpy_nn.Step, Step, from_torch=lambda layer, where, rng: numpy_nn.Step(),
              to_torch=lambda layer, where: Step())
