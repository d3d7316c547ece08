"""Checks for the chapter 1 exercises: the perceptron.

Use them at the end of each exercise::

    from nncourse.checks import ch01 as check
    check.step(step)

``step``, ``perceptron_update``, ``train_perceptron``, ``trained_gates``, ``is_separable`` and
``n_separable``. The references below are plain NumPy, written out so the checks never depend on
code the learner is writing.
"""

from __future__ import annotations

import itertools

import numpy as np

from .framework import Tester, check

__all__ = ["step", "perceptron_update", "train_perceptron", "trained_gates", "is_separable",
           "n_separable"]

# The four rows of a two-input truth table, in the usual order.
X2 = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
GATES = {
    "AND": np.array([0.0, 0.0, 0.0, 1.0]),
    "OR": np.array([0.0, 1.0, 1.0, 1.0]),
    "NAND": np.array([1.0, 1.0, 1.0, 0.0]),
    "XOR": np.array([0.0, 1.0, 1.0, 0.0]),
}
X3 = np.array(list(itertools.product([0.0, 1.0], repeat=3)))
MAJORITY3 = (X3.sum(axis=1) >= 2).astype(float)
PARITY3 = (X3.sum(axis=1) % 2).astype(float)

# Words in NumPy's messages when arrays of the wrong sizes meet (matmul, broadcasting).
_SHAPE_ERRORS = ("shape", "broadcast", "mismatch", "aligned")


# --------------------------------------------------------------------------------------------------
# References (what a correct solution computes)
# --------------------------------------------------------------------------------------------------


def _step(z):
    return np.where(np.asarray(z) >= 0, 1.0, 0.0)


def _update(w, b, x, y, lr=1.0, *, strict=True):
    z = w @ x + b
    y_hat = 1.0 if (z >= 0 if strict else z > 0) else 0.0
    error = y - y_hat
    return w + lr * error * x, b + lr * error


def _train(X, y, lr=1.0, epochs=10):
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(epochs):
        mistakes = 0
        for x_i, y_i in zip(X, y):
            w_new, b_new = _update(w, b, x_i, y_i, lr)
            mistakes += int(b_new != b or np.any(w_new != w))
            w, b = w_new, b_new
        if mistakes == 0:
            break
    return w, b


def _separable(X, y, weights=(-1.0, 0.0, 1.0), biases=(-1.5, -0.5, 0.5, 1.5)):
    for w in itertools.product(weights, repeat=X.shape[1]):
        for b in biases:
            if np.all(_step(X @ np.array(w) + b) == y):
                return True
    return False


# --------------------------------------------------------------------------------------------------
# Exercise 1: the step function
# --------------------------------------------------------------------------------------------------


@check("step")
def step(t: Tester, step) -> None:
    """``step(z)``: 1.0 where z >= 0, 0.0 elsewhere, element by element, any shape."""
    t.callable(step, "step")
    z = np.array([-2.0, -0.5, 0.0, 0.5, 3.0])
    elementwise = "use np.where(z >= 0, 1.0, 0.0): it works element by element on whole arrays."
    got = t.call(step, z, errors=[(ValueError, "truth value", "an `if` on an array is ambiguous; " + elementwise)])
    out = t.ndarray(got, "step([-2, -0.5, 0, 0.5, 3])", shape=z.shape,
                  shape_hint="the output must have the same shape as the input: work element by element.")
    t.close(out, _step(z), "step([-2, -0.5, 0, 0.5, 3])", mistakes=[
        ((z > 0).astype(float), "at z = 0 the perceptron fires: step(0) is 1, so use z >= 0, not z > 0."),
        (np.sign(z), "this course's step outputs 0 and 1, not -1, 0, +1 (that is np.sign)."),
        (np.heaviside(z, 0.5), "at z = 0 the output is 1, not 0.5: use np.where(z >= 0, 1.0, 0.0)."),
        (_step(-z), "the step is 1 for z >= 0 and 0 for negative z; yours is the other way round."),
    ])
    if np.asarray(got).dtype == bool:
        t.fail("step returns booleans (True/False), expected numbers 1.0 and 0.0",
               "turn the comparison into numbers: (z >= 0).astype(float), or use np.where(z >= 0, 1.0, 0.0).")
    t.ok()

    z2 = np.array([[0.25, -1.0, 0.0], [-3.0, 2.0, -0.0]])
    out2 = t.ndarray(t.call(step, z2), "step on a (2, 3) array")
    t.close(out2, _step(z2), "step on a (2, 3) array",
            shape_hint="the output must have the same shape as the input: work element by element.")

    # the framework's rule: the input must be left as it was
    t.call(step, np.array([-1.0, 1.0]), mutation_hint="compute a new array (np.where(...)) instead of assigning into z.")
    t.ok()


# --------------------------------------------------------------------------------------------------
# Exercise 2: the perceptron update rule
# --------------------------------------------------------------------------------------------------

_UPDATE_CASES = [
    # (description, w, b, x, y, lr)
    ("a missed positive (y = 1, prediction 0)", [1.0, -1.0], -0.5, [1.0, 1.0], 1.0, 1.0),
    ("a false alarm (y = 0, prediction 1)", [1.0, 1.0], 0.0, [1.0, 0.0], 0.0, 1.0),
    ("a correct prediction", [1.0, 1.0], -1.5, [1.0, 1.0], 1.0, 1.0),
    ("a missed positive with lr = 0.5", [0.0, 0.5, -1.0], -1.0, [1.0, 1.0, 1.0], 1.0, 0.5),
    ("z exactly 0 with y = 0", [1.0, -1.0], 0.0, [1.0, 1.0], 0.0, 1.0),
    ("a false alarm with lr = 0.25", [0.5, 0.5], 0.25, [1.0, 1.0], 0.0, 0.25),
]


_NEW_ARRAYS_HINT = ("compute new values and leave the arrays you were given unchanged: w_new = w + lr * error * x, "
                    "not w += ... (the training loop may still need the old w, and the text asks for new arrays).")


@check("perceptron_update")
def perceptron_update(t: Tester, perceptron_update) -> None:
    """``perceptron_update(w, b, x, y, lr=1.0) -> (w_new, b_new)`` for one example."""
    t.callable(perceptron_update, "perceptron_update")
    for description, w, b, x, y, lr in _UPDATE_CASES:
        w, x = np.array(w), np.array(x)
        result = t.call(perceptron_update, w, b, x, y, lr, mutation_hint=_NEW_ARRAYS_HINT)
        got_w, got_b = t.values(result, "perceptron_update", "w_new, b_new", kind="values")
        want_w, want_b = _update(w, b, x, y, lr)
        unit_error = y - float(_step(w @ x + b))  # the error y − ŷ of a correct prediction step
        what = f"for {description}: w_new"
        t.close(t.ndarray(got_w, what, shape=w.shape), want_w, what, mistakes=[
            (w - lr * unit_error * x, "wrong sign: the error is y − ŷ (target minus prediction), and the rule "
                                      "adds it: w + lr·(y − ŷ)·x."),
            (w + unit_error * x, "you forgot the learning rate: w + lr·(y − ŷ)·x."),
            (lambda: _update(w, b, x, y, lr, strict=False)[0],
             "at z = 0 the perceptron predicts 1 (step(0) = 1): use z >= 0 for the prediction."),
            (w + lr * y * x, "multiply by the error y − ŷ, not by y: when the prediction is right, nothing changes."),
            (w + lr * unit_error, "multiply the error by the input x: w + lr·(y − ŷ)·x."),
        ])
        what = f"for {description}: b_new"
        t.close(t.scalar(got_b, what), want_b, what, mistakes=[
            (b, "the bias learns too: b + lr·(y − ŷ), like a weight whose input is always 1."),
            (b - lr * unit_error, "wrong sign: b + lr·(y − ŷ)."),
            (b + unit_error, "the bias update needs the learning rate too: b + lr·(y − ŷ)."),
            (b + lr * y, "multiply by the error y − ŷ, not by y: when the prediction is right, nothing changes."),
        ])


# --------------------------------------------------------------------------------------------------
# Exercise 3: training on AND and OR
# --------------------------------------------------------------------------------------------------


def _one_epoch(X, y, lr=1.0):
    return _train(X, y, lr, epochs=1)


@check("train_perceptron")
def train_perceptron(t: Tester, train_perceptron) -> None:
    """``train_perceptron(X, y, lr=1.0, epochs=10) -> (w, b)``, starting from zeros, rows in order."""
    t.callable(train_perceptron, "train_perceptron")
    cases = [
        ("AND", X2, GATES["AND"], 1.0, 10),
        ("OR", X2, GATES["OR"], 1.0, 10),
        ("NAND", X2, GATES["NAND"], 1.0, 10),
        ("AND with lr = 0.5", X2, GATES["AND"], 0.5, 10),
        ("AND with epochs = 1", X2, GATES["AND"], 1.0, 1),
        ("3-input majority", X3, MAJORITY3, 1.0, 20),
    ]
    for name, X, y, lr, epochs in cases:
        result = t.call(train_perceptron, X, y, lr=lr, epochs=epochs, errors=[
            (ValueError, needle, "start from w = np.zeros(X.shape[1]), so any number of inputs works.")
            for needle in _SHAPE_ERRORS
        ])
        result = t.values(result, "train_perceptron", "w, b", kind="values")
        want_w, want_b = _train(X, y, lr, epochs)
        what = f"on {name}: w"
        w = t.array(result[0], what, shape=(X.shape[1],))
        t.close(w, want_w, what, mistakes=[
            (np.zeros(X.shape[1]), "the weights never change: assign what the update returns, "
                                   "w, b = perceptron_update(w, b, x_i, y_i, lr)."),
            (lambda: _one_epoch(X, y, lr)[0], "one pass over the data is not enough: repeat it for "
                                              "`epochs` epochs (an outer loop)."),
            (lambda: _train(X, y, 1.0, epochs)[0], "pass the learning rate on: perceptron_update(w, b, x_i, y_i, lr)."),
            (lambda: _train(X, y, lr, 10)[0], "train for at most `epochs` epochs (use the argument)."),
        ], hint="start from w = np.zeros(X.shape[1]) and b = 0.0 and visit the rows in order.")
        t.close(t.scalar(result[1], f"on {name}: b"), want_b, f"on {name}: b",
                hint="start from b = 0.0 and update it with every example.")
        if epochs >= 10:
            predictions = _step(X @ w + float(result[1]))
            if not np.array_equal(predictions, y):
                t.fail(f"on {name} the trained perceptron predicts {predictions.astype(int).tolist()}, "
                       f"the targets are {y.astype(int).tolist()}")
            t.ok()


@check("trained_gates")
def trained_gates(t: Tester, w_and, b_and, w_or, b_or) -> None:
    """The weights the learner trained for AND and OR reproduce the two truth tables."""
    for value, name in [(w_and, "w_and"), (b_and, "b_and"), (w_or, "w_or"), (b_or, "b_or")]:
        t.require(value, name)
    results = {}
    for gate, w, b in [("AND", w_and, b_and), ("OR", w_or, b_or)]:
        w = t.array(w, f"w_{gate.lower()}", shape=(2,))
        b = t.scalar(b, f"b_{gate.lower()}")
        results[gate] = _step(X2 @ w + b)
    for gate in ("AND", "OR"):
        other = "OR" if gate == "AND" else "AND"
        got = results[gate]
        t.close(got, GATES[gate], f"step(X @ w_{gate.lower()} + b_{gate.lower()})", mistakes=[
            (GATES[other], f"your {gate} weights compute {other}: did you swap y_and and y_or?"),
            (np.ones(4), "the perceptron outputs 1 for every row, as it does with untrained zero weights: "
                         "use the (w, b) that train_perceptron returns."),
        ])


# --------------------------------------------------------------------------------------------------
# Exercise 4: XOR and linear separability
# --------------------------------------------------------------------------------------------------


@check("is_separable")
def is_separable(t: Tester, is_separable) -> None:
    """``is_separable(X, y, weights=(-1., 0., 1.), biases=(-1.5, -0.5, 0.5, 1.5)) -> bool``."""
    t.callable(is_separable, "is_separable")
    cases = [
        ("AND", X2, GATES["AND"]),
        ("XOR", X2, GATES["XOR"]),
        ("OR", X2, GATES["OR"]),
        ("XNOR", X2, 1.0 - GATES["XOR"]),
        ("the constant 0", X2, np.zeros(4)),
        ("NOT x1", X2, 1.0 - X2[:, 0]),
        ("3-input majority", X3, MAJORITY3),
        ("3-input parity", X3, PARITY3),
    ]
    for name, X, y in cases:
        got = t.call(is_separable, X, y, errors=[
            (ValueError, needle, "try every combination with itertools.product(weights, repeat=X.shape[1]), "
                                 "so any number of inputs works.")
            for needle in _SHAPE_ERRORS
        ])
        if isinstance(got, np.bool_):
            got = bool(got)
        if not isinstance(got, bool):
            t.fail(f"is_separable should return True or False, yours returns {type(got).__name__} {got!r:.60}",
                   "return True as soon as one (w, b) classifies every row; return False after trying them all.")
        want = _separable(X, y)
        hint = None
        if got and not want:
            hint = ("a line separates the classes only if it gets every row right: compare with np.all(...), "
                    "and return False when no combination works.")
        elif want and not got:
            hint = ("try every weight for every input and every bias; return True as soon as np.all(step(X @ w + b) == y).")
        t.equal(got, want, f"is_separable on {name}", hint=hint)


@check("n_separable")
def n_separable(t: Tester, n_separable) -> None:
    """How many of the 16 two-input truth tables a single perceptron can represent (14)."""
    t.require(n_separable, "n_separable")
    got = n_separable.item() if isinstance(n_separable, np.generic) else n_separable
    if isinstance(got, float) and got.is_integer():
        got = int(got)
    t.equal(got, 14, "the number of separable two-input truth tables", mistakes=[
        (16, "not all of them: XOR and XNOR cannot be separated by a line."),
        (2, "that counts the tables that are NOT separable (XOR and XNOR)."),
        (4, "count all 16 truth tables (itertools.product([0, 1], repeat=4)), not only the four named gates."),
    ], hint="loop over all 16 label vectors y (itertools.product([0, 1], repeat=4)) and count is_separable(X, y).")
