"""Checks for the chapter 17 exercises: a real model file.

Use them at the end of each exercise::

    from nncourse.checks import ch17 as check
    check.dequantize_q4_1(dequantize_q4_1)

``dequantize_q4_1``, ``unpermute_rope_rows``, ``apply_chat_template``, ``top_p_filter`` and
``count_parameters``. The expected values come from the course's package (``nncourse.quantization``,
``nncourse.pretrained``, ``nncourse.tokenizers``, ``nncourse.models.llama``), which the tests compare
with ``gguf``, transformers and SmolLM2 itself; the checks use small stand-ins, never the 135 M model.
"""

from __future__ import annotations

import numbers

import numpy as np

from .framework import Tester, check

__all__ = ["dequantize_q4_1", "unpermute_rope_rows", "apply_chat_template", "top_p_filter", "count_parameters",
           "SMOLLM2_CHAT_TEMPLATE", "SMOLLM2_CONFIG"]

#: SmolLM2-135M-Instruct's chat template, as stored in its GGUF file (tests/test_smollm2.py checks the copy)
SMOLLM2_CHAT_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\n"
    "You are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")
#: SmolLM2-135M's configuration (nncourse.pretrained.llama_config of its file, without the file-only fields)
SMOLLM2_CONFIG = dict(vocab_size=49152, d_model=576, n_heads=9, n_kv_heads=3, n_layers=30, d_ff=1536,
                      tie_embeddings=True)


# --------------------------------------------------------------------------------------------------
# Exercise 1: decode a Q4_1 block
# --------------------------------------------------------------------------------------------------


def _block(d, m, q):
    q = np.asarray(q, np.uint8)
    return np.concatenate([np.array([d, m], np.float16).view(np.uint8), (q[:16] | (q[16:] << 4)).astype(np.uint8)])


def _q4_1_blocks():
    rng = np.random.default_rng(17)
    blocks = [("a block with d = 0.5, m = -1 and q = 0, 1, ..., 15, 0, 1, ..., 15", _block(0.5, -1.0, np.arange(32) % 16)),
              ("a block with d = 0.25, m = 2 and q = 15, 14, ..., 0 twice", _block(0.25, 2.0, (15 - np.arange(32)) % 16)),
              ("a block with d = 0 (all values equal m = 3)", _block(0.0, 3.0, rng.integers(0, 16, 32)))]
    for k in range(3):
        d, m = rng.uniform(0.001, 0.2), rng.uniform(-1.5, 0.0)
        blocks.append((f"random block {k + 1} (d = {np.float16(d)}, m = {np.float16(m)})",
                       _block(d, m, rng.integers(0, 16, 32))))
    return blocks


def _fields(block):
    d = float(block[:2].copy().view(np.float16)[0])
    m = float(block[2:4].copy().view(np.float16)[0])
    packed = block[4:20]
    return d, m, packed


@check("dequantize_q4_1")
def dequantize_q4_1(t: Tester, dequantize_q4_1) -> None:
    """``dequantize_q4_1(block)``: 20 bytes (uint8) -> the 32 values, float32."""
    from ..quantization import dequantize_q4_1 as reference

    t.callable(dequantize_q4_1, "dequantize_q4_1")
    for description, block in _q4_1_blocks():
        got = t.call(dequantize_q4_1, block.copy())
        want = reference(block)[0]
        d, m, packed = _fields(block)
        low, high = (packed & 15).astype(np.float64), (packed >> 4).astype(np.float64)
        got_arr = t.array(got, f"dequantize_q4_1({description})")
        if got_arr.shape == (2, 16) or got_arr.shape == (16, 2):
            t.fail(f"dequantize_q4_1 should return the 32 values as one array of shape (32,), yours has shape "
                   f"{got_arr.shape}", "put the 16 low nibbles first, then the 16 high ones: np.concatenate([low, high]).")
        t.close(got_arr, want, f"dequantize_q4_1({description})", mistakes=[
            (lambda: d * np.stack([low, high], axis=1).reshape(-1) + m,
             "the nibbles are not neighbours in pairs: the low nibbles of the 16 bytes are values 0-15 of the "
             "block, the high nibbles values 16-31 (np.concatenate, not interleaving)."),
            (lambda: d * np.concatenate([high, low]) + m,
             "the low nibble (byte & 0x0F) comes first: values 0-15, then the high nibbles (byte >> 4)."),
            (lambda: d * np.concatenate([low, high]),
             "Q4_1 adds the block's minimum: value = d * q + m (Q4_0 and Q8_0 have no minimum)."),
            (lambda: m * np.concatenate([low, high]) + d,
             "the first float16 is the scale d, the second the minimum m: value = d * q + m."),
            (lambda: d * (np.concatenate([low, high]) - 8) + m,
             "Q4_1's 4-bit numbers are unsigned, 0..15: do not subtract 8 (that is Q4_0's rule)."),
            (lambda: d * np.concatenate([low, high]) / 15 + m,
             "d is already the step between two levels: value = d * q + m, no division by 15."),
        ], shape_hint="a block holds 32 values: return an array of shape (32,).",
            hint="read d and m as float16 (block[:2].view(np.float16), block[2:4]...), the 16 bytes after them "
                 "hold q: low nibbles (b & 0x0F) are values 0-15, high nibbles (b >> 4) values 16-31; value = d*q + m.")


# --------------------------------------------------------------------------------------------------
# Exercise 2: the RoPE permutation
# --------------------------------------------------------------------------------------------------


@check("unpermute_rope_rows")
def unpermute_rope_rows(t: Tester, unpermute_rope_rows) -> None:
    """``unpermute_rope_rows(weight, n_heads)``: GGUF's interleaved rows -> rotate_half rows, per head."""
    from ..pretrained.gguf_file import permute_rope_rows as permute
    from ..pretrained.gguf_file import unpermute_rope_rows as reference

    t.callable(unpermute_rope_rows, "unpermute_rope_rows")
    rng = np.random.default_rng(0)
    cases = [("a (12, 1) column 0..11 with 2 heads", np.arange(12.0)[:, None], 2),
             ("a random (24, 5) weight with 3 heads (head_dim 8)", rng.standard_normal((24, 5)), 3),
             ("a random (32, 3) weight with 2 heads (head_dim 16)", rng.standard_normal((32, 3)), 2),
             ("a random (16, 4) weight with 1 head", rng.standard_normal((16, 4)), 1)]
    for description, weight, heads in cases:
        got = t.call(unpermute_rope_rows, weight.copy(), heads)
        want = reference(weight, heads)
        t.close(got, want, f"unpermute_rope_rows({description})", mistakes=[
            (lambda: permute(weight, heads),
             "that is the converter's permutation, the other way round: the file has rows (i, half) inside "
             "each head, so reshape to (n_heads, head_dim // 2, 2, d) and swap axes 1 and 2."),
            (lambda: reference(weight, 1) if heads > 1 else None,
             "the permutation works inside each head: reshape with n_heads first, (n_heads, head_dim // 2, 2, d)."),
            (lambda: weight,
             "the rows come back unchanged: reorder them (reshape, swapaxes, reshape back)."),
            (lambda: weight.reshape(heads, -1, 2, weight.shape[1]).swapaxes(1, 3).reshape(-1, weight.shape[1])
             if weight.shape[1] == weight.shape[0] // heads // 2 else None,
             "swap the axes of (i, half), 1 and 2, not the features."),
        ], shape_hint="return an array of the weight's shape: only the order of the rows changes.",
            hint="inside each head the file stores the pairs side by side, row (i, half); rotate_half wants "
                 "(half, i): w.reshape(n_heads, hd // 2, 2, d).swapaxes(1, 2).reshape(w.shape).")


# --------------------------------------------------------------------------------------------------
# Exercise 3: apply a chat template
# --------------------------------------------------------------------------------------------------

_DEFAULT_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
_CONVERSATIONS = [
    ("one user message", [{"role": "user", "content": "Hi!"}]),
    ("a system message and a user message", [{"role": "system", "content": "Be brief."},
                                              {"role": "user", "content": "What is 2+2?"}]),
    ("three turns", [{"role": "user", "content": "Hello"}, {"role": "assistant", "content": "Hi! How can I help?"},
                     {"role": "user", "content": "Name a colour."}]),
]


def _chatml(messages, add_generation_prompt, *, default=True, newline=True, generation="<|im_start|>assistant\n"):
    parts = []
    if default and messages[0]["role"] != "system":
        parts.append(f"<|im_start|>system\n{_DEFAULT_SYSTEM}<|im_end|>" + ("\n" if newline else ""))
    for message in messages:
        parts.append(f"<|im_start|>{message['role']}\n{message['content']}<|im_end|>" + ("\n" if newline else ""))
    if add_generation_prompt:
        parts.append(generation)
    return "".join(parts)


@check("apply_chat_template")
def apply_chat_template(t: Tester, apply_chat_template) -> None:
    """``apply_chat_template(messages, add_generation_prompt=True) -> str``: SmolLM2's ChatML, by hand."""
    from ..tokenizers.chat import render_chat_template

    t.callable(apply_chat_template, "apply_chat_template")
    for description, messages in _CONVERSATIONS:
        for prompt in (True, False):
            got = t.call(apply_chat_template, [dict(m) for m in messages], prompt)
            want = render_chat_template(SMOLLM2_CHAT_TEMPLATE, messages, add_generation_prompt=prompt)
            if got is not None and not isinstance(got, str):
                t.fail(f"apply_chat_template should return one str, yours returns {type(got).__name__}",
                       "join the pieces: ''.join(parts).")
            what = f"apply_chat_template({description}, add_generation_prompt={prompt})"
            t.equal(got, want, what, mistakes=[
                (lambda: _chatml(messages, prompt, default=False),
                 "with no system message first, SmolLM2's template adds its default one: '<|im_start|>system\\n"
                 "You are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\\n'."),
                (lambda: _chatml([{"role": "system", "content": _DEFAULT_SYSTEM}] + messages, prompt)
                 if messages[0]["role"] == "system" else None,
                 "the default system message is added only when the conversation does not start with one."),
                (lambda: _chatml(messages, prompt, newline=False),
                 "every turn ends with '<|im_end|>' and a newline '\\n'."),
                (lambda: _chatml(messages, not prompt),
                 "add '<|im_start|>assistant\\n' at the end only when add_generation_prompt is True."),
                (lambda: _chatml(messages, prompt, generation="<|im_start|>assistant"),
                 "the generation prompt ends with a newline: '<|im_start|>assistant\\n'."),
            ], hint="each message is '<|im_start|>' + role + '\\n' + content + '<|im_end|>\\n'; the default system "
                    "message comes first when the first role is not 'system'; then '<|im_start|>assistant\\n' "
                    "if add_generation_prompt.")


# --------------------------------------------------------------------------------------------------
# Exercise 4: top-p filtering
# --------------------------------------------------------------------------------------------------


def _top_p(probs, top_p):
    from ..models.llama import sampling_probabilities

    return sampling_probabilities(np.log(np.asarray(probs, np.float64))[None, :], 1.0, None, top_p)[0]


def _renormalise(p):
    return p / p.sum()


def _exclusive(probs, top_p):
    order = np.argsort(-probs, kind="stable")
    keep = np.zeros(len(probs), bool)
    keep[order[np.cumsum(probs[order]) <= top_p]] = True
    keep[order[0]] = True
    return _renormalise(np.where(keep, probs, 0.0))


@check("top_p_filter")
def top_p_filter(t: Tester, top_p_filter) -> None:
    """``top_p_filter(probs, top_p)``: keep the nucleus, renormalised."""
    t.callable(top_p_filter, "top_p_filter")
    cases = [("[0.5, 0.3, 0.15, 0.05], top_p=0.7", [0.5, 0.3, 0.15, 0.05], 0.7),
             ("[0.1, 0.6, 0.3], top_p=0.65", [0.1, 0.6, 0.3], 0.65),
             ("[0.25, 0.05, 0.4, 0.3], top_p=0.9", [0.25, 0.05, 0.4, 0.3], 0.9),
             ("[0.7, 0.2, 0.1], top_p=0.5 (only the top token)", [0.7, 0.2, 0.1], 0.5),
             ("[0.2, 0.2, 0.6], top_p=1.0 (everything)", [0.2, 0.2, 0.6], 1.0)]
    for description, probs, top_p in cases:
        probs = np.array(probs)
        got = t.call(top_p_filter, probs.copy(), top_p)
        want = _top_p(probs, top_p)
        order = np.argsort(-probs, kind="stable")
        t.close(got, want, f"top_p_filter({description})", mistakes=[
            (lambda: _exclusive(probs, top_p),
             "keep the token that makes the total reach top_p too: the nucleus is the smallest set whose "
             "probability is at least top_p."),
            (lambda: want * probs[want > 0].sum(),
             "renormalise what is kept so that it sums to 1: kept / kept.sum()."),
            (lambda: _renormalise(np.where(probs >= top_p, probs, 0.0)) if (probs >= top_p).any() else None,
             "top-p is about the cumulative probability of the most likely tokens, not each token's own."),
            (lambda: _renormalise(np.where(np.isin(np.arange(len(probs)), order[::-1][np.cumsum(probs[order[::-1]])
                                                                                         < top_p + 1e-12]),
                                           probs, 0.0)),
             "sort from the most likely token down (np.argsort(-probs)), not from the least likely up."),
        ], shape_hint="return one probability per token, zeros for the dropped ones.",
            nonfinite_hint="no token was kept, so the division by the kept sum gave NaN: the most likely token "
                           "always stays, and the others join while the mass ranked above them is below top_p.",
            hint="sort by probability, most likely first; keep tokens while the mass of those before them is "
                 "below top_p; zero the others; divide by the kept sum.")


# --------------------------------------------------------------------------------------------------
# Exercise 5: count the parameters
# --------------------------------------------------------------------------------------------------


def _count(c, *, tied=None, gqa=True, norms=True, mlp=3, final=True):
    C, F, L, V = c["d_model"], c["d_ff"], c["n_layers"], c["vocab_size"]
    hd = C // c["n_heads"]
    kv = c["n_kv_heads"] * hd if gqa else C
    per_layer = C * C + 2 * kv * C + C * C + mlp * C * F + (2 * C if norms else 0)
    tied = c["tie_embeddings"] if tied is None else tied
    return V * C + L * per_layer + (C if final else 0) + (0 if tied else V * C)


_CONFIGS = [("SmolLM2-135M", SMOLLM2_CONFIG),
            ("a small model: V=1000, d_model=64, 4 heads, 2 KV heads, 2 layers, d_ff=176, untied",
             dict(vocab_size=1000, d_model=64, n_heads=4, n_kv_heads=2, n_layers=2, d_ff=176, tie_embeddings=False)),
            ("a multi-query model: V=500, d_model=96, 6 heads, 1 KV head, 3 layers, d_ff=256, tied",
             dict(vocab_size=500, d_model=96, n_heads=6, n_kv_heads=1, n_layers=3, d_ff=256, tie_embeddings=True))]


@check("count_parameters")
def count_parameters(t: Tester, count_parameters) -> None:
    """``count_parameters(config) -> int``: a Llama's parameters from its configuration."""
    t.callable(count_parameters, "count_parameters")
    for description, config in _CONFIGS:
        got = t.call(count_parameters, dict(config))
        want = _count(config)
        if isinstance(got, numbers.Real) and not isinstance(got, (bool, numbers.Integral)) and float(got) == want:
            t.fail(f"count_parameters({description}) should return an int, yours returns the float {got!r}",
                   "count with integers: d_model * d_ff, not / or float().")
        t.equal(got, want, f"count_parameters({description})", mistakes=[
            (lambda: _count(config, tied=False) if config["tie_embeddings"] else None,
             "with tie_embeddings the output layer reuses the embedding matrix: count it once."),
            (lambda: _count(config, tied=True) if not config["tie_embeddings"] else None,
             "without tied embeddings the output layer lm_head has its own vocab_size x d_model matrix."),
            (lambda: _count(config, gqa=False) if config["n_kv_heads"] != config["n_heads"] else None,
             "k_proj and v_proj have only n_kv_heads heads: (n_kv_heads * head_dim) x d_model each."),
            (lambda: _count(config, norms=False),
             "each layer has two RMSNorm weight vectors of d_model (before attention, before the MLP)."),
            (lambda: _count(config, final=False), "there is a final RMSNorm (norm.weight, d_model) after the layers."),
            (lambda: _count(config, mlp=2), "SwiGLU has three matrices: gate_proj, up_proj and down_proj."),
        ], hint="embedding V*C; per layer: q and o C*C each, k and v (n_kv_heads*head_dim)*C each, gate/up/down "
                "C*d_ff each, two norms of C; a final norm C; lm_head V*C unless tied.")
