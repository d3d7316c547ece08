"""The exercise checks of chapter 8 (sequences): the solution passes, the stub is "not implemented
yet", and plausible wrong answers fail with the hint meant for them."""

from __future__ import annotations

import contextlib
import functools
import io
from pathlib import Path

import numpy as np
import pytest
import torch

from nncourse.checks import ch08
from check_helpers import assert_hint, run, stub

ROOT = Path(__file__).resolve().parents[1]


def _is_check_cell(source: str) -> bool:
    lines = [line for line in source.splitlines() if line.strip()]
    return bool(lines) and all(line.startswith("check.") for line in lines)


@functools.lru_cache(maxsize=None)
def solution() -> dict:
    """The namespace of solutions/08_sequences.ipynb after running its code cells (not the checks)."""
    import nbformat

    nb = nbformat.read(str(ROOT / "solutions" / "08_sequences.ipynb"), as_version=4)
    namespace: dict = {"__name__": "solution_08"}
    with contextlib.redirect_stdout(io.StringIO()):
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code" and not _is_check_cell(cell.source):
                exec(compile(cell.source, f"<solutions/08_sequences.ipynb cell {index}>", "exec"), namespace)
    return namespace


CHECKS = [(ch08.bigram_nll, "bigram_nll"), (ch08.rnn_step, "rnn_step"), (ch08.rnn_bptt, "rnn_bptt"),
          (ch08.temperature_probs, "temperature_probs"), (ch08.lstm_cell, "lstm_cell")]


@pytest.mark.parametrize("check_fn,name", CHECKS, ids=[c[1] for c in CHECKS])
def test_solution_passes_and_stub_is_not_implemented(check_fn, name):
    result = run(check_fn, solution()[name])
    assert result and result.tests >= 3, str(result)
    assert run(check_fn, stub).status == "not implemented"
    assert run(check_fn, ...).status == "not implemented"


def sig(z):
    return 1 / (1 + np.exp(-z))


# ------------------------------------------------------------------------------ bigram_nll
@pytest.mark.parametrize("wrong,needle", [
    (lambda P, a, b: float(np.log(P[a, b]).mean()), "minus the log"),
    (lambda P, a, b: float(-np.log(P[a, b]).sum()), "do not sum"),
    (lambda P, a, b: float(-np.log(P[b, a]).mean()), "P[prev, nxt], not P[nxt, prev]"),
    (lambda P, a, b: float(-np.log2(P[a, b]).mean()), "np.log2"),
    (lambda P, a, b: float(-np.log(P[a, b].mean())), "then the mean"),
    (lambda P, a, b: -np.log(P[a, b]), "expected one number"),
    (lambda P, a, b: -torch.log(torch.from_numpy(P[a, b])).mean(), "torch.Tensor"),     # a 0-d tensor
    (lambda P, a, b: [float(-np.log(P[a, b]).mean())], "expected a number"),
])
def test_bigram_nll_wrong_answers(wrong, needle):
    assert_hint(run(ch08.bigram_nll, wrong), needle)


def test_bigram_nll_rejects_in_place_changes():
    def mutating(P, prev, nxt):
        P /= P.sum(axis=1, keepdims=True)
        return float(-np.log(P[prev, nxt]).mean())
    assert_hint(run(ch08.bigram_nll, mutating), "mutating changed its input P in place", "new array")


# ------------------------------------------------------------------------------ rnn_step
@pytest.mark.parametrize("wrong,needle", [
    (lambda x, h, Wi, Wh, b: x @ Wi.T + h @ Wh.T + b, "apply the tanh"),
    (lambda x, h, Wi, Wh, b: np.tanh(x @ Wi.T + b), "add h @ W_hh.T"),
    (lambda x, h, Wi, Wh, b: np.tanh(x @ Wi.T + h @ Wh.T), "add the bias"),
    (lambda x, h, Wi, Wh, b: np.tanh(x @ Wi.T + h @ Wh + b), "use h @ W_hh.T"),
    (lambda x, h, Wi, Wh, b: sig(x @ Wi.T + h @ Wh.T + b), "not the sigmoid"),
    (lambda x, h, Wi, Wh, b: np.maximum(x @ Wi.T + h @ Wh.T + b, 0), "not ReLU"),
    (lambda x, h, Wi, Wh, b: np.tanh(x @ Wi + h @ Wh.T + b), "use x @ W_ih.T"),
    (lambda x, h, Wi, Wh, b: np.tanh(x @ Wi.T + h @ Wh.T + b).tolist(), "not a list"),
    (lambda x, h, Wi, Wh, b: torch.tanh(torch.from_numpy(x @ Wi.T + h @ Wh.T + b)), "not a tensor"),
])
def test_rnn_step_wrong_answers(wrong, needle):
    assert_hint(run(ch08.rnn_step, wrong), needle)


# ------------------------------------------------------------------------------ rnn_bptt
def bptt_variant(recurrent=True, derivative=True, use_current=False, last_only=False, forget_h0=False,
                 accumulate=True):
    def fn(xs, h0, W_ih, W_hh, b, G):
        hs, h = [], h0
        for x in xs:
            h = np.tanh(x @ W_ih.T + h @ W_hh.T + b)
            hs.append(h)
        gWi, gWh, gb = np.zeros_like(W_ih), np.zeros_like(W_hh), np.zeros_like(b)
        future = np.zeros_like(h0)
        for t in range(len(xs) - 1, -1, -1):
            local = G[t] if (not last_only or t == len(xs) - 1) else 0 * G[t]
            delta = local + future if recurrent else local
            da = delta * (1 - hs[t] ** 2) if derivative else delta
            prev = hs[t] if use_current else (hs[t - 1] if t > 0 else h0)
            if accumulate:
                gWi, gWh, gb = gWi + da.T @ xs[t], gWh + da.T @ prev, gb + da.sum(axis=0)
            else:                               # "=" where "+=" belongs: each step overwrites the last
                gWi, gWh, gb = da.T @ xs[t], da.T @ prev, da.sum(axis=0)
            future = da @ W_hh
        return gWi, gWh, gb, (np.zeros_like(h0) if forget_h0 else future)
    return fn


@pytest.mark.parametrize("wrong,needle", [
    (bptt_variant(recurrent=False), "comes from the future"),
    (bptt_variant(derivative=False), "tanh derivative"),
    (bptt_variant(use_current=True), "before* step t"),
    (bptt_variant(last_only=True), "not only the last"),
    (bptt_variant(forget_h0=True), "not zeros"),
    (bptt_variant(accumulate=False), "accumulate over the steps"),
    (lambda *args: bptt_variant()(*args)[:3], "four arrays"),
])
def test_rnn_bptt_wrong_answers(wrong, needle):
    assert_hint(run(ch08.rnn_bptt, wrong), needle)


def test_rnn_bptt_accepts_the_correct_variant_helper():
    assert run(ch08.rnn_bptt, bptt_variant())


# ------------------------------------------------------------------------------ temperature_probs
def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_axis0(z):
    """The softmax over axis 0: the same as the right one for a single vector of logits."""
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


@pytest.mark.parametrize("wrong,needle", [
    (lambda z, T: softmax(z * T), "do not multiply"),
    (lambda z, T: softmax(z), "use the temperature"),
    (lambda z, T: np.exp(z / T), "normalise"),
    (lambda z, T: softmax(z / T) ** T, "before the softmax"),
    (lambda z, T: np.exp(z / T) / np.exp(z / T).sum(), "each row on its own"),
    (lambda z, T: np.exp(z / T) / np.exp(z / T).sum(axis=-1, keepdims=True), "overflows"),
    (lambda z, T: softmax(z) ** (1 / T), "before the softmax"),
    (lambda z, T: softmax(z) / T, "before the softmax"),
    (lambda z, T: softmax_axis0(z / T), "not axis 0"),
    (lambda z, T: softmax(z / T).astype(np.float32), "the dtype is the problem"),
    (lambda z, T: torch.softmax(torch.from_numpy(z / T).float(), -1).numpy(), "the dtype is the problem"),
])
def test_temperature_wrong_answers(wrong, needle):
    assert_hint(run(ch08.temperature_probs, wrong), needle)


def test_temperature_rejects_in_place_division():
    def in_place(z, T):
        z /= T
        return softmax(z)
    assert_hint(run(ch08.temperature_probs, in_place), "in_place changed its input z in place")


def test_a_float32_answer_is_told_that_its_dtype_is_the_problem():
    result = run(ch08.temperature_probs, lambda z, T: softmax(z / T).astype(np.float32))
    assert_hint(result, "is float32", "compares in float64", "the dtype is the problem")
    assert "yours returns" not in result.message   # not two columns of identical-looking numbers


# ------------------------------------------------------------------------------ lstm_cell
def lstm_variant(order="ifgo", tanh_c=True, forget=True, o_tanh=False, old_c=False, i_raw=False):
    def fn(x, h, c, W_ih, W_hh, b):
        z = x @ W_ih.T + h @ W_hh.T + b
        blocks = dict(zip(order, np.split(z, 4, axis=1)))
        i = blocks["i"] if i_raw else sig(blocks["i"])
        f, g = sig(blocks["f"]), np.tanh(blocks["g"])
        o = np.tanh(blocks["o"]) if o_tanh else sig(blocks["o"])
        c_new = (f * c if forget else 0) + i * g
        h_new = o * ((np.tanh(c) if old_c else np.tanh(c_new)) if tanh_c else c_new)
        return h_new, c_new
    return fn


@pytest.mark.parametrize("wrong,needle", [
    (lstm_variant(order="ifog"), "the candidate g is the third block"),
    (lstm_variant(order="figo"), "the first block is the input gate"),
    (lstm_variant(forget=False), "keep the old cell state"),
    (lstm_variant(i_raw=True), "squash the input gate"),
    (lstm_variant(tanh_c=False), "apply tanh to the new cell state"),
    (lstm_variant(o_tanh=True), "the output gate is a sigmoid"),
    (lstm_variant(old_c=True), "*new* cell state"),
    (lambda *args: lstm_variant()(*args)[::-1], "in the order (h_new, c_new)"),
])
def test_lstm_cell_wrong_answers(wrong, needle):
    assert_hint(run(ch08.lstm_cell, wrong), needle)


def test_lstm_cell_accepts_a_correct_variant():
    assert run(ch08.lstm_cell, lstm_variant())
