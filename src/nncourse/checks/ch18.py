"""Checks for the chapter 18 exercises: fine-tuning with LoRA.

Use them at the end of each exercise::

    from nncourse.checks import ch18 as check
    check.lora_forward(lora_forward)

``lora_forward``, ``lora_grad_B``, ``lora_trainable_parameters``, ``merge_lora_weight`` and
``label_scores``. The expected values come from the course's package (``numpy_nn.LoRALinear``,
``nncourse.finetune``), which tests/test_lora.py compares with torch; the checks use small random
matrices, never the 135 M model.
"""

from __future__ import annotations

import numbers

import numpy as np

from .framework import Tester, check

__all__ = ["lora_forward", "lora_grad_B", "lora_trainable_parameters", "merge_lora_weight", "label_scores",
           "SMOLLM2_CONFIG"]

#: SmolLM2-135M's configuration (the same copy as checks.ch17's)
SMOLLM2_CONFIG = dict(vocab_size=49152, d_model=576, n_heads=9, n_kv_heads=3, n_layers=30, d_ff=1536,
                      tie_embeddings=True)


def _case(seed, n, d_in, d_out, r, bias=True):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d_in))
    W = rng.standard_normal((d_out, d_in)) / np.sqrt(d_in)
    b = rng.standard_normal(d_out) if bias else np.zeros(d_out)
    A = rng.uniform(-1, 1, (r, d_in)) / np.sqrt(d_in)
    B = rng.standard_normal((d_out, r))
    return x, W, b, A, B


_CASES = [("x (4, 6), W (5, 6), r = 2, alpha = 4", 0, 4, 6, 5, 2, 4.0),
          ("x (3, 8), W (8, 8), r = 4, alpha = 16", 1, 3, 8, 8, 4, 16.0),
          ("x (5, 7), W (3, 7), r = 1, alpha = 1", 2, 5, 7, 3, 1, 1.0),
          ("x (2, 10), W (12, 10), r = 3, alpha = 6", 3, 2, 10, 12, 3, 6.0)]


# --------------------------------------------------------------------------------------------------
# Exercise 1: the LoRA forward pass
# --------------------------------------------------------------------------------------------------


@check("lora_forward")
def lora_forward(t: Tester, lora_forward) -> None:
    """``lora_forward(x, W, b, A, B, alpha)``: ``x @ W.T + b + (alpha / r) * (x @ A.T) @ B.T``."""
    t.callable(lora_forward, "lora_forward")
    for description, seed, n, d_in, d_out, r, alpha in _CASES:
        x, W, b, A, B = _case(seed, n, d_in, d_out, r)
        got = t.call(lora_forward, x, W, b, A, B, alpha)
        base = x @ W.T + b
        update = (x @ A.T) @ B.T
        want = base + alpha / r * update
        t.close(got, want, f"lora_forward({description})", mistakes=[
            (lambda: base + update if alpha != r else None,
             "the update is scaled by alpha / r: multiply (x @ A.T) @ B.T by alpha / r."),
            (lambda: base + alpha * update,
             "the scale is alpha / r, not alpha: divide by the rank r (A.shape[0])."),
            (lambda: base + r / alpha * update if alpha != r * r / alpha else None,
             "the scale is alpha / r, not r / alpha."),
            (lambda: x @ W.T + alpha / r * update,
             "the base layer keeps its bias: x @ W.T + b, then add the update."),
            (lambda: alpha / r * update, "LoRA adds to the frozen layer's output: keep x @ W.T + b."),
            (lambda: base, "the update path is missing: add (alpha / r) * (x @ A.T) @ B.T."),
        ], shape_hint="the output has one row per example and one column per output: (N, out).",
            hint="y = x @ W.T + b + (alpha / r) * (x @ A.T) @ B.T, with r = A.shape[0].")


# --------------------------------------------------------------------------------------------------
# Exercise 2: the gradient of B
# --------------------------------------------------------------------------------------------------


@check("lora_grad_B")
def lora_grad_B(t: Tester, lora_grad_B) -> None:
    """``lora_grad_B(x, A, grad_output, alpha)``: d loss / d B = (alpha / r) * grad_output.T @ (x @ A.T)."""
    t.callable(lora_grad_B, "lora_grad_B")
    for description, seed, n, d_in, d_out, r, alpha in _CASES:
        x, _, _, A, _ = _case(seed, n, d_in, d_out, r)
        g = np.random.default_rng(seed + 10).standard_normal((n, d_out))
        got = t.call(lora_grad_B, x, A, g, alpha)
        u = x @ A.T
        want = alpha / r * g.T @ u
        t.close(got, want, f"lora_grad_B({description})", mistakes=[
            (lambda: g.T @ u if alpha != r else None,
             "the update is scaled by alpha / r, so its gradient is too: multiply by alpha / r."),
            (lambda: (alpha / r * g.T @ u).T,
             "d loss / d B has B's shape (out, r): grad_output.T @ u, not u.T @ grad_output."),
            (lambda: alpha / r * g.T @ u / n,
             "grad_output already holds d loss / d y for each example: sum over the batch, do not divide by N."),
            (lambda: alpha * g.T @ u, "the scale is alpha / r, not alpha."),
            (lambda: alpha / r * g.T @ x if d_in == r else None,
             "B multiplies u = x @ A.T (N, r), not x: d/dB = s * grad_output.T @ (x @ A.T)."),
        ], shape_hint="d loss / d B has B's shape: (out, r), with out = grad_output.shape[1] and r = A.shape[0].",
            hint="with u = x @ A.T (N, r): d loss / d B = (alpha / r) * grad_output.T @ u.")


# --------------------------------------------------------------------------------------------------
# Exercise 3: how many parameters train
# --------------------------------------------------------------------------------------------------


def _shapes(config):
    C, F = config["d_model"], config["d_ff"]
    kv = config["n_kv_heads"] * (C // config["n_heads"])
    return {"q_proj": (C, C), "k_proj": (kv, C), "v_proj": (kv, C), "o_proj": (C, C),
            "gate_proj": (F, C), "up_proj": (F, C), "down_proj": (C, F)}


def _trainable(config, r, targets, *, a_only=False, b_only=False, gqa=True, layers=True, full=False):
    shapes = _shapes(config if gqa else {**config, "n_kv_heads": config["n_heads"]})
    total = 0
    for name in targets:
        out, inp = shapes[name]
        total += out * inp if full else r * inp if a_only else r * out if b_only else r * (inp + out)
    return total * (config["n_layers"] if layers else 1)


_COUNT_CASES = [("SmolLM2-135M, r = 8 on q_proj and v_proj", SMOLLM2_CONFIG, 8, ("q_proj", "v_proj")),
                ("SmolLM2-135M, r = 16 on all seven projections", SMOLLM2_CONFIG, 16,
                 ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")),
                ("d_model 64, 4 heads, 1 KV head, 3 layers, d_ff 160, r = 4 on k_proj and down_proj",
                 dict(vocab_size=100, d_model=64, n_heads=4, n_kv_heads=1, n_layers=3, d_ff=160,
                      tie_embeddings=False), 4, ("k_proj", "down_proj"))]


@check("lora_trainable_parameters")
def lora_trainable_parameters(t: Tester, lora_trainable_parameters) -> None:
    """``lora_trainable_parameters(config, r, targets) -> int``: A and B of every targeted projection."""
    t.callable(lora_trainable_parameters, "lora_trainable_parameters")
    for description, config, r, targets in _COUNT_CASES:
        got = t.call(lora_trainable_parameters, dict(config), r, tuple(targets))
        want = _trainable(config, r, targets)
        if isinstance(got, numbers.Real) and not isinstance(got, (bool, numbers.Integral)) and float(got) == want:
            t.fail(f"lora_trainable_parameters({description}) should return an int, yours returns {got!r}",
                   "count with integers (no / or float()).")
        t.equal(got, want, f"lora_trainable_parameters({description})", mistakes=[
            (lambda: _trainable(config, r, targets, a_only=True), "count B too: A is r x in, B is out x r."),
            (lambda: _trainable(config, r, targets, b_only=True), "count A too: A is r x in, B is out x r."),
            (lambda: _trainable(config, r, targets, gqa=False) if config["n_kv_heads"] != config["n_heads"]
             and ({"k_proj", "v_proj"} & set(targets)) else None,
             "k_proj and v_proj have n_kv_heads * head_dim outputs, not d_model (grouped-query attention)."),
            (lambda: _trainable(config, r, targets, layers=False),
             "every decoder layer has its own projections: multiply by n_layers."),
            (lambda: _trainable(config, r, targets, full=True),
             "that is the size of the frozen weights; LoRA trains only r * (in + out) per projection."),
        ], hint="per targeted projection of shape (out, in): r * in for A plus out * r for B; times n_layers.")


# --------------------------------------------------------------------------------------------------
# Exercise 4: merging the adapter
# --------------------------------------------------------------------------------------------------


@check("merge_lora_weight")
def merge_lora_weight(t: Tester, merge_lora_weight) -> None:
    """``merge_lora_weight(W, A, B, alpha)`` -> ``W + (alpha / r) * B @ A`` (the merged layer's weight)."""
    t.callable(merge_lora_weight, "merge_lora_weight")
    for description, seed, n, d_in, d_out, r, alpha in _CASES:
        _, W, _, A, B = _case(seed, n, d_in, d_out, r)
        got = t.call(merge_lora_weight, W, A, B, alpha)
        want = W + alpha / r * B @ A
        t.close(got, want, f"merge_lora_weight({description})", mistakes=[
            (lambda: W + B @ A if alpha != r else None, "the update is scaled: W + (alpha / r) * B @ A."),
            (lambda: W + alpha * B @ A, "the scale is alpha / r, not alpha."),
            (lambda: (W.T + alpha / r * A.T @ B.T).T if d_in == d_out else None,
             "that is the same matrix: check the order of B and A ((out, r) @ (r, in))."),
            (lambda: W - alpha / r * B @ A, "the update is added to W, not subtracted."),
            (lambda: alpha / r * B @ A, "merging keeps the frozen weight: W + (alpha / r) * B @ A."),
        ], shape_hint="the merged weight has W's shape (out, in): B (out, r) @ A (r, in).",
            hint="merged weight = W + (alpha / r) * B @ A with r = A.shape[0]; then x @ merged.T + b gives the "
                 "same output as the base plus the adapter.")


# --------------------------------------------------------------------------------------------------
# Exercise 5: scoring labels by likelihood
# --------------------------------------------------------------------------------------------------


def _log_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


_LABEL_CASES = [("3 one-token labels", 0, 1, 12, [[3], [7], [10]]),
                ("labels of 2, 3 and 1 tokens", 1, 3, 15, [[1, 4], [2, 2, 9], [14]]),
                ("2 labels of 2 tokens", 2, 2, 6, [[0, 5], [5, 0]])]


@check("label_scores")
def label_scores(t: Tester, label_scores) -> None:
    """``label_scores(log_probs, labels)``: for each label (a list of token ids), the sum of
    ``log_probs[j, token_j]`` over its tokens (position j predicts the label's token j)."""
    t.callable(label_scores, "label_scores")
    for description, seed, L, V, labels in _LABEL_CASES:
        log_probs = _log_softmax(np.random.default_rng(seed).standard_normal((L, V)) * 2)
        got = t.call(label_scores, log_probs, [list(lbl) for lbl in labels])
        want = np.array([sum(log_probs[j, tok] for j, tok in enumerate(lbl)) for lbl in labels])
        t.close(got, want, f"label_scores({description})", mistakes=[
            (lambda: np.array([sum(log_probs[0, tok] for tok in lbl) for lbl in labels]) if L > 1 else None,
             "each token of a label is predicted at its own position: token j uses row j of log_probs."),
            (lambda: np.array([np.mean([log_probs[j, tok] for j, tok in enumerate(lbl)]) for lbl in labels])
             if len({len(lbl) for lbl in labels}) > 1 or len(labels[0]) > 1 else None,
             "add the log-probabilities (the log of the product of the probabilities), do not average them."),
            (lambda: np.array([np.prod([np.exp(log_probs[j, tok]) for j, tok in enumerate(lbl)]) for lbl in labels]),
             "return log-likelihoods (sums of log_probs), not probabilities."),
            (lambda: np.array([log_probs[len(lbl) - 1, lbl[-1]] for lbl in labels])
             if any(len(lbl) > 1 for lbl in labels) else None,
             "every token of the label counts, not only the last one."),
        ], shape_hint="return one score per label: an array of shape (len(labels),).",
            hint="score of a label = sum over j of log_probs[j, label[j]].")
