"""Checks for the chapter 6 exercises: MNIST with PyTorch.

Use them at the end of each exercise::

    from nncourse.checks import ch06 as check
    check.predict_proba(predict_proba)

``predict_proba``, ``build_mlp``, ``train_loop``, ``lr_results``, ``count_parameters`` and
``n_parameters``. The checks never load MNIST: they run the learner's functions on small models and
random inputs of the right shapes, and compare with the same computation written here in PyTorch.
"""

from __future__ import annotations

import copy

import numpy as np

from .framework import Tester, check, fmt
from .models import describe_layers, leaf_modules
from .reference import softmax as _softmax

__all__ = ["predict_proba", "build_mlp", "train_loop", "lr_results", "count_parameters", "n_parameters"]

N_PIXELS, N_CLASSES = 784, 10
LEARNING_RATES = (0.003, 0.03, 0.3, 3.0)


def _small_classifier(seed=0, n_in=N_PIXELS, hidden=16, n_out=N_CLASSES, spread=4.0):
    import torch
    from torch import nn

    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, n_out))
    with torch.no_grad():
        model[2].weight.mul_(spread)  # spread the logits out, so that mistakes show clearly
    return model


# --------------------------------------------------------------------------------------------------
# Exercise 1: from logits to probabilities
# --------------------------------------------------------------------------------------------------


@check("predict_proba")
def predict_proba(t: Tester, predict_proba) -> None:
    """``predict_proba(model, X) -> (N, 10)`` NumPy array: the softmax of the model's logits, rows summing to 1."""
    import torch

    t.callable(predict_proba, "predict_proba")
    rng = np.random.default_rng(60)
    for seed, n in [(0, 6), (1, 1), (2, 25)]:
        model = _small_classifier(seed)
        X = rng.random((n, N_PIXELS), dtype=np.float32)
        with torch.no_grad():
            logits = model(torch.from_numpy(X)).double().numpy()
        want = _softmax(logits)
        what = f"predict_proba on a batch of {n}"
        got = t.call(predict_proba, model, X, errors=[
            (TypeError, "numpy", "the model is a PyTorch module: give it a tensor, torch.from_numpy(X), and turn the "
                                 "result back with .numpy() (inside torch.no_grad())."),
            (RuntimeError, "grad", "compute the outputs inside `with torch.no_grad():` (or call .detach()) before .numpy()."),
        ])
        if isinstance(got, tuple):
            t.fail(f"{what} returned a tuple, expected one (N, 10) array of probabilities",
                   "return only the probabilities: torch.softmax(logits, dim=1).numpy().")
        if tuple(getattr(got, "shape", ())) == (n,):
            t.fail(f"{what} should have shape {(n, N_CLASSES)}, yours has shape {tuple(got.shape)}",
                   "return all ten probabilities of each digit; the predicted class (argmax) comes later.")
        arr = t.ndarray(got, what)
        t.close(arr, want, what, mistakes=[
            (logits, "those are the logits, not probabilities (rows do not sum to 1): apply the softmax, "
                     "torch.softmax(logits, dim=1)."),
            (np.exp(logits), "normalise: divide each row by its sum so that the probabilities sum to 1 "
                             "(torch.softmax does both)."),
            (lambda: _softmax(logits, axis=0), "apply the softmax over the classes of each digit (dim=1), not over the "
                                               "batch (dim=0): each row must sum to 1."),
            (1.0 / (1.0 + np.exp(-logits)), "the sigmoid treats every class on its own, so the rows do not sum to 1: "
                                            "use the softmax over the classes, torch.softmax(logits, dim=1)."),
            (np.log(want), "those are log-probabilities (log_softmax); return the probabilities themselves, "
                           "torch.softmax(logits, dim=1)."),
        ], rtol=1e-4, atol=1e-6, shape_hint=f"one row per image and one column per class: shape {(n, N_CLASSES)}.")
        t.close(arr.sum(axis=1), np.ones(n), f"the row sums of {what}", rtol=1e-4, atol=1e-5)
        t.equal(arr.argmax(axis=1).tolist(), logits.argmax(axis=1).tolist(),
                f"the most probable classes for {what}")


# --------------------------------------------------------------------------------------------------
# Exercise 2: deeper networks
# --------------------------------------------------------------------------------------------------


def _want_linears(n_hidden, width):
    sizes = [N_PIXELS] + [width] * n_hidden + [N_CLASSES]
    return list(zip(sizes[:-1], sizes[1:]))


@check("build_mlp")
def build_mlp(t: Tester, build_mlp) -> None:
    """``build_mlp(n_hidden, width=64, seed=0)``: n_hidden × (Linear, ReLU), then Linear(width, 10)."""
    import torch
    from torch import nn

    t.callable(build_mlp, "build_mlp")
    for n_hidden, width in [(1, 64), (0, 64), (2, 32), (3, 16)]:
        what = f"build_mlp({n_hidden}, width={width})"
        model = t.call(build_mlp, n_hidden, width=width, seed=0, errors=[
            (TypeError, "unexpected keyword", "keep the signature build_mlp(n_hidden, width=64, seed=0)."),
        ])
        t.require(model, what)
        if not isinstance(model, nn.Module):
            t.fail(f"{what} should return a torch.nn.Module, yours returns {type(model).__name__}",
                   "build it with nn.Sequential(*layers).")
        layers = leaf_modules(model)
        linears = [m for m in layers if isinstance(m, nn.Linear)]
        shapes = [(m.in_features, m.out_features) for m in linears]
        want = _want_linears(n_hidden, width)
        if shapes != want:
            hint = "each hidden layer is Linear + ReLU, and one more Linear(width, 10) outputs the logits."
            if len(shapes) == len(want) - 1:
                hint = (f"n_hidden = {n_hidden} needs {n_hidden + 1} Linear layers: the hidden ones plus the output "
                        f"layer Linear(..., 10).")
            elif len(shapes) == len(want) + 1:
                hint = f"n_hidden = {n_hidden} needs {n_hidden + 1} Linear layers, not {len(shapes)}."
            elif len(shapes) == len(want) and n_hidden > 0 and all(o != width for _, o in shapes[:-1]):
                hint = "use the width argument for the hidden layers."
            t.fail(f"{what} has the layers {describe_layers(layers)}; expected the Linear layers "
                   f"{', '.join(f'Linear({i}, {o})' for i, o in want)}", hint)
        t.ok()
        if isinstance(model, nn.Sequential):
            kinds = [type(m).__name__ for m in layers]
            last = max(i for i, m in enumerate(layers) if isinstance(m, nn.Linear))
            after = [k for k in kinds[last + 1:] if k not in ("Identity", "Dropout", "Flatten")]
            if after:
                t.fail(f"{what} ends with {', '.join(after)} after its last Linear layer",
                       "the network outputs logits: nn.CrossEntropyLoss applies the softmax itself, so nothing "
                       "comes after the last Linear layer.")
            n_relu = kinds.count("ReLU")
            if n_relu != n_hidden:
                t.fail(f"{what} has the layers {describe_layers(layers)}: {n_relu} ReLU(s) for {n_hidden} hidden layer(s)",
                       "put an nn.ReLU() after every hidden Linear layer: without a nonlinearity, stacked Linear "
                       "layers are no better than one.")
            t.ok()
        with torch.no_grad():
            out = t.call(lambda: model(torch.zeros(3, N_PIXELS)))
        t.close(np.asarray(tuple(out.shape), dtype=float), np.array([3.0, 10.0]), f"the output shape of {what} for a batch of 3")
    first = t.call(build_mlp, 2, width=32, seed=0)
    again = t.call(build_mlp, 2, width=32, seed=0)
    other = t.call(build_mlp, 2, width=32, seed=1)
    same = all(torch.equal(a, b) for a, b in zip(first.parameters(), again.parameters()))
    differ = any(not torch.equal(a, b) for a, b in zip(first.parameters(), other.parameters()))
    if not same or not differ:
        t.fail("build_mlp(2, width=32, seed=...) does not start from weights fixed by the seed",
               "call torch.manual_seed(seed) at the start of build_mlp, before creating the layers.")
    t.ok()


# --------------------------------------------------------------------------------------------------
# Exercise 3: a training loop, and the learning rate
# --------------------------------------------------------------------------------------------------


def _reference_loop(model, X, y, lr, epochs, batch_size, *, zero_grad=True, reduction="mean", one_epoch=False,
                    drop_last=False):
    import torch
    from torch import nn

    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss(reduction=reduction)
    losses = []
    for _ in range(1 if one_epoch else epochs):
        batch_losses = []
        for start in range(0, len(X), batch_size):
            if drop_last and start + batch_size > len(X):
                break
            xb = torch.from_numpy(X[start:start + batch_size])
            yb = torch.from_numpy(y[start:start + batch_size])
            if zero_grad:
                optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            batch_losses.append(loss.item())
        losses.append(float(np.mean(batch_losses)))
    return losses


def _flat(model) -> np.ndarray:
    return np.concatenate([p.detach().double().numpy().ravel() for p in model.parameters()])


@check("train_loop")
def train_loop(t: Tester, train) -> None:
    """``train(model, X, y, lr, epochs=3, batch_size=64)``: plain SGD on CrossEntropyLoss, batches in order."""
    t.callable(train, "train")
    rng = np.random.default_rng(61)
    X = rng.normal(size=(37, 5)).astype(np.float32)
    y = rng.integers(0, 3, size=37)
    start_model = _small_classifier(3, n_in=5, hidden=8, n_out=3, spread=1.0)
    lr, epochs, batch_size = 0.2, 2, 10

    def trained(**variant):
        model = copy.deepcopy(start_model)
        losses = _reference_loop(model, X, y, lr, epochs, batch_size, **variant)
        return model, losses

    want_model, want_losses = trained()
    model = copy.deepcopy(start_model)
    losses = t.call(train, model, X.copy(), y.copy(), lr, epochs=epochs, batch_size=batch_size, copy_args=False, errors=[
        (TypeError, "unexpected keyword", "keep the signature train(model, X, y, lr, epochs=3, batch_size=64)."),
        (RuntimeError, "expected scalar type", "the images are float32 and the labels int64: convert them with "
                                               "torch.from_numpy(...) (no .float() or .long() needed)."),
    ])
    what = "the weights after train(model, X, y, lr=0.2, epochs=2, batch_size=10) on 37 examples"
    got = _flat(model)
    start = _flat(start_model)
    if np.array_equal(got, start):
        t.fail(f"{what} are unchanged", "train the model you receive, in place: optimizer = torch.optim.SGD("
                                        "model.parameters(), lr=lr), and call optimizer.step() after loss.backward().")
    t.close(got, _flat(want_model), what, mistakes=[
        (lambda: _flat(trained(zero_grad=False)[0]),
         "call optimizer.zero_grad() before every backward pass: PyTorch adds new gradients to the old ones."),
        (lambda: _flat(trained(reduction="sum")[0]),
         "use the mean loss over the batch (nn.CrossEntropyLoss() by default), not the sum."),
        (lambda: _flat(trained(one_epoch=True)[0]), "repeat the pass over the data for `epochs` epochs."),
        (lambda: _flat(trained(drop_last=True)[0]),
         "keep the last, smaller batch: range(0, len(X), batch_size) with X[start:start + batch_size]."),
    ], rtol=1e-4, atol=1e-6, hint="visit the batches in order (no shuffling), and for each: zero_grad, loss, "
                                  "backward, step, with torch.optim.SGD(model.parameters(), lr=lr).")
    if losses is None:
        t.fail("train returned None, expected the list of per-epoch losses", "end with: return losses")
    if not isinstance(losses, (list, tuple, np.ndarray)) or len(losses) != epochs:
        t.fail(f"train should return one loss per epoch ({epochs} numbers), yours returns {fmt(losses)}",
               "append the mean of the epoch's batch losses (loss.item()) to a list after every epoch.")
    if any(type(v).__module__.startswith("torch") for v in losses):
        t.fail("train returns the losses as torch tensors, expected plain numbers",
               "keep numbers, not tensors: batch_losses.append(loss.item()). A loss tensor drags its whole computation "
               "graph along (memory), and the text asks for a list of floats.")
    t.close(t.array([t.scalar(v, "a returned loss") for v in losses], "the returned losses"), want_losses,
            "the per-epoch losses",
            rtol=1e-4, hint="each epoch's loss is the mean of its batch losses (loss.item()).")


@check("lr_results")
def lr_results(t: Tester, lr_accuracy) -> None:
    """``lr_accuracy``: ``{lr: test accuracy}`` for the learning rates 0.003, 0.03, 0.3 and 3.0."""
    t.require(lr_accuracy, "lr_accuracy")
    if not isinstance(lr_accuracy, dict):
        t.fail(f"lr_accuracy should be a dict {{learning rate: accuracy}}, yours is {type(lr_accuracy).__name__}")
    keys = sorted(float(k) for k in lr_accuracy)
    if len(keys) != len(LEARNING_RATES) or not np.allclose(keys, LEARNING_RATES):
        t.fail(f"lr_accuracy has the learning rates {keys}, expected {list(LEARNING_RATES)}",
               "train one fresh model per learning rate in (0.003, 0.03, 0.3, 3.0).")
    values = {float(k): t.scalar(v, f"lr_accuracy[{k}]") for k, v in lr_accuracy.items()}
    if any(v > 1.0 for v in values.values()):
        t.fail(f"lr_accuracy holds {fmt(list(values.values()))}: an accuracy above 1",
               "store accuracies as fractions between 0 and 1 (what evaluate returns), not percentages.")
    if any(not 0.0 <= v <= 1.0 for v in values.values()):
        t.fail(f"lr_accuracy holds {fmt(list(values.values()))}: accuracies are fractions between 0 and 1")
    t.ok()
    if len(set(values.values())) == 1:
        t.fail("every learning rate gives the same accuracy",
               "pass the learning rate on to your train function (and from there to torch.optim.SGD), and build a "
               "fresh model for each learning rate.")
    best = max(values, key=values.get)
    if best == min(values):
        t.fail(f"the smallest learning rate, {min(values)}, gives the best accuracy",
               "with 0.003 the model takes tiny steps and learns little in 3 epochs: did you train the same model "
               "again for every learning rate? Build a fresh one (build_mlp(1, seed=0)) each time.")
    t.ok()


# --------------------------------------------------------------------------------------------------
# Exercise 4: counting parameters
# --------------------------------------------------------------------------------------------------


@check("count_parameters")
def count_parameters(t: Tester, count_parameters) -> None:
    """``count_parameters(model)``: the number of numbers in all the model's parameters (weights and biases)."""
    from torch import nn

    t.callable(count_parameters, "count_parameters")
    frozen = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 2, bias=False))
    frozen[0].weight.requires_grad_(False)
    models = [
        ("nn.Linear(784, 10)", nn.Linear(784, 10)),
        ("784 → 64 → 10", nn.Sequential(nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))),
        ("a network with a frozen weight and a layer without bias", frozen),
    ]
    for name, model in models:
        params = list(model.parameters())
        want = sum(p.numel() for p in params)
        got = t.call(count_parameters, model)
        if isinstance(got, np.generic) or type(got).__module__.startswith("torch"):
            got = got.item()
        t.equal(got, want, f"count_parameters({name})", mistakes=[
            (len(params), "that counts the parameter tensors (weights and biases); count the numbers in them: "
                          "sum(p.numel() for p in model.parameters())."),
            (sum(p.numel() for p in params if p.dim() > 1), "biases are parameters too: count every tensor "
                                                            "in model.parameters()."),
            (sum(p.numel() for p in params if p.requires_grad), "count every parameter, trainable or not "
                                                                "(a frozen weight still belongs to the model)."),
            (sum(p.shape[0] for p in params), "p.shape[0] is only the first dimension; p.numel() multiplies them all."),
        ], hint="sum(p.numel() for p in model.parameters()).")


@check("n_parameters")
def n_parameters(t: Tester, n_by_hand) -> None:
    """The hand count for build_mlp(2, width=64): 784·64 + 64 + 64·64 + 64 + 64·10 + 10 = 55,050."""
    t.require(n_by_hand, "n_by_hand")
    got = n_by_hand.item() if isinstance(n_by_hand, np.generic) else n_by_hand
    if isinstance(got, float) and got.is_integer():
        got = int(got)
    pairs = _want_linears(2, 64)
    t.equal(got, sum(i * o + o for i, o in pairs), "n_by_hand (784 → 64 → 64 → 10)", mistakes=[
        (sum(i * o for i, o in pairs), "you forgot the biases: each Linear layer adds one per output, in·out + out."),
        (sum(i * o + i for i, o in pairs), "one bias per output neuron, not per input: in·out + out."),
        (sum(i * o + o for i, o in _want_linears(1, 64)), "that counts build_mlp(1): two hidden layers mean three "
                                                          "Linear layers, 784 → 64 → 64 → 10."),
        (sum(i * o + o for i, o in _want_linears(3, 64)), "two hidden layers mean three Linear layers, 784 → 64 → 64 → 10."),
        (784 + 64 + 64 + 10, "that counts neurons; count weights (in·out per layer) and biases (out per layer)."),
    ], hint="add in·out + out over the three Linear layers 784 → 64, 64 → 64 and 64 → 10.")
