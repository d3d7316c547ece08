"""How good is a classifier? Accuracy, the confusion matrix, and the mistakes it is surest about.

Every function takes NumPy arrays (PyTorch tensors are converted). Predictions may be given as
labels ``(n,)``, as scores/logits/probabilities ``(n, C)`` (the largest entry is the prediction), or as
one probability per sample ``(n,)`` / ``(n, 1)`` for a binary problem (``>= 0.5`` predicts class 1).
"""

from collections import namedtuple

import numbers

import numpy as np

from .errors import ConfigError, NonFiniteError, ShapeError, TargetError

__all__ = [
    "softmax",
    "predicted_labels",
    "accuracy",
    "confusion_matrix",
    "per_class_accuracy",
    "most_confident_mistakes",
    "Mistakes",
]

Mistakes = namedtuple("Mistakes", ["indices", "predicted", "probabilities"])
Mistakes.__doc__ = """The most confident mistakes, most confident first.

``indices``: positions in the data set; ``predicted``: the wrong labels the model chose;
``probabilities``: the model's probability rows ``(k, C)`` for those samples, so
``probabilities[i, predicted[i]]`` is its confidence in the wrong answer.
"""


def _to_numpy(values, name):
    """NumPy view of an array-like; PyTorch tensors are detached and moved to the CPU first."""
    if hasattr(values, "detach") and hasattr(values, "cpu"):
        values = values.detach().cpu().numpy()
    if not isinstance(values, np.ndarray):
        try:
            values = np.asarray(values)
        except (ValueError, TypeError):
            raise ShapeError(f"{name} must be a numeric array, got a {type(values).__name__} whose rows have "
                             f"different lengths (a ragged list); make every row the same length") from None
    if values.dtype == object:
        raise ShapeError(f"{name} must be a numeric array, got an object array (ragged lists?)")
    return values


def softmax(logits, axis=-1):
    """Turn scores (logits) into probabilities: ``exp(z_i) / sum_j exp(z_j)`` along ``axis``.

    Subtracting the row maximum first changes nothing mathematically but keeps ``exp`` from
    overflowing. Integer input is computed in float64.
    """
    z = _to_numpy(logits, "logits")
    if z.dtype.kind not in "biuf":
        raise ShapeError(f"softmax: logits must be an array of numbers, got dtype {z.dtype}")
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral) or not -max(z.ndim, 1) <= axis < max(z.ndim, 1):
        raise ConfigError(f"softmax: axis must be a whole number from {-max(z.ndim, 1)} to {max(z.ndim, 1) - 1} "
                          f"(logits have {z.ndim} dimension(s); -1 is the last, the classes), got {axis!r}")
    if not np.issubdtype(z.dtype, np.floating):
        z = z.astype(np.float64)
    elif np.isnan(z).any() or np.isposinf(z).any():
        # -inf is a masked-out score (probability 0); NaN or +inf would make the whole row NaN
        raise NonFiniteError("softmax: logits contain NaN or +inf (did training diverge?); check the model's "
                             "outputs with np.isfinite(logits).all() (-inf is allowed: it gives probability 0)")
    shifted = z - np.max(z, axis=axis, keepdims=True)
    exps = np.exp(shifted)
    return exps / np.sum(exps, axis=axis, keepdims=True)


def _labels(y, name):
    """Class labels as a 1-D int64 array; accepts ``(n,)`` or ``(n, 1)`` of integers (or whole floats)."""
    y = _to_numpy(y, name)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ShapeError(f"{name} must hold one class label per sample, shape (n,), got shape {y.shape}")
    if y.dtype == np.bool_:
        return y.astype(np.int64)
    if np.issubdtype(y.dtype, np.floating):
        if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
            raise TargetError(f"{name} must hold whole-number class labels, got non-integer values")
    elif not np.issubdtype(y.dtype, np.integer):
        raise TargetError(f"{name} must hold integer class labels, got dtype {y.dtype}")
    y = y.astype(np.int64)
    if y.size and y.min() < 0:
        raise TargetError(f"{name} must hold class labels >= 0, found {int(y.min())}")
    return y


def predicted_labels(y_pred_or_scores):
    """The predicted class of each sample.

    ``(n, C)`` with ``C > 1``: the column of the largest score (works the same for logits and
    probabilities). ``(n,)`` or ``(n, 1)`` integers: already labels. ``(n,)`` or ``(n, 1)`` floats:
    labels when they are whole numbers (0.0/1.0, as a step function gives), else probabilities of
    class 1, thresholded at 0.5. At least one sample is needed.
    """
    scores = _to_numpy(y_pred_or_scores, "predictions")
    if scores.ndim == 0 or len(scores) == 0:
        raise ShapeError(f"predicted_labels: the predictions (y_pred_or_scores) hold no samples, shape "
                         f"{scores.shape}; pass the model's outputs for at least one sample")
    return _predicted_labels(scores)


def _predicted_labels(y_pred_or_scores):
    """``predicted_labels`` without its check for samples (``confusion_matrix`` may count none)."""
    scores = _to_numpy(y_pred_or_scores, "predictions")
    if np.issubdtype(scores.dtype, np.floating) and not np.all(np.isfinite(scores)):
        # argmax of a NaN row is 0: a broken model would silently "predict" class 0.
        raise NonFiniteError("the predictions contain NaN or infinite values (did training diverge?): "
                             "check the model's outputs with np.isfinite(scores).all() before scoring them")
    if scores.ndim == 2 and scores.shape[1] > 1:
        return np.argmax(scores, axis=1).astype(np.int64)
    if scores.ndim == 2 and scores.shape[1] == 1:
        scores = scores[:, 0]
    if scores.ndim != 1:
        raise ShapeError(f"predictions must be labels (n,) or scores (n, C), got shape {scores.shape}")
    if np.issubdtype(scores.dtype, np.floating) and not np.all(scores == np.round(scores)):
        return (scores >= 0.5).astype(np.int64)
    return _labels(scores, "predictions")


def _check_same_length(y_true, y_pred, predictions="the predictions have"):
    if len(y_true) != len(y_pred):
        raise ShapeError(f"y_true has {len(y_true)} samples but {predictions} {len(y_pred)}")


def accuracy(y_true, y_pred_or_logits):
    """The fraction of samples whose predicted class equals the true class, as a Python float."""
    y_true = _labels(y_true, "y_true")
    y_pred = _predicted_labels(y_pred_or_logits)
    _check_same_length(y_true, y_pred)
    if len(y_true) == 0:
        raise ShapeError("accuracy of zero samples is undefined; pass at least one sample")
    return float(np.mean(y_true == y_pred))


def confusion_matrix(y_true, y_pred, n_classes=None):
    """Counts ``cm[i, j]`` of samples of true class ``i`` predicted as class ``j`` (int64 ``(C, C)``).

    The diagonal holds the correct predictions; row ``i`` sums to the number of samples of class
    ``i``. ``n_classes`` defaults to the largest label seen plus one. ``y_pred`` may also be scores.
    """
    y_true = _labels(y_true, "y_true")
    y_pred = _predicted_labels(y_pred)
    _check_same_length(y_true, y_pred)
    largest = int(max(y_true.max(initial=-1), y_pred.max(initial=-1)))
    if n_classes is not None and (isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer))):
        raise ConfigError(f"n_classes must be a whole number (the number of classes, e.g. 10), got {n_classes!r}")
    if n_classes is None:
        n_classes = largest + 1
    elif largest >= n_classes:
        raise TargetError(f"found label {largest}, but n_classes={n_classes} allows only 0..{n_classes - 1}")
    if n_classes < 1:
        raise TargetError(f"n_classes must be at least 1, got {n_classes}")
    # Each (true, predicted) pair gets its own cell number true * C + predicted; count the cells.
    counts = np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes)
    return counts.reshape(n_classes, n_classes).astype(np.int64)


def per_class_accuracy(y_true, y_pred, n_classes=None):
    """For each class, the fraction of its samples predicted correctly (float64; NaN for absent classes).

    This is the confusion matrix's diagonal divided by its row sums (also called the recall).
    """
    cm = confusion_matrix(y_true, y_pred, n_classes)
    per_class = np.full(len(cm), np.nan)
    totals = cm.sum(axis=1)
    present = totals > 0
    per_class[present] = np.diag(cm)[present] / totals[present]
    return per_class


def _as_probabilities(probs_or_logits):
    scores = _to_numpy(probs_or_logits, "probs_or_logits").astype(np.float64)
    if scores.ndim != 2 or scores.shape[1] < 2:
        raise ShapeError(f"probs_or_logits must be (n, C) with C >= 2 classes, got shape {scores.shape}")
    if not np.all(np.isfinite(scores)):
        raise NonFiniteError("probs_or_logits contain NaN or infinite values (did training diverge?): "
                             "check the model's outputs with np.isfinite(scores).all()")
    looks_like_probabilities = (np.all(scores >= 0) and np.all(scores <= 1)
                                and np.allclose(scores.sum(axis=1), 1.0, atol=1e-4))
    return scores if looks_like_probabilities else softmax(scores, axis=1)


def most_confident_mistakes(probs_or_logits, y_true, k=10):
    """The ``k`` wrong predictions with the highest confidence, as ``Mistakes(indices, predicted, probabilities)``.

    Rows that are already probabilities (in [0, 1], summing to 1) are used as they are; anything else
    is treated as logits and passed through ``softmax``. Ties keep the data set's order. Fewer than
    ``k`` mistakes: all of them are returned.
    """
    probabilities = _as_probabilities(probs_or_logits)
    y_true = _labels(y_true, "y_true")
    _check_same_length(y_true, probabilities, "probs_or_logits has")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ConfigError(f"k must be a whole number >= 1 (how many mistakes to return), got {k!r}")
    predicted = np.argmax(probabilities, axis=1)
    wrong = np.flatnonzero(predicted != y_true)
    confidence = probabilities[wrong, predicted[wrong]]
    order = wrong[np.argsort(-confidence, kind="stable")][:k]
    return Mistakes(order, predicted[order].astype(np.int64), probabilities[order])
