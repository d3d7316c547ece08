"""Accuracy, confusion matrices, per-class accuracy, confident mistakes and softmax."""

import numpy as np
import pytest

from nncourse.errors import ConfigError, ShapeError, TargetError
from nncourse.evaluation import (
    accuracy,
    confusion_matrix,
    most_confident_mistakes,
    per_class_accuracy,
    predicted_labels,
    softmax,
)


def test_softmax_rows_are_probabilities_and_keep_the_order_of_the_scores():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(5, 4)) * 3
    probs = softmax(logits)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    assert np.all(probs > 0)
    np.testing.assert_array_equal(np.argsort(probs, axis=1), np.argsort(logits, axis=1))
    np.testing.assert_allclose(probs, np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True))


def test_softmax_does_not_overflow_and_ignores_a_constant_shift():
    big = np.array([[1000.0, 1001.0, 1002.0]])
    np.testing.assert_allclose(softmax(big), softmax(big - 1000.0))
    assert np.all(np.isfinite(softmax(big)))


def test_accuracy_from_labels_and_from_logits():
    y = np.array([0, 1, 2, 2, 1])
    assert accuracy(y, np.array([0, 1, 1, 2, 0])) == pytest.approx(3 / 5)
    logits = np.eye(3)[[0, 1, 2, 0, 1]] * 5.0  # argmax 0, 1, 2, 0, 1
    assert accuracy(y, logits) == pytest.approx(4 / 5)
    assert isinstance(accuracy(y, y), float) and accuracy(y, y) == 1.0


def test_binary_probabilities_are_thresholded_at_one_half():
    y = np.array([[0], [1], [1], [0]])
    probs = np.array([[0.2], [0.7], [0.4], [0.5]])
    np.testing.assert_array_equal(predicted_labels(probs), [0, 1, 0, 1])
    assert accuracy(y, probs) == pytest.approx(2 / 4)
    assert accuracy(y, np.array([0.0, 1.0, 1.0, 0.0])) == 1.0  # a step function's 0/1 outputs


def test_accuracy_accepts_torch_tensors():
    torch = pytest.importorskip("torch")
    y = torch.tensor([0, 1, 1])
    logits = torch.tensor([[2.0, 1.0], [0.0, 3.0], [4.0, 0.0]], requires_grad=True)
    assert accuracy(y, logits) == pytest.approx(2 / 3)


def test_accuracy_checks_lengths_and_labels():
    with pytest.raises(ShapeError, match="3 samples but the predictions have 2"):
        accuracy([0, 1, 1], [0, 1])
    with pytest.raises(TargetError, match=">= 0"):
        accuracy([0, -1], [0, 1])
    with pytest.raises(TargetError, match="whole-number"):
        accuracy([0.5, 1.0], [0, 1])


def test_confusion_matrix_counts_true_rows_against_predicted_columns():
    y_true = np.array([0, 0, 1, 2, 2, 2])
    y_pred = np.array([0, 1, 1, 2, 0, 2])
    cm = confusion_matrix(y_true, y_pred)
    expected = np.zeros((3, 3), dtype=np.int64)
    for t, p in zip(y_true, y_pred):
        expected[t, p] += 1
    np.testing.assert_array_equal(cm, expected)
    assert cm.dtype == np.int64
    np.testing.assert_array_equal(cm.sum(axis=1), np.bincount(y_true))
    assert np.trace(cm) / cm.sum() == pytest.approx(accuracy(y_true, y_pred))


def test_confusion_matrix_with_more_classes_than_seen_and_from_scores():
    cm = confusion_matrix([1, 1], np.array([[0.1, 0.9, 0.0], [0.8, 0.1, 0.1]]), n_classes=4)
    assert cm.shape == (4, 4)
    assert cm[1, 1] == 1 and cm[1, 0] == 1 and cm.sum() == 2
    with pytest.raises(TargetError, match="n_classes=2"):
        confusion_matrix([0, 3], [0, 1], n_classes=2)


def test_per_class_accuracy_is_the_diagonal_over_the_row_sums():
    y_true = np.array([0, 0, 0, 0, 1, 1, 2])
    y_pred = np.array([0, 0, 1, 1, 1, 0, 2])
    np.testing.assert_allclose(per_class_accuracy(y_true, y_pred, n_classes=4), [0.5, 0.5, 1.0, np.nan])


def test_most_confident_mistakes_are_sorted_by_confidence_in_the_wrong_class():
    y = np.array([0, 1, 2, 0, 1])
    probs = np.array([
        [0.90, 0.05, 0.05],  # right
        [0.60, 0.30, 0.10],  # wrong, 0.60
        [0.05, 0.05, 0.90],  # right
        [0.10, 0.85, 0.05],  # wrong, 0.85
        [0.20, 0.30, 0.50],  # wrong, 0.50
    ])
    mistakes = most_confident_mistakes(probs, y, k=2)
    np.testing.assert_array_equal(mistakes.indices, [3, 1])
    np.testing.assert_array_equal(mistakes.predicted, [1, 0])
    np.testing.assert_allclose(mistakes.probabilities, probs[[3, 1]])
    everything = most_confident_mistakes(probs, y, k=10)
    np.testing.assert_array_equal(everything.indices, [3, 1, 4])
    assert all(y[everything.indices] != everything.predicted)


def test_most_confident_mistakes_turns_logits_into_probabilities():
    y = np.array([0, 0])
    logits = np.array([[0.0, 3.0], [0.0, 1.0]])
    indices, predicted, probabilities = most_confident_mistakes(logits, y, k=5)
    np.testing.assert_array_equal(indices, [0, 1])
    np.testing.assert_allclose(probabilities, softmax(logits))
    np.testing.assert_array_equal(predicted, [1, 1])
    with pytest.raises(ConfigError, match="k must be"):
        most_confident_mistakes(logits, y, k=-1)
    with pytest.raises(ShapeError, match=r"\(n, C\)"):
        most_confident_mistakes(np.array([0.2, 0.8]), [1, 0])
