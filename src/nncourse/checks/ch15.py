"""Checks for the chapter 15 exercises: scaling up.

Use them at the end of each exercise::

    from nncourse.checks import ch15 as check
    check.train_step(train_step)

``train_step`` (a device-agnostic training step, checked on the CPU), ``sharded_gradient`` (shard a
batch, average the workers' gradients), ``accumulate_gradients`` (micro-batches with the right
scaling), ``adam_memory_bytes`` (the memory Adam training needs for a model) and
``checkpoint_round_trip`` (save and load a checkpoint, then continue as if nothing had happened).
The references are PyTorch itself; the wrong answers the checks recognise are written out next to
their hints.
"""

from __future__ import annotations

import contextlib
import numbers
import os
import tempfile

import numpy as np

from .framework import Tester, check

__all__ = ["train_step", "sharded_gradient", "accumulate_gradients", "adam_memory_bytes",
           "checkpoint_round_trip"]


def _mlp(seed, sizes=(4, 6, 3), dtype=None):
    import torch
    torch.manual_seed(seed)
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [torch.nn.Linear(a, b, dtype=dtype or torch.float64), torch.nn.Tanh()]
    return torch.nn.Sequential(*layers[:-1])


def _tied(vocab, dim):
    """An embedding and an output layer that share one weight (weight tying, as in GPT-2)."""
    import torch

    torch.manual_seed(0)
    embedding, head = torch.nn.Embedding(vocab, dim), torch.nn.Linear(dim, vocab, bias=False)
    head.weight = embedding.weight
    return torch.nn.Sequential(embedding, head)


def _weights(model):
    return np.concatenate([p.detach().cpu().numpy().ravel() for p in model.parameters()])


# --------------------------------------------------------------------------------------------------
# Exercise 1: a device-agnostic training step
# --------------------------------------------------------------------------------------------------


def _tracked_class():
    import torch

    class Tracked(torch.Tensor):
        """A CPU tensor that remembers whether ``.to(...)`` was called on it."""

        def to(self, *args, **kwargs):
            self._moved = True
            return torch.Tensor.to(self.as_subclass(torch.Tensor), *args, **kwargs)

    return Tracked


@check("train_step")
def train_step(t: Tester, train_step) -> None:
    """``train_step(model, batch, optimizer, device) -> float``: one step of cross-entropy training."""
    import torch

    t.callable(train_step, "train_step")
    Tracked = _tracked_class()
    device = torch.device("cpu")
    g = torch.Generator().manual_seed(150)
    x = torch.randn(10, 4, generator=g, dtype=torch.float64)
    y = torch.randint(0, 3, (10,), generator=g)

    def reference(steps):
        model = _mlp(0)
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        losses = []
        for _ in range(steps):
            loss = torch.nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return model, losses

    model = _mlp(0)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    start = _weights(model)
    with torch.no_grad():
        logits = model(x)
    got_losses = []
    # for each optimizer.step(): were all the gradients zero (or None) when it ran?
    steps_on_zero = []
    hook = opt.register_step_pre_hook(lambda optimizer, args, kwargs: steps_on_zero.append(all(
        p.grad is None or not bool(p.grad.any()) for group in optimizer.param_groups for p in group["params"])))
    for step in range(2):
        xb, yb = x.clone().as_subclass(Tracked), y.clone().as_subclass(Tracked)
        got = t.call(train_step, model, (xb, yb), opt, device, copy_args=False, errors=[
            (RuntimeError, "same device", "move the batch where the model is: x, y = x.to(device), y.to(device)."),
            (TypeError, "unpack", "batch is a pair (x, y): unpack it with x, y = batch."),
        ])
        if isinstance(got, torch.Tensor):
            t.fail("train_step should return the loss as a Python float, yours returns a tensor",
                   "return loss.item(): a float works on every device, and does not keep the graph alive.")
        if not isinstance(got, numbers.Real) or isinstance(got, bool):
            t.fail(f"train_step should return the loss as a float, yours returns {type(got).__name__}",
                   "end with: return loss.item()")
        if not (getattr(xb, "_moved", False) and getattr(yb, "_moved", False)):
            which = "x" if not getattr(xb, "_moved", False) else "y"
            t.fail(f"train_step did not move {which} to the device",
                   "on a GPU the model's weights are on cuda and the batch on the CPU: call "
                   "x, y = x.to(device), y.to(device) on both tensors of the batch (a no-op on the CPU).")
        got_losses.append(float(got))
    hook.remove()
    want_model, want_losses = reference(2)
    now = _weights(model)
    if np.array_equal(now, start):
        if steps_on_zero and all(steps_on_zero):
            t.fail("after train_step the weights have not changed: optimizer.step() ran, but every gradient was "
                   "zero (or None) when it did", "optimizer.zero_grad() between loss.backward() and "
                   "optimizer.step() erases the gradients backward() just computed: the order is zero_grad(), "
                   "backward(), step().")
        t.fail("after train_step the weights have not changed", "call optimizer.step() after loss.backward().")
    F = torch.nn.functional
    t.close(got_losses[0], want_losses[0], "the loss returned by the first step", rtol=1e-10, mistakes=[
        (F.nll_loss(logits, y).item(), "nll_loss expects log-probabilities, and the model's outputs are logits: "
                                       "use F.cross_entropy(logits, y), which applies log_softmax itself."),
        (F.cross_entropy(F.softmax(logits, dim=1), y).item(),
         "cross_entropy applies log_softmax itself: give it the logits, not softmax's probabilities (a second "
         "softmax flattens the loss and shrinks its gradients)."),
        (F.nll_loss(F.softmax(logits, dim=1), y).item(),
         "nll_loss expects log-probabilities, and softmax gives probabilities: use F.cross_entropy(logits, y) "
         "on the logits."),
        (F.nll_loss(F.log_softmax(logits, dim=0), y).item(),
         "log_softmax over dim=0 normalises over the batch; the classes are dim=1. F.cross_entropy(logits, y) "
         "does it for you."),
    ])
    no_zero = _mlp(0)
    opt_nz = torch.optim.SGD(no_zero.parameters(), lr=0.1, momentum=0.9)
    for _ in range(2):
        torch.nn.functional.cross_entropy(no_zero(x), y).backward()
        opt_nz.step()
    t.close(now, _weights(want_model), "the weights after two calls of train_step", rtol=1e-10, atol=1e-12,
            mistakes=[
                (_weights(no_zero), "the gradients of the first step were still in .grad during the second: "
                                    "call optimizer.zero_grad() before loss.backward() in every step."),
            ])
    t.close(got_losses[1], want_losses[1], "the loss returned by the second step", rtol=1e-10)


# --------------------------------------------------------------------------------------------------
# Exercise 2: shard a batch and average the gradients
# --------------------------------------------------------------------------------------------------


def _mse_gradient(w):
    def grad_fn(x_shard, y_shard):          # d/dw of mean((x w - y)^2) over the shard
        return 2.0 / len(x_shard) * x_shard.T @ (x_shard @ w - y_shard)
    return grad_fn


@check("sharded_gradient")
def sharded_gradient(t: Tester, sharded_gradient) -> None:
    """``sharded_gradient(grad_fn, x, y, world_size) -> gradient`` of the mean loss over the whole batch."""
    t.callable(sharded_gradient, "sharded_gradient")
    rng = np.random.default_rng(151)
    for description, n, W in [("12 examples on 4 workers", 12, 4), ("13 examples on 4 workers (uneven)", 13, 4),
                              ("10 examples on 3 workers (uneven)", 10, 3), ("5 examples on 1 worker", 5, 1)]:
        x, y = rng.normal(size=(n, 3)), rng.normal(size=n)
        w = rng.normal(size=3)
        grad_fn = _mse_gradient(w)
        want = grad_fn(x, y)
        calls = []

        def counting(xs, ys, _f=grad_fn):
            calls.append(len(xs))
            return _f(xs, ys)
        got = t.call(sharded_gradient, counting, x, y, W, errors=[   # copies of x and y; counting is shared
            (ValueError, "equal division", "np.split needs shards of equal size; np.array_split(x, world_size) "
                                           "allows sizes that differ by one."),
        ])
        got = t.array(got, f"sharded_gradient for {description}")
        if len(calls) == 1 and W > 1:
            t.fail(f"for {description} grad_fn was called once, on {calls[0]} examples",
                   "each worker computes the gradient of its own shard: call grad_fn once per shard.")
        shards = np.array_split(np.arange(n), W)
        grads = [grad_fn(x[s], y[s]) for s in shards]
        t.close(got, want, f"sharded_gradient for {description}", rtol=1e-10, atol=1e-12, mistakes=[
            (lambda: np.mean(grads, axis=0), "with uneven shards the plain mean is not the full-batch gradient: "
                                             "weight each shard's gradient by its share N_w / N of the examples."),
            (lambda: np.sum(grads, axis=0), "that is the sum of the workers' gradients, W times too large: "
                                            "average them (weighted by N_w / N)."),
            (grads[0], "that is worker 0's gradient alone: the all-reduce combines every worker's."),
            (lambda: sum(len(s) * g for s, g in zip(shards, grads)), "weight each gradient by N_w / N, "
                                                                     "the shard's *fraction* of the batch."),
        ])


# --------------------------------------------------------------------------------------------------
# Exercise 3: gradient accumulation
# --------------------------------------------------------------------------------------------------


@check("accumulate_gradients")
def accumulate_gradients(t: Tester, accumulate_gradients) -> None:
    """``accumulate_gradients(model, x, y, micro_batch_size)``: leave the large batch's MSE gradient in .grad."""
    import torch

    t.callable(accumulate_gradients, "accumulate_gradients")
    g = torch.Generator().manual_seed(152)
    for description, n, micro in [("10 examples in micro-batches of 5", 10, 5),
                                  ("10 examples in micro-batches of 4 (4, 4, 2)", 10, 4),
                                  ("7 examples in micro-batches of 7", 7, 7), ("6 examples one at a time", 6, 1)]:
        x = torch.randn(n, 4, generator=g, dtype=torch.float64)
        y = torch.randn(n, 3, generator=g, dtype=torch.float64)
        model = _mlp(1)
        for p in model.parameters():              # stale gradients from an earlier step
            p.grad = torch.full_like(p, 0.5)
        seen = []
        hook = model.register_forward_pre_hook(lambda module, inputs: seen.append(len(inputs[0])))
        try:
            t.call(accumulate_gradients, model, x, y, micro, copy_args=False)
        finally:
            hook.remove()
        if not seen:
            t.fail("accumulate_gradients never ran the model", "run model(x[i:i + micro_batch_size]) per micro-batch.")
        if max(seen) > micro:
            t.fail(f"for {description} the model saw {max(seen)} examples at once",
                   f"the point is never to run more than micro_batch_size = {micro} examples at a time: loop "
                   f"over x[i:i + micro_batch_size].")
        if any(p.grad is None for p in model.parameters()):
            t.fail("after accumulate_gradients some .grad is None", "call loss.backward() for every micro-batch.")
        got = np.concatenate([p.grad.numpy().ravel() for p in model.parameters()])

        def grads(scales, zero=True, last_only=False):
            m = _mlp(1)
            if not zero:
                for p in m.parameters():
                    p.grad = torch.full_like(p, 0.5)
            parts = [slice(i, min(i + micro, n)) for i in range(0, n, micro)]
            for part, scale in zip(parts, scales(parts)):
                if last_only:
                    m.zero_grad()
                (torch.nn.functional.mse_loss(m(x[part]), y[part]) * scale).backward()
            return np.concatenate([p.grad.numpy().ravel() for p in m.parameters()])

        want = grads(lambda parts: [(p.stop - p.start) / n for p in parts])
        what = f"the gradient left in .grad for {description}"
        t.close(got, want, what, rtol=1e-10, atol=1e-12, mistakes=[
            (lambda: grads(lambda parts: [(p.stop - p.start) / n for p in parts], zero=False),
             "the stale gradients that were in .grad are still in the sum: call model.zero_grad() first, "
             "once, before the loop."),
            (lambda: grads(lambda parts: [1.0] * len(parts)),
             "each micro-batch's mean loss must be scaled by N_k / N before backward; without it the gradient "
             "is K times too large (as if the learning rate were K times larger)."),
            (lambda: grads(lambda parts: [1.0 / len(parts)] * len(parts)),
             "scaling by 1/K is right only when all micro-batches have the same size: use N_k / N "
             "(the micro-batch's share of the examples)."),
            (lambda: grads(lambda parts: [(p.stop - p.start) / n for p in parts], last_only=True),
             "only the last micro-batch is left: zero the gradients once before the loop, not inside it."),
        ])


# --------------------------------------------------------------------------------------------------
# Exercise 4: Adam's memory for a model
# --------------------------------------------------------------------------------------------------


@check("adam_memory_bytes")
def adam_memory_bytes(t: Tester, adam_memory_bytes) -> None:
    """``adam_memory_bytes(model) -> int``: bytes of the weights, gradients and Adam's two moments."""
    import torch

    t.callable(adam_memory_bytes, "adam_memory_bytes")
    mixed = torch.nn.Sequential(torch.nn.Linear(8, 16, dtype=torch.float64), torch.nn.Linear(16, 4))
    # the mixed model first: there every mistake gives a different number
    cases = [("an MLP with a float64 and a float32 layer", mixed),
             ("a float32 MLP 10-32-5", torch.nn.Sequential(torch.nn.Linear(10, 32), torch.nn.ReLU(),
                                                           torch.nn.Linear(32, 5))),
             ("a float64 Linear(6, 3)", torch.nn.Linear(6, 3, dtype=torch.float64)),
             ("a bfloat16 Linear(100, 100, bias=False)", torch.nn.Linear(100, 100, bias=False, dtype=torch.bfloat16)),
             # buffers (BatchNorm's running statistics) have no gradient and no moments; a tied weight is one
             # parameter under two names in state_dict()
             ("an MLP with a BatchNorm1d(8)", torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.BatchNorm1d(8),
                                                                  torch.nn.ReLU(), torch.nn.Linear(8, 2))),
             ("an embedding whose weight the output layer shares (tied)", _tied(20, 8))]
    for description, model in cases:
        # the real thing: one Adam step (on zero gradients), then count what is in memory
        opt = torch.optim.Adam(model.parameters())
        params = list(model.parameters())
        for p in params:
            p.grad = torch.zeros_like(p)
        opt.step()
        want = sum(p.numel() * p.element_size() for p in params)                          # weights
        want += sum(p.grad.numel() * p.grad.element_size() for p in params)                # gradients
        want += sum(s[k].numel() * s[k].element_size() for s in opt.state.values() for k in ("exp_avg", "exp_avg_sq"))
        got = t.call(adam_memory_bytes, model, copy_args=False)
        what = f"adam_memory_bytes for {description}"
        if isinstance(got, (float, np.floating)):
            t.fail(f"{what} should return an int (a number of bytes), yours returns the float {got!r}",
                   "bytes are a whole number: numel() and element_size() are ints, and so are their products "
                   "and sums; a division (/) or a float factor makes a float. Use ints, or // (or int(...)).")
        if not isinstance(got, numbers.Integral) or isinstance(got, bool):
            t.fail(f"{what} should return an int (bytes), yours returns {type(got).__name__} {got!r:.60}",
                   "return the number of bytes itself, an int: sum(... for p in model.parameters()).")
        n = sum(p.numel() for p in params)
        bytes_w = sum(p.numel() * p.element_size() for p in params)
        bytes_state_dict = sum(v.numel() * v.element_size() for v in model.state_dict().values())
        t.equal(int(got), want, what, mistakes=[
            (4 * bytes_state_dict, "state_dict() also holds the buffers (BatchNorm's running statistics, which "
                                   "have no gradient and no Adam moments) and lists a tied weight once per name: "
                                   "count model.parameters(), which yields each parameter once."),
            (n, "that is the number of parameters; multiply each tensor's numel() by its element_size() (bytes)."),
            (4 * n, "that counts four numbers per parameter, not their bytes: multiply by p.element_size() "
                    "(4 for float32, 8 for float64, 2 for bfloat16)."),
            (16 * n, "that assumes 4 bytes per number: use p.element_size() (8 for float64, 2 for bfloat16)."),
            (bytes_w, "that is the weights alone: add the gradients (one number per weight) and Adam's two moments."),
            (2 * bytes_w, "weights and gradients are there; Adam's state (m and v, two numbers per weight) is missing."),
            (3 * bytes_w, "one of the four is missing: weights, gradients, and Adam's two moments m and v."),
        ])


# --------------------------------------------------------------------------------------------------
# Exercise 5: a checkpoint round trip
# --------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _optimizer_loads():
    """Collect every optimizer whose ``load_state_dict`` runs inside the block."""
    import torch

    loaded, original = [], torch.optim.Optimizer.load_state_dict

    def recording(self, state_dict):
        loaded.append(self)
        return original(self, state_dict)

    torch.optim.Optimizer.load_state_dict = recording
    try:
        yield loaded
    finally:
        torch.optim.Optimizer.load_state_dict = original


@check("checkpoint_round_trip")
def checkpoint_round_trip(t: Tester, save_checkpoint, load_checkpoint) -> None:
    """``save_checkpoint(path, model, optimizer, step)``; ``load_checkpoint(path, model, optimizer) -> step``."""
    import torch

    t.callable(save_checkpoint, "save_checkpoint")
    t.callable(load_checkpoint, "load_checkpoint")
    g = torch.Generator().manual_seed(153)
    x = torch.randn(16, 4, generator=g, dtype=torch.float64)
    y = torch.randn(16, 3, generator=g, dtype=torch.float64)

    def setup(seed):
        model = _mlp(seed)
        opt = torch.optim.Adam(model.parameters(), lr=0.01)
        return model, opt

    def steps(model, opt, k):
        for _ in range(k):
            opt.zero_grad()
            torch.nn.functional.mse_loss(model(x), y).backward()
            opt.step()

    model, opt = setup(2)
    steps(model, opt, 3)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "checkpoint.pt")
        t.call(save_checkpoint, path, model, opt, 3, copy_args=False)
        if not os.path.exists(path):
            t.fail("save_checkpoint did not write a file at the path it was given",
                   "torch.save({...}, path) with the path argument.")
        steps(model, opt, 4)                                  # the uninterrupted run continues
        fresh, fresh_opt = setup(9)                           # another start: load must overwrite it
        with _optimizer_loads() as loaded_into:
            step = t.call(load_checkpoint, path, fresh, fresh_opt, copy_args=False, errors=[
                (Exception, "weights_only", "torch.load(path, weights_only=True) refuses objects: save "
                                            "state_dict()s (plain tensors and numbers), not the model itself."),
            ])
    if step is None:
        t.fail("load_checkpoint returned None", "return the step that was saved, so the loop knows where to go on.")
    t.equal(step, 3, "the step returned by load_checkpoint")
    if not fresh_opt.state and any(opt is not fresh_opt for opt in loaded_into):
        t.fail("after load_checkpoint the optimizer has no state (Adam's moments are lost): the state went into "
               "another optimizer", "load it into the optimizer load_checkpoint was given, "
               "optimizer.load_state_dict(checkpoint['optimizer']): an optimizer created inside load_checkpoint "
               "is lost when the function returns, and the training loop keeps using its own.")
    if not fresh_opt.state:
        t.fail("after load_checkpoint the optimizer has no state (Adam's moments are lost)",
               "save optimizer.state_dict() in the checkpoint and call optimizer.load_state_dict(...) "
               "when loading: a resumed Adam without its moments takes different steps.")
    if np.array_equal(_weights(fresh), _weights(setup(9)[0])):
        t.fail("after load_checkpoint the model still has its own starting weights",
               "call model.load_state_dict(checkpoint['model']) when loading.")
    steps(fresh, fresh_opt, 4)
    t.close(_weights(fresh), _weights(model), "the weights 4 steps after resuming", rtol=0, atol=1e-12,
            hint="resuming should continue exactly as the uninterrupted run: restore both the model's and the "
                 "optimizer's state_dict, and the optimizer must be the one built on this model's parameters.")
