"""The exercise checks of chapter 18 (LoRA).

For every check: the solution from solutions/18_finetuning.ipynb passes (the functions are taken from
the notebook itself), the stub and the placeholder ``...`` are "not implemented yet", the course's own
functions pass, and plausible wrong answers fail with the hint meant for them.
"""

from __future__ import annotations

import numpy as np
import pytest

from nncourse.checks import ch18
from check_helpers import assert_hint, run, solution_namespace, stub

CHECKS = ["lora_forward", "lora_grad_B", "lora_trainable_parameters", "merge_lora_weight", "label_scores"]

SHAPES = lambda c: {  # noqa: E731
    "q_proj": (c["d_model"], c["d_model"]), "o_proj": (c["d_model"], c["d_model"]),
    "k_proj": (c["n_kv_heads"] * c["d_model"] // c["n_heads"], c["d_model"]),
    "v_proj": (c["n_kv_heads"] * c["d_model"] // c["n_heads"], c["d_model"]),
    "gate_proj": (c["d_ff"], c["d_model"]), "up_proj": (c["d_ff"], c["d_model"]),
    "down_proj": (c["d_model"], c["d_ff"])}


def solution() -> dict:
    return solution_namespace("18_finetuning")


def lora_trainable_parameters(config, r, targets):
    """The solution's count, written here again for the wrong answers built on it below."""
    return config["n_layers"] * sum(r * (SHAPES(config)[t][0] + SHAPES(config)[t][1]) for t in targets)


@pytest.mark.parametrize("name", CHECKS)
def test_solution_passes_stub_and_placeholder_do_not(name):
    check_fn = getattr(ch18, name)
    assert run(check_fn, solution()[name]), name
    assert run(check_fn, stub).status == "not implemented"
    assert run(check_fn, ...).status == "not implemented"


def test_the_count_written_here_agrees_with_the_solution_notebook():
    config = dict(ch18.SMOLLM2_CONFIG)
    for r, targets in [(8, ("q_proj", "v_proj")), (3, ("k_proj", "down_proj", "up_proj"))]:
        assert lora_trainable_parameters(config, r, targets) == solution()["lora_trainable_parameters"](
            config, r, targets)


def test_the_library_passes_the_checks_too():
    from nncourse.finetune import apply_lora, count_parameters, label_log_likelihoods
    from nncourse.models import Llama
    from nncourse.numpy_nn import Linear, LoRALinear

    def forward(x, W, b, A, B, alpha):
        base = Linear(W.shape[1], W.shape[0], dtype=np.float64)
        base.weight.data, base.bias.data = W.copy(), b.copy()
        layer = LoRALinear(base, r=A.shape[0], alpha=alpha)
        layer.lora_A.data, layer.lora_B.data = A.copy(), B.copy()
        return layer

    assert run(ch18.lora_forward, lambda x, W, b, A, B, alpha: forward(x, W, b, A, B, alpha)(x))

    def grad_b(x, A, g, alpha):
        layer = forward(x, np.zeros((g.shape[1], x.shape[1])), np.zeros(g.shape[1]), A,
                        np.zeros((g.shape[1], A.shape[0])), alpha)
        layer(x)
        layer.backward(g)
        return layer.lora_B.grad

    assert run(ch18.lora_grad_B, grad_b)
    assert run(ch18.merge_lora_weight, lambda W, A, B, alpha: forward(
        np.zeros((1, W.shape[1])), W, np.zeros(W.shape[0]), A, B, alpha).merge().weight.data)
    assert run(ch18.label_scores, label_log_likelihoods)

    def trainable(config, r, targets):
        model = Llama(config["vocab_size"], 8, config["d_model"], config["n_heads"], config["n_kv_heads"], 1,
                      config["d_ff"], tie_embeddings=config["tie_embeddings"], seed=0)
        apply_lora(model, r=r, alpha=2 * r, targets=targets, verbose=False)
        return count_parameters(model)[0] * config["n_layers"]

    small = dict(ch18._COUNT_CASES[2][1])
    assert trainable(small, 4, ("k_proj", "down_proj")) == lora_trainable_parameters(small, 4, ("k_proj", "down_proj"))


def test_forward_wrong_answers():
    assert_hint(run(ch18.lora_forward, lambda x, W, b, A, B, alpha: x @ W.T + b + (x @ A.T) @ B.T), "alpha / r")
    assert_hint(run(ch18.lora_forward, lambda x, W, b, A, B, alpha: x @ W.T + b + alpha * (x @ A.T) @ B.T),
                "not alpha")
    assert_hint(run(ch18.lora_forward, lambda x, W, b, A, B, alpha: x @ W.T + b + A.shape[0] / alpha * (x @ A.T)
                    @ B.T), "not r / alpha")
    assert_hint(run(ch18.lora_forward, lambda x, W, b, A, B, alpha: x @ W.T + alpha / A.shape[0] * (x @ A.T) @ B.T),
                "keeps its bias")
    assert_hint(run(ch18.lora_forward, lambda x, W, b, A, B, alpha: alpha / A.shape[0] * (x @ A.T) @ B.T),
                "adds to the frozen layer's output")
    assert_hint(run(ch18.lora_forward, lambda x, W, b, A, B, alpha: x @ W.T + b), "update path is missing")


def test_grad_b_wrong_answers():
    assert_hint(run(ch18.lora_grad_B, lambda x, A, g, alpha: g.T @ (x @ A.T)), "scaled by alpha / r")
    assert_hint(run(ch18.lora_grad_B, lambda x, A, g, alpha: (alpha / A.shape[0] * g.T @ (x @ A.T)).T),
                "B's shape (out, r)")
    assert_hint(run(ch18.lora_grad_B, lambda x, A, g, alpha: alpha / A.shape[0] * g.T @ (x @ A.T) / len(x)),
                "do not divide by N")
    assert_hint(run(ch18.lora_grad_B, lambda x, A, g, alpha: alpha * g.T @ (x @ A.T)), "not alpha")


def test_trainable_parameter_wrong_answers():
    def only(part):
        def count(config, r, targets):
            return config["n_layers"] * sum(r * SHAPES(config)[t][part] for t in targets)
        return count

    assert_hint(run(ch18.lora_trainable_parameters, only(1)), "count B too")
    assert_hint(run(ch18.lora_trainable_parameters, only(0)), "count A too")
    no_gqa = lambda c, r, targets: lora_trainable_parameters({**c, "n_kv_heads": c["n_heads"]}, r, targets)  # noqa: E731
    assert_hint(run(ch18.lora_trainable_parameters, no_gqa), "n_kv_heads * head_dim")
    assert_hint(run(ch18.lora_trainable_parameters,
                    lambda c, r, targets: lora_trainable_parameters({**c, "n_layers": 1}, r, targets)),
                "multiply by n_layers")
    assert_hint(run(ch18.lora_trainable_parameters, lambda c, r, targets: c["n_layers"] * sum(
        SHAPES(c)[t][0] * SHAPES(c)[t][1] for t in targets)), "size of the frozen weights")
    assert_hint(run(ch18.lora_trainable_parameters, lambda c, r, targets: float(lora_trainable_parameters(
        c, r, targets))), "should return an int")


def test_merge_wrong_answers():
    assert_hint(run(ch18.merge_lora_weight, lambda W, A, B, alpha: W + B @ A), "the update is scaled")
    assert_hint(run(ch18.merge_lora_weight, lambda W, A, B, alpha: W + alpha * B @ A), "not alpha")
    assert_hint(run(ch18.merge_lora_weight, lambda W, A, B, alpha: W - alpha / A.shape[0] * B @ A), "not subtracted")
    assert_hint(run(ch18.merge_lora_weight, lambda W, A, B, alpha: alpha / A.shape[0] * B @ A), "keeps the frozen")


def test_label_score_wrong_answers():
    assert_hint(run(ch18.label_scores, lambda lp, labels: np.array([sum(lp[0, t] for t in lbl) for lbl in labels])),
                "its own position")
    assert_hint(run(ch18.label_scores, lambda lp, labels: np.array(
        [np.mean([lp[j, t] for j, t in enumerate(lbl)]) for lbl in labels])), "do not average")
    assert_hint(run(ch18.label_scores, lambda lp, labels: np.array(
        [np.prod([np.exp(lp[j, t]) for j, t in enumerate(lbl)]) for lbl in labels])), "not probabilities")
    assert_hint(run(ch18.label_scores, lambda lp, labels: np.array([lp[len(lbl) - 1, lbl[-1]] for lbl in labels])),
                "not only the last one")
