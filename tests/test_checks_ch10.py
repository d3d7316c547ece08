"""The exercise checks of chapter 10 (transformers).

For every check: the solution from solutions/10_transformer.ipynb passes (the functions are taken from
the notebook itself), the stub and the placeholder ``...`` are "not implemented yet", plausible wrong
answers fail with the hint meant for them, and answers of the wrong type or that change their inputs
in place are rejected with a message that says so.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nncourse.checks import ch10
from check_helpers import assert_hint, run, solution_namespace, stub

ROOT = Path(__file__).resolve().parents[1]


def solution() -> dict:
    return solution_namespace("10_transformer")


CHECKS = ["layer_norm_forward", "layer_norm_backward", "causal_attention_head", "gpt_parameter_count",
          "top_k_probabilities", "residual_backward"]


@pytest.mark.parametrize("name", CHECKS)
def test_solution_passes_stub_and_placeholder_do_not(name):
    check_fn = getattr(ch10, name)
    assert run(check_fn, solution()[name]), name
    assert run(check_fn, stub).status == "not implemented"
    assert run(check_fn, ...).status == "not implemented"


def _ln(x, gamma, beta, eps=1e-5, axis=-1, ddof=0, eps_inside=True):
    mu = x.mean(axis=axis, keepdims=True)
    var = x.var(axis=axis, ddof=ddof, keepdims=True)
    denom = np.sqrt(var + eps) if eps_inside else np.sqrt(var) + eps
    return gamma * (x - mu) / denom + beta


@pytest.mark.parametrize("wrong, needles", [
    (lambda x, g, b, eps=1e-5: _ln(x, g, b, eps, axis=0), ["batch", "axis=-1"]),
    (lambda x, g, b, eps=1e-5: _ln(x, g, b, eps, ddof=1), ["unbiased"]),
    (lambda x, g, b, eps=1e-5: _ln(x, g, b, eps, eps_inside=False), ["inside the square root"]),
    (lambda x, g, b, eps=1e-5: _ln(x, 1.0, 0.0, eps), ["gamma and beta are missing"]),
    (lambda x, g, b, eps=1e-5: g * (x - x.mean(-1, keepdims=True)) / (x.var(-1, keepdims=True) + eps) + b,
     ["not by the variance"]),
    (lambda x, g, b, eps=1e-5: (g * (x - x.mean(-1, keepdims=True)) + b) / np.sqrt(x.var(-1, keepdims=True) + eps),
     ["after normalising"]),
    (lambda x, g, b, eps=1e-5: _ln(x, g, b, eps).tolist(), ["NumPy array", "list"]),
    (lambda x, g, b, eps=1e-5: _ln(x, g, b, eps).round().astype(int), ["floating-point"]),
    (lambda x, g, b, eps=1e-5: _ln(x, g, b, 0.0), ["add eps inside the square root"]),
    (lambda x, g, b, eps=1e-5: g * (x - x.mean()) / np.sqrt(x.var() + eps) + b, ["the whole array at once"]),
])
def test_layer_norm_forward_mistakes(wrong, needles):
    assert_hint(run(ch10.layer_norm_forward, wrong), *needles)


def test_layer_norm_forward_in_place_is_rejected():
    def in_place(x, gamma, beta, eps=1e-5):
        x -= x.mean(axis=-1, keepdims=True)
        return gamma * x / np.sqrt((x ** 2).mean(axis=-1, keepdims=True) + eps) + beta
    assert_hint(run(ch10.layer_norm_forward, in_place), "in_place changed its input x in place", "new arrays")


def _ln_parts(x, gamma, grad_out, eps):
    mu = x.mean(-1, keepdims=True)
    r = 1 / np.sqrt(x.var(-1, keepdims=True) + eps)
    x_hat = (x - mu) * r
    lead = tuple(range(x.ndim - 1))
    return r, x_hat, lead, grad_out * gamma


def _ln_backward(grad_x_rule, gamma_rule=None, beta_rule=None):
    def backward(x, gamma, grad_out, eps=1e-5):
        r, x_hat, lead, g = _ln_parts(x, gamma, grad_out, eps)
        grad_gamma = (grad_out * x_hat).sum(lead) if gamma_rule is None else gamma_rule(grad_out, x_hat, x, lead)
        grad_beta = grad_out.sum(lead) if beta_rule is None else beta_rule(grad_out)
        return grad_x_rule(r, x_hat, g, grad_out), grad_gamma, grad_beta
    return backward


_RIGHT_GX = lambda r, xh, g, go: r * (g - g.mean(-1, keepdims=True) - xh * (g * xh).mean(-1, keepdims=True))  # noqa: E731


@pytest.mark.parametrize("wrong, needles", [
    (_ln_backward(lambda r, xh, g, go: g * r), ["constants", "mean(g)"]),
    (_ln_backward(lambda r, xh, g, go: r * (g - g.mean(-1, keepdims=True))), ["variance term"]),
    (_ln_backward(lambda r, xh, g, go: r * (g - xh * (g * xh).mean(-1, keepdims=True))), ["mean term"]),
    (_ln_backward(lambda r, xh, g, go: r * (go - go.mean(-1, keepdims=True) - xh * (go * xh).mean(-1, keepdims=True))),
     ["multiply grad_out by gamma"]),
    (_ln_backward(_RIGHT_GX, gamma_rule=lambda go, xh, x, lead: go * xh), ["grad_gamma has gamma's shape"]),
    (_ln_backward(_RIGHT_GX, gamma_rule=lambda go, xh, x, lead: (go * x).sum(lead)), ["normalised x_hat"]),
    (_ln_backward(_RIGHT_GX, beta_rule=lambda go: go), ["grad_beta has beta's shape"]),
    (lambda x, gamma, grad_out, eps=1e-5: _ln_backward(_RIGHT_GX)(x, gamma, grad_out, eps)[0],
     ["three arrays"]),
])
def test_layer_norm_backward_mistakes(wrong, needles):
    assert_hint(run(ch10.layer_norm_backward, wrong), *needles)


def _softmax(z, axis=-1):
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def _unstable_softmax(z, axis=-1):
    e = np.exp(z)                      # no max-subtraction: overflows for large scores
    return e / e.sum(axis=axis, keepdims=True)


def _head(scale="sqrt", mask="causal", axis=-1, fill=-np.inf, softmax=_softmax):
    def head(x, Wq, Wk, Wv):
        q, k, v = x @ Wq.T, x @ Wk.T, x @ Wv.T
        T, d = q.shape
        s = q @ k.T / {"sqrt": np.sqrt(d), "none": 1.0, "d": d, "sqrt_C": np.sqrt(x.shape[1])}[scale]
        upper = np.triu(np.ones((T, T), dtype=bool), 1)
        if mask == "causal":
            s = np.where(upper, fill, s)
        elif mask == "transposed":
            s = np.where(upper.T, fill, s)
        elif mask == "tril_k1":          # allowed = np.tril(ones, k=1): each position also sees the next
            s = np.where(np.tril(np.ones((T, T), dtype=bool), k=1), s, fill)
        elif mask == "after":            # zero the future weights after the softmax, no renormalising
            return (softmax(s, axis=axis) * ~upper) @ v
        return softmax(s, axis=axis) @ v
    return head


@pytest.mark.parametrize("wrong, needles", [
    (_head(mask="none"), ["no causal mask"]),
    (_head(scale="none"), ["1 / sqrt(d)"]),
    (_head(scale="d"), ["not 1 / d"]),
    (_head(mask="transposed"), ["wrong way round"]),
    (_head(axis=0), ["along each row"]),
    (_head(fill=0.0), ["-inf", "not 0"]),
    (_head(scale="sqrt_C"), ["not sqrt(C)"]),
    (_head(mask="after"), ["mask the scores before the softmax"]),
    (_head(mask="tril_k1"), ["np.tril(..., k=1)"]),
    (_head(softmax=_unstable_softmax), ["NaN", "subtract each row's largest score"]),
    (lambda x, Wq, Wk, Wv: _head()(x, Wq, Wk, Wv).T, ["(T, d)"]),
])
def test_causal_attention_head_mistakes(wrong, needles):
    assert_hint(run(ch10.causal_attention_head, wrong), *needles)


def _count(V, T, C, L, **drop):
    parts = dict(wte=V * C, wpe=T * C, ln=L * 4 * C + 2 * C, attn_w=L * 4 * C * C, attn_b=L * 4 * C,
                 mlp_w=L * 8 * C * C, mlp_b=L * 5 * C, head=C * V)
    parts.update(drop)
    return sum(parts.values())


@pytest.mark.parametrize("wrong, needles", [
    (lambda V, T, C, L: _count(V, T, C, L, attn_b=0, mlp_b=0), ["biases"]),
    (lambda V, T, C, L: _count(V, T, C, L, ln=0), ["LayerNorm"]),
    (lambda V, T, C, L: _count(V, T, C, L, wpe=0), ["position embedding"]),
    (lambda V, T, C, L: _count(V, T, C, L, head=0), ["lm_head", "tie"]),
    (lambda V, T, C, L: _count(V, T, C, L, mlp_w=L * 2 * C * C), ["8 C^2"]),
    (lambda V, T, C, L: _count(V, T, C, L, attn_w=L * 2 * C * C), ["four C x C"]),
    (lambda V, T, C, L: float(_count(V, T, C, L)), ["int"]),
])
def test_gpt_parameter_count_mistakes(wrong, needles):
    assert_hint(run(ch10.gpt_parameter_count, wrong), *needles)


def _topk(logits, k, temperature=1.0, *, divide=True, renormalise=True, extra=0, smallest=False, use_k=True,
          strict=False, after=False):
    z = logits / temperature if divide else logits * temperature
    if not use_k:
        return _softmax(z)
    if smallest:
        keep = logits <= np.sort(logits)[k - 1]
    elif strict:
        keep = logits > np.sort(logits)[-k]
    else:
        keep = logits >= np.sort(logits)[-min(k + extra, len(logits))]
    if after:                            # the temperature on the probabilities, after the softmax
        return _softmax(np.where(keep, logits, -np.inf)) ** (1 / temperature)
    if renormalise:
        return _softmax(np.where(keep, z, -np.inf))
    return np.where(keep, _softmax(z), 0.0)


@pytest.mark.parametrize("kwargs, needles", [
    (dict(use_k=False), ["no top-k"]),
    (dict(divide=False), ["divide the logits by the temperature"]),
    (dict(renormalise=False), ["renormalised"]),
    (dict(extra=1), ["k + 1"]),
    (dict(smallest=True), ["k smallest"]),
    (dict(strict=True), ["a strict > keeps only k - 1"]),
    (dict(after=True), ["before the softmax"]),
])
def test_top_k_probabilities_mistakes(kwargs, needles):
    assert_hint(run(ch10.top_k_probabilities,
                    lambda logits, k, temperature=1.0: _topk(logits, k, temperature, **kwargs)),
                *needles)


def test_top_k_rejects_tensors():
    import torch
    result = run(ch10.top_k_probabilities,
                 lambda logits, k, temperature=1.0: torch.from_numpy(_topk(logits, k, temperature)))
    assert_hint(result, "NumPy array", "Tensor")


def _residual(kind):
    def backward(x, W, grad_y):
        h = np.tanh(x @ W.T)
        if kind == "branch_only":
            return (grad_y * (1 - h * h)) @ W
        if kind == "identity_only":
            return grad_y.copy()
        if kind == "transpose":
            return grad_y + (grad_y * (1 - h * h)) @ W.T
        if kind == "tanh_prime":
            return grad_y + (grad_y * (1 - h)) @ W
        if kind == "multiply":
            return grad_y * ((grad_y * (1 - h * h)) @ W)
        raise AssertionError(kind)
    return backward


@pytest.mark.parametrize("kind, needles", [
    ("branch_only", ["identity path adds grad_y"]),
    ("identity_only", ["only the identity path"]),
    ("transpose", ["not W.T"]),
    ("tanh_prime", ["1 - tanh(z)^2"]),
    ("multiply", ["add up"]),
])
def test_residual_backward_mistakes(kind, needles):
    assert_hint(run(ch10.residual_backward, _residual(kind)), *needles)


def test_errors_in_learner_code_are_reported_not_raised():
    def broken(x, W, grad_y):
        return grad_y + undefined_name  # noqa: F821
    result = run(ch10.residual_backward, broken)
    assert result.status == "error" and "NameError" in result.message
