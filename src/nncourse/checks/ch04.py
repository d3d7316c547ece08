"""Checks for the chapter 4 exercises: backpropagation.

Use them at the end of each exercise::

    from nncourse.checks import ch04 as check
    check.dense_backward(dense_backward)

``dense_backward``, ``sigmoid_backward``, ``relu_backward``, ``numerical_gradient``, ``gradient_check``
and ``hand_gradient``. The conventions are the course's (and PyTorch's): a mini-batch has one example
per row, a dense layer computes ``y = x @ W.T + b`` with ``W`` of shape ``(out, in)``, and the
gradient ``grad_out = dL/dy`` that arrives from above already contains the ``1/N`` of a mean loss.
Expected gradients come from PyTorch's autograd (imported only when a check runs); the wrong
answers the checks recognise are written out in NumPy next to their hints.
"""

from __future__ import annotations

import numpy as np

from .framework import Tester, check, fmt
from .reference import sigmoid as _sigmoid

__all__ = ["dense_backward", "sigmoid_backward", "relu_backward", "numerical_gradient", "gradient_check",
           "hand_gradient"]


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _autograd(forward, *arrays):
    """The gradients of ``sum(forward(*tensors) * upstream)`` by PyTorch; the last array is ``upstream``."""
    import torch

    *inputs, upstream = arrays
    tensors = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in inputs]
    out = forward(*tensors)
    out.backward(torch.tensor(upstream, dtype=torch.float64))
    return [t.grad.numpy() for t in tensors]


# --------------------------------------------------------------------------------------------------
# Exercise 1: the backward pass of a dense layer
# --------------------------------------------------------------------------------------------------

_MATMUL_HINT = ("check the shapes: grad_out is (N, out), x is (N, in) and W is (out, in). "
                "grad_W = grad_out.T @ x is (out, in), grad_x = grad_out @ W is (N, in).")


@check("dense_backward")
def dense_backward(t: Tester, dense_backward) -> None:
    """``dense_backward(x, W, grad_out) -> (grad_x, grad_W, grad_b)`` for ``y = x @ W.T + b``."""
    t.callable(dense_backward, "dense_backward")
    rng = _rng(40)
    cases = [
        # A square layer first: there a forgotten transpose gives the right shape but the wrong numbers.
        ("a square layer (batch 3, 3 inputs, 3 outputs)", 3, 3, 3),
        ("a batch of 4, 3 inputs, 2 outputs", 4, 3, 2),
        ("a batch of 1, 5 inputs, 4 outputs", 1, 5, 4),
        ("a batch of 6, 2 inputs, 3 outputs", 6, 2, 3),
    ]
    for description, n, n_in, n_out in cases:
        x = rng.normal(size=(n, n_in)).round(2)
        W = rng.normal(size=(n_out, n_in)).round(2)
        b = rng.normal(size=n_out).round(2)
        g = (rng.normal(size=(n, n_out)) / n).round(3)  # a mean loss: the 1/N is already in grad_out
        want_x, want_W, want_b = _autograd(lambda x_, W_, b_: x_ @ W_.T + b_, x, W, b, g)
        result = t.call(dense_backward, x, W, g, errors=[
            (ValueError, "matmul", _MATMUL_HINT), (ValueError, "aligned", _MATMUL_HINT),
            (ValueError, "broadcast", _MATMUL_HINT),
        ])
        got_x, got_W, got_b = t.values(result, "dense_backward", "grad_x, grad_W, grad_b")
        order_hint = "return the three gradients in the order (grad_x, grad_W, grad_b)."
        what = f"for {description}: grad_W"
        t.close(t.ndarray(got_W, what), want_W, what, mistakes=[
            (x.T @ g, "off by a transpose: grad_W must have W's shape (out, in): grad_out.T @ x, not x.T @ grad_out."),
            (want_W / n, "grad_out already contains the 1/N of the mean loss: sum over the batch with grad_out.T @ x, "
                         "do not divide by N again."),
            (want_W * n, "grad_W = grad_out.T @ x, without an extra factor N."),
            (-want_W, "wrong sign: y = x @ W.T + b increases with W, so grad_W = +grad_out.T @ x."),
            (want_x, order_hint),
        ], shape_hint=f"grad_W has the shape of W, {W.shape}: grad_out.T @ x is (out, N) @ (N, in).",
            hint="grad_W = grad_out.T @ x: each weight W[j, i] collects grad_out[n, j] · x[n, i] over the batch.")
        what = f"for {description}: grad_b"
        t.close(t.ndarray(got_b, what), want_b, what, mistakes=[
            (np.zeros_like(want_b), "the bias gets a gradient too: grad_b = grad_out.sum(axis=0), one number per output."),
            (g.mean(axis=0), "sum over the batch, don't average: grad_out already contains the 1/N of the mean loss, "
                             "so grad_b = grad_out.sum(axis=0)."),
            (g.sum(axis=1), "sum over the batch (axis=0, the rows), not over the outputs: grad_b has one entry per output."),
            (b, "grad_b is dL/db = grad_out.sum(axis=0), not the bias itself."),
        ], shape_hint=f"grad_b has the shape of b, {b.shape}: sum grad_out over the batch, grad_out.sum(axis=0)."
                      + (" (With one example, grad_out is (1, out): still sum over axis=0.)" if n == 1 else ""))
        what = f"for {description}: grad_x"
        t.close(t.ndarray(got_x, what), want_x, what, mistakes=[
            (lambda: g @ W.T,
             "off by a transpose: the forward pass multiplies by W.T, so the backward pass multiplies by W: grad_out @ W."),
            (want_x / n, "grad_x = grad_out @ W, without dividing by N (the 1/N is already in grad_out)."),
            (-want_x, "wrong sign: grad_x = +grad_out @ W."),
            (want_W, order_hint),
        ], shape_hint=f"grad_x has the shape of x, {x.shape}: grad_out @ W is (N, out) @ (out, in).",
            hint="grad_x = grad_out @ W: each input x[n, i] influences every output j through W[j, i].")

    # The inputs must stay as they were: the optimiser still needs W after the backward pass.
    x, W, g = rng.normal(size=(2, 3)), rng.normal(size=(4, 3)), rng.normal(size=(2, 4))
    t.call(dense_backward, x, W, g, mutation_hint="compute new arrays (grad_W = grad_out.T @ x, ...) instead of "
                                                  "using -=, += or *= on x, W or grad_out.")
    t.ok()


# --------------------------------------------------------------------------------------------------
# Exercise 2: the backward pass of the activations
# --------------------------------------------------------------------------------------------------


@check("sigmoid_backward")
def sigmoid_backward(t: Tester, sigmoid_backward) -> None:
    """``sigmoid_backward(z, grad_out) = grad_out · σ(z)·(1 − σ(z))``, element by element."""
    import torch

    t.callable(sigmoid_backward, "sigmoid_backward")
    rng = _rng(41)
    z = np.array([[-3.0, -1.0, 0.0], [0.5, 2.0, 40.0]])
    cases = [
        ("z = [[-3, -1, 0], [0.5, 2, 40]]", z, rng.normal(size=z.shape).round(2)),
        ("a (4, 5) batch", rng.normal(size=(4, 5)) * 3, rng.normal(size=(4, 5))),
        ("z = [-1000, 0, 1000] (a vector)", np.array([-1000.0, 0.0, 1000.0]), np.array([1.0, 2.0, 3.0])),
    ]
    for description, z, g in cases:
        (want,) = _autograd(torch.sigmoid, z, g)
        s = _sigmoid(z)
        got = t.ndarray(t.call(sigmoid_backward, z, g), f"sigmoid_backward for {description}")
        t.close(got, want, f"sigmoid_backward for {description}", mistakes=[
            (g * s, "that is grad_out · σ(z): multiply by the derivative σ'(z) = σ(z)·(1 − σ(z)), not by σ(z) itself."),
            (s * (1 - s), "multiply the local derivative by the gradient that arrives from above: "
                          "grad_out * s * (1 - s) (the chain rule)."),
            (g * z * (1 - z), "apply the formula to s = σ(z), not to z: s = sigmoid(z); grad_out * s * (1 - s)."),
            (g * s * (1 - z), "the second factor is 1 − σ(z), not 1 − z: grad_out * s * (1 - s) with s = sigmoid(z)."),
            (g * s * (1 + s), "σ'(z) = σ(z)·(1 − σ(z)): a minus, not a plus."),
            (-g * s * (1 - s), "wrong sign: the sigmoid is increasing, so grad_out * σ(z)·(1 − σ(z))."),
            (np.sum(g * s * (1 - s), axis=0), "return one gradient per input element (the same shape as z): "
                                              "do not sum over the batch."),
        ], nonfinite_hint="compute s with a stable sigmoid (e.g. 1 / (1 + np.exp(-z))) and return grad_out * s * (1 - s).",
            shape_hint="the gradient has the same shape as z: multiply element by element.")


@check("relu_backward")
def relu_backward(t: Tester, relu_backward) -> None:
    """``relu_backward(z, grad_out) = grad_out · [z > 0]`` (0 at z = 0, like PyTorch)."""
    import torch

    t.callable(relu_backward, "relu_backward")
    rng = _rng(42)
    z = np.array([[-2.0, -0.5, 0.0], [0.5, 3.0, -1.0]])
    cases = [
        ("z = [[-2, -0.5, 0], [0.5, 3, -1]]", z, np.array([[1.0, -2.0, 3.0], [-0.5, 2.0, 4.0]])),
        ("a (3, 4) batch", rng.normal(size=(3, 4)), rng.normal(size=(3, 4))),
    ]
    for description, z, g in cases:
        (want,) = _autograd(torch.relu, z, g)
        got = t.call(relu_backward, z, g, errors=[
            (ValueError, "truth value", "`if` does not work element by element on arrays: "
                                        "multiply by the mask, grad_out * (z > 0)."),
        ])
        if np.asarray(got).dtype == bool:
            t.fail("relu_backward returns booleans (the mask), expected numbers",
                   "the mask z > 0 only says where the gradient passes: return grad_out * (z > 0).")
        got = t.ndarray(got, f"relu_backward for {description}")
        t.close(got, want, f"relu_backward for {description}", mistakes=[
            ((z > 0).astype(float), "that is only the local derivative: multiply it by the gradient from above, "
                                    "grad_out * (z > 0)."),
            (g * np.maximum(z, 0.0), "multiply by relu's derivative (1 where z > 0, else 0), not by relu(z) itself."),
            (np.maximum(g, 0.0), "the mask comes from the forward input z, not from the gradient: grad_out * (z > 0)."),
            (g * (z >= 0), "at exactly z = 0 PyTorch (and this course) use the derivative 0: use z > 0, not z >= 0."),
            (g * (z < 0), "the gradient passes where z > 0 (where relu let the input through), not where z < 0."),
        ], shape_hint="the gradient has the same shape as z: multiply element by element.")
    # the framework's rule: the inputs must be left as they were
    t.call(relu_backward, np.array([-1.0, 2.0]), np.array([5.0, 5.0]),
           mutation_hint="return a new array, grad_out * (z > 0), instead of assigning into grad_out or z.")
    t.ok()


# --------------------------------------------------------------------------------------------------
# Exercise 3: gradient checking with finite differences
# --------------------------------------------------------------------------------------------------


def _central(f, x, eps):
    grad = np.zeros_like(x, dtype=np.float64)
    for index in np.ndindex(x.shape):
        plus, minus = x.astype(np.float64), x.astype(np.float64)
        plus[index] += eps
        minus[index] -= eps
        grad[index] = (f(plus) - f(minus)) / (2 * eps)
    return grad


def _forward(f, x, eps):
    grad = np.zeros_like(x, dtype=np.float64)
    base = f(x.astype(np.float64))
    for index in np.ndindex(x.shape):
        plus = x.astype(np.float64)
        plus[index] += eps
        grad[index] = (f(plus) - base) / eps
    return grad


def _not_restored(f, x, eps):
    """Every entry nudged and left nudged: the mistake of perturbing one array without restoring it."""
    x = x.astype(np.float64)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        x[index] += eps
        f_plus = f(x)
        x[index] -= 2 * eps
        f_minus = f(x)
        grad[index] = (f_plus - f_minus) / (2 * eps)
    return grad


@check("numerical_gradient")
def numerical_gradient(t: Tester, numerical_gradient) -> None:
    """``numerical_gradient(f, x, eps=1e-6)``: central differences (f(x + eps) − f(x − eps)) / (2 eps), entry by entry."""
    t.callable(numerical_gradient, "numerical_gradient")

    def cubes(x):
        return float(np.sum(x**3))

    def mixed(x):
        return float(np.sum(np.sin(x) * x[::-1]) + x.ravel()[0] * x.ravel()[-1])

    x1 = np.array([1.0, -2.0, 0.5])
    x2 = _rng(43).normal(size=(2, 3))
    # A large eps makes the difference between central and forward differences easy to see:
    # for x**3 the central difference is exactly 3x² + eps², the forward one 3x² + 3x·eps + eps².
    cases = [
        ("f(x) = sum(x**3) at x = [1, -2, 0.5] with eps = 0.01", cubes, x1, 0.01),
        ("f(x) = sum(x**3) on a (2, 3) array with eps = 0.01", cubes, x2, 0.01),
        ("f(x) = sum(sin(x) * x[::-1]) + x[0]·x[-1] with eps = 1e-5", mixed, x1, 1e-5),
    ]
    for description, f, x, eps in cases:
        # the framework's rule: x may be changed while the function works, but must be put back
        got = t.call(numerical_gradient, f, x, eps=eps, errors=[
            (TypeError, "unexpected keyword", "keep the signature numerical_gradient(f, x, eps=1e-6)."),
        ], mutation_hint="after evaluating f(x + eps) and f(x - eps), put the entry back (or work on a copy, x.copy()).")
        want = _central(f, x, eps)
        got = t.ndarray(got, f"numerical_gradient for {description}")
        t.close(got, want, f"numerical_gradient for {description}", mistakes=[
            (lambda: _forward(f, x, eps), "that is the forward difference (f(x + eps) − f(x)) / eps, accurate only to "
                                          "about eps; use the central difference (f(x + eps) − f(x − eps)) / (2 eps)."),
            (2 * want, "divide by the distance between the two points, 2·eps: (f(x + eps) − f(x − eps)) / (2 eps)."),
            (-want, "wrong sign: (f(x + eps) − f(x − eps)) / (2 eps), the value at x + eps first."),
            (lambda: _not_restored(f, x, eps), "restore each entry after nudging it: otherwise every later entry is "
                                               "measured at a shifted point."),
            (lambda: np.full(x.shape, (f(x + eps) - f(x - eps)) / (2 * eps)),
             "nudge one entry at a time (np.ndindex(x.shape) visits them all): x + eps moves every entry at once."),
        ], rtol=1e-7, atol=1e-9, shape_hint="return one partial derivative per entry of x: an array shaped like x.")


@check("gradient_check")
def gradient_check(t: Tester, errors) -> None:
    """``errors``: the relative errors between your backward pass and finite differences, all below 1e-6.

    A dict ``{"x": ..., "W": ..., "b": ...}`` of numbers ``|a − n| / (|a| + |n|)`` (norms of whole arrays).
    """
    t.require(errors, "errors")
    if not isinstance(errors, dict):
        t.fail(f"errors should be a dict like {{'x': ..., 'W': ..., 'b': ...}}, yours is {type(errors).__name__}")
    missing = [key for key in ("x", "W", "b") if key not in errors]
    if missing:
        t.fail(f"errors has no entry for {', '.join(repr(k) for k in missing)} (it has {sorted(map(str, errors))})",
               "compare all three gradients: dense_backward returns grad_x, grad_W and grad_b.")
    values = {}
    for key in ("x", "W", "b"):
        t.require(errors[key], f"errors[{key!r}]")
        values[key] = t.scalar(errors[key], f"errors[{key!r}]")
        if not np.isfinite(values[key]) or values[key] < 0:
            t.fail(f"errors[{key!r}] is {fmt(values[key])}: a relative error is a number ≥ 0",
                   "relative_error(a, n) = norm(a - n) / (norm(a) + norm(n)).")
    if all(v == 0.0 for v in values.values()):
        t.fail("all three relative errors are exactly 0: finite differences always differ from the exact gradient by "
               "a little rounding (about 1e-10)",
               "did you compare the backward pass with itself? Compute the numerical gradient with numerical_gradient.")
    t.ok()
    for key in ("x", "W", "b"):
        if values[key] > 1e-6:
            t.fail(f"errors[{key!r}] is {fmt(values[key])}: a correct backward pass agrees with central "
                   f"differences to about 1e-9",
                   f"an error near 1 means grad_{key} is wrong (fix dense_backward); an error near 1e-4 usually means a "
                   f"forward difference or a float32 array: use float64 and eps = 1e-6.")
        t.ok()


# --------------------------------------------------------------------------------------------------
# Exercise 4: a gradient by hand
# --------------------------------------------------------------------------------------------------

# One sigmoid neuron with a squared error: z = w·x + b, ŷ = σ(z), L = (ŷ − y)².
HAND_X, HAND_W, HAND_B, HAND_Y = 3.0, 0.5, -1.5, 1.0


def _hand():
    z = HAND_W * HAND_X + HAND_B                     # 0
    s = float(_sigmoid(z))                           # 0.5
    dL_ds = 2 * (s - HAND_Y)                         # -1
    ds_dz = s * (1 - s)                              # 0.25
    return dL_ds * ds_dz * HAND_X, dL_ds * ds_dz, (dL_ds, ds_dz, s)


@check("hand_gradient")
def hand_gradient(t: Tester, dL_dw, dL_db) -> None:
    """∂L/∂w and ∂L/∂b for ŷ = σ(w·x + b), L = (ŷ − y)² at x = 3, w = 0.5, b = −1.5, y = 1 (−0.75 and −0.25)."""
    t.require(dL_dw, "dL_dw")
    t.require(dL_db, "dL_db")
    want_w, want_b, (dL_ds, ds_dz, s) = _hand()
    x = HAND_X
    t.close(t.scalar(dL_dw, "dL_dw"), want_w, "dL_dw", mistakes=[
        (dL_ds * x, "you left out σ'(z) = σ(z)·(1 − σ(z)) = 0.25: the chain rule multiplies every link, "
                    "∂L/∂ŷ · ∂ŷ/∂z · ∂z/∂w."),
        (dL_ds * s * x, "the link ∂ŷ/∂z is σ'(z) = σ(z)·(1 − σ(z)) = 0.25, not σ(z) = 0.5."),
        (dL_ds * ds_dz, "the last link is ∂z/∂w = x = 3: multiply by it (that number is ∂L/∂b)."),
        ((s - HAND_Y) * ds_dz * x, "the derivative of (ŷ − y)² is 2(ŷ − y): you lost the factor 2."),
        (-want_w, "mind the sign: ŷ = 0.5 is below y = 1, so ∂L/∂ŷ = 2(ŷ − y) = −1 is negative."),
    ], hint="z = 0.5·3 − 1.5 = 0, ŷ = σ(0) = 0.5; multiply ∂L/∂ŷ = 2(ŷ − y), ∂ŷ/∂z = ŷ(1 − ŷ) and ∂z/∂w = x.")
    t.close(t.scalar(dL_db, "dL_db"), want_b, "dL_db", mistakes=[
        (dL_ds, "you left out σ'(z) = 0.25: ∂L/∂b = ∂L/∂ŷ · ∂ŷ/∂z · ∂z/∂b."),
        (dL_ds * s, "the link ∂ŷ/∂z is σ'(z) = σ(z)·(1 − σ(z)) = 0.25, not σ(z) = 0.5."),
        (want_w, "∂z/∂b = 1, not x: the bias is a weight whose input is always 1."),
        ((s - HAND_Y) * ds_dz, "the derivative of (ŷ − y)² is 2(ŷ − y): you lost the factor 2."),
        (-want_b, "mind the sign: ∂L/∂ŷ = 2(ŷ − y) = −1 is negative."),
    ], hint="∂z/∂b = 1, so ∂L/∂b = 2(ŷ − y) · ŷ(1 − ŷ) · 1.")
