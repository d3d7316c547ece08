"""Checks for the chapter 2 exercises: the forward pass.

Use them at the end of each exercise::

    from nncourse.checks import ch02 as check
    check.dense_forward(dense_forward)

``dense_forward``, ``sigmoid``, ``sigmoid_derivative``, ``relu``, ``softmax``, ``parameter_counts``,
``torch_models`` and ``mlp_forward``. References are plain NumPy; derivatives and the full network are
compared with PyTorch (imported only when those checks run).
"""

from __future__ import annotations

import re

import numpy as np

from .framework import Tester, check
from .models import describe_layers, leaf_modules
from .reference import sigmoid as _sigmoid, softmax as _softmax

__all__ = ["dense_forward", "sigmoid", "sigmoid_derivative", "relu", "softmax", "parameter_counts",
           "torch_models", "mlp_forward"]


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


# --------------------------------------------------------------------------------------------------
# Exercise 1: a dense layer
# --------------------------------------------------------------------------------------------------

_TRANSPOSE_HINT = ("W has shape (out, in), like torch's Linear.weight: multiply by its transpose, "
                   "x @ W.T + b.")


_SHAPES_IN_MESSAGE = re.compile(r"\(([\d, ]*)\)")


def _broadcast_hint(batch: int, n_out: int):
    """The hint for NumPy's "could not be broadcast together with shapes (a,b) (c,)": which product failed."""

    def hint(exc: BaseException) -> str | None:
        shapes = [tuple(int(n) for n in group.split(",") if n.strip())
                  for group in _SHAPES_IN_MESSAGE.findall(str(exc))]
        if shapes and shapes[0] == (n_out, batch):
            return (f"W @ x.T is (out, batch) = {(n_out, batch)}, transposed: the course keeps examples in rows, "
                    f"so compute x @ W.T + b, shape (batch, out) = {(batch, n_out)}, and b lines up with its columns.")
        return ("the bias b has one entry per output; add it to the (batch, out) product x @ W.T, and numpy "
                "broadcasts it over the rows.")

    return hint


@check("dense_forward")
def dense_forward(t: Tester, dense_forward) -> None:
    """``dense_forward(x, W, b) = x @ W.T + b`` with x ``(batch, in)``, W ``(out, in)``, b ``(out,)``."""
    t.callable(dense_forward, "dense_forward")
    rng = _rng(2)
    cases = [
        ("a batch of 3, 4 inputs, 2 outputs", 3, 4, 2),
        ("a square layer (3 inputs, 3 outputs)", 2, 3, 3),
        ("a batch of 1, 4 inputs, 5 outputs", 1, 4, 5),
        ("a batch of 4, 3 inputs, 4 outputs", 4, 3, 4),
    ]
    for description, batch, n_in, n_out in cases:
        x = rng.normal(size=(batch, n_in)).round(2)
        W = rng.normal(size=(n_out, n_in)).round(2)
        b = rng.normal(size=n_out).round(2)
        got = t.call(dense_forward, x, W, b, errors=[
            (ValueError, "matmul", _TRANSPOSE_HINT),
            (ValueError, "aligned", _TRANSPOSE_HINT),
            (ValueError, "broadcast", _broadcast_hint(batch, n_out)),
        ])
        what = f"for {description}: the output"
        got = t.ndarray(got, what)
        t.close(got, x @ W.T + b, what, mistakes=[
            (x @ W.T, "you forgot the bias: x @ W.T + b."),
            (lambda: x @ W + b, "off by a transpose: " + _TRANSPOSE_HINT),
            (lambda: W @ x.T + b[:, None], "your output is (out, batch), transposed: the course keeps examples "
                                           "in rows, so compute x @ W.T + b, shape (batch, out)."),
            (lambda: (W @ x.T).T, "you forgot the bias: x @ W.T + b."),
            (x @ W.T - b, "add the bias, don't subtract it: x @ W.T + b."),
        ], shape_hint=f"the output should be (batch, out) = {(batch, n_out)}: compute x @ W.T + b.")
    x = rng.normal(size=(2, 3))
    W = rng.normal(size=(4, 3))
    b = rng.normal(size=4)
    # the framework's rule: the inputs must be left as they were
    t.call(dense_forward, x, W, b,
           mutation_hint="compute a new array (out = x @ W.T + b) instead of using += on x, W or b.")
    t.ok()


# --------------------------------------------------------------------------------------------------
# Exercise 2: activation functions
# --------------------------------------------------------------------------------------------------


@check("sigmoid")
def sigmoid(t: Tester, sigmoid) -> None:
    """``sigmoid(z) = 1 / (1 + exp(-z))`` element by element; no NaN for large |z|."""
    t.callable(sigmoid, "sigmoid")
    z = np.array([-2.0, 0.0, 2.0])
    got = t.ndarray(t.call(sigmoid, z), "sigmoid([-2, 0, 2])")
    t.close(got, _sigmoid(z), "sigmoid([-2, 0, 2])", mistakes=[
        (_sigmoid(-z), "wrong sign in the exponent: σ(z) = 1 / (1 + exp(-z))."),
        (1.0 + np.exp(-z), "mind the brackets: 1 / (1 + np.exp(-z)), not 1/1 + np.exp(-z)."),
        (np.tanh(z), "that is tanh; the sigmoid is 1 / (1 + exp(-z))."),
        (np.exp(-z) / (1.0 + np.exp(-z)), "that is σ(-z) = 1 − σ(z): use 1 / (1 + np.exp(-z))."),
    ], shape_hint="return one value per input: the same shape as z.")
    big = np.array([-1000.0, -50.0, 50.0, 1000.0])
    t.close(t.call(sigmoid, big), _sigmoid(big), "sigmoid([-1000, -50, 50, 1000])",
            nonfinite_hint="exp(z) overflows for large z and inf / inf is NaN: use 1 / (1 + np.exp(-z)) "
                           "(its overflow gives 1 / inf = 0, the right limit), or np.where on the sign of z.")
    grid = _rng(0).normal(size=(3, 4)) * 3
    t.close(t.call(sigmoid, grid), _sigmoid(grid), "sigmoid on a (3, 4) array",
            shape_hint="work element by element: the output has the same shape as z.")


@check("sigmoid_derivative")
def sigmoid_derivative(t: Tester, sigmoid_derivative) -> None:
    """``sigmoid_derivative(z) = σ(z)·(1 − σ(z))``, compared with PyTorch's autograd."""
    import torch

    t.callable(sigmoid_derivative, "sigmoid_derivative")
    z = np.array([-3.0, -1.0, 0.0, 0.5, 2.0, 40.0])
    z_t = torch.tensor(z, requires_grad=True)
    torch.sigmoid(z_t).sum().backward()
    want = z_t.grad.numpy()
    s = _sigmoid(z)
    got = t.ndarray(t.call(sigmoid_derivative, z), "sigmoid_derivative([-3, -1, 0, 0.5, 2, 40])")
    t.close(got, want, "sigmoid_derivative([-3, -1, 0, 0.5, 2, 40])", mistakes=[
        (s, "that is σ(z) itself: the derivative is σ(z)·(1 − σ(z))."),
        (z * (1.0 - z), "apply the formula to σ(z), not to z: s = sigmoid(z); return s * (1 - s)."),
        (s * (1.0 - z), "the second factor is 1 − σ(z), not 1 − z: s = sigmoid(z); return s * (1 - s)."),
        (1.0 - s, "that is 1 − σ(z); multiply by σ(z): σ(z)·(1 − σ(z))."),
        (s * (1.0 + s), "σ'(z) = σ(z)·(1 − σ(z)): a minus, not a plus."),
        (-s * (1.0 - s), "the sigmoid is increasing, so its derivative is positive: σ(z)·(1 − σ(z))."),
    ], nonfinite_hint="compute s = sigmoid(z) first and return s * (1 - s): no exponential of large numbers.")
    at_zero = t.scalar(t.call(sigmoid_derivative, np.array([0.0])), "sigmoid_derivative(0)")
    t.close(at_zero, 0.25, "sigmoid_derivative(0)")


@check("relu")
def relu(t: Tester, relu) -> None:
    """``relu(z) = max(z, 0)`` element by element, without changing ``z``."""
    t.callable(relu, "relu")
    z = np.array([-2.0, -0.5, 0.0, 0.5, 3.0])
    got = t.call(relu, z, errors=[(ValueError, "truth value",
                                   "Python's max and `if` do not work element by element on arrays: "
                                   "use np.maximum(z, 0).")])
    if np.asarray(got).dtype == bool:
        t.fail("relu returns booleans (a mask), expected the values max(z, 0)",
               "z > 0 is the mask of positive entries; relu returns the values: np.maximum(z, 0).")
    got = t.ndarray(got, "relu([-2, -0.5, 0, 0.5, 3])")
    t.close(got, np.maximum(z, 0.0), "relu([-2, -0.5, 0, 0.5, 3])", mistakes=[
        ((z > 0).astype(float), "that is the mask (0 or 1, the derivative), not the values: np.maximum(z, 0)."),
        (np.abs(z), "negative inputs become 0, not their absolute value: np.maximum(z, 0)."),
        (np.minimum(z, 0.0), "that keeps the negative part; relu keeps the positive part: np.maximum(z, 0)."),
    ], shape_hint="work element by element: np.maximum(z, 0) has the same shape as z.")
    z2 = _rng(1).normal(size=(2, 5))
    t.close(t.call(relu, z2), np.maximum(z2, 0.0), "relu on a (2, 5) array",
            shape_hint="work element by element: np.maximum(z, 0) has the same shape as z.")
    # the framework's rule: the input must be left as it was
    t.call(relu, np.array([-1.0, 2.0]), mutation_hint="the forward pass needs z again later (for the backward pass): "
                                                       "return a new array, np.maximum(z, 0).")
    t.ok()


# --------------------------------------------------------------------------------------------------
# Exercise 3: a numerically stable softmax
# --------------------------------------------------------------------------------------------------

_KEEPDIMS_HINT = ("reduce over the classes with keepdims=True, so the (batch, 1) result lines up "
                  "with the rows: z.max(axis=1, keepdims=True), e.sum(axis=1, keepdims=True).")


def _softmax_axis0(z):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


@check("softmax")
def softmax(t: Tester, softmax) -> None:
    """``softmax(z)`` over the last axis of a ``(batch, classes)`` array, stable for large logits."""
    t.callable(softmax, "softmax")
    errors = [(ValueError, "broadcast", _KEEPDIMS_HINT)]

    z = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    got = t.ndarray(t.call(softmax, z, errors=errors), "softmax([[1, 2, 3], [0, 0, 0]])")
    t.close(got, _softmax(z), "softmax([[1, 2, 3], [0, 0, 0]])", mistakes=[
        (lambda: _softmax_axis0(z), "each row (one example) must sum to 1: normalise over axis=1, the classes, "
                                    "not axis=0."),
        (lambda: np.exp(z) / np.exp(z).sum(), "you divided by the sum over the whole batch; each row must sum to 1: "
                                              "e.sum(axis=1, keepdims=True)."),
        (lambda: np.exp(z), "normalise: divide by the row sums so that each row sums to 1."),
        (lambda: np.exp(z - z.max(axis=1, keepdims=True)), "normalise: divide by the row sums so that each row "
                                                           "sums to 1."),
    ], shape_hint="the output has the same shape as z: one probability per class and example.")

    square = np.array([[0.5, 1.0, -1.0], [2.0, 0.0, 1.0], [-0.5, 3.0, 0.0]])
    got = t.call(softmax, square, errors=errors)
    e = np.exp(square - square.max(axis=1, keepdims=True))
    t.close(got, _softmax(square), "softmax of a (3, 3) array", mistakes=[
        (lambda: e / e.sum(axis=1), "without keepdims=True the (3,) row sums are divided into the columns: "
                                    + _KEEPDIMS_HINT),
        (lambda: np.exp(square - square.max(axis=1)) / np.exp(square - square.max(axis=1)).sum(axis=1, keepdims=True),
         "without keepdims=True the (3,) row maxima are subtracted from the columns: " + _KEEPDIMS_HINT),
        (lambda: _softmax_axis0(square), "each row (one example) must sum to 1: normalise over axis=1, not axis=0."),
    ])

    one_row = np.array([[1000.0, 1001.0, 1002.0]])
    t.close(t.call(softmax, one_row, errors=errors), _softmax(one_row), "softmax([[1000, 1001, 1002]])",
            nonfinite_hint="exp(1000) overflows to inf and inf / inf is NaN. Subtract each row's maximum first, "
                           "z - z.max(axis=1, keepdims=True): softmax does not change, and the largest exponent is 0.")

    mixed = np.array([[1000.0, 1001.0, 1002.0], [-1000.0, -1000.0, -999.0]])
    t.close(t.call(softmax, mixed, errors=errors), _softmax(mixed), "softmax([[1000, 1001, 1002], [-1000, -1000, -999]])",
            nonfinite_hint="subtract each row's own maximum (z.max(axis=1, keepdims=True)), not the maximum of the "
                           "whole batch: otherwise every exponential of the second row underflows to 0 and 0 / 0 is NaN.")

    batch = _rng(3).normal(size=(5, 10)) * 4
    got = t.ndarray(t.call(softmax, batch, errors=errors), "softmax of a (5, 10) batch", shape=batch.shape)
    t.close(got.sum(axis=1), np.ones(5), "the row sums of softmax of a (5, 10) batch")
    t.close(got, _softmax(batch), "softmax of a (5, 10) batch")


# --------------------------------------------------------------------------------------------------
# Exercise 4: counting parameters
# --------------------------------------------------------------------------------------------------

_SINGLE = [784, 10]
_DEEP = [784, 256, 128, 10]


def _count(sizes):
    return sum(n_in * n_out + n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))


def _count_mistakes(sizes):
    pairs = list(zip(sizes[:-1], sizes[1:]))
    product = 1
    for n in sizes:
        product *= n
    return [
        (sum(i * o for i, o in pairs), "you forgot the biases: each layer also has one bias per output neuron, "
                                       "so a layer has in·out + out parameters."),
        (sum(i * (o + 1) for i, o in pairs), "one bias per output neuron, not per input: in·out + out."),
        (sum(i * o + i for i, o in pairs), "one bias per output neuron, not per input: in·out + out."),
        (sum(sizes), "that counts neurons; count the weights (in·out per layer) and biases (out per layer)."),
        (product, "add the layers' counts, don't multiply them: each layer has its own in·out + out parameters."),
    ]


def _as_int(t: Tester, value, what):
    t.require(value, what)
    if isinstance(value, np.generic):
        value = value.item()
    if _is_torch_tensor(value):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        t.fail(f"{what} should be a whole number, yours is {type(value).__name__} {value!r:.40}")
    return value


def _is_torch_tensor(x) -> bool:
    return type(x).__module__.startswith("torch") and hasattr(x, "item")


@check("parameter_counts")
def parameter_counts(t: Tester, n_single, n_deep) -> None:
    """The hand counts for 784→10 (7,850) and 784→256→128→10 (235,146)."""
    for value, what, sizes in [(n_single, "n_single", _SINGLE), (n_deep, "n_deep", _DEEP)]:
        got = _as_int(t, value, what)
        t.equal(got, _count(sizes), f"{what} ({' → '.join(map(str, sizes))})", mistakes=_count_mistakes(sizes),
                hint="for each Linear layer count in·out weights plus out biases, then add the layers.")


_COLLAPSE_HINT = ("without a nonlinearity between them, stacked Linear layers collapse into one linear map: "
                  "nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10).")


@check("torch_models")
def torch_models(t: Tester, single, deep) -> None:
    """The two MNIST networks built in PyTorch: Linear(784, 10), and 784→256→128→10 with ReLUs."""
    import torch
    from torch import nn

    for model, what, sizes in [(single, "single", _SINGLE), (deep, "deep", _DEEP)]:
        t.require(model, what)
        if not isinstance(model, nn.Module):
            t.fail(f"{what} should be a torch.nn.Module, yours is {type(model).__name__}",
                   "build it with nn.Sequential(nn.Linear(...), ...).")
        layers = leaf_modules(model)
        linears = [m for m in layers if isinstance(m, nn.Linear)]
        shapes = [(m.in_features, m.out_features) for m in linears]
        want_shapes = list(zip(sizes[:-1], sizes[1:]))
        sequential = isinstance(model, nn.Sequential)
        if not sequential:  # a module of one's own may register its layers in any order
            shapes, want_shapes = sorted(shapes), sorted(want_shapes)
        if shapes != want_shapes:
            hint = "nn.Linear(in_features, out_features): information flows 784 → ... → 10."
            if shapes == [(o, i) for i, o in reversed(want_shapes)] or shapes == [(o, i) for i, o in want_shapes]:
                hint = "your layers are reversed: nn.Linear(in_features, out_features), so the first one is Linear(784, ...)."
            t.fail(f"{what} has the layers {describe_layers(layers)}; expected the Linear layers "
                   f"{', '.join(f'Linear({i}, {o})' for i, o in want_shapes)}", hint)
        if any(m.bias is None for m in linears):
            t.fail(f"{what} has a Linear layer without a bias", "keep the default bias=True.")
        # In an nn.Sequential the layers run in the order they are listed, so their order can be judged;
        # a module of one's own may register them in any order, and only its behaviour is judged.
        if sequential:
            kinds = [type(m).__name__ for m in layers]
            last_linear = max(i for i, m in enumerate(layers) if isinstance(m, nn.Linear))
            after = [k for k in kinds[last_linear + 1:] if k not in ("Identity", "Dropout", "Flatten")]
            if after:
                t.fail(f"{what} applies {', '.join(after)} after its last Linear layer",
                       "the network outputs logits: no activation after the last layer (the loss applies softmax).")
            activations = [k for k in kinds if k not in ("Linear", "Identity", "Dropout", "Flatten")]
            if len(linears) > 1 and activations.count("ReLU") != len(linears) - 1:
                t.fail(f"{what} has the layers {describe_layers(layers)}; expected a ReLU between consecutive Linear layers",
                       _COLLAPSE_HINT)
        t.ok()
        count = sum(p.numel() for p in model.parameters())
        t.equal(count, _count(sizes), f"the number of parameters of {what}")
        x = torch.zeros(2, 784)
        try:
            with torch.no_grad():
                out = model(x)
        except Exception as exc:  # the learner's module raised
            t.fail(f"{what}(x) raised {type(exc).__name__}: {exc}".splitlines()[0][:200],
                   "nn.Sequential runs the layers in order; check that each layer's in_features matches the "
                   "previous layer's out_features.")
        t.close(np.asarray(tuple(out.shape), dtype=float), np.array([2.0, 10.0]), f"the shape of {what}(x) for a batch of 2")
        if len(sizes) > 2:
            # A network without nonlinearities is affine: f(a) + f(b) = f(a + b) + f(0) for all a, b.
            gen = torch.Generator().manual_seed(0)
            a, b = torch.randn(4, 784, generator=gen), torch.randn(4, 784, generator=gen)
            with torch.no_grad():
                lhs, rhs = model(a) + model(b), model(a + b) + model(torch.zeros(4, 784))
            if torch.allclose(lhs, rhs, atol=1e-4):
                t.fail(f"{what} computes an affine function of its input (no nonlinearity acts between its layers)",
                       _COLLAPSE_HINT)
            t.ok()


# --------------------------------------------------------------------------------------------------
# Exercise 5: the whole forward pass
# --------------------------------------------------------------------------------------------------


def _mlp_cases():
    rng = _rng(5)
    cases = []
    for sizes, batch in [([6, 5, 4, 3], 4), ([3, 2], 2), ([784, 256, 128, 10], 2), ([4, 8, 3], 5)]:
        weights = [rng.normal(size=(o, i)) / np.sqrt(i) for i, o in zip(sizes[:-1], sizes[1:])]
        biases = [rng.normal(size=o) * 0.5 for o in sizes[1:]]
        x = rng.normal(size=(batch, sizes[0]))
        cases.append((sizes, x, weights, biases))
    return cases


def _torch_mlp(x, weights, biases, *, hidden="relu", final=None):
    """The same network in PyTorch (float64): the reference every other variant is compared with."""
    import torch
    import torch.nn.functional as F

    h = torch.tensor(x)
    for i, (W, b) in enumerate(zip(weights, biases)):
        h = F.linear(h, torch.tensor(W), torch.tensor(b))
        last = i == len(weights) - 1
        act = final if last else hidden
        if act == "relu":
            h = torch.relu(h)
        elif act == "sigmoid":
            h = torch.sigmoid(h)
        elif act == "softmax":
            h = torch.softmax(h, dim=1)
    return h.numpy()


@check("mlp_forward")
def mlp_forward(t: Tester, mlp_forward) -> None:
    """``mlp_forward(x, weights, biases)``: Linear + ReLU for each hidden layer, a Linear output (logits)."""
    t.callable(mlp_forward, "mlp_forward")
    for sizes, x, weights, biases in _mlp_cases():
        got = t.call(mlp_forward, x, weights, biases, errors=[
            (ValueError, "matmul", "each W has shape (out, in): h = h @ W.T + b, layer after layer."),
            (ValueError, "aligned", "each W has shape (out, in): h = h @ W.T + b, layer after layer."),
        ])
        arrow = " → ".join(map(str, sizes))
        what = f"the logits of a {arrow} network"
        got = t.ndarray(got, what)
        t.close(got, _torch_mlp(x, weights, biases), what, mistakes=[
            (lambda: _torch_mlp(x, weights, biases, final="relu"),
             "no ReLU after the last layer: the network outputs logits, which may be negative."),
            (lambda: _torch_mlp(x, weights, biases, hidden=None),
             "apply relu after every hidden layer; without it the layers collapse into one linear map."),
            (lambda: _torch_mlp(x, weights, biases, final="softmax"),
             "return the logits: softmax belongs to the loss (or to the prediction), not to mlp_forward."),
            (lambda: _torch_mlp(x, weights, biases, hidden="sigmoid"),
             "the hidden layers use ReLU here, not the sigmoid."),
            (lambda: _torch_mlp(x[:, :], weights[:1], biases[:1], final=None) if len(weights) > 1 else None,
             "use every layer: loop over zip(weights, biases)."),
        ], rtol=1e-6, atol=1e-8, shape_hint=f"the output should be (batch, classes) = ({x.shape[0]}, {sizes[-1]}): "
                                            "one row of logits per example.")
