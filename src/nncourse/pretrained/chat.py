"""Chatting with a loaded model (chapter 17): one answer to a conversation, with an optional
repetition penalty, since small models loop.

``chat`` encodes the conversation with the tokenizer's chat template (``encode_chat``: user text never
becomes markup), then decodes with chapter 16's KV cache. Each step turns the last logits into a
distribution in the course's fixed order: the **repetition penalty** first (every token already in
the prompt or the answer has its logit divided by ``repetition_penalty`` when positive, multiplied when
negative, the rule of the CTRL paper and of ``transformers``), then temperature, top-k and top-p
(``models.llama.sampling_probabilities``); ``top_k=1`` is greedy. It stops at the tokenizer's
``stop_ids`` (``<|im_end|>``, ``<|endoftext|>``).
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import validation
from ..errors import ConfigError

__all__ = ["chat", "apply_repetition_penalty"]


def apply_repetition_penalty(logits, previous_ids, penalty):
    """``logits`` (V,) with every token of ``previous_ids`` made less likely: a positive logit divided
    by ``penalty``, a negative one multiplied (``penalty`` > 1 penalises, 1 changes nothing)."""
    who = "apply_repetition_penalty"
    if not isinstance(logits, np.ndarray) or logits.ndim != 1 or logits.dtype.kind != "f":
        raise ConfigError(f"{who}: logits must be a 1-D float array (the last position's logits), got "
                          f"{getattr(logits, 'shape', type(logits).__name__)}")
    if not logits.size:
        raise ConfigError(f"{who}: logits is empty; pass the last position's logits (V,), one per vocabulary token")
    validation.finite(logits, who, argument="logits")
    penalty = validation.positive_float(penalty, "penalty: the repetition_penalty", who)
    ids = np.unique(np.asarray(list(previous_ids), dtype=np.int64))
    if ids.size and (ids.min() < 0 or ids.max() >= logits.size):
        raise ConfigError(f"{who}: previous_ids holds ids outside 0..{logits.size - 1}; were they made by another "
                          f"tokenizer?")
    out = logits.copy()
    chosen = out[ids]
    out[ids] = np.where(chosen > 0, chosen / penalty, chosen * penalty)
    return out


def chat(model, tokenizer, messages, *, max_new_tokens=64, temperature=1.0, top_k=None, top_p=None,
         repetition_penalty=1.0, seed=None):
    """The model's answer to ``messages``, as ``(text, ids)`` (``ids`` ends with the stop id, if one came).

    ``model``: chapter 16's NumPy ``Llama`` (``load_smollm2()``); ``tokenizer``: its ``ChatTokenizer``.
    With ``repetition_penalty=1`` the tokens are exactly ``model.generate``'s."""
    from ..models import Llama
    from ..models.llama import _sample_rows, check_generation, sampling_probabilities
    from ..utils import as_rng

    who = "chat"
    if not isinstance(model, Llama):
        raise ConfigError(f"{who}: model must be chapter 16's NumPy Llama (load_smollm2()), got "
                          f"{type(model).__name__}; the torch twin generates with model.generate")
    if not hasattr(tokenizer, "encode_chat") or not hasattr(tokenizer, "stop_ids"):
        raise ConfigError(f"{who}: tokenizer must be the model's ChatTokenizer (the second value of load_smollm2()), "
                          f"got {type(tokenizer).__name__}")
    if isinstance(repetition_penalty, bool) or not isinstance(repetition_penalty, numbers.Real) \
            or not 1 <= repetition_penalty < float("inf"):
        raise ConfigError(f"{who}: repetition_penalty must be a finite number >= 1 (1: no penalty; 1.1-1.3 is "
                          f"usual), got {repetition_penalty!r}")
    prompt = tokenizer.encode_chat(messages)
    idx = np.array([prompt], dtype=np.int64)
    max_new_tokens, _ = check_generation(idx.shape, max_new_tokens, temperature, top_k, top_p, None, True,
                                         model.vocab_size, model.context_length)
    rng = as_rng(seed)
    was_training = model.training
    model.eval()
    out, seen = [], list(prompt)
    try:
        cache = model.new_cache(1)
        logits = model.forward(idx, cache=cache)[0, -1].astype(np.float64)
        for step in range(max_new_tokens):
            if repetition_penalty != 1:
                logits = apply_repetition_penalty(logits, seen, repetition_penalty)
            probs = sampling_probabilities(logits[None, :], temperature, top_k, top_p)
            token = int(np.argmax(probs[0]) if top_k == 1 else _sample_rows(probs, rng)[0])
            out.append(token)
            seen.append(token)
            if token in tokenizer.stop_ids or step + 1 == max_new_tokens:
                break
            logits = model.forward(np.array([[token]]), cache=cache)[0, -1].astype(np.float64)
    finally:
        model.train(was_training)
    text = tokenizer.decode(out[:-1] if out and out[-1] in tokenizer.stop_ids else out)
    return text, out
