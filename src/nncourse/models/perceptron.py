"""Rosenblatt's perceptron and its learning rule (no gradients involved).

The perceptron predicts ``1`` when ``w . x + b >= 0`` and ``0`` otherwise. After each example it
compares its prediction ``y_hat`` with the label ``y`` and, only when they differ, nudges the weights:

    w <- w + lr * (y - y_hat) * x
    b <- b + lr * (y - y_hat)

If the two classes can be separated by a straight line (AND, OR), this rule finds such a line after
finitely many mistakes (the perceptron convergence theorem). If they cannot (XOR), it never settles.
"""

import numbers

import numpy as np

from .. import validation
from ..errors import ConfigError, ShapeError, TargetError
from ..utils import as_rng

__all__ = ["Perceptron"]


class Perceptron:
    """A single neuron with a step activation, trained by the perceptron rule.

    ``weight`` has shape ``(n_inputs,)`` and ``bias`` is a float. With ``seed=None`` both start at
    zero (the textbook choice); with a seed they start small and random, U(-0.5, 0.5).
    """

    def __init__(self, n_inputs, lr=1.0, *, seed=None):
        if isinstance(n_inputs, bool) or not isinstance(n_inputs, numbers.Integral) or n_inputs < 1:
            raise ConfigError(f"Perceptron: n_inputs must be a positive integer, got {n_inputs!r}")
        if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not 0 < lr < float("inf"):
            raise ConfigError(f"Perceptron: the learning rate lr must be a positive number, got {lr!r}")
        self.n_inputs = int(n_inputs)
        self.lr = float(lr)
        if seed is None:
            self.weight = np.zeros(self.n_inputs)
            self.bias = 0.0
        else:
            rng = as_rng(seed)
            self.weight = rng.uniform(-0.5, 0.5, size=self.n_inputs)
            self.bias = float(rng.uniform(-0.5, 0.5))
        self.converged = False

    # ------------------------------------------------------------------ predicting
    def decision_function(self, X):
        """The score ``X @ w + b`` for each row of ``X`` (shape ``(N,)``)."""
        X = self._check_X(X)
        return X @ self.weight + self.bias

    def predict(self, X):
        """0/1 predictions of shape ``(N,)``: 1 where the score is >= 0."""
        return (self.decision_function(X) >= 0).astype(np.int64)

    # ------------------------------------------------------------------ learning
    def update(self, x, y):
        """Apply the perceptron rule to one example ``x`` (shape ``(n_inputs,)``) with label ``y`` (0/1).

        Returns True if the prediction was wrong and the weights changed.
        """
        x = validation.as_array(x, "x", "Perceptron.update").astype(np.float64)
        if x.shape != (self.n_inputs,):
            raise ShapeError(f"Perceptron.update expects one example x of shape ({self.n_inputs},), got {x.shape}")
        validation.finite(x, "Perceptron.update", argument="example x")
        y = self._check_label(y)
        y_hat = 1 if x @ self.weight + self.bias >= 0 else 0
        error = y - y_hat                       # +1, 0 or -1
        if error == 0:
            return False
        self.weight = self.weight + self.lr * error * x
        self.bias = self.bias + self.lr * error
        return True

    def fit(self, X, y, epochs=10):
        """Visit the examples in order, ``epochs`` times at most, updating after each one.

        Returns a list with one dict per update step (one per example visited): ``epoch``, ``index``
        (the example), ``weight`` and ``bias`` after the step, ``errors`` (mistakes so far in this
        epoch) and ``changed``. Stops after the first epoch without a mistake; ``self.converged`` says
        whether that happened.
        """
        X = self._check_X(X)
        y = validation.as_array(y, "y", "Perceptron.fit")
        if y.shape != (len(X),):
            raise TargetError(f"Perceptron.fit expects y of shape ({len(X)},) (one label per row of X), got {y.shape}")
        labels = [self._check_label(label) for label in y]
        if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral) or epochs < 1:
            raise ConfigError(f"Perceptron.fit: epochs must be a positive integer, got {epochs!r}")

        history = []
        self.converged = False
        for epoch in range(int(epochs)):
            errors = 0
            for index, (x, label) in enumerate(zip(X, labels)):
                changed = self.update(x, label)
                errors += changed
                history.append({
                    "epoch": epoch,
                    "index": index,
                    "weight": self.weight.copy(),
                    "bias": self.bias,
                    "errors": errors,
                    "changed": changed,
                })
            if errors == 0:
                self.converged = True
                break
        return history

    # ------------------------------------------------------------------ checks
    def _check_X(self, X):
        X = validation.as_array(X, "X", "Perceptron").astype(np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_inputs or len(X) == 0:
            raise ShapeError(f"Perceptron expects X of shape (N, {self.n_inputs}), got {X.shape} (N >= 1 examples)")
        return validation.finite(X, "Perceptron", argument="X")

    @staticmethod
    def _check_label(y):
        if isinstance(y, np.generic):
            y = y.item()                        # np.int64(1) -> 1, for a readable message
        if isinstance(y, bool) or y not in (0, 1):
            raise TargetError(f"Perceptron: y holds the labels, and labels must be 0 or 1, got {y!r} "
                              f"(True/False are refused)")
        return int(y)

    def __repr__(self):
        return f"Perceptron(n_inputs={self.n_inputs}, lr={self.lr})"
