"""The exercise checks of chapter 17 (a real model file).

For every check: the solution from solutions/17_smollm2.ipynb passes (the functions are taken from the
notebook itself), the stub and the placeholder ``...`` are "not implemented yet", the course's own
functions pass, and plausible wrong answers fail with the hint meant for them.
"""

from __future__ import annotations

import numpy as np
import pytest

from nncourse.checks import ch17
from check_helpers import assert_hint, run, solution_namespace, stub

CHECKS = ["dequantize_q4_1", "unpermute_rope_rows", "apply_chat_template", "top_p_filter", "count_parameters"]


def solution() -> dict:
    return solution_namespace("17_smollm2")


@pytest.mark.parametrize("name", CHECKS)
def test_solution_passes_stub_and_placeholder_do_not(name):
    check_fn = getattr(ch17, name)
    assert run(check_fn, solution()[name]), name
    assert run(check_fn, stub).status == "not implemented"
    assert run(check_fn, ...).status == "not implemented"


def test_the_library_passes_the_checks_too():
    from nncourse.models.llama import sampling_probabilities
    from nncourse.pretrained import unpermute_rope_rows
    from nncourse.quantization import dequantize_q4_1
    from nncourse.tokenizers import render_chat_template

    assert run(ch17.dequantize_q4_1, lambda block: dequantize_q4_1(block)[0])
    assert run(ch17.unpermute_rope_rows, unpermute_rope_rows)
    assert run(ch17.apply_chat_template, lambda messages, add_generation_prompt=True: render_chat_template(
        ch17.SMOLLM2_CHAT_TEMPLATE, messages, add_generation_prompt=add_generation_prompt))
    assert run(ch17.top_p_filter, lambda p, top_p: sampling_probabilities(np.log(p)[None], 1.0, None, top_p)[0])


# ---------------------------------------------------------------------------------------- Q4_1
def _fields(block):
    d = block[0:2].view(np.float16).astype(np.float32)[0]
    m = block[2:4].view(np.float16).astype(np.float32)[0]
    return d, m, block[4:20]


def test_q4_1_wrong_answers():
    def interleaved(block):
        d, m, packed = _fields(block)
        return d * np.stack([packed & 15, packed >> 4], axis=1).reshape(-1).astype(np.float32) + m

    def high_first(block):
        d, m, packed = _fields(block)
        return d * np.concatenate([packed >> 4, packed & 15]).astype(np.float32) + m

    def no_minimum(block):
        d, m, packed = _fields(block)
        return d * np.concatenate([packed & 15, packed >> 4]).astype(np.float32)

    def swapped(block):
        d, m, packed = _fields(block)
        return m * np.concatenate([packed & 15, packed >> 4]).astype(np.float32) + d

    def signed(block):
        d, m, packed = _fields(block)
        return d * (np.concatenate([packed & 15, packed >> 4]).astype(np.float32) - 8) + m

    def two_rows(block):
        d, m, packed = _fields(block)
        return d * np.stack([packed & 15, packed >> 4]).astype(np.float32) + m

    assert_hint(run(ch17.dequantize_q4_1, interleaved), "not neighbours in pairs")
    assert_hint(run(ch17.dequantize_q4_1, high_first), "low nibble (byte & 0x0F) comes first")
    assert_hint(run(ch17.dequantize_q4_1, no_minimum), "adds the block's minimum")
    assert_hint(run(ch17.dequantize_q4_1, swapped), "the first float16 is the scale d")
    assert_hint(run(ch17.dequantize_q4_1, signed), "unsigned, 0..15")
    assert_hint(run(ch17.dequantize_q4_1, two_rows), "one array of shape (32,)")


# ---------------------------------------------------------------------------------------- RoPE rows
def test_unpermute_wrong_answers():
    def permute(weight, n_heads):
        rows, d = weight.shape
        return weight.reshape(n_heads, 2, rows // n_heads // 2, d).swapaxes(1, 2).reshape(rows, d)

    def whole_matrix(weight, n_heads):
        rows, d = weight.shape
        return weight.reshape(rows // 2, 2, d).swapaxes(0, 1).reshape(rows, d)

    assert_hint(run(ch17.unpermute_rope_rows, permute), "the other way round")
    assert_hint(run(ch17.unpermute_rope_rows, whole_matrix), "inside each head")
    assert_hint(run(ch17.unpermute_rope_rows, lambda weight, n_heads: weight), "come back unchanged")


# ---------------------------------------------------------------------------------------- chat template
def _chatml(messages, add_generation_prompt, default=True, newline="\n", prompt="<|im_start|>assistant\n"):
    out = ""
    if default and messages[0]["role"] != "system":
        out += "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>" \
               + newline
    for m in messages:
        out += f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>" + newline
    return out + (prompt if add_generation_prompt else "")


def test_chat_template_wrong_answers():
    assert_hint(run(ch17.apply_chat_template, lambda ms, g=True: _chatml(ms, g, default=False)),
                "adds its default one")
    always = lambda ms, g=True: _chatml([{"role": "system", "content": "You are a helpful AI assistant named "  # noqa: E731
                                          "SmolLM, trained by Hugging Face"}] + ms, g) if ms[0]["role"] == "system" \
        else _chatml(ms, g)
    assert_hint(run(ch17.apply_chat_template, always), "only when the conversation does not start with one")
    assert_hint(run(ch17.apply_chat_template, lambda ms, g=True: _chatml(ms, g, newline="")), "and a newline")
    assert_hint(run(ch17.apply_chat_template, lambda ms, g=True: _chatml(ms, True)), "only when add_generation_prompt")
    assert_hint(run(ch17.apply_chat_template, lambda ms, g=True: _chatml(ms, g, prompt="<|im_start|>assistant")),
                "ends with a newline")
    assert_hint(run(ch17.apply_chat_template, lambda ms, g=True: [_chatml(ms, g)]), "return one str")


# ---------------------------------------------------------------------------------------- top-p
def _keep(probs, keep):
    kept = np.where(keep, probs, 0.0)
    return kept / kept.sum()


def test_top_p_wrong_answers():
    def exclusive(probs, top_p):
        order = np.argsort(-probs)
        keep = np.zeros(len(probs), bool)
        keep[order[np.cumsum(probs[order]) <= top_p]] = True
        keep[order[0]] = True
        return _keep(probs, keep)

    def not_renormalised(probs, top_p):
        order = np.argsort(-probs)
        above = np.cumsum(probs[order]) - probs[order]
        keep = np.zeros(len(probs), bool)
        keep[order[above < top_p]] = True
        return np.where(keep, probs, 0.0)

    def each_token(probs, top_p):
        return _keep(probs, probs >= top_p)

    assert_hint(run(ch17.top_p_filter, exclusive), "reach top_p too")
    assert_hint(run(ch17.top_p_filter, not_renormalised), "renormalise")
    assert_hint(run(ch17.top_p_filter, each_token), "the most likely token always stays")


# ---------------------------------------------------------------------------------------- parameters
def _params(c, tied=None, kv_full=False, norms=True, mlp=3, final=True):
    C, F, V = c["d_model"], c["d_ff"], c["vocab_size"]
    kv = C if kv_full else c["n_kv_heads"] * (C // c["n_heads"])
    total = V * C + c["n_layers"] * (2 * C * C + 2 * kv * C + mlp * C * F + (2 * C if norms else 0))
    total += C if final else 0
    return total + (0 if (c["tie_embeddings"] if tied is None else tied) else V * C)


def test_count_parameters_wrong_answers():
    assert_hint(run(ch17.count_parameters, lambda c: _params(c, tied=False)), "reuses the embedding matrix")
    assert_hint(run(ch17.count_parameters, lambda c: _params(c, kv_full=True)), "only n_kv_heads heads")
    assert_hint(run(ch17.count_parameters, lambda c: _params(c, norms=False)), "two RMSNorm weight vectors")
    assert_hint(run(ch17.count_parameters, lambda c: _params(c, final=False)), "final RMSNorm")
    assert_hint(run(ch17.count_parameters, lambda c: _params(c, mlp=2)), "three matrices")
    assert_hint(run(ch17.count_parameters, lambda c: float(_params(c))), "return an int")
    assert ch17._count(ch17.SMOLLM2_CONFIG) == 134_515_008
