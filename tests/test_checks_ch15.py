"""The exercise checks of chapter 15 (scaling up).

For every check: the solution from solutions/15_scaling.ipynb passes (the functions are taken from the
notebook itself), the stub and the placeholder ``...`` are "not implemented yet", and plausible wrong
answers fail with the hint meant for them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from nncourse.checks import ch15
from check_helpers import assert_hint, run, solution_namespace, stub

ROOT = Path(__file__).resolve().parents[1]


def solution() -> dict:
    return solution_namespace("15_scaling")


ONE_ARGUMENT = ["train_step", "sharded_gradient", "accumulate_gradients", "adam_memory_bytes"]


@pytest.mark.parametrize("name", ONE_ARGUMENT)
def test_solution_passes_stub_and_placeholder_do_not(name):
    check_fn = getattr(ch15, name)
    assert run(check_fn, solution()[name]), name
    assert run(check_fn, stub).status == "not implemented"
    assert run(check_fn, ...).status == "not implemented"


def test_checkpoint_solution_passes_stubs_do_not():
    s = solution()
    assert run(ch15.checkpoint_round_trip, s["save_checkpoint"], s["load_checkpoint"])
    assert run(ch15.checkpoint_round_trip, stub, s["load_checkpoint"]).status == "not implemented"
    assert run(ch15.checkpoint_round_trip, s["save_checkpoint"], stub).status == "not implemented"
    assert run(ch15.checkpoint_round_trip, ..., ...).status == "not implemented"


# -- exercise 1: train_step -------------------------------------------------------------------------

def _step(move=True, zero=True, step=True, item=True, unpack=True, order="zero_grad, backward, step",
          loss=torch.nn.functional.cross_entropy):
    def train_step(model, batch, optimizer, device):
        x, y = batch if unpack else (batch, None)
        if move:
            x, y = x.to(device), y.to(device)
        value = loss(model(x), y)
        calls = {"zero_grad": optimizer.zero_grad if zero else (lambda: None), "backward": value.backward,
                 "step": optimizer.step if step else (lambda: None)}
        for name in order.split(", "):
            calls[name]()
        return value.item() if item else value
    return train_step


def _moves_only_x(model, batch, optimizer, device):
    x, y = batch
    loss = torch.nn.functional.cross_entropy(model(x.to(device)), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


@pytest.mark.parametrize("wrong, needles", [
    (_step(move=False), ["did not move x", "x.to(device)"]),
    (_moves_only_x, ["did not move y", "both tensors"]),
    (_step(zero=False), ["zero_grad()"]),
    (_step(step=False), ["have not changed", "optimizer.step()"]),
    (_step(item=False), ["returns a tensor", "loss.item()"]),
    (lambda model, batch, optimizer, device: None, ["as a float", "return loss.item()"]),
    (_step(order="backward, zero_grad, step"), ["every gradient was zero", "between loss.backward() and"]),
    (_step(loss=lambda z, y: torch.nn.functional.nll_loss(z, y)), ["nll_loss expects log-probabilities",
                                                                    "are logits"]),
    (_step(loss=lambda z, y: torch.nn.functional.cross_entropy(torch.softmax(z, dim=1), y)),
     ["applies log_softmax itself", "not softmax's probabilities"]),
    (_step(loss=lambda z, y: torch.nn.functional.nll_loss(torch.softmax(z, dim=1), y)),
     ["softmax gives probabilities"]),
])
def test_train_step_mistakes(wrong, needles):
    assert_hint(run(ch15.train_step, wrong), *needles)


# -- exercise 2: sharded_gradient -------------------------------------------------------------------

def _sharded(combine, split=np.array_split):
    def sharded_gradient(grad_fn, x, y, world_size):
        idx = split(np.arange(len(x)), world_size)
        grads = [grad_fn(x[s], y[s]) for s in idx]
        return combine(grads, idx, len(x))
    return sharded_gradient


@pytest.mark.parametrize("wrong, needles", [
    (_sharded(lambda g, idx, n: np.mean(g, axis=0)), ["uneven shards", "N_w / N"]),
    (_sharded(lambda g, idx, n: np.sum(g, axis=0)), ["sum of the workers", "W times too large"]),
    (_sharded(lambda g, idx, n: g[0]), ["worker 0's gradient alone"]),
    (_sharded(lambda g, idx, n: sum(len(s) * gi for s, gi in zip(idx, g))), ["fraction"]),
    (_sharded(lambda g, idx, n: np.mean(g, axis=0), split=np.split), ["np.split", "np.array_split"]),
    (lambda grad_fn, x, y, world_size: grad_fn(x, y), ["called once", "once per shard"]),
])
def test_sharded_gradient_mistakes(wrong, needles):
    assert_hint(run(ch15.sharded_gradient, wrong), *needles)


# -- exercise 3: accumulate_gradients ---------------------------------------------------------------

def _accumulate(scale, zero="before"):
    def accumulate_gradients(model, x, y, micro_batch_size):
        if zero == "before":
            model.zero_grad()
        n = len(x)
        parts = list(range(0, n, micro_batch_size))
        for start in parts:
            if zero == "inside":
                model.zero_grad()
            xb, yb = x[start:start + micro_batch_size], y[start:start + micro_batch_size]
            (torch.nn.functional.mse_loss(model(xb), yb) * scale(len(xb), n, len(parts))).backward()
    return accumulate_gradients


def _whole_batch(model, x, y, micro_batch_size):
    model.zero_grad()
    torch.nn.functional.mse_loss(model(x), y).backward()


@pytest.mark.parametrize("wrong, needles", [
    (_accumulate(lambda nk, n, k: 1.0), ["scaled by N_k / N", "K times too large"]),
    (_accumulate(lambda nk, n, k: 1.0 / k), ["1/K is right only when", "same size"]),
    (_accumulate(lambda nk, n, k: nk / n, zero="never"), ["stale gradients", "zero_grad() first"]),
    (_accumulate(lambda nk, n, k: nk / n, zero="inside"), ["only the last micro-batch", "not inside it"]),
    (_whole_batch, ["examples at once", "micro_batch_size"]),
    (lambda model, x, y, micro_batch_size: None, ["never ran the model"]),
])
def test_accumulate_gradients_mistakes(wrong, needles):
    assert_hint(run(ch15.accumulate_gradients, wrong), *needles)


# -- exercise 4: adam_memory_bytes ------------------------------------------------------------------

def _count(per_param):
    return lambda model: sum(per_param(p) for p in model.parameters())


@pytest.mark.parametrize("wrong, needles", [
    (_count(lambda p: p.numel()), ["number of parameters", "element_size()"]),
    (_count(lambda p: 4 * p.numel()), ["four numbers per parameter, not their bytes"]),
    (_count(lambda p: 16 * p.numel()), ["assumes 4 bytes per number", "element_size()"]),
    (_count(lambda p: p.numel() * p.element_size()), ["weights alone", "Adam's two moments"]),
    (_count(lambda p: 2 * p.numel() * p.element_size()), ["Adam's state", "missing"]),
    (_count(lambda p: 3 * p.numel() * p.element_size()), ["one of the four is missing"]),
    (lambda model: str(sum(4 * p.numel() * p.element_size() for p in model.parameters())),
     ["should return an int", "str"]),
    (lambda model: sum(4.0 * p.numel() * p.element_size() for p in model.parameters()),
     ["should return an int", "the float", "a whole number"]),
    (lambda model: sum(4 * p.numel() * p.element_size() for p in model.parameters()) / 1,
     ["should return an int", "the float"]),
    (lambda model: 4 * sum(v.numel() * v.element_size() for v in model.state_dict().values()),
     ["state_dict() also holds the buffers", "tied weight", "model.parameters()"]),
])
def test_adam_memory_mistakes(wrong, needles):
    assert_hint(run(ch15.adam_memory_bytes, wrong), *needles)


# -- exercise 5: checkpoint_round_trip --------------------------------------------------------------

def _save(keys=("model", "optimizer", "step"), whole_model=False):
    def save_checkpoint(path, model, optimizer, step):
        state = {"model": model if whole_model else model.state_dict(), "optimizer": optimizer.state_dict(),
                 "step": step}
        torch.save({k: state[k] for k in keys}, path)
    return save_checkpoint


def _load(optimizer_too=True, model_too=True, returns=True):
    def load_checkpoint(path, model, optimizer):
        c = torch.load(path, weights_only=True)
        if model_too:
            model.load_state_dict(c["model"])
        if optimizer_too and "optimizer" in c:
            optimizer.load_state_dict(c["optimizer"])
        return c.get("step") if returns else None
    return load_checkpoint


@pytest.mark.parametrize("save, load, needles", [
    (_save(keys=("model", "step")), _load(), ["no state", "optimizer.state_dict()"]),
    (_save(), _load(optimizer_too=False), ["no state", "optimizer.load_state_dict"]),
    (_save(), _load(model_too=False), ["own starting weights", "model.load_state_dict"]),
    (_save(), _load(returns=False), ["returned None", "return the step"]),
    (_save(whole_model=True), _load(), ["weights_only", "state_dict()s"]),
    (lambda path, model, optimizer, step: None, _load(), ["did not write a file"]),
])
def test_checkpoint_mistakes(save, load, needles):
    assert_hint(run(ch15.checkpoint_round_trip, save, load), *needles)


def _load_into_a_new_optimizer(path, model, optimizer):
    checkpoint = torch.load(path, weights_only=True)
    model.load_state_dict(checkpoint["model"])
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)     # a new, local optimizer
    optimizer.load_state_dict(checkpoint["optimizer"])
    return checkpoint["step"]


def _save_step_as_tensor(path, model, optimizer, step):
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": torch.tensor(step)},
               path)


@pytest.mark.parametrize("save, load, needles", [
    (_save(), _load_into_a_new_optimizer, ["went into another optimizer", "created inside load_checkpoint"]),
    (_save_step_as_tensor, _load(), ["should be int 3, yours returns torch.Tensor 3 (0-d)", ".item()"]),
])
def test_checkpoint_mistakes_named_precisely(save, load, needles):
    result = run(ch15.checkpoint_round_trip, save, load)
    assert_hint(result, *needles)
    assert "should be 3, yours returns 3" not in result.message
