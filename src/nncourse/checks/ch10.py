"""Checks for the chapter 10 exercises: transformers.

Use them at the end of each exercise::

    from nncourse.checks import ch10 as check
    check.layer_norm_forward(layer_norm_forward)

``layer_norm_forward``, ``layer_norm_backward``, ``causal_attention_head``, ``gpt_parameter_count``,
``top_k_probabilities`` and ``residual_backward``. Expected values come from PyTorch (imported only
when a check runs) or from the course's formula; the wrong answers the checks recognise are written
out in NumPy next to their hints. A function that changes its arguments in place, or returns
something other than a NumPy float array, is told so by the framework's rules (``Tester.call``,
``Tester.ndarray``).
"""

from __future__ import annotations

import numbers

import numpy as np

from .framework import Tester, check

__all__ = ["layer_norm_forward", "layer_norm_backward", "causal_attention_head", "gpt_parameter_count",
           "top_k_probabilities", "residual_backward"]

def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _numpy_result(t: Tester, value, what: str) -> np.ndarray:
    """The learner must return a NumPy float array (the framework's rule); returned unconverted, so
    that ``t.close`` sees its dtype."""
    t.ndarray(value, what)
    return value


def _layer_norm(x, gamma, beta, eps):
    mu = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


# --------------------------------------------------------------------------------------------------
# Exercise 1: LayerNorm forward
# --------------------------------------------------------------------------------------------------


@check("layer_norm_forward")
def layer_norm_forward(t: Tester, layer_norm_forward) -> None:
    """``layer_norm_forward(x, gamma, beta, eps=1e-5) -> y``, normalising over the last axis."""
    import torch

    t.callable(layer_norm_forward, "layer_norm_forward")
    rng = _rng(100)
    cases = [("a batch of 4 vectors of 5 features", (4, 5), 3.0), ("a (2, 3, 6) sequence batch", (2, 3, 6), 3.0),
             ("a single vector of 8 features", (1, 8), 3.0),
             ("3 vectors of nearly equal features (variance about 1e-6, so eps matters)", (3, 4), 1e-3)]
    for description, shape, spread in cases:
        x, gamma, beta = (rng.normal(2.0, spread, size=shape), rng.normal(1, 0.5, size=shape[-1]),
                          rng.normal(0, 0.5, size=shape[-1]))
        eps = 1e-5
        want = torch.nn.functional.layer_norm(torch.from_numpy(np.array(x)), (shape[-1],), torch.from_numpy(np.array(gamma)),
                                              torch.from_numpy(np.array(beta)), eps).numpy()
        got = t.call(layer_norm_forward, x, gamma, beta, eps)
        got = _numpy_result(t, got, "layer_norm_forward")
        centred = x - x.mean(axis=-1, keepdims=True)
        what = f"layer_norm_forward for {description}"
        t.close(got, want, what, rtol=1e-6, atol=1e-8, mistakes=[
            (lambda: gamma * (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps) + beta,
             "that normalises over the batch (axis 0), which is batch normalisation: LayerNorm uses the "
             "features of each vector, axis=-1 with keepdims=True."),
            (lambda: gamma * (x - x.mean()) / np.sqrt(x.var() + eps) + beta,
             "that normalises the whole array at once: LayerNorm normalises each vector on its own, with the mean "
             "and variance over its features, axis=-1 with keepdims=True."),
            (lambda: gamma * centred / np.sqrt(x.var(axis=-1, keepdims=True)) + beta,
             "add eps inside the square root, sqrt(var + eps): without it a vector of (nearly) equal features is "
             "divided by (nearly) zero."),
            (lambda: gamma * centred / np.sqrt(x.var(axis=-1, ddof=1, keepdims=True) + eps) + beta,
             "that is the unbiased variance (divided by C - 1); LayerNorm divides by C, as np.var does by default."),
            (lambda: gamma * centred / (x.std(axis=-1, keepdims=True) + eps) + beta,
             "eps goes inside the square root: (x - mu) / sqrt(var + eps)."),
            (lambda: centred / np.sqrt(x.var(axis=-1, keepdims=True) + eps),
             "normalised correctly, but gamma and beta are missing: y = gamma * x_hat + beta."),
            (lambda: gamma * centred / (x.var(axis=-1, keepdims=True) + eps) + beta,
             "divide by the standard deviation sqrt(var + eps), not by the variance."),
            (lambda: (gamma * centred + beta) / np.sqrt(x.var(axis=-1, keepdims=True) + eps),
             "scale and shift after normalising: gamma * x_hat + beta, with x_hat = (x - mu) / sqrt(var + eps)."),
        ])


# --------------------------------------------------------------------------------------------------
# Exercise 2: LayerNorm backward
# --------------------------------------------------------------------------------------------------


@check("layer_norm_backward")
def layer_norm_backward(t: Tester, layer_norm_backward) -> None:
    """``layer_norm_backward(x, gamma, grad_out, eps=1e-5) -> (grad_x, grad_gamma, grad_beta)``."""
    import torch

    t.callable(layer_norm_backward, "layer_norm_backward")
    rng = _rng(101)
    for description, shape in [("a batch of 4 vectors of 5 features", (4, 5)), ("a (2, 3, 6) batch", (2, 3, 6))]:
        x, gamma, grad_out = (rng.normal(1.0, 2.0, size=shape), rng.normal(1, 0.5, size=shape[-1]),
                              rng.normal(size=shape))
        beta = np.zeros(shape[-1])
        eps = 1e-5
        xt = torch.tensor(np.array(x), requires_grad=True)
        gt = torch.tensor(np.array(gamma), requires_grad=True)
        bt = torch.tensor(beta, requires_grad=True)
        torch.nn.functional.layer_norm(xt, (shape[-1],), gt, bt, eps).backward(torch.from_numpy(np.array(grad_out)))
        want_x, want_gamma, want_beta = xt.grad.numpy(), gt.grad.numpy(), bt.grad.numpy()
        result = t.call(layer_norm_backward, x, gamma, grad_out, eps)
        result = t.values(result, "layer_norm_backward", "grad_x, grad_gamma, grad_beta")
        got_x, got_gamma, got_beta = (_numpy_result(t, r, "layer_norm_backward") for r in result)

        rstd = 1 / np.sqrt(x.var(axis=-1, keepdims=True) + eps)
        x_hat = (x - x.mean(axis=-1, keepdims=True)) * rstd
        g = grad_out * gamma
        lead = tuple(range(x.ndim - 1))
        t.close(got_beta, want_beta, f"grad_beta for {description}", mistakes=[
            (grad_out, "grad_beta has beta's shape (C,): sum grad_out over every axis but the last."),
        ])
        t.close(got_gamma, want_gamma, f"grad_gamma for {description}", mistakes=[
            (grad_out * x_hat, "grad_gamma has gamma's shape (C,): sum grad_out * x_hat over every axis but the last."),
            (lambda: (grad_out * x).sum(axis=lead), "use the normalised x_hat, not x: y = gamma * x_hat + beta."),
        ])
        t.close(got_x, want_x, f"grad_x for {description}", rtol=1e-6, atol=1e-9, mistakes=[
            (g * rstd, "that treats mu and sigma as constants: they depend on every x_i, which adds "
                       "- mean(g) - x_hat * mean(g * x_hat) inside the bracket."),
            (lambda: rstd * (g - g.mean(axis=-1, keepdims=True)),
             "the mean term is there; the variance term - x_hat * mean(g * x_hat) is missing."),
            (lambda: rstd * (g - x_hat * (g * x_hat).mean(axis=-1, keepdims=True)),
             "the variance term is there; the mean term - mean(g) is missing."),
            (lambda: rstd * (grad_out - grad_out.mean(axis=-1, keepdims=True)
                             - x_hat * (grad_out * x_hat).mean(axis=-1, keepdims=True)),
             "multiply grad_out by gamma first: g = dL/dx_hat = grad_out * gamma."),
        ])


# --------------------------------------------------------------------------------------------------
# Exercise 3: one causal self-attention head
# --------------------------------------------------------------------------------------------------


def _softmax(z, axis=-1):
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


@check("causal_attention_head")
def causal_attention_head(t: Tester, causal_attention_head) -> None:
    """``causal_attention_head(x, W_q, W_k, W_v) -> out``: x (T, C), each W (d, C), out (T, d)."""
    import torch

    t.callable(causal_attention_head, "causal_attention_head")
    rng = _rng(102)
    for description, T, C, d, size in [("T = 5 positions, C = 6, head size 4", 5, 6, 4, 1.0),
                                       ("T = 3 positions, C = 4, head size 2", 3, 4, 2, 1.0),
                                       ("T = 1 position, C = 3, head size 3", 1, 3, 3, 1.0),
                                       ("T = 4 positions, C = 4, head size 2, scores in the thousands", 4, 4, 2, 20.0)]:
        x, Wq, Wk, Wv = (rng.normal(size=(T, C)) * size, rng.normal(size=(d, C)), rng.normal(size=(d, C)),
                         rng.normal(size=(d, C)))
        q, k, v = x @ Wq.T, x @ Wk.T, x @ Wv.T
        want = torch.nn.functional.scaled_dot_product_attention(
            *(torch.from_numpy(a)[None] for a in (q, k, v)), is_causal=True)[0].numpy()
        got = t.call(causal_attention_head, x, Wq, Wk, Wv, errors=[
            (ValueError, "matmul", "check the shapes: x is (T, C) and each W is (d, C), so q = x @ W_q.T is (T, d)."),
        ])
        got = _numpy_result(t, got, "causal_attention_head")
        scores = q @ k.T / np.sqrt(d)
        upper = np.triu(np.ones((T, T), dtype=bool), 1)
        t.close(got, want, f"causal_attention_head for {description}", rtol=1e-6, atol=1e-9,
                shape_hint="the output has one row per position and head-size columns: (T, d).",
                nonfinite_hint="exp of scores in the thousands overflows (inf / inf = NaN): subtract each row's "
                               "largest score before np.exp, scores - scores.max(axis=-1, keepdims=True), after "
                               "masking.", mistakes=[
            (lambda: _softmax(np.where(upper, -np.inf, q @ k.T / np.sqrt(C))) @ v if C != d else None,
             "scale by 1 / sqrt(d) with d the head size (q.shape[-1]), not sqrt(C), the width of x."),
            (lambda: (_softmax(scores) * ~upper) @ v,
             "mask the scores before the softmax (-inf above the diagonal): zeroing weights after it leaves rows "
             "that no longer sum to 1."),
            (lambda: _softmax(np.where(np.triu(np.ones((T, T), dtype=bool), 2), -np.inf, scores)) @ v,
             "the mask lets each position see the next one too (that is np.tril(..., k=1), or np.triu(..., k=2) "
             "for the blocked part): block every key index > query index, np.triu(..., k=1)."),
            (lambda: _softmax(scores) @ v, "no causal mask: position t may only look at positions 0..t. "
                                           "Set the scores above the diagonal to -inf before the softmax."),
            (lambda: _softmax(np.where(upper, -np.inf, q @ k.T)) @ v,
             "scale the scores by 1 / sqrt(d) (d = head size), so the softmax does not saturate."),
            (lambda: _softmax(np.where(upper, -np.inf, q @ k.T / d)) @ v, "scale by 1 / sqrt(d), not 1 / d."),
            (lambda: _softmax(np.where(upper.T, -np.inf, scores)) @ v,
             "the mask is the wrong way round: it hides the past and shows the future. Mask the entries "
             "above the diagonal (np.triu(..., k=1)), i.e. key index > query index."),
            (lambda: _softmax(np.where(upper, -np.inf, scores), axis=0) @ v,
             "the softmax goes along each row (over the keys, axis=-1), so every position's weights sum to 1."),
            (lambda: _softmax(np.where(upper, 0.0, scores)) @ v,
             "a masked score must be -inf (weight exactly 0 after the softmax), not 0, which still gets weight."),
        ])


# --------------------------------------------------------------------------------------------------
# Exercise 4: the parameter count of a GPT
# --------------------------------------------------------------------------------------------------


def _gpt_count(V, T, C, L):
    return V * C + T * C + L * (12 * C * C + 13 * C) + 2 * C + C * V


@check("gpt_parameter_count")
def gpt_parameter_count(t: Tester, gpt_parameter_count) -> None:
    """``gpt_parameter_count(vocab_size, context_length, d_model, n_layers) -> int``."""
    import torch

    from ..models.torch import GPT

    t.callable(gpt_parameter_count, "gpt_parameter_count")
    for V, T, C, L in [(27, 16, 64, 2), (13, 9, 48, 2), (50257, 1024, 768, 12), (5, 4, 8, 1)]:
        if C <= 64:   # small enough to build: count the real torch model's parameters
            want = sum(p.numel() for p in GPT(V, T, C, 4, L, seed=0, dtype=torch.float64).parameters())
        else:
            want = _gpt_count(V, T, C, L)
        got = t.call(gpt_parameter_count, V, T, C, L)
        if isinstance(got, float) and got == int(got):
            t.fail(f"gpt_parameter_count should return an int, yours returns the float {got}",
                   "a count is a whole number: use integer arithmetic (no / and no np.sqrt).")
        if not isinstance(got, numbers.Integral):
            t.fail(f"gpt_parameter_count should return an int, yours returns {type(got).__name__}")
        what = f"gpt_parameter_count({V}, {T}, {C}, {L})"
        t.equal(int(got), want, what, mistakes=[
            (_gpt_count(V, T, C, L) - L * (3 * C + C + 4 * C + C), "the linear layers have biases too: "
             "3C for the query/key/value projection, C for attention's output, 4C and C in the MLP."),
            (_gpt_count(V, T, C, L) - L * 4 * C - 2 * C, "each LayerNorm has a weight and a bias of C numbers: "
             "two per block and the final one."),
            (_gpt_count(V, T, C, L) - T * C, "the position embedding wpe (context_length x d_model) is missing."),
            (_gpt_count(V, T, C, L) - C * V, "the language-model head lm_head (d_model -> vocab_size, no bias) is "
             "missing; this course's GPT does not tie it to wte."),
            (_gpt_count(V, T, C, L) - L * 6 * C * C, "the MLP is C -> 4C -> C: 8 C^2 weights, not 2 C^2."),
            (_gpt_count(V, T, C, L) - L * 2 * C * C, "attention has four C x C matrices: query, key, value "
             "(stacked into in_proj_weight, 3C x C) and the output projection."),
        ])


# --------------------------------------------------------------------------------------------------
# Exercise 5: one sampling step with temperature and top-k
# --------------------------------------------------------------------------------------------------


@check("top_k_probabilities")
def top_k_probabilities(t: Tester, top_k_probabilities) -> None:
    """``top_k_probabilities(logits, k, temperature=1.0) -> probs`` for one vector of logits."""
    import torch

    t.callable(top_k_probabilities, "top_k_probabilities")
    rng = _rng(104)
    for description, V, k, temperature in [("10 logits, k = 3, T = 1", 10, 3, 1.0),
                                            ("8 logits, k = 5, T = 0.5", 8, 5, 0.5),
                                            ("6 logits, k = 6 (keep all), T = 2", 6, 6, 2.0),
                                            ("7 logits, k = 1, T = 1.5", 7, 1, 1.5)]:
        logits = rng.normal(0, 2, size=V)
        z = torch.from_numpy(np.array(logits)) / temperature
        kth = torch.topk(z, k).values[-1]
        want = torch.softmax(z.masked_fill(z < kth, float("-inf")), dim=-1).numpy()
        got = t.call(top_k_probabilities, logits, k, temperature)
        got = _numpy_result(t, got, "top_k_probabilities")
        keep = logits >= np.sort(logits)[-k]
        what = f"top_k_probabilities for {description}"
        t.close(got, want, what, rtol=1e-6, atol=1e-12, mistakes=[
            (lambda: _softmax(logits / temperature), "no top-k: set every logit below the k-th largest to -inf "
                                                     "before the softmax."),
            (lambda: _softmax(np.where(keep, logits * temperature, -np.inf)),
             "divide the logits by the temperature (T < 1 sharpens), do not multiply."),
            (lambda: np.where(keep, _softmax(logits / temperature), 0.0),
             "after zeroing the other symbols the k kept probabilities must be renormalised to sum to 1: "
             "mask the logits with -inf first, then take the softmax."),
            (lambda: _softmax(np.where(logits >= np.sort(logits)[-min(k + 1, V)], logits / temperature, -np.inf)),
             "that keeps k + 1 symbols: the k-th largest is np.sort(logits)[-k]."),
            (lambda: _softmax(np.where(logits <= np.sort(logits)[k - 1], logits / temperature, -np.inf)),
             "that keeps the k smallest logits; keep the k largest."),
            (lambda: _softmax(np.where(logits > np.sort(logits)[-k], logits / temperature, -np.inf)),
             "keep the k-th largest too: logits >= kth_largest (a strict > keeps only k - 1 symbols)."),
            (lambda: _softmax(np.where(keep, logits, -np.inf)) ** (1 / temperature) if temperature != 1 else None,
             "the temperature goes on the logits, before the softmax: softmax(logits / T). Applied to the "
             "probabilities after it, they no longer sum to 1."),
        ])


# --------------------------------------------------------------------------------------------------
# Exercise 6: the backward pass of a residual block
# --------------------------------------------------------------------------------------------------


@check("residual_backward")
def residual_backward(t: Tester, residual_backward) -> None:
    """``residual_backward(x, W, grad_y) -> grad_x`` for ``y = x + tanh(x @ W.T)`` (W square)."""
    import torch

    t.callable(residual_backward, "residual_backward")
    rng = _rng(105)
    for description, N, C in [("a batch of 3, width 4", 3, 4), ("a batch of 1, width 2", 1, 2), ("a batch of 5, width 3", 5, 3)]:
        x, W, grad_y = rng.normal(size=(N, C)), rng.normal(size=(C, C)), rng.normal(size=(N, C))
        xt = torch.tensor(np.array(x), requires_grad=True)
        (xt + torch.tanh(xt @ torch.from_numpy(np.array(W)).T)).backward(torch.from_numpy(np.array(grad_y)))
        want = xt.grad.numpy()
        got = t.call(residual_backward, x, W, grad_y)
        got = _numpy_result(t, got, "residual_backward")
        h = np.tanh(x @ W.T)
        branch = (grad_y * (1 - h * h)) @ W
        t.close(got, want, f"residual_backward for {description}", rtol=1e-6, atol=1e-9, mistakes=[
            (branch, "that is only the branch's gradient: the identity path adds grad_y itself, "
                     "grad_x = grad_y + (branch's gradient)."),
            (grad_y, "that is only the identity path: add the gradient that flows back through tanh(x @ W.T)."),
            (lambda: grad_y + (grad_y * (1 - h * h)) @ W.T, "x @ W.T is multiplied back by W, not W.T: "
                                                           "d(x @ W.T)/dx applied to g is g @ W."),
            (lambda: grad_y + (grad_y * (1 - h)) @ W, "tanh'(z) = 1 - tanh(z)^2."),
            (lambda: grad_y * ((grad_y * (1 - h * h)) @ W), "the two paths add up; they do not multiply."),
        ])
