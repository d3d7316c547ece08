"""Checks for the chapter 8 exercises: sequences and recurrent networks.

Use them at the end of each exercise::

    from nncourse.checks import ch08 as check
    check.bigram_nll(bigram_nll)

``bigram_nll``, ``rnn_step``, ``rnn_bptt``, ``temperature_probs`` and ``lstm_cell``. Conventions are
PyTorch's: a batch has one example per row, ``W_ih`` is ``(H, I)``, ``W_hh`` is ``(H, H)``, a step
computes ``x @ W_ih.T + h @ W_hh.T + b``, and the LSTM stacks its gates in the order i, f, g, o.
The expected answers come from PyTorch (``RNNCell``, ``LSTMCell``, autograd), imported only when a
check runs; the wrong answers the checks recognise are written out in NumPy next to their hints.
An input changed in place, or a result of the wrong type (a list, a tensor), is reported by the
framework's rules (``Tester.call``, ``Tester.ndarray``, ``Tester.number``).
"""

from __future__ import annotations

import numpy as np

from .framework import Tester, check
from .reference import sigmoid as _sigmoid

__all__ = ["bigram_nll", "rnn_step", "rnn_bptt", "temperature_probs", "lstm_cell"]


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _softmax(z, axis=-1):
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


# --------------------------------------------------------------------------------------------------
# Exercise 1: the negative log-likelihood of the bigram model
# --------------------------------------------------------------------------------------------------

@check("bigram_nll")
def bigram_nll(t: Tester, bigram_nll) -> None:
    """``bigram_nll(P, prev, nxt) -> float``: mean of -log P[prev, nxt], in nats."""
    t.callable(bigram_nll, "bigram_nll")
    rng = _rng(80)
    for case, (V, n) in enumerate([(4, 6), (27, 50), (5, 1)]):
        counts = rng.integers(1, 20, size=(V, V)).astype(np.float64)
        P = counts / counts.sum(axis=1, keepdims=True)
        prev, nxt = rng.integers(0, V, size=n), rng.integers(0, V, size=n)
        if case == 0:
            prev[:3], nxt[:3] = [0, 1, 2], [1, 2, 3]      # an asymmetric table read both ways differs
        want = float(-np.log(P[prev, nxt]).mean())
        got = t.call(bigram_nll, P, prev, nxt, errors=[
            (IndexError, "", "index the table with both arrays at once: P[prev, nxt] picks one entry per pair.")])
        if isinstance(got, np.ndarray) and got.size > 1:
            t.fail(f"bigram_nll returned an array of shape {got.shape}, expected one number",
                   "average the per-pair losses: -np.log(P[prev, nxt]).mean().")
        what = f"bigram_nll on {n} pairs of a {V}x{V} table"
        t.number(got, "bigram_nll")
        t.close(got, want, what, rtol=1e-9, mistakes=[
            (float(np.log(P[prev, nxt]).mean()), "a loss is positive: take minus the log-probability."),
            (float(-np.log(P[prev, nxt]).sum()), "average over the pairs (mean), do not sum: the unit is nats per character."),
            (float(-np.log(P[nxt, prev]).mean()), "rows are the previous character, columns the next: P[prev, nxt], not P[nxt, prev]."),
            (float(-np.log2(P[prev, nxt]).mean()), "nats use the natural logarithm, np.log, not np.log2 (that would be bits)."),
            (float(-np.log10(P[prev, nxt]).mean()), "nats use the natural logarithm, np.log, not np.log10."),
            (float(-np.log(P[prev, nxt].mean())), "take the log of each probability, then the mean: -np.log(P[prev, nxt]).mean()."),
        ], hint="the mean over all pairs of -log P[prev, nxt].")
    uniform = np.full((27, 27), 1 / 27)
    got = t.call(bigram_nll, uniform, np.arange(27), np.arange(27)[::-1].copy())
    t.close(t.number(got, "bigram_nll"), np.log(27), "bigram_nll of the uniform table (it should cost log 27 = 3.2958 nats)", rtol=1e-9)


# --------------------------------------------------------------------------------------------------
# Exercise 2: one RNN step
# --------------------------------------------------------------------------------------------------

def _torch_rnn_step(x, h, W_ih, W_hh, b):
    import torch
    cell = torch.nn.RNNCell(W_ih.shape[1], W_ih.shape[0], dtype=torch.float64)
    with torch.no_grad():
        cell.weight_ih.copy_(torch.from_numpy(W_ih))
        cell.weight_hh.copy_(torch.from_numpy(W_hh))
        cell.bias_ih.copy_(torch.from_numpy(b))
        cell.bias_hh.zero_()
        return cell(torch.from_numpy(x), torch.from_numpy(h)).numpy()


@check("rnn_step")
def rnn_step(t: Tester, rnn_step) -> None:
    """``rnn_step(x, h, W_ih, W_hh, b) -> h_new = tanh(x @ W_ih.T + h @ W_hh.T + b)``."""
    t.callable(rnn_step, "rnn_step")
    rng = _rng(81)
    for B, I, H in [(3, 3, 3), (2, 4, 3), (1, 2, 5)]:
        x, h = rng.normal(size=(B, I)), rng.normal(size=(B, H))
        W_ih, W_hh, b = rng.normal(size=(H, I)), rng.normal(size=(H, H)), rng.normal(size=H)
        want = _torch_rnn_step(x, h, W_ih, W_hh, b)
        got = t.call(rnn_step, x, h, W_ih, W_hh, b, errors=[
            (ValueError, "matmul", "check the shapes: x is (B, I) and W_ih is (H, I), so x @ W_ih.T is (B, H)."),
            (ValueError, "broadcast", "x @ W_ih.T and h @ W_hh.T are both (B, H); b (H,) broadcasts over the rows.")])
        what = f"rnn_step with batch {B}, input {I}, hidden {H}"
        t.ndarray(got, what)
        a = x @ W_ih.T + h @ W_hh.T + b
        t.close(got, want, what, mistakes=[
            (a, "apply the tanh: h_new = np.tanh(x @ W_ih.T + h @ W_hh.T + b)."),
            (np.tanh(x @ W_ih.T + b), "the previous state matters: add h @ W_hh.T inside the tanh."),
            (np.tanh(x @ W_ih.T + h @ W_hh.T), "add the bias b inside the tanh."),
            (lambda: np.tanh(x @ W_ih.T + h @ W_hh + b), "W_hh is (H_out, H_in) like a Linear weight: use h @ W_hh.T."),
            (lambda: np.tanh(x @ W_ih + h @ W_hh.T + b), "W_ih is (H, I) like a Linear weight: use x @ W_ih.T."),
            (lambda: np.tanh(x @ W_ih.T + (h @ W_hh.T) * h + b), "the step is a sum of two products, no element-wise product with h."),
            (_sigmoid(a), "the RNN cell uses tanh, not the sigmoid."),
            (np.maximum(a, 0), "this RNN uses tanh (nonlinearity='tanh'), not ReLU."),
        ], shape_hint=f"h_new has the shape of h, {h.shape}.")


# --------------------------------------------------------------------------------------------------
# Exercise 3: backpropagation through time
# --------------------------------------------------------------------------------------------------

def _forward(xs, h0, W_ih, W_hh, b):
    hs, h = [], h0
    for x in xs:
        h = np.tanh(x @ W_ih.T + h @ W_hh.T + b)
        hs.append(h)
    return np.stack(hs)


def _bptt_variants(xs, h0, W_ih, W_hh, b, G):
    """The right answer (by autograd) and some wrong ones (in NumPy)."""
    import torch
    tensors = [torch.tensor(a, requires_grad=True) for a in (W_ih, W_hh, b, h0)]
    tW_ih, tW_hh, tb, th0 = tensors
    h, outs = th0, []
    for x in torch.from_numpy(xs):
        h = torch.tanh(x @ tW_ih.T + h @ tW_hh.T + tb)
        outs.append(h)
    torch.stack(outs).backward(torch.from_numpy(G))
    want = [p.grad.numpy() for p in (tW_ih, tW_hh, tb, th0)]

    hs = _forward(xs, h0, W_ih, W_hh, b)
    prev = np.concatenate([h0[None], hs[:-1]])

    def manual(recurrent=True, derivative=True, use_current=False, last_only=False, accumulate=True):
        dh = np.zeros_like(h0)
        dA = np.zeros_like(hs)
        for t_ in range(len(xs) - 1, -1, -1):
            local = G[t_] if not last_only or t_ == len(xs) - 1 else 0 * G[t_]
            dh = dh + local if recurrent else local
            dA[t_] = dh * (1 - hs[t_] ** 2) if derivative else dh
            dh = dA[t_] @ W_hh
        source = hs if use_current else prev
        steps = slice(None) if accumulate else slice(0, 1)   # "=" instead of "+=": only step 0's term is left
        return [np.einsum("tbh,tbi->hi", dA[steps], xs[steps]), np.einsum("tbh,tbk->hk", dA[steps], source[steps]),
                dA[steps].sum(axis=(0, 1)), dh]

    wrong = {"no_recurrence": manual(recurrent=False), "no_derivative": manual(derivative=False),
             "current_state": manual(use_current=True), "last_only": manual(last_only=True),
             "no_accumulation": manual(accumulate=False)}
    return want, wrong


@check("rnn_bptt")
def rnn_bptt(t: Tester, rnn_bptt) -> None:
    """``rnn_bptt(xs, h0, W_ih, W_hh, b, grad_hs) -> (grad_W_ih, grad_W_hh, grad_b, grad_h0)``."""
    t.callable(rnn_bptt, "rnn_bptt")
    rng = _rng(82)
    names = ["grad_W_ih", "grad_W_hh", "grad_b", "grad_h0"]
    hints = {
        "no_recurrence": "the gradient of h_t also comes from the future: add dL/da_{t+1} @ W_hh "
                         "(carried backwards from step t+1) to grad_hs[t].",
        "no_derivative": "multiply by the tanh derivative, 1 - h_t**2, to go from dL/dh_t to dL/da_t.",
        "current_state": "grad_W_hh sums dL/da_t.T @ h_{t-1}: the state *before* step t (h0 for the first step).",
        "last_only": "every step has its own output gradient grad_hs[t]: add it at each step, not only the last.",
        "no_accumulation": "accumulate over the steps: the weights are shared by every step, so each step adds its "
                           "term (grad_W_ih += dL/da_t.T @ x_t, and so on); yours keeps only one step's term.",
    }
    for T, B, I, H in [(3, 2, 2, 3), (4, 1, 3, 2), (1, 2, 2, 2)]:
        xs, h0 = rng.normal(size=(T, B, I)), rng.normal(size=(B, H)) * 0.5
        W_ih, W_hh, b = rng.normal(size=(H, I)) * 0.7, rng.normal(size=(H, H)) * 0.7, rng.normal(size=H) * 0.3
        G = rng.normal(size=(T, B, H))
        want, wrong = _bptt_variants(xs, h0, W_ih, W_hh, b, G)
        result = t.call(rnn_bptt, xs, h0, W_ih, W_hh, b, G, errors=[
            (ValueError, "matmul", "check the shapes: dL/da_t is (B, H); dL/da_t @ W_hh is (B, H), "
                                   "dL/da_t.T @ x_t is (H, I).")])
        result = t.values(result, "rnn_bptt", "grad_W_ih, grad_W_hh, grad_b, grad_h0")
        for k, (name, got) in enumerate(zip(names, result)):
            what = f"{name} for {T} steps, batch {B}, input {I}, hidden {H}"
            mistakes = [(w[k], hints[kind]) for kind, w in wrong.items() if not np.allclose(w[k], want[k])]
            if name == "grad_h0":
                mistakes.append((np.zeros_like(want[k]), "grad_h0 is the gradient carried back past the first step, "
                                                          "dL/da_0 @ W_hh: not zeros (h0 influences every step)."))
            t.ndarray(got, what)
            t.close(got, want[k], what, mistakes=mistakes,
                    shape_hint=f"{name} has the shape of what it is the gradient of, {want[k].shape}.")


# --------------------------------------------------------------------------------------------------
# Exercise 4: temperature
# --------------------------------------------------------------------------------------------------

@check("temperature_probs")
def temperature_probs(t: Tester, temperature_probs) -> None:
    """``temperature_probs(logits, temperature) -> softmax(logits / temperature)`` along the last axis."""
    t.callable(temperature_probs, "temperature_probs")
    rng = _rng(83)

    softmax = _softmax

    cases = [(rng.normal(size=27) * 2, 0.5), (rng.normal(size=27), 1.0), (rng.normal(size=(3, 27)), 2.0),
             (rng.normal(size=5) * 3, 0.1)]
    for logits, T in cases:
        want = softmax(logits / T)
        got = t.call(temperature_probs, logits, T)
        what = f"temperature_probs(logits of shape {logits.shape}, temperature={T})"
        t.ndarray(got, what)
        after = ("the temperature goes on the logits, before the softmax: softmax(logits / T). Applied to the "
                 "probabilities after it, it is not a temperature (and they no longer sum to 1).")
        t.close(got, want, what, rtol=1e-9, atol=1e-12, mistakes=[
            (softmax(logits * T), "divide the logits by the temperature (z / T), do not multiply."),
            (softmax(logits), "use the temperature: softmax(logits / temperature)."),
            (np.exp(logits / T), "normalise: divide by the sum so the probabilities add up to 1."),
            (lambda: softmax(logits / T) ** T, "scale the logits before the softmax, not the probabilities after it."),
            (lambda: softmax(logits) ** (1 / T), after),
            (lambda: softmax(logits) / T, after),
            (lambda: softmax(logits / T, axis=0) if logits.ndim > 1 else None,
             "take the softmax over the last axis (axis=-1, one distribution per row of logits), not axis 0."),
            (lambda: np.exp(logits / T) / np.exp(logits / T).sum(), "normalise each row on its own: sum over the last axis with keepdims=True."),
        ], shape_hint=f"the probabilities have the shape of the logits, {logits.shape}.")
    big = np.array([1000.0, 999.0, 0.0])
    got = t.call(temperature_probs, big, 0.5)
    t.ndarray(got, "temperature_probs([1000, 999, 0], 0.5)")
    t.close(got, softmax(big / 0.5),
            "temperature_probs([1000, 999, 0], 0.5)", rtol=1e-9,
            nonfinite_hint="exp(2000) overflows: subtract the largest logit (after dividing by T) before np.exp.")


# --------------------------------------------------------------------------------------------------
# Exercise 5: an LSTM cell
# --------------------------------------------------------------------------------------------------

def _torch_lstm_cell(x, h, c, W_ih, W_hh, b):
    import torch
    cell = torch.nn.LSTMCell(W_ih.shape[1], W_ih.shape[0] // 4, dtype=torch.float64)
    with torch.no_grad():
        cell.weight_ih.copy_(torch.from_numpy(W_ih))
        cell.weight_hh.copy_(torch.from_numpy(W_hh))
        cell.bias_ih.copy_(torch.from_numpy(b))
        cell.bias_hh.zero_()
        h_new, c_new = cell(torch.from_numpy(x), (torch.from_numpy(h), torch.from_numpy(c)))
    return h_new.numpy(), c_new.numpy()


def _lstm_variant(x, h, c, W_ih, W_hh, b, order="ifgo", tanh_c=True, forget=True, o_tanh=False):
    H = h.shape[1]
    z = x @ W_ih.T + h @ W_hh.T + b
    blocks = dict(zip(order, (z[:, :H], z[:, H:2 * H], z[:, 2 * H:3 * H], z[:, 3 * H:])))
    i, f, g, o = _sigmoid(blocks["i"]), _sigmoid(blocks["f"]), np.tanh(blocks["g"]), blocks["o"]
    o = np.tanh(o) if o_tanh else _sigmoid(o)
    c_new = (f * c if forget else 0) + i * g
    h_new = o * (np.tanh(c_new) if tanh_c else c_new)
    return h_new, c_new


@check("lstm_cell")
def lstm_cell(t: Tester, lstm_cell) -> None:
    """``lstm_cell(x, h, c, W_ih, W_hh, b) -> (h_new, c_new)``, gates i, f, g, o as in torch."""
    t.callable(lstm_cell, "lstm_cell")
    rng = _rng(84)
    for B, I, H in [(2, 3, 2), (1, 2, 3), (3, 4, 4)]:
        x, h, c = rng.normal(size=(B, I)), rng.normal(size=(B, H)), rng.normal(size=(B, H))
        W_ih, W_hh, b = rng.normal(size=(4 * H, I)), rng.normal(size=(4 * H, H)), rng.normal(size=4 * H)
        want_h, want_c = _torch_lstm_cell(x, h, c, W_ih, W_hh, b)
        result = t.call(lstm_cell, x, h, c, W_ih, W_hh, b, errors=[
            (ValueError, "matmul", "x @ W_ih.T is (B, 4H): W_ih stacks the four gates' weights, shape (4H, I).")])
        got_h, got_c = t.values(result, "lstm_cell", "h_new, c_new")
        args = (x, h, c, W_ih, W_hh, b)
        what = f"c_new with batch {B}, input {I}, hidden {H}"
        t.ndarray(got_c, what)
        t.close(got_c, want_c, what, mistakes=[
            (want_h, "return the two in the order (h_new, c_new): yours has c_new first."),
            (_lstm_variant(*args, order="ifog")[1], "torch's gate order is i, f, g, o: the candidate g is the third block."),
            (_lstm_variant(*args, order="figo")[1], "the first block is the input gate i, the second the forget gate f."),
            (_lstm_variant(*args, forget=False)[1], "keep the old cell state: c_new = f * c + i * g."),
            (lambda: _sigmoid((x @ W_ih.T + h @ W_hh.T + b)[:, H:2 * H]) * c + (x @ W_ih.T + h @ W_hh.T + b)[:, :H]
             * np.tanh((x @ W_ih.T + h @ W_hh.T + b)[:, 2 * H:3 * H]),
             "squash the input gate with the sigmoid too: i = sigmoid(block 1)."),
        ], shape_hint=f"c_new has the shape of c, {c.shape}: each gate is a (B, H) block of the (B, 4H) product.")
        what = f"h_new with batch {B}, input {I}, hidden {H}"
        t.ndarray(got_h, what)
        t.close(got_h, want_h, what, mistakes=[
            (_lstm_variant(*args, tanh_c=False)[0], "h_new = o * tanh(c_new): apply tanh to the new cell state."),
            (_lstm_variant(*args, o_tanh=True)[0], "the output gate is a sigmoid, like i and f; only g uses tanh."),
            (lambda: _sigmoid((x @ W_ih.T + h @ W_hh.T + b)[:, 3 * H:]) * np.tanh(c),
             "use the *new* cell state in h_new = o * tanh(c_new), not the old c."),
            (_lstm_variant(*args, order="ifog")[0], "torch's gate order is i, f, g, o: the output gate o is the last block."),
        ], shape_hint=f"h_new has the shape of h, {h.shape}.")
