"""Bad input to ``nncourse.numpy_nn`` gives a course error that says what was wrong and how to fix it."""

import numpy as np
import pytest

from nncourse.errors import (
    ConfigError, CourseError, DTypeError, NonFiniteError, ShapeError, TargetError,
)
from nncourse.numpy_nn import (
    BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, Dropout, L1Loss, Linear, MSELoss, NLLLoss, Parameter,
    ReLU, Sequential, Sigmoid, Softmax, init, mlp,
)

# ---------------------------------------------------------------------------- Linear input checks


def test_images_that_were_not_flattened():
    layer = Linear(784, 256)
    with pytest.raises(ShapeError, match=r"Linear\(784 → 256\) expects input of shape \(batch, 784\), "
                                         r"got \(64, 28, 28\).*x\.reshape\(len\(x\), -1\)"):
        layer(np.zeros((64, 28, 28), np.float32))


def test_single_example_without_batch_dimension():
    with pytest.raises(ShapeError, match=r"got \(3,\).*reshape\(1, -1\)"):
        Linear(3, 2)(np.zeros(3, np.float32))


def test_wrong_number_of_features():
    with pytest.raises(ShapeError, match=r"Linear\(4 → 2\) expects input of shape \(batch, 4\), got \(5, 3\)"):
        Linear(4, 2)(np.zeros((5, 3), np.float32))


def test_features_of_a_previous_layer_that_do_not_fit():
    model = Sequential(Linear(4, 8), ReLU(), Linear(6, 2))
    with pytest.raises(ShapeError, match=r"Linear\(6 → 2\).*got \(3, 8\)"):
        model(np.zeros((3, 4), np.float32))


def test_empty_batch():
    with pytest.raises(ShapeError, match=r"empty batch"):
        Linear(4, 2)(np.zeros((0, 4), np.float32))


def test_integer_input():
    with pytest.raises(DTypeError, match=r"Linear\(2 → 1\).*int64.*astype\(np\.float32\)"):
        Linear(2, 1)(np.array([[0, 1]], dtype=np.int64))


def test_float64_input_to_a_float32_layer():
    with pytest.raises(DTypeError, match=r"float32 weights but got float64 input.*x\.astype\(np\.float32\)"
                                         r".*dtype=np\.float64"):
        Linear(2, 1)(np.zeros((1, 2)))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_input(bad):
    x = np.zeros((2, 3), np.float32)
    x[1, 2] = bad
    with pytest.raises(NonFiniteError, match=r"Linear\(3 → 1\).*NaN or inf.*\(1, 2\)"):
        Linear(3, 1)(x)


def test_backward_before_forward():
    for layer in (Linear(2, 1), ReLU(), Sigmoid(), Softmax(), Dropout(0.5)):
        with pytest.raises(CourseError, match=r"backward\(\) was called before forward\(\)"):
            layer.backward(np.ones((1, 1), np.float32))
    with pytest.raises(CourseError, match=r"MSELoss.backward\(\) was called before forward\(\)"):
        MSELoss().backward()


def test_backward_with_wrong_gradient_shape_or_dtype():
    layer = Linear(3, 2)
    layer(np.zeros((4, 3), np.float32))
    with pytest.raises(ShapeError, match=r"grad_output of shape \(4, 2\).*got \(4, 3\)"):
        layer.backward(np.zeros((4, 3), np.float32))
    with pytest.raises(DTypeError, match=r"grad_output of dtype float32.*got float64"):
        layer.backward(np.zeros((4, 2)))


def test_activation_rejects_integer_input():
    with pytest.raises(DTypeError, match=r"ReLU expects a floating-point input, got dtype int64"):
        ReLU()(np.array([[1, -1]]))


# ---------------------------------------------------------------------------- configuration


def test_unknown_init_name_lists_the_valid_ones():
    with pytest.raises(ConfigError, match=r"unknown init 'glorious'.*'torch'.*'xavier'.*'he'"):
        init.get("glorious")
    with pytest.raises(ConfigError, match=r"unknown init 'normal'"):
        Linear(2, 2, init="normal")


def test_unknown_activation_lists_the_valid_ones():
    with pytest.raises(ConfigError, match=r"unknown activation 'relu6'.*'sigmoid'.*'relu'.*'leaky_relu'"):
        mlp([2, 3, 1], activation="relu6")
    with pytest.raises(ConfigError, match=r"unknown output_activation 'softmaxx'.*'softmax'"):
        mlp([2, 3, 1], output_activation="softmaxx")


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5, "half"])
def test_dropout_probability_outside_0_1(p):
    with pytest.raises(ConfigError, match=r"Dropout: p .* \[0, 1\), got"):
        Dropout(p)


@pytest.mark.parametrize("sizes", [[3], [3, 0, 1], [2.5, 1], "784"])
def test_bad_mlp_sizes(sizes):
    with pytest.raises(ConfigError, match=r"mlp: sizes must be"):
        mlp(sizes)


def test_bad_linear_configuration():
    with pytest.raises(ConfigError, match=r"Linear: in_features must be a whole number >= 1, got 0"):
        Linear(0, 3)
    with pytest.raises(DTypeError, match=r"Linear: dtype must be np.float32 or np.float64, got int32"):
        Linear(2, 3, dtype=np.int32)


def test_bad_reduction_and_label_smoothing():
    with pytest.raises(ConfigError, match=r"reduction must be one of 'mean', 'sum', got 'none'"):
        MSELoss(reduction="none")
    with pytest.raises(ConfigError, match=r"label_smoothing must be in \[0, 1\], got 1.5"):
        CrossEntropyLoss(label_smoothing=1.5)


def test_sequential_of_classes_instead_of_instances():
    with pytest.raises(ConfigError, match=r"layer 1 must be a Module, got type.*ReLU\(\) instead of ReLU"):
        Sequential(Linear(2, 2), ReLU)


def test_parameter_of_integers():
    with pytest.raises(DTypeError, match=r"floating-point array, got dtype int64"):
        Parameter(np.arange(3))


def test_load_state_dict_mismatches():
    model = mlp([3, 2], seed=0)
    with pytest.raises(ConfigError, match=r"Missing: \['0.bias'\]"):
        model.load_state_dict({"0.weight": np.zeros((2, 3))})
    with pytest.raises(ShapeError, match=r"'0.weight' has shape \(2, 3\) in the model but \(3, 2\)"):
        model.load_state_dict({"0.weight": np.zeros((3, 2)), "0.bias": np.zeros(2)})


# ---------------------------------------------------------------------------- loss targets


def test_class_target_out_of_range():
    with pytest.raises(TargetError, match=r"class indices must be in 0\.\.2 .* 3 classes, got 3 at position 1"):
        CrossEntropyLoss()(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(TargetError, match=r"got -1 at position 0"):
        NLLLoss()(np.zeros((2, 3)), np.array([-1, 0]))


def test_non_integer_class_targets():
    with pytest.raises(TargetError, match=r"integer class indices.*float64.*astype\(np\.int64\)"):
        CrossEntropyLoss()(np.zeros((2, 3)), np.array([0.0, 1.0]))


@pytest.mark.parametrize("shape, hint", [((4, 1), r"target\.ravel\(\)"), ((4, 3), r"one-hot.*argmax"),
                                         ((5,), r"")])
def test_wrong_class_target_shape(shape, hint):
    with pytest.raises(TargetError, match=rf"expects target of shape \(4,\).*got {re_shape(shape)}.*{hint}"):
        CrossEntropyLoss()(np.zeros((4, 3)), np.zeros(shape, dtype=np.int64))


def re_shape(shape):
    return str(shape).replace("(", r"\(").replace(")", r"\)")


def test_cross_entropy_needs_2d_scores():
    with pytest.raises(ShapeError, match=r"output of shape \(batch, classes\), got \(3,\)"):
        CrossEntropyLoss()(np.zeros(3), np.array([0]))


@pytest.mark.parametrize("loss", [MSELoss, L1Loss, BCELoss, BCEWithLogitsLoss])
def test_output_and_target_shapes_must_match(loss):
    with pytest.raises(ShapeError, match=rf"{loss.__name__}: output has shape \(4, 1\) but target has "
                                         r"shape \(4,\).*target\.reshape\(4, 1\)"):
        loss()(np.full((4, 1), 0.5), np.zeros(4))


def test_bce_needs_probabilities_and_targets_in_0_1():
    with pytest.raises(CourseError, match=r"BCELoss expects probabilities in \[0, 1\].*Sigmoid.*BCEWithLogitsLoss"):
        BCELoss()(np.array([[2.0]]), np.array([[1.0]]))
    with pytest.raises(TargetError, match=r"targets in \[0, 1\]"):
        BCELoss()(np.array([[0.5]]), np.array([[2.0]]))


def test_losses_reject_empty_batches_and_integer_outputs():
    with pytest.raises(ShapeError, match=r"MSELoss got an empty output"):
        MSELoss()(np.zeros((0, 1)), np.zeros((0, 1)))
    with pytest.raises(DTypeError, match=r"CrossEntropyLoss expects a floating-point output, got dtype int64"):
        CrossEntropyLoss()(np.zeros((2, 3), dtype=np.int64), np.array([0, 1]))


def test_every_course_error_is_a_value_error():
    with pytest.raises(ValueError):
        Linear(2, 1)(np.zeros((1, 3), np.float32))
