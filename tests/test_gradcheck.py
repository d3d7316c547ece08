"""``gradcheck`` and ``numerical_gradient`` themselves: they must pass correct code and catch bugs."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from nncourse.errors import DTypeError
from nncourse.numpy_nn import (
    CrossEntropyLoss, Linear, MSELoss, ReLU, Sequential, Tanh, gradcheck, numerical_gradient,
)
from nncourse.numpy_nn.gradcheck import GradcheckResult, relative_error


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), shape=st.tuples(st.integers(1, 4), st.integers(1, 4)))
def test_numerical_gradient_of_known_functions(seed, shape):
    x = np.random.default_rng(seed).uniform(-2, 2, shape)
    # d/dx sum(x^3) = 3 x^2 ; d/dx sum(sin x) = cos x
    np.testing.assert_allclose(numerical_gradient(lambda v: np.sum(v ** 3), x), 3 * x ** 2,
                               rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(numerical_gradient(lambda v: np.sum(np.sin(v)), x), np.cos(x),
                               rtol=1e-7, atol=1e-8)


def test_numerical_gradient_restores_x_and_works_through_closures():
    w = np.array([1.0, -2.0, 0.5])
    before = w.copy()
    grad = numerical_gradient(lambda _: float(w @ w), w)   # f reads w directly, not its argument
    np.testing.assert_allclose(grad, 2 * before, rtol=1e-8)
    np.testing.assert_array_equal(w, before)


def test_numerical_gradient_refuses_float32():
    with pytest.raises(DTypeError, match=r"float64.*got float32.*astype\(np\.float64\)"):
        numerical_gradient(lambda v: v.sum(), np.ones(3, np.float32))


def test_relative_error():
    assert relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert relative_error([0.0], [0.0]) == 0.0
    assert relative_error([1.0], [-1.0]) == pytest.approx(1.0)
    assert relative_error([1.0, 0.0], [1.0 + 2e-6, 0.0]) == pytest.approx(1e-6, rel=1e-3)


def test_result_reports_the_worst_error():
    result = GradcheckResult({"input": 1e-9, "weight": 3e-3})
    assert result.max_relative_error == 3e-3
    assert not result.passed and not result
    assert "FAILED" in repr(result) and "weight: 3.00e-03" in repr(result)
    assert GradcheckResult({"input": 1e-9}).passed


class ForgetsTheBiasGradient(Linear):
    def backward(self, grad_output, **kwargs):
        grad_input = super().backward(grad_output, **kwargs)
        self.bias.grad = np.zeros_like(self.bias.data)
        return grad_input


class WrongDerivative(Tanh):
    def backward(self, grad_output):
        return grad_output * (1 - self._out)     # should be 1 - tanh^2


@pytest.mark.parametrize("layer, culprit", [(ForgetsTheBiasGradient(3, 2, seed=0), "bias"),
                                            (WrongDerivative(), "input")])
def test_gradcheck_catches_a_wrong_backward(layer, culprit):
    x = np.random.default_rng(0).standard_normal((4, 3))
    result = gradcheck(layer, x)
    assert not result.passed
    assert result.errors[culprit] > 1e-2
    assert max(result.errors, key=result.errors.get) == culprit


def test_gradcheck_catches_a_wrong_loss_gradient():
    class HalfMSE(MSELoss):
        def backward(self):
            return super().backward() / 2

    output = np.random.default_rng(0).standard_normal((3, 2))
    assert not gradcheck(HalfMSE(), output, np.zeros((3, 2))).passed
    assert gradcheck(MSELoss(), output, np.zeros((3, 2))).passed


def test_gradcheck_leaves_the_model_untouched():
    model = Sequential(Linear(3, 4, seed=0), ReLU(), Linear(4, 2, seed=1))
    before = {name: p.data.copy() for name, p in model.named_parameters()}
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    result = gradcheck(model, x)
    assert result.passed, result
    for name, p in model.named_parameters():
        assert p.dtype == np.float32 and p.grad is None
        np.testing.assert_array_equal(p.data, before[name])


def test_gradcheck_of_cross_entropy_with_integer_targets():
    logits = np.random.default_rng(0).standard_normal((6, 4))
    result = gradcheck(CrossEntropyLoss(label_smoothing=0.1), logits, np.array([0, 1, 2, 3, 0, 1]))
    assert set(result.errors) == {"input"} and result.passed, result
